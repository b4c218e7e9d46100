// The whole test suite: a strict type check, the unit tests (no root), then the
// integration tests (real containers; without root each records itself as
// skipped), the integration tests once more on the other engine (Node or Bun,
// docs/speed.md), then the differential harness against runc in its CI mode (as root,
// with runc installed; else recorded as skipped), a short benchmark against runc
// (ratios, nothing asserted), then the standing checks of
// test/stress (the config fuzzer, fault injection, the soak: one test each;
// without root, or with OCIRT_STRESS_SCALE=0, skipped). Prints one closing line
// "N passed, N failed, N skipped", then every skip with its reason, and exits
// non-zero on any failure.
//
//   node scripts/test.mjs [unit|integration|integration-other-engine|systemd|differential|bench|stress|stress:<check>] [PATTERN]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const uvu = join(root, "node_modules", "uvu", "bin.js");
const only = process.argv[2]; // unit | integration | integration-other-engine | systemd | differential | bench | stress | stress:<check>
const pattern = process.argv[3] ?? "\\.test\\.ts$"; // narrows the files of that suite
const RUNC = "/usr/bin/runc";
// systemd: only when named (the systemd guest of the VM lane runs it: vm/README.md)
// bin/ocirt runs on the engine the build chose (dist/engine, docs/speed.md); the
// integration suite runs once more on the other one, so both stay supported
const engine = (() => { try { return readFileSync(join(root, "dist", "engine"), "utf8").trim(); } catch { return "node"; } })();
const other = engine === "bun" ? "node" : "bun";
const suites = [
  { name: "unit", dir: "test/unit" },
  { name: "integration", dir: "test/integration" },
  { name: "integration-other-engine", dir: "test/integration", title: `integration (test/integration) on ${other} (OCIRT_ENGINE=${other})`, env: { OCIRT_ENGINE: other } },
  { name: "systemd", dir: "test/systemd", onlyByName: true },
].filter((s) => (only ? s.name === only : !s.onlyByName));
// the standing checks, last (test/stress/*.ts, run with tsx)
const STRESS = ["fuzz-config", "faults", "soak"];
const checks = STRESS.filter((c) => !only || only === "stress" || only === `stress:${c}`);

let passed = 0, failed = 0, skipped = 0;
const skips = [];

// the whole tree type-checks (strict), or the suite fails
if (!only || only === "unit") {
  console.log("== typecheck (tsc --noEmit)");
  const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", join(root, "tsconfig.json")], { cwd: root, stdio: "inherit" });
  if (tsc.status === 0) passed += 1;
  else failed += 1;
}
for (const s of suites) {
  console.log(`\n== ${s.title ?? `${s.name} (${s.dir})`}`);
  // streamed as it comes (a suite in the VM lane runs for minutes) and kept for the totals
  const r = await new Promise((resolve) => {
    const c = spawn(process.execPath, [uvu, "-r", "tsx/cjs", s.dir, pattern], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...s.env },
    });
    const chunks = [];
    c.stdout.on("data", (b) => {
      chunks.push(b);
      process.stdout.write(b);
    });
    c.on("close", (status) => resolve({ status, out: Buffer.concat(chunks).toString() }));
  });
  const out = r.out;
  const num = (re) => Number((re.exec(out) ?? [])[1] ?? 0);
  const total = num(/Total:\s+(\d+)/), ok = num(/Passed:\s+(\d+)/), skip = num(/Skipped:\s+(\d+)/);
  passed += ok;
  skipped += skip;
  // uvu's Total counts the tests that ran; its Skipped ones are not part of it
  failed += Math.max(0, total - ok);
  const reasons = [...out.matchAll(/^skip: (.*)$/gm)].map((m) => `${s.name}: ${m[1]}`);
  skips.push(...reasons);
  // uvu gave up before its totals (it bails out on a failing hook): its skips still count
  if (!/Total:\s+\d+/.test(out)) skipped += reasons.length;
  // crashed before its totals, or exited non-zero with nothing counted as failed:
  // one failure, so the closing line says so
  if (r.status !== 0 && total - ok <= 0) failed += 1;
}
// the differential harness, quick, failing only on differences docs/DIFFERENCES.json
// does not list (conformance/README.md)
if (!only || only === "differential") {
  console.log("\n== differential (conformance/diff --ci: ocirt against runc)");
  const why = process.getuid?.() !== 0 ? "needs root (real containers under runc and ocirt)" : !existsSync(RUNC) ? `no runc at ${RUNC} (apt-get install runc)` : null;
  if (why) {
    console.log(`skip: ${why}`);
    skipped += 1;
    skips.push(`differential: conformance/diff --ci: ${why}`);
  } else {
    const r = spawnSync(process.execPath, [join(root, "node_modules", "tsx", "dist", "cli.mjs"), join(root, "conformance", "diff", "main.ts"), "--ci", "--runc", RUNC], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status === 0) passed += 1;
    else failed += 1;
  }
}
// A short benchmark, ocirt against runc (bench/README.md): its tables (ratios and
// ocirt's phases) land in the output, so a slower phase shows. No timing is asserted:
// it fails only when a command fails or leaves something behind.
if (!only || only === "bench") {
  console.log("\n== bench (bench/run.ts, a few iterations; ratios, not assertions)");
  const hasRunc = spawnSync("runc", ["--version"], { stdio: "ignore" }).status === 0;
  const why = process.getuid?.() !== 0 ? "needs root" : !hasRunc ? "needs runc (the benchmark compares against it)" : !existsSync(join(root, "dist", "ocirt.js")) ? "ocirt is not built" : null;
  if (why) {
    skipped += 1;
    skips.push(`bench: ${why}`);
    console.log(`skip: bench: ${why}`);
  } else {
    const r = spawnSync(process.execPath, [join(root, "node_modules", "tsx", "dist", "cli.mjs"), "bench/run.ts", "--only", "run,lifecycle,commands,state,memory,ctr-run,cri-pod,docker-run", "--iterations", "5", "--warmup", "1"], { cwd: root, stdio: "inherit" });
    if (r.status === 0) passed += 1;
    else failed += 1;
  }
}
// Each standing check is one test: its own counts are in its output, its exit
// status says whether it passed. Output is passed through as it comes (they run
// for minutes); "skip: ..." lines are collected like the suites'.
const isRoot = process.getuid?.() === 0;
const scaleEnv = process.env.OCIRT_STRESS_SCALE;
for (const c of checks) {
  console.log(`\n== stress: ${c} (test/stress/${c}.ts)`);
  const why = !isRoot ? "needs root (real containers need namespaces, mounts and cgroups)" : scaleEnv !== undefined && Number(scaleEnv) === 0 ? "OCIRT_STRESS_SCALE=0" : null;
  if (why) {
    console.log(`skip: ${c}: ${why}`);
    skipped += 1;
    skips.push(`stress: ${c}: ${why}`);
    continue;
  }
  const t0 = Date.now();
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "node_modules", "tsx", "dist", "cli.mjs"), join(root, "test", "stress", `${c}.ts`)], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      process.stdout.write(d);
      out += d;
    });
    child.on("error", () => resolve(1));
    child.on("exit", (status) => {
      for (const m of out.matchAll(/^skip: (.*)$/gm)) skips.push(`stress: ${m[1]}`);
      resolve(/^skip: /m.test(out) && status === 0 ? "skipped" : status);
    });
  });
  console.log(`(${c}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (code === "skipped") skipped += 1;
  else if (code === 0) passed += 1;
  else failed += 1;
}

console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
if (skips.length) console.log(`skipped, with reasons:\n${skips.map((l) => `  ${l}`).join("\n")}`);
if (skips.length !== skipped) console.log(`(${skipped - skips.length} skipped without a recorded reason)`);
process.exit(failed ? 1 : 0);
