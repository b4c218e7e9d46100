// The scenarios: each turns one iteration for one subject into named measurements.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BenchError, waitExit, type Runner } from "./exec";
import { cgroupPids, procMemory } from "./memory";
import type { BundleKind } from "./bundles";
import type { Subject } from "./subjects";
import { CONTAINERD_SCENARIOS } from "./containerd";
import { DOCKER_SCENARIOS } from "./docker";
import { parseProfile } from "./phases";

export interface Ctx {
  runner: Runner;
  dir: string;
  bundles: Partial<Record<BundleKind, string>>;
  ocirt: Subject;
  runc: Subject;
  /** Baselines for the state scenario (node -e 0, with and without NODE_EXTRA_CA_CERTS). */
  baselines: Subject[];
  /** A fresh container id, remembered until forget() so that cleanup can delete -f it. */
  newId(s: Subject, tag: string): string;
  forget(s: Subject, id: string): void;
  note(text: string): void;
}

export interface Scenario {
  name: string;
  unit: "ms" | "kB";
  what: string;
  subjects(ctx: Ctx): Subject[];
  /** Iterations to take when the run asks for n (memory needs fewer). */
  iterations?(n: number): number;
  /** A reason to skip, found before any measurement (may try the scenario once). */
  skip?(ctx: Ctx): string | null;
  sample(ctx: Ctx, s: Subject): Sample;
}

export interface Sample {
  /** Wall time in ms (or kB for memory), by measurement. */
  values: Record<string, number>;
  /** CPU time in ms of the commands, by measurement: averaged, never a median (see exec.ts). */
  cpu?: Record<string, number>;
  /** ocirt's phase profile (OCIRT_PROFILE=1), by measurement: {phase: ms} */
  phases?: Record<string, Record<string, number>>;
}

/** The phase profiles of the commands that printed one (ocirt's; runc prints none). */
function profiles(timed: Record<string, { stderr: string }>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [k, t] of Object.entries(timed)) {
    const p = parseProfile(t.stderr);
    if (Object.keys(p).length) out[k] = p;
  }
  return out;
}

function bundle(ctx: Ctx, kind: BundleKind): string {
  const b = ctx.bundles[kind];
  if (!b) throw new BenchError(`no ${kind} bundle`);
  return b;
}

/** Where and how a subject's commands run: the scratch dir, the subject's environment (ocirt's asks for its profile). */
function at(ctx: Ctx, s: Subject): { cwd: string; env?: NodeJS.ProcessEnv } {
  return { cwd: ctx.dir, ...(s.env ? { env: s.env } : {}) };
}

function pidFileFor(ctx: Ctx, s: Subject): string {
  const f = join(ctx.dir, `pid-${s.name}`);
  rmSync(f, { force: true });
  return f;
}

/** create -> start -> the init exits -> delete, each step timed. */
function lifecycle(ctx: Ctx, s: Subject, kind: BundleKind): Sample {
  const id = ctx.newId(s, kind);
  const pidFile = pidFileFor(ctx, s);
  const create = ctx.runner.ok(s.argv(["create", "--bundle", bundle(ctx, kind), "--pid-file", pidFile, id]), at(ctx, s));
  const pid = Number(readFileSync(pidFile, "utf8"));
  if (!(pid > 0)) throw new BenchError(`${s.name} create wrote no pid to ${pidFile}`);
  const start = ctx.runner.ok(s.argv(["start", id]), at(ctx, s));
  const wait = waitExit(pid);
  const del = ctx.runner.ok(s.argv(["delete", id]), at(ctx, s));
  ctx.forget(s, id);
  return {
    values: { create: create.ms, start: start.ms, "wait for exit": wait, delete: del.ms, total: create.ms + start.ms + wait + del.ms },
    cpu: { create: create.cpuMs, start: start.cpuMs, delete: del.cpuMs, total: create.cpuMs + start.cpuMs + del.cpuMs },
    phases: profiles({ create, start, delete: del }),
  };
}

/**
 * Every command an engine calls on a container, each timed: create, state (created),
 * start, state (running), kill (SIGKILL), the init's exit, delete. The container
 * sleeps until killed.
 */
function commands(ctx: Ctx, s: Subject): Sample {
  const id = ctx.newId(s, "cmds");
  const pidFile = pidFileFor(ctx, s);
  const create = ctx.runner.ok(s.argv(["create", "--bundle", bundle(ctx, "sleep"), "--pid-file", pidFile, id]), at(ctx, s));
  const pid = Number(readFileSync(pidFile, "utf8"));
  if (!(pid > 0)) throw new BenchError(`${s.name} create wrote no pid to ${pidFile}`);
  const state1 = ctx.runner.ok(s.argv(["state", id]), at(ctx, s));
  const start = ctx.runner.ok(s.argv(["start", id]), at(ctx, s));
  const state2 = ctx.runner.ok(s.argv(["state", id]), at(ctx, s));
  if (!/"running"/.test(state2.stdout)) throw new BenchError(`${s.name} state after start: ${state2.stdout.trim()}`);
  const kill = ctx.runner.ok(s.argv(["kill", id, "KILL"]), at(ctx, s));
  const wait = waitExit(pid);
  const del = ctx.runner.ok(s.argv(["delete", id]), at(ctx, s));
  ctx.forget(s, id);
  const t = { create, "state (created)": state1, start, "state (running)": state2, kill, delete: del };
  return {
    values: { ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.ms])), "wait for exit": wait },
    cpu: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.cpuMs])),
    phases: profiles(t),
  };
}

const twoRuntimes = (ctx: Ctx) => [ctx.ocirt, ctx.runc];

const SECCOMP_UNSUPPORTED = /seccomp.*(unsupported|not supported|not implemented)|(unsupported|not supported|not implemented).*seccomp/i;

export const SCENARIOS: Scenario[] = [
  {
    name: "run",
    unit: "ms",
    what: "`X run --bundle B ID` of `/bin/probe exit 0`: create, start, wait and delete in one command",
    subjects: twoRuntimes,
    sample(ctx, s) {
      const id = ctx.newId(s, "run");
      const r = ctx.runner.ok(s.argv(["run", "--bundle", bundle(ctx, "plain"), id]), at(ctx, s));
      ctx.forget(s, id);
      return { values: { run: r.ms }, cpu: { run: r.cpuMs }, phases: profiles({ run: r }) };
    },
  },
  {
    name: "lifecycle",
    unit: "ms",
    what: "`create`, `start`, the init's exit (polled in /proc), `delete`, as four commands",
    subjects: twoRuntimes,
    sample: (ctx, s) => lifecycle(ctx, s, "plain"),
  },
  {
    name: "commands",
    unit: "ms",
    what: "a sleeping container through every command an engine calls: create, state, start, state, kill KILL, delete",
    subjects: twoRuntimes,
    sample: commands,
  },
  {
    name: "state",
    unit: "ms",
    what: "`X state <unknown id>` (fails at once: startup cost), next to `node -e 0`",
    subjects: (ctx) => [ctx.ocirt, ctx.runc, ...ctx.baselines],
    sample(ctx, s) {
      const r = ctx.runner.run(s.argv(["state", "ocibench-no-such-container"]), at(ctx, s));
      if (s.root && (r.status === 0 || !/not exist|no such|not found/i.test(r.stderr))) {
        throw new BenchError(`${s.name} state of an unknown id: exit ${r.status}, ${r.stderr.trim()}`);
      }
      if (!s.root && r.status !== 0) throw new BenchError(`${s.name}: exit ${r.status}, ${r.stderr.trim()}`);
      return { values: { state: r.ms }, cpu: { state: r.cpuMs }, phases: profiles({ state: r }) };
    },
  },
  {
    name: "userns",
    unit: "ms",
    what: "create/start/exit/delete of the same container in a user namespace (0..65535 -> 100000..165535)",
    subjects: twoRuntimes,
    sample: (ctx, s) => lifecycle(ctx, s, "userns"),
  },
  {
    name: "seccomp",
    unit: "ms",
    what: "create/start/exit/delete with Docker's default seccomp profile (../shared/fixtures/docker-default-seccomp.json)",
    subjects: twoRuntimes,
    skip(ctx) {
      if (!ctx.bundles.seccomp) return "the seccomp fixture is absent";
      try {
        lifecycle(ctx, ctx.ocirt, "seccomp");
      } catch (err) {
        const msg = (err as Error).message;
        if (SECCOMP_UNSUPPORTED.test(msg)) return `ocirt reports seccomp unsupported: ${msg}`;
        throw err;
      }
      return null;
    },
    sample: (ctx, s) => lifecycle(ctx, s, "seccomp"),
  },
  {
    name: "memory",
    unit: "kB",
    what: "the created (waiting) container's init: VmRSS (/proc/PID/status), Pss and Anonymous (/proc/PID/smaps_rollup), size of the binary copy it runs from",
    subjects: twoRuntimes,
    iterations: (n) => Math.min(n, 10),
    sample(ctx, s) {
      const out: Record<string, number> = {};
      for (const kind of ["plain", "userns", "seccomp"] as const) {
        if (!ctx.bundles[kind]) continue;
        const id = ctx.newId(s, `mem-${kind}`);
        const pidFile = pidFileFor(ctx, s);
        ctx.runner.ok(s.argv(["create", "--bundle", bundle(ctx, kind), "--pid-file", pidFile, id]), at(ctx, s));
        try {
          const pid = Number(readFileSync(pidFile, "utf8"));
          const procs = cgroupPids(pid).map(procMemory);
          const init = procs[0]!;
          ctx.note(`${s.name} ${kind}: created container holds ${procs.length} process(es): ${procs.map((p) => `${p.comm} [${p.pid === pid ? "init" : p.pid}]`).join(", ")}`);
          out[`${kind}: init VmRSS`] = init.vmRssKb;
          out[`${kind}: init Pss`] = init.pssKb;
          out[`${kind}: init Anonymous`] = init.anonKb;
          out[`${kind}: init's binary copy`] = init.exeKb;
          if (procs.length > 1) out[`${kind}: Pss of all`] = procs.reduce((a, p) => a + p.pssKb, 0);
        } finally {
          ctx.runner.ok(s.argv(["delete", "--force", id]), at(ctx, s));
          ctx.forget(s, id);
        }
      }
      return { values: out };
    },
  },
  // containerd's path: ocirt's shim against runc's shim + runc (bench/containerd.ts)
  ...CONTAINERD_SCENARIOS,
  ...DOCKER_SCENARIOS,
];
