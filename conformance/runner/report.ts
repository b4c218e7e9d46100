// The record of a run: what --json writes, and the table rows derived from it.
import type { Assertion, Diagnostic, Plan, TapCounts, TapResult } from "./tap";
import type { Execution } from "./execute";
import { shortReason, type Verdict } from "./verdict";
import { isEmpty, type Leftovers } from "./leaks";
import { totalsOf, type Row, type Totals } from "./table";
import type { RuntimeSpec } from "./args";

export interface FileRun {
  pass: boolean;
  reasons: string[];
  warnings: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  spawnError?: string;
  durationMs: number;
  tapVersion?: number;
  plan?: Plan;
  bailOut?: string;
  counts: TapCounts;
  problems: string[];
  assertions: AssertionRecord[];
  orphanDiagnostics: unknown[];
  comments: string[];
  /** stdout lines that were not TAP. */
  extraStdout: string[];
  stderr: string;
  leftovers?: Leftovers;
  cleanupFailures?: string[];
}

export interface AssertionRecord {
  id: number;
  ok: boolean;
  description: string;
  directive?: string;
  reason?: string;
  diagnostic?: unknown;
}

export interface FileRecord {
  name: string;
  rel: string;
  runs: Record<string, FileRun>;
}

export interface RunRecord {
  startedAt: string;
  finishedAt?: string;
  tree: string;
  /** runtime-tools' VERSION file. */
  treeVersion?: string;
  timeoutSeconds: number;
  host: { kernel: string; arch: string; cgroup: string };
  runtimes: (RuntimeSpec & { version?: string })[];
  unbuilt: string[];
  preflight: string[];
  files: FileRecord[];
  totals: Record<string, Totals>;
}

export function fileRun(exec: Execution, tap: TapResult, verdict: Verdict): FileRun {
  const r: FileRun = {
    pass: verdict.pass,
    reasons: verdict.reasons,
    warnings: verdict.warnings,
    exitCode: exec.exitCode,
    signal: exec.signal,
    timedOut: exec.timedOut,
    durationMs: exec.durationMs,
    counts: tap.counts,
    problems: tap.problems,
    assertions: tap.assertions.map(assertionRecord),
    orphanDiagnostics: tap.orphanDiagnostics.map(diagnosticValue),
    comments: tap.comments,
    extraStdout: tap.extra,
    stderr: exec.stderr,
  };
  if (exec.spawnError !== undefined) r.spawnError = exec.spawnError;
  if (tap.version !== undefined) r.tapVersion = tap.version;
  if (tap.plan) r.plan = tap.plan;
  if (tap.bailOut !== undefined) r.bailOut = tap.bailOut;
  return r;
}

function assertionRecord(a: Assertion): AssertionRecord {
  const r: AssertionRecord = { id: a.id, ok: a.ok, description: a.description };
  if (a.directive) r.directive = a.directive;
  if (a.reason) r.reason = a.reason;
  if (a.diagnostic) r.diagnostic = diagnosticValue(a.diagnostic);
  return r;
}

function diagnosticValue(d: Diagnostic): unknown {
  return d.data !== undefined ? d.data : d.raw;
}

export function tableRows(files: readonly FileRecord[], runtimes: readonly RuntimeSpec[]): Row[] {
  return files.map((f) => ({
    file: f.name,
    cells: runtimes.map((rt) => {
      const run = f.runs[rt.label];
      if (!run) return undefined;
      return {
        pass: run.pass,
        ok: run.counts.ok,
        failed: run.counts.failed,
        skipped: run.counts.skipped,
        note: noteFor(run),
      };
    }),
  }));
}

/** Failure reason or warning, plus a mark when the file left things on the host (a pass can too). */
function noteFor(run: FileRun): string {
  const parts: string[] = [];
  const why = shortReason({ pass: run.pass, reasons: run.reasons, warnings: run.warnings });
  if (why) parts.push(why);
  if (run.leftovers && !isEmpty(run.leftovers)) parts.push("leftovers");
  return parts.join(", ");
}

export function totalsByRuntime(rows: readonly Row[], runtimes: readonly RuntimeSpec[]): Record<string, Totals> {
  const out: Record<string, Totals> = {};
  runtimes.forEach((rt, i) => {
    out[rt.label] = totalsOf(rows, i);
  });
  return out;
}
