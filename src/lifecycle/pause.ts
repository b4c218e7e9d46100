// pause / resume: the container's cgroup freezer (v1 freezer.state, v2
// cgroup.freeze). The status checks and their messages are runc's.
import { StatusError } from "../errors";
import type { ContainerHandle, ContainerRecord } from "../state";
import { requireCgroup } from "./container-cgroup";
import { statusOf } from "./status";

export function pauseContainer(h: ContainerHandle, rec: ContainerRecord): void {
  const status = statusOf(h, rec);
  // runc freezes created containers too; a paused one is "not running" to it
  if (status !== "running" && status !== "created") throw new StatusError("container not running");
  requireCgroup(rec, "pause").freeze();
}

export function resumeContainer(h: ContainerHandle, rec: ContainerRecord): void {
  if (statusOf(h, rec) !== "paused") throw new StatusError("container not paused");
  requireCgroup(rec, "resume").thaw();
}
