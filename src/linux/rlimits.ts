// process.rlimits -> OP_SETRLIMIT. Pure. The numbers are the kernel's RLIMIT_*
// (asm-generic/resource.h, the same on every architecture ocirt builds for); the
// table is keyed by the spec's own list, so a type added there without a number
// here does not compile.
import type { RlimitType } from "../spec/types";
import type { SpecRlimit } from "../spec/normalise";
import { Op, type PlanOp } from "../plan/ops";

export const RLIMIT: Readonly<Record<RlimitType, number>> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

export function planRlimits(rlimits: readonly SpecRlimit[]): PlanOp[] {
  return rlimits.map((r, i) => ({ code: Op.SETRLIMIT, ints: [RLIMIT[r.type], r.soft, r.hard], what: `process.rlimits[${i}] (${r.type})` }));
}
