// A container's status, on the light path of `state` and `list`: the freezer is
// read straight from the paths state.json keeps, without the cgroup library.
import { readFileSync } from "node:fs";
import type { ContainerHandle, ContainerRecord, Status } from "../state";

/**
 * A live container whose cgroup is frozen is "paused", whether it was created or
 * running when it was paused (runc checks the freezer before anything else too).
 */
export function statusOf(h: ContainerHandle, rec: ContainerRecord): Status {
  const s = h.status(rec);
  if ((s === "running" || s === "created") && isPaused(rec)) return "paused";
  return s;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Frozen by its own freezer (not through an ancestor's): v1 freezer.state, v2 cgroup.freeze. */
export function isPaused(rec: ContainerRecord): boolean {
  const cg = rec.runtime?.["cgroup"] as { mode?: string; paths?: Record<string, string> } | undefined;
  if (!cg?.paths) return false;
  if (cg.mode === "v2") return cg.paths[""] !== undefined && read(`${cg.paths[""]}/cgroup.freeze`) === "1";
  const dir = cg.paths["freezer"];
  if (!dir) return false;
  const st = read(`${dir}/freezer.state`);
  if (st !== "FROZEN" && st !== "FREEZING") return false;
  const self = read(`${dir}/freezer.self_freezing`);
  return self === undefined || self === "1";
}
