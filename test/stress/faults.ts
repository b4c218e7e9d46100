// Standing check 2: fault injection. `create`, `start`, `run` and `exec` are
// SIGKILLed at moments spread over each one's run time (measured first, per kind
// of container), then `delete --force` must leave no state, mount, cgroup or
// process, and the id must be reusable (a new create with the same id succeeds).
// Kinds of container, so that kills land in different phases: plain, with a user
// namespace, with hooks at every stage, with a terminal (console socket), with a
// seccomp profile.
//
//   npx tsx test/stress/faults.ts [--seed S] [--kills N]   (as root)
// OCIRT_STRESS_SCALE multiplies the number of kills (default 100).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ensureProbeRootfs } from "../../conformance/rootfs";
import type { OciConfig } from "../../src/spec/types";
import { loadSeccompFixture, planConfig } from "../../bench/bundles";
import { Rng } from "./lib/rng";
import { OcirtRunner, badRejection, sleep, type Result } from "./lib/ocirt";
import { becomeSubreaper, cleanLeftovers, findLeftovers, reapOrphans, type Scope } from "./lib/leaks";
import { Report, median, option, scale } from "./lib/report";
import { consoleSink, idPrefix, removeWorkDir, requireRoot, workDir } from "./lib/work";

const NAME = "faults";
type Kind = "plain" | "userns" | "hooks" | "terminal" | "seccomp";
type Command = "create" | "start" | "run" | "exec";
const KINDS: Kind[] = ["plain", "userns", "hooks", "terminal", "seccomp"];
const COMMANDS: Command[] = ["create", "start", "run", "exec"];

/** A profile of the same shape as Docker's (allow-list, ERRNO default) when the shared fixture is absent. */
function fallbackSeccomp(): unknown {
  const gen = JSON.parse(readFileSync(join(__dirname, "..", "..", "build", "gen", "syscalls.json"), "utf8")) as { arches: Record<string, { syscalls: Record<string, number> }> };
  const table = gen.arches["SCMP_ARCH_X86_64"]?.syscalls ?? {};
  if (Object.keys(table).length < 300) throw new Error("build/gen/syscalls.json has no x86_64 table: run node scripts/build.mjs");
  const allow = Object.keys(table).filter((n) => !["kexec_load", "reboot", "init_module", "finit_module", "delete_module"].includes(n));
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 1,
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [{ names: allow, action: "SCMP_ACT_ALLOW" }, { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0, op: "SCMP_CMP_EQ" }] }],
  };
}

function config(kind: Kind, args: string[], mark: string, seccomp: unknown): OciConfig {
  const rootfs = ensureProbeRootfs();
  const cfg: OciConfig = kind === "userns" ? planConfig("userns", rootfs) : kind === "seccomp" ? planConfig("seccomp", rootfs, seccomp) : planConfig("plain", rootfs);
  cfg.process!.args = args;
  if (kind === "terminal") cfg.process!.terminal = true;
  if (kind === "hooks") {
    // short sleeps widen the windows between the stages; the mark finds them if left
    const env = [`OCIRT_STRESS_MARK=${mark}`, "PATH=/usr/bin:/bin"];
    const sh = (script: string) => ({ path: "/bin/sh", args: ["sh", "-c", script], env, timeout: 10 });
    cfg.hooks = {
      prestart: [sh("cat >/dev/null; sleep 0.03")],
      createRuntime: [sh("cat >/dev/null; sleep 0.03")],
      createContainer: [sh("cat >/dev/null; sleep 0.03")],
      startContainer: [{ path: "/bin/probe", args: ["probe", "exit", "0"], env }],
      poststart: [sh("cat >/dev/null; sleep 0.03")],
      poststop: [sh("cat >/dev/null")],
    };
  }
  return cfg;
}

async function main(): Promise<number> {
  requireRoot(NAME);
  const report = new Report(NAME);
  const seed = option("seed", "OCIRT_STRESS_SEED", "1");
  const kills = Math.round(Number(option("kills", undefined, String(100 * scale()))));
  console.log(`== ${NAME}: seed ${seed}, ${kills} kills over ${KINDS.length} kinds of container x ${COMMANDS.length} commands`);
  becomeSubreaper();
  const work = workDir("ocfi");
  const prefix = idPrefix("ocfi");
  const root = join(work, "state");
  const mark = `${prefix}mark`;
  const runner = new OcirtRunner(root, work, mark);
  const scope: Scope = { prefix, roots: [root], dirs: [work], mark };
  const sock = join(work, "console.sock");
  const sink = await consoleSink(sock);
  const seccomp = loadSeccompFixture() ?? fallbackSeccomp();
  if (!loadSeccompFixture()) console.log("  (the shared Docker seccomp fixture is absent: a generated allow-list profile instead)");
  // the sink's and esbuild's processes are not leftovers
  const ignore = (l: string) => l.includes(`process left: ${sink.child.pid} `);

  const bundles = new Map<string, string>();
  const bundle = (kind: Kind, long: boolean) => {
    const key = `${kind}-${long ? "long" : "short"}`;
    let b = bundles.get(key);
    if (!b) {
      b = join(work, `bundle-${key}`);
      mkdirSync(b);
      writeFileSync(join(b, "config.json"), JSON.stringify(config(kind, long ? ["/bin/probe", "sleep", "inf"] : ["/bin/probe", "exit", "0"], mark, seccomp), null, 1));
      bundles.set(key, b);
    }
    return b;
  };

  let n = 0;
  const newId = () => `${prefix}${++n}z`;
  const consoleFlags = (kind: Kind) => (kind === "terminal" ? ["--console-socket", sock] : []);

  /** What the command needs before it runs; the command's argv. */
  const prepare = async (kind: Kind, cmd: Command, id: string): Promise<string[] | string> => {
    const want = (r: Result, what: string) => (r.status === 0 ? null : `${what} failed (${r.status}): ${r.stderr.trim()}`);
    switch (cmd) {
      case "create":
        return ["create", ...consoleFlags(kind), "-b", bundle(kind, false), id];
      case "start": {
        const e = want(await runner.run(["create", ...consoleFlags(kind), "-b", bundle(kind, false), id], { cwd: work }), "create before start");
        return e ?? ["start", id];
      }
      case "run":
        return ["run", ...consoleFlags(kind), "-b", bundle(kind, false), id];
      case "exec": {
        const e = want(await runner.run(["create", ...consoleFlags(kind), "-b", bundle(kind, true), id], { cwd: work }), "create before exec")
          ?? want(await runner.run(["start", id], { cwd: work }), "start before exec");
        return e ?? (kind === "terminal" ? ["exec", "-t", "-d", "--console-socket", sock, id, "/bin/probe", "exit", "0"] : ["exec", id, "/bin/probe", "exit", "0"]);
      }
    }
  };

  /** Waits until nothing of the scope is left (hooks a kill orphaned may still be finishing), at most ms. */
  const settle = async (ms: number): Promise<string[]> => {
    const end = Date.now() + ms;
    for (;;) {
      reapOrphans();
      const left = findLeftovers(scope).filter((l) => !ignore(l));
      if (!left.length || Date.now() > end) return left;
      await sleep(50);
    }
  };

  // 1. how long each command takes for each kind (and that it works at all)
  const duration = new Map<string, number>();
  const samples = new Map<string, number[]>();
  for (const kind of KINDS) {
    for (const cmd of COMMANDS) {
      const times: number[] = [];
      // one sample each: a kill that comes after the command has exited adds another
      for (let i = 0; i < 1; i++) {
        const id = newId();
        const argv = await prepare(kind, cmd, id);
        if (typeof argv === "string") {
          report.fail("setup", `${kind} ${cmd}: ${argv}`);
          break;
        }
        const r = await runner.run(argv, { cwd: work });
        if (r.status !== 0) report.fail("setup", `${kind} ${cmd} (not killed) exited ${r.status}: ${r.stderr.trim()}`);
        else times.push(r.ms);
        await runner.run(["delete", "--force", id], { cwd: work });
        const left = await settle(2000);
        if (left.length) {
          report.fail("leak", `${kind} ${cmd} (not killed), after delete --force:\n${left.join("\n")}`);
          cleanLeftovers(scope);
        }
      }
      if (times.length) {
        samples.set(`${kind} ${cmd}`, times);
        duration.set(`${kind} ${cmd}`, median(times));
      }
    }
  }
  console.log(`  measured: ${[...duration].map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ")}`);

  // 2. the kills, spread over each command's time (stratified: kill j of m lands in the j-th m-th)
  const cells = [...duration.keys()];
  const perCell = Math.ceil(kills / Math.max(1, cells.length));
  const landed = new Map<string, number>();
  const late = new Map<string, number>();
  let k = 0;
  // a kill that comes after the command has exited does not count: rounds go on until
  // `kills` kills have landed while their command ran (at most twice as many tries)
  const hit = () => [...landed.values()].reduce((a, b) => a + b, 0);
  for (let round = 0; hit() < kills && k < 2 * kills; round++) {
    const j = round % perCell;
    for (const cell of cells) {
      if (hit() >= kills || k >= 2 * kills) break;
      const [kind, cmd] = cell.split(" ") as [Kind, Command];
      const rng = new Rng(seed, k++);
      const delay = (duration.get(cell)! * (j + rng.float())) / perCell;
      const id = newId();
      const what = `${kind} ${cmd} killed after ${delay.toFixed(0)} ms (of ~${duration.get(cell)!.toFixed(0)}), id ${id}`;
      const repro = `npx tsx test/stress/faults.ts --seed ${seed} --kills ${kills}   (kill ${k - 1}: ${what})`;
      const argv = await prepare(kind, cmd, id);
      if (typeof argv === "string") {
        report.fail("setup", `${what}: ${argv}`, repro);
        await runner.run(["delete", "--force", id], { cwd: work });
        continue;
      }
      const running = runner.start(argv, { cwd: work });
      await sleep(delay);
      const exited = running.child.exitCode !== null || running.child.signalCode !== null;
      try { running.child.kill("SIGKILL"); } catch { /* gone */ }
      const r = await running.done;
      if (exited || r.signal !== "SIGKILL") {
        late.set(cmd, (late.get(cmd) ?? 0) + 1);
        // it ran to the end: a sample of its whole time, so later kills spread over what it takes now
        samples.get(cell)!.push(r.ms);
        duration.set(cell, median(samples.get(cell)!));
      } else landed.set(cmd, (landed.get(cmd) ?? 0) + 1);
      report.count(`kills ${cmd}`);

      const del = await runner.run(["delete", "--force", id], { cwd: work });
      const bad = badRejection(del);
      if (del.status !== 0 || bad) report.fail("delete", `${what}: delete --force exited ${del.status}${bad ? ` (${bad})` : ""}: ${del.stderr.trim()}`, repro);
      let left = await settle(1500);
      if (left.length) {
        report.fail("leak", `${what}: left after delete --force:\n${left.join("\n")}`, repro);
        cleanLeftovers(scope);
        await runner.run(["delete", "--force", id], { cwd: work });
      }
      // the id is reusable
      const again = await runner.run(["create", ...consoleFlags(kind), "-b", bundle(kind, false), id], { cwd: work });
      if (again.status !== 0) report.fail("reuse", `${what}: a new create with the same id failed (${again.status}): ${again.stderr.trim()}`, repro);
      const del2 = await runner.run(["delete", "--force", id], { cwd: work });
      if (del2.status !== 0) report.fail("delete", `${what}: delete --force of the re-created container exited ${del2.status}: ${del2.stderr.trim()}`, repro);
      left = await settle(1500);
      if (left.length) {
        report.fail("leak", `${what}: left after the re-created container's delete --force:\n${left.join("\n")}`, repro);
        cleanLeftovers(scope);
      }
      if (k % 20 === 0) console.log(`  ${k} kills, ${hit()}/${kills} while the command ran, ${report.failures.length} failures (${report.seconds().toFixed(0)} s)`);
    }
  }

  const left = await settle(2000);
  if (left.length) {
    report.fail("leak", `at the end:\n${left.join("\n")}`);
    cleanLeftovers(scope);
  }
  sink.stop();
  removeWorkDir(work);
  const byCmd = COMMANDS.map((c) => `${c} ${report.get(`kills ${c}`)} (${landed.get(c) ?? 0} while it ran, ${late.get(c) ?? 0} after it had exited)`);
  return report.finish([
    `seed: ${seed} (another: --seed S or OCIRT_STRESS_SEED)`,
    `kills: ${k}, ${hit()} of them while the command ran: ${byCmd.join(", ")}`,
    `kinds of container: ${KINDS.join(", ")}`,
    `each followed by delete --force, the leak walk, and a new create + delete with the same id`,
  ]);
}

if (require.main === module || basename(process.argv[1] ?? "") === "faults.ts") {
  main().then((code) => process.exit(code), (err) => {
    console.error(err);
    console.log(`check ${NAME}: FAILED (the check crashed)`);
    process.exit(1);
  });
}

