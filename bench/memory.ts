// Memory of a created container's processes, as the kernel accounts it per process.
import { readFileSync, statSync } from "node:fs";

export interface ProcMemory {
  pid: number;
  comm: string;
  vmRssKb: number;
  pssKb: number;
  /** Anonymous pages (heap, stacks): what the process itself allocated. */
  anonKb: number;
  /**
   * Size of the file the process executes. Both runtimes run their init from a
   * private copy of their binary (ocirt: a sealed memfd; runc 1.1: an unlinked
   * copy), one per container, so the copy is memory that Pss counts only as far
   * as pages are mapped and touched.
   */
  exeKb: number;
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
    anonKb: kbField(rollup, "Anonymous"),
    exeKb: Math.round(statSync(`/proc/${pid}/exe`).size / 1024),
  };
}

/**
 * Every process in pid's cgroup (the created container's), pid first. Looks in
 * cgroup v2 (at /sys/fs/cgroup or, on the hybrid layout, /sys/fs/cgroup/unified)
 * and then in v1's pids hierarchy.
 */
export function cgroupPids(pid: number): number[] {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
  const v2 = lines.find((l) => l.startsWith("0::"))?.slice(3);
  const pids = lines.find((l) => /^\d+:pids:/.test(l))?.replace(/^\d+:pids:/, "");
  const candidates = [
    ...(v2 ? [`/sys/fs/cgroup${v2}`, `/sys/fs/cgroup/unified${v2}`] : []),
    ...(pids ? [`/sys/fs/cgroup/pids${pids}`] : []),
  ];
  for (const dir of candidates) {
    let procs: number[];
    try {
      procs = readFileSync(`${dir}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
    } catch {
      continue;
    }
    if (procs.includes(pid)) return [pid, ...procs.filter((p) => p !== pid)];
  }
  return [pid];
}
