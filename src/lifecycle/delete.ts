// Everything delete does once the container is (made) stopped: the init killed
// and gone, cgroups removed, state dir removed.
import { StatusError } from "../errors";
import { native } from "../native";
import type { ContainerHandle, ContainerRecord } from "../state";
import { statusOf } from "./status";
import { cgroupOf, destroyContainerCgroup } from "./container-cgroup";
import { log } from "../log";
import { runHooksWarn, savedHooks, stateOf, type HookRunOptions } from "./hooks";

/** `hooks`: where poststop runs (delete's own cwd unless a failed start or create says otherwise). */
export async function deleteContainer(h: ContainerHandle, rec: ContainerRecord, force: boolean, hooks: HookRunOptions = {}): Promise<void> {
  const status = statusOf(h, rec);
  if (status === "running" || status === "paused") {
    if (!force) throw new StatusError(`cannot delete container ${h.id} that is not stopped: ${status}`);
  }
  const cg = cgroupOf(rec);
  // a frozen task acts on SIGKILL only once thawed
  const thaw = () => {
    if (status === "paused" && cg) {
      try { cg.thaw(); } catch { /* being destroyed anyway */ }
    }
  };
  if (status !== "stopped") killAndWait(h, rec, thaw);
  if (cg) {
    thaw();
    await destroyContainerCgroup(cg);
  }
  h.remove();
  runHooksWarn("poststop", savedHooks(rec, "poststop"), stateOf(rec, "stopped"), hooks);
}

/** SIGKILL through a pidfd, then wait until the process is really gone. */
export function killAndWait(h: ContainerHandle, rec: ContainerRecord, afterSignal?: () => void): void {
  const n = native();
  let pidfd = -1;
  try {
    pidfd = n.pidfdOpen(rec.pid);
  } catch {
    return; // already gone
  }
  try {
    if (!h.initAlive(rec)) return;
    try {
      n.pidfdSendSignal(pidfd, 9);
    } catch {
      /* exited meanwhile */
    }
  } finally {
    n.close(pidfd);
  }
  afterSignal?.();
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 10000 && h.initAlive(rec); i++) {
    try {
      n.waitpid(rec.pid, 1 /* WNOHANG */); // reaps it when it is our own child (run)
    } catch { /* not our child: its parent reaps it */ }
    Atomics.wait(sleeper, 0, 0, 1);
  }
  if (h.initAlive(rec)) log.warn(`container ${h.id}: init ${rec.pid} did not die within 10 s of SIGKILL`);
}
