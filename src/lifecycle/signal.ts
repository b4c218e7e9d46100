import { StatusError, errnoOf } from "../errors";
import { native } from "../native";
import type { ContainerHandle, ContainerRecord, Status } from "../state";
import { cgroupPids } from "./cgroup-state";

/**
 * Signals the container's init through a pidfd (opened after checking the start
 * time, so the signal cannot reach a process that reused the pid), or every
 * process of its cgroup with `all`.
 */
export function signalContainer(h: ContainerHandle, rec: ContainerRecord, status: Status, sig: number, all: boolean): void {
  if (status === "stopped" || status === "creating") throw new StatusError(`container not running`);
  if (all) {
    for (const pid of cgroupPids(rec)) {
      try {
        native().kill(pid, sig);
      } catch (err) {
        if ((err as { errno?: number }).errno !== 3) throw err; // ESRCH: already gone
      }
    }
    return;
  }
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
    n.pidfdSendSignal(pidfd, sig);
  } finally {
    n.close(pidfd);
  }
}
