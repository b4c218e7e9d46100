// `update`: merge the change into the container's resources, write them to
// its cgroup, keep them in state.json. A write the kernel refuses puts the old
// values back (as runc's Container.Set does) and reports the field.
import type { ContainerHandle, ContainerRecord } from "../state";
import { StatusError } from "../errors";
import { log } from "../log";
import type { Cgroup, LinuxResources } from "../linux/cgroups";
import { applyContainerResources, requireCgroup, savedResources } from "./container-cgroup";
import { statusOf } from "./status";
import { mergeResources, withoutDevices } from "./update-resources";

export async function updateContainer(h: ContainerHandle, rec: ContainerRecord, upd: LinuxResources): Promise<void> {
  if (statusOf(h, rec) === "stopped") throw new StatusError("container not running");
  const resources = await applyUpdate(requireCgroup(rec, "update"), savedResources(rec), upd);
  h.write({ ...rec, runtime: { ...rec.runtime, resources } });
}

/** Writes old+upd to the cgroup (devices untouched); on failure writes old back. Returns what was set. */
export async function applyUpdate(cg: Cgroup, old: LinuxResources, upd: LinuxResources): Promise<LinuxResources> {
  const { resources, warnings } = mergeResources(old, upd);
  for (const w of warnings) log.warn(w);
  try {
    await applyContainerResources(cg, withoutDevices(resources), { skipDevices: true });
  } catch (err) {
    try {
      await applyContainerResources(cg, withoutDevices(old), { skipDevices: true });
    } catch (err2) {
      log.warn(`setting back the old cgroup values failed: ${(err2 as Error).message}; state.json and the cgroup may disagree`);
    }
    throw err;
  }
  return resources;
}
