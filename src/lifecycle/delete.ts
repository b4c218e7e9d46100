// Everything delete does once the container is (made) stopped: the init killed
// and gone, cgroups removed, state dir removed.
import { StatusError } from "../errors";
import { native } from "../native";
import type { ContainerHandle, ContainerRecord } from "../state";
import { statusOf } from "./status";
import { cgroupOf, destroyContainerCgroup } from "./container-cgroup";
import { log } from "../log";
import { runHooksWarn, savedHooks, stateOf, type HookRunOptions } from "./hooks";
import { phase } from "../profile";

/** `hooks`: where poststop runs (delete's own cwd unless a failed start or create says otherwise). */
export async function deleteContainer(h: ContainerHandle, rec: ContainerRecord, force: boolean, hooks: HookRunOptions = {}): Promise<void> {
  const status = statusOf(h, rec);
  if (status === "running" || status === "paused") {
    if (!force) throw new StatusError(`cannot delete container ${h.id} that is not stopped: ${status}`);
  }
  const cg = cgroupOf(rec);
  phase("status");
  // a frozen task acts on SIGKILL only once thawed
  const thaw = () => {
    if (status === "paused" && cg) {
      try { cg.thaw(); } catch { /* being destroyed anyway */ }
    }
  };
  if (status !== "stopped") killAndWait(h, rec, thaw);
  phase("kill + wait for the init");
  if (cg) {
    thaw();
    await destroyContainerCgroup(cg);
  }
  phase("cgroup removal");
  h.remove();
  phase("state dir removal");
  runHooksWarn("poststop", savedHooks(rec, "poststop"), stateOf(rec, "stopped"), hooks);
  phase("poststop hooks");
}

/**
 * SIGKILL through a pidfd, then wait until the process is really gone: the pidfd
 * turns readable when it exits (poll, no sleeping).
 */
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
    afterSignal?.();
    const exited = n.pollIn([pidfd], 10_000)[0] !== 0;
    try {
      n.waitpid(rec.pid, 1 /* WNOHANG */); // reaps it when it is our own child (run)
    } catch { /* not our child: its parent reaps it */ }
    if (!exited) log.warn(`container ${h.id}: init ${rec.pid} did not die within 10 s of SIGKILL`);
  } finally {
    n.close(pidfd);
  }
}
