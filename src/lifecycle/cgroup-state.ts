// The container's processes as its cgroup knows them: `ps`, `kill --all` and
// (for a shared pid namespace) SIGKILL go through this list.
import { readFileSync } from "node:fs";
import type { ContainerRecord } from "../state";
import type { Cgroup } from "../linux/cgroups";
import { codeOf, strerror } from "../linux/cgroups/errno";
import { log } from "../log";
import { cgroupOf } from "./container-cgroup";

/** Host pids in the container's cgroup, child cgroups included (runc's GetAllPids). */
export function cgroupPids(rec: ContainerRecord): number[] {
  const cg = cgroupOf(rec);
  if (cg) return cg.pids({ recursive: true });
  // a record written before the cgroup state was kept
  const procs = rec.runtime?.["cgroupProcs"];
  if (typeof procs !== "string") return rec.pid ? [rec.pid] : [];
  try {
    return readFileSync(procs, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const SIGKILL = 9;

/**
 * runc's signalAllProcesses: SIGKILL through cgroup.kill where the kernel has
 * it; otherwise freeze (so nothing forks past the list), signal every pid,
 * thaw. As with runc, the thaw also resumes a container that was paused.
 */
export function signalAllProcesses(cg: Cgroup, sig: number): void {
  const fs = cg.io;
  const unified = cg.path("");
  if (sig === SIGKILL && unified !== undefined && fs.exists(`${unified}/cgroup.kill`)) {
    try {
      fs.writeFile(`${unified}/cgroup.kill`, "1");
      // hybrid joins its cgroup2 node best-effort: the list below still runs
      if (cg.mode === "v2") return;
    } catch (err) {
      log.debug(`cgroup.kill: ${strerror(err)}; signalling one by one`);
    }
  }
  const hasFreezer = cg.path(cg.mode === "v2" ? "" : "freezer") !== undefined;
  if (hasFreezer) {
    try {
      cg.freeze();
    } catch (err) {
      log.warn(`kill --all: freezing the cgroup: ${(err as Error).message}`);
    }
  }
  try {
    for (const pid of cg.pids({ recursive: true })) {
      try {
        fs.kill(pid, sig);
      } catch (err) {
        if (codeOf(err) !== "ESRCH") log.warn(`kill ${pid}: ${strerror(err)}`);
      }
    }
  } finally {
    if (hasFreezer) {
      try {
        cg.thaw();
      } catch (err) {
        log.warn(`kill --all: thawing the cgroup: ${(err as Error).message}`);
      }
    }
  }
}
