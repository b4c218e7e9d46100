// The differences a run may show without failing (pure, no I/O but the loader):
// docs/DIFFERENCES.json, the machine-readable side of docs/DIFFERENCES.md. Each
// entry names the differences it covers by category, field and subject patterns
// (regular expressions) and optionally both values, and says why it is allowed.
// `--ci` fails a run only on differences no entry covers.

import { readFileSync } from "node:fs";
import { isEqual } from "./compare";
import type { Difference } from "./tally";

/** Why a difference is allowed. */
export type AllowKind =
  /** the runtime spec makes ocirt's behaviour right (the entry's `ref` quotes where) */
  | "spec"
  /** ocirt follows a later runc (>= 1.2) on purpose */
  | "runc-1.2"
  /** runc 1.1.5 fails or ignores what the config asks and ocirt does it */
  | "runc-limit"
  /** a known ocirt bug, not fixed yet (the entry says who owns it) */
  | "bug"
  /** both runtimes refuse; only the error's words differ, and none an engine matches */
  | "wording"
  /** the harness sees something that is not a runtime's behaviour (timing, sharing, refcounts) */
  | "noise";

export const ALLOW_KINDS: readonly AllowKind[] = ["spec", "runc-1.2", "runc-limit", "bug", "wording", "noise"];

export interface AllowEntry {
  id: string;
  kind: AllowKind;
  /** Regular expressions, matched against the whole value (anchored). */
  category: string;
  field: string;
  /** Default: any subject. */
  subject?: string;
  /** When given, the difference's values must equal these (JSON equality). */
  runc?: unknown;
  ocirt?: unknown;
  reason: string;
  /** The spec clause (file and section) or the DIFFERENCES.md row it rests on. */
  ref?: string;
}

interface CompiledEntry {
  entry: AllowEntry;
  category: RegExp;
  field: RegExp;
  subject: RegExp | null;
}

const anchored = (re: string, where: string): RegExp => {
  try {
    return new RegExp(`^(?:${re})$`);
  } catch (err) {
    throw new Error(`${where}: not a regular expression: ${(err as Error).message}`);
  }
};

/** Checks and compiles the entries; throws naming the first bad one. */
export function compileAllowList(raw: unknown): CompiledEntry[] {
  const entries = (raw as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw new Error("allow list: no \"entries\" array");
  const ids = new Set<string>();
  return entries.map((e: AllowEntry, i) => {
    const where = `allow list entries[${i}]${e && typeof e.id === "string" ? ` (${e.id})` : ""}`;
    if (!e || typeof e !== "object") throw new Error(`${where}: not an object`);
    for (const k of ["id", "category", "field", "reason"] as const) {
      if (typeof e[k] !== "string" || !e[k]) throw new Error(`${where}: "${k}" must be a non-empty string`);
    }
    if (!ALLOW_KINDS.includes(e.kind)) throw new Error(`${where}: "kind" must be one of ${ALLOW_KINDS.join(", ")}`);
    if (e.kind === "spec" && !e.ref) throw new Error(`${where}: a "spec" entry needs "ref" (the clause that makes ocirt right)`);
    if (ids.has(e.id)) throw new Error(`${where}: duplicate id`);
    ids.add(e.id);
    return {
      entry: e,
      category: anchored(e.category, `${where}.category`),
      field: anchored(e.field, `${where}.field`),
      subject: e.subject === undefined ? null : anchored(e.subject, `${where}.subject`),
    };
  });
}

export function loadAllowList(path: string): CompiledEntry[] {
  return compileAllowList(JSON.parse(readFileSync(path, "utf8")));
}

/** The first entry that covers d, or undefined. */
export function allowedBy(d: Difference, list: readonly CompiledEntry[]): AllowEntry | undefined {
  for (const c of list) {
    if (!c.category.test(d.category) || !c.field.test(d.field)) continue;
    if (c.subject && !c.subject.test(d.subject)) continue;
    if ("runc" in c.entry && !isEqual(c.entry.runc, d.runc)) continue;
    if ("ocirt" in c.entry && !isEqual(c.entry.ocirt, d.ocirt)) continue;
    return c.entry;
  }
  return undefined;
}

export interface Classified {
  /** entry id -> how many differences it covered */
  allowed: Map<string, number>;
  unexpected: Difference[];
  /** entries that covered nothing in this run (a quick run sees fewer) */
  unused: AllowEntry[];
}

export function classify(diffs: readonly Difference[], list: readonly CompiledEntry[]): Classified {
  const allowed = new Map<string, number>();
  const unexpected: Difference[] = [];
  for (const d of diffs) {
    const e = allowedBy(d, list);
    if (e) allowed.set(e.id, (allowed.get(e.id) ?? 0) + 1);
    else unexpected.push(d);
  }
  return { allowed, unexpected, unused: list.map((c) => c.entry).filter((e) => !allowed.has(e.id)) };
}
