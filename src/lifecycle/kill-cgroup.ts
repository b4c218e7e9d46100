// The parts of `kill` that need the container's cgroup (the cgroup library): --all,
// SIGKILL of a container without a pid namespace of its own, and the thaw after a
// SIGKILL of a paused one. In the commands bundle, loaded only for those.
import type { ContainerRecord, Status } from "../state";
import { native } from "../native";
import { cgroupOf } from "./container-cgroup";
import { cgroupPids, signalAllProcesses } from "./cgroup-state";
import type { CgroupKiller } from "./kill";

export const cgroupKiller: CgroupKiller = {
  /** kill --all: runc succeeds on a stopped container too (there is nothing left to signal). */
  signalAll(rec: ContainerRecord, status: Status, sig: number): void {
    const cg = cgroupOf(rec);
    if (cg) {
      if (status === "stopped" && !cg.exists()) return;
      signalAllProcesses(cg, sig);
      return;
    }
    for (const pid of cgroupPids(rec)) {
      try {
        native().kill(pid, sig);
      } catch (err) {
        if ((err as { errno?: number }).errno !== 3) throw err; // ESRCH: already gone
      }
    }
  },
  signalCgroup(rec: ContainerRecord, sig: number): boolean {
    const cg = cgroupOf(rec);
    if (!cg?.exists()) return false;
    signalAllProcesses(cg, sig);
    return true;
  },
  thaw(rec: ContainerRecord): void {
    cgroupOf(rec)?.thaw();
  },
};
