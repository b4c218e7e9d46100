import type { ContainerHandle, ContainerRecord, Status } from "../state";
import { cgroupOf } from "./cgroups";

/**
 * A container's status. A live container whose cgroup is frozen is "paused",
 * whether it was created or running when it was paused (runc checks the
 * freezer before anything else too).
 */
export function statusOf(h: ContainerHandle, rec: ContainerRecord): Status {
  const s = h.status(rec);
  if ((s === "running" || s === "created") && isPaused(rec)) return "paused";
  return s;
}

/** Frozen by its own freezer (not through an ancestor's), v1 freezer.state or v2 cgroup.freeze. */
export function isPaused(rec: ContainerRecord): boolean {
  try {
    return cgroupOf(rec)?.state() === "frozen";
  } catch {
    // an unreadable freezer is not a reason to fail `state`
    return false;
  }
}
