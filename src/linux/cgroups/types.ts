// Types shared by the cgroup planners and drivers.
//
// The resource types mirror the OCI runtime-spec JSON (config.json
// `linux.resources`) so that `update -r file.json` and `create` feed the same
// code. int64 fields accept bigint because JSON.parse rounds values above 2^53
// (e.g. 9223372036854775807 for "unlimited").

export type Int = number | bigint;

export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: Int | null;
  minor?: Int | null;
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
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: Int;
  quota?: Int;
  burst?: Int;
  period?: Int;
  realtimeRuntime?: Int;
  realtimePeriod?: Int;
  cpus?: string;
  mems?: string;
  idle?: Int;
}

export interface LinuxPids {
  limit?: Int;
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

export interface LinuxBlockIO {
  weight?: Int;
  leafWeight?: Int;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  pageSize: string;
  limit: Int;
}

export interface LinuxInterfacePriority {
  name: string;
  priority: Int;
}

export interface LinuxNetwork {
  classID?: Int;
  priorities?: LinuxInterfacePriority[];
}

export interface LinuxRdma {
  hcaHandles?: Int;
  hcaObjects?: Int;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  rdma?: Record<string, LinuxRdma>;
  unified?: Record<string, string>;
}

/** The parts of config.json the cgroup planner reads. */
export interface CgroupSpecInput {
  linux?: {
    cgroupsPath?: string;
    resources?: LinuxResources;
    devices?: { path: string }[];
  };
}

/** v1: one hierarchy per controller; v2: unified; hybrid: v1 controllers + an empty cgroup2. */
export type CgroupMode = "v1" | "v2" | "hybrid";

/**
 * One write of a value to a cgroup file. `hierarchy` is a key of the plan's
 * paths ("memory", "cpu", ... or "" for the unified hierarchy).
 */
export interface CgroupWrite {
  hierarchy: string;
  file: string;
  value: string;
  /** The config field the value comes from, for error messages. */
  field: string;
  /**
   * The kernel checks some knobs against their partner (cfs period vs quota,
   * rt period vs runtime). EINVAL on such a write is retried once after the
   * next successful write, as runc does.
   */
  deferOnEinval?: boolean;
  /** The knob may be absent on older kernels: ENOENT skips it with a warning. */
  optional?: boolean;
  /** Read the value back and fail if the kernel clamped it (cpu.shares). */
  readBack?: boolean;
  /** Said after the errno when the file does not exist. */
  missingHint?: string;
  /** Said after the errno when the kernel says the operation is not supported. */
  unsupportedHint?: string;
  /** Write line by line (unified values that hold several lines). */
  byLine?: boolean;
}

/** A device cgroup rule in its normal form (type a|b|c, -1 for a wildcard number). */
export interface DeviceRule {
  type: "a" | "b" | "c";
  major: number;
  minor: number;
  access: string;
  allow: boolean;
}

/**
 * What the planner needs to know about the live cgroup to order writes the way
 * the kernel accepts them. readCgroupSnapshot() fills it from the files;
 * FRESH_SNAPSHOT describes a newly created cgroup.
 */
export interface CgroupSnapshot {
  /** v1 memory.limit_in_bytes / v2 memory.max (max = 2^64-1). */
  memoryLimit?: bigint;
  /** v1 memory.usage_in_bytes / v2 memory.current. */
  memoryUsage?: bigint;
  /** Does memory.memsw.limit_in_bytes exist (swap accounting on)? */
  hasMemsw?: boolean;
  /** Does memory.kmem.tcp.limit_in_bytes exist? */
  hasKmemTcp?: boolean;
  /** v1 devices.list content. */
  devicesList?: string;
  /** v1: "blkio.weight" (CFQ) or "blkio.bfq.weight" (BFQ). */
  blkioWeightFile?: string;
  /** v2: does io.bfq.weight exist, and does it take per-device weights (5.4+)? */
  ioBfqWeight?: boolean;
  ioBfqPerDevice?: boolean;
  /** v1 cpuset mounted with noprefix names its files "cpus"/"mems". */
  cpusetPrefix?: string;
  /** v2 cgroup.controllers of the cgroup (enabled controllers). */
  controllers?: string[];
}

export interface PlannedResources {
  writes: CgroupWrite[];
  warnings: string[];
  /** v2 only: the device rules that need an eBPF program (not applied by files). */
  deviceRules?: DeviceRule[];
}

/** Serialised form of a cgroup, stored in state.json. */
export interface CgroupState {
  mode: CgroupMode;
  driver: "fs" | "systemd";
  /** subsystem -> absolute dir; "" is the unified hierarchy. Same keys as runc's cgroup_paths. */
  paths: Record<string, string>;
  /** Directories this runtime created (so delete removes exactly those), parents before children. */
  created: string[];
  /** Keys of paths joined best-effort (name=systemd, misc, the hybrid cgroup2). */
  optional: string[];
}

export type FreezerState = "frozen" | "thawed" | "undefined";
