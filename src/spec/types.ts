// The OCI runtime-spec config.json for Linux, as it appears on disk, for spec versions
// 1.0.0 through 1.3.x. Every field the spec defines for Linux is here, also the ones
// that later versions added (an older config simply leaves them out) and the ones
// 1.3.0 dropped (intelRdt.enableCMT/enableMBM), because a 1.1 config may still carry them.
// Fields are optional wherever the on-disk format allows leaving them out; the
// normalised form with defaults filled in is `Spec` in normalise.ts.
//
// The constant lists below are the single source of the enumerations; schema.json
// repeats them (it is plain JSON) and a unit test keeps the two equal.

export const NAMESPACE_TYPES = ["mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** getrlimit(2) resources; the same set runc maps. */
export const RLIMIT_TYPES = [
  "RLIMIT_AS",
  "RLIMIT_CORE",
  "RLIMIT_CPU",
  "RLIMIT_DATA",
  "RLIMIT_FSIZE",
  "RLIMIT_LOCKS",
  "RLIMIT_MEMLOCK",
  "RLIMIT_MSGQUEUE",
  "RLIMIT_NICE",
  "RLIMIT_NOFILE",
  "RLIMIT_NPROC",
  "RLIMIT_RSS",
  "RLIMIT_RTPRIO",
  "RLIMIT_RTTIME",
  "RLIMIT_SIGPENDING",
  "RLIMIT_STACK",
] as const;
export type RlimitType = (typeof RLIMIT_TYPES)[number];

export const SECCOMP_ACTIONS = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
] as const;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];

export const SECCOMP_OPERATORS = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
] as const;
export type SeccompOperator = (typeof SECCOMP_OPERATORS)[number];

/** The architectures of libseccomp 2.6.0, as listed by the spec. */
export const SECCOMP_ARCHES = [
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
] as const;
export type SeccompArch = (typeof SECCOMP_ARCHES)[number];

export const SECCOMP_FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
] as const;
export type SeccompFlag = (typeof SECCOMP_FLAGS)[number];

/**
 * The spec lists only the first four; runc (and Docker, containerd's CRI, which write
 * "rslave" and "rshared") also use the recursive forms, so they are accepted too.
 */
export const ROOTFS_PROPAGATIONS = [
  "private",
  "shared",
  "slave",
  "unbindable",
  "rprivate",
  "rshared",
  "rslave",
  "runbindable",
] as const;
export type RootfsPropagation = (typeof ROOTFS_PROPAGATIONS)[number];

/** linux.devices[].type: char, block, unbuffered char, fifo. */
export const DEVICE_TYPES = ["c", "b", "u", "p"] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** linux.resources.devices[].type; "" is what Go writes for "all" and means the same as "a". */
export const CGROUP_DEVICE_TYPES = ["a", "b", "c", ""] as const;
export type CgroupDeviceType = (typeof CGROUP_DEVICE_TYPES)[number];

export const IOPRIO_CLASSES = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"] as const;
export type IOPriorityClass = (typeof IOPRIO_CLASSES)[number];

export const SCHED_POLICIES = [
  "SCHED_OTHER",
  "SCHED_FIFO",
  "SCHED_RR",
  "SCHED_BATCH",
  "SCHED_ISO",
  "SCHED_IDLE",
  "SCHED_DEADLINE",
] as const;
export type SchedulerPolicy = (typeof SCHED_POLICIES)[number];

export const SCHED_FLAGS = [
  "SCHED_FLAG_RESET_ON_FORK",
  "SCHED_FLAG_RECLAIM",
  "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY",
  "SCHED_FLAG_KEEP_PARAMS",
  "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
] as const;
export type SchedulerFlag = (typeof SCHED_FLAGS)[number];

export const MEMORY_POLICY_MODES = [
  "MPOL_DEFAULT",
  "MPOL_BIND",
  "MPOL_INTERLEAVE",
  "MPOL_WEIGHTED_INTERLEAVE",
  "MPOL_PREFERRED",
  "MPOL_PREFERRED_MANY",
  "MPOL_LOCAL",
] as const;
export type MemoryPolicyMode = (typeof MEMORY_POLICY_MODES)[number];

export const MEMORY_POLICY_FLAGS = ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"] as const;
export type MemoryPolicyFlag = (typeof MEMORY_POLICY_FLAGS)[number];

export const PERSONALITY_DOMAINS = ["LINUX", "LINUX32"] as const;
export type PersonalityDomain = (typeof PERSONALITY_DOMAINS)[number];

/** Clocks a time namespace can offset (time_namespaces(7)). */
export const TIME_OFFSET_CLOCKS = ["boottime", "monotonic"] as const;
export type TimeOffsetClock = (typeof TIME_OFFSET_CLOCKS)[number];

export const HOOK_NAMES = [
  "prestart",
  "createRuntime",
  "createContainer",
  "startContainer",
  "poststart",
  "poststop",
] as const;
export type HookName = (typeof HOOK_NAMES)[number];

// ---------------------------------------------------------------------------------
// The document. Numbers are JavaScript numbers as JSON.parse gives them: integers
// beyond 2^53 (uint64 rlimits, seccomp argument values) lose precision here; the
// exact values are recovered during normalisation (see bigints.ts).

export interface OciConfig {
  ociVersion: string;
  root?: Root;
  mounts?: Mount[];
  process?: Process;
  hostname?: string;
  domainname?: string;
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

export interface Root {
  /** Absolute, or relative to the bundle. */
  path: string;
  readonly?: boolean;
}

export interface Mount {
  /** Should be absolute; a relative one is deprecated and taken relative to "/". */
  destination: string;
  source?: string;
  options?: string[];
  type?: string;
  /** Since 1.1.0: id-mapped mount; must come with gidMappings. */
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
}

export interface Process {
  terminal?: boolean;
  consoleSize?: ConsoleSize;
  user?: User;
  args?: string[];
  /** Windows only; kept so that a config carrying it still type-checks. */
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  /** Since 1.2.0. */
  scheduler?: Scheduler;
  selinuxLabel?: string;
  /** Since 1.2.0. */
  ioPriority?: IOPriority;
  /** Since 1.2.0. */
  execCPUAffinity?: CPUAffinity;
}

export interface ConsoleSize {
  height: number;
  width: number;
}

export interface User {
  uid?: number;
  gid?: number;
  umask?: number;
  additionalGids?: number[];
  /** Windows only. */
  username?: string;
}

export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface Rlimit {
  type: RlimitType;
  soft: number;
  hard: number;
}

export interface Scheduler {
  policy: SchedulerPolicy;
  nice?: number;
  priority?: number;
  flags?: SchedulerFlag[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export interface IOPriority {
  class: IOPriorityClass;
  priority?: number;
}

export interface CPUAffinity {
  initial?: string;
  final?: string;
}

export interface Hook {
  /** Absolute. */
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds, > 0. */
  timeout?: number;
}

export interface Hooks {
  /** Deprecated in favour of createRuntime/createContainer/startContainer. */
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
  /** Since 1.1.0; keys are clock names. */
  timeOffsets?: Partial<Record<TimeOffsetClock, TimeOffset>>;
  devices?: LinuxDevice[];
  /** Since 1.3.0; keys are host interface names. */
  netDevices?: Record<string, LinuxNetDevice>;
  cgroupsPath?: string;
  resources?: LinuxResources;
  intelRdt?: IntelRdt;
  sysctl?: Record<string, string>;
  seccomp?: Seccomp;
  rootfsPropagation?: RootfsPropagation;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  /** Since 1.1.0. */
  personality?: Personality;
  /** Since 1.3.0. */
  memoryPolicy?: MemoryPolicy;
}

export interface LinuxNamespace {
  type: NamespaceType;
  /** Absolute path of a namespace file to join instead of creating one. */
  path?: string;
}

export interface IDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface TimeOffset {
  secs?: number;
  nanosecs?: number;
}

export interface LinuxDevice {
  type: DeviceType;
  path: string;
  /** Required unless type is "p". */
  major?: number;
  minor?: number;
  /** Decimal, not octal. */
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface LinuxNetDevice {
  name?: string;
}

/**
 * An integer of linux.resources: a number as JSON.parse gives it, or a bigint where
 * the exact value matters beyond 2^53 (9223372036854775807 for "unlimited" from
 * `update -r`, uint64 maxima).
 */
export type Int = number | bigint;

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  /** Since 1.0.1; keys are RDMA device names. */
  rdma?: Record<string, LinuxRdma>;
  /** Since 1.0.2; keys are cgroup v2 file names. */
  unified?: Record<string, string>;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: CgroupDeviceType;
  /** Absent or null: any (null is Go's nil: `update -r` input, runc's built-in defaults). */
  major?: Int | null;
  minor?: Int | null;
  /** Some combination of "r", "w", "m". */
  access?: string;
}

export interface LinuxMemory {
  limit?: Int;
  reservation?: Int;
  swap?: Int;
  kernel?: Int;
  kernelTCP?: Int;
  swappiness?: Int;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  /** Since 1.2.0. */
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: Int;
  quota?: Int;
  /** Since 1.2.0. */
  burst?: Int;
  period?: Int;
  realtimeRuntime?: Int;
  realtimePeriod?: Int;
  cpus?: string;
  mems?: string;
  /** Since 1.1.0. */
  idle?: Int;
}

export interface LinuxPids {
  /** Required before 1.3.0; -1 means "max". */
  limit?: Int;
}

export interface LinuxBlockIO {
  weight?: Int;
  leafWeight?: Int;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxWeightDevice {
  major: Int;
  minor: Int;
  weight?: Int;
  leafWeight?: Int;
}

export interface LinuxThrottleDevice {
  major: Int;
  minor: Int;
  rate: Int;
}

export interface LinuxHugepageLimit {
  /** "<size><K|M|G>B", e.g. "2MB". */
  pageSize: string;
  limit: Int;
}

export interface LinuxNetwork {
  classID?: Int;
  priorities?: LinuxInterfacePriority[];
}

export interface LinuxInterfacePriority {
  name: string;
  priority: Int;
}

export interface LinuxRdma {
  hcaHandles?: Int;
  hcaObjects?: Int;
}

export interface IntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  /** Since 1.3.0. */
  schemata?: string[];
  /** Since 1.3.0; replaces enableCMT/enableMBM. */
  enableMonitoring?: boolean;
  /** 1.1.0 to 1.2.1 only. */
  enableCMT?: boolean;
  /** 1.1.0 to 1.2.1 only. */
  enableMBM?: boolean;
}

export interface Seccomp {
  defaultAction: SeccompAction;
  /** Since 1.0.2. */
  defaultErrnoRet?: number;
  architectures?: SeccompArch[];
  /** Since 1.0.2. Absent and empty differ: runc adds SPEC_ALLOW only when absent. */
  flags?: SeccompFlag[];
  /** Since 1.0.2. */
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: Syscall[];
}

export interface Syscall {
  names: string[];
  action: SeccompAction;
  /** Since 1.0.2. */
  errnoRet?: number;
  args?: SyscallArg[];
}

export interface SyscallArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface Personality {
  domain: PersonalityDomain;
  flags?: string[];
}

export interface MemoryPolicy {
  mode: MemoryPolicyMode;
  nodes?: string;
  flags?: MemoryPolicyFlag[];
}
