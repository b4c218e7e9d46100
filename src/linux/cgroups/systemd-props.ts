// The systemd unit properties of a container: what runc's systemd drivers send
// (libcontainer/cgroups/systemd: common.go, v1.go, v2.go, and specconv for the
// org.systemd.property.* annotations), computed without D-Bus. Pure: the host
// facts (systemd's version, /proc/devices, which device paths exist) come in.
//
// The resources are also written to the cgroup files, as the fs driver writes
// them (so the kernel gets exactly what the fs driver would give it); these
// properties make systemd agree with the files, so that when systemd re-applies
// a unit's settings (set-property, a sibling's controllers) nothing changes.
import { ConfigError } from "../../errors";
import { blkioWeightToIoWeight, cpuSharesToWeight, int64, memorySwapToV2, uint64 } from "./convert";
import { Variant, type DBusValue } from "./dbus-wire";
import { DeviceEmulator, parseDeviceRules } from "./devices";
import { GVariantError, parseGVariant } from "./gvariant";
import type { SystemdUnit } from "./systemd";
import type { CgroupMode, Int, LinuxResources } from "./types";

export interface UnitProperty {
  name: string;
  value: Variant;
}

export function prop(name: string, signature: string, value: DBusValue): UnitProperty {
  return { name, value: new Variant(signature, value) };
}

/** What the property planner needs to know about the host. */
export interface SystemdFacts {
  /** systemd's version (the Manager's Version property), 0 when unknown. */
  version: number;
  /** The text of /proc/devices (device group names for "c 136:* rwm"-style rules). */
  procDevices(): string;
  exists(path: string): boolean;
}

export interface PlannedProperties {
  properties: UnitProperty[];
  /** What could not be expressed as a property (it still goes to the files): for --debug. */
  notes: string[];
  /** Said as warnings, as runc does. */
  warnings: string[];
}

const F = "linux.resources";
const UINT64_MAX = (1n << 64n) - 1n;
/** Kernel default cfs period, the same for v1 and v2. */
const DEFAULT_PERIOD = 100000n;
const PERIOD_SINCE = 242;
const CPUSET_SINCE = 244;
const CPU_IDLE_SINCE = 252;

const isSet = (v: Int | undefined | null): v is Int => v !== undefined && v !== null;
/** Go's uint64(int64): negative values wrap (-1 is "infinity" to systemd). */
const wrap = (v: Int): bigint => BigInt.asUintN(64, int64(v));

/** "v245.4-1.fc32", "245", "252.38-1~deb12u1" -> the leading number (runc's systemdVersionAtoi). */
export function parseSystemdVersion(s: string): number {
  const m = /v?([0-9]+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** Does planning these resources need systemd's version? */
export function needsVersion(r: LinuxResources): boolean {
  const c = r.cpu;
  if (c && ((isSet(c.period) && int64(c.period) !== 0n) || c.cpus || c.mems || (isSet(c.idle) && int64(c.idle) === 1n))) return true;
  return Object.keys(r.unified ?? {}).some((k) => k === "cpu.max" || k.startsWith("cpuset."));
}

// -------------------------------------------------------------- the unit ----
/**
 * The properties a new unit starts with (runc's Apply): description, slice,
 * delegation, the init's pid, accounting, no default dependencies.
 */
export function unitProperties(unit: SystemdUnit, mode: CgroupMode, pid: number | undefined): UnitProperty[] {
  // (a slice as the unit is refused by planCgroup: systemd puts no pids in slices)
  const out = [prop("Description", "s", `libcontainer container ${unit.name}`), prop("Slice", "s", unit.slice), prop("Delegate", "b", true)];
  if (pid !== undefined) out.push(prop("PIDs", "au", [pid]));
  out.push(
    prop("MemoryAccounting", "b", true),
    prop("CPUAccounting", "b", true),
    prop(mode === "v2" ? "IOAccounting" : "BlockIOAccounting", "b", true),
    prop("TasksAccounting", "b", true),
    prop("DefaultDependencies", "b", false),
  );
  return out;
}

// ----------------------------------------------------------- annotations ----
const ANNOTATION_PREFIX = "org.systemd.property.";

/** Numbers of every integer type and doubles -> uint64 microseconds (runc's convertSecToUSec). */
function secToUSec(v: Variant): Variant {
  const M = 1000000n;
  switch (v.signature) {
    case "y":
    case "n":
    case "q":
    case "i":
    case "u":
    case "x":
    case "t":
      // Go: uint64(v) * 1000000, both wrapping
      return new Variant("t", BigInt.asUintN(64, BigInt.asUintN(64, BigInt(v.value as number | bigint)) * M));
    case "d": {
      const us = (v.value as number) * 1e6;
      if (!(us >= 0 && us < 2 ** 64)) throw new GVariantError("out of range");
      return new Variant("t", BigInt(Math.trunc(us)));
    }
    default:
      throw new GVariantError("not a number");
  }
}

/**
 * `org.systemd.property.NAME=VALUE` annotations as unit properties (runc's
 * initSystemdProps): NAME is letters only; VALUE is parsed as GVariant text
 * (gvariant.ts); NAMEs ending in lowercase+"Sec" become "USec" with the value
 * in microseconds, e.g. TimeoutStopSec=10 -> TimeoutStopUSec=uint64 10000000.
 */
export function annotationProperties(annotations: Readonly<Record<string, string>> | undefined): UnitProperty[] {
  const out: UnitProperty[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    const where = `annotations[${JSON.stringify(key)}]`;
    let name = key.slice(ANNOTATION_PREFIX.length);
    if (name.length < 3) throw new ConfigError(`annotation ${key} name incorrect: too short`, [], { where });
    if (!/^[A-Za-z]+$/.test(name)) throw new ConfigError(`annotation ${key} name incorrect: contains non-alphabetic character`, [], { where });
    let value: Variant;
    try {
      value = parseGVariant(text);
      if (name.endsWith("Sec") && /[a-z]/.test(name[name.length - 4] ?? "")) {
        name = name.slice(0, -3) + "USec";
        value = secToUSec(value);
      }
    } catch (err) {
      if (!(err instanceof GVariantError)) throw err;
      throw new ConfigError(`annotation ${key}=${text} value parse error: ${err.message}`, [], { where });
    }
    out.push({ name, value });
  }
  return out;
}

// ----------------------------------------------------------------- cpuset ----
const MAX_CPU_BITS = 1 << 16;

/**
 * "0-3,8" -> the bitmask systemd takes for AllowedCPUs/AllowedMemoryNodes:
 * bytes in little-endian order (bit n is bit n%8 of byte n/8), no trailing
 * zero bytes. (runc 1.1.5 sends them in big-endian order, which only agrees
 * with systemd below 8 CPUs; later runc fixed it to this.)
 */
export function rangeToBits(list: string): Buffer {
  const bits = new Set<number>();
  const num = (s: string): number => {
    if (!/^\d+$/.test(s)) throw new Error(`invalid number ${JSON.stringify(s)}`);
    const n = Number(s);
    if (n >= MAX_CPU_BITS) throw new Error(`${n} is out of range`);
    return n;
  };
  for (const raw of list.split(",")) {
    const r = raw.trim();
    if (r === "") continue;
    const dash = r.indexOf("-");
    if (dash >= 0) {
      const a = num(r.slice(0, dash));
      const b = num(r.slice(dash + 1));
      if (a > b) throw new Error(`invalid range: ${r}`);
      for (let i = a; i <= b; i++) bits.add(i);
    } else bits.add(num(r));
  }
  if (bits.size === 0) throw new Error("empty value");
  const max = Math.max(...bits);
  const out = Buffer.alloc((max >> 3) + 1);
  for (const b of bits) out[b >> 3]! |= 1 << (b & 7);
  return out;
}

function cpusetProps(out: Collector, cpus: string | undefined, mems: string | undefined, field: (k: "cpus" | "mems") => string): void {
  if (!cpus && !mems) return;
  if (out.version < CPUSET_SINCE) {
    out.note(`systemd v${out.version} is too old for AllowedCPUs/AllowedMemoryNodes (the cgroup files still get them)`);
    return;
  }
  for (const [k, name, v] of [["cpus", "AllowedCPUs", cpus], ["mems", "AllowedMemoryNodes", mems]] as const) {
    if (!v) continue;
    let bits: Buffer;
    try {
      bits = rangeToBits(v);
    } catch (err) {
      throw new ConfigError(`${JSON.stringify(v)} conversion error: ${(err as Error).message}`, [], { where: field(k) });
    }
    out.add(prop(name, "ay", bits));
  }
}

// --------------------------------------------------------------- devices ----
/** "c 136:* rwm" needs the group name of major 136 from /proc/devices ("char-pts"). */
export function findDeviceGroup(procDevices: string, type: "b" | "c", major: number): string | undefined {
  let current: string | undefined;
  for (const raw of procDevices.split("\n")) {
    const line = raw.trim();
    if (line === "Character devices:") current = "c";
    else if (line === "Block devices:") current = "b";
    else if (line !== "" && current === type) {
      const m = /^(\d+)\s+(\S+)$/.exec(line);
      if (m && Number(m[1]) === major) return `${type === "b" ? "block" : "char"}-${m[2]}`;
    }
  }
  return undefined;
}

/**
 * DevicePolicy + DeviceAllow for the device rules (runc's
 * generateDeviceProperties). systemd has no deny lists: a deny-list other than
 * "allow everything" becomes strict with nothing allowed (the cgroup's own
 * device program / devices.list then has the real rules, as with runc).
 */
export function deviceProperties(devices: NonNullable<LinuxResources["devices"]>, facts: SystemdFacts, out: Collector): void {
  const target = DeviceEmulator.fromRules(parseDeviceRules(devices));
  if (target.isBlacklist()) {
    if (target.rules.size === 0) {
      out.add(prop("DevicePolicy", "s", "auto"), prop("DeviceAllow", "a(ss)", []));
      return;
    }
    out.warn("systemd doesn't support blacklist device rules -- applying temporary deny-all rule");
    out.add(prop("DevicePolicy", "s", "strict"), prop("DeviceAllow", "a(ss)", []));
    return;
  }
  out.add(prop("DevicePolicy", "s", "strict"), prop("DeviceAllow", "a(ss)", []));
  const allow: DBusValue[] = [];
  for (const r of new DeviceEmulator().transition(target)) {
    if (r.type === "a" || !r.allow) continue; // cannot happen from an empty whitelist
    const rule = `${r.type} ${r.major < 0 ? "*" : r.major}:${r.minor < 0 ? "*" : r.minor} ${r.access}`;
    let path: string;
    if (r.major < 0) {
      if (r.minor >= 0) {
        out.note(`systemd doesn't support '*:n' device rules -- temporarily ignoring rule: ${rule}`);
        continue;
      }
      path = `${r.type === "b" ? "block" : "char"}-*`;
    } else if (r.minor < 0) {
      const group = findDeviceGroup(facts.procDevices(), r.type, r.major);
      if (!group) {
        out.note(`could not find device group for '${r.type}/${r.major}' in /proc/devices -- temporarily ignoring rule: ${rule}`);
        continue;
      }
      path = group;
    } else {
      path = `/dev/${r.type === "b" ? "block" : "char"}/${r.major}:${r.minor}`;
      // systemd parses /dev/{block,char}/M:m itself; runc skips devices that exist in neither place
      if (!facts.exists(path) && !facts.exists("/sys" + path)) {
        out.note(`skipping device ${path} for systemd: it does not exist`);
        continue;
      }
    }
    allow.push([path, r.access]);
  }
  out.add(prop("DeviceAllow", "a(ss)", allow));
}

// ---------------------------------------------------------------- cpu ----
/**
 * CPUQuotaPerSecUSec (and CPUQuotaPeriodUSec from systemd 242): runc's
 * addCPUQuota. systemd keeps the quota per second; runc rounds it up to whole
 * 10 ms and returns the quota that matches, which then also goes to the files
 * (as runc >= 1.2 does), so systemd and the kernel agree.
 */
export function cpuQuotaProps(out: Collector, quota: bigint, period: bigint): bigint {
  if (period !== 0n) {
    if (out.version >= PERIOD_SINCE) out.add(prop("CPUQuotaPeriodUSec", "t", period));
    else out.note(`systemd v${out.version} is too old for CPUQuotaPeriodUSec (the cgroup files still get the period)`);
  }
  if (quota === 0n && period === 0n) return quota;
  let perSec = UINT64_MAX;
  let q = quota;
  if (quota > 0n) {
    const p = period === 0n ? DEFAULT_PERIOD : period;
    perSec = BigInt.asUintN(64, quota * 1000000n) / p;
    if (perSec % 10000n !== 0n) {
      perSec = (perSec / 10000n + 1n) * 10000n;
      q = (perSec * p) / 1000000n;
    }
  }
  out.add(prop("CPUQuotaPerSecUSec", "t", perSec));
  return q;
}

/** The quota the files get under the systemd driver (rounded as cpuQuotaProps rounds it). */
export function alignQuota(r: LinuxResources): LinuxResources {
  const c = r.cpu;
  if (!c || !isSet(c.quota) || int64(c.quota) <= 0n) return r;
  const scratch = new Collector(PERIOD_SINCE);
  const q = cpuQuotaProps(scratch, int64(c.quota), isSet(c.period) ? uint64(c.period) : 0n);
  if (q === int64(c.quota)) return r;
  return { ...r, cpu: { ...c, quota: q <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(q) : q } };
}

// ---------------------------------------------------------------- unified ----
function unifiedProps(out: Collector, unified: Record<string, string>): void {
  for (const [key, raw] of Object.entries(unified)) {
    const where = `${F}.unified.${key}`;
    if (key.includes("/")) throw new ConfigError(`unified resource ${JSON.stringify(key)} must be a file name (no slashes)`, [], { where });
    if (key.indexOf(".") <= 0) throw new ConfigError(`unified resource ${JSON.stringify(key)} must be in the form CONTROLLER.PARAMETER`, [], { where });
    const v = raw.trim();
    const bad = (why: string) => new ConfigError(`unified resource ${JSON.stringify(key)} value conversion error: ${why}`, [], { where });
    const parseU64 = (s: string): bigint => {
      if (!/^\d+$/.test(s) || BigInt(s) > UINT64_MAX) throw bad(`invalid value ${JSON.stringify(s)}`);
      return BigInt(s);
    };
    switch (key) {
      case "cpu.max": {
        const f = v.split(/\s+/).filter(Boolean);
        if (f.length < 1 || f.length > 2) throw new ConfigError(`unified resource ${JSON.stringify(key)} value invalid: ${JSON.stringify(v)}`, [], { where });
        let quota = 0n;
        if (f[0] !== "max") {
          if (!/^[+-]?\d+$/.test(f[0]!)) throw bad(`invalid quota ${JSON.stringify(f[0])}`);
          quota = BigInt(f[0]!);
        }
        const period = f.length === 2 ? parseU64(f[1]!) : DEFAULT_PERIOD;
        cpuQuotaProps(out, quota, period);
        break;
      }
      case "cpu.weight":
        out.add(prop("CPUWeight", "t", parseU64(v)));
        break;
      case "cpuset.cpus":
      case "cpuset.mems":
        cpusetProps(out, key === "cpuset.cpus" ? v : undefined, key === "cpuset.mems" ? v : undefined, () => where);
        break;
      case "memory.high":
      case "memory.low":
      case "memory.min":
      case "memory.max":
      case "memory.swap.max": {
        const names: Record<string, string> = { "memory.high": "MemoryHigh", "memory.low": "MemoryLow", "memory.min": "MemoryMin", "memory.max": "MemoryMax", "memory.swap.max": "MemorySwapMax" };
        out.add(prop(names[key]!, "t", v === "max" ? UINT64_MAX : parseU64(v)));
        break;
      }
      case "pids.max":
        out.add(prop("TasksMax", "t", v === "max" ? UINT64_MAX : parseU64(v)));
        break;
      default:
        out.note(`don't know how to convert unified resource ${JSON.stringify(key)} to a systemd unit property (the cgroup file still gets it)`);
    }
  }
}

// -------------------------------------------------------------- resources ----
export class Collector {
  properties: UnitProperty[] = [];
  notes: string[] = [];
  warnings: string[] = [];
  constructor(readonly version: number) {}
  add(...p: UnitProperty[]): void {
    this.properties.push(...p);
  }
  note(s: string): void {
    this.notes.push(s);
  }
  warn(s: string): void {
    this.warnings.push(s);
  }
}

const dev = (d: { major: Int; minor: Int }) => `/dev/block/${int64(d.major)}:${int64(d.minor)}`;

/** Per-device I/O settings: only devices systemd can find under /dev/block (udev's links). */
function ioDeviceProps<T extends { major: Int; minor: Int }>(out: Collector, facts: SystemdFacts, name: string, list: T[] | undefined, value: (d: T) => bigint | undefined): void {
  const entries: DBusValue[] = [];
  for (const d of list ?? []) {
    const v = value(d);
    if (v === undefined) continue;
    const path = dev(d);
    if (!facts.exists(path)) {
      out.note(`${name}: skipping ${path} for systemd: it does not exist (the cgroup file still gets it)`);
      continue;
    }
    entries.push([path, v]);
  }
  if (entries.length) out.add(prop(name, "a(st)", entries));
}

/**
 * The resource properties (runc's genV1ResourcesProperties /
 * genV2ResourcesProperties), plus the I/O ones runc leaves to the files:
 * IOWeight, IODeviceWeight, IO{Read,Write}{Bandwidth,IOPS}Max on v2 and
 * BlockIOWeight, BlockIODeviceWeight, BlockIO{Read,Write}Bandwidth on v1.
 * Fields left out of `r` give no property (update passes what changed and
 * what it keeps). `devices: false` leaves DevicePolicy/DeviceAllow alone.
 */
export function resourceProperties(r: LinuxResources, mode: CgroupMode, facts: SystemdFacts, opts: { devices: boolean }): PlannedProperties {
  const out = new Collector(facts.version);
  const v2 = mode === "v2";
  if (opts.devices && r.devices) deviceProperties(r.devices, facts, out);

  const m = r.memory;
  const limit = m && isSet(m.limit) ? int64(m.limit) : 0n;
  if (limit !== 0n) out.add(prop(v2 ? "MemoryMax" : "MemoryLimit", "t", wrap(limit)));
  if (v2 && m) {
    if (isSet(m.reservation) && int64(m.reservation) !== 0n) out.add(prop("MemoryLow", "t", wrap(m.reservation)));
    const swapSpec = isSet(m.swap) ? int64(m.swap) : 0n;
    const swap = memorySwapToV2(swapSpec, limit);
    if (swap !== 0n) out.add(prop("MemorySwapMax", "t", BigInt.asUintN(64, swap)));
    // memory == memory+swap: no swap, which the files get as "0" (runc leaves systemd at infinity)
    else if (swapSpec > 0n) out.add(prop("MemorySwapMax", "t", 0n));
  }

  const c = r.cpu;
  if (c) {
    let idle = false;
    if (v2 && isSet(c.idle) && int64(c.idle) === 1n) {
      if (facts.version >= CPU_IDLE_SINCE) {
        out.add(prop("CPUWeight", "t", 0n));
        idle = true;
      } else out.note(`systemd v${facts.version} is too old for CPUWeight=idle (cpu.idle still gets it)`);
    }
    if (isSet(c.shares) && uint64(c.shares) !== 0n) {
      if (!v2) out.add(prop("CPUShares", "t", uint64(c.shares)));
      else if (idle) out.warn("unable to apply both CPUWeight and CpuIdle to systemd, ignoring CPUWeight");
      else out.add(prop("CPUWeight", "t", cpuSharesToWeight(uint64(c.shares))));
    }
    cpuQuotaProps(out, isSet(c.quota) ? int64(c.quota) : 0n, isSet(c.period) ? uint64(c.period) : 0n);
  }

  const b = r.blockIO;
  if (b) {
    if (isSet(b.weight) && uint64(b.weight) !== 0n) {
      out.add(v2 ? prop("IOWeight", "t", blkioWeightToIoWeight(uint64(b.weight))) : prop("BlockIOWeight", "t", uint64(b.weight)));
    }
    const weight = (d: { weight?: Int }) => (isSet(d.weight) && uint64(d.weight) !== 0n ? (v2 ? blkioWeightToIoWeight(uint64(d.weight)) : uint64(d.weight)) : undefined);
    const rate = (d: { rate: Int }) => uint64(d.rate);
    ioDeviceProps(out, facts, v2 ? "IODeviceWeight" : "BlockIODeviceWeight", b.weightDevice, weight);
    ioDeviceProps(out, facts, v2 ? "IOReadBandwidthMax" : "BlockIOReadBandwidth", b.throttleReadBpsDevice, rate);
    ioDeviceProps(out, facts, v2 ? "IOWriteBandwidthMax" : "BlockIOWriteBandwidth", b.throttleWriteBpsDevice, rate);
    if (v2) {
      ioDeviceProps(out, facts, "IOReadIOPSMax", b.throttleReadIOPSDevice, rate);
      ioDeviceProps(out, facts, "IOWriteIOPSMax", b.throttleWriteIOPSDevice, rate);
    }
  }

  if (r.pids && isSet(r.pids.limit)) {
    const l = int64(r.pids.limit);
    // systemd does not take TasksMax=0; the files get 1 too
    out.add(prop("TasksMax", "t", l < 0n ? UINT64_MAX : l === 0n ? 1n : l));
  }

  if (c) cpusetProps(out, c.cpus, c.mems, (k) => `${F}.cpu.${k}`);

  if (v2 && r.unified) unifiedProps(out, r.unified);
  return { properties: out.properties, notes: out.notes, warnings: out.warnings };
}
