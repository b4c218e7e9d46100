// Structural comparison of what runc and ocirt showed (pure, no I/O).
//
// diffValues walks two JSON-like values and returns one Leaf per place where they
// differ, each with a path ("mounts[/proc].options") and both values. Arrays of
// primitives are compared as multisets first (what is only in one of them) and
// then for order; arrays of objects are matched by a key when one is known for
// that path (mounts by mount point, fds by number, interfaces by name).

export interface Leaf {
  path: string;
  runc: unknown;
  ocirt: unknown;
}

/** How elements of an array of objects at a path are matched: a key function per path tail. */
export type Keyers = Record<string, (e: unknown) => string>;

const field = (k: string) => (e: unknown) => String((e as Record<string, unknown> | null)?.[k] ?? "?");

/** Keys for the probe report's arrays and for CLI JSON outputs. */
export const DEFAULT_KEYERS: Keyers = {
  mounts: field("mount_point"),
  fds: field("fd"),
  net: field("name"),
  list: field("id"),
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function tail(path: string): string {
  const m = /([A-Za-z_][\w-]*)$/.exec(path);
  return m ? m[1]! : path;
}

function join(path: string, key: string): string {
  return path === "" ? key : /^[A-Za-z_][\w-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function isEqual(a: unknown, b: unknown): boolean {
  return diffValues(a, b).length === 0;
}

export function diffValues(a: unknown, b: unknown, path = "", keyers: Keyers = DEFAULT_KEYERS): Leaf[] {
  if (a === b) return [];
  if (Array.isArray(a) && Array.isArray(b)) return diffArrays(a, b, path, keyers);
  if (isObject(a) && isObject(b)) {
    const out: Leaf[] = [];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) out.push(...diffValues(a[k], b[k], join(path, k), keyers));
    return out;
  }
  if (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b)) return [];
  return [{ path, runc: a, ocirt: b }];
}

function diffArrays(a: unknown[], b: unknown[], path: string, keyers: Keyers): Leaf[] {
  const keyer = keyers[tail(path)];
  const objects = [...a, ...b].every((e) => isObject(e));
  if (keyer && objects && (a.length > 0 || b.length > 0)) {
    // match by key; repeated keys (a mount point mounted twice) by occurrence
    const index = (arr: unknown[]) => {
      const seen = new Map<string, number>();
      const m = new Map<string, unknown>();
      for (const e of arr) {
        const k = keyer(e);
        const n = seen.get(k) ?? 0;
        seen.set(k, n + 1);
        m.set(n === 0 ? k : `${k}#${n + 1}`, e);
      }
      return m;
    };
    const ma = index(a), mb = index(b);
    const out: Leaf[] = [];
    for (const k of new Set([...ma.keys(), ...mb.keys()])) out.push(...diffValues(ma.get(k), mb.get(k), `${path}[${k}]`, keyers));
    // same elements, other order
    if (out.length === 0) {
      const oa = [...ma.keys()], ob = [...mb.keys()];
      if (oa.join("\0") !== ob.join("\0")) out.push({ path: `${path}(order)`, runc: oa, ocirt: ob });
    }
    return out;
  }
  if ([...a, ...b].every((e) => !isObject(e) && !Array.isArray(e))) {
    const count = (arr: unknown[]) => {
      const m = new Map<string, number>();
      for (const e of arr) m.set(JSON.stringify(e), (m.get(JSON.stringify(e)) ?? 0) + 1);
      return m;
    };
    const ca = count(a), cb = count(b);
    const onlyA: unknown[] = [], onlyB: unknown[] = [];
    for (const [k, n] of ca) for (let i = cb.get(k) ?? 0; i < n; i++) onlyA.push(JSON.parse(k));
    for (const [k, n] of cb) for (let i = ca.get(k) ?? 0; i < n; i++) onlyB.push(JSON.parse(k));
    // the values only one side has: runc's extra items on the left, ocirt's on the right
    if (onlyA.length || onlyB.length) return [{ path, runc: onlyA, ocirt: onlyB }];
    if (JSON.stringify(a) !== JSON.stringify(b)) return [{ path: `${path}(order)`, runc: a, ocirt: b }];
    return [];
  }
  const out: Leaf[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...diffValues(a[i], b[i], `${path}[${i}]`, keyers));
  return out;
}

// ---------------------------------------------------------------------------
// stderr: what engines can tell from it. containerd, Docker and Podman match
// words in the runtime's error message; they never parse the format.

/** Phrases engines and operators match in a runtime's error output. */
export const STDERR_KEYWORDS: readonly string[] = [
  "does not exist",
  "not exist",
  "not found",
  "not running",
  "already exists",
  "is paused",
  "not paused",
  "not stopped",
  "is running",
  "no such file or directory",
  "no such process",
  "permission denied",
  "invalid argument",
  "operation not permitted",
  "not a directory",
  "unknown",
  "invalid",
  "exit status",
  "executable file not found",
  "in $path",
  "signal",
  "usage",
];

export interface StderrClass {
  /** Nothing but whitespace. */
  empty: boolean;
  /** The message says it is an error (runc's logrus "level=error", or any text with an exit != 0). */
  error: boolean;
  /** Which STDERR_KEYWORDS appear (lower-cased match). */
  keywords: string[];
}

/** runc writes `time="..." level=error msg="..."` (logrus); the message is what counts. */
export function stderrMessages(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const m = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line);
    out.push(m ? m[1]!.replace(/\\(.)/g, "$1") : line.trim());
  }
  return out;
}

export function classifyStderr(text: string, status: number): StderrClass {
  const msgs = stderrMessages(text).join("\n").toLowerCase();
  const keywords = STDERR_KEYWORDS.filter((k) => msgs.includes(k));
  const error = /level=(error|fatal)/.test(text) || (status !== 0 && msgs.length > 0);
  return { empty: msgs.trim() === "", error, keywords };
}
