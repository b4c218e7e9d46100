// A process joining a running container (`ocirt exec`) -> the helper's plan. Pure.
// It joins the container's namespaces (user first) and cgroup, forks once when it
// joined a pid or time namespace, then sets up the process exactly as the init's
// own (user, capabilities, seccomp, cwd) and execs at once: there is no exec.fifo.
import { Op, Sync, type PlanOp } from "../plan/ops";
import { NS_FLAG } from "../linux/namespaces";
import { planOomScoreAdj, planProcessSetup, type ProcessPlanInput } from "./process";

export interface ExecPlanInput extends Omit<ProcessPlanInput, "fifoIndex"> {
  /** The parent writes the pid into the cgroup (v1/hybrid), rather than CLONE_INTO_CGROUP. */
  cgroupSync: boolean;
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
