import type { Context } from "../context";
import { bool, str } from "../context";
import { restoreContainer } from "../lifecycle/restore";
import { deleteContainer } from "../lifecycle/cgroup-removal";
import { forwardSignals, waitExit } from "../lifecycle/foreground";
import { native } from "../native";
import { ExitStatus } from "../errors";
import { log } from "../log";
import { criuFlags } from "./checkpoint";

// Signals a foreground restore passes on to the container, as `run` does.
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCONT", "SIGALRM", "SIGPWR"];

export default async function restore(ctx: Context): Promise<void> {
  const detach = bool(ctx, "detach");
  // the restored init is criu's sibling, so our child: reap it in the foreground
  if (!detach && !bool(ctx, "no-subreaper")) native().setChildSubreaper(1);
  const r = await restoreContainer({
    root: ctx.globals.root,
    id: ctx.args[0]!,
    bundle: str(ctx, "bundle") ?? process.cwd(),
    flags: criuFlags(ctx),
    criu: ctx.globals.criu,
    pidFile: str(ctx, "pid-file"),
    consoleSocket: str(ctx, "console-socket"),
    relayConsole: !detach,
    systemdCgroup: ctx.globals.systemdCgroup,
  });
  r.handle.unlock();
  if (detach) return;
  const pid = r.record.pid;
  const stop = forwardSignals(pid, FORWARDED);
  const code = await waitExit(pid, r.consoleFd);
  stop();
  try {
    r.handle.lock();
    deleteContainer(r.handle, r.handle.read(), true);
  } catch (err) {
    log.warn(`deleting container ${r.record.id} after it exited: ${(err as Error).message}`);
  }
  throw new ExitStatus(code);
}
