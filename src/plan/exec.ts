// A process joining a running container (`ocirt exec`) -> the helper's plan. Pure.
// It joins the container's namespaces (user first) and cgroup, forks once when it
// joined a pid or time namespace, then sets up the process exactly as the init's
// own (user, capabilities, seccomp, cwd) and execs at once: there is no exec.fifo.
import type { Spec } from "../spec/normalise";
import { Op, Sync, type PlanOp } from "./ops";
import { NS_FLAG } from "../linux/namespaces";
import { planOomScoreAdj, planProcessSetup, type PlanInput } from "./container";

export interface ExecPlanInput extends Omit<PlanInput, "noPivot" | "cgroupViews" | "fifoIndex"> {
  /** The container's namespaces to join, in the order of the extra fds given to spawn. */
  join: string[];
  /** linux.execCPUAffinity.final (or initial): where the process runs once in the cgroup. */
  cpuAffinity?: Buffer | undefined;
}

export function planExec(inp: ExecPlanInput): PlanOp[] {
  const ops: PlanOp[] = [];
  if (inp.cgroupSync) ops.push({ code: Op.SYNC, ints: [Sync.CGROUP_PLS], what: "the container's cgroup" });
  ops.push(...planOomScoreAdj(inp.spec));
  const order = [...inp.join.keys()].sort((a, b) => (inp.join[a] === "user" ? -1 : inp.join[b] === "user" ? 1 : 0));
  for (const i of order) {
    const type = inp.join[i]!;
    ops.push({ code: Op.SETNS, ints: [i, NS_FLAG[type]!], what: `the container's ${type} namespace` });
  }
  if (inp.join.includes("pid") || inp.join.includes("time")) ops.push({ code: Op.FORK, what: "the container's pid namespace" });
  if (inp.cpuAffinity) ops.push({ code: Op.CPU_AFFINITY, blobs: [inp.cpuAffinity], what: "process.execCPUAffinity" });
  ops.push(...planProcessSetup({ ...inp, fifoIndex: -1, joinKeyringOnly: true }));
  return ops;
}

export type { Spec };
