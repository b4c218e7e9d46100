// The pass rule for one validation file, kept apart from process handling so
// that it can be tested and read in one place.
import { planSatisfied, type Diagnostic, type TapResult } from "./tap";

export interface ProcessOutcome {
  /** null when the process was killed by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the executable could not be started at all. */
  spawnError?: string;
}

export interface Verdict {
  pass: boolean;
  /** Why it failed, most telling first; empty when it passed. */
  reasons: string[];
  /** Things worth knowing that do not make the file fail. */
  warnings: string[];
}

export const SILENT_PASS = "no output";
export const EMPTY_PLAN = "no results";

/**
 * A file passes when it exited 0, printed a plan that its results satisfy, did
 * not bail out, and has no failing result other than TODO ones.
 *
 * Two additions follow runtime-tools' own conventions, which plain TAP misses:
 * - The hook and lifecycle files report a spec violation as a YAML block with
 *   an "error" key that belongs to no result, then print "1..0". Such a block
 *   fails the file.
 * - The negative files that run runtimetest without a TAP handle (e.g.
 *   process_rlimits_fail) print nothing at all and exit 0 when the runtime
 *   rightly refused the config, and exit 1 otherwise. Empty stdout with exit 0
 *   passes.
 */
export function judge(p: ProcessOutcome, tap: TapResult): Verdict {
  const reasons: string[] = [];
  const warnings: string[] = [];
  if (p.spawnError !== undefined) reasons.push(`not started: ${p.spawnError}`);
  if (p.timedOut) reasons.push("timeout");
  if (tap.bailOut !== undefined) reasons.push(tap.bailOut ? `bail out: ${tap.bailOut}` : "bail out");
  if (!p.timedOut && p.signal) reasons.push(`signal ${p.signal}`);

  const silent = isSilent(tap);
  if (silent && p.exitCode === 0 && reasons.length === 0) {
    warnings.push(SILENT_PASS);
    return { pass: true, reasons, warnings };
  }

  const errors = tap.orphanDiagnostics.filter(isErrorDiagnostic).length;
  if (errors > 0) reasons.push(errors === 1 ? "error diagnostic" : `${errors} error diagnostics`);
  if (!tap.plan) reasons.push("no plan");
  else if (!planSatisfied(tap) && tap.bailOut === undefined) {
    reasons.push(`plan ${tap.assertions.length}/${tap.plan.count}`);
  }
  if (p.exitCode !== null && p.exitCode !== 0) reasons.push(`exit ${p.exitCode}`);
  if (tap.counts.failed > 0) reasons.push(`${tap.counts.failed} not ok`);
  if (tap.plan && tap.plan.count === 0 && reasons.length === 0) warnings.push(tap.plan.skipAll !== undefined ? `skipped: ${tap.plan.skipAll}` : EMPTY_PLAN);
  return { pass: reasons.length === 0, reasons, warnings };
}

/** The one short phrase shown in the table for a file. */
export function shortReason(v: Verdict): string {
  const first = v.pass ? (v.warnings[0] ?? "") : (v.reasons[0] ?? "");
  if (first.startsWith("bail out")) return "bail";
  if (first.startsWith("not started")) return "not started";
  if (first.startsWith("skipped:")) return "skipped";
  return first;
}

function isSilent(tap: TapResult): boolean {
  return (
    tap.version === undefined &&
    tap.plan === undefined &&
    tap.bailOut === undefined &&
    tap.assertions.length === 0 &&
    tap.comments.length === 0 &&
    tap.orphanDiagnostics.length === 0 &&
    tap.extra.length === 0
  );
}

function isErrorDiagnostic(d: Diagnostic): boolean {
  return typeof d.data === "object" && d.data !== null && !Array.isArray(d.data) && "error" in d.data;
}
