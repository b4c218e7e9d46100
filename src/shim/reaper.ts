// The shim is the parent (or, as child subreaper, the adoptive parent) of every
// container init and exec'd process it starts, and it alone collects their exit
// statuses: on SIGCHLD it reaps every exited child (waitpid(-1, WNOHANG)) and hands
// each status to whoever watches that pid. An exit can be reaped before anyone
// watches the pid (a process that dies at once): it is kept, with a sequence
// number, and given to a watcher that started looking before it was reaped, so a
// recycled pid is never matched with an older process's exit.
import type { Timestamp } from "./gen/google/protobuf/timestamp";

export interface Exit {
  pid: number;
  /** the exit code, or 128 + the signal that killed it (as containerd reports it) */
  status: number;
  exitedAt: Timestamp;
}

export interface WaitSys {
  waitpid(pid: number, flags: number): { pid: number; status: number; signal: number } | null;
}

const WNOHANG = 1;

export function nowTimestamp(): Timestamp {
  const ms = Date.now();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 + Number(process.hrtime.bigint() % 1_000_000n) };
}

export class Reaper {
  private seq = 0;
  private unclaimed = new Map<number, { exit: Exit; seq: number; at: number }>();
  private watchers = new Map<number, { since: number; cb: (e: Exit) => void }>();
  /** children the shim started through node's child_process (loggers): node must not wait for them twice */
  foreign = new Map<number, () => void>();

  constructor(private readonly sys: WaitSys, private readonly keepMs = 60_000) {}

  /** A mark to pass to watch(): exits reaped after this point belong to processes started after it. */
  mark(): number {
    return this.seq;
  }

  /** Calls cb once pid has exited (at once when it already has, since the mark). */
  watch(pid: number, since: number, cb: (e: Exit) => void): void {
    const done = this.unclaimed.get(pid);
    if (done && done.seq > since) {
      this.unclaimed.delete(pid);
      cb(done.exit);
      return;
    }
    this.watchers.set(pid, { since, cb });
  }

  unwatch(pid: number): void {
    this.watchers.delete(pid);
  }

  /**
   * Reaps every exited child. Within one batch the watched processes other than
   * `last` go first, so that exec'd processes report before the init that took
   * them down with it.
   */
  reap(isLast: (pid: number) => boolean = () => false): void {
    const batch: Exit[] = [];
    for (;;) {
      let r: { pid: number; status: number; signal: number } | null;
      try {
        r = this.sys.waitpid(-1, WNOHANG);
      } catch {
        break; // ECHILD: no children left
      }
      if (!r || r.pid <= 0) break;
      batch.push({ pid: r.pid, status: r.signal ? 128 + r.signal : r.status < 0 ? 255 : r.status, exitedAt: nowTimestamp() });
    }
    batch.sort((a, b) => Number(isLast(a.pid)) - Number(isLast(b.pid)));
    for (const e of batch) this.dispatch(e);
    this.prune();
  }

  private dispatch(e: Exit): void {
    this.seq++;
    const f = this.foreign.get(e.pid);
    if (f) {
      this.foreign.delete(e.pid);
      f();
      return;
    }
    const w = this.watchers.get(e.pid);
    if (w) {
      this.watchers.delete(e.pid);
      w.cb(e);
      return;
    }
    this.unclaimed.set(e.pid, { exit: e, seq: this.seq, at: Date.now() });
  }

  private prune(): void {
    const old = Date.now() - this.keepMs;
    for (const [pid, u] of this.unclaimed) if (u.at < old) this.unclaimed.delete(pid);
  }
}
