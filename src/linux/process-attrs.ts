// process.scheduler, process.ioPriority, linux.personality, linux.memoryPolicy -> ops.
// Pure. They run while the init still has all its capabilities (an RT policy
// needs CAP_SYS_NICE), just before the user and capabilities are set.
import type { Spec } from "../spec/normalise";
import { ConfigError } from "../errors";
import { Op, type PlanOp } from "../plan/ops";

const POLICY: Record<string, number> = { SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6 };
const SCHED_FLAG: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04, SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20, SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const MPOL_MODE: Record<string, number> = {
  MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4, MPOL_PREFERRED_MANY: 5, MPOL_WEIGHTED_INTERLEAVE: 6,
};
const MPOL_FLAG: Record<string, number> = { MPOL_F_STATIC_NODES: 1 << 15, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_NUMA_BALANCING: 1 << 13 };
const PER_LINUX = 0x0000, PER_LINUX32 = 0x0008;

/** "0-3,7" -> a bitmask buffer (as the kernel's cpu/node masks, 8-byte words). */
export function parseList(list: string, field: string): Buffer {
  const bits: number[] = [];
  for (const part of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new ConfigError(`invalid list ${JSON.stringify(list)}: use numbers and ranges like "0-3,7"`, [], { where: field });
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b > 4095) throw new ConfigError(`invalid range ${JSON.stringify(part)}`, [], { where: field });
    for (let i = a; i <= b; i++) bits.push(i);
  }
  const max = bits.length ? Math.max(...bits) : 0;
  const buf = Buffer.alloc(Math.ceil((max + 1) / 64) * 8);
  for (const i of bits) buf[i >> 3]! |= 1 << (i & 7);
  return buf;
}

export function planProcessAttrs(spec: Spec): PlanOp[] {
  const ops: PlanOp[] = [];
  const s = spec.process.scheduler;
  if (s) {
    const flags = s.flags.reduce((f, n) => f | (SCHED_FLAG[n] ?? 0), 0);
    ops.push({ code: Op.SCHEDULER, ints: [POLICY[s.policy] ?? 0, s.priority, flags, s.nice, s.runtime, s.deadline, s.period], what: "process.scheduler" });
  }
  const io = spec.process.ioPriority;
  if (io) ops.push({ code: Op.IOPRIO, ints: [IOPRIO_CLASS[io.class] ?? 2, io.priority], what: "process.ioPriority" });
  const pers = spec.linux.personality;
  if (pers) ops.push({ code: Op.PERSONALITY, ints: [pers.domain === "LINUX32" ? PER_LINUX32 : PER_LINUX], what: "linux.personality" });
  const mp = spec.linux.memoryPolicy;
  if (mp) {
    const flags = (mp.flags ?? []).reduce((f, n) => f | (MPOL_FLAG[n] ?? 0), 0);
    const nodes = mp.nodes ? parseList(mp.nodes, "linux.memoryPolicy.nodes") : Buffer.alloc(0);
    ops.push({ code: Op.MEMPOLICY, ints: [MPOL_MODE[mp.mode] ?? 0, flags], blobs: [nodes], what: "linux.memoryPolicy" });
  }
  return ops;
}
