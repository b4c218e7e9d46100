// What ocirt asks criu for: the DUMP / PRE_DUMP and RESTORE requests of a
// container, built from facts gathered beforehand (pure: tested without root).
// runc's choices are the reference (libcontainer's Checkpoint and Restore), where
// ocirt sets the container up differently the request says what ocirt did.
import { posix } from "node:path";
import { CgroupMode, NetworkLock, ReqType, type ExternalMount, type InheritedFd, type JoinNs, type Options, type Request } from "./gen/criu_rpc";
import { isBind } from "../linux/mount-options";
import { UNIFIED_MOUNTPOINT, cgroupV2Mount, overHostSys } from "../linux/mounts";
import type { SpecMount } from "../spec/normalise";
import { ConfigError, UsageError } from "../errors";

export { CgroupMode, NetworkLock, ReqType };

export const CLONE_NEWNET = 0x40000000;
export const DESCRIPTORS_FILE = "descriptors.json";
export const DUMP_LOG = "dump.log";
export const RESTORE_LOG = "restore.log";
/** The config file runc names for criu unless the annotation org.criu.config says otherwise. */
export const DEFAULT_CONFIG_FILE = "/etc/criu/runc.conf";
/** criu's version as runc compares it: major*10000 + minor*100 + sublevel (3.17.1 = 31701). */
export type CriuVersion = number;

/** The flags of `checkpoint` and `restore`, as runc's CriuOpts. */
export interface CriuFlags {
  imagePath: string;
  workPath?: string | undefined;
  /** relative to imagePath */
  parentPath?: string | undefined;
  leaveRunning: boolean;
  tcpEstablished: boolean;
  tcpSkipInFlight: boolean;
  linkRemap: boolean;
  extUnixSk: boolean;
  shellJob: boolean;
  fileLocks: boolean;
  preDump: boolean;
  autoDedup: boolean;
  lazyPages: boolean;
  /** -1: none */
  statusFd: number;
  pageServer?: { address: string; port: number } | undefined;
  /** undefined: criu's default (soft) */
  manageCgroupsMode?: CgroupMode | undefined;
  /** CLONE_NEW* bits of namespaces to restore empty; always has CLONE_NEWNET (runc manages no network) */
  emptyNs: number;
  lsmProfile?: string | undefined;
  lsmMountContext?: string | undefined;
}

/** --manage-cgroups-mode, as runc spells it. */
export function parseCgroupMode(v: string | undefined): CgroupMode | undefined {
  switch (v ?? "") {
    case "": return undefined;
    case "soft": return CgroupMode.CG_SOFT;
    case "full": return CgroupMode.CG_FULL;
    case "strict": return CgroupMode.CG_STRICT;
    case "ignore": return CgroupMode.CG_IGNORE;
    default: throw new UsageError(`invalid --manage-cgroups-mode value ${JSON.stringify(v)}: use soft, full, strict or ignore`, { where: "--manage-cgroups-mode" });
  }
}

/** --empty-ns: only the network namespace, which is always restored empty anyway (runc). */
export function parseEmptyNs(values: readonly string[]): number {
  let mask = CLONE_NEWNET;
  for (const v of values) {
    if (v === "network") mask |= CLONE_NEWNET;
    else throw new UsageError(`namespace ${JSON.stringify(v)} is not supported (only "network")`, { where: "--empty-ns" });
  }
  return mask;
}

/** --page-server ADDRESS:PORT, as Go's net.SplitHostPort reads it ([::1]:port for IPv6). */
export function parsePageServer(v: string | undefined): { address: string; port: number } | undefined {
  if (!v) return undefined;
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(v) ?? /^([^:[\]]*):([^:[\]]*)$/.exec(v);
  if (!m || !m[1] || !m[2]) throw new UsageError("use --page-server ADDRESS:PORT to specify the page server", { where: "--page-server" });
  if (!/^\d+$/.test(m[2]) || Number(m[2]) > 65535) throw new UsageError(`invalid port number ${JSON.stringify(m[2])}`, { where: "--page-server" });
  return { address: m[1], port: Number(m[2]) };
}

export function versionNumber(v: { major?: number | undefined; minor?: number | undefined; sublevel?: number | undefined }): CriuVersion {
  return (v.major ?? 0) * 10000 + (v.minor ?? 0) * 100 + (v.sublevel ?? 0);
}

export function versionText(n: CriuVersion): string {
  return `${Math.floor(n / 10000)}.${Math.floor(n / 100) % 100}${n % 100 ? `.${n % 100}` : ""}`;
}

/** Refuses what this criu cannot do, naming the flag or field that asks for it. */
export function requireVersion(have: CriuVersion, need: CriuVersion, what: string, where?: string): void {
  if (have < need) throw new ConfigError(`${what} needs criu ${versionText(need)} or later (found ${versionText(have)})`, [], where ? { where } : {});
}

/**
 * Which config file criu reads over the request (it wins over what the request
 * says): the annotation org.criu.config names one, or with an empty value none;
 * without it runc's /etc/criu/runc.conf (criu ignores a missing file).
 */
export function configFileOf(annotations: Readonly<Record<string, string>>): string | undefined {
  if (Object.hasOwn(annotations, "org.criu.config")) return annotations["org.criu.config"] || undefined;
  return DEFAULT_CONFIG_FILE;
}

/** OCI namespace type -> criu's name for it. */
export const CRIU_NS_NAME: Readonly<Record<string, string>> = {
  network: "net", pid: "pid", ipc: "ipc", uts: "uts", mount: "mnt", user: "user", cgroup: "cgroup", time: "time",
};

/** The key a namespace given by path is known by in the images (runc's extRoot<Type>NS). */
export function externalNsKey(type: "network" | "pid"): string {
  return type === "network" ? "extRootNetNS" : "extRootPidNS";
}

/** How the container's cgroup hierarchies are mounted in it (what ocirt's planMounts did). */
export interface CgroupLayout {
  /** pure cgroup v2 */
  unifiedOnly: boolean;
  /** the container has a cgroup namespace of its own: the mounts are real cgroup mounts */
  inCgroupns: boolean;
  /** the container or ocirt is in a user namespace (linux/mounts.ts cgroupV2Mount) */
  inUserns: boolean;
  /** per hierarchy: the directory under the mount and the container's cgroup dir on the host */
  views: { name: string; hostPath: string }[];
}

/** A mount destination as a mount point: normalised, no trailing slash. */
export function cleanDest(p: string): string {
  return posix.normalize(`/${p}`).replace(/(.)\/+$/, "$1");
}

/**
 * The mounts of a container that are binds from the host, as [container path,
 * host source]: the config's bind mounts, and the cgroup hierarchies where ocirt
 * binds them (v1/hybrid without a cgroup namespace: the container's own cgroup dir
 * per hierarchy under a tmpfs; pure v2: where cgroupV2Mount falls back to a bind).
 */
export function hostBinds(mounts: readonly SpecMount[], cg: CgroupLayout): { dest: string; source: string }[] {
  const out: { dest: string; source: string }[] = [];
  mounts.forEach((m, i) => {
    if (m.type === "cgroup2") return; // an ordinary cgroup2 mount, which criu makes itself
    if (m.type === "cgroup") {
      if (cg.unifiedOnly) {
        const kind = cgroupV2Mount({ inCgroupns: cg.inCgroupns, inUserns: cg.inUserns, underHostSys: overHostSys(mounts.slice(0, i), m) });
        const v = cg.views[0];
        if (kind === "all") out.push({ dest: cleanDest(m.destination), source: UNIFIED_MOUNTPOINT });
        else if (kind === "own" && v) out.push({ dest: cleanDest(m.destination), source: v.hostPath });
        return;
      }
      if (cg.inCgroupns) return; // real cgroup mounts, which criu makes itself
      for (const v of cg.views) out.push({ dest: cleanDest(posix.join(m.destination, v.name)), source: v.hostPath });
      return;
    }
    if (isBind(m.type, m.options) && m.source) out.push({ dest: cleanDest(m.destination), source: m.source });
  });
  return out;
}

/** What a checkpoint needs to know about the container, gathered by the caller. */
export interface DumpFacts {
  flags: CriuFlags;
  version: CriuVersion;
  pid: number;
  rootfs: string;
  /** our fds: criu opens them through /proc/<our pid>/fd */
  imagesDirFd: number;
  workDirFd?: number | undefined;
  mounts: readonly SpecMount[];
  cgroup: CgroupLayout;
  /** the container path a mount destination really is (symlinks in the rootfs followed, within it) */
  resolve(dest: string): string;
  /** masked paths that are files (not directories) in the running container: /dev/null binds */
  maskedFiles: readonly string[];
  /** device nodes of the container (defaults and linux.devices) */
  devices: readonly string[];
  /** network and pid namespaces the container joined by path, with their inode */
  externalNs: readonly { type: "network" | "pid"; inode: number }[];
  /** the cgroup criu freezes the container with (v1 freezer, or the v2 dir) */
  freezeCgroup?: string | undefined;
  configFile?: string | undefined;
  networkLock?: NetworkLock | undefined;
}

/** A DUMP (or PRE_DUMP) request, as runc makes it. */
export function dumpRequest(f: DumpFacts): Request {
  const o = f.flags;
  if (f.version < 30000) requireVersion(f.version, 30000, "checkpoint");
  const opts: Options = {
    imagesDirFd: f.imagesDirFd,
    logLevel: 4,
    logFile: DUMP_LOG,
    root: f.rootfs,
    manageCgroups: true,
    notifyScripts: true,
    pid: f.pid,
    shellJob: o.shellJob,
    leaveRunning: o.leaveRunning,
    tcpEstablished: o.tcpEstablished,
    tcpSkipInFlight: o.tcpSkipInFlight,
    linkRemap: o.linkRemap,
    extUnixSk: o.extUnixSk,
    fileLocks: o.fileLocks,
    emptyNs: o.emptyNs,
    orphanPtsMaster: true,
    autoDedup: o.autoDedup,
    lazyPages: o.lazyPages,
    extMnt: [],
    cgRoot: [],
    inheritFd: [],
    external: [],
    joinNs: [],
  };
  if (o.manageCgroupsMode !== undefined) opts.manageCgroupsMode = o.manageCgroupsMode;
  if (f.workDirFd !== undefined) opts.workDirFd = f.workDirFd;
  if (f.configFile) opts.configFile = f.configFile;
  if (f.networkLock !== undefined) opts.networkLock = f.networkLock;
  for (const ns of f.externalNs) {
    requireVersion(f.version, ns.type === "network" ? 31100 : 31500, `checkpointing a container that joined a ${ns.type} namespace by path`, `linux.namespaces (${ns.type})`);
    opts.external.push(`${CRIU_NS_NAME[ns.type]}[${ns.inode}]:${externalNsKey(ns.type)}`);
  }
  if (f.freezeCgroup) opts.freezeCgroup = f.freezeCgroup;
  if (o.pageServer) opts.ps = { address: o.pageServer.address, port: o.pageServer.port };
  if (o.parentPath) {
    opts.parentImg = o.parentPath;
    opts.trackMem = true;
  }
  if (!o.preDump) {
    // a pre-dump only copies memory: the mounts matter to the final dump
    const seen = new Set<string>();
    const ext = (key: string, val: string) => {
      if (seen.has(key)) return;
      seen.add(key);
      opts.extMnt.push({ key, val });
    };
    for (const b of hostBinds(f.mounts, f.cgroup)) {
      const at = f.resolve(b.dest);
      ext(at, at);
    }
    for (const p of f.maskedFiles) ext(p, "/dev/null");
    for (const d of f.devices) {
      const at = f.resolve(d);
      ext(at, at);
    }
  }
  return { type: o.preDump ? ReqType.REQ_PRE_DUMP : ReqType.REQ_DUMP, opts };
}

/** What a restore needs to know, gathered by the caller. */
export interface RestoreFacts {
  flags: CriuFlags;
  version: CriuVersion;
  /** the rootfs bind-mounted where criu wants it (a mount point whose parent is not overmounted) */
  root: string;
  imagesDirFd: number;
  workDirFd?: number | undefined;
  mounts: readonly SpecMount[];
  cgroup: CgroupLayout;
  resolve(dest: string): string;
  /** the config masks paths: the /dev/null binds of the image come from the host's /dev/null */
  masks: boolean;
  devices: readonly string[];
  /** the config's namespaces given by path, and criu's fd of those it inherits */
  namespaces: readonly { type: string; path: string }[];
  /** fds criu gets at 4, 5, ...: returns the fd number criu will see for this namespace file */
  inheritNs(type: "network" | "pid"): number;
  /** descriptors.json of the image: what the init's 0, 1, 2 were */
  descriptors: readonly string[];
  configFile?: string | undefined;
  networkLock?: NetworkLock | undefined;
}

/** A RESTORE request, as runc makes it (cg_root is added once criu sits in the container's cgroup). */
export function restoreRequest(f: RestoreFacts): Request {
  const o = f.flags;
  if (f.version < 30000) requireVersion(f.version, 30000, "restore");
  const opts: Options = {
    imagesDirFd: f.imagesDirFd,
    evasiveDevices: true,
    logLevel: 4,
    logFile: RESTORE_LOG,
    rstSibling: true,
    root: f.root,
    manageCgroups: true,
    notifyScripts: true,
    shellJob: o.shellJob,
    extUnixSk: o.extUnixSk,
    tcpEstablished: o.tcpEstablished,
    fileLocks: o.fileLocks,
    emptyNs: o.emptyNs,
    orphanPtsMaster: true,
    autoDedup: o.autoDedup,
    lazyPages: o.lazyPages,
    extMnt: [],
    cgRoot: [],
    inheritFd: [],
    external: [],
    joinNs: [],
  };
  if (o.manageCgroupsMode !== undefined) opts.manageCgroupsMode = o.manageCgroupsMode;
  if (o.lsmProfile) {
    requireVersion(f.version, 31600, "--lsm-profile", "--lsm-profile");
    opts.lsmProfile = o.lsmProfile;
  }
  if (o.lsmMountContext) {
    requireVersion(f.version, 31600, "--lsm-mount-context", "--lsm-mount-context");
    opts.lsmMountContext = o.lsmMountContext;
  }
  if (f.workDirFd !== undefined) opts.workDirFd = f.workDirFd;
  if (f.configFile) opts.configFile = f.configFile;
  if (f.networkLock !== undefined) opts.networkLock = f.networkLock;
  opts.inheritFd.push(...namespaceFds(f));
  opts.joinNs.push(...joinedNamespaces(f.namespaces));

  const seen = new Set<string>();
  const ext = (key: string, val: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    opts.extMnt.push({ key, val });
  };
  for (const b of hostBinds(f.mounts, f.cgroup)) ext(f.resolve(b.dest), b.source);
  if (f.masks) ext("/dev/null", "/dev/null");
  for (const d of f.devices) ext(f.resolve(d), d);
  opts.inheritFd.push(...pipeFds(f.descriptors));
  return { type: ReqType.REQ_RESTORE, opts };
}

function namespaceFds(f: RestoreFacts): InheritedFd[] {
  const out: InheritedFd[] = [];
  for (const ns of f.namespaces) {
    if (ns.type !== "network" && ns.type !== "pid") continue;
    requireVersion(f.version, ns.type === "network" ? 31100 : 31500, `restoring into a ${ns.type} namespace given by path`, `linux.namespaces (${ns.type})`);
    out.push({ key: externalNsKey(ns.type), fd: f.inheritNs(ns.type) });
  }
  return out;
}

/** Namespaces given by path other than network and pid: criu joins them. */
export function joinedNamespaces(namespaces: readonly { type: string; path: string }[]): JoinNs[] {
  const out: JoinNs[] = [];
  for (const ns of namespaces) {
    if (!ns.path || ns.type === "network" || ns.type === "pid") continue;
    // criu cannot join a cgroup namespace
    if (ns.type === "cgroup") throw new ConfigError("criu cannot restore into a cgroup namespace given by path", [], { where: "linux.namespaces (cgroup)" });
    out.push({ ns: CRIU_NS_NAME[ns.type] ?? ns.type, nsFile: ns.path });
  }
  return out;
}

/** The init's stdio pipes of the image stand for criu's own fds 0, 1, 2 (ours, or the shim's). */
export function pipeFds(descriptors: readonly string[]): InheritedFd[] {
  const out: InheritedFd[] = [];
  descriptors.forEach((d, i) => {
    if (d.includes("pipe:")) out.push({ key: d, fd: i });
  });
  return out;
}

/** cg_root entries from /proc/<pid>/cgroup of criu placed in the container's cgroup. */
export function cgroupRoots(procCgroup: string): { ctrl: string; path: string }[] {
  const out: { ctrl: string; path: string }[] = [];
  for (const line of procCgroup.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    // as runc: the controller list as the line has it ("" for cgroup v2's line)
    if (m) out.push({ ctrl: m[1]!, path: m[2]! });
  }
  return out;
}

/** The request that answers a notification. */
export function notifyAck(ok: boolean): Request {
  return { type: ReqType.REQ_NOTIFY, notifySuccess: ok };
}

export type { ExternalMount };
