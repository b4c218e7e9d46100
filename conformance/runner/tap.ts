// A TAP (version 12/13) consumer for the output of runtime-tools' validation
// executables. It is deliberately forgiving: a runtime under test can crash a
// validation file half way, so the parser never throws and instead records what
// it could not make sense of (problems, extra lines) for the verdict and report.

export type Directive = "SKIP" | "TODO";

export interface Assertion {
  /** The number the producer printed, or the implied next number when it printed none. */
  id: number;
  ok: boolean;
  description: string;
  directive?: Directive;
  /** Text after the SKIP/TODO keyword. */
  reason?: string;
  /** YAML diagnostic block attached to this result (parsed when it is JSON or flat YAML). */
  diagnostic?: Diagnostic;
  /** 1-based line of the result in the stream. */
  line: number;
}

export interface Diagnostic {
  /** The block's text with its indentation removed. */
  raw: string;
  /** JSON value, or a flat key/value object, when the block could be read as such. */
  data?: unknown;
  /** The block had no closing "..." line before the stream ended. */
  unterminated?: boolean;
}

export interface Plan {
  count: number;
  /** "1..0 # SKIP why": the whole file was skipped. */
  skipAll?: string;
  line: number;
}

export interface TapResult {
  version?: number;
  plan?: Plan;
  assertions: Assertion[];
  /** "Bail out!" reason ("" when none was given). */
  bailOut?: string;
  /** "# ..." lines outside YAML blocks. */
  comments: string[];
  /** YAML blocks that belong to no result (runtime-tools reports some failures this way). */
  orphanDiagnostics: Diagnostic[];
  /** Whether YAML blocks were read as following ("after") or leading ("before") their result. */
  diagnosticPlacement?: "after" | "before";
  /** Lines that are not TAP (crash output, panics, stray prints). */
  extra: string[];
  /** Structural violations: duplicate plans, out-of-order numbers, ... */
  problems: string[];
  counts: TapCounts;
}

export interface TapCounts {
  /** Passing results without directive. */
  ok: number;
  /** Failing results without directive. */
  failed: number;
  skipped: number;
  todo: number;
  /** TODO results that passed anyway. */
  todoPassed: number;
  total: number;
}

const VERSION_RE = /^TAP version (\d+)\s*$/i;
const PLAN_RE = /^1\.\.(\d+)\s*(?:#\s*(.*))?$/;
const RESULT_RE = /^(not ok|ok)\b\s*(\d+)?\s*(.*)$/;
const BAIL_RE = /^Bail out!\s*(.*)$/;
const YAML_START_RE = /^(\s+)---\s*$/;

export function parseTap(text: string): TapResult {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();

  const r: TapResult = { assertions: [], comments: [], orphanDiagnostics: [], extra: [], problems: [], counts: emptyCounts() };
  let last: Assertion | undefined;
  const blocks: { diag: Diagnostic; after: number }[] = [];

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;

    const yaml = YAML_START_RE.exec(line);
    if (yaml) {
      const indent = yaml[1]!;
      const body: string[] = [];
      let j = i + 1;
      let closed = false;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trimEnd() === `${indent}...`) {
          closed = true;
          break;
        }
        body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
      }
      blocks.push({ diag: readDiagnostic(body.join("\n"), !closed), after: r.assertions.length - 1 });
      if (!closed) r.problems.push(`line ${lineNo}: YAML block not terminated`);
      i = closed ? j : lines.length;
      continue;
    }

    if (line.length > 0 && /^\s/.test(line)) {
      // Indented TAP is a subtest (TAP14) or continuation output; it never counts
      // towards the top-level plan.
      r.extra.push(line);
      continue;
    }

    const version = VERSION_RE.exec(line);
    if (version) {
      if (lineNo !== 1) r.problems.push(`line ${lineNo}: TAP version line is not the first line`);
      r.version = Number(version[1]);
      continue;
    }

    const plan = PLAN_RE.exec(line);
    if (plan) {
      if (r.plan) {
        r.problems.push(`line ${lineNo}: second plan 1..${plan[1]} (first at line ${r.plan.line})`);
        continue;
      }
      r.plan = { count: Number(plan[1]), line: lineNo };
      const directive = plan[2]?.trim();
      if (r.plan.count === 0 && directive !== undefined && /^skip\S*/i.test(directive)) {
        r.plan.skipAll = directive.replace(/^skip\S*\s*/i, "");
      }
      continue;
    }

    const result = RESULT_RE.exec(line);
    if (result) {
      const expected = (last?.id ?? 0) + 1;
      const id = result[2] !== undefined ? Number(result[2]) : expected;
      if (id !== expected) r.problems.push(`line ${lineNo}: result ${id} out of sequence (expected ${expected})`);
      last = { id, ok: result[1] === "ok", line: lineNo, ...splitDescription(result[3] ?? "") };
      r.assertions.push(last);
      continue;
    }

    const bail = BAIL_RE.exec(line);
    if (bail) {
      r.bailOut = bail[1]!.trim();
      continue;
    }

    if (line.startsWith("#")) {
      r.comments.push(line.replace(/^#\s?/, ""));
      continue;
    }

    if (line.trim() !== "") r.extra.push(line);
  }

  attachDiagnostics(r, blocks);

  const plan = r.plan;
  if (plan && r.assertions.some((a) => a.line < plan.line) && r.assertions.some((a) => a.line > plan.line)) {
    r.problems.push(`line ${plan.line}: plan is neither at the start nor at the end`);
  }
  const seen = new Set<number>();
  for (const a of r.assertions) {
    if (seen.has(a.id)) r.problems.push(`line ${a.line}: result number ${a.id} used twice`);
    seen.add(a.id);
  }
  r.counts = countAssertions(r.assertions);
  return r;
}

/**
 * TAP 13 puts a YAML block after its result. tap-go's callers in runtime-tools
 * also print one before the result it explains (RuntimeInsideValidate with a
 * TAP handle: YAML with the inner stdout, then "ok"). A stream whose first block
 * comes before any result, with results after it, is read that way throughout.
 */
function attachDiagnostics(r: TapResult, blocks: readonly { diag: Diagnostic; after: number }[]): void {
  const leadIn = blocks.length > 0 && blocks[0]!.after === -1 && r.assertions.length > 0;
  r.diagnosticPlacement = leadIn ? "before" : "after";
  for (const b of blocks) {
    const target = r.assertions[leadIn ? b.after + 1 : b.after];
    if (target && !target.diagnostic) target.diagnostic = b.diag;
    else r.orphanDiagnostics.push(b.diag);
  }
}

/** Whether the plan is present and matches the results actually printed. */
export function planSatisfied(r: TapResult): boolean {
  if (!r.plan || r.bailOut !== undefined) return false;
  if (r.assertions.length !== r.plan.count) return false;
  return r.assertions.every((a) => a.id >= 1 && a.id <= r.plan!.count);
}

export function countAssertions(list: readonly Assertion[]): TapCounts {
  const c = emptyCounts();
  for (const a of list) {
    c.total++;
    if (a.directive === "SKIP") c.skipped++;
    else if (a.directive === "TODO") {
      c.todo++;
      if (a.ok) c.todoPassed++;
    } else if (a.ok) c.ok++;
    else c.failed++;
  }
  return c;
}

function emptyCounts(): TapCounts {
  return { ok: 0, failed: 0, skipped: 0, todo: 0, todoPassed: 0, total: 0 };
}

/**
 * Splits "- desc # SKIP why" into its parts. Only a '#' that introduces SKIP or
 * TODO ends the description: descriptions such as "issue #12" stay whole, and
 * "\#" is an escaped hash.
 */
function splitDescription(rest: string): Pick<Assertion, "description" | "directive" | "reason"> {
  let text = rest.replace(/^-\s*/, "");
  for (let k = 0; k < text.length; k++) {
    if (text[k] !== "#" || (k > 0 && text[k - 1] === "\\")) continue;
    const after = text.slice(k + 1).trimStart();
    const m = /^(skip|todo)\S*(?:\s+|$)(.*)$/i.exec(after);
    if (!m) continue;
    const directive: Directive = m[1]!.toUpperCase() === "SKIP" ? "SKIP" : "TODO";
    const reason = m[2]!.trim();
    // tap-go prints "ok 3 # SKIP why" with no description: the reason is all there is.
    const description = unescape(text.slice(0, k).trim().replace(/^-\s*/, "")) || reason;
    return { description, directive, reason };
  }
  text = unescape(text.trim());
  return { description: text };
}

function unescape(s: string): string {
  return s.replace(/\\([#\\])/g, "$1");
}

function readDiagnostic(raw: string, unterminated: boolean): Diagnostic {
  const d: Diagnostic = { raw };
  if (unterminated) d.unterminated = true;
  const trimmed = raw.trim();
  if (trimmed === "") return d;
  try {
    d.data = JSON.parse(trimmed);
    return d;
  } catch {
    // not JSON: try flat YAML below
  }
  const flat = readFlatYaml(trimmed);
  if (flat) d.data = flat;
  return d;
}

/**
 * Reads "key: value" lines (strings, numbers, booleans, null). Nested YAML is
 * left raw: the runner only needs to show diagnostics, not interpret them.
 */
function readFlatYaml(text: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const m = /^([A-Za-z0-9_.\- ]+?):(?:\s+(.*))?$/.exec(line);
    if (!m || m[2] === undefined) return undefined;
    out[m[1]!] = yamlScalar(m[2].trim());
  }
  return out;
}

function yamlScalar(v: string): unknown {
  if (v === "null" || v === "~") return null;
  if (v === "true") return true;
  if (v === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
    if (v.startsWith('"')) {
      try {
        return JSON.parse(v);
      } catch {
        return v.slice(1, -1);
      }
    }
    return v.slice(1, -1).replace(/''/g, "'");
  }
  return v;
}
