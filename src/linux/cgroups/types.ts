// Types shared by the cgroup planners and drivers.
//
// The resource types are the spec's own (src/spec/types.ts), so that
// `update -r file.json` and `create` feed the same code.

export type {
  Int,
  LinuxBlockIO,
  LinuxCPU,
  LinuxDeviceCgroup,
  LinuxHugepageLimit,
  LinuxInterfacePriority,
  LinuxMemory,
  LinuxNetwork,
  LinuxPids,
  LinuxRdma,
  LinuxResources,
  LinuxThrottleDevice,
  LinuxWeightDevice,
} from "../../spec/types";
import type { LinuxResources } from "../../spec/types";

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
  /** systemd driver: the transient unit that holds the cgroup ("runc-<id>.scope"). */
  unit?: string;
}

export type FreezerState = "frozen" | "thawed" | "undefined";
