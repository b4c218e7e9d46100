// Runs opencontainers/runtime-tools' validation executables against one or more
// runtimes and prints a side-by-side scoreboard. See conformance/README.md.
//
//   npx tsx conformance/runner/main.ts --tree /work/rt-src --runtime ocirt --runtime runc
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostError, OcirtError, describe } from "../../src/errors";
import { USAGE, parseRunnerArgs, type RunnerOptions, type RuntimeSpec } from "./args";
import { discoverValidation, lookPath, preflight, selectFiles, type ValidationFile } from "./discover";
import { execute } from "./execute";
import { cleanUp, diffSnapshots, isEmpty, snapshot } from "./leaks";
import { fileRun, tableRows, totalsByRuntime, type FileRecord, type FileRun, type RunRecord } from "./report";
import { formatTable } from "./table";
import { parseTap } from "./tap";
import { judge } from "./verdict";

async function main(argv: string[]): Promise<number> {
  const opts = parseRunnerArgs(argv, process.cwd());
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  const found = discoverValidation(opts.tree);
  if (found.files.length === 0) throw new HostError(`no built validation executables under ${path.join(opts.tree, "validation")} (make runtimetest validation-executables)`, { where: "--tree" });
  const files = selectFiles(found.files, opts.only, opts.exclude);
  const checked = preflight(opts.tree);
  if (checked.errors.length > 0) throw new HostError(checked.errors.join("; "), { where: "--tree" });
  const missing = opts.runtimes.filter((r) => lookPath(r.command) === undefined).map((r) => r.command);
  if (missing.length > 0) throw new HostError(`not found or not executable: ${missing.join(", ")}`, { where: "--runtime" });
  const problems = checked.warnings;
  for (const p of problems) warn(p);
  if (found.unbuilt.length > 0) warn(`not built, so not run: ${found.unbuilt.join(", ")}`);
  const record = newRecord(opts, found.unbuilt, problems);

  const interrupt = new AbortController();
  process.once("SIGINT", () => {
    warn("interrupted: killing the current file, cleaning up, then stopping (Ctrl-C again to quit at once)");
    interrupt.abort();
  });

  const workRoot = fs.mkdtempSync(path.join(tempRoot(), "ocrt-"));
  // mkdtemp makes 0700; containers with user namespaces must traverse it to
  // reach their bundle, as they can through /tmp.
  fs.chmodSync(workRoot, 0o755);
  const total = files.length * opts.runtimes.length;
  let n = 0;
  for (const file of files) {
    if (interrupt.signal.aborted) break;
    const fr: FileRecord = { name: file.name, rel: file.rel, runs: {} };
    record.files.push(fr);
    for (const rt of opts.runtimes) {
      if (interrupt.signal.aborted) break;
      n++;
      const run = await runOne(file, rt, opts, path.join(workRoot, String(n)), interrupt.signal);
      fr.runs[rt.label] = run;
      progress(n, total, file.name, rt.label, run);
      if (opts.json) writeJson(opts.json, record, opts.runtimes);
    }
  }

  if (opts.cleanup) {
    try {
      fs.rmdirSync(workRoot);
    } catch (e) {
      warn(`${workRoot} not removed: ${(e as Error).message}`);
    }
  } else warn(`per-file TMPDIRs kept under ${workRoot}`);

  record.finishedAt = new Date().toISOString();
  const rows = tableRows(record.files, opts.runtimes);
  record.totals = totalsByRuntime(rows, opts.runtimes);
  if (opts.json) writeJson(opts.json, record, opts.runtimes);
  process.stdout.write(formatTable(opts.runtimes.map((r) => r.label), rows));
  if (interrupt.signal.aborted) return 130;
  return record.files.every((f) => Object.values(f.runs).every((r) => r.pass)) ? 0 : 1;
}

async function runOne(file: ValidationFile, rt: RuntimeSpec, opts: RunnerOptions, runTmp: string, signal: AbortSignal): Promise<FileRun> {
  fs.mkdirSync(runTmp, { recursive: true, mode: 0o755 });
  // A TMPDIR of its own: runtime-tools' bundles land there, which is how its
  // leftovers are told apart from anybody else's (see leaks.ts).
  const env = { ...process.env, RUNTIME: rt.command, TMPDIR: runTmp };
  const before = snapshot(rt.command, runTmp);
  const exec = await execute(path.join(opts.tree, file.rel), [], { cwd: opts.tree, env, timeoutMs: opts.timeoutSeconds * 1000, signal });
  const tap = parseTap(exec.stdout);
  const run = fileRun(exec, tap, judge(exec, tap));

  const after = snapshot(rt.command, runTmp, new Set(before.containers.map((c) => c.id)));
  const failures: string[] = [];
  if (after.containersError) failures.push(after.containersError);
  const left = diffSnapshots(before, after, runTmp);
  if (!isEmpty(left)) run.leftovers = left;
  if (opts.cleanup) failures.push(...cleanUp(rt.command, left, runTmp));
  if (failures.length > 0) run.cleanupFailures = failures;
  return run;
}

function newRecord(opts: RunnerOptions, unbuilt: string[], problems: string[]): RunRecord {
  const version = treeVersion(opts.tree);
  return {
    startedAt: new Date().toISOString(),
    tree: opts.tree,
    ...(version !== undefined ? { treeVersion: version } : {}),
    timeoutSeconds: opts.timeoutSeconds,
    host: { kernel: os.release(), arch: process.arch, cgroup: cgroupMode() },
    runtimes: opts.runtimes.map((r) => {
      const rv = runtimeVersion(r.command);
      return rv ? { ...r, version: rv } : { ...r };
    }),
    unbuilt,
    preflight: problems,
    files: [],
    totals: {},
  };
}

function runtimeVersion(command: string): string | undefined {
  const r = spawnSync(command, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (r.error) {
    warn(`${command}: ${r.error.message}`);
    return undefined;
  }
  return r.stdout.split("\n")[0]?.trim() || undefined;
}

function cgroupMode(): string {
  if (fs.existsSync("/sys/fs/cgroup/cgroup.controllers")) return "v2";
  return fs.existsSync("/sys/fs/cgroup/unified") ? "hybrid" : "v1";
}

function treeVersion(tree: string): string | undefined {
  try {
    return fs.readFileSync(path.join(tree, "VERSION"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

function writeJson(file: string, record: RunRecord, runtimes: RuntimeSpec[]): void {
  const rows = tableRows(record.files, runtimes);
  const out = { ...record, totals: totalsByRuntime(rows, runtimes) };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file + ".tmp", JSON.stringify(out, null, 2) + "\n");
  fs.renameSync(file + ".tmp", file);
}

function progress(n: number, total: number, name: string, runtime: string, run: FileRun): void {
  const c = run.counts;
  const verdict = run.pass ? "PASS" : `FAIL (${run.reasons.join("; ")})`;
  const left = run.leftovers && !isEmpty(run.leftovers) ? " [left things behind]" : "";
  process.stderr.write(`[${n}/${total}] ${name} ${runtime}: ${verdict} ok ${c.ok} failed ${c.failed} skipped ${c.skipped} in ${(run.durationMs / 1000).toFixed(1)}s${left}\n`);
}

/** Go's os.TempDir: $TMPDIR, else /tmp. */
function tempRoot(): string {
  return process.env.TMPDIR || "/tmp";
}

function warn(msg: string): void {
  process.stderr.write(`conformance: ${msg}\n`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`conformance: ${describe(err)}\n`);
    if (!(err instanceof OcirtError)) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
    process.exit(2);
  },
);
