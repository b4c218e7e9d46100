// ocirt's cgroup statistics (the data `ocirt events --stats` prints) as the metrics
// types containerd decodes from a shim's Stats answer: io.containerd.cgroups.v1.Metrics
// on cgroup v1 and hybrid hosts, io.containerd.cgroups.v2.Metrics on v2, packed in
// an Any named by the type's full name.
import { readFileSync } from "node:fs";
import type { Any } from "./gen/google/protobuf/any";
import { Metrics as V1Metrics, type BlkIOEntry } from "./gen/cgroups_v1";
import { Metrics as V2Metrics, type IOEntry } from "./gen/cgroups_v2";
import type { CgroupStats } from "./runtime";

export const V1_METRICS_URL = "io.containerd.cgroups.v1.Metrics";
export const V2_METRICS_URL = "io.containerd.cgroups.v2.Metrics";

const MAX = (1n << 64n) - 1n;

function keyed(path: string | undefined): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  if (!path) return out;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = BigInt(v);
  }
  return out;
}

function blkio(list: CgroupStats["blkio"]["ioServiceBytesRecursive"]): BlkIOEntry[] {
  return list.map((e) => ({ op: e.op, device: "", major: e.major, minor: e.minor, value: e.value }));
}

export function v1Metrics(s: CgroupStats, paths: Readonly<Record<string, string>>): V1Metrics {
  const raw = s.memory.raw;
  const r = (k: string) => raw[k] ?? 0n;
  const entry = (e: CgroupStats["memory"]["usage"]) => ({ limit: e.limit, usage: e.usage, max: e.max, failcnt: e.failcnt });
  const oom = keyed(paths["memory"] ? `${paths["memory"]}/memory.oom_control` : undefined);
  return V1Metrics.fromPartial({
    hugetlb: Object.entries(s.hugetlb).map(([pagesize, h]) => ({ pagesize, usage: h.usage, max: h.max, failcnt: h.failcnt })),
    pids: { current: s.pids.current, limit: s.pids.limit },
    cpu: {
      usage: { total: s.cpu.usage.total, kernel: s.cpu.usage.kernel, user: s.cpu.usage.user, perCpu: s.cpu.usage.percpu ?? [] },
      throttling: { periods: s.cpu.throttling.periods, throttledPeriods: s.cpu.throttling.throttledPeriods, throttledTime: s.cpu.throttling.throttledTime },
    },
    memory: {
      cache: r("cache"), rss: r("rss"), rssHuge: r("rss_huge"), mappedFile: r("mapped_file"), dirty: r("dirty"), writeback: r("writeback"),
      pgPgIn: r("pgpgin"), pgPgOut: r("pgpgout"), pgFault: r("pgfault"), pgMajFault: r("pgmajfault"),
      inactiveAnon: r("inactive_anon"), activeAnon: r("active_anon"), inactiveFile: r("inactive_file"), activeFile: r("active_file"),
      unevictable: r("unevictable"), hierarchicalMemoryLimit: r("hierarchical_memory_limit"), hierarchicalSwapLimit: r("hierarchical_memsw_limit"),
      totalCache: r("total_cache"), totalRss: r("total_rss"), totalRssHuge: r("total_rss_huge"), totalMappedFile: r("total_mapped_file"),
      totalDirty: r("total_dirty"), totalWriteback: r("total_writeback"), totalPgPgIn: r("total_pgpgin"), totalPgPgOut: r("total_pgpgout"),
      totalPgFault: r("total_pgfault"), totalPgMajFault: r("total_pgmajfault"), totalInactiveAnon: r("total_inactive_anon"),
      totalActiveAnon: r("total_active_anon"), totalInactiveFile: r("total_inactive_file"), totalActiveFile: r("total_active_file"),
      totalUnevictable: r("total_unevictable"),
      usage: entry(s.memory.usage), swap: entry(s.memory.swap), kernel: entry(s.memory.kernel), kernelTcp: entry(s.memory.kernelTCP),
    },
    blkio: {
      ioServiceBytesRecursive: blkio(s.blkio.ioServiceBytesRecursive),
      ioServicedRecursive: blkio(s.blkio.ioServicedRecursive),
      ioQueuedRecursive: blkio(s.blkio.ioQueuedRecursive),
      ioServiceTimeRecursive: blkio(s.blkio.ioServiceTimeRecursive),
      ioWaitTimeRecursive: blkio(s.blkio.ioWaitTimeRecursive),
      ioMergedRecursive: blkio(s.blkio.ioMergedRecursive),
      ioTimeRecursive: blkio(s.blkio.ioTimeRecursive),
      sectorsRecursive: blkio(s.blkio.sectorsRecursive),
    },
    ...(paths["memory"] ? { memoryOomControl: { oomKillDisable: oom["oom_kill_disable"] ?? 0n, underOom: oom["under_oom"] ?? 0n, oomKill: oom["oom_kill"] ?? 0n } } : {}),
  });
}

export function v2Metrics(s: CgroupStats, paths: Readonly<Record<string, string>>): V2Metrics {
  const raw = s.memory.raw;
  const r = (k: string) => raw[k] ?? 0n;
  const dir = paths[""];
  const events = keyed(dir ? `${dir}/memory.events` : undefined);
  // ocirt reports swap as memory+swap (runc's v1-compatible view); v2 metrics want swap alone
  const swapUsage = s.memory.swap.usage > s.memory.usage.usage ? s.memory.swap.usage - s.memory.usage.usage : 0n;
  const swapLimit = s.memory.swap.limit === MAX || s.memory.usage.limit === MAX ? s.memory.swap.limit : s.memory.swap.limit - s.memory.usage.limit;
  const io = new Map<string, IOEntry>();
  const ioEntry = (major: bigint, minor: bigint) => {
    const k = `${major}:${minor}`;
    let e = io.get(k);
    if (!e) io.set(k, (e = { major, minor, rbytes: 0n, wbytes: 0n, rios: 0n, wios: 0n }));
    return e;
  };
  for (const b of s.blkio.ioServiceBytesRecursive) {
    const e = ioEntry(b.major, b.minor);
    if (b.op === "Read") e.rbytes = b.value;
    if (b.op === "Write") e.wbytes = b.value;
  }
  for (const b of s.blkio.ioServicedRecursive) {
    const e = ioEntry(b.major, b.minor);
    if (b.op === "Read") e.rios = b.value;
    if (b.op === "Write") e.wios = b.value;
  }
  return V2Metrics.fromPartial({
    pids: { current: s.pids.current, limit: s.pids.limit },
    cpu: {
      usageUsec: s.cpu.usage.total / 1000n, userUsec: s.cpu.usage.user / 1000n, systemUsec: s.cpu.usage.kernel / 1000n,
      nrPeriods: s.cpu.throttling.periods, nrThrottled: s.cpu.throttling.throttledPeriods, throttledUsec: s.cpu.throttling.throttledTime / 1000n,
    },
    memory: {
      anon: r("anon"), file: r("file"), kernelStack: r("kernel_stack"), slab: r("slab"), sock: r("sock"), shmem: r("shmem"),
      fileMapped: r("file_mapped"), fileDirty: r("file_dirty"), fileWriteback: r("file_writeback"), anonThp: r("anon_thp"),
      inactiveAnon: r("inactive_anon"), activeAnon: r("active_anon"), inactiveFile: r("inactive_file"), activeFile: r("active_file"),
      unevictable: r("unevictable"), slabReclaimable: r("slab_reclaimable"), slabUnreclaimable: r("slab_unreclaimable"),
      pgfault: r("pgfault"), pgmajfault: r("pgmajfault"), workingsetRefault: r("workingset_refault"), workingsetActivate: r("workingset_activate"),
      workingsetNodereclaim: r("workingset_nodereclaim"), pgrefill: r("pgrefill"), pgscan: r("pgscan"), pgsteal: r("pgsteal"),
      pgactivate: r("pgactivate"), pgdeactivate: r("pgdeactivate"), pglazyfree: r("pglazyfree"), pglazyfreed: r("pglazyfreed"),
      thpFaultAlloc: r("thp_fault_alloc"), thpCollapseAlloc: r("thp_collapse_alloc"),
      usage: s.memory.usage.usage, usageLimit: s.memory.usage.limit, swapUsage, swapLimit,
    },
    io: { usage: [...io.values()] },
    hugetlb: Object.entries(s.hugetlb).map(([pagesize, h]) => ({ pagesize, current: h.usage, max: h.max })),
    memoryEvents: { low: events["low"] ?? 0n, high: events["high"] ?? 0n, max: events["max"] ?? 0n, oom: events["oom"] ?? 0n, oomKill: events["oom_kill"] ?? 0n },
  });
}

/** The Stats answer: v2 metrics on a pure v2 host, v1 metrics otherwise (as runc's shim on hybrid hosts). */
export function metricsAny(mode: "v1" | "v2" | "hybrid", s: CgroupStats, paths: Readonly<Record<string, string>>): Any {
  if (mode === "v2") return { typeUrl: V2_METRICS_URL, value: V2Metrics.encode(v2Metrics(s, paths)).finish() };
  return { typeUrl: V1_METRICS_URL, value: V1Metrics.encode(v1Metrics(s, paths)).finish() };
}
