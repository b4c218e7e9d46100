// Everything delete does once the container is (made) stopped: the init killed
// and gone, cgroups removed, state dir removed. Light: an empty cgroup goes with one
// rmdir per directory (linux/cgroups/remove.ts); the cgroup library (cgroup-removal.ts,
// in dist/ocirt-cgroup.js for the CLI) is loaded only for what that cannot do.
import { StatusError } from "../errors";
import { native } from "../native";
import type { ContainerHandle, ContainerRecord } from "../state";
import { statusOf } from "./status";
import { log } from "../log";
import { runHooksWarn, savedHooks, stateOf } from "./hooks";
import { phase } from "../profile";
import { realFs } from "../linux/cgroups/fsio";
import { removeEmptyCgroup } from "../linux/cgroups/remove";
import type { Remover } from "./start";

/** What delete needs of the cgroup library: cgroup-removal.ts's cgroupRemoval. */
export interface CgroupRemoval {
  /** thaws a frozen cgroup (a frozen task acts on SIGKILL only once thawed); errors ignored */
  thaw(rec: ContainerRecord): void;
  /** removes the cgroup, killing what still runs there (and with systemd its unit) */
  destroy(rec: ContainerRecord): Promise<void>;
}

/**
 * delete, with the cgroup library from `library` when it is needed: a paused container, a
 * cgroup that is not empty once the init is gone, the systemd driver. `hooks`: where
 * poststop runs (delete's own cwd unless a failed start or create says otherwise).
 */
export function deleter(library: () => CgroupRemoval): Remover {
  return async (h, rec, force, hooks = {}) => {
    const status = statusOf(h, rec);
    if (status === "running" || status === "paused") {
      if (!force) throw new StatusError(`cannot delete container ${h.id} that is not stopped: ${status}`);
    }
    const cgroup = rec.runtime?.["cgroup"];
    phase("status");
    const lib = status === "paused" && cgroup ? library() : undefined;
    const thaw = () => lib?.thaw(rec);
    if (status !== "stopped") killAndWait(h, rec, thaw);
    phase("kill + wait for the init");
    if (cgroup) {
      thaw();
      if (lib || !removeEmptyCgroup(realFs, cgroup)) await (lib ?? library()).destroy(rec);
    }
    phase("cgroup removal");
    h.remove();
    phase("state dir removal");
    runHooksWarn("poststop", savedHooks(rec, "poststop"), stateOf(rec, "stopped"), hooks);
    phase("poststop hooks");
  };
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
