// Standing check 3: the soak. Sequential `ocirt run`s, then parallel
// create/start/delete lifecycles, with 0 failures and 0 leaks allowed:
//   - fds: this process's own count does not grow, and no fd of any process on
//     the host points into the state dirs or the bundles;
//   - mounts, cgroups, state dirs, processes (the leak walk, every 50 runs);
//   - zombies: no <defunct> process handed to us (child subreaper) during the
//     runs (`run` reaps its own container), none left at the end.
// Prints the runs, failures, leak counts and the median time of a run.
//
//   npx tsx test/stress/soak.ts [--runs N] [--parallel N]   (as root)
// OCIRT_STRESS_SCALE multiplies both (default 500 and 50).
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ensureProbeRootfs } from "../../conformance/rootfs";
import { planConfig } from "../../bench/bundles";
import { OcirtRunner, badRejection, errorLines } from "./lib/ocirt";
import { allPids, becomeSubreaper, cleanLeftovers, fdsInto, findLeftovers, ownFdCount, procInfo, reapOrphans, type Scope } from "./lib/leaks";
import { Report, median, option, scale } from "./lib/report";
import { idPrefix, removeWorkDir, requireRoot, workDir } from "./lib/work";

const NAME = "soak";

async function main(): Promise<number> {
  requireRoot(NAME);
  const report = new Report(NAME);
  const runs = Math.round(Number(option("runs", undefined, String(500 * scale()))));
  const parallel = Math.round(Number(option("parallel", undefined, String(50 * scale()))));
  console.log(`== ${NAME}: ${runs} sequential runs, then ${parallel} parallel create/start/delete`);
  becomeSubreaper();
  const work = workDir("ocsk");
  const prefix = idPrefix("ocsk");
  const root = join(work, "state");
  const mark = `${prefix}mark`;
  const runner = new OcirtRunner(root, work, mark);
  const scope: Scope = { prefix, roots: [root], dirs: [work], mark };
  const bundle = join(work, "bundle");
  mkdirSync(bundle);
  writeFileSync(join(bundle, "config.json"), JSON.stringify(planConfig("plain", ensureProbeRootfs())));
  const leaks = { fds: 0, fdsElsewhere: 0, mounts: 0, cgroups: 0, state: 0, processes: 0, zombies: 0 };
  const count = (lines: string[]) => {
    for (const l of lines) {
      if (l.startsWith("mount left")) leaks.mounts++;
      else if (l.startsWith("cgroup left")) leaks.cgroups++;
      else if (l.startsWith("state left")) leaks.state++;
      else if (l.startsWith("fd left")) leaks.fdsElsewhere++;
      else if (l.startsWith("process left")) {
        if (/\[Z\]/.test(l)) leaks.zombies++;
        else leaks.processes++;
      }
    }
  };
  let n = 0;
  const newId = () => `${prefix}${++n}z`;

  /** Zombies among the orphans handed to us: `run` should have reaped its container's init itself. */
  const handedZombies = () => allPids().filter((pid) => {
    const p = procInfo(pid);
    return !!p && p.ppid === process.pid && p.state === "Z";
  });

  // warm-up: node opens some fds (its signal pipe, ...) on the first spawns
  for (let i = 0; i < 3; i++) await runner.run(["run", "-b", bundle, newId()], { cwd: work });
  const fds0 = ownFdCount();
  const times: number[] = [];

  for (let i = 0; i < runs; i++) {
    const id = newId();
    const r = await runner.run(["run", "-b", bundle, id], { cwd: work });
    times.push(r.ms);
    report.count("runs");
    const bad = badRejection(r);
    if (r.status !== 0 || bad || errorLines(r.stderr).length) report.fail("run", `run ${i} (${id}) exited ${r.status}${bad ? ` (${bad})` : ""}: ${r.stderr.trim()}`);
    const z = handedZombies();
    if (z.length) {
      leaks.zombies += z.length;
      report.fail("zombie", `run ${i} (${id}): ${z.length} zombie(s) handed to us after run exited (pids ${z.join(", ")}): run did not reap its container`);
      reapOrphans();
    }
    if ((i + 1) % 50 === 0 || i === runs - 1) {
      const left = findLeftovers(scope, { fds: true });
      if (left.length) {
        count(left);
        report.fail("leak", `after ${i + 1} runs:\n${left.join("\n")}`);
        cleanLeftovers(scope);
      }
      const fds = ownFdCount();
      if (fds > fds0) {
        leaks.fds = Math.max(leaks.fds, fds - fds0);
        report.fail("fd", `after ${i + 1} runs this process has ${fds} fds open, ${fds0} after the warm-up`);
      }
      console.log(`  ${i + 1}/${runs} runs, median ${median(times).toFixed(0)} ms, ${report.failures.length} failures (${report.seconds().toFixed(0)} s)`);
    }
  }

  // parallel lifecycles: create, start, delete, all at once
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: parallel }, async () => {
    const id = newId();
    const steps: string[] = [];
    for (const argv of [["create", "-b", bundle, id], ["start", id], ["delete", "--force", id]]) {
      const r = await runner.run(argv, { cwd: work, timeoutMs: 180_000 });
      const bad = badRejection(r);
      if (r.status !== 0 || bad) {
        steps.push(`${argv[0]} exited ${r.status}${bad ? ` (${bad})` : ""}: ${r.stderr.trim()}`);
        if (argv[0] !== "delete") await runner.run(["delete", "--force", id], { cwd: work });
        break;
      }
    }
    return { id, steps };
  }));
  const parallelSeconds = (Date.now() - t0) / 1000;
  for (const r of results) {
    report.count("lifecycles");
    if (r.steps.length) report.fail("parallel", `${r.id}: ${r.steps.join("; ")}`);
  }
  // their inits were handed to us when create exited: reaping them is our job (as a shim's)
  const reaped = reapOrphans();
  const left = findLeftovers(scope, { fds: true });
  if (left.length) {
    count(left);
    report.fail("leak", `after the parallel lifecycles:\n${left.join("\n")}`);
    cleanLeftovers(scope);
  }
  const fds = ownFdCount();
  if (fds > fds0) {
    leaks.fds = Math.max(leaks.fds, fds - fds0);
    report.fail("fd", `at the end this process has ${fds} fds open, ${fds0} after the warm-up`);
  }
  const stray = fdsInto([root, work]);
  removeWorkDir(work);
  return report.finish([
    `runs: ${report.get("runs")} sequential (median ${median(times).toFixed(0)} ms, slowest ${Math.max(...times).toFixed(0)} ms)`,
    `parallel lifecycles: ${report.get("lifecycles")} at once, ${parallelSeconds.toFixed(1)} s; their ${reaped} exited inits reaped by us as subreaper`,
    `leaks: fds ${leaks.fds} (this process), fds into the state dirs ${leaks.fdsElsewhere + stray.length}, mounts ${leaks.mounts}, cgroups ${leaks.cgroups}, state dirs ${leaks.state}, processes ${leaks.processes}, zombies ${leaks.zombies}`,
  ]);
}

if (require.main === module || basename(process.argv[1] ?? "") === "soak.ts") {
  main().then((code) => process.exit(code), (err) => {
    console.error(err);
    console.log(`check ${NAME}: FAILED (the check crashed)`);
    process.exit(1);
  });
}
