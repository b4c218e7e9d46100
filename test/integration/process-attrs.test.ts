// linux.personality, process.scheduler, process.ioPriority, linux.memoryPolicy and
// process.execCPUAffinity in real containers (root), as the probe sees them.
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { sandbox, type Sandbox } from "./harness";
import { createFails, run, runReport } from "./util";
import type { OciConfig } from "../../src/spec/types";

const t = hostSuite<{ sb: Sandbox }>("process-attrs");
t.before((ctx) => {
  ctx.sb = sandbox("process-attrs");
});
t.after((ctx) => ctx.sb.cleanup());

interface Mempolicy { mode: string | number; mode_raw: number; flags: string[]; nodes: number[] }

function mempolicy(sb: Sandbox, policy: unknown): Mempolicy {
  const r = run(sb, (c) => {
    c.linux!.memoryPolicy = policy as never;
    c.process!.args = ["/bin/probe", "mempolicy"];
  });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Mempolicy;
}

// realtime group scheduling (cgroup v1 cpu): a new cgroup gets no RT runtime, so
// an RT policy needs linux.resources.cpu.realtimeRuntime (with runc too)
const RT_GROUPS = existsSync("/sys/fs/cgroup/cpu/cpu.rt_runtime_us") || existsSync("/sys/fs/cgroup/cpu,cpuacct/cpu.rt_runtime_us");
const rtRuntime = (c: OciConfig) => {
  if (RT_GROUPS) c.linux!.resources = { ...c.linux!.resources, cpu: { ...c.linux!.resources?.cpu, realtimeRuntime: 50_000, realtimePeriod: 1_000_000 } };
};

const hostCpus = (): number[] => {
  const m = /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync("/proc/self/status", "utf8"))![1]!;
  return m.split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
  });
};

t("linux.personality LINUX32: the process runs with PER_LINUX32 (8); LINUX is 0", ({ sb }) => {
  assert.is(runReport(sb, (c) => (c.linux!.personality = { domain: "LINUX32" })).personality, 8);
  assert.is(runReport(sb, (c) => (c.linux!.personality = { domain: "LINUX" })).personality, 0);
  assert.is(runReport(sb, () => {}).personality, 0, "untouched without the field");
});

t("process.scheduler SCHED_BATCH with nice 5", ({ sb }) => {
  const s = runReport(sb, (c) => (c.process!.scheduler = { policy: "SCHED_BATCH", nice: 5 })).scheduler;
  assert.is(s.policy, "SCHED_BATCH");
  assert.is(s.nice, 5);
  assert.is(s.priority, 0);
});

t("process.scheduler SCHED_FIFO with priority 10 (set while the init may), also for a non-root user", ({ sb }) => {
  for (const user of [{ uid: 0, gid: 0 }, { uid: 1000, gid: 1000 }]) {
    const rep = runReport(sb, (c) => {
      c.process!.scheduler = { policy: "SCHED_FIFO", priority: 10 };
      c.process!.user = user;
      rtRuntime(c);
    });
    assert.is(rep.scheduler.policy, "SCHED_FIFO", `uid ${user.uid}`);
    assert.is(rep.scheduler.priority, 10);
    assert.is(rep.uid, user.uid);
  }
});

t("process.scheduler SCHED_RR with SCHED_FLAG_RESET_ON_FORK, and SCHED_IDLE", ({ sb }) => {
  const s = runReport(sb, (c) => {
    c.process!.scheduler = { policy: "SCHED_RR", priority: 3, flags: ["SCHED_FLAG_RESET_ON_FORK"] };
    rtRuntime(c);
  }).scheduler;
  assert.is(s.policy, "SCHED_RR");
  assert.is(s.priority, 3);
  assert.equal(s.flags, ["SCHED_FLAG_RESET_ON_FORK"]);
  assert.is(runReport(sb, (c) => (c.process!.scheduler = { policy: "SCHED_IDLE" })).scheduler.policy, "SCHED_IDLE");
});

if (RT_GROUPS) {
  t("process.scheduler SCHED_FIFO without realtime runtime in the cgroup: one line naming the field and the fix", ({ sb }) => {
    const line = createFails(sb, (c) => (c.process!.scheduler = { policy: "SCHED_FIFO", priority: 10 }));
    assert.match(line, "process.scheduler");
    assert.match(line, "realtimeRuntime");
  });
}

t("process.ioPriority IOPRIO_CLASS_BE 4, IOPRIO_CLASS_IDLE, IOPRIO_CLASS_RT 1", ({ sb }) => {
  const be = runReport(sb, (c) => (c.process!.ioPriority = { class: "IOPRIO_CLASS_BE", priority: 4 })).ioprio;
  assert.equal(be && { class: be.class, priority: be.priority }, { class: "IOPRIO_CLASS_BE", priority: 4 });
  const idle = runReport(sb, (c) => (c.process!.ioPriority = { class: "IOPRIO_CLASS_IDLE", priority: 0 })).ioprio;
  assert.is(idle?.class, "IOPRIO_CLASS_IDLE");
  const rt = runReport(sb, (c) => (c.process!.ioPriority = { class: "IOPRIO_CLASS_RT", priority: 1 })).ioprio;
  assert.equal(rt && { class: rt.class, priority: rt.priority }, { class: "IOPRIO_CLASS_RT", priority: 1 });
});

t("linux.memoryPolicy MPOL_BIND on node 0, MPOL_INTERLEAVE, MPOL_PREFERRED with a flag; none by default", ({ sb }) => {
  assert.equal(mempolicy(sb, undefined), { mode: "MPOL_DEFAULT", mode_raw: 0, flags: [], nodes: [] });
  const bind = mempolicy(sb, { mode: "MPOL_BIND", nodes: "0" });
  assert.is(bind.mode, "MPOL_BIND");
  assert.equal(bind.nodes, [0]);
  const il = mempolicy(sb, { mode: "MPOL_INTERLEAVE", nodes: "0" });
  assert.is(il.mode, "MPOL_INTERLEAVE");
  assert.equal(il.nodes, [0]);
  const pref = mempolicy(sb, { mode: "MPOL_PREFERRED", nodes: "0", flags: ["MPOL_F_STATIC_NODES"] });
  assert.is(pref.mode, "MPOL_PREFERRED");
  assert.equal(pref.flags, ["MPOL_F_STATIC_NODES"]);
  assert.equal(pref.nodes, [0]);
});

t("process.execCPUAffinity is accepted and does not apply to the init (runtime-spec: not for the container's init)", ({ sb }) => {
  const cpus = hostCpus();
  const rep = runReport(sb, (c) => (c.process!.execCPUAffinity = { initial: "0", final: "0" }));
  assert.equal(rep.cpu_affinity, cpus, "the init keeps the affinity it was started with");
});

t.run();
