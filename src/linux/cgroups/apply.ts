// Executes planned writes and reads the live state the planner needs.
import { SetupError } from "../../errors";
import { codeOf, writeError } from "./errno";
import { join, type CgroupFs } from "./fsio";
import type { CgroupMode, CgroupSnapshot, CgroupWrite, LinuxResources } from "./types";

export interface WriteResult {
  /** Optional knobs the kernel does not have (skipped). */
  skipped: CgroupWrite[];
}

function writeOne(fs: CgroupFs, dir: string, w: CgroupWrite): void {
  const path = join(dir, w.file);
  if (!w.byLine || !w.value.includes("\n")) {
    fs.writeFile(path, w.value);
    return;
  }
  for (const line of w.value.split("\n")) if (line !== "") fs.writeFile(path, line + "\n");
}

/**
 * Writes in order. A write marked deferOnEinval that fails with EINVAL is
 * retried right after the next write that succeeds (runc's period/quota and
 * rt_period/rt_runtime dance); ENOENT on an optional knob skips it.
 */
export function executeWrites(fs: CgroupFs, paths: Record<string, string>, writes: readonly CgroupWrite[]): WriteResult {
  const skipped: CgroupWrite[] = [];
  let deferred: CgroupWrite[] = [];
  const fail = (w: CgroupWrite, err: unknown) => {
    const code = codeOf(err);
    const hint = code === "ENOENT" ? w.missingHint : code === "EOPNOTSUPP" || code === "ENOTSUP" ? w.unsupportedHint : undefined;
    return writeError(w.field, w.file, w.value, err, hint);
  };
  const attempt = (w: CgroupWrite): "ok" | "deferred" | "skipped" => {
    const dir = paths[w.hierarchy];
    if (dir === undefined) throw new SetupError(`no ${w.hierarchy || "cgroup2"} path for ${w.file}`, undefined, { where: w.field });
    try {
      writeOne(fs, dir, w);
    } catch (err) {
      const code = codeOf(err);
      if (w.optional && code === "ENOENT") {
        skipped.push(w);
        return "skipped";
      }
      if (w.deferOnEinval && code === "EINVAL") {
        deferred.push(w);
        return "deferred";
      }
      throw fail(w, err);
    }
    if (w.readBack) checkReadBack(fs, dir, w);
    return "ok";
  };
  for (const w of writes) {
    if (attempt(w) !== "ok" || deferred.length === 0) continue;
    const retry = deferred;
    deferred = [];
    for (const d of retry) {
      try {
        writeOne(fs, paths[d.hierarchy]!, d);
      } catch (err) {
        if (d.optional && codeOf(err) === "ENOENT") skipped.push(d);
        else throw fail(d, err);
      }
    }
  }
  for (const d of deferred) {
    // Nothing came after it that could have made it acceptable: report it.
    try {
      writeOne(fs, paths[d.hierarchy]!, d);
    } catch (err) {
      throw fail(d, err);
    }
  }
  return { skipped };
}

/** runc refuses cpu.shares the kernel silently clamped (v1 range 2..262144). */
function checkReadBack(fs: CgroupFs, dir: string, w: CgroupWrite): void {
  const got = fs.readFile(join(dir, w.file)).trim();
  if (got === w.value) return;
  if (!/^-?\d+$/.test(got) || !/^-?\d+$/.test(w.value)) {
    throw new SetupError(`wrote ${w.value} to ${w.file} but it reads back as ${JSON.stringify(got)}`, undefined, { where: w.field });
  }
  const want = BigInt(w.value);
  const have = BigInt(got);
  const bound = want > have ? "maximum" : "minimum";
  throw new SetupError(`the ${bound} allowed value of ${w.file} is ${have} (wrote ${w.value})`, undefined, { where: w.field });
}

function tryRead(fs: CgroupFs, path: string): string | undefined {
  try {
    return fs.readFile(path);
  } catch {
    return undefined;
  }
}

function parseUint(s: string | undefined): bigint | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === "max") return (1n << 64n) - 1n;
  if (!/^-?\d+$/.test(t)) return undefined;
  const v = BigInt(t);
  return v < 0n ? 0n : v;
}

/** Reads what planResources() needs to know about the live cgroup. */
export function readSnapshot(fs: CgroupFs, mode: CgroupMode, paths: Record<string, string>, r: LinuxResources): CgroupSnapshot {
  const snap: CgroupSnapshot = {};
  if (mode === "v2") {
    const dir = paths[""]!;
    if (r.memory) {
      snap.memoryLimit = parseUint(tryRead(fs, join(dir, "memory.max")));
      snap.memoryUsage = parseUint(tryRead(fs, join(dir, "memory.current")));
    }
    if (r.blockIO) {
      const bfq = tryRead(fs, join(dir, "io.bfq.weight"));
      snap.ioBfqWeight = bfq !== undefined;
      // Before 5.4 the file holds just the default weight; later "default N" plus per-device lines.
      snap.ioBfqPerDevice = bfq !== undefined && !/^\s*\d+\s*$/.test(bfq);
    }
    const controllers = tryRead(fs, join(dir, "cgroup.controllers"));
    if (controllers !== undefined) snap.controllers = controllers.split(/\s+/).filter(Boolean);
    return snap;
  }
  const mem = paths["memory"];
  if (mem && r.memory) {
    snap.memoryLimit = parseUint(tryRead(fs, join(mem, "memory.limit_in_bytes")));
    snap.memoryUsage = parseUint(tryRead(fs, join(mem, "memory.usage_in_bytes")));
    snap.hasMemsw = fs.exists(join(mem, "memory.memsw.limit_in_bytes"));
    snap.hasKmemTcp = fs.exists(join(mem, "memory.kmem.tcp.limit_in_bytes"));
  }
  const devices = paths["devices"];
  if (devices && r.devices) {
    const list = tryRead(fs, join(devices, "devices.list"));
    if (list === undefined) throw new SetupError(`cannot read ${join(devices, "devices.list")}`, undefined, { where: "linux.resources.devices" });
    snap.devicesList = list;
  }
  const blkio = paths["blkio"];
  if (blkio && r.blockIO) {
    snap.blkioWeightFile = fs.exists(join(blkio, "blkio.weight")) ? "blkio.weight" : "blkio.bfq.weight";
  }
  const cpuset = paths["cpuset"];
  if (cpuset) snap.cpusetPrefix = cpusetPrefix(fs, cpuset);
  return snap;
}

/** Only v1 cpuset may be mounted with noprefix ("cpus" instead of "cpuset.cpus"). */
export function cpusetPrefix(fs: CgroupFs, dir: string): string {
  if (fs.exists(join(dir, "cpuset.cpus"))) return "cpuset.";
  if (fs.exists(join(dir, "cpus"))) return "";
  return "cpuset.";
}
