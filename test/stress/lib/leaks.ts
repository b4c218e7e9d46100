// What a container may leave on the host, looked up the way an operator would:
// state dirs under --root, mounts, cgroup dirs, processes (by command line, cgroup,
// an environment mark, or as orphans handed to us as child subreaper), zombies and
// open fds. Every id the checks use starts with one prefix, so one walk finds all.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { findCgroupDirs } from "../../../conformance/cgroup-dirs";
import { native } from "../../../src/native";
import { spawnedPids } from "./ocirt";

export interface Scope {
  /** Every container id (and cgroup name) of this check contains it. */
  prefix: string;
  /** --root dirs: must be empty (dot entries included: a create's temporary dir is state too). */
  roots: string[];
  /** Directories no mount or fd may point into (the check's work dir). */
  dirs: string[];
  /** Put in ocirt's environment (hooks inherit it). */
  mark: string;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  cmdline: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export function procInfo(pid: number): ProcInfo | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const close = stat.lastIndexOf(")");
  const f = stat.slice(close + 2).split(" ");
  return { pid, ppid: Number(f[1]), state: f[0] ?? "?", cmdline: (read(`/proc/${pid}/cmdline`) ?? "").replace(/\0/g, " ").trim() };
}

export function allPids(): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
}

/** Our children (of every thread): what we spawned, and the orphans handed to us as subreaper. */
export function ownChildren(): number[] {
  const out: number[] = [];
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${process.pid}/task`);
  } catch { /* no /proc? */ }
  for (const t of tids) {
    for (const c of (read(`/proc/${process.pid}/task/${t}/children`) ?? "").split(" ")) if (/^\d+$/.test(c)) out.push(Number(c));
  }
  return out;
}

/** Children we did not spawn that are still alive (not zombies), tsx's esbuild service aside. */
export function liveOrphans(): ProcInfo[] {
  return ownChildren()
    .filter((pid) => !spawnedPids.has(pid))
    .map((pid) => procInfo(pid))
    .filter((p): p is ProcInfo => !!p && p.state !== "Z" && !p.cmdline.includes("/node_modules/"));
}

/** Makes this process the child subreaper: orphans of the ocirt processes it runs come to it. */
export function becomeSubreaper(): void {
  native().setChildSubreaper(1);
}

/**
 * Reaps the zombies among our children that we did not spawn ourselves (orphans
 * reparented to us, e.g. a container's init after `create` exited). Returns how many.
 */
export function reapOrphans(): number {
  let n = 0;
  for (const pid of ownChildren()) {
    if (spawnedPids.has(pid)) continue;
    const p = procInfo(pid);
    if (!p || p.ppid !== process.pid || p.state !== "Z") continue;
    try {
      if (native().waitpid(pid, 1 /* WNOHANG */)) n++;
    } catch { /* someone else reaped it */ }
  }
  return n;
}

/** Everything of the scope still on the host, one line each. */
export function findLeftovers(s: Scope, opts: { cgroups?: boolean; fds?: boolean } = {}): string[] {
  const problems: string[] = [];
  for (const root of s.roots) {
    if (!existsSync(root)) continue;
    const left = readdirSync(root);
    if (left.length) problems.push(`state left in ${root}: ${left.join(", ")}`);
  }
  const places = [...s.roots, ...s.dirs];
  for (const m of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    if (m && (m.includes(s.prefix) || places.some((d) => m.includes(d)))) problems.push(`mount left: ${m}`);
  }
  if (opts.cgroups !== false) {
    for (const d of findCgroupDirs((name) => name.includes(s.prefix), { depth: 6 })) problems.push(`cgroup left: ${d}`);
  }
  for (const pid of allPids()) {
    if (pid === process.pid || spawnedPids.has(pid)) continue;
    const p = procInfo(pid);
    if (!p) continue;
    const why: string[] = [];
    if (p.cmdline.includes(s.prefix) || places.some((d) => p.cmdline.includes(d))) why.push("its command line names it");
    if ((read(`/proc/${pid}/cgroup`) ?? "").includes(s.prefix)) why.push("it is in the container's cgroup");
    if ((read(`/proc/${pid}/environ`) ?? "").includes(s.mark)) why.push("it has ocirt's environment");
    // (tsx's esbuild service is a child of ours too)
    if (p.ppid === process.pid && p.state !== "Z" && !p.cmdline.includes("/node_modules/")) why.push("an orphan handed to us");
    if (p.state === "Z" && p.ppid !== process.pid) {
      const parent = procInfo(p.ppid);
      if (parent && (parent.cmdline.includes(s.prefix) || places.some((d) => parent.cmdline.includes(d)))) why.push(`a zombie its parent ${p.ppid} never reaped`);
      else if (!why.length) continue;
    }
    if (why.length) problems.push(`process left: ${pid} [${p.state}] ${JSON.stringify(p.cmdline || "(no command line)")}: ${why.join(", ")}`);
  }
  if (opts.fds) problems.push(...fdsInto(places).map((f) => `fd left: ${f}`));
  return problems;
}

/** Open fds of any process pointing into one of these places ("<pid>/<fd> -> <target>"). */
export function fdsInto(places: string[]): string[] {
  const out: string[] = [];
  for (const pid of allPids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (places.some((d) => target.startsWith(d))) out.push(`${pid}/${fd} -> ${target}`);
    }
  }
  return out;
}

/** How many fds this process has open. */
export function ownFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Zombies on the host whose parent is this process. */
export function ownZombies(): number[] {
  return allPids().filter((pid) => {
    const p = procInfo(pid);
    return !!p && p.ppid === process.pid && p.state === "Z";
  });
}

/**
 * Removes what findLeftovers reports, so one failure does not pile up on the
 * shared host: kills the scope's processes, unmounts, removes cgroup dirs. The
 * state dirs go with the work dir.
 */
export function cleanLeftovers(s: Scope): void {
  const { execFileSync } = require("node:child_process") as typeof import("node:child_process");
  const places = [...s.roots, ...s.dirs];
  for (const pid of allPids()) {
    if (pid === process.pid || spawnedPids.has(pid)) continue;
    const p = procInfo(pid);
    if (!p) continue;
    const ours = p.cmdline.includes(s.prefix) || places.some((d) => p.cmdline.includes(d)) ||
      (read(`/proc/${pid}/cgroup`) ?? "").includes(s.prefix) || (read(`/proc/${pid}/environ`) ?? "").includes(s.mark) ||
      (p.ppid === process.pid && p.state !== "Z" && !p.cmdline.includes("/node_modules/"));
    if (ours) {
      try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
    }
  }
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => mp && (mp.includes(s.prefix) || places.some((d) => mp.startsWith(d))))
    .reverse();
  for (const mp of mounts) {
    try { execFileSync("umount", ["-l", mp], { stdio: "ignore" }); } catch { /* already gone */ }
  }
  const deadline = Date.now() + 2000;
  for (const d of findCgroupDirs((name) => name.includes(s.prefix), { depth: 6, subtree: true })) {
    for (;;) {
      try {
        require("node:fs").rmdirSync(d);
        break;
      } catch {
        if (Date.now() > deadline) break;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
  reapOrphans();
}
