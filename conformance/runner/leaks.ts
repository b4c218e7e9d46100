// What a validation file left behind on the host, and its removal.
//
// Only things that are recognisably runtime-tools' own are touched: containers
// whose bundle is one of its temporary bundles (or, when the runtime cannot say,
// whose id is a UUID as runtime-tools generates them), mounts under those
// bundles, cgroups named after its fixed cgroupsPath values and its temporary
// directories ($TMPDIR/ocitest<digits>, oci-pid<digits>), and only when they
// appeared during the file's run.
// Two runners at once would still collide on the fixed cgroup paths, which is
// why the README says to run one at a time.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface HostSnapshot {
  containers: ContainerInfo[];
  /** Why containers could not be listed, if they could not. */
  containersError?: string;
  mounts: string[];
  cgroups: string[];
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

export interface CleanupReport {
  leftovers: Leftovers;
  /** What could not be removed, one line each. */
  failures: string[];
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Go's os.MkdirTemp("", "ocitest") appends only decimal digits. The exact
// shape matters: ocirt's own integration tests use /tmp/ocitest-<name>-XXXXXX,
// and those belong to whoever is running them.
const TEMP_DIR_RE = /^(?:ocitest|oci-pid)\d+$/;
const CGROUP_LEAF = "cgrouptest";
const CGROUP_PARENT = "testdir";
const CGROUP_ROOT = "/sys/fs/cgroup";
const CGROUP_DEPTH = 6;

export function tempRoot(env: NodeJS.ProcessEnv = process.env): string {
  // Go's os.TempDir: $TMPDIR, else /tmp.
  return env.TMPDIR || "/tmp";
}

export function isTestTempDir(p: string, root: string): boolean {
  return path.dirname(p) === root && TEMP_DIR_RE.test(path.basename(p));
}

/** A container is runtime-tools' if its bundle is one of its temp dirs; failing that, if its id is a UUID. */
export function isTestContainer(c: ContainerInfo, root: string): boolean {
  if (c.bundle) return isTestTempDir(c.bundle, root);
  return UUID_RE.test(c.id);
}

/** Things present after a run that were not there before it, restricted to runtime-tools' own. */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot, root: string): Leftovers {
  const had = (list: readonly string[]) => new Set(list);
  const ids = new Set(before.containers.map((c) => c.id));
  const mounts = had(before.mounts);
  const cgroups = had(before.cgroups);
  const temps = had(before.tempDirs);
  return {
    containers: after.containers.filter((c) => !ids.has(c.id) && isTestContainer(c, root)),
    mounts: after.mounts.filter((m) => !mounts.has(m)),
    cgroups: after.cgroups.filter((c) => !cgroups.has(c)),
    tempDirs: after.tempDirs.filter((d) => !temps.has(d)),
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

/** Mount points from /proc/self/mountinfo text that lie under runtime-tools' temp dirs. */
export function testMounts(mountinfo: string, root: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    if (f.length < 5) continue;
    const mp = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const top = topDir(mp, root);
    if (top && isTestTempDir(top, root)) out.push(mp);
  }
  return out;
}

function topDir(p: string, root: string): string | undefined {
  const rel = path.relative(root, p);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
  return path.join(root, rel.split(path.sep)[0]!);
}

export function snapshot(runtime: string, root: string): HostSnapshot {
  const s: HostSnapshot = { containers: [], mounts: [], cgroups: [], tempDirs: [] };
  const listed = listContainers(runtime);
  if (Array.isArray(listed)) s.containers = listed;
  else s.containersError = listed;
  try {
    s.mounts = testMounts(fs.readFileSync("/proc/self/mountinfo", "utf8"), root);
  } catch {
    // no procfs: nothing to compare
  }
  s.cgroups = findTestCgroups();
  try {
    s.tempDirs = fs
      .readdirSync(root)
      .map((n) => path.join(root, n))
      .filter((p) => isTestTempDir(p, root));
  } catch {
    // unreadable temp dir: nothing to compare
  }
  return s;
}

function listContainers(runtime: string): ContainerInfo[] | string {
  const json = spawnSync(runtime, ["list", "--format", "json"], { encoding: "utf8", timeout: 30_000 });
  if (json.status === 0) {
    const parsed = parseContainerList(json.stdout.trim() || "null");
    if (parsed) return parsed;
  }
  // A runtime without JSON listing may still print ids one per line.
  const quiet = spawnSync(runtime, ["list", "-q"], { encoding: "utf8", timeout: 30_000 });
  if (quiet.status === 0) {
    return quiet.stdout
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .map((id) => ({ id }));
  }
  return `${runtime} list failed: ${(quiet.stderr || json.stderr || String(quiet.error ?? "")).trim().split("\n")[0]}`;
}

/**
 * runtime-tools' cgroups: "cgrouptest" (cgroupsPath "/cgrouptest") with what is
 * below it, and a "testdir" directly above one (cgroupsPath
 * "testdir/cgrouptest/container"). Absolute paths, deepest first.
 */
function findTestCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number, inside: boolean) => {
    if (depth > CGROUP_DEPTH) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      const hit = inside || e.name === CGROUP_LEAF;
      walk(p, depth + 1, hit);
      if (hit || (e.name === CGROUP_PARENT && fs.existsSync(path.join(p, CGROUP_LEAF)))) found.push(p);
    }
  };
  walk(CGROUP_ROOT, 0, false);
  return found.sort((a, b) => b.split("/").length - a.split("/").length || a.localeCompare(b));
}

/** Force-deletes leftover containers, then unmounts, then removes cgroups and temp dirs. */
export function cleanUp(runtime: string, l: Leftovers): string[] {
  const failures: string[] = [];
  for (const c of l.containers) {
    const r = spawnSync(runtime, ["delete", "--force", c.id], { encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) failures.push(`container ${c.id}: ${(r.stderr || String(r.error ?? "")).trim().split("\n")[0]}`);
  }
  // Deepest mounts first so that parents are not busy.
  for (const m of [...l.mounts].sort((a, b) => b.length - a.length)) {
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
  for (const d of l.tempDirs) {
    try {
      // A mount that survived the unmounts above must not be emptied through the bundle.
      if (stillMountedUnder(d)) {
        failures.push(`temp dir ${d}: still has mounts`);
        continue;
      }
      fs.rmSync(d, { recursive: true, force: true });
    } catch (e) {
      failures.push(`temp dir ${d}: ${(e as Error).message}`);
    }
  }
  return failures;
}

function stillMountedUnder(dir: string): boolean {
  try {
    const root = path.dirname(dir);
    return testMounts(fs.readFileSync("/proc/self/mountinfo", "utf8"), root).some((m) => m === dir || m.startsWith(dir + "/"));
  } catch {
    return false;
  }
}
