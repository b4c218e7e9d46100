// What `run` and `exec` do while their process runs in the foreground: pass on the
// signals they receive, relay its terminal when they hold it, and return its exit
// status as a shell reports it (128+N when killed by signal N).
import { native } from "../native";

const SIGNUM: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12, SIGALRM: 14, SIGTERM: 15, SIGCONT: 18, SIGWINCH: 28, SIGPWR: 30 };

/** Installs handlers that signal pid; returns the function that removes them. */
export function forwardSignals(pid: number, signals: readonly string[]): () => void {
  const n = native();
  const handlers = signals.map((sig) => {
    const h = () => {
      try {
        n.kill(pid, SIGNUM[sig]!);
      } catch { /* exited */ }
    };
    process.on(sig as NodeJS.Signals, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig as NodeJS.Signals, h);
  };
}

/** Waits for pid (our child, or reparented to us as subreaper), relaying consoleFd meanwhile. */
export async function waitExit(pid: number, consoleFd: number | undefined): Promise<number> {
  const relay = consoleFd !== undefined ? (await import("./console-relay")).relayConsole(consoleFd) : undefined;
  const res = relay ? await native().waitpidAsync(pid) : await waitInSlices(pid);
  await relay?.finish();
  return res.errno ? 255 : res.signal ? 128 + res.signal : res.status;
}

/**
 * The wait without a thread: poll(2) on the process's pidfd in slices of 10 ms, the event
 * loop served between them (forwarded signals wait at most a slice). The addon's
 * waitpidAsync is a thread-pool task, which under Bun costs ~2.5 ms of wall and ~4.5 ms
 * of CPU time of every run and exec (docs/speed.md); it stays for a relayed console, which
 * needs the loop all the time, and for a pid without a pidfd.
 */
async function waitInSlices(pid: number): Promise<{ errno: number; status: number; signal: number }> {
  const n = native();
  let fd: number;
  try {
    fd = n.pidfdOpen(pid);
  } catch {
    return n.waitpidAsync(pid);
  }
  try {
    while (n.pollIn([fd], 10)[0] === 0) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    n.close(fd);
  }
  try {
    const w = n.waitpid(pid, 0);
    return { errno: 0, status: w?.status ?? -1, signal: w?.signal ?? 0 };
  } catch (err) {
    return { errno: (err as { errno?: number }).errno ?? 1, status: -1, signal: 0 };
  }
}
