import { readFileSync } from "node:fs";
import type { ContainerRecord } from "../state";

/** Host pids in the container's cgroup (from the path recorded at create). */
export function cgroupPids(rec: ContainerRecord): number[] {
  const procs = rec.runtime?.["cgroupProcs"];
  if (typeof procs !== "string") return rec.pid ? [rec.pid] : [];
  try {
    return readFileSync(procs, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
