// Rules for config.json that a JSON Schema cannot express: absolute paths, duplicates,
// and fields that only make sense with some namespace. They follow the spec's MUSTs and,
// where runc is stricter or looser than the spec, runc (ocirt is a drop-in replacement).
// Only called on a document that already passed the schema, so shapes are trusted here.
// Checks that need the host (is this netns path the host's? is SELinux on?) belong to
// the planners, not here.

import type { LinuxNamespace, NamespaceType, OciConfig, SeccompAction } from "./types";
import { HOOK_NAMES } from "./types";
import { childPath, formatPath, type Segment } from "./path";
import { withoutUnknown } from "./known";

export interface Problem {
  /** formatPath form; "" for the document itself. */
  path: string;
  message: string;
}

export interface SemanticResult {
  problems: Problem[];
  warnings: Problem[];
}

/** The newest minor version whose fields ocirt knows. */
export const NEWEST_KNOWN_MINOR = 3;

const isAbs = (p: string) => p.startsWith("/");

export function checkSemantics(cfg: OciConfig): SemanticResult {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  const warn = (path: string, message: string) => warnings.push({ path, message });

  checkVersion(cfg.ociVersion, warn);

  const linux = cfg.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const nsIndex = new Map<NamespaceType, number>();
  namespaces.forEach((ns, i) => {
    const at = childPath("linux.namespaces", i);
    const first = nsIndex.get(ns.type);
    if (first !== undefined) bad(childPath(at, "type"), `duplicate namespace type "${ns.type}" (also at linux.namespaces[${first}])`);
    else nsIndex.set(ns.type, i);
    if (ns.path && !isAbs(ns.path)) bad(childPath(at, "path"), `must be an absolute path (got ${JSON.stringify(ns.path)})`);
  });
  const ns = (t: NamespaceType): LinuxNamespace | undefined => {
    const i = nsIndex.get(t);
    return i === undefined ? undefined : namespaces[i];
  };
  const nsPath = (t: NamespaceType) => {
    const i = nsIndex.get(t);
    return i === undefined ? "linux.namespaces" : `linux.namespaces[${i}]`;
  };

  checkNulBytes(cfg, bad);
  checkProcess(cfg, bad);
  checkMounts(cfg, !!ns("user"), bad, warn);
  checkHooks(cfg, bad);

  // Hostname and domainname: runc refuses to change the host's.
  if (cfg.hostname && !ns("uts")) bad("hostname", "needs a uts namespace in linux.namespaces");
  if (cfg.domainname && !ns("uts")) bad("domainname", "needs a uts namespace in linux.namespaces");

  // User namespace and id mappings.
  const uidMaps = linux.uidMappings ?? [];
  const gidMaps = linux.gidMappings ?? [];
  const userns = ns("user");
  if (!userns) {
    // runc ignores them (its config takes mappings only with a user namespace); the spec does not refuse them
    if (uidMaps.length > 0) warn("linux.uidMappings", "ignored: linux.namespaces has no user namespace");
    if (gidMaps.length > 0) warn("linux.gidMappings", "ignored: linux.namespaces has no user namespace");
  } else if (!userns.path) {
    if (uidMaps.length === 0) bad("linux.uidMappings", `required for the new user namespace of ${nsPath("user")}`);
    if (gidMaps.length === 0) bad("linux.gidMappings", `required for the new user namespace of ${nsPath("user")}`);
  }

  // Time namespace offsets.
  if (linux.timeOffsets !== undefined) {
    const timens = ns("time");
    if (!timens) bad("linux.timeOffsets", "given, but linux.namespaces has no time namespace");
    else if (timens.path) bad("linux.timeOffsets", `cannot be applied when joining an existing time namespace (${nsPath("time")}.path)`);
  }

  // Masks and read-only paths are bind mounts inside the container's mount namespace.
  for (const field of ["maskedPaths", "readonlyPaths"] as const) {
    const list = linux[field] ?? [];
    if (list.length > 0 && !ns("mount")) bad(`linux.${field}`, "needs a mount namespace in linux.namespaces");
    list.forEach((p, i) => {
      if (!isAbs(p)) bad(childPath(`linux.${field}`, i), `must be an absolute path (got ${JSON.stringify(p)})`);
    });
  }

  checkSysctl(linux.sysctl ?? {}, (t) => !!ns(t), bad);

  (linux.devices ?? []).forEach((d, i) => {
    if (!isAbs(d.path)) bad(childPath("linux.devices", i, "path"), `must be an absolute path (got ${JSON.stringify(d.path)})`);
  });

  const netDevices = linux.netDevices ?? {};
  const netNames = Object.keys(netDevices);
  if (netNames.length > 0 && !ns("network")) bad("linux.netDevices", "needs a network namespace in linux.namespaces");
  for (const name of netNames) {
    const at = childPath("linux.netDevices", name);
    if (!validInterfaceName(name)) bad(at, `invalid network interface name ${JSON.stringify(name)}`);
    const inner = netDevices[name]?.name;
    if (inner && !validInterfaceName(inner)) bad(childPath(at, "name"), `invalid network interface name ${JSON.stringify(inner)}`);
  }

  checkSeccomp(cfg, bad);
  checkLinuxMisc(cfg, bad, warn);
  return { problems, warnings };
}

type Report = (path: string, message: string) => void;

function checkVersion(version: string, warn: Report): void {
  const m = /^1\.([0-9]+)\./.exec(version);
  if (m && Number(m[1]) > NEWEST_KNOWN_MINOR)
    warn("ociVersion", `${JSON.stringify(version)} is newer than ocirt knows (1.${NEWEST_KNOWN_MINOR}.x); fields it does not know are ignored`);
}

/**
 * Paths, arguments, names and values all end up as C strings (the kernel's, the
 * helper's): a NUL inside one would cut it short. Only the annotations, which go
 * to state.json and the hooks as JSON, may hold one.
 */
function checkNulBytes(cfg: OciConfig, bad: Report): void {
  // the common case, no NUL anywhere, without the schema walk that names where
  if (!holdsNul(cfg)) return;
  const todo: [unknown, Segment[]][] = [[withoutUnknown(cfg), []]];
  while (todo.length) {
    const [v, at] = todo.pop()!;
    if (typeof v === "string") {
      if (v.includes("\0")) bad(formatPath(at), "contains a NUL byte");
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => todo.push([x, [...at, i]]));
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (at.length === 0 && k === "annotations") continue;
        if (k.includes("\0")) bad(formatPath([...at, k]), "the key contains a NUL byte");
        todo.push([x, [...at, k]]);
      }
    }
  }
}

/**
 * Whether a string or a key anywhere in the config (top-level annotations aside) holds a
 * NUL; without recursion, since unknown properties may nest as deep as JSON.parse allows.
 */
function holdsNul(cfg: OciConfig): boolean {
  const todo: unknown[] = Object.entries(cfg).filter(([k]) => k !== "annotations").flat();
  while (todo.length) {
    const v = todo.pop();
    if (typeof v === "string") {
      if (v.includes("\0")) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) todo.push(x);
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) todo.push(k, x);
    }
  }
  return false;
}

function checkProcess(cfg: OciConfig, bad: Report): void {
  const p = cfg.process;
  if (!p) return;
  if (!isAbs(p.cwd)) bad("process.cwd", `must be an absolute path (got ${JSON.stringify(p.cwd)})`);
  (p.env ?? []).forEach((kv, i) => {
    const at = childPath("process.env", i);
    const eq = kv.indexOf("=");
    // runc's words: "invalid environment variable"
    if (eq === -1) bad(at, `invalid environment variable ${JSON.stringify(kv)}: must be NAME=VALUE`);
    else if (eq === 0) bad(at, `invalid environment variable ${JSON.stringify(kv)}: the name is empty`);
  });
  const seen = new Map<string, number>();
  (p.rlimits ?? []).forEach((r, i) => {
    const first = seen.get(r.type);
    if (first !== undefined) bad(childPath("process.rlimits", i, "type"), `duplicate rlimit "${r.type}" (also at process.rlimits[${first}])`);
    else seen.set(r.type, i);
    // soft > hard is left to setrlimit(2), which refuses it with EINVAL at the same point runc fails.
  });

  const s = p.scheduler;
  if (s) {
    // sched_setattr(2) rules, as runc checks them.
    if ((s.policy === "SCHED_OTHER" || s.policy === "SCHED_BATCH") && s.nice !== undefined && (s.nice < -20 || s.nice > 19))
      bad("process.scheduler.nice", `must be between -20 and 19 for ${s.policy} (got ${s.nice})`);
    if (s.priority && s.policy !== "SCHED_FIFO" && s.policy !== "SCHED_RR")
      bad("process.scheduler.priority", `can only be set for SCHED_FIFO or SCHED_RR (policy is ${s.policy})`);
    if (s.policy !== "SCHED_DEADLINE") {
      for (const f of ["runtime", "deadline", "period"] as const)
        if (s[f]) bad(childPath("process.scheduler", f), `can only be set for SCHED_DEADLINE (policy is ${s.policy})`);
    }
  }
}

const IDMAP_OPTIONS = new Set(["idmap", "ridmap"]);

function checkMounts(cfg: OciConfig, haveUserns: boolean, bad: Report, warn: Report): void {
  (cfg.mounts ?? []).forEach((m, i) => {
    const at = childPath("mounts", i);
    if (!isAbs(m.destination))
      warn(childPath(at, "destination"), `relative destination ${JSON.stringify(m.destination)} is deprecated; taken as relative to "/"`);
    const options = m.options ?? [];
    // (uidMappings without gidMappings and the reverse: the schema's dependencies)
    const hasMaps = (m.uidMappings?.length ?? 0) > 0 || (m.gidMappings?.length ?? 0) > 0;
    const wantsIdmap = options.some((o) => IDMAP_OPTIONS.has(o));
    if (wantsIdmap && !hasMaps && !haveUserns)
      bad(childPath(at, "options"), "idmap needs uidMappings and gidMappings on the mount, or a user namespace in linux.namespaces");
  });
}

function checkHooks(cfg: OciConfig, bad: Report): void {
  const hooks = cfg.hooks ?? {};
  for (const name of HOOK_NAMES) {
    (hooks[name] ?? []).forEach((h, i) => {
      if (!isAbs(h.path)) bad(childPath("hooks", name, i, "path"), `must be an absolute path (got ${JSON.stringify(h.path)})`);
    });
  }
}

// Exactly runc's list of sysctls that belong to the ipc namespace (plus fs.mqueue.*).
const IPC_SYSCTLS = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

/** sysctl.d(5): "a/b.c/d" means "a.b/c.d"; the first separator decides. */
export function sysctlDotted(key: string): string {
  const first = key.search(/[./]/);
  if (first === -1 || key[first] === ".") return key;
  return key.replace(/[./]/g, (c) => (c === "." ? "/" : "."));
}

/**
 * The namespace a sysctl belongs to (runc's lists): ipc (kernel.shm*, kernel.msg*,
 * kernel.sem, fs.mqueue.*), network (net.*), uts (kernel.domainname, kernel.hostname),
 * user (user.*); undefined for one that is not namespaced.
 */
export function sysctlNamespace(raw: string): NamespaceType | undefined {
  const key = sysctlDotted(raw);
  if (IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.")) return "ipc";
  if (key.startsWith("net.")) return "network";
  if (key === "kernel.domainname" || key === "kernel.hostname") return "uts";
  if (key.startsWith("user.")) return "user";
  return undefined;
}

/**
 * /proc/sys is only partly namespaced; a sysctl is allowed only where it cannot touch the
 * host (runc's rules). Whether a namespace joined by path is the runtime's own is checked
 * when namespaces are opened (lifecycle/create.ts).
 */
function checkSysctl(sysctl: Record<string, string>, has: (t: NamespaceType) => boolean, bad: Report): void {
  for (const raw of Object.keys(sysctl)) {
    const at = childPath("linux.sysctl", raw);
    const key = sysctlDotted(raw);
    if (IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.")) {
      if (!has("ipc")) bad(at, "needs an ipc namespace in linux.namespaces");
      continue;
    }
    if (key.startsWith("net.")) {
      if (!has("network")) bad(at, "needs a network namespace in linux.namespaces");
      continue;
    }
    if (has("uts")) {
      if (key === "kernel.domainname") continue;
      if (key === "kernel.hostname") {
        bad(at, 'not allowed: set the "hostname" field instead');
        continue;
      }
    }
    if (key.startsWith("user.")) {
      if (!has("user")) bad(at, "needs a user namespace in linux.namespaces");
      continue;
    }
    bad(at, "is not namespaced: it would change the host");
  }
}

/** The kernel's dev_valid_name(). */
function validInterfaceName(name: string): boolean {
  return name.length > 0 && name.length <= 16 && name !== "." && name !== ".." && !/[/: ]/.test(name);
}

const ERRNO_ACTIONS = new Set<SeccompAction>(["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"]);

function checkSeccomp(cfg: OciConfig, bad: Report): void {
  const sc = cfg.linux?.seccomp;
  if (!sc) return;
  const at = "linux.seccomp";
  if (sc.listenerMetadata && !sc.listenerPath) bad(childPath(at, "listenerMetadata"), "must not be set without listenerPath");
  if (sc.defaultAction === "SCMP_ACT_NOTIFY") bad(childPath(at, "defaultAction"), "SCMP_ACT_NOTIFY cannot be the default action");
  if (sc.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.has(sc.defaultAction))
    bad(childPath(at, "defaultErrnoRet"), `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno (defaultAction is ${sc.defaultAction})`);
  (sc.syscalls ?? []).forEach((call, i) => {
    const cat = childPath(at, "syscalls", i);
    if (call.errnoRet !== undefined && !ERRNO_ACTIONS.has(call.action))
      bad(childPath(cat, "errnoRet"), `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno (action is ${call.action})`);
    if (call.action === "SCMP_ACT_NOTIFY") {
      // The runtime itself writes to its sync pipe after seccomp is loaded.
      if (call.names.includes("write")) bad(childPath(cat, "names"), "SCMP_ACT_NOTIFY cannot be used for write");
      if (!sc.listenerPath) bad(childPath(cat, "action"), "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
    }
  });
}

function checkLinuxMisc(cfg: OciConfig, bad: Report, warn: Report): void {
  const linux = cfg.linux;
  if (!linux) return;

  const cpu = linux.resources?.cpu;
  if (cpu?.burst !== undefined && cpu.quota !== undefined && cpu.quota > 0 && cpu.burst > cpu.quota)
    bad("linux.resources.cpu.burst", `must not be larger than quota (${cpu.burst} > ${cpu.quota})`);

  const rdt = linux.intelRdt;
  if (rdt?.closID !== undefined) {
    const c = rdt.closID;
    if (c === "." || c === ".." || (c.length > 1 && c.includes("/"))) bad("linux.intelRdt.closID", `invalid CLOS id ${JSON.stringify(c)}`);
  }

  const mp = linux.memoryPolicy;
  if (mp) {
    const nodes = (mp.nodes ?? "").trim();
    if ((mp.mode === "MPOL_DEFAULT" || mp.mode === "MPOL_LOCAL") && nodes !== "")
      bad("linux.memoryPolicy.nodes", `must be empty for ${mp.mode}`);
    if (
      (mp.mode === "MPOL_BIND" || mp.mode === "MPOL_INTERLEAVE" || mp.mode === "MPOL_PREFERRED_MANY" || mp.mode === "MPOL_WEIGHTED_INTERLEAVE") &&
      nodes === ""
    )
      bad("linux.memoryPolicy.nodes", `${mp.mode} needs at least one node`);
  }

  if ((linux.personality?.flags ?? []).length > 0) warn("linux.personality.flags", "no personality flags are supported; ignored");
}
