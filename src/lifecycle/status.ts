import type { ContainerHandle, ContainerRecord, Status } from "../state";

/** A container's status; "paused" is read from its cgroup freezer when it has one. */
export function statusOf(h: ContainerHandle, rec: ContainerRecord): Status {
  return h.status(rec, () => isPaused(rec));
}

function isPaused(rec: ContainerRecord): boolean {
  const freezer = rec.runtime?.["freezerPath"];
  if (typeof freezer !== "string") return false;
  try {
    return require("node:fs").readFileSync(freezer, "utf8").trim() === "FROZEN";
  } catch {
    return false;
  }
}
