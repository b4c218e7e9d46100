import type { Context } from "../context";
import { bool } from "../context";
import { createOptions } from "./create";
import { createContainer } from "../lifecycle/create";
import { startContainer } from "../lifecycle/start";
import { deleteContainer } from "../lifecycle/cgroup-removal";
import { native } from "../native";
import { ExitStatus } from "../errors";
import { log } from "../log";
import { forwardSignals, waitExit } from "../lifecycle/foreground";
import { phase } from "../profile";

// Signals a foreground `run` passes on to the container, as runc's signal handler does.
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCONT", "SIGALRM", "SIGPWR"];

export default async function run(ctx: Context): Promise<void> {
  const detach = bool(ctx, "detach");
  const n = native();
  // a helper that forks (pid namespace joined by path) leaves the init to the
  // subreaper: make that us, so we can wait for it
  if (!detach && !bool(ctx, "no-subreaper")) n.setChildSubreaper(1);
  const c = await createContainer({ ...createOptions(ctx), relayConsole: !detach, foreground: !detach });
  const pid = c.record.pid;
  const stopForwarding = forwardSignals(pid, FORWARDED);
  try {
    await startContainer(c.handle, c.record, () => deleteContainer);
  } catch (err) {
    c.pipes?.close();
    // a failed poststart hook has removed the container already
    if (c.handle.exists()) await deleteContainer(c.handle, c.record, true, { cwd: c.record.bundle });
    throw err;
  }
  c.handle.unlock();
  if (detach) return;
  const code = await waitExit(pid, c.consoleFd);
  phase("the container runs");
  stopForwarding();
  if (!bool(ctx, "keep")) {
    try {
      c.handle.lock();
      await deleteContainer(c.handle, c.handle.read(), true);
    } catch (err) {
      log.warn(`deleting container ${c.record.id} after it exited: ${(err as Error).message}`);
    }
  }
  // as runc: all the output, until every holder of the pipes closed them (the delete
  // above killed what was left of the container; with --keep a process that keeps
  // them open is waited for)
  await c.pipes?.finish();
  throw new ExitStatus(code);
}
