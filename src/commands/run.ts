import type { Context } from "../context";
import { bool } from "../context";
import { createOptions } from "./create";
import { createContainer } from "../lifecycle/create";
import { startContainer } from "../lifecycle/start";
import { deleteContainer } from "../lifecycle/destroy";
import { native } from "../native";
import { ExitStatus } from "../errors";
import { log } from "../log";

// Signals a foreground `run` passes on to the container, as runc's signal handler does.
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCONT", "SIGALRM", "SIGPWR" as NodeJS.Signals];
const SIGNUM: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12, SIGWINCH: 28, SIGCONT: 18, SIGALRM: 14, SIGPWR: 30 };

export default async function run(ctx: Context): Promise<void> {
  const detach = bool(ctx, "detach");
  const n = native();
  // a helper that forks (pid namespace joined by path) leaves the init to the
  // subreaper: make that us, so we can wait for it
  if (!detach && !bool(ctx, "no-subreaper")) n.setChildSubreaper(1);
  const c = await createContainer({ ...createOptions(ctx), relayConsole: !detach });
  const pid = c.record.pid;
  const handlers = FORWARDED.map((sig) => {
    const h = () => {
      try {
        n.kill(pid, SIGNUM[sig]!);
      } catch { /* exited */ }
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    startContainer(c.handle, c.record);
  } catch (err) {
    deleteContainer(c.handle, c.record, true);
    throw err;
  }
  c.handle.unlock();
  if (detach) return;
  const relay = c.consoleFd !== undefined ? (await import("../lifecycle/console-relay")).relayConsole(c.consoleFd) : undefined;
  const res = await n.waitpidAsync(pid);
  await relay?.finish();
  for (const [sig, h] of handlers) process.off(sig, h);
  const code = res.errno ? 255 : res.signal ? 128 + res.signal : res.status;
  if (!bool(ctx, "keep")) {
    try {
      c.handle.lock();
      deleteContainer(c.handle, c.handle.read(), true);
    } catch (err) {
      log.warn(`deleting container ${c.record.id} after it exited: ${(err as Error).message}`);
    }
  }
  throw new ExitStatus(code);
}
