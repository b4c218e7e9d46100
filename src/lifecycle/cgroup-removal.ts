// The cgroup library's part of delete (delete.ts's CgroupRemoval), and delete itself for
// the callers that carry the library anyway: run, restore, checkpoint, the shim.
import type { ContainerRecord } from "../state";
import { cgroupOf, destroyContainerCgroup } from "./container-cgroup";
import { deleter, type CgroupRemoval } from "./delete";

export const cgroupRemoval: CgroupRemoval = {
  thaw(rec: ContainerRecord): void {
    try {
      cgroupOf(rec)?.thaw();
    } catch { /* being destroyed anyway */ }
  },
  async destroy(rec: ContainerRecord): Promise<void> {
    const cg = cgroupOf(rec);
    if (cg) await destroyContainerCgroup(cg);
  },
};

export const deleteContainer = deleter(() => cgroupRemoval);
