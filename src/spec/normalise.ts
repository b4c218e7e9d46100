// Turns a validated config.json into the `Spec` the planners consume: defaults filled in,
// paths resolved against the bundle, uint64 values exact. Pure: the file system is
// load.ts's business.
//
// Decision on `process` and `root`: the spec makes `process` optional for `create` (it is
// only needed by `start`) and `root` required on Linux. runc refuses a config without
// either ("process property must not be empty", "root must be specified"), so ocirt does
// the same: schema.json requires both, and Spec.process / Spec.root are never undefined.
// Likewise process.args needs at least one entry and process.cwd must be absolute.
//
// What is left undefined on purpose, because "absent" means something different from any
// default: process.capabilities (absent = do not touch capabilities), process.oomScoreAdj
// (absent = do not write oom_score_adj), process.user.umask (absent = keep the umask),
// linux.seccomp.flags (absent = runc adds SPEC_ALLOW; [] = no flags),
// linux.rootfsPropagation (the mount planner applies runc's default, rslave),
// linux.resources (absent = do not write cgroup limits), linux.cgroupsPath (the cgroup
// driver derives one from the container id).

import { isAbsolute, join, resolve } from "node:path";
import type {
  ConsoleSize,
  CPUAffinity,
  DeviceType,
  HookName,
  IDMapping,
  IntelRdt,
  IOPriorityClass,
  LinuxNamespace,
  LinuxResources,
  MemoryPolicy,
  OciConfig,
  Personality,
  RlimitType,
  RootfsPropagation,
  SchedulerFlag,
  SchedulerPolicy,
  SeccompAction,
  SeccompArch,
  SeccompFlag,
  SeccompOperator,
  TimeOffsetClock,
} from "./types";
import { HOOK_NAMES } from "./types";
import { withoutUnknown } from "./known";
import { childPath } from "./path";

export interface Spec {
  ociVersion: string;
  /** Absolute, symlinks resolved (runc uses its working directory, which is the same). */
  bundle: string;
  root: { /** Absolute. */ path: string; readonly: boolean };
  process: SpecProcess;
  /** undefined when absent or empty: leave the uts namespace's name alone. */
  hostname: string | undefined;
  domainname: string | undefined;
  mounts: SpecMount[];
  hooks: Record<HookName, SpecHook[]>;
  annotations: Record<string, string>;
  linux: SpecLinux;
  /** Lines to log as warnings ("<path>: <message>"); the config is still used. */
  warnings: string[];
  /** The document as read (null-valued fields removed), e.g. for state.json. */
  config: OciConfig;
}

export interface SpecProcess {
  terminal: boolean;
  /** Only meaningful with terminal. */
  consoleSize: ConsoleSize | undefined;
  user: { uid: number; gid: number; umask: number | undefined; additionalGids: number[] };
  /** At least one entry. */
  args: string[];
  env: string[];
  /** Absolute. */
  cwd: string;
  capabilities: SpecCapabilities | undefined;
  rlimits: SpecRlimit[];
  noNewPrivileges: boolean;
  apparmorProfile: string | undefined;
  selinuxLabel: string | undefined;
  oomScoreAdj: number | undefined;
  scheduler: SpecScheduler | undefined;
  ioPriority: { class: IOPriorityClass; priority: number } | undefined;
  execCPUAffinity: CPUAffinity | undefined;
}

export interface SpecCapabilities {
  bounding: string[];
  effective: string[];
  inheritable: string[];
  permitted: string[];
  ambient: string[];
}

export interface SpecRlimit {
  type: RlimitType;
  /** Exact; 18446744073709551615n is RLIM_INFINITY. */
  soft: bigint;
  hard: bigint;
}

export interface SpecScheduler {
  policy: SchedulerPolicy;
  nice: number;
  priority: number;
  flags: SchedulerFlag[];
  runtime: number;
  deadline: number;
  period: number;
}

export interface SpecMount {
  /** Absolute: a deprecated relative destination is taken relative to "/". */
  destination: string;
  /** For bind mounts, absolute (resolved against the bundle). */
  source: string | undefined;
  type: string | undefined;
  options: string[];
  /** Empty unless the mount is id-mapped with its own mappings. */
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
}

export interface SpecHook {
  path: string;
  /** argv; [path] when the config gives none (as Go's exec does). */
  args: string[];
  /** undefined: the hook inherits the runtime's environment (Go's exec.Cmd with a nil Env, as runc). */
  env: string[] | undefined;
  /** Seconds. */
  timeout: number | undefined;
}

export interface SpecLinux {
  /** As given, except that an empty path means "create". */
  namespaces: LinuxNamespace[];
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
  timeOffsets: Partial<Record<TimeOffsetClock, { secs: number; nanosecs: number }>>;
  devices: SpecDevice[];
  /** Host interface name -> name inside the container. */
  netDevices: Record<string, { name: string }>;
  cgroupsPath: string | undefined;
  resources: LinuxResources | undefined;
  intelRdt: IntelRdt | undefined;
  sysctl: Record<string, string>;
  seccomp: SpecSeccomp | undefined;
  rootfsPropagation: RootfsPropagation | undefined;
  maskedPaths: string[];
  readonlyPaths: string[];
  mountLabel: string | undefined;
  personality: Personality | undefined;
  memoryPolicy: MemoryPolicy | undefined;
}

export interface SpecDevice {
  type: DeviceType;
  /** Absolute, inside the container. */
  path: string;
  /** 0 for fifos. */
  major: number;
  minor: number;
  fileMode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

export interface SpecSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet: number | undefined;
  architectures: SeccompArch[];
  flags: SeccompFlag[] | undefined;
  listenerPath: string | undefined;
  listenerMetadata: string | undefined;
  syscalls: SpecSyscall[];
}

export interface SpecSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet: number | undefined;
  args: { index: number; /** Exact uint64. */ value: bigint; valueTwo: bigint; op: SeccompOperator }[];
}

export interface NormaliseInput {
  /** Absolute bundle directory. */
  bundle: string;
  /** Exact values of integer literals beyond 2^53, by path (json.ts). */
  bigInts?: ReadonlyMap<string, bigint>;
  /** Warning lines found during validation. */
  warnings?: string[];
}

/** Absolute root filesystem path for a config in `bundle`. */
export function rootfsPath(cfg: OciConfig, bundle: string): string {
  const p = cfg.root?.path ?? "";
  return isAbsolute(p) ? resolve(p) : join(bundle, p);
}

export function normaliseConfig(cfg: OciConfig, input: NormaliseInput): Spec {
  const bundle = input.bundle;
  const big = input.bigInts ?? new Map<string, bigint>();
  // Prefer the exact literal, but only if it is the value JSON.parse kept (a duplicated
  // key elsewhere must not leak in).
  const exact = (path: string, n: number): bigint => {
    const b = big.get(path);
    return b !== undefined && Number(b) === n ? b : BigInt(n);
  };
  const proc = cfg.process!;
  const linux = cfg.linux ?? {};
  const nonEmpty = (s: string | undefined) => (s === "" ? undefined : s);

  const caps = proc.capabilities;
  const sched = proc.scheduler;
  const hooks = {} as Record<HookName, SpecHook[]>;
  for (const name of HOOK_NAMES) {
    hooks[name] = (cfg.hooks?.[name] ?? []).map((h) => ({
      path: h.path,
      args: h.args && h.args.length > 0 ? h.args : [h.path],
      env: h.env,
      timeout: h.timeout,
    }));
  }

  const timeOffsets: SpecLinux["timeOffsets"] = {};
  for (const [clock, off] of Object.entries(linux.timeOffsets ?? {})) {
    if (off) timeOffsets[clock as TimeOffsetClock] = { secs: off.secs ?? 0, nanosecs: off.nanosecs ?? 0 };
  }

  const netDevices: SpecLinux["netDevices"] = {};
  for (const [host, d] of Object.entries(linux.netDevices ?? {})) netDevices[host] = { name: d.name || host };

  const sc = linux.seccomp;
  const seccomp: SpecSeccomp | undefined = sc && {
    defaultAction: sc.defaultAction,
    defaultErrnoRet: sc.defaultErrnoRet,
    architectures: sc.architectures ?? [],
    flags: sc.flags,
    listenerPath: nonEmpty(sc.listenerPath),
    listenerMetadata: nonEmpty(sc.listenerMetadata),
    syscalls: (sc.syscalls ?? []).map((call, i) => ({
      names: call.names,
      action: call.action,
      errnoRet: call.errnoRet,
      args: (call.args ?? []).map((a, j) => {
        const at = childPath("linux.seccomp.syscalls", i, "args", j);
        return {
          index: a.index,
          value: exact(childPath(at, "value"), a.value),
          valueTwo: exact(childPath(at, "valueTwo"), a.valueTwo ?? 0),
          op: a.op,
        };
      }),
    })),
  };

  return {
    ociVersion: cfg.ociVersion,
    bundle,
    root: { path: rootfsPath(cfg, bundle), readonly: cfg.root?.readonly ?? false },
    process: {
      terminal: proc.terminal ?? false,
      consoleSize: proc.consoleSize,
      user: {
        uid: proc.user?.uid ?? 0,
        gid: proc.user?.gid ?? 0,
        umask: proc.user?.umask,
        additionalGids: proc.user?.additionalGids ?? [],
      },
      args: proc.args ?? [],
      env: proc.env ?? [],
      cwd: proc.cwd,
      capabilities: caps && {
        bounding: caps.bounding ?? [],
        effective: caps.effective ?? [],
        inheritable: caps.inheritable ?? [],
        permitted: caps.permitted ?? [],
        ambient: caps.ambient ?? [],
      },
      rlimits: (proc.rlimits ?? []).map((r, i) => ({
        type: r.type,
        soft: exact(childPath("process.rlimits", i, "soft"), r.soft),
        hard: exact(childPath("process.rlimits", i, "hard"), r.hard),
      })),
      noNewPrivileges: proc.noNewPrivileges ?? false,
      apparmorProfile: nonEmpty(proc.apparmorProfile),
      selinuxLabel: nonEmpty(proc.selinuxLabel),
      oomScoreAdj: proc.oomScoreAdj,
      // The spec: unset scheduler numbers mean 0.
      scheduler: sched && {
        policy: sched.policy,
        nice: sched.nice ?? 0,
        priority: sched.priority ?? 0,
        flags: sched.flags ?? [],
        runtime: sched.runtime ?? 0,
        deadline: sched.deadline ?? 0,
        period: sched.period ?? 0,
      },
      ioPriority: proc.ioPriority && { class: proc.ioPriority.class, priority: proc.ioPriority.priority ?? 0 },
      execCPUAffinity: proc.execCPUAffinity,
    },
    hostname: nonEmpty(cfg.hostname),
    domainname: nonEmpty(cfg.domainname),
    mounts: (cfg.mounts ?? []).map((m) => {
      const options = m.options ?? [];
      const bind = options.includes("bind") || options.includes("rbind");
      const source = bind && m.source !== undefined && !isAbsolute(m.source) ? join(bundle, m.source) : m.source;
      return {
        destination: isAbsolute(m.destination) ? m.destination : `/${m.destination}`,
        source,
        type: m.type,
        options,
        uidMappings: m.uidMappings ?? [],
        gidMappings: m.gidMappings ?? [],
      };
    }),
    hooks,
    annotations: cfg.annotations ?? {},
    linux: {
      namespaces: (linux.namespaces ?? []).map((n) => (n.path ? { type: n.type, path: n.path } : { type: n.type })),
      uidMappings: linux.uidMappings ?? [],
      gidMappings: linux.gidMappings ?? [],
      timeOffsets,
      devices: (linux.devices ?? []).map((d) => ({
        type: d.type,
        path: d.path,
        major: d.major ?? 0,
        minor: d.minor ?? 0,
        fileMode: d.fileMode,
        uid: d.uid,
        gid: d.gid,
      })),
      netDevices,
      cgroupsPath: nonEmpty(linux.cgroupsPath),
      resources: linux.resources,
      intelRdt: linux.intelRdt,
      sysctl: linux.sysctl ?? {},
      seccomp,
      rootfsPropagation: linux.rootfsPropagation,
      maskedPaths: linux.maskedPaths ?? [],
      readonlyPaths: linux.readonlyPaths ?? [],
      mountLabel: nonEmpty(linux.mountLabel),
      personality: linux.personality,
      memoryPolicy: linux.memoryPolicy,
    },
    warnings: input.warnings ?? [],
    // what exec needs again, without what ocirt ignores
    config: withoutUnknown(cfg) as OciConfig,
  };
}
