// Configs drawn at random from src/spec/schema.json (pure, seeded: the same seed gives
// the same corpus). Only subtrees whose effects stay inside the container are drawn
// (process attributes, resources of its own cgroup, namespaced sysctls, device nodes
// in its /dev, masked/readonly paths, seccomp); namespaces, mounts, root and hooks stay
// those of the default config so that nothing reaches the host.

import type { OciConfig } from "../../src/spec/types";

export type Rng = () => number;

/** mulberry32: small, fast, good enough to pick test values; deterministic per seed. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

type Schema = Record<string, unknown>;

/** Paths (dot-separated, into the config) that random configs may set, with the schema path to draw from. */
export const RANDOM_TARGETS: readonly string[] = [
  "process.user",
  "process.cwd",
  "process.env",
  "process.capabilities",
  "process.rlimits",
  "process.noNewPrivileges",
  "process.oomScoreAdj",
  "process.scheduler",
  "process.ioPriority",
  "hostname",
  "domainname",
  "annotations",
  "linux.resources",
  "linux.sysctl",
  "linux.devices",
  "linux.maskedPaths",
  "linux.readonlyPaths",
  "linux.rootfsPropagation",
  "linux.personality",
  "linux.seccomp",
];

/** Strings for fields without an enum: plausible, boundary and wrong ones. */
const STRINGS: Record<string, readonly string[]> = {
  cwd: ["/", "/tmp", "/home/probeuser", "/ocidiff/missing", "relative", "/etc/passwd"],
  path: ["/dev/ocidiff-a", "/dev/ocidiff-b", "/dev/sub/ocidiff", "/proc/kcore", "/etc", "/tmp", "/ocidiff-missing", "/sys/firmware"],
  env: ["A=1", "PATH=/bin", "EMPTY=", "NOEQ", "U=\u00e9", "X=" + "y".repeat(300)],
  hostname: ["", "h", "a.b", "h".repeat(64), "h".repeat(70)],
  domainname: ["", "example.org", "d".repeat(70)],
  cpus: ["0", "0-1", "1", "0-999", "", "x"],
  mems: ["0", "0-1", "5", ""],
  caps: ["CAP_KILL", "CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_SYS_RESOURCE", "CAP_OCIDIFF", "CAP_SETUID", "CAP_AUDIT_WRITE"],
  sysctlKey: ["kernel.shmmax", "kernel.shmall", "kernel.msgmnb", "kernel.sem", "fs.mqueue.queues_max", "net.ipv4.ip_forward", "net.ipv4.tcp_syncookies", "net.core.somaxconn", "kernel.domainname"],
  sysctlValue: ["0", "1", "4096", "250 32000 32 128", "x", ""],
  syscall: ["mkdir", "mkdirat", "keyctl", "socket", "personality", "getpid", "ocidiff_nosuch", "ioprio_get", "sched_getattr"],
  default: ["", "a", "rw", "/", "x".repeat(100)],
};

function resolve(root: Schema, s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 20 && typeof cur.$ref === "string"; i++) {
    const parts = (cur.$ref as string).replace(/^#\//, "").split("/");
    let t: unknown = root;
    for (const p of parts) t = (t as Schema)[p];
    cur = t as Schema;
  }
  return cur;
}

/** The schema of a dotted config path ("process.rlimits"). */
export function schemaAt(root: Schema, path: string): Schema {
  let s = root;
  for (const p of path.split(".")) {
    s = resolve(root, s);
    const props = s.properties as Record<string, Schema> | undefined;
    if (!props?.[p]) throw new Error(`schema has no ${path}`);
    s = props[p]!;
  }
  return resolve(root, s);
}

function intFor(rng: Rng, s: Schema, key: string): number {
  const min = typeof s.minimum === "number" ? s.minimum : -(2 ** 31);
  const max = typeof s.maximum === "number" ? s.maximum : 2 ** 31 - 1;
  const special: Record<string, number[]> = {
    limit: [-1, 0, 100, 64 << 20, 4096],
    swappiness: [0, 10, 100, 101],
    shares: [2, 512, 1024, 262144, 1],
    quota: [-1, 1000, 50000],
    period: [1000, 100000, 1000001],
    uid: [0, 1000, 65534, 4242],
    gid: [0, 1000, 65534],
    major: [1, 10, 7],
    minor: [3, 5, 229, 0],
    fileMode: [0o666, 0o600, 0o777, 0o4755],
    soft: [0, 1024, 4096],
    hard: [0, 1024, 8192],
    oomScoreAdj: [-1000, 0, 1000, 1001],
    priority: [0, 4, 7, 10],
    nice: [-20, 0, 19],
    errnoRet: [1, 13, 38],
    umask: [0, 0o22, 0o77, 0o777],
  };
  const pool = [...(special[key] ?? []), min, max, 0, 1].filter((n) => n >= min && n <= max && Number.isSafeInteger(n));
  return rng() < 0.8 && pool.length ? pick(rng, pool) : Math.floor(min + rng() * Math.min(max - min, 1e6));
}

function stringFor(rng: Rng, key: string, parent: string): string {
  if (key === "cwd") return pick(rng, STRINGS.cwd!);
  if (key === "path" || parent === "maskedPaths" || parent === "readonlyPaths") return pick(rng, STRINGS.path!);
  if (parent === "env") return pick(rng, STRINGS.env!);
  if (key === "hostname" || key === "domainname") return pick(rng, STRINGS[key]!);
  if (key === "cpus" || key === "mems") return pick(rng, STRINGS[key]!);
  if (["bounding", "effective", "permitted", "inheritable", "ambient"].includes(parent)) return pick(rng, STRINGS.caps!);
  if (parent === "names") return pick(rng, STRINGS.syscall!);
  if (key === "access") return pick(rng, ["rwm", "r", "rw", "m", ""]);
  if (key === "type" && parent === "devices") return pick(rng, ["c", "b", "p", "u", "a"]);
  return pick(rng, STRINGS.default!);
}

/** A value for schema s at key (under parent), at most depth levels deep. */
export function generate(root: Schema, s0: Schema, rng: Rng, key = "", parent = "", depth = 5): unknown {
  const s = resolve(root, s0);
  if (Array.isArray(s.enum)) return pick(rng, s.enum);
  if (Array.isArray(s.oneOf) || Array.isArray(s.anyOf)) return generate(root, pick(rng, (s.oneOf ?? s.anyOf) as Schema[]), rng, key, parent, depth);
  const type = Array.isArray(s.type) ? pick(rng, s.type as string[]) : (s.type as string | undefined);
  switch (type) {
    case "boolean":
      return rng() < 0.5;
    case "integer":
    case "number":
      return intFor(rng, s, key);
    case "string":
      return stringFor(rng, key, parent);
    case "array": {
      if (depth <= 0) return [];
      const n = Math.floor(rng() * 4);
      return Array.from({ length: n }, () => generate(root, (s.items as Schema) ?? {}, rng, key, key, depth - 1));
    }
    case "object": {
      if (depth <= 0) return {};
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const req = new Set((s.required ?? []) as string[]);
      for (const [k, ps] of Object.entries(props)) if (req.has(k) || rng() < 0.4) out[k] = generate(root, ps, rng, k, key, depth - 1);
      if (!Object.keys(props).length && s.additionalProperties) {
        // maps: sysctl, annotations, unified
        const n = 1 + Math.floor(rng() * 3);
        for (let i = 0; i < n; i++) {
          const k = key === "sysctl" ? pick(rng, STRINGS.sysctlKey!) : `ocidiff.key${i}`;
          out[k] = key === "sysctl" ? pick(rng, STRINGS.sysctlValue!) : stringFor(rng, k, key);
        }
      }
      return out;
    }
    default:
      return null;
  }
}

function setPath(c: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = c;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
  o[parts.at(-1)!] = value;
}

export interface RandomConfig {
  name: string;
  fields: string[];
  config: OciConfig;
}

/** count configs: base plus 1-3 targets drawn from the schema, seeded. */
export function randomConfigs(schema: Schema, base: () => OciConfig, count: number, seed: number): RandomConfig[] {
  const rng = seededRng(seed);
  const out: RandomConfig[] = [];
  for (let i = 0; i < count; i++) {
    const c = base() as unknown as Record<string, unknown>;
    const n = 1 + Math.floor(rng() * 3);
    const fields: string[] = [];
    for (let k = 0; k < n; k++) {
      const t = pick(rng, RANDOM_TARGETS);
      if (fields.includes(t)) continue;
      fields.push(t);
      const key = t.split(".").at(-1)!;
      let val = generate(schema, schemaAt(schema, t), rng, key, t.split(".").at(-2) ?? "");
      // devices stay under /dev or are rejected: never a node outside the container's /dev tmpfs
      if (t === "linux.devices" && Array.isArray(val)) val = val.map((d: Record<string, unknown>) => ({ ...d, path: String(d.path ?? "").startsWith("/dev/") ? d.path : `/dev/ocidiff-${k}` }));
      setPath(c, t, val);
    }
    out.push({ name: `random:${seed}:${i} (${fields.join(", ")})`, fields, config: c as unknown as OciConfig });
  }
  return out;
}
