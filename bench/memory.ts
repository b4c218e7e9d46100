// Memory of a created container's processes, as the kernel accounts it per process.
import { readFileSync } from "node:fs";

export interface ProcMemory {
  pid: number;
  comm: string;
  vmRssKb: number;
  pssKb: number;
  /** Private_Clean + Private_Dirty: what would be freed if this process went away. */
  privateKb: number;
}

/** Pure: "VmRSS:   528 kB" style field of /proc/<pid>/status or smaps_rollup, in kB. */
export function kbField(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  return {
    pid,
    comm: readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " "),
    vmRssKb: kbField(status, "VmRSS"),
    pssKb: kbField(rollup, "Pss"),
    privateKb: kbField(rollup, "Private_Clean") + kbField(rollup, "Private_Dirty"),
  };
}

/** Every process in pid's cgroup v2 (the created container's), pid first. */
export function cgroupPids(pid: number): number[] {
  const line = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::"));
  if (!line) return [pid];
  let procs: number[] = [];
  try {
    procs = readFileSync(`/sys/fs/cgroup${line.slice(3)}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [pid];
  }
  return [pid, ...procs.filter((p) => p !== pid)];
}
