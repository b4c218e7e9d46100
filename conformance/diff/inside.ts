// Inside: each corpus config runs under both runtimes the way engines run a container
// (create --bundle B --pid-file F with --log FILE --log-format json, start, wait for the
// process to exit, delete), and the probe's reports are compared field by field.

import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseProbeReport, type ProbeReport } from "../probe/report";
import type { OciConfig } from "../../src/spec/types";
import { classifyStderr } from "./compare";
import { instantiate, type CorpusEntry } from "./corpus";
import type { Harness } from "./env";
import { normaliseReport, normaliseString } from "./normalise";
import { waitGone, type Runtime } from "./runtime";
import type { Tally } from "./tally";

export interface ContainerRun {
  id: string;
  bundle: string;
  create: { status: number; stderr: string };
  start?: { status: number; stderr: string };
  report: ProbeReport | null;
  /** The container's stdout/stderr when no report came. */
  output: string;
  delete: { status: number; stderr: string };
  /** The process did not exit in time (killed by delete --force). */
  timedOut: boolean;
}

export function writeBundle(rt: Runtime, id: string, config: OciConfig, opts: { relativeRoot?: boolean; rootfs: string }): string {
  const b = join(rt.work, "bundles", id);
  mkdirSync(b, { recursive: true });
  writeFileSync(join(b, "config.json"), JSON.stringify(instantiate(config, id), null, 1));
  if (opts.relativeRoot && !existsSync(join(b, "rootfs"))) symlinkSync(opts.rootfs, join(b, "rootfs"));
  return b;
}

/** create + start + wait + delete of one config on one runtime, as an engine does it. */
export async function runContainer(h: Harness, rt: Runtime, entry: { config: OciConfig; relativeRoot?: boolean; name?: string }, tag: string): Promise<ContainerRun> {
  const id = h.newId(rt, tag);
  if (entry.name) h.labels.set(id, entry.name);
  const bundle = writeBundle(rt, id, entry.config, { relativeRoot: entry.relativeRoot, rootfs: h.corpusEnv.rootfs });
  const pidFile = join(rt.work, "io", `${id}.pid`);
  const out = join(rt.work, "io", `${id}.stdout`), err = join(rt.work, "io", `${id}.stderr`);
  const log = join(rt.work, "io", `${id}.log`);
  const g = ["--log", log, "--log-format", "json"];
  const create = await rt.exec([...g, "create", "--bundle", bundle, "--pid-file", pidFile, id], { stdoutFile: out, stderrFile: err, timeoutMs: 20_000 });
  const run: ContainerRun = { id, bundle, create: { status: create.status, stderr: create.stderr }, report: null, output: "", delete: { status: 0, stderr: "" }, timedOut: false };
  if (create.status === 0) {
    const before = readFileSync(err, "utf8").length;
    const start = await rt.exec([...g, "start", id], { timeoutMs: 20_000 });
    run.start = { status: start.status, stderr: start.stderr };
    let pid = 0;
    try {
      pid = Number(readFileSync(pidFile, "utf8"));
    } catch {
      /* no pid file: compared elsewhere */
    }
    if (start.status === 0 && pid > 0) run.timedOut = !(await waitGone(pid, 10_000));
    const stdout = readFileSync(out, "utf8");
    try {
      run.report = parseProbeReport(stdout);
    } catch {
      run.output = stdout + readFileSync(err, "utf8").slice(before);
    }
  }
  const del = await rt.exec([...g, "delete", id]);
  run.delete = { status: del.status, stderr: del.stderr };
  if (del.status !== 0 || run.timedOut) await rt.exec(["delete", "--force", id]);
  return run;
}

/** What a run's outcome says, for the "outcome" cell: exit codes and the error's key words. */
export function outcome(r: ContainerRun, h: Harness, rt: Runtime): Record<string, unknown> {
  const o: Record<string, unknown> = {
    create: r.create.status,
    createError: r.create.status === 0 ? null : classifyStderr(r.create.stderr, r.create.status).keywords,
  };
  if (r.start) {
    o.start = r.start.status;
    o.report = r.report !== null;
    if (!r.report) o.output = normaliseString(r.output.split("\n").filter((l) => !/^time=|^\{"level"/.test(l)).join("\n").trim(), h.norm(rt)).slice(0, 200) || null;
  }
  o.deleteAfterExit = r.delete.status;
  if (r.timedOut) o.timedOut = true;
  return o;
}

// Without a /dev mount of its own, a container's /dev is the shared rootfs's: both runtimes make
// their device nodes there (ocirt replaces what is in the way, runc keeps it), so two such runs
// at once can pull /dev/null from under each other (runc's create failed once in CI on it). They
// run one at a time, runc then ocirt; the others side by side.
let devLock: Promise<unknown> = Promise.resolve();

function writesRootfsDev(entry: CorpusEntry): boolean {
  return !(entry.config.mounts ?? []).some((m) => m.destination === "/dev" || m.destination === "/dev/");
}

/** Runs every entry under both runtimes and compares. */
export async function compareEntry(h: Harness, t: Tally, category: string, entry: CorpusEntry): Promise<void> {
  let a: ContainerRun, b: ContainerRun;
  if (writesRootfsDev(entry)) {
    const turn = devLock.then(async () => {
      const r = await runContainer(h, h.runc, entry, "in");
      return [r, await runContainer(h, h.ocirt, entry, "in")] as const;
    });
    devLock = turn.catch(() => undefined);
    [a, b] = await turn;
  } else {
    [a, b] = await Promise.all([runContainer(h, h.runc, entry, "in"), runContainer(h, h.ocirt, entry, "in")]);
  }
  const oa = outcome(a, h, h.runc), ob = outcome(b, h, h.ocirt);
  t.cell(category, entry.name, "outcome", oa, ob);
  if (a.report && b.report) {
    const na = normaliseReport(a.report, h.norm(h.runc), h.hostNs);
    const nb = normaliseReport(b.report, h.norm(h.ocirt), h.hostNs);
    t.cells(category, entry.name, na, nb);
  }
}
