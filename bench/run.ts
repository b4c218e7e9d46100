// ocirt against runc, side by side in one run: the same bundles, commands
// interleaved (AB, BA, AB, ... so neither always goes first), medians and the ratio
// of medians. Usage: npx tsx bench/run.ts [--iterations N] [--warmup N]
//   [--json out.json] [--only NAME[,NAME]] [--runc PATH] [--ocirt PATH]
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join, resolve } from "node:path";
import { loadSeccompFixture, writeBundle } from "./bundles";
import { BenchError, Runner, cleanEnv } from "./exec";
import { findLeftovers } from "./leftovers";
import { markdown, type ScenarioResult } from "./report";
import { SCENARIOS, type Ctx, type Scenario } from "./scenarios";
import { nodeBaseline, rootsUnder, runtime, type Subject } from "./subjects";
import { stopContainerd } from "./containerd";
import { stopDockerd } from "./docker";

const REPO = resolve(__dirname, "..");

interface Options {
  iterations: number;
  warmup: number;
  json?: string;
  only?: string[];
  runc: string;
  ocirt: string;
  phases: boolean;
}

const USAGE = "usage: npx tsx bench/run.ts [--iterations N] [--warmup N] [--json out.json] [--only NAME[,NAME]] [--runc PATH] [--ocirt PATH] [--no-phases]";

function parseArgs(argv: string[]): Options {
  const o: Options = { iterations: 30, warmup: 3, runc: "runc", ocirt: join(REPO, "bin", "ocirt"), phases: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new BenchError(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const count = (min: number) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new BenchError(`${flag} wants an integer >= ${min}`);
      return n;
    };
    switch (flag) {
      case "--iterations": case "-n": o.iterations = count(1); break;
      case "--warmup": o.warmup = count(0); break;
      case "--json": o.json = resolve(value()); break;
      case "--only": o.only = value().split(",").filter(Boolean); break;
      case "--runc": o.runc = value(); break;
      case "--ocirt": o.ocirt = resolve(value()); break;
      case "--no-phases": o.phases = false; break;
      case "--help": case "-h": process.stdout.write(`${USAGE}\nscenarios: ${SCENARIOS.map((s) => s.name).join(", ")}\n`); process.exit(0);
      default: throw new BenchError(`unknown argument ${argv[i]}\n${USAGE}`);
    }
  }
  const unknown = (o.only ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new BenchError(`unknown scenario ${unknown.join(", ")}; scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  return o;
}

let interrupted = false;
process.on("SIGINT", () => { interrupted = true; });
process.on("SIGTERM", () => { interrupted = true; });

function version(argv: string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n")[0]!;
  } catch (err) {
    throw new BenchError(`${argv.join(" ")}: ${(err as Error).message}`);
  }
}

const round2 = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);

/** Runs of ocirt with its phase profile per scenario, after the timed ones (not in the time tables). */
const PHASE_RUNS = 10;

function measure(ctx: Ctx, sc: Scenario, o: Options, notes: Set<string>, profiled?: Subject): ScenarioResult {
  const subjects = sc.subjects(ctx);
  const iterations = sc.iterations?.(o.iterations) ?? o.iterations;
  const result: ScenarioResult = {
    name: sc.name, unit: sc.unit, what: sc.what, subjects: subjects.map((s) => s.name), iterations,
    notes: [], samples: {}, cpu: {}, phases: {}, loadavg: { before: round2(loadavg()), after: [] },
  };
  notes.clear();
  const skip = sc.skip?.(ctx);
  if (skip) {
    result.skipped = skip;
    return result;
  }
  for (const s of subjects) result.samples[s.name] = {};
  const total = o.warmup + iterations;
  for (let i = 0; i < total; i++) {
    // rotate who goes first so that neither runtime always follows the other
    const order = subjects.map((_, k) => subjects[(k + i) % subjects.length]!);
    for (const s of order) {
      if (interrupted) throw new BenchError("interrupted");
      const m = sc.sample(ctx, s);
      if (i < o.warmup) continue;
      for (const [k, v] of Object.entries(m.values)) (result.samples[s.name]![k] ??= []).push(v);
      for (const [k, v] of Object.entries(m.cpu ?? {})) ((result.cpu[s.name] ??= {})[k] ??= []).push(v);
    }
    process.stderr.write(`\r${sc.name}: ${i < o.warmup ? `warmup ${i + 1}/${o.warmup}` : `${i + 1 - o.warmup}/${iterations}`}   `);
  }
  // the phases from runs of their own: the profile costs ~0.5 ms of a command (its clock at every
  // phase, its table at exit), which the timed runs must not carry
  if (profiled && subjects.includes(ctx.ocirt)) {
    const runs = Math.min(iterations, PHASE_RUNS);
    for (let j = 0; j < runs; j++) {
      if (interrupted) throw new BenchError("interrupted");
      const m = sc.sample(ctx, profiled);
      if (!m.phases) break; // a scenario without phases (memory)
      for (const [k, ph] of Object.entries(m.phases)) {
        const byPhase = (((result.phases ??= {})[ctx.ocirt.name] ??= {})[k] ??= {});
        for (const [p, v] of Object.entries(ph)) (byPhase[p] ??= []).push(v);
      }
      process.stderr.write(`\r${sc.name}: phases ${j + 1}/${runs}   `);
    }
  }
  process.stderr.write("\n");
  result.loadavg.after = round2(loadavg());
  result.notes = [...notes];
  return result;
}

function summarizeDropped(names: string[]): string {
  const npm = names.filter((n) => n.startsWith("npm_")).length;
  const rest = names.filter((n) => !n.startsWith("npm_"));
  return [...rest, ...(npm ? [`npm_* (${npm})`] : [])].join(", ") || "changes";
}

function main(): number {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new BenchError("run as root: both runtimes create real containers");
  if (!existsSync(join(REPO, "dist", "ocirt.js")) && o.ocirt === join(REPO, "bin", "ocirt")) throw new BenchError("ocirt is not built: npm run build");
  const { env, dropped } = cleanEnv();
  const host = {
    ocirt: version([o.ocirt, "--version"]),
    runc: version([o.runc, "--version"]),
    node: process.version,
    kernel: release(),
    cpus: cpus().length,
    droppedEnv: dropped,
    startedAt: new Date().toISOString(),
  };

  const dir = mkdtempSync("/tmp/ocirt-bench-");
  // the commands run in here: a user-namespace container's init must be able to
  // pass through its cwd (ocirt fails its /proc mount with EACCES in a 0700 cwd,
  // runc does not; reported, see docs/speed.md)
  chmodSync(dir, 0o711);
  const prefix = `ocibench-${process.pid}-`;
  const roots = rootsUnder(dir);
  for (const r of Object.values(roots)) mkdirSync(r, { recursive: true });
  const ocirt = runtime("ocirt", o.ocirt, roots.ocirt);
  // the same with its phase profile (src/profile.ts) on stderr, one table per command: the
  // phase tables' runs, apart from the timed ones
  const profiled = o.phases ? runtime("ocirt", o.ocirt, roots.ocirt, { ...env, OCIRT_PROFILE: "1" }) : undefined;
  const runc = runtime("runc", o.runc, roots.runc);
  const baselines: Subject[] = [nodeBaseline("node -e 0")];
  const caCerts = process.env["NODE_EXTRA_CA_CERTS"];
  if (caCerts) {
    // what the shebang saves: ocirt with the variable set should cost what ocirt without it does
    baselines.push(nodeBaseline("node -e 0 with NODE_EXTRA_CA_CERTS", { ...env, NODE_EXTRA_CA_CERTS: caCerts }));
    baselines.push({ ...ocirt, name: "ocirt with NODE_EXTRA_CA_CERTS", env: { ...env, NODE_EXTRA_CA_CERTS: caCerts } });
  }

  const live = new Map<Subject, Set<string>>();
  let serial = 0;
  const notes = new Set<string>();
  const seccomp = loadSeccompFixture();
  const ctx: Ctx = {
    runner: new Runner(dir, env),
    dir,
    bundles: { plain: writeBundle(dir, "plain"), sleep: writeBundle(dir, "sleep"), userns: writeBundle(dir, "userns"), ...(seccomp ? { seccomp: writeBundle(dir, "seccomp", seccomp) } : {}) },
    ocirt,
    runc,
    baselines,
    newId(s, tag) {
      const id = `${prefix}${s.name}-${tag}-${++serial}`;
      let set = live.get(s);
      if (!set) live.set(s, (set = new Set()));
      set.add(id);
      return id;
    },
    forget: (s, id) => void live.get(s)?.delete(id),
    note: (t) => void notes.add(t),
  };

  const results: ScenarioResult[] = [];
  let failure: unknown;
  try {
    for (const sc of SCENARIOS) {
      if (o.only && !o.only.includes(sc.name)) continue;
      results.push(measure(ctx, sc, o, notes, profiled));
    }
  } catch (err) {
    failure = err;
  } finally {
    // a failed or interrupted run still removes every container it made
    for (const [s, ids] of live) for (const id of ids) if (s.root) ctx.runner.run(s.argv(["delete", "--force", id]), { cwd: dir });
    stopDockerd(); // the dockerd of the docker scenario, with its containers
    stopContainerd(); // and the containerd the containerd scenarios started, with its containers
  }
  // what the reference left (runc 1.1's delete races a dying init's cgroup under load)
  // is reported and removed, not counted against ocirt
  const all = findLeftovers(prefix, Object.values(roots));
  const byRunc = all.filter((l) => l.includes(`${prefix}runc-`) && l.startsWith("cgroup left: "));
  for (const l of byRunc.reverse()) {
    try { rmdirSync(l.slice("cgroup left: ".length)); } catch { /* still busy: left for the report */ }
  }
  const leftovers = all.filter((l) => !byRunc.includes(l));
  if (leftovers.length === 0) rmSync(dir, { recursive: true, force: true });

  const report = { host, options: { iterations: o.iterations, warmup: o.warmup }, loadavgAtEnd: round2(loadavg()), leftovers, results };
  if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2) + "\n");
  const out = [
    `ocirt: ${host.ocirt} | runc: ${host.runc} | node ${host.node} | kernel ${host.kernel} | ${host.cpus} CPUs`,
    `iterations ${o.iterations} (+${o.warmup} warmup), order rotated each iteration; env without ${summarizeDropped(dropped)}`,
    "",
    markdown(results),
    "",
    ...results.flatMap((r) => [`${r.name}: load average ${r.loadavg.before.join(" ")} -> ${r.loadavg.after.join(" ")}`, ...r.notes.map((n) => `  ${n}`)]),
  ];
  process.stdout.write(out.join("\n") + "\n");
  if (byRunc.length) process.stdout.write(`runc left (removed; not ocirt's):\n  ${byRunc.join("\n  ")}\n`);
  if (leftovers.length) process.stderr.write(`LEFT BEHIND (kept ${dir}):\n  ${leftovers.join("\n  ")}\n`);
  if (failure) throw failure;
  return leftovers.length ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof BenchError ? err.message : (err as Error).stack}\n`);
  process.exitCode = 1;
}
