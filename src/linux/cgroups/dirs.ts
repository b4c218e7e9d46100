// Creating and removing a container's cgroup directories (the side of
// cgroups with mkdir/rmdir and process killing).
import * as path from "node:path";
import { SetupError } from "../../errors";
import { cpusetPrefix } from "./apply";
import { Cgroup, type CgroupOptions } from "./cgroup";
import { codeOf, fsError, strerror } from "./errno";
import { join, realFs, type CgroupFs } from "./fsio";
import { removeCreatedParents } from "./remove";
import type { CgroupPlan } from "./plan";
import type { LinuxResources } from "./types";
import { phase } from "../../profile";

// ------------------------------------------------------------------ create ----
/** mkdir -p below mount; returns the dirs it made, parents first. */
export function mkdirP(fs: CgroupFs, mount: string, dir: string): string[] {
  const rel = path.posix.relative(mount, dir);
  if (rel.startsWith("..") || path.posix.isAbsolute(rel)) throw new SetupError(`cgroup path ${dir} is outside its hierarchy ${mount}`, undefined, { where: "linux.cgroupsPath" });
  const made: string[] = [];
  let cur = mount;
  for (const part of rel.split("/").filter(Boolean)) {
    cur = join(cur, part);
    try {
      fs.mkdir(cur);
      made.push(cur);
    } catch (err) {
      if (codeOf(err) !== "EEXIST") {
        throw Object.assign(fsError("mkdir", cur, err), { made });
      }
    }
  }
  return made;
}

/**
 * A new v1 cpuset cgroup starts with empty cpus and mems, and no task can
 * join it until they are set: copy them down from the parent, top to bottom.
 */
export function cpusetInherit(fs: CgroupFs, mount: string, dir: string): void {
  const prefix = cpusetPrefix(fs, mount);
  const rel = path.posix.relative(mount, dir).split("/").filter(Boolean);
  let parent = mount;
  for (const part of rel) {
    const cur = join(parent, part);
    for (const f of ["cpus", "mems"]) {
      const mine = fs.readFile(join(cur, prefix + f));
      if (mine.trim() !== "") continue;
      const theirs = fs.readFile(join(parent, prefix + f)).trim();
      try {
        fs.writeFile(join(cur, prefix + f), theirs);
      } catch (err) {
        throw fsError(`write ${theirs} to`, join(cur, prefix + f), err);
      }
    }
    parent = cur;
  }
}

const DOMAIN_CONTROLLERS = (r: LinuxResources) => !!(r.memory || r.blockIO || r.cpu || (r.hugepageLimits ?? []).length);

/** v2: enable every available controller on the way down, as runc's CreateCgroupPath. */
export function v2Prepare(fs: CgroupFs, mount: string, dir: string, resources: LinuxResources): void {
  const available = (fs.readFile(join(mount, "cgroup.controllers")) || "").split(/\s+/).filter(Boolean);
  const enable = available.map((c) => `+${c}`).join(" ");
  const rel = path.posix.relative(mount, dir).split("/").filter(Boolean);
  let cur = mount;
  for (let i = 0; i <= rel.length; i++) {
    if (i > 0) {
      cur = join(cur, rel[i - 1]!);
      const type = (fs.exists(join(cur, "cgroup.type")) ? fs.readFile(join(cur, "cgroup.type")) : "").trim();
      if (type === "domain invalid") {
        if (DOMAIN_CONTROLLERS(resources)) throw new SetupError(`cannot enter cgroupv2 ${cur} with domain controllers: it is in an invalid state`, undefined, { where: "linux.cgroupsPath" });
        try {
          fs.writeFile(join(cur, "cgroup.type"), "threaded");
        } catch {
          /* best effort, as runc */
        }
      } else if ((type === "threaded" || type === "domain threaded") && DOMAIN_CONTROLLERS(resources)) {
        throw new SetupError(`cannot enter cgroupv2 ${cur} with domain controllers: it is in ${type} mode`, undefined, { where: "linux.cgroupsPath" });
      }
    }
    if (i < rel.length && enable) {
      try {
        fs.writeFile(join(cur, "cgroup.subtree_control"), enable);
      } catch {
        // Some controllers may be unavailable (delegation); the resource
        // writes report the ones that matter.
        for (const c of available) {
          try {
            fs.writeFile(join(cur, "cgroup.subtree_control"), `+${c}`);
          } catch {
            /* see above */
          }
        }
      }
    }
  }
}

/**
 * The directories createCgroup would make for a plan (those missing now), parents
 * first. Recorded in state.json before any is made, so that a create killed half-way
 * leaves nothing `delete` cannot find.
 */
export function pendingCgroup(plan: CgroupPlan, opts: CgroupOptions = {}): Cgroup {
  const fs = opts.fs ?? realFs;
  const missing: string[] = [];
  for (const [key, dir] of Object.entries(plan.paths)) {
    const mount = plan.mounts[key]!;
    let cur = mount;
    for (const part of path.posix.relative(mount, dir).split("/").filter(Boolean)) {
      cur = join(cur, part);
      if (!fs.exists(cur) && !missing.includes(cur)) missing.push(cur);
    }
  }
  return new Cgroup(plan.mode, plan.driver, plan.paths, missing, plan.optional, { fs });
}

/**
 * Creates the cgroup directories of a plan (remembering which it created),
 * prepares them (v1 cpuset inheritance, v2 controller delegation) and writes
 * the plan's resources. Processes join afterwards (addProcess, or
 * CLONE_INTO_CGROUP with openV2DirFd()). On failure, what was created is removed.
 */
export function createCgroup(plan: CgroupPlan, opts: CgroupOptions & { applyResources?: boolean; skipDevices?: boolean } = {}): Cgroup {
  // the systemd driver's cgroup is made by systemd (systemd-scope.ts)
  if (plan.driver === "systemd") throw new SetupError("internal: createCgroup is the fs driver's; the systemd driver starts a unit", undefined, { where: "cgroup" });
  const fs = opts.fs ?? realFs;
  const created: string[] = [];
  const cg = () => new Cgroup(plan.mode, plan.driver, plan.paths, created, plan.optional, { fs });
  try {
    const done = new Set<string>();
    for (const [key, dir] of Object.entries(plan.paths)) {
      if (done.has(dir)) continue;
      done.add(dir);
      const mount = plan.mounts[key]!;
      try {
        created.push(...mkdirP(fs, mount, dir));
      } catch (err) {
        created.push(...(((err as { made?: string[] }).made) ?? []));
        if (plan.optional.includes(key)) continue;
        throw err;
      }
      if (key === "cpuset") cpusetInherit(fs, mount, dir);
      if (key === "" && plan.mode === "v2") v2Prepare(fs, mount, dir, plan.resources);
      phase(`cgroup mkdir: ${key || "unified"}`);
    }
    const c = cg();
    if (opts.applyResources !== false) c.applyResources(plan.resources, { skipDevices: opts.skipDevices ?? false });
    phase("cgroup resources");
    return c;
  } catch (err) {
    try {
      destroyCgroup(cg(), { killProcesses: false });
    } catch {
      /* report the original error */
    }
    throw err;
  }
}

// ----------------------------------------------------------------- destroy ----
/** rmdir, retrying EBUSY with doubling delays (tasks that are still exiting). */
function rmdirRetry(fs: CgroupFs, dir: string, retry: boolean): void {
  let delay = 1;
  for (let tries = 10; ; tries--) {
    try {
      fs.rmdir(dir);
      return;
    } catch (err) {
      const code = codeOf(err);
      if (code === "ENOENT") return;
      if (code === "EBUSY" && retry && tries > 0) {
        fs.sleep(delay);
        delay *= 2;
        continue;
      }
      throw err;
    }
  }
}

/** Removes a cgroup and its child cgroups, deepest first (runc's RemovePath). */
function removeTree(fs: CgroupFs, dir: string): void {
  try {
    rmdirRetry(fs, dir, false);
    return;
  } catch {
    /* children or tasks: the slow path below */
  }
  let entries: { name: string; isDir: boolean }[];
  try {
    entries = fs.list(dir);
  } catch (err) {
    if (codeOf(err) === "ENOENT") return;
    throw err;
  }
  for (const e of entries) if (e.isDir) removeTree(fs, join(dir, e.name));
  rmdirRetry(fs, dir, true);
}

export function killAll(cg: Cgroup): void {
  const fs = cg.io;
  const v2 = cg.mode === "v2" ? cg.paths[""] : undefined;
  if (v2 && fs.exists(join(v2, "cgroup.kill"))) {
    try {
      fs.writeFile(join(v2, "cgroup.kill"), "1");
    } catch {
      /* fall back to signalling one by one */
    }
  }
  const hasFreezer = cg.mode === "v2" ? false : !!cg.paths["freezer"] && fs.exists(cg.paths["freezer"]!);
  for (let round = 0; round < 100; round++) {
    const pids = cg.pids({ recursive: true });
    if (pids.length === 0) return;
    // Freeze so nothing forks while we go through the list; SIGKILL reaches
    // frozen tasks once they are thawed.
    if (hasFreezer) {
      try {
        cg.freeze();
      } catch {
        /* kill anyway */
      }
    }
    for (const pid of pids) {
      try {
        fs.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    // (On v2 without cgroup.kill a frozen cgroup must be thawed for SIGKILL to land.)
    if (hasFreezer || v2) {
      try {
        cg.thaw();
      } catch {
        /* nothing better to do */
      }
    }
    fs.sleep(round < 10 ? 5 : 20);
  }
}

/**
 * Kills whatever still runs in the cgroup, removes the container's cgroup in
 * every hierarchy (child cgroups first) and then the parent directories this
 * runtime created, deepest first, where nobody else uses them.
 */
export function destroyCgroup(cg: Cgroup, opts: { killProcesses?: boolean } = {}): void {
  const fs = cg.io;
  if (opts.killProcesses !== false && cg.exists()) killAll(cg);
  phase("cgroup: kill what is left");
  const failed: string[] = [];
  const leaves = new Set(Object.values(cg.paths));
  for (const dir of leaves) {
    try {
      removeTree(fs, dir);
    } catch (err) {
      failed.push(`${dir}: ${strerror(err)}`);
    }
    phase(`cgroup rmdir: ${dir.split("/")[4] ?? dir}`);
  }
  for (const { dir, err } of removeCreatedParents(fs, cg.created, leaves)) failed.push(`${dir}: ${strerror(err)}`);
  if (failed.length > 0) throw new SetupError(`failed to remove cgroup paths: ${failed.join("; ")}`, undefined, { where: "cgroup" });
}
