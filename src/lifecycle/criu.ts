// What checkpoint and restore share: criu's version and features, the image and
// work directories, the facts about the container the requests are built from,
// and criu's failures turned into one line.
import { accessSync, constants as fsc, mkdirSync, openSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { ConfigError, SetupError, UsageError, errnoOf } from "../errors";
import { log } from "../log";
import type { Spec } from "../spec/normalise";
import { DEFAULT_DEVICES } from "../linux/devices";
import type { Cgroup } from "../linux/cgroups";
import { cgroupViews } from "./container-cgroup";
import { probeUser } from "../host";
import { isRootless } from "../linux/rootless";
import { swrk, criuVersion } from "../criu/swrk";
import { NetworkLock, ReqType, versionNumber, type CgroupLayout, type CriuFlags, type CriuVersion } from "../criu/request";
import { mainError, quoteErrors, readLog } from "../criu/log";
import type { Response } from "../criu/gen/criu_rpc";
import { strerror } from "./errno";

/** criu's version, asked once per process (the shim serves many checkpoints). */
const versions = new Map<string, Promise<CriuVersion>>();

export function criuVersionOf(criu: string): Promise<CriuVersion> {
  let v = versions.get(criu);
  if (!v) {
    v = criuVersion(criu).then((r) => versionNumber(r ?? {}));
    v.catch(() => versions.delete(criu));
    versions.set(criu, v);
  }
  return v;
}

/** runc's checkCriuFeatures: refuses --pre-dump (memory tracking) or --lazy-pages where criu and the kernel lack them. */
export async function requireFeatures(criu: string, want: { memTrack?: boolean; lazyPages?: boolean }, step: string): Promise<void> {
  const features = { ...(want.memTrack ? { memTrack: true } : {}), ...(want.lazyPages ? { lazyPages: true } : {}) };
  if (!Object.keys(features).length) return;
  const r = await swrk({ type: ReqType.REQ_FEATURE_CHECK, features }, { criu, step });
  const have = r.response.features ?? {};
  const missing = [...(want.memTrack && have.memTrack === false ? ["memory tracking (needed by --pre-dump)"] : []), ...(want.lazyPages && have.lazyPages === false ? ["lazy pages (needed by --lazy-pages)"] : [])];
  if (!r.response.success) throw new SetupError("criu's feature check failed", undefined, { where: step });
  if (missing.length) throw new SetupError(`criu is missing features: ${missing.join(", ")}`, undefined, { where: step });
}

/** Makes a directory (0700, parents as needed) and opens it for criu. */
export function openDir(path: string, what: string, create: boolean): number {
  try {
    if (create) mkdirSync(path, { recursive: true, mode: 0o700 });
    return openSync(path, fsc.O_RDONLY | fsc.O_DIRECTORY);
  } catch (err) {
    throw new UsageError(`${JSON.stringify(path)}: ${errText(err)}`, { where: what });
  }
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.errno ? strerror(-e.errno) : e.message;
}

/** --image-path (default ./checkpoint, as runc) and --parent-path, which must be relative to it and exist. */
export function imagePaths(imagePath: string | undefined, parentPath: string | undefined): { image: string; parent?: string } {
  const image = resolve(imagePath || join(process.cwd(), "checkpoint"));
  if (!parentPath) return { image };
  if (isAbsolute(parentPath)) throw new UsageError("--parent-path must be relative (to --image-path)", { where: "--parent-path" });
  const real = join(image, parentPath);
  let isDir = false;
  try {
    isDir = statSync(real).isDirectory();
  } catch (err) {
    throw new UsageError(`invalid --parent-path: ${JSON.stringify(real)}: ${errText(err)}`, { where: "--parent-path" });
  }
  if (!isDir) throw new UsageError(`invalid --parent-path: ${JSON.stringify(real)}: not a directory`, { where: "--parent-path" });
  return { image, parent: parentPath };
}

/** How the container's cgroup hierarchies appear in it (planMounts' choice, from the same facts). */
export function cgroupLayout(cg: Cgroup | undefined, spec: Spec): CgroupLayout {
  const inCgroupns = spec.linux.namespaces.some((n) => n.type === "cgroup");
  const inUserns = spec.linux.namespaces.some((n) => n.type === "user") || isRootless(probeUser());
  if (!cg) return { unifiedOnly: false, inCgroupns, inUserns, views: [] };
  const views = cgroupViews(cg);
  return { unifiedOnly: views.length === 1 && views[0]!.unified && views[0]!.name === "", inCgroupns, inUserns, views: views.map((v) => ({ name: v.name, hostPath: v.hostPath })) };
}

/** The device nodes the container has: the spec's defaults and linux.devices. */
export function devicePaths(spec: Spec): string[] {
  return [...new Set([...DEFAULT_DEVICES.map((d) => d.path), ...spec.linux.devices.map((d) => d.path)])];
}

/**
 * How criu locks the container's network while it works. criu's default is
 * iptables (what runc leaves it at), which needs iptables-restore: where the
 * host has none, nftables (criu >= 3.16) instead. Set in the request, not in a
 * config file: criu 3.17 crashes on `network-lock` in an RPC config file.
 */
export function networkLockFor(version: CriuVersion, hasIptables = onPath("iptables-restore")): NetworkLock | undefined {
  if (hasIptables || version < 31600) return undefined;
  return NetworkLock.LOCK_NFTABLES;
}

function onPath(name: string): boolean {
  for (const dir of (process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), fsc.X_OK);
      return true;
    } catch { /* not here */ }
  }
  return false;
}

/** The container's stdio as runc records it (descriptors.json): where /proc/<pid>/fd/0..2 lead. */
export function stdioDescriptors(pid: number): string[] {
  return [0, 1, 2].map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return "/dev/null";
    }
  });
}

export function readDescriptors(image: string): string[] {
  const file = join(image, "descriptors.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${JSON.stringify(file)}: ${errText(err)} (not a checkpoint made by ocirt or runc?)`, [], { where: "--image-path" });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) throw new ConfigError(`${JSON.stringify(file)} is not a JSON array of strings`, [], { where: "--image-path" });
  return v as string[];
}

/**
 * criu said no: its log's error lines as warnings (runc quotes them so), and one
 * line naming the likely reason and the log.
 */
export function criuFailed(resp: Response, logFile: string, step: string): SetupError {
  const text = readLog(logFile);
  for (const l of text ? quoteErrors(text) : []) log.warn(l);
  const why = (text && mainError(text)) || resp.crErrmsg?.trim();
  const type = ReqType[resp.type ?? 0]?.replace(/^REQ_/, "") ?? String(resp.type);
  return new SetupError(`criu failed (${type}${resp.crErrno ? `, errno ${resp.crErrno}: ${strerror(resp.crErrno)}` : ""})${why ? `: ${why}` : ""}; log file: ${logFile}`, resp.crErrno, { where: step });
}

/** --status-fd: an open fd of ours, writable (runc checks it so before criu runs). */
export function checkStatusFd(fd: number): void {
  let flags: number;
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
    flags = parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? "0", 8);
  } catch (err) {
    throw new UsageError(`invalid --status-fd argument ${fd}: ${errnoOf(err) === "ENOENT" ? "bad file descriptor" : errText(err)}`, { where: "--status-fd" });
  }
  if ((flags & 3) === 0) throw new UsageError(`invalid --status-fd argument ${fd}: not writable`, { where: "--status-fd" });
}

/** The flags every criu request of a container starts from (see commands/checkpoint.ts for the CLI's). */
export function defaultFlags(imagePath: string): CriuFlags {
  return {
    imagePath, leaveRunning: false, tcpEstablished: false, tcpSkipInFlight: false, linkRemap: false, extUnixSk: false, shellJob: false,
    fileLocks: false, preDump: false, autoDedup: false, lazyPages: false, statusFd: -1, emptyNs: 0x40000000,
  };
}
