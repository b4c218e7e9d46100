// What a validation file left behind on the host, and its removal.
//
// Each file runs with TMPDIR set to a directory of its own (runtime-tools makes
// its bundles with Go's os.MkdirTemp, which honours TMPDIR), so its bundles,
// the containers made from them and the mounts under them can be told apart
// from anyone else's: ocirt's integration tests and other people running the
// suite on the same host use the same /tmp names. Cgroups are the exception:
// runtime-tools uses fixed cgroupsPath values, so those are matched by name and
// by having appeared during the run; two runs of the suite at once collide
// there anyway (see the README).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findCgroupDirs } from "../cgroup-dirs";

export interface HostSnapshot {
  containers: ContainerInfo[];
  /** Why containers could not be listed, if they could not. */
  containersError?: string;
  mounts: string[];
  cgroups: string[];
  /** Entries of the run's own TMPDIR. */
  tempDirs: string[];
}

export interface ContainerInfo {
  id: string;
  bundle?: string;
  status?: string;
}

export interface Leftovers {
  containers: ContainerInfo[];
  mounts: string[];
  cgroups: string[];
  tempDirs: string[];
}

const CGROUP_LEAF = "cgrouptest";
const CGROUP_PARENT = "testdir";
const CGROUP_DEPTH = 6;

export function isUnder(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/** Things present after a run that were not there before it and are the run's own. */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot, runTmp: string): Leftovers {
  const ids = new Set(before.containers.map((c) => c.id));
  const mounts = new Set(before.mounts);
  const cgroups = new Set(before.cgroups);
  const temps = new Set(before.tempDirs);
  return {
    containers: after.containers.filter((c) => !ids.has(c.id) && c.bundle !== undefined && isUnder(c.bundle, runTmp)),
    mounts: after.mounts.filter((m) => !mounts.has(m) && (m === runTmp || isUnder(m, runTmp))),
    cgroups: after.cgroups.filter((c) => !cgroups.has(c)),
    tempDirs: after.tempDirs.filter((d) => !temps.has(d) && isUnder(d, runTmp)),
  };
}

export function isEmpty(l: Leftovers): boolean {
  return l.containers.length + l.mounts.length + l.cgroups.length + l.tempDirs.length === 0;
}

/** Parses `list --format json` (runc prints "null" when there are none). */
export function parseContainerList(json: string): ContainerInfo[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (v === null) return [];
  if (!Array.isArray(v)) return undefined;
  const out: ContainerInfo[] = [];
  for (const e of v) {
    if (!e || typeof e !== "object" || typeof (e as { id?: unknown }).id !== "string") return undefined;
    const o = e as { id: string; bundle?: unknown; status?: unknown };
    const c: ContainerInfo = { id: o.id };
    if (typeof o.bundle === "string") c.bundle = o.bundle;
    if (typeof o.status === "string") c.status = o.status;
    out.push(c);
  }
  return out;
}

/** Mount points from /proc/self/mountinfo text at or under dir, octal escapes decoded. */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    if (f.length < 5) continue;
    const mp = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || isUnder(mp, dir)) out.push(mp);
  }
  return out;
}

export function snapshot(runtime: string, runTmp: string, knownIds: ReadonlySet<string> = new Set()): HostSnapshot {
  const s: HostSnapshot = { containers: [], mounts: [], cgroups: [], tempDirs: [] };
  const listed = listContainers(runtime, knownIds);
  if (Array.isArray(listed)) s.containers = listed;
  else s.containersError = listed;
  s.mounts = readMounts(runTmp);
  s.cgroups = findTestCgroups();
  try {
    s.tempDirs = fs.readdirSync(runTmp).map((n) => path.join(runTmp, n));
  } catch {
    // not made yet, or already gone
  }
  return s;
}

function readMounts(dir: string): string[] {
  try {
    return mountsUnder(fs.readFileSync("/proc/self/mountinfo", "utf8"), dir);
  } catch {
    return [];
  }
}

/**
 * Containers with their bundles. A runtime without `list --format json` may
 * still print ids with `list -q`; the bundle then comes from `state`, which the
 * spec requires to carry it. Ids in knownIds (seen before the run) are not asked.
 */
function listContainers(runtime: string, knownIds: ReadonlySet<string>): ContainerInfo[] | string {
  const json = spawnSync(runtime, ["list", "--format", "json"], { encoding: "utf8", timeout: 30_000 });
  if (json.status === 0) {
    const parsed = parseContainerList(json.stdout.trim() || "null");
    if (parsed) return parsed;
  }
  const quiet = spawnSync(runtime, ["list", "-q"], { encoding: "utf8", timeout: 30_000 });
  if (quiet.status !== 0) {
    return `${runtime} list failed: ${(quiet.stderr || json.stderr || String(quiet.error ?? "")).trim().split("\n")[0]}`;
  }
  return quiet.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((id) => (knownIds.has(id) ? { id } : withBundle(runtime, id)));
}

function withBundle(runtime: string, id: string): ContainerInfo {
  const r = spawnSync(runtime, ["state", id], { encoding: "utf8", timeout: 30_000 });
  try {
    const st = JSON.parse(r.stdout) as { bundle?: unknown; status?: unknown };
    const c: ContainerInfo = { id };
    if (typeof st.bundle === "string") c.bundle = st.bundle;
    if (typeof st.status === "string") c.status = st.status;
    return c;
  } catch {
    return { id };
  }
}

/**
 * runtime-tools' cgroups: "cgrouptest" (cgroupsPath "/cgrouptest") with what is
 * below it, and a "testdir" directly above one (cgroupsPath
 * "testdir/cgrouptest/container"). Absolute paths, deepest first.
 */
function findTestCgroups(): string[] {
  return findCgroupDirs((name, dir) => name === CGROUP_LEAF || (name === CGROUP_PARENT && fs.existsSync(path.join(dir, CGROUP_LEAF))), { depth: CGROUP_DEPTH, subtree: true });
}

/**
 * Force-deletes leftover containers, unmounts, removes cgroups, then the run's
 * TMPDIR as a whole. Returns what could not be removed, one line each.
 */
export function cleanUp(runtime: string, l: Leftovers, runTmp: string): string[] {
  const failures: string[] = [];
  for (const c of l.containers) {
    const r = spawnSync(runtime, ["delete", "--force", c.id], { encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) failures.push(`container ${c.id}: ${(r.stderr || String(r.error ?? "")).trim().split("\n")[0]}`);
  }
  // Mounts can appear after the snapshot (a container deleted above); read them again.
  for (const m of readMounts(runTmp).sort((a, b) => b.length - a.length)) {
    const r = spawnSync("umount", ["-l", m], { encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) failures.push(`mount ${m}: ${r.stderr.trim().split("\n")[0]}`);
  }
  for (const cg of l.cgroups) {
    try {
      fs.rmdirSync(cg);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") failures.push(`cgroup ${cg}: ${code ?? (e as Error).message}`);
    }
  }
  failures.push(...removeRunTmp(runTmp));
  return failures;
}

/** Removes the run's TMPDIR unless something is still mounted in it (emptying a mount would reach outside). */
export function removeRunTmp(runTmp: string): string[] {
  if (readMounts(runTmp).length > 0) return [`${runTmp}: still has mounts, left in place`];
  try {
    fs.rmSync(runTmp, { recursive: true, force: true });
    return [];
  } catch (e) {
    return [`${runTmp}: ${(e as Error).message}`];
  }
}
