// Results of a run (pure): cells compared per category, every difference, and the
// printed matrix. A cell is one (category, subject, field): "inside / process.user=uid1000 /
// capabilities". A cell whose two values differ yields one Difference per leaf.

import { diffValues, type Leaf } from "./compare";

export interface Difference {
  category: string;
  /** The config (inside, hooks, console) or command and state (cli). */
  subject: string;
  /** The field and the leaf path within it. */
  field: string;
  runc: unknown;
  ocirt: unknown;
}

export interface CategoryCount {
  compared: number;
  equal: number;
  different: number;
}

export class Tally {
  readonly counts = new Map<string, CategoryCount>();
  readonly differences: Difference[] = [];
  /** Harness problems (a timeout, a leftover): not differences, but the run is not clean. */
  readonly errors: string[] = [];

  private count(category: string): CategoryCount {
    let c = this.counts.get(category);
    if (!c) this.counts.set(category, (c = { compared: 0, equal: 0, different: 0 }));
    return c;
  }

  /** Compares one cell; returns the leaves that differ. */
  cell(category: string, subject: string, field: string, runc: unknown, ocirt: unknown): Leaf[] {
    const leaves = diffValues(runc, ocirt, field);
    const c = this.count(category);
    c.compared++;
    if (leaves.length === 0) c.equal++;
    else c.different++;
    for (const l of leaves) {
      this.differences.push({ category, subject, field: l.path, runc: l.runc === undefined ? "(absent)" : l.runc, ocirt: l.ocirt === undefined ? "(absent)" : l.ocirt });
    }
    return leaves;
  }

  /** Every top-level key of two objects as its own cell (keys listed in skip are left out). */
  cells(category: string, subject: string, runc: Record<string, unknown>, ocirt: Record<string, unknown>, skip: string[] = []): void {
    for (const k of new Set([...Object.keys(runc), ...Object.keys(ocirt)])) {
      if (!skip.includes(k)) this.cell(category, subject, k, runc[k], ocirt[k]);
    }
  }

  error(msg: string): void {
    this.errors.push(msg);
  }

  toJSON() {
    return {
      counts: Object.fromEntries(this.counts),
      differences: this.differences,
      groups: groupDifferences(this.differences),
      errors: this.errors,
    };
  }
}

export interface DifferenceGroup {
  category: string;
  field: string;
  runc: unknown;
  ocirt: unknown;
  subjects: string[];
}

/**
 * The same difference (category, field, both values) seen for many subjects is one
 * finding: the printed list shows it once with the subjects it was seen in.
 */
export function groupDifferences(diffs: readonly Difference[]): DifferenceGroup[] {
  const m = new Map<string, DifferenceGroup>();
  for (const d of diffs) {
    // a field path holds subject-specific keys (mount points, paths): group on its shape
    const k = JSON.stringify([d.category, d.field, d.runc, d.ocirt]);
    const g = m.get(k);
    if (g) g.subjects.push(d.subject);
    else m.set(k, { category: d.category, field: d.field, runc: d.runc, ocirt: d.ocirt, subjects: [d.subject] });
  }
  return [...m.values()].sort((a, b) => a.category.localeCompare(b.category) || b.subjects.length - a.subjects.length || a.field.localeCompare(b.field));
}

export function short(v: unknown, max = 90): string {
  const s = v === undefined ? "(absent)" : typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The matrix and the grouped list of differences, as printed at the end of a run. */
export function renderMatrix(t: Tally, opts: { maxSubjects?: number; width?: number; listDifferences?: boolean } = {}): string {
  const lines: string[] = [];
  const cats = [...t.counts.keys()].sort();
  const w = Math.max(8, ...cats.map((c) => c.length));
  lines.push(`${"category".padEnd(w)}  compared     equal  different`);
  let tc = 0, te = 0, td = 0;
  for (const c of cats) {
    const n = t.counts.get(c)!;
    tc += n.compared;
    te += n.equal;
    td += n.different;
    lines.push(`${c.padEnd(w)}  ${String(n.compared).padStart(8)}  ${String(n.equal).padStart(8)}  ${String(n.different).padStart(9)}`);
  }
  lines.push(`${"total".padEnd(w)}  ${String(tc).padStart(8)}  ${String(te).padStart(8)}  ${String(td).padStart(9)}`);
  const groups = groupDifferences(t.differences);
  lines.push("", `differences: ${t.differences.length} (${groups.length} distinct)`);
  const max = opts.maxSubjects ?? 3;
  for (const g of opts.listDifferences === false ? [] : groups) {
    const subj = g.subjects.slice(0, max).join("; ") + (g.subjects.length > max ? `; … (${g.subjects.length} in all)` : "");
    lines.push(`- [${g.category}] ${g.field}: runc ${short(g.runc, opts.width)} | ocirt ${short(g.ocirt, opts.width)}  — ${subj}`);
  }
  if (t.errors.length) lines.push("", `harness errors: ${t.errors.length}`, ...t.errors.map((e) => `! ${e}`));
  return lines.join("\n");
}
