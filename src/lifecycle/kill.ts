import { SetupError, StatusError, errnoOf } from "../errors";
import { strerror } from "./errno";
import { native } from "../native";
import type { ContainerHandle, ContainerRecord, Status } from "../state";

/** What kill does through the container's cgroup (kill-cgroup.ts), loaded only when needed. */
export interface CgroupKiller {
  signalAll(rec: ContainerRecord, status: Status, sig: number): void;
  /** every process of the container's cgroup; false when it has none */
  signalCgroup(rec: ContainerRecord, sig: number): boolean;
  thaw(rec: ContainerRecord): void;
}

const SIGKILL = 9;

/**
 * Signals the container's init through a pidfd (opened after checking the start
 * time, so the signal cannot reach a process that reused the pid), or every
 * process of its cgroup with `all` (through `cgroups`, which the common kill never loads).
 */
export function signalContainer(h: ContainerHandle, rec: ContainerRecord, status: Status, sig: number, all: boolean, cgroups: () => CgroupKiller): void {
  if (status === "creating") throw new StatusError(`container not running`);
  if (all) {
    cgroups().signalAll(rec, status, sig);
    return;
  }
  if (status === "stopped") throw new StatusError(`container not running`);
  // Without a pid namespace of its own, the init's death does not take the
  // other processes with it: SIGKILL goes to the whole cgroup (as runc does).
  if (sig === SIGKILL && !ownsPidNamespace(rec) && cgroups().signalCgroup(rec, sig)) return;
  const n = native();
  let pidfd: number;
  try {
    pidfd = n.pidfdOpen(rec.pid);
  } catch (err) {
    if (errnoOf(err) === "ESRCH" || (err as { errno?: number }).errno === 3) throw new StatusError("container not running");
    throw err;
  }
  try {
    if (!h.initAlive(rec)) throw new StatusError("container not running");
    try {
      n.pidfdSendSignal(pidfd, sig);
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      throw new SetupError(`unable to signal init: ${errno ? strerror(errno) : (err as Error).message}`, errno, { where: "kill" });
    }
  } finally {
    n.close(pidfd);
  }
  // a frozen v1 task acts on SIGKILL only once thawed
  if (sig === SIGKILL && status === "paused") {
    try {
      cgroups().thaw(rec);
    } catch {
      /* it was signalled; delete thaws again */
    }
  }
}

/** Whether the container got a new pid namespace (rather than joining one by path). */
function ownsPidNamespace(rec: ContainerRecord): boolean {
  const ns = rec.runtime?.["namespaces"] as Record<string, string> | undefined;
  if (!ns) return true; // unknown: signal the init alone, as before
  return ns["pid"] === `/proc/${rec.pid}/ns/pid`;
}
