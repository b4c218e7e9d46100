// Pure planners: spec resources + what the live cgroup looks like -> the
// ordered list of cgroup file writes. The order follows runc's subsystems
// (v1: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio,
// rdma; v2: pids, memory, io, cpu, devices, cpuset, hugetlb, rdma, unified),
// and within a controller the order the kernel accepts.
import { ConfigError, HostError, SetupError } from "../../errors";
import { blkioWeightToIoWeight, cpuSharesToWeight, int64, memorySwapToV2, uint64, v2Limit } from "./convert";
import { deviceWritesV1, parseDeviceRules } from "./devices";
import type { CgroupMode, CgroupSnapshot, CgroupWrite, DeviceRule, Int, LinuxResources, PlannedResources } from "./types";

const F = "linux.resources";

/** A newly created cgroup, for plans made before the directories exist. */
export const FRESH_SNAPSHOT: Readonly<Record<"v1" | "v2", CgroupSnapshot>> = {
  v1: {
    memoryLimit: 9223372036854771712n,
    memoryUsage: 0n,
    hasMemsw: true,
    hasKmemTcp: true,
    devicesList: "a *:* rwm\n",
    // CFQ (and with it blkio.weight) left the kernel in 5.0.
    blkioWeightFile: "blkio.bfq.weight",
    cpusetPrefix: "cpuset.",
  },
  v2: {
    memoryLimit: (1n << 64n) - 1n,
    memoryUsage: 0n,
    ioBfqWeight: false,
    ioBfqPerDevice: false,
  },
};

export interface ResourceTarget {
  mode: CgroupMode;
  /** The plan's paths: a key present means the hierarchy is there. */
  paths: Record<string, string>;
}

class Writer {
  writes: CgroupWrite[] = [];
  warnings: string[] = [];
  constructor(readonly target: ResourceTarget) {}

  /** Fails naming the field when the controller the field needs is not mounted. */
  need(hierarchy: string, field: string): void {
    if (this.target.paths[hierarchy] === undefined) {
      const what = hierarchy === "" ? "cgroup2" : `the ${hierarchy} cgroup controller`;
      throw new HostError(`${what} is not mounted on this host`, { where: field });
    }
  }

  add(hierarchy: string, file: string, value: string, field: string, extra: Partial<CgroupWrite> = {}): void {
    this.need(hierarchy, field);
    this.writes.push({ hierarchy, file, value, field, ...extra });
  }

  warn(field: string, why: string): void {
    this.warnings.push(`${field}: ${why}`);
  }
}

const isSet = (v: Int | undefined | null): v is Int => v !== undefined && v !== null;
const nz = (v: Int | undefined | null): boolean => isSet(v) && int64(v) !== 0n;
const dev = (d: { major: Int; minor: Int }) => `${int64(d.major)}:${int64(d.minor)}`;

function checkBeforeUpdate(r: LinuxResources, snap: CgroupSnapshot): void {
  const m = r.memory;
  if (!m?.checkBeforeUpdate || snap.memoryUsage === undefined) return;
  const usage = snap.memoryUsage;
  const swap = isSet(m.swap) ? int64(m.swap) : 0n;
  const limit = isSet(m.limit) ? int64(m.limit) : 0n;
  if (swap > 0n && swap <= usage) {
    throw new SetupError(`rejecting memory+swap limit ${swap} <= usage ${usage}`, undefined, { where: `${F}.memory.swap` });
  }
  if (limit > 0n && limit <= usage) {
    throw new SetupError(`rejecting memory limit ${limit} <= usage ${usage}`, undefined, { where: `${F}.memory.limit` });
  }
}

function pidsValue(limit: Int): string {
  const l = int64(limit);
  // systemd cannot set TasksMax=0; runc maps 0 to 1 in both drivers to agree with it.
  if (l > 0n) return l.toString();
  if (l === 0n) return "1";
  return "max";
}

function swappiness(v: Int): string | undefined {
  const s = int64(v);
  if (s === -1n) return undefined;
  if (s < 0n || s > 100n) {
    throw new ConfigError(`invalid memory swappiness value: ${s} (valid range is 0-100)`, [], { where: `${F}.memory.swappiness` });
  }
  return s.toString();
}

// ---------------------------------------------------------------- cgroup v1 ----
function planV1(r: LinuxResources, snap: CgroupSnapshot, w: Writer, deviceRules: DeviceRule[] | undefined): void {
  const cpu = r.cpu;
  if (cpu?.cpus) w.add("cpuset", `${snap.cpusetPrefix ?? "cpuset."}cpus`, cpu.cpus, `${F}.cpu.cpus`);
  if (cpu?.mems) w.add("cpuset", `${snap.cpusetPrefix ?? "cpuset."}mems`, cpu.mems, `${F}.cpu.mems`);

  if (deviceRules) {
    const list = snap.devicesList ?? "a *:* rwm\n";
    for (const d of deviceWritesV1(list, deviceRules)) w.add("devices", d.file, d.value, `${F}.devices`);
  }

  const m = r.memory;
  if (m) {
    checkBeforeUpdate(r, snap);
    const limit = isSet(m.limit) ? int64(m.limit) : 0n;
    let swap = isSet(m.swap) ? int64(m.swap) : 0n;
    // "unlimited memory" without a swap value means unlimited memory+swap too.
    if (limit === -1n && swap === 0n && snap.hasMemsw) swap = -1n;
    const memWrite = () => {
      if (limit !== 0n) w.add("memory", "memory.limit_in_bytes", limit.toString(), `${F}.memory.limit`);
    };
    const swapWrite = () => {
      if (swap !== 0n) {
        w.add("memory", "memory.memsw.limit_in_bytes", swap.toString(), `${F}.memory.swap`, {
          missingHint: "the kernel has no swap accounting (swapaccount=1)",
        });
      }
    };
    // The kernel requires memsw >= limit at every step, so raising goes
    // memsw first and lowering goes limit first.
    const cur = snap.memoryLimit ?? 9223372036854771712n;
    if (limit !== 0n && swap !== 0n && (swap === -1n || cur < swap)) {
      swapWrite();
      memWrite();
    } else {
      memWrite();
      swapWrite();
    }
    if (nz(m.kernel)) w.warn(`${F}.memory.kernel`, "ignored: kernel memory limits are deprecated and no longer enforced by the kernel");
    if (isSet(m.kernelTCP)) {
      if (snap.hasKmemTcp) w.add("memory", "memory.kmem.tcp.limit_in_bytes", int64(m.kernelTCP).toString(), `${F}.memory.kernelTCP`);
      else w.warn(`${F}.memory.kernelTCP`, "ignored: this kernel has no memory.kmem.tcp.limit_in_bytes");
    }
    if (nz(m.reservation)) w.add("memory", "memory.soft_limit_in_bytes", int64(m.reservation!).toString(), `${F}.memory.reservation`);
    if (m.disableOOMKiller) w.add("memory", "memory.oom_control", "1", `${F}.memory.disableOOMKiller`);
    if (isSet(m.swappiness)) {
      const s = swappiness(m.swappiness);
      if (s !== undefined) w.add("memory", "memory.swappiness", s, `${F}.memory.swappiness`);
    }
    if (m.useHierarchy !== undefined) w.add("memory", "memory.use_hierarchy", m.useHierarchy ? "1" : "0", `${F}.memory.useHierarchy`);
  }

  if (cpu) {
    const hasQuota = nz(cpu.quota);
    if (nz(cpu.shares)) w.add("cpu", "cpu.shares", uint64(cpu.shares!).toString(), `${F}.cpu.shares`, { readBack: true });
    // A shorter period can be refused (old quota / new period would exceed the
    // parent's) until the new quota is in: retry after the quota, like runc.
    if (nz(cpu.period)) w.add("cpu", "cpu.cfs_period_us", uint64(cpu.period!).toString(), `${F}.cpu.period`, { deferOnEinval: hasQuota });
    if (isSet(cpu.burst)) {
      w.add("cpu", "cpu.cfs_burst_us", uint64(cpu.burst).toString(), `${F}.cpu.burst`, { deferOnEinval: hasQuota, optional: true });
    }
    if (hasQuota) w.add("cpu", "cpu.cfs_quota_us", int64(cpu.quota!).toString(), `${F}.cpu.quota`);
    if (isSet(cpu.idle)) w.add("cpu", "cpu.idle", int64(cpu.idle).toString(), `${F}.cpu.idle`);
    const hasRuntime = nz(cpu.realtimeRuntime);
    if (nz(cpu.realtimePeriod)) {
      w.add("cpu", "cpu.rt_period_us", uint64(cpu.realtimePeriod!).toString(), `${F}.cpu.realtimePeriod`, {
        deferOnEinval: hasRuntime,
        missingHint: "the kernel lacks CONFIG_RT_GROUP_SCHED",
      });
    }
    if (hasRuntime) {
      w.add("cpu", "cpu.rt_runtime_us", int64(cpu.realtimeRuntime!).toString(), `${F}.cpu.realtimeRuntime`, {
        missingHint: "the kernel lacks CONFIG_RT_GROUP_SCHED",
      });
    }
  }

  if (r.pids && isSet(r.pids.limit)) w.add("pids", "pids.max", pidsValue(r.pids.limit), `${F}.pids.limit`);

  const b = r.blockIO;
  if (b) {
    const weightFile = snap.blkioWeightFile ?? "blkio.bfq.weight";
    const bfqOnly = { missingHint: "blkio weights need a kernel with the BFQ I/O scheduler, CONFIG_BFQ_GROUP_IOSCHED" };
    if (nz(b.weight)) w.add("blkio", weightFile, uint64(b.weight!).toString(), `${F}.blockIO.weight`, bfqOnly);
    const cfqOnly = { missingHint: "leaf weights exist only with the CFQ I/O scheduler, removed in Linux 5.0" };
    if (nz(b.leafWeight)) w.add("blkio", "blkio.leaf_weight", uint64(b.leafWeight!).toString(), `${F}.blockIO.leafWeight`, cfqOnly);
    (b.weightDevice ?? []).forEach((d, i) => {
      const field = `${F}.blockIO.weightDevice[${i}]`;
      if (nz(d.weight)) {
        w.add("blkio", `${weightFile}_device`, `${dev(d)} ${uint64(d.weight!)}`, `${field}.weight`, {
          ...bfqOnly,
          unsupportedHint: `device ${dev(d)} does not use the ${weightFile === "blkio.weight" ? "CFQ" : "BFQ"} I/O scheduler`,
        });
      }
      if (nz(d.leafWeight)) w.add("blkio", "blkio.leaf_weight_device", `${dev(d)} ${uint64(d.leafWeight!)}`, `${field}.leafWeight`, cfqOnly);
    });
    const throttle = (list: typeof b.throttleReadBpsDevice, file: string, name: string) =>
      (list ?? []).forEach((d, i) => w.add("blkio", file, `${dev(d)} ${uint64(d.rate)}`, `${F}.blockIO.${name}[${i}]`));
    throttle(b.throttleReadBpsDevice, "blkio.throttle.read_bps_device", "throttleReadBpsDevice");
    throttle(b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice");
    throttle(b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice");
    throttle(b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice");
  }

  (r.hugepageLimits ?? []).forEach((h, i) => {
    const field = `${F}.hugepageLimits[${i}]`;
    const v = uint64(h.limit).toString();
    w.add("hugetlb", `hugetlb.${h.pageSize}.limit_in_bytes`, v, field, { missingHint: `hugepage size ${h.pageSize} is not supported by the kernel` });
    w.add("hugetlb", `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, v, field, { optional: true });
  });

  const net = r.network;
  if (net && nz(net.classID)) w.add("net_cls", "net_cls.classid", uint64(net.classID!).toString(), `${F}.network.classID`);
  (net?.priorities ?? []).forEach((p, i) =>
    w.add("net_prio", "net_prio.ifpriomap", `${p.name} ${int64(p.priority)}`, `${F}.network.priorities[${i}]`),
  );

  rdmaWrites(r, w, "rdma");

  if (r.unified && Object.keys(r.unified).length > 0) {
    throw new HostError(
      w.target.mode === "hybrid"
        ? "cannot use unified resources on a cgroup v1 host (the hybrid layout's cgroup2 hierarchy has no controllers)"
        : "cannot use unified resources on a cgroup v1 host",
      { where: `${F}.unified` },
    );
  }
}

function rdmaWrites(r: LinuxResources, w: Writer, hierarchy: string): void {
  for (const [device, l] of Object.entries(r.rdma ?? {})) {
    let v = device;
    if (isSet(l.hcaHandles)) v += ` hca_handle=${uint64(l.hcaHandles)}`;
    if (isSet(l.hcaObjects)) v += ` hca_object=${uint64(l.hcaObjects)}`;
    w.add(hierarchy, "rdma.max", v, `${F}.rdma.${device}`);
  }
}

// ---------------------------------------------------------------- cgroup v2 ----
const V2_CONTROLLER_FILES = /^(cpu|cpuset|io|memory|pids|hugetlb|rdma|misc)\./;

function v2Hint(file: string, snap: CgroupSnapshot): string | undefined {
  const m = V2_CONTROLLER_FILES.exec(file);
  if (!m) return undefined;
  const c = m[1]!;
  if (snap.controllers && !snap.controllers.includes(c)) return `the ${c} controller is not enabled for this cgroup`;
  return undefined;
}

function planV2(r: LinuxResources, snap: CgroupSnapshot, w: Writer): DeviceRule[] | undefined {
  const add = (file: string, value: string, field: string, extra: Partial<CgroupWrite> = {}) => {
    const hint = v2Hint(file, snap);
    w.add("", file, value, field, hint ? { missingHint: hint, ...extra } : extra);
  };

  if (r.pids && isSet(r.pids.limit)) add("pids.max", pidsValue(r.pids.limit), `${F}.pids.limit`);

  const m = r.memory;
  if (m) {
    const limit = isSet(m.limit) ? int64(m.limit) : 0n;
    const swapSpec = isSet(m.swap) ? int64(m.swap) : 0n;
    const reservation = isSet(m.reservation) ? int64(m.reservation) : 0n;
    if (limit !== 0n || swapSpec !== 0n || reservation !== 0n) {
      checkBeforeUpdate(r, snap);
      const swap = memorySwapToV2(swapSpec, limit);
      let swapStr = v2Limit(swap);
      // memory == memory+swap: no swap at all.
      if (swapStr === "" && swap === 0n && swapSpec > 0n) swapStr = "0";
      if (swapStr !== "") {
        // Without swap accounting, "max" and "0" are what the host does anyway.
        add("memory.swap.max", swapStr, `${F}.memory.swap`, { optional: swapStr === "max" || swapStr === "0" });
      }
      const max = v2Limit(limit);
      if (max !== "") add("memory.max", max, `${F}.memory.limit`);
      const low = v2Limit(reservation);
      if (low !== "") add("memory.low", low, `${F}.memory.reservation`);
    }
    if (nz(m.kernel)) w.warn(`${F}.memory.kernel`, "ignored: kernel memory limits do not exist in cgroup v2");
    if (isSet(m.kernelTCP)) w.warn(`${F}.memory.kernelTCP`, "ignored: kernel TCP memory limits do not exist in cgroup v2");
    if (isSet(m.swappiness) && int64(m.swappiness) !== -1n) w.warn(`${F}.memory.swappiness`, "ignored on cgroup v2");
    if (m.disableOOMKiller) w.warn(`${F}.memory.disableOOMKiller`, "ignored: cgroup v2 cannot disable the OOM killer");
    if (m.useHierarchy === false) w.warn(`${F}.memory.useHierarchy`, "ignored: cgroup v2 is always hierarchical");
  }

  const b = r.blockIO;
  if (b) {
    if (nz(b.weight)) {
      const weight = uint64(b.weight!);
      if (snap.ioBfqWeight) add("io.bfq.weight", weight.toString(), `${F}.blockIO.weight`);
      else add("io.weight", blkioWeightToIoWeight(weight).toString(), `${F}.blockIO.weight`);
    }
    if (nz(b.leafWeight)) w.warn(`${F}.blockIO.leafWeight`, "ignored: leaf weights do not exist in cgroup v2");
    (b.weightDevice ?? []).forEach((d, i) => {
      const field = `${F}.blockIO.weightDevice[${i}]`;
      if (nz(d.weight)) {
        if (snap.ioBfqPerDevice) add("io.bfq.weight", `${dev(d)} ${uint64(d.weight!)}`, `${field}.weight`, { unsupportedHint: `device ${dev(d)} does not use the BFQ I/O scheduler` });
        else w.warn(`${field}.weight`, "ignored: per-device weights need the BFQ scheduler with io.bfq.weight (Linux 5.4+)");
      }
      if (nz(d.leafWeight)) w.warn(`${field}.leafWeight`, "ignored: leaf weights do not exist in cgroup v2");
    });
    const throttle = (list: typeof b.throttleReadBpsDevice, key: string, name: string) =>
      (list ?? []).forEach((d, i) => add("io.max", `${dev(d)} ${key}=${uint64(d.rate)}`, `${F}.blockIO.${name}[${i}]`));
    throttle(b.throttleReadBpsDevice, "rbps", "throttleReadBpsDevice");
    throttle(b.throttleWriteBpsDevice, "wbps", "throttleWriteBpsDevice");
    throttle(b.throttleReadIOPSDevice, "riops", "throttleReadIOPSDevice");
    throttle(b.throttleWriteIOPSDevice, "wiops", "throttleWriteIOPSDevice");
  }

  const cpu = r.cpu;
  if (cpu) {
    if (isSet(cpu.idle)) add("cpu.idle", int64(cpu.idle).toString(), `${F}.cpu.idle`);
    if (nz(cpu.shares)) add("cpu.weight", cpuSharesToWeight(uint64(cpu.shares!)).toString(), `${F}.cpu.shares`);
    const quota = isSet(cpu.quota) ? int64(cpu.quota) : 0n;
    const period = isSet(cpu.period) ? uint64(cpu.period) : 0n;
    if (isSet(cpu.burst)) add("cpu.max.burst", uint64(cpu.burst).toString(), `${F}.cpu.burst`, { deferOnEinval: quota !== 0n });
    if (quota !== 0n || period !== 0n) {
      const q = quota > 0n ? quota.toString() : "max";
      add("cpu.max", `${q} ${period === 0n ? 100000n : period}`, quota !== 0n ? `${F}.cpu.quota` : `${F}.cpu.period`);
    }
    if (nz(cpu.realtimeRuntime) || nz(cpu.realtimePeriod)) {
      w.warn(`${F}.cpu.realtimeRuntime`, "ignored: cgroup v2 has no realtime group scheduling knobs");
    }
  }

  const rules = r.devices ? parseDeviceRules(r.devices) : undefined;

  if (cpu?.cpus) add("cpuset.cpus", cpu.cpus, `${F}.cpu.cpus`);
  if (cpu?.mems) add("cpuset.mems", cpu.mems, `${F}.cpu.mems`);

  (r.hugepageLimits ?? []).forEach((h, i) => {
    const field = `${F}.hugepageLimits[${i}]`;
    const v = uint64(h.limit).toString();
    add(`hugetlb.${h.pageSize}.max`, v, field, { missingHint: v2Hint("hugetlb.max", snap) ?? `hugepage size ${h.pageSize} is not supported by the kernel` });
    add(`hugetlb.${h.pageSize}.rsvd.max`, v, field, { optional: true });
  });

  rdmaWrites(r, w, "");

  const net = r.network;
  if (net && (nz(net.classID) || (net.priorities ?? []).length > 0)) {
    w.warn(`${F}.network`, "ignored: net_cls and net_prio do not exist in cgroup v2");
  }

  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const field = `${F}.unified.${key}`;
    if (key.includes("/")) throw new ConfigError(`unified resource ${JSON.stringify(key)} must be a file name (no slashes)`, [], { where: field });
    const dot = key.indexOf(".");
    if (dot <= 0) throw new ConfigError(`unified resource ${JSON.stringify(key)} must be in the form CONTROLLER.PARAMETER`, [], { where: field });
    const c = key.slice(0, dot);
    const hint =
      c !== "cgroup" && snap.controllers && !snap.controllers.includes(c) ? `controller ${JSON.stringify(c)} not available` : undefined;
    w.add("", key, value, field, { byLine: true, ...(hint ? { missingHint: hint } : {}) });
  }
  return rules;
}

/**
 * Pure: the writes for `resources` on a cgroup whose live state is `snap`.
 * Fields left out of `resources` are not touched (so `update` can pass a
 * partial object); `devices`, when present, is the complete list.
 */
export function planResources(resources: LinuxResources, target: ResourceTarget, snap: CgroupSnapshot): PlannedResources {
  const w = new Writer(target);
  if (target.mode === "v2") {
    const deviceRules = planV2(resources, snap, w);
    return { writes: w.writes, warnings: w.warnings, ...(deviceRules ? { deviceRules } : {}) };
  }
  const rules = resources.devices ? parseDeviceRules(resources.devices) : undefined;
  planV1(resources, snap, w, rules);
  return { writes: w.writes, warnings: w.warnings };
}
