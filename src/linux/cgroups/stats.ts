// Statistics for `events --stats`, read the way runc reads them and shaped as
// runc's types.Stats JSON (github.com/opencontainers/runc/types/events.go).
// uint64 counters are bigints: limits such as 2^64-1 do not fit a double.
import { codeOf } from "./errno";
import { join, type CgroupFs } from "./fsio";
import type { CgroupMode } from "./types";

export interface MemoryEntry {
  limit: bigint;
  usage: bigint;
  max: bigint;
  failcnt: bigint;
}

export interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

export interface PSIData {
  avg10: number;
  avg60: number;
  avg300: number;
  total: bigint;
}

export interface PSIStats {
  some: PSIData;
  full: PSIData;
}

export interface CgroupStats {
  cpu: {
    usage: {
      total: bigint;
      /** undefined = not available (Go nil), [] = available but empty. */
      percpu?: bigint[];
      percpuKernel?: bigint[];
      percpuUser?: bigint[];
      kernel: bigint;
      user: bigint;
    };
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint };
    psi?: PSIStats;
  };
  cpuset: {
    cpus: number[];
    cpuExclusive: bigint;
    mems: number[];
    memHardwall: bigint;
    memExclusive: bigint;
    memoryMigrate: bigint;
    memorySpreadPage: bigint;
    memorySpreadSlab: bigint;
    memoryPressure: bigint;
    schedLoadBalance: bigint;
    schedRelaxDomainLevel: bigint;
  };
  memory: {
    cache: bigint;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw: Record<string, bigint>;
    psi?: PSIStats;
  };
  pids: { current: bigint; limit: bigint };
  blkio: {
    ioServiceBytesRecursive: BlkioEntry[];
    ioServicedRecursive: BlkioEntry[];
    ioQueuedRecursive: BlkioEntry[];
    ioServiceTimeRecursive: BlkioEntry[];
    ioWaitTimeRecursive: BlkioEntry[];
    ioMergedRecursive: BlkioEntry[];
    ioTimeRecursive: BlkioEntry[];
    sectorsRecursive: BlkioEntry[];
    psi?: PSIStats;
  };
  hugetlb: Record<string, { usage: bigint; max: bigint; failcnt: bigint }>;
}

const UINT64_MAX = (1n << 64n) - 1n;
const emptyEntry = (): MemoryEntry => ({ limit: 0n, usage: 0n, max: 0n, failcnt: 0n });

export function emptyStats(): CgroupStats {
  return {
    cpu: { usage: { total: 0n, kernel: 0n, user: 0n }, throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n } },
    cpuset: {
      cpus: [],
      cpuExclusive: 0n,
      mems: [],
      memHardwall: 0n,
      memExclusive: 0n,
      memoryMigrate: 0n,
      memorySpreadPage: 0n,
      memorySpreadSlab: 0n,
      memoryPressure: 0n,
      schedLoadBalance: 0n,
      schedRelaxDomainLevel: 0n,
    },
    memory: { cache: 0n, usage: emptyEntry(), swap: emptyEntry(), kernel: emptyEntry(), kernelTCP: emptyEntry(), raw: {} },
    pids: { current: 0n, limit: 0n },
    blkio: {
      ioServiceBytesRecursive: [],
      ioServicedRecursive: [],
      ioQueuedRecursive: [],
      ioServiceTimeRecursive: [],
      ioWaitTimeRecursive: [],
      ioMergedRecursive: [],
      ioTimeRecursive: [],
      sectorsRecursive: [],
    },
    hugetlb: {},
  };
}

// ------------------------------------------------------------- file helpers ----
class Reader {
  constructor(private readonly fs: CgroupFs) {}

  /** undefined when the file does not exist (a knob this kernel lacks). */
  text(dir: string, file: string): string | undefined {
    try {
      return this.fs.readFile(join(dir, file));
    } catch (err) {
      const code = codeOf(err);
      if (code === "ENOENT" || code === "ENODEV") return undefined;
      throw err;
    }
  }

  /**
   * A *.pressure file: undefined when PSI is not there, as runc's statPSI: no file
   * (no CONFIG_PSI, or "0" in cgroup.pressure), or a read the kernel refuses with
   * EOPNOTSUPP (CONFIG_PSI_DEFAULT_DISABLED without psi=1).
   */
  pressure(dir: string, file: string): string | undefined {
    try {
      return this.text(dir, file);
    } catch (err) {
      const code = codeOf(err);
      if (code === "EOPNOTSUPP" || code === "ENOTSUP") return undefined;
      throw err;
    }
  }

  /** Negative values read as 0 (kernel accounting bugs), "max" as 2^64-1. */
  uint(dir: string, file: string): bigint | undefined {
    const t = this.text(dir, file);
    return t === undefined ? undefined : parseUintValue(t.trim());
  }

  keyed(dir: string, file: string): Record<string, bigint> | undefined {
    const t = this.text(dir, file);
    if (t === undefined) return undefined;
    const out: Record<string, bigint> = {};
    for (const line of t.split("\n")) {
      const i = line.indexOf(" ");
      if (i <= 0) continue;
      out[line.slice(0, i)] = parseUintValue(line.slice(i + 1).trim());
    }
    return out;
  }
}

function parseUintValue(s: string): bigint {
  if (s === "max") return UINT64_MAX;
  if (/^-\d+$/.test(s)) return 0n;
  if (!/^\d+$/.test(s)) return 0n;
  const v = BigInt(s);
  return v > UINT64_MAX ? UINT64_MAX : v;
}

/** "0-3,5" -> [0,1,2,3,5] */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(",")) {
    if (!part) continue;
    const [a, b] = part.split("-");
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

function parsePSI(text: string | undefined): PSIStats | undefined {
  if (text === undefined) return undefined;
  const zero = (): PSIData => ({ avg10: 0, avg60: 0, avg300: 0, total: 0n });
  const psi: PSIStats = { some: zero(), full: zero() };
  for (const line of text.split("\n")) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== "some" && kind !== "full") continue;
    const d = psi[kind];
    for (const f of fields) {
      const [k, v] = f.split("=");
      if (k === "total") d.total = BigInt(v ?? "0");
      else if (k === "avg10" || k === "avg60" || k === "avg300") d[k] = Number(v);
    }
  }
  return psi;
}

// ------------------------------------------------------------------ cgroup v1 ----
const NS_PER_TICK = 1_000_000_000n / 100n; // USER_HZ is 100 on Linux

function v1Cpu(r: Reader, s: CgroupStats, cpu: string | undefined, cpuacct: string | undefined): void {
  if (cpu) {
    const st = r.keyed(cpu, "cpu.stat");
    if (st) {
      s.cpu.throttling.periods = st["nr_periods"] ?? 0n;
      s.cpu.throttling.throttledPeriods = st["nr_throttled"] ?? 0n;
      s.cpu.throttling.throttledTime = st["throttled_time"] ?? 0n;
    }
  }
  if (!cpuacct) return;
  const stat = r.text(cpuacct, "cpuacct.stat");
  if (stat === undefined) return;
  const f = stat.trim().split(/\s+/);
  if (f[0] === "user" && f[2] === "system") {
    s.cpu.usage.user = parseUintValue(f[1]!) * NS_PER_TICK;
    s.cpu.usage.kernel = parseUintValue(f[3]!) * NS_PER_TICK;
  }
  s.cpu.usage.total = r.uint(cpuacct, "cpuacct.usage") ?? 0n;
  const percpu = r.text(cpuacct, "cpuacct.usage_percpu");
  s.cpu.usage.percpu = percpu === undefined ? [] : percpu.trim().split(/\s+/).filter(Boolean).map(parseUintValue);
  const all = r.text(cpuacct, "cpuacct.usage_all");
  s.cpu.usage.percpuKernel = [];
  s.cpu.usage.percpuUser = [];
  if (all !== undefined) {
    for (const line of all.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 3) continue;
      s.cpu.usage.percpuUser.push(parseUintValue(cols[1]!));
      s.cpu.usage.percpuKernel.push(parseUintValue(cols[2]!));
    }
  }
}

function v1Cpuset(r: Reader, s: CgroupStats, dir: string): void {
  const p = r.text(dir, "cpuset.cpus") !== undefined ? "cpuset." : "";
  const c = s.cpuset;
  c.cpus = parseCpuList(r.text(dir, `${p}cpus`) ?? "");
  c.mems = parseCpuList(r.text(dir, `${p}mems`) ?? "");
  c.cpuExclusive = r.uint(dir, `${p}cpu_exclusive`) ?? 0n;
  c.memHardwall = r.uint(dir, `${p}mem_hardwall`) ?? 0n;
  c.memExclusive = r.uint(dir, `${p}mem_exclusive`) ?? 0n;
  c.memoryMigrate = r.uint(dir, `${p}memory_migrate`) ?? 0n;
  c.memorySpreadPage = r.uint(dir, `${p}memory_spread_page`) ?? 0n;
  c.memorySpreadSlab = r.uint(dir, `${p}memory_spread_slab`) ?? 0n;
  c.memoryPressure = r.uint(dir, `${p}memory_pressure`) ?? 0n;
  c.schedLoadBalance = r.uint(dir, `${p}sched_load_balance`) ?? 0n;
  const lvl = r.text(dir, `${p}sched_relax_domain_level`);
  c.schedRelaxDomainLevel = lvl === undefined ? 0n : BigInt(lvl.trim() || "0");
}

function v1MemoryData(r: Reader, dir: string, name: string): MemoryEntry {
  const mod = name ? `memory.${name}` : "memory";
  const usage = r.uint(dir, `${mod}.usage_in_bytes`);
  if (usage === undefined) return emptyEntry(); // swap and kmem accounting are optional
  return {
    usage,
    max: r.uint(dir, `${mod}.max_usage_in_bytes`) ?? 0n,
    failcnt: r.uint(dir, `${mod}.failcnt`) ?? 0n,
    limit: r.uint(dir, `${mod}.limit_in_bytes`) ?? 0n,
  };
}

function v1Memory(r: Reader, s: CgroupStats, dir: string): void {
  const raw = r.keyed(dir, "memory.stat");
  if (!raw) return;
  s.memory.raw = raw;
  s.memory.cache = raw["cache"] ?? 0n;
  s.memory.usage = v1MemoryData(r, dir, "");
  s.memory.swap = v1MemoryData(r, dir, "memsw");
  s.memory.kernel = v1MemoryData(r, dir, "kmem");
  s.memory.kernelTCP = v1MemoryData(r, dir, "kmem.tcp");
}

function pidsInto(r: Reader, s: CgroupStats, dir: string): void {
  const current = r.uint(dir, "pids.current");
  if (current === undefined) {
    // v2 without the pids controller enabled: count the members.
    const procs = r.text(dir, "cgroup.procs") ?? "";
    s.pids.current = BigInt(procs.split("\n").filter(Boolean).length);
    s.pids.limit = 0n;
    return;
  }
  const max = r.uint(dir, "pids.max") ?? 0n;
  s.pids.current = current;
  // runc reports "no limit" as 0.
  s.pids.limit = max === UINT64_MAX ? 0n : max;
}

function parseBlkio(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(/[ :]/).filter(Boolean);
    if (f.length < 3) continue; // "Total N"
    const op = f.length === 4 ? f[2]! : "";
    out.push({ major: BigInt(f[0]!), minor: BigInt(f[1]!), op, value: parseUintValue(f[f.length - 1]!) });
  }
  return out;
}

type BlkioKey = Exclude<keyof CgroupStats["blkio"], "psi">;

function v1Blkio(r: Reader, s: CgroupStats, dir: string): void {
  // runc's preference: BFQ debug stats, BFQ, CFQ, throttle (recursive), throttle.
  const groups: [string, BlkioKey][][] = [
    [
      ["blkio.bfq.sectors_recursive", "sectorsRecursive"],
      ["blkio.bfq.io_service_time_recursive", "ioServiceTimeRecursive"],
      ["blkio.bfq.io_wait_time_recursive", "ioWaitTimeRecursive"],
      ["blkio.bfq.io_merged_recursive", "ioMergedRecursive"],
      ["blkio.bfq.io_queued_recursive", "ioQueuedRecursive"],
      ["blkio.bfq.time_recursive", "ioTimeRecursive"],
      ["blkio.bfq.io_serviced_recursive", "ioServicedRecursive"],
      ["blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive"],
    ],
    [
      ["blkio.bfq.io_serviced_recursive", "ioServicedRecursive"],
      ["blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive"],
    ],
    [
      ["blkio.sectors_recursive", "sectorsRecursive"],
      ["blkio.io_service_time_recursive", "ioServiceTimeRecursive"],
      ["blkio.io_wait_time_recursive", "ioWaitTimeRecursive"],
      ["blkio.io_merged_recursive", "ioMergedRecursive"],
      ["blkio.io_queued_recursive", "ioQueuedRecursive"],
      ["blkio.time_recursive", "ioTimeRecursive"],
      ["blkio.io_serviced_recursive", "ioServicedRecursive"],
      ["blkio.io_service_bytes_recursive", "ioServiceBytesRecursive"],
    ],
    [
      ["blkio.throttle.io_serviced_recursive", "ioServicedRecursive"],
      ["blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive"],
    ],
    [
      ["blkio.throttle.io_serviced", "ioServicedRecursive"],
      ["blkio.throttle.io_service_bytes", "ioServiceBytesRecursive"],
    ],
  ];
  for (const group of groups) {
    const first = r.text(dir, group[0]![0]);
    if (first === undefined) continue;
    for (const [file, key] of group) {
      const t = file === group[0]![0] ? first : r.text(dir, file);
      s.blkio[key] = t === undefined ? [] : parseBlkio(t);
    }
    return;
  }
}

/** Page sizes from the files themselves (hugetlb.2MB.limit_in_bytes / hugetlb.2MB.max). */
function hugePageSizes(fs: CgroupFs, dir: string, suffix: string): string[] {
  const re = new RegExp(`^hugetlb\\.([0-9]+[KMG]B)\\.${suffix.replace(/\./g, "\\.")}$`);
  const sizes: string[] = [];
  for (const e of fs.list(dir)) {
    const m = re.exec(e.name);
    if (m && !e.isDir) sizes.push(m[1]!);
  }
  return sizes;
}

function v1Hugetlb(fs: CgroupFs, r: Reader, s: CgroupStats, dir: string): void {
  for (const size of hugePageSizes(fs, dir, "limit_in_bytes")) {
    // runc reads the reservation counters when the kernel has them.
    let prefix = `hugetlb.${size}.rsvd`;
    let usage = r.uint(dir, `${prefix}.usage_in_bytes`);
    if (usage === undefined) {
      prefix = `hugetlb.${size}`;
      usage = r.uint(dir, `${prefix}.usage_in_bytes`) ?? 0n;
    }
    s.hugetlb[size] = { usage, max: r.uint(dir, `${prefix}.max_usage_in_bytes`) ?? 0n, failcnt: r.uint(dir, `${prefix}.failcnt`) ?? 0n };
  }
}

// ------------------------------------------------------------------ cgroup v2 ----
function v2Stats(fs: CgroupFs, r: Reader, s: CgroupStats, dir: string): void {
  pidsInto(r, s, dir);

  const raw = r.keyed(dir, "memory.stat");
  if (raw) {
    s.memory.raw = raw;
    s.memory.cache = raw["file"] ?? 0n;
    const data = (name: string): MemoryEntry | undefined => {
      const mod = name ? `memory.${name}` : "memory";
      const usage = r.uint(dir, `${mod}.current`);
      if (usage === undefined) return undefined;
      return { usage, limit: r.uint(dir, `${mod}.max`) ?? 0n, max: r.uint(dir, `${mod}.peak`) ?? 0n, failcnt: 0n };
    };
    const usage = data("");
    if (usage) {
      s.memory.usage = usage;
      const swapOnly = data("swap") ?? emptyEntry();
      // v1 reports memory+swap; so does runc on v2, for compatibility.
      s.memory.swap = {
        usage: swapOnly.usage + usage.usage,
        limit: swapOnly.limit === UINT64_MAX ? UINT64_MAX : swapOnly.limit + usage.limit > UINT64_MAX ? UINT64_MAX : swapOnly.limit + usage.limit,
        max: 0n,
        failcnt: swapOnly.failcnt,
      };
    }
  }
  const memPsi = parsePSI(r.pressure(dir, "memory.pressure"));
  if (memPsi) s.memory.psi = memPsi;

  const io = r.text(dir, "io.stat");
  if (io !== undefined) {
    for (const line of io.split("\n")) {
      const [devno, ...items] = line.trim().split(/\s+/);
      const d = devno?.split(":");
      if (!d || d.length !== 2) continue;
      for (const item of items) {
        const [k, v] = item.split("=");
        const table: Record<string, [string, BlkioKey]> = {
          rbytes: ["Read", "ioServiceBytesRecursive"],
          wbytes: ["Write", "ioServiceBytesRecursive"],
          rios: ["Read", "ioServicedRecursive"],
          wios: ["Write", "ioServicedRecursive"],
        };
        const t = table[k ?? ""];
        if (!t || v === undefined) continue;
        s.blkio[t[1]].push({ major: BigInt(d[0]!), minor: BigInt(d[1]!), op: t[0], value: parseUintValue(v) });
      }
    }
  }
  const ioPsi = parsePSI(r.pressure(dir, "io.pressure"));
  if (ioPsi) s.blkio.psi = ioPsi;

  const cpu = r.keyed(dir, "cpu.stat");
  if (cpu) {
    s.cpu.usage.total = (cpu["usage_usec"] ?? 0n) * 1000n;
    s.cpu.usage.user = (cpu["user_usec"] ?? 0n) * 1000n;
    s.cpu.usage.kernel = (cpu["system_usec"] ?? 0n) * 1000n;
    s.cpu.throttling.periods = cpu["nr_periods"] ?? 0n;
    s.cpu.throttling.throttledPeriods = cpu["nr_throttled"] ?? 0n;
    s.cpu.throttling.throttledTime = (cpu["throttled_usec"] ?? 0n) * 1000n;
  }
  const cpuPsi = parsePSI(r.pressure(dir, "cpu.pressure"));
  if (cpuPsi) s.cpu.psi = cpuPsi;

  for (const size of hugePageSizes(fs, dir, "max")) {
    const usage = r.uint(dir, `hugetlb.${size}.rsvd.current`) ?? r.uint(dir, `hugetlb.${size}.current`) ?? 0n;
    const failcnt = r.keyed(dir, `hugetlb.${size}.events`)?.["max"] ?? 0n;
    s.hugetlb[size] = { usage, max: 0n, failcnt };
  }
}

/** Reads the statistics of a cgroup (paths as in CgroupPlan.paths). */
export function readStats(fs: CgroupFs, mode: CgroupMode, paths: Record<string, string>): CgroupStats {
  const r = new Reader(fs);
  const s = emptyStats();
  if (mode === "v2") {
    v2Stats(fs, r, s, paths[""]!);
    return s;
  }
  const present = (k: string) => (paths[k] && fs.exists(paths[k]!) ? paths[k] : undefined);
  v1Cpu(r, s, present("cpu"), present("cpuacct"));
  const cpuset = present("cpuset");
  if (cpuset) v1Cpuset(r, s, cpuset);
  const memory = present("memory");
  if (memory) v1Memory(r, s, memory);
  const pids = present("pids");
  if (pids) pidsInto(r, s, pids);
  const blkio = present("blkio");
  if (blkio) v1Blkio(r, s, blkio);
  const hugetlb = present("hugetlb");
  if (hugetlb) v1Hugetlb(fs, r, s, hugetlb);
  return s;
}

// -------------------------------------------------------- runc's JSON shape ----
function memoryEntryJSON(e: MemoryEntry): Record<string, unknown> {
  const o: Record<string, unknown> = { limit: e.limit };
  if (e.usage) o["usage"] = e.usage;
  if (e.max) o["max"] = e.max;
  o["failcnt"] = e.failcnt;
  return o;
}

function blkioJSON(list: BlkioEntry[]): Record<string, unknown>[] {
  return list.map((e) => {
    const o: Record<string, unknown> = {};
    if (e.major) o["major"] = e.major;
    if (e.minor) o["minor"] = e.minor;
    if (e.op) o["op"] = e.op;
    if (e.value) o["value"] = e.value;
    return o;
  });
}

/**
 * runc's PSIStats (runc >= 1.2; 1.1 has no PSI): `some` and `full` are structs
 * tagged omitempty, which encoding/json never omits, so both are always there,
 * zeros included (cpu.pressure of a cgroup has a "full" line too since 5.13).
 */
function psiJSON(p: PSIStats): Record<string, unknown> {
  const data = (d: PSIData) => ({ avg10: d.avg10, avg60: d.avg60, avg300: d.avg300, total: d.total });
  return { some: data(p.some), full: data(p.full) };
}

/**
 * The `data` of a runc "stats" event as runc 1.1's types package encodes it:
 * omitempty drops zero numbers and empty lists and maps, but never a struct
 * (cpu.usage, cpu.throttling, memory.usage ... are always there, `{}` at least).
 * Serialise it with encodeJSON (bigints stay exact).
 */
export function statsToRuncJSON(s: CgroupStats): Record<string, unknown> {
  const u = s.cpu.usage;
  const usage: Record<string, unknown> = {};
  if (u.total) usage["total"] = u.total;
  if (u.percpu?.length) usage["percpu"] = u.percpu;
  if (u.percpuKernel?.length) usage["percpu_kernel"] = u.percpuKernel;
  if (u.percpuUser?.length) usage["percpu_user"] = u.percpuUser;
  usage["kernel"] = u.kernel;
  usage["user"] = u.user;
  const t = s.cpu.throttling;
  const th: Record<string, unknown> = {};
  if (t.periods) th["periods"] = t.periods;
  if (t.throttledPeriods) th["throttledPeriods"] = t.throttledPeriods;
  if (t.throttledTime) th["throttledTime"] = t.throttledTime;
  const cpu: Record<string, unknown> = { usage, throttling: th };
  if (s.cpu.psi) cpu["psi"] = psiJSON(s.cpu.psi);

  const c = s.cpuset;
  const cpuset: Record<string, unknown> = {};
  if (c.cpus.length) cpuset["cpus"] = c.cpus;
  cpuset["cpu_exclusive"] = c.cpuExclusive;
  if (c.mems.length) cpuset["mems"] = c.mems;
  Object.assign(cpuset, {
    mem_hardwall: c.memHardwall,
    mem_exclusive: c.memExclusive,
    memory_migrate: c.memoryMigrate,
    memory_spread_page: c.memorySpreadPage,
    memory_spread_slab: c.memorySpreadSlab,
    memory_pressure: c.memoryPressure,
    sched_load_balance: c.schedLoadBalance,
    sched_relax_domain_level: c.schedRelaxDomainLevel,
  });

  const m = s.memory;
  const memory: Record<string, unknown> = {};
  if (m.cache) memory["cache"] = m.cache;
  memory["usage"] = memoryEntryJSON(m.usage);
  memory["swap"] = memoryEntryJSON(m.swap);
  memory["kernel"] = memoryEntryJSON(m.kernel);
  memory["kernelTCP"] = memoryEntryJSON(m.kernelTCP);
  if (Object.keys(m.raw).length) memory["raw"] = m.raw;
  if (m.psi) memory["psi"] = psiJSON(m.psi);

  const pids: Record<string, unknown> = {};
  if (s.pids.current) pids["current"] = s.pids.current;
  if (s.pids.limit) pids["limit"] = s.pids.limit;

  const b = s.blkio;
  const blkio: Record<string, unknown> = {};
  const names: [BlkioKey, string][] = [
    ["ioServiceBytesRecursive", "ioServiceBytesRecursive"],
    ["ioServicedRecursive", "ioServicedRecursive"],
    ["ioQueuedRecursive", "ioQueueRecursive"],
    ["ioServiceTimeRecursive", "ioServiceTimeRecursive"],
    ["ioWaitTimeRecursive", "ioWaitTimeRecursive"],
    ["ioMergedRecursive", "ioMergedRecursive"],
    ["ioTimeRecursive", "ioTimeRecursive"],
    ["sectorsRecursive", "sectorsRecursive"],
  ];
  for (const [k, json] of names) if (b[k].length) blkio[json] = blkioJSON(b[k]);
  if (b.psi) blkio["psi"] = psiJSON(b.psi);

  const hugetlb: Record<string, unknown> = {};
  for (const [size, h] of Object.entries(s.hugetlb)) {
    const o: Record<string, unknown> = {};
    if (h.usage) o["usage"] = h.usage;
    if (h.max) o["max"] = h.max;
    o["failcnt"] = h.failcnt;
    hugetlb[size] = o;
  }

  return { cpu, cpuset, memory, pids, blkio, hugetlb, intel_rdt: {}, network_interfaces: null };
}

/** JSON.stringify that writes bigints as exact integers (as Go prints uint64). */
export function encodeJSON(value: unknown): string {
  // Bigints become unique placeholder strings, then the quoted placeholders are
  // replaced by the digits; the nonce keeps data strings from matching.
  const nonce = Math.random().toString(36).slice(2);
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === "bigint") {
      marks.push(v.toString());
      return `@big${nonce}:${marks.length - 1}@`;
    }
    return v;
  });
  return text.replace(new RegExp(`"@big${nonce}:(\\d+)@"`, "g"), (_, i: string) => marks[Number(i)]!);
}
