// Normalisation (pure): only what must differ between two runs of the same bundle
// is rewritten (container ids, pids, times, the two --root and scratch dirs, the
// runtime's own name, kernel object numbers such as pipe inodes and mount ids).
// Everything else is compared as it is.

import type { ProbeReport } from "../probe/report";

export interface NormContext {
  /** Container ids of this run → "<ID>" (longest first, so "abc-2" is not half-replaced by "abc"). */
  ids: string[];
  /** Literal prefixes → placeholders: the runtime's --root dir → "<ROOT>", its scratch dir → "<OUT>". */
  paths: [from: string, to: string][];
}

const RUNTIME_NAME = /\b(runc|ocirt)\b/g;

/** Rewrites ids, dirs, the runtime's name, timestamps and kernel object numbers in a string. */
export function normaliseString(s: string, ctx: NormContext): string {
  let out = s;
  for (const [from, to] of [...ctx.paths].sort((a, b) => b[0].length - a[0].length)) if (from) out = out.split(from).join(to);
  for (const id of [...ctx.ids].sort((a, b) => b.length - a.length)) if (id) out = out.split(id).join("<ID>");
  out = out.replace(RUNTIME_NAME, "<RUNTIME>");
  // the harness's own numbered output files
  out = out.replace(/<WORK>\/io\/\d+\./g, "<WORK>/io/N.");
  out = out.replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\b/g, "<TIME>");
  out = out.replace(/\b(pipe|socket|anon_inode:\S*|net|mnt|pid|ipc|uts|user|cgroup|time):\[\d+\]/g, "$1:[*]");
  return out;
}

/** normaliseString on every string (and object key) of a JSON-like value. */
export function normaliseDeep<T>(v: T, ctx: NormContext): T {
  if (typeof v === "string") return normaliseString(v, ctx) as T;
  if (Array.isArray(v)) return v.map((e) => normaliseDeep(e, ctx)) as T;
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) out[normaliseString(k, ctx)] = normaliseDeep(e, ctx);
    return out as T;
  }
  return v;
}

/** A pid as what it means: 0, 1 (init of a pid namespace), or some other process. */
export function pidClass(p: unknown): unknown {
  if (typeof p !== "number") return p;
  return p <= 1 ? p : "<PID>";
}

/**
 * `state`/`list` JSON: pids and creation times differ by nature. A pid of 0 is kept
 * (runc reports 0 for a stopped container), any other becomes "<PID>".
 */
export function normaliseStateJson(v: unknown, ctx: NormContext): unknown {
  if (Array.isArray(v)) return v.map((e) => normaliseStateJson(e, ctx));
  if (!v || typeof v !== "object") return normaliseDeep(v, ctx);
  const o = { ...(v as Record<string, unknown>) };
  if (typeof o.pid === "number") o.pid = o.pid > 0 ? "<PID>" : o.pid;
  if (typeof o.created === "string") o.created = /^\d{4}-\d\d-\d\dT/.test(o.created) ? "<TIME>" : o.created;
  return normaliseDeep(o, ctx);
}

/** Every number in a value replaced by its type (for stats, whose values always move). */
export function shapeOf(v: unknown): unknown {
  if (typeof v === "number") return "<number>";
  if (Array.isArray(v)) return v.length ? [shapeOf(v[0])] : [];
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, shapeOf(e)]));
  return v;
}

/** Namespace links of the probe relative to the host's: "host" when the same, else "new". */
export function namespaceClass(link: string | null, host: Record<string, string | null>, kind: string): string | null {
  if (link === null) return null;
  return link === host[kind] ? "host" : "new";
}

/**
 * A probe report with what must differ rewritten: pids relative to the probe's own,
 * namespace inodes as host/new, mount ids as the parent's mount point, the minor of
 * anonymous devices (major 0), inode numbers, key serials; then normaliseDeep.
 */
export function normaliseReport(r: ProbeReport, ctx: NormContext, hostNs: Record<string, string | null>): Record<string, unknown> {
  const rel = (p: number) => (p === r.pid ? "self" : p === 0 ? 0 : p === 1 ? 1 : "<other>");
  const out: Record<string, unknown> = { ...r };
  out.pid = pidClass(r.pid);
  out.ppid = pidClass(r.ppid);
  out.pgid = rel(r.pgid);
  out.sid = rel(r.sid);
  out.nspid = r.nspid?.map(pidClass) ?? null;
  out.namespaces = Object.fromEntries(Object.entries(r.namespaces).map(([k, v]) => [k, namespaceClass(v, hostNs, k)]));
  const byId = new Map((r.mounts ?? []).map((m) => [m.id, m.mount_point]));
  const anon = (dev: string) => (dev.startsWith("0:") ? "0:*" : dev);
  out.mounts =
    r.mounts?.map((m) => {
      const { id: _id, parent, dev, ...rest } = m;
      // peer group numbers are the kernel's counters: whether a mount is shared/slave is what counts
      const propagation = rest.propagation.map((p) => p.replace(/:\d+$/, ""));
      return { ...rest, propagation, dev: anon(dev), parent: byId.get(parent) ?? "(outside)" };
    }) ?? null;
  out.files = Object.fromEntries(
    Object.entries(r.files).map(([k, f]) => {
      if ("error" in f) return [k, f];
      const { ino: _ino, ...rest } = f;
      return [k, rest.dev_major === 0 ? { ...rest, dev_minor: "*" } : rest];
    }),
  );
  // other containers' session keyrings are visible too (same user): only the probe's own counts
  const own = r.session_keyring?.split(";").at(-1);
  out.keys =
    r.keys
      ?.filter((l) => !/ _ses\./.test(l) || (own !== undefined && l.includes(` ${own}:`)))
      .map((l) => l.replace(/^[0-9a-f]+\s+/, "<SERIAL> ").replace(/\s+/g, " ")) ?? null;
  out.session_keyring = r.session_keyring;
  return normaliseDeep(out, ctx);
}
