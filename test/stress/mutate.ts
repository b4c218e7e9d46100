// The config fuzzer's mutations: pure functions of a seeded generator, a base
// config and the host facts in FuzzEnv, so that (seed, index) reproduces a case.
//
// Mutations: types, values (integer boundaries, huge / NUL / unicode / multi-line
// strings, deep nesting), structure (missing, extra, duplicated keys, nulls), big
// arrays (5,000 env vars, 2,000 mounts, 500 hooks, 300 kB of annotations, ...),
// paths (relative, "..", through the symlinks planted in the fuzz rootfs),
// namespaces and ids, and the raw text (truncated, invalid UTF-8, a NUL byte).
//
// Then `makeSafe` keeps every case harmless to the shared host whatever ocirt does
// with it: hooks run only /bin/true, /bin/false or our own sh scripts; namespaces
// joined by path are our sleeper's, or the host's net/uts/ipc with every sysctl
// and the hostname pinned to the host's current values; cgroups live under the
// check's prefix; bind sources, root.path and overlay dirs stay in the work dir;
// no host interface is named in netDevices; no block device is mounted.
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, posix, resolve } from "node:path";
import { Entries, Raw, clone, isObject, setKey, toText, type Json } from "./lib/json-text";
import type { Rng } from "./lib/rng";

export interface CorpusEntry {
  name: string;
  /** The parsed document, or undefined when the text is not JSON. */
  value: Json | undefined;
  text: string;
  /** Picked this often relative to the others. */
  weight: number;
}

export interface FuzzEnv {
  /** The private rootfs (a copy of the probe rootfs with hostile symlinks planted). */
  rootfs: string;
  /** The work dir everything of the check lives in. */
  work: string;
  /** A bundle dir (all bundles are siblings: <work>/bundle-N), for relative paths. */
  bundle: string;
  /** Every id and cgroup of the check contains it; canaries are named <prefix>canary-*. */
  prefix: string;
  /** /proc/<pid>/ns/<name> of a sleeper in namespaces of its own (net, uts, ipc, mnt). */
  sleeperNs: Record<string, string>;
  /** Paths of the host's (our own) net, uts and ipc namespace files by OCI type (no other type is ever joined). */
  hostNs: Record<string, string[]>;
  /** A bind source dir and file inside the work dir. */
  srcDir: string;
  srcFile: string;
  /** Host programs hooks may run. */
  hookTrue: string;
  hookFalse: string;
  hookSh: string;
  /** Current host values (sysctls by dotted key, hostname, domainname). */
  hostSysctl(key: string): string | undefined;
  hostname: string;
  domainname: string;
  /** Filesystem types backed by a block device (not "nodev" in /proc/filesystems). */
  blockFs: ReadonlySet<string>;
  /** Host network interfaces (never named in netDevices). */
  hostIfaces: ReadonlySet<string>;
}

export interface FuzzCase {
  index: number;
  base: string;
  /** What was done to the base, in order. */
  ops: string[];
  /** config.json's exact text. */
  text: string;
  /** Extra flags for create. */
  createFlags: string[];
  /** The container id (normally valid; sometimes a hostile one). */
  id: string;
  /** process.terminal of the final config (create needs a console socket). */
  terminal: boolean;
}

type Obj = { [k: string]: Json };
type Container = Obj | Json[] | Entries;

const NS_TYPES = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];

// ---- values -------------------------------------------------------------------

/** Integer boundaries; those beyond 2^53 (and -0, 1e400) as literal text. */
export const BOUNDARY_NUMBERS: readonly Json[] = [
  0, -1, 1, 7, 255, 1000, 65534, 65535, 65536, 2147483647, 2147483648, -2147483648, -2147483649, 4294967295, 4294967296,
  9007199254740991, new Raw("9007199254740993"), new Raw("9223372036854775807"), new Raw("9223372036854775808"),
  new Raw("18446744073709551615"), new Raw("18446744073709551616"), new Raw("-9223372036854775809"),
  new Raw("-0"), new Raw("1e400"), new Raw("-1e400"), new Raw("1e-400"), 1.5, -0.5, new Raw("1E2"), new Raw("100000000000000000000000000000"),
];

export function nastyString(rng: Rng, env: FuzzEnv): string {
  return rng.weighted<() => string>([
    [3, () => ""],
    [1, () => " "],
    [3, () => "\u0000"],
    [3, () => `a\u0000b`],
    [2, () => "/tmp\u0000/x"],
    [4, () => "line one\nline two"],
    [1, () => "\r\n"],
    [1, () => "\t"],
    [2, () => "é日本語🙂"],
    [1, () => "\u202eevil"],
    [1, () => "e\u0301"],
    [2, () => "\ud800"],
    [1, () => "\uffff\ufffe"],
    [2, () => "a".repeat(4097)],
    [1, () => "/" + "d/".repeat(3000)],
    [2, () => "x".repeat(rng.pick([65_536, 300_000, 1 << 20]))],
    [3, () => "../../../../../../etc/passwd"],
    [2, () => "/../../../../tmp"],
    [2, () => "relative/path"],
    [1, () => "."],
    [1, () => ".."],
    [2, () => "/"],
    [1, () => "//"],
    [1, () => "/proc/self/root"],
    [1, () => "%s%n%x%p"],
    [1, () => "${HOME}$(true)`true`"],
    [1, () => "\\"],
    [1, () => "\""],
    [1, () => "{}"],
    [1, () => "null"],
    [1, () => "-1"],
    [1, () => "18446744073709551616"],
    [1, () => "NaN"],
    [1, () => "SIGKILL"],
    [1, () => "CAP_SYS_ADMIN"],
    [1, () => "RLIMIT_NOFILE"],
    [1, () => "SCMP_ACT_KILL"],
    [1, () => "rbind"],
    [1, () => "rshared"],
    [1, () => "mode=755,size=1k"],
    [1, () => "__proto__"],
    [1, () => "constructor"],
    [2, () => `/escape/${env.prefix}canary-s`],
    [2, () => `/up/${env.prefix}canary-s`],
  ])();
}

function anyValue(rng: Rng, env: FuzzEnv, depth = 0): Json {
  return rng.weighted<() => Json>([
    [3, () => rng.pick(BOUNDARY_NUMBERS)],
    [3, () => nastyString(rng, env)],
    [1, () => rng.chance(0.5)],
    [1, () => null],
    [1, () => (depth < 2 ? [anyValue(rng, env, depth + 1)] : [])],
    [1, () => (depth < 2 ? { [rng.pick(["x", "type", "path", "", "__proto__"])]: anyValue(rng, env, depth + 1) } : {})],
    [1, () => deepNesting(rng)],
  ])();
}

/** Arrays/objects nested deeply, as text (Go's decoder and ocirt stop at 10,000). */
function deepNesting(rng: Rng): Raw {
  const d = rng.pick([64, 1000, 9_999, 10_000, 10_001, 100_000]);
  return rng.chance(0.5) ? new Raw("[".repeat(d) + "]".repeat(d)) : new Raw('{"a":'.repeat(d) + "1" + "}".repeat(d));
}

function sameTypeSwap(rng: Rng, env: FuzzEnv, v: Json): Json {
  const kinds: (() => Json)[] = [];
  if (typeof v !== "string") kinds.push(() => nastyString(rng, env), () => String(v));
  if (typeof v !== "number") kinds.push(() => rng.pick(BOUNDARY_NUMBERS));
  if (typeof v !== "boolean") kinds.push(() => rng.chance(0.5));
  if (!Array.isArray(v)) kinds.push(() => [v], () => []);
  if (!isObject(v)) kinds.push(() => ({}), () => ({ value: v }));
  if (v !== null) kinds.push(() => null);
  return rng.pick(kinds)();
}

// ---- tree access --------------------------------------------------------------

function children(c: Container): [string | number, Json][] {
  if (Array.isArray(c)) return c.map((v, i) => [i, v]);
  if (c instanceof Entries) return c.list.map(([, v], i) => [i, v]);
  return Object.entries(c);
}

function isContainer(v: Json): v is Container {
  return (Array.isArray(v) || isObject(v) || v instanceof Entries) && !(v instanceof Raw);
}

function setChild(c: Container, k: string | number, v: Json): void {
  if (Array.isArray(c)) c[k as number] = v;
  else if (c instanceof Entries) c.list[k as number]![1] = v;
  else setKey(c, k as string, v);
}

function deleteChild(c: Container, k: string | number): void {
  if (Array.isArray(c)) c.splice(k as number, 1);
  else if (c instanceof Entries) c.list.splice(k as number, 1);
  else delete c[k as string];
}

interface Spot {
  parent: Container;
  key: string | number;
  value: Json;
  path: string;
}

/** A random node: a random descent that may stop at any level below the top. */
function randomSpot(rng: Rng, root: Json): Spot | undefined {
  if (!isContainer(root)) return undefined;
  let parent: Container = root;
  let path = "";
  for (let depth = 0; depth < 64; depth++) {
    const kids = children(parent);
    if (!kids.length) return undefined;
    const [key, value] = rng.pick(kids);
    const here = `${path}${typeof key === "number" ? `[${key}]` : `.${key}`}`;
    if (!isContainer(value) || !children(value).length || rng.chance(0.3)) return { parent, key, value, path: here };
    parent = value;
    path = here;
  }
  return undefined;
}

/** All numeric leaves (for boundary values). */
function numericSpots(root: Json): Spot[] {
  const out: Spot[] = [];
  const walk = (c: Container, path: string, depth: number) => {
    if (depth > 12 || out.length > 2000) return;
    for (const [k, v] of children(c)) {
      const p = `${path}${typeof k === "number" ? `[${k}]` : `.${k}`}`;
      if (typeof v === "number" || (v instanceof Raw && /^-?\d/.test(v.text))) out.push({ parent: c, key: k, value: v, path: p });
      else if (isContainer(v)) walk(v, p, depth + 1);
    }
  };
  if (isContainer(root)) walk(root, "", 0);
  return out;
}

/** The object at path (made when missing); undefined when something on the way is not an object. */
function objAt(root: Json, path: readonly string[]): Obj | undefined {
  if (!isObject(root)) return undefined;
  let cur: Obj = root;
  for (const k of path) {
    const next = cur[k];
    if (next === undefined) setKey(cur, k, {});
    else if (!isObject(next)) return undefined;
    cur = cur[k] as Obj;
  }
  return cur;
}

function arrAt(root: Json, path: readonly string[]): Json[] | undefined {
  const parent = objAt(root, path.slice(0, -1));
  if (!parent) return undefined;
  const k = path[path.length - 1]!;
  if (parent[k] === undefined || parent[k] === null) setKey(parent, k, []);
  const v = parent[k];
  return Array.isArray(v) ? v : undefined;
}

// ---- making a base config runnable on the probe rootfs --------------------------

/** A base config pointed at the fuzz rootfs, running `/bin/probe exit 0`, with its host-bound parts made private. */
export function makeRunnable(v: Json, env: FuzzEnv, rng: Rng, index: number): void {
  if (!isObject(v)) return;
  const root = objAt(v, ["root"]);
  if (root) {
    setKey(root, "path", env.rootfs);
    if (typeof root["readonly"] !== "boolean") setKey(root, "readonly", rng.chance(0.7));
  }
  const p = objAt(v, ["process"]);
  if (p) {
    setKey(p, "args", ["/bin/probe", "exit", "0"]);
    setKey(p, "terminal", false);
    if (typeof p["cwd"] !== "string") setKey(p, "cwd", "/");
    if (rng.chance(0.8)) delete p["apparmorProfile"];
    if (rng.chance(0.8)) delete p["selinuxLabel"];
  }
  const linux = v["linux"];
  if (isObject(linux)) {
    if (rng.chance(0.8)) delete linux["mountLabel"];
    if (rng.chance(0.8)) delete linux["intelRdt"];
    // controllers this host does not mount (hugetlb, rdma, net_cls)
    const res = linux["resources"];
    if (isObject(res) && rng.chance(0.8)) for (const k of ["hugepageLimits", "rdma", "network"]) delete res[k];
    if (typeof linux["cgroupsPath"] === "string") setKey(linux, "cgroupsPath", rng.chance(0.5) ? `/${caseTag(env, index)}` : caseTag(env, index));
    if (Array.isArray(linux["namespaces"])) {
      for (const ns of linux["namespaces"]) {
        if (!isObject(ns) || typeof ns["path"] !== "string" || !ns["path"]) continue;
        const t = String(ns["type"]);
        if (env.sleeperNs[t] && rng.chance(0.7)) setKey(ns, "path", env.sleeperNs[t]);
        else delete ns["path"];
      }
    }
  }
  // the hooks of real configs name host programs: ours instead
  const hooks = v["hooks"];
  if (isObject(hooks)) {
    for (const list of Object.values(hooks)) {
      if (!Array.isArray(list)) continue;
      for (const h of list) if (isObject(h)) Object.assign(h, safeHook(rng, env, String(list === hooks["startContainer"] ? "in" : "host")));
    }
  }
}

function safeHook(rng: Rng, env: FuzzEnv, where: string): Obj {
  if (where === "in") return rng.weighted<Obj>([[3, { path: "/bin/probe", args: ["probe", "exit", "0"] }], [1, { path: "/bin/probe", args: ["probe", "exit", "3"] }], [1, { path: env.hookTrue }]]);
  return rng.weighted<Obj>([
    [4, { path: env.hookTrue }],
    [1, { path: env.hookFalse }],
    [2, { path: env.hookSh, args: ["sh", "-c", "cat >/dev/null; exit 0"] }],
    [1, { path: env.hookSh, args: ["sh", "-c", "exit 7"] }],
    [1, { path: env.hookSh, args: ["sh", "-c", "sleep 5"], timeout: 1 }],
    [1, { path: "/nonexistent/hook" }],
  ]);
}

// ---- the mutations ----------------------------------------------------------------

/** `deep`: the case should stay valid where it can (create, start and delete get far into it). */
type Mutation = (v: Json, rng: Rng, env: FuzzEnv, index: number, deep: boolean) => string | undefined;

const typeSwap: Mutation = (v, rng, env) => {
  const s = randomSpot(rng, v);
  if (!s) return undefined;
  const n = sameTypeSwap(rng, env, s.value);
  setChild(s.parent, s.key, n);
  return `type ${s.path} = ${describe(n)}`;
};

const boundary: Mutation = (v, rng) => {
  const nums = numericSpots(v);
  const s = nums.length && rng.chance(0.75) ? rng.pick(nums) : randomSpot(rng, v);
  if (!s) return undefined;
  const n = rng.pick(BOUNDARY_NUMBERS);
  setChild(s.parent, s.key, n);
  return `value ${s.path} = ${describe(n)}`;
};

const stringValue: Mutation = (v, rng, env) => {
  const s = randomSpot(rng, v);
  if (!s) return undefined;
  const n = nastyString(rng, env);
  setChild(s.parent, s.key, n);
  return `string ${s.path} = ${describe(n)}`;
};

const removeKey: Mutation = (v, rng) => {
  const s = randomSpot(rng, v);
  if (!s) return undefined;
  deleteChild(s.parent, s.key);
  return `remove ${s.path}`;
};

const nullValue: Mutation = (v, rng) => {
  const s = randomSpot(rng, v);
  if (!s) return undefined;
  setChild(s.parent, s.key, null);
  return `null ${s.path}`;
};

const extraKey: Mutation = (v, rng, env) => {
  let target: Json = v;
  const s = randomSpot(rng, v);
  if (s && isObject(s.value)) target = s.value;
  else if (s && isObject(s.parent)) target = s.parent;
  if (!isObject(target)) return undefined;
  const k = rng.pick(["x-unknown", "", "__proto__", "constructor", "toString", "Process", "process ", "\u0000", "k".repeat(10_000), "linux", "type"]);
  const n = anyValue(rng, env);
  setKey(target, k, n);
  return `extra key ${s?.path ?? ""}.${describe(k)} = ${describe(n)}`;
};

const duplicateKey: Mutation = (v, rng, env) => {
  const objs: { parent: Container | null; key: string | number; obj: Obj; path: string }[] = [];
  const walk = (parent: Container | null, key: string | number, o: Json, path: string, depth: number) => {
    if (depth > 6) return;
    if (isObject(o) && Object.keys(o).length) objs.push({ parent, key, obj: o, path });
    if (isContainer(o)) for (const [k, c] of children(o)) walk(o, k, c, `${path}${typeof k === "number" ? `[${k}]` : `.${k}`}`, depth + 1);
  };
  walk(null, "", v, "", 0);
  if (!objs.length) return undefined;
  const t = rng.pick(objs);
  const entries = Object.entries(t.obj) as [string, Json][];
  const [k, old] = rng.pick(entries);
  const second = rng.chance(0.5) ? sameTypeSwap(rng, env, old) : clone(old);
  const list: [string, Json][] = rng.chance(0.5) ? [...entries, [k, second]] : [[k, second], ...entries];
  const e = new Entries(list);
  if (t.parent === null) return undefined; // the top level is handled as text (below)
  setChild(t.parent, t.key, e);
  return `duplicate key ${t.path}.${k}`;
};

const nest: Mutation = (v, rng) => {
  const s = randomSpot(rng, v);
  if (!s) return undefined;
  const n = deepNesting(rng);
  setChild(s.parent, s.key, n);
  return `nesting ${s.path} = ${describe(n)}`;
};

/** Real-sized arrays and maps. */
const huge: Mutation = (v, rng, env, index) => {
  const which = rng.pick(["env", "args", "mounts", "hooks", "annotations", "annotationsMany", "masked", "readonly", "devices", "uidMappings", "gids", "rlimits", "seccomp", "caps", "sysctl", "deviceRules", "weightDevices", "bigArg"]);
  const n = (k: number) => k;
  switch (which) {
    case "env": {
      const a = arrAt(v, ["process", "env"]);
      if (!a) return undefined;
      const count = rng.pick([65, 500, 5000]);
      for (let i = 0; i < count; i++) a.push(`FUZZ_VAR_${i}=value-${i}`);
      return `process.env += ${count} variables`;
    }
    case "args": {
      const a = arrAt(v, ["process", "args"]);
      if (!a) return undefined;
      const count = rng.pick([63, 64, 1000, 5000]);
      for (let i = 0; i < count; i++) a.push(`arg${i}`);
      return `process.args += ${count} arguments`;
    }
    case "bigArg": {
      const a = arrAt(v, ["process", "args"]);
      if (!a) return undefined;
      const len = rng.pick([131_071, 131_072, 1 << 20]);
      a.push("a".repeat(len));
      return `process.args += one argument of ${len} bytes`;
    }
    case "mounts": {
      const a = arrAt(v, ["mounts"]);
      if (!a) return undefined;
      const count = rng.pick([100, 2000]);
      a.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "size=4m"] });
      for (let i = 0; i < count; i++) {
        a.push(rng.chance(0.5)
          ? { destination: `/tmp/m${i}`, type: "tmpfs", source: "tmpfs", options: ["size=64k"] }
          : { destination: `/tmp/m${i}`, type: "bind", source: env.srcDir, options: ["rbind", "ro"] });
      }
      return `mounts += ${count} mounts under a tmpfs at /tmp`;
    }
    case "hooks": {
      const kind = rng.pick(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
      const a = arrAt(v, ["hooks", kind]);
      if (!a) return undefined;
      const count = rng.pick([64, 500]);
      for (let i = 0; i < count; i++) a.push(kind === "startContainer" ? { path: "/bin/probe", args: ["probe", "exit", "0"] } : { path: env.hookTrue, args: ["true", `hook-${i}`] });
      return `hooks.${kind} += ${count} hooks`;
    }
    case "annotations": {
      const o = objAt(v, ["annotations"]);
      if (!o) return undefined;
      const len = rng.pick([8_192, 300_000]);
      setKey(o, "org.example.big", "b".repeat(len));
      // the state every hook gets on stdin carries the annotations: a hook the init runs too
      const hook = rng.chance(0.5) ? arrAt(v, ["hooks", rng.pick(["createContainer", "startContainer"])]) : undefined;
      if (hook) hook.push(v && isObject(v) && isObject(v["hooks"]) && v["hooks"]["startContainer"] === hook ? { path: "/bin/probe", args: ["probe", "exit", "0"] } : { path: env.hookTrue });
      return `annotations["org.example.big"] = ${len} bytes${hook ? ", with a hook the init runs" : ""}`;
    }
    case "annotationsMany": {
      const o = objAt(v, ["annotations"]);
      if (!o) return undefined;
      for (let i = 0; i < 3000; i++) setKey(o, `org.example.fuzz/key-${i}`, "v".repeat(96));
      const hook = rng.chance(0.5) ? arrAt(v, ["hooks", "createContainer"]) : undefined;
      if (hook) hook.push({ path: env.hookTrue });
      return `annotations += 3,000 keys (300 kB)${hook ? ", with a hook the init runs" : ""}`;
    }
    case "masked":
    case "readonly": {
      const a = arrAt(v, ["linux", which === "masked" ? "maskedPaths" : "readonlyPaths"]);
      if (!a) return undefined;
      for (let i = 0; i < 2000; i++) a.push(`/tmp/p${i}`);
      return `linux.${which === "masked" ? "maskedPaths" : "readonlyPaths"} += 2,000 paths`;
    }
    case "devices": {
      const a = arrAt(v, ["linux", "devices"]);
      if (!a) return undefined;
      for (let i = 0; i < 1000; i++) a.push({ path: `/dev/fuzz${i}`, type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 });
      return "linux.devices += 1,000 devices";
    }
    case "uidMappings": {
      const linux = objAt(v, ["linux"]);
      const nss = arrAt(v, ["linux", "namespaces"]);
      if (!linux || !nss) return undefined;
      if (!nss.some((x) => isObject(x) && x["type"] === "user")) nss.push({ type: "user" });
      const count = rng.pick([340, 341, 1000]);
      const maps = Array.from({ length: count }, (_, i) => ({ containerID: i, hostID: 100000 + i, size: 1 }));
      setKey(linux, "uidMappings", maps);
      setKey(linux, "gidMappings", clone(maps));
      return `linux.uid/gidMappings = ${count} one-id ranges`;
    }
    case "gids": {
      const user = objAt(v, ["process", "user"]);
      if (!user) return undefined;
      const count = rng.pick([65_536, 65_537, 100_000]);
      setKey(user, "additionalGids", Array.from({ length: count }, (_, i) => i));
      return `process.user.additionalGids = ${count} gids`;
    }
    case "rlimits": {
      const a = arrAt(v, ["process", "rlimits"]);
      if (!a) return undefined;
      for (const t of ["RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"]) {
        a.push({ type: t, soft: rng.pick(BOUNDARY_NUMBERS), hard: rng.pick(BOUNDARY_NUMBERS) });
      }
      return "process.rlimits += every type with boundary values";
    }
    case "seccomp": {
      const linux = objAt(v, ["linux"]);
      if (!linux) return undefined;
      const count = rng.pick([500, 5000]);
      const names = ["getpid", "getppid", "read", "write", "openat", "close", "mmap", "brk", "nonexistent_call", "clone3"];
      setKey(linux, "seccomp", {
        defaultAction: rng.pick(["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_LOG"]),
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        syscalls: Array.from({ length: count }, (_, i) => ({
          names: [names[i % names.length]!],
          action: rng.pick(["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"]),
          ...(i % 3 === 0 ? { args: [{ index: i % 6, value: i, op: "SCMP_CMP_EQ" }] } : {}),
        })),
      });
      return `linux.seccomp = ${count} rules`;
    }
    case "caps": {
      const c = objAt(v, ["process", "capabilities"]);
      if (!c) return undefined;
      const set = rng.pick(["bounding", "effective", "permitted", "inheritable", "ambient"]);
      setKey(c, set, Array.from({ length: 1000 }, (_, i) => (i % 2 ? "CAP_CHOWN" : `CAP_FUZZ_${i}`)));
      return `process.capabilities.${set} = 1,000 names`;
    }
    case "sysctl": {
      const o = objAt(v, ["linux", "sysctl"]);
      if (!o) return undefined;
      for (let i = 0; i < 500; i++) setKey(o, `net.fuzz.key${i}`, "1");
      return "linux.sysctl += 500 unknown net.* keys";
    }
    case "deviceRules": {
      const a = arrAt(v, ["linux", "resources", "devices"]);
      if (!a) return undefined;
      for (let i = 0; i < 2000; i++) a.push({ allow: i % 2 === 0, type: "c", major: i % 256, minor: n(i), access: "rwm" });
      return "linux.resources.devices += 2,000 rules";
    }
    case "weightDevices": {
      const bio = objAt(v, ["linux", "resources", "blockIO"]);
      if (!bio) return undefined;
      setKey(bio, "throttleReadBpsDevice", Array.from({ length: 1000 }, (_, i) => ({ major: 8, minor: i, rate: 1048576 })));
      return "linux.resources.blockIO.throttleReadBpsDevice = 1,000 devices";
    }
  }
  return undefined;
};

/** Paths: relative, with "..", through the rootfs's planted symlinks, onto files. */
const paths: Mutation = (v, rng, env, index) => {
  const canary = `${env.prefix}canary-${index}`;
  const hostile = [
    `/escape/${canary}`, `/up/${canary}`, `/etc/escape/${canary}`, `/tmp/../../../${canary}`, `../../${canary}`,
    "tmp/relative", "relative", "/loop/x", "/proc-self/x", "/etc/passwd", "/bin/probe/x", "/", "", "/dev/null/x",
    "/tmp/./a/../b", "/tmp//double", `/tmp/${"long".repeat(1100)}`, "/\u0000", "/tmp/new\nline",
  ];
  const which = rng.pick(["mountDest", "mountSource", "cwd", "root", "masked", "readonly", "device", "hook", "listener", "mountType"]);
  switch (which) {
    case "mountDest":
    case "mountSource":
    case "mountType": {
      const a = arrAt(v, ["mounts"]);
      if (!a) return undefined;
      const m: Obj = rng.pick<Obj>([
        { destination: "/tmp/x", type: "tmpfs", source: "tmpfs", options: ["size=64k"] },
        { destination: "/tmp/x", type: "bind", source: env.srcDir, options: ["rbind", "rw"] },
        { destination: "/tmp/x", type: "bind", source: env.srcFile, options: ["bind", "ro"] },
        { destination: "/tmp/x", source: env.srcDir, options: ["bind"] },
        { destination: "/tmp/x", type: "proc", source: "proc" },
      ]);
      if (which === "mountDest") setKey(m, "destination", rng.pick(hostile));
      else if (which === "mountSource") setKey(m, "source", rng.pick([...hostile, "../srcdir", "srcdir", "/nonexistent", env.srcDir + "/../srcdir", env.srcDir + "/x\u0000"]));
      else {
        setKey(m, "type", rng.pick(["overlay", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "ramfs", "none", "", "foo", "bind\u0000"]));
        if (m["type"] === "overlay") setKey(m, "options", [`lowerdir=${env.srcDir}`, `upperdir=${env.srcDir}/../up-${index}`, `workdir=${env.srcDir}/../work-${index}`]);
        if (rng.chance(0.5)) setKey(m, "options", [...((m["options"] as Json[]) ?? []), rng.pick(["rro", "nosymfollow", "idmap", "ridmap", "rshared", "shared", "rslave", "unbindable", "size=1G,uid=0", "mode=7777", "tmpcopyup", "foo=bar", "copy-symlink", "strictatime", "nofail"])]);
      }
      a.push(m);
      return `mounts += ${describe(m)}`;
    }
    case "cwd": {
      const p = objAt(v, ["process"]);
      if (!p) return undefined;
      const c = rng.pick([...hostile, "/escape/..", "/up", "/etc/hostname", "/tmp/new/deep/dir", "/home/probeuser"]);
      setKey(p, "cwd", c);
      return `process.cwd = ${describe(c)}`;
    }
    case "root": {
      const r = objAt(v, ["root"]);
      if (!r) return undefined;
      const bundleRel = posix.relative(env.bundle, env.rootfs);
      const c = rng.pick([bundleRel, "rootfs", `${env.rootfs}/`, `${env.rootfs}/../${posix.basename(env.rootfs)}`, `${env.rootfs}-link`, `${env.rootfs}/bin/probe`, `${env.rootfs}/nonexistent`, "", `${env.rootfs}/.`, `./${bundleRel}`]);
      setKey(r, "path", c);
      return `root.path = ${describe(c)}`;
    }
    case "masked":
    case "readonly": {
      const a = arrAt(v, ["linux", which === "masked" ? "maskedPaths" : "readonlyPaths"]);
      if (!a) return undefined;
      const c = rng.pick([...hostile, "/escape/etc", "/up", "/proc/../..", "/etc/hostname"]);
      a.push(c);
      return `linux.${which}Paths += ${describe(c)}`;
    }
    case "device": {
      const a = arrAt(v, ["linux", "devices"]);
      if (!a) return undefined;
      const c = rng.pick([`/dev/../escape/${canary}`, `/escape/${canary}`, `/up/${canary}`, "dev/relative", "/dev/null", "/dev", "/etc/passwd", "/dev/pts/0"]);
      a.push({ path: c, type: rng.pick(["c", "b", "u", "p", "x"]), major: 1, minor: 3, fileMode: rng.pick([0o666, 0o7777, 0o100000]) });
      return `linux.devices += ${describe(c)}`;
    }
    case "hook": {
      const kind = rng.pick(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
      const a = arrAt(v, ["hooks", kind]);
      if (!a) return undefined;
      const c = rng.pick(["true", "./true", "/bin/../bin/true", "/nonexistent", "/bin/true/x", "", env.srcDir, "/bin/probe"]);
      a.push({ path: c });
      return `hooks.${kind} += ${describe(c)}`;
    }
    case "listener": {
      const linux = objAt(v, ["linux"]);
      if (!linux) return undefined;
      const c = rng.pick(["relative.sock", `${env.work}/no-such.sock`, env.srcFile, "/", ""]);
      setKey(linux, "seccomp", { defaultAction: "SCMP_ACT_ALLOW", listenerPath: c, syscalls: [{ names: ["getppid"], action: "SCMP_ACT_NOTIFY" }] });
      return `linux.seccomp.listenerPath = ${describe(c)}`;
    }
  }
  return undefined;
};

const namespaces: Mutation = (v, rng, env, _index, deep) => {
  const a = arrAt(v, ["linux", "namespaces"]);
  if (!a) return undefined;
  const which = deep
    ? rng.weighted<string>([[1, "drop"], [3, "add"], [3, "path"], [2, "hostPath"]])
    : rng.weighted<string>([[3, "drop"], [1, "duplicate"], [1, "unknown"], [3, "add"], [3, "path"], [2, "hostPath"], [1, "object"]]);
  const idx = a.length ? rng.int(0, a.length - 1) : -1;
  const entry = idx >= 0 ? a[idx] : undefined;
  switch (which) {
    case "drop":
      if (idx < 0) return undefined;
      a.splice(idx, 1);
      return `drop ${describe(entry ?? null)}`;
    case "duplicate":
      if (idx < 0) return undefined;
      a.push(clone(entry ?? null));
      return `duplicate ${describe(entry ?? null)}`;
    case "unknown": {
      const t = rng.pick(["foo", "", "net", "mnt", "NETWORK", "network\u0000", "user "]);
      a.push({ type: t });
      return `namespaces += ${describe(t)}`;
    }
    case "add": {
      const t = rng.pick(NS_TYPES);
      if (a.some((x) => isObject(x) && x["type"] === t) && deep) return undefined;
      a.push({ type: t });
      if (t === "user" && (deep || rng.chance(0.5))) {
        const linux = objAt(v, ["linux"]);
        if (linux) for (const k of ["uidMappings", "gidMappings"]) setKey(linux, k, [{ containerID: 0, hostID: 100000, size: 65536 }]);
        return "namespaces += user, mapped to 100000";
      }
      return `namespaces += ${t}`;
    }
    case "path": {
      const t = isObject(entry) && typeof entry["type"] === "string" ? entry["type"] : rng.pick(NS_TYPES);
      const other = rng.pick(Object.values(env.sleeperNs));
      const p = rng.pick([env.sleeperNs[t] ?? other, other, "/nonexistent/ns", "relative/ns", env.srcFile, env.srcDir, "", "/proc/self/ns/../ns/bogus", `${env.sleeperNs["network"]}\u0000`]);
      const e = { type: t, path: p };
      if (idx >= 0) a[idx] = e;
      else a.push(e);
      return `${t} path ${describe(p)}`;
    }
    case "hostPath": {
      // the host's own net/uts/ipc joined by path: whatever needs a namespace of
      // its own there (sysctls, hostname) is pinned to the host's values by makeSafe
      const t = rng.pick(["network", "uts", "ipc"]);
      const p = rng.pick(env.hostNs[t]!);
      const i = a.findIndex((x) => isObject(x) && x["type"] === t);
      if (i >= 0) a[i] = { type: t, path: p };
      else a.push({ type: t, path: p });
      if (t === "network") {
        const o = objAt(v, ["linux", "sysctl"]);
        if (o) setKey(o, rng.pick(["net.ipv4.ip_forward", "net.ipv4.ping_group_range", "net.core.somaxconn"]), "pinned");
      }
      if (t === "ipc") {
        const o = objAt(v, ["linux", "sysctl"]);
        if (o) setKey(o, rng.pick(["kernel.shmmax", "kernel.msgmax", "fs.mqueue.msg_max"]), "pinned");
      }
      if (t === "uts" && isObject(v)) setKey(v, "hostname", "pinned");
      return `${t} joined by path ${p} (the host's)`;
    }
    case "object":
      if (idx < 0) return undefined;
      a[idx] = sameTypeSwap(rng, env, entry ?? null);
      return `namespaces[${idx}] = ${describe(a[idx]!)}`;
  }
  return undefined;
};

const ids: Mutation = (v, rng, _env, _index, deep) => {
  const which = rng.pick(deep ? ["uid", "gid", "additionalGids", "mapping", "umask", "deviceIds"] : ["uid", "gid", "additionalGids", "mapping", "mapping", "umask", "userNoMap", "deviceIds"]);
  const idValues: Json[] = [0, 1000, 65534, 65535, 65536, 2147483647, 2147483648, 4294967294, 4294967295, 4294967296, -1, new Raw("18446744073709551615"), 1.5];
  switch (which) {
    case "uid":
    case "gid": {
      const u = objAt(v, ["process", "user"]);
      if (!u) return undefined;
      const n = rng.pick(idValues);
      setKey(u, which, n);
      return `process.user.${which} = ${describe(n)}`;
    }
    case "additionalGids": {
      const u = objAt(v, ["process", "user"]);
      if (!u) return undefined;
      const n = [rng.pick(idValues), rng.pick(idValues), 0, 0];
      setKey(u, "additionalGids", n);
      return `process.user.additionalGids = ${describe(n)}`;
    }
    case "umask": {
      const u = objAt(v, ["process", "user"]);
      if (!u) return undefined;
      const n = rng.pick<Json>([0, 0o777, 0o7777, 4294967295, -1, new Raw("18446744073709551616")]);
      setKey(u, "umask", n);
      return `process.user.umask = ${describe(n)}`;
    }
    case "mapping":
    case "userNoMap": {
      const linux = objAt(v, ["linux"]);
      const nss = arrAt(v, ["linux", "namespaces"]);
      if (!linux || !nss) return undefined;
      if (rng.chance(0.8) && !nss.some((x) => isObject(x) && x["type"] === "user")) nss.push({ type: "user" });
      if (which === "userNoMap") {
        delete linux["uidMappings"];
        delete linux["gidMappings"];
        return "user namespace without mappings";
      }
      const m = rng.pick<Json[]>([
        [{ containerID: 0, hostID: 100000, size: 65536 }],
        [{ containerID: 0, hostID: 0, size: 1 }],
        [{ containerID: 0, hostID: 100000, size: 0 }],
        [{ containerID: 0, hostID: 100000, size: 4294967295 }],
        [{ containerID: 0, hostID: 100000, size: 4294967296 }],
        [{ containerID: 4294967295, hostID: 100000, size: 1 }],
        [{ containerID: 0, hostID: 4294967295, size: 1 }],
        [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 500, hostID: 200000, size: 1000 }],
        [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 1000, hostID: 100500, size: 1000 }],
        [{ containerID: -1, hostID: 100000, size: 10 }],
        [{ containerID: 1000, hostID: 100000, size: 10 }],
        [],
      ]);
      setKey(linux, rng.chance(0.5) ? "uidMappings" : "gidMappings", m);
      if (rng.chance(0.6)) setKey(linux, "gidMappings", clone(m));
      if (rng.chance(0.6)) setKey(linux, "uidMappings", clone(m));
      return `linux mappings = ${describe(m)}`;
    }
    case "deviceIds": {
      const a = arrAt(v, ["linux", "devices"]);
      if (!a) return undefined;
      const d = { path: "/dev/fuzzdev", type: "c", major: rng.pick(idValues), minor: rng.pick(idValues), uid: rng.pick(idValues), gid: rng.pick(idValues) };
      a.push(d);
      return `linux.devices += ${describe(d)}`;
    }
  }
  return undefined;
};

export const MUTATIONS: readonly (readonly [number, string, Mutation])[] = [
  [5, "type", typeSwap],
  [10, "boundary", boundary],
  [5, "string", stringValue],
  [6, "remove", removeKey],
  [3, "null", nullValue],
  [6, "extra", extraKey],
  [4, "duplicate", duplicateKey],
  [2, "nest", nest],
  [16, "huge", huge],
  [16, "paths", paths],
  [12, "namespaces", namespaces],
  [10, "ids", ids],
];

/** The mutations that mostly leave a config valid. */
const DEEP = new Set(["huge", "paths", "namespaces", "ids", "extra", "duplicate"]);

// ---- keeping the host safe ---------------------------------------------------------

const SYSCTL_CLASS = (key: string): "network" | "ipc" | "uts" | "user" | "host" => {
  const k = key.includes("/") && key.search(/[./]/) === key.indexOf("/") ? key.replace(/[./]/g, (c) => (c === "." ? "/" : ".")) : key;
  if (k.startsWith("net.")) return "network";
  if (k.startsWith("fs.mqueue.") || /^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(k)) return "ipc";
  if (k === "kernel.domainname" || k === "kernel.hostname") return "uts";
  if (k.startsWith("user.")) return "user";
  return "host";
};

function inside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir + "/");
}

function exists(p: string): boolean {
  try {
    return p.length < 4096 && !p.includes("\u0000") && existsSync(p);
  } catch {
    return false;
  }
}

/**
 * An object as ocirt sees it (JSON.parse: the last of duplicate keys wins), for
 * plain objects and Entries alike; `set` and `del` act on every occurrence.
 */
interface View {
  get(k: string): Json | undefined;
  set(k: string, v: Json): void;
  del(k: string): void;
  keys(): string[];
}

function view(v: Json | undefined): View | undefined {
  if (v instanceof Entries) {
    return {
      get: (k) => [...v.list].reverse().find(([key]) => key === k)?.[1],
      set: (k, x) => {
        let found = false;
        for (const e of v.list) if (e[0] === k) (e[1] = x), (found = true);
        if (!found) v.list.push([k, x]);
      },
      del: (k) => {
        for (let i = v.list.length - 1; i >= 0; i--) if (v.list[i]![0] === k) v.list.splice(i, 1);
      },
      keys: () => [...new Set(v.list.map(([k]) => k))],
    };
  }
  if (!isObject(v)) return undefined;
  return { get: (k) => (Object.prototype.hasOwnProperty.call(v, k) ? v[k] : undefined), set: (k, x) => setKey(v, k, x), del: (k) => void delete v[k], keys: () => Object.keys(v) };
}

/** The elements of an array (or of nothing). */
function items(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

/**
 * Makes whatever the mutations did harmless to the host, whatever ocirt does with
 * it (see the header). Returns what it changed, for the case's record.
 */
export function makeSafe(v: Json, env: FuzzEnv, index: number): string[] {
  const changed: string[] = [];
  const top = view(v);
  if (!top) return changed;
  const root = view(top.get("root"));
  const rootPath = root?.get("path");
  if (root && typeof rootPath === "string") {
    const p = resolve(env.bundle, rootPath);
    if (!inside(p, env.work) && exists(p)) {
      root.set("path", env.rootfs);
      changed.push("root.path outside the work dir");
    }
  }
  const hooks = view(top.get("hooks"));
  for (const kind of hooks?.keys() ?? []) {
    for (const item of items(hooks!.get(kind))) {
      const h = view(item);
      const p = h?.get("path");
      if (!h || typeof p !== "string") continue;
      const inContainer = kind === "startContainer";
      if (!inContainer && isAbsolute(p) && exists(p) && ![env.hookTrue, env.hookFalse, env.hookSh].includes(p)) {
        h.set("path", "/nonexistent/hook");
        changed.push(`hooks.${kind}: ${p}`);
      }
      if (h.get("path") === env.hookSh) {
        const args = h.get("args");
        const script = Array.isArray(args) && args.length === 3 ? args[2] : undefined;
        if (!["cat >/dev/null; exit 0", "exit 7", "sleep 5"].includes(String(script))) {
          h.set("args", ["sh", "-c", "exit 0"]);
          changed.push(`hooks.${kind}: sh script`);
        }
      }
      // startContainer runs in the container; with --no-pivot a host path could still resolve
      if (inContainer && isAbsolute(p) && exists(p) && ![env.hookTrue, env.hookFalse, "/bin/probe"].includes(p)) {
        h.set("path", "/bin/probe");
        changed.push(`hooks.${kind}: ${p}`);
      }
    }
  }
  const linux = view(top.get("linux"));
  const fresh = new Set<string>();
  const joined = new Set<string>();
  if (linux) {
    const allowed = new Set([...Object.values(env.sleeperNs), ...Object.values(env.hostNs).flat()]);
    for (const item of items(linux.get("namespaces"))) {
      const ns = view(item);
      if (!ns) continue;
      const t = String(ns.get("type"));
      const p = ns.get("path");
      if (p === undefined || p === "") fresh.add(t);
      else joined.add(t);
      // (a /proc path even when we cannot stat it: ocirt might, once in other namespaces)
      if (typeof p === "string" && p && (exists(p) || /^\/+proc\//.test(p)) && !allowed.has(p)) {
        ns.set("path", "/nonexistent/ns");
        changed.push(`namespace path ${p}`);
      }
      // the host's own namespaces only as what they are (net, uts, ipc: hostNs has no other)
      if (typeof p === "string" && Object.values(env.hostNs).flat().includes(p) && !(env.hostNs[t] ?? []).includes(p)) {
        ns.set("path", "/nonexistent/ns");
        changed.push(`namespace ${t} path ${p}`);
      }
    }
    // a type listed twice (one fresh, one joined) does not count as fresh
    for (const t of joined) fresh.delete(t);
    const sysctl = view(linux.get("sysctl"));
    for (const key of sysctl?.keys() ?? []) {
      const cls = SYSCTL_CLASS(key);
      if (cls !== "host" && fresh.has(cls)) continue;
      const hostValue = env.hostSysctl(key);
      if (hostValue !== undefined) {
        if (sysctl!.get(key) !== hostValue) changed.push(`linux.sysctl ${key} pinned to the host's value`);
        sysctl!.set(key, hostValue);
      } else if (exists(`/proc/sys/${key.replace(/\./g, "/")}`)) {
        sysctl!.del(key);
        changed.push(`linux.sysctl ${key} removed`);
      }
    }
    const cgp = linux.get("cgroupsPath");
    if (typeof cgp === "string" && posix.normalize("/" + cgp).split("/").filter(Boolean)[0] !== caseTag(env, index)) {
      linux.set("cgroupsPath", `/${caseTag(env, index)}/${cgp.replace(/\.\./g, "__")}`);
      changed.push("linux.cgroupsPath under the case's own cgroup");
    }
    const nd = view(linux.get("netDevices"));
    for (const k of nd?.keys() ?? []) {
      if (env.hostIfaces.has(k) || env.hostIfaces.has(k.trim())) {
        const val = nd!.get(k)!;
        nd!.del(k);
        nd!.set(`fz${index}`.slice(0, 15), val);
        changed.push(`linux.netDevices: host interface ${k}`);
      }
    }
    const sc = view(linux.get("seccomp"));
    const lp = sc?.get("listenerPath");
    if (sc && typeof lp === "string" && !inside(resolve(env.bundle, lp), env.work) && exists(resolve(env.bundle, lp))) {
      sc.set("listenerPath", `${env.work}/no-such.sock`);
      changed.push("linux.seccomp.listenerPath");
    }
  }
  if (!fresh.has("uts")) {
    for (const [k, host] of [["hostname", env.hostname], ["domainname", env.domainname]] as const) {
      const val = top.get(k);
      if (typeof val === "string" && val !== host) {
        top.set(k, host);
        changed.push(`${k} pinned to the host's`);
      }
    }
  }
  const mounts = items(top.get("mounts"));
  for (const item of mounts) {
    const m = view(item);
    if (!m) continue;
    const opts = items(m.get("options")).map(String);
    const t = m.get("type");
    const type = typeof t === "string" ? t : "";
    const bind = type === "bind" || type === "" || type === "none" || opts.some((o) => o === "bind" || o === "rbind");
    const src = m.get("source");
    if (typeof src === "string") {
      const p = resolve(env.bundle, src);
      // the host's /sys read-only, as runc's rootless spec binds it, unless a mount goes into its cgroup dirs
      const hostSys = p === "/sys" && !mounts.some((x) => {
        const d = view(x)?.get("destination");
        return typeof d === "string" && /^\/+sys\/+fs\/+cgroup\/+[^/]/.test(posix.normalize(d));
      });
      if (bind && !inside(p, env.work) && exists(p) && !["/dev/null", "/dev/zero"].includes(p) && !hostSys) {
        let dir = false;
        try { dir = statSync(p).isDirectory(); } catch { /* raced away */ }
        m.set("source", dir ? env.srcDir : env.srcFile);
        changed.push(`mount source ${src} (${p})`);
      }
      if (env.blockFs.has(type)) {
        m.set("source", "/nonexistent/blockdev");
        changed.push(`mount of a block filesystem ${type}`);
      }
    }
    if (opts.some((o) => /(lowerdir|upperdir|workdir)=/.test(o))) {
      const fixed = opts.map((o) => o.replace(/(lowerdir|upperdir|workdir)=([^,]*)/g, (all, k: string, dirs: string) => {
        const ok = dirs.split(":").every((d) => inside(resolve(env.bundle, d), env.work) || !exists(d));
        return ok ? all : `${k}=${env.work}/overlay-${k}`;
      }));
      if (fixed.join() !== opts.join()) {
        m.set("options", fixed);
        changed.push("overlay dirs");
      }
    }
  }
  return changed;
}

// ---- the raw text ------------------------------------------------------------------

function textMutation(text: string, rng: Rng): [string, string] {
  return rng.weighted<() => [string, string]>([
    [3, () => { const n = rng.int(0, Math.max(0, text.length - 1)); return [text.slice(0, n), `truncated at ${n} of ${text.length}`]; }],
    [2, () => { const n = rng.int(0, text.length); return [text.slice(0, n) + "\u0000" + text.slice(n), `a NUL byte at ${n}`]; }],
    [2, () => ["\ufeff" + text, "a byte order mark"]],
    [2, () => [text + rng.pick(["garbage", "}", "\n{}", "\u0000", " ".repeat(1000)]), "trailing bytes"]],
    [1, () => ["", "empty"]],
    [1, () => [rng.pick(["null", "[]", "0", "\"config\"", "true", "{}"]), "another JSON type"]],
    [2, () => { const n = rng.int(0, text.length); return [text.slice(0, n) + "\\x" + text.slice(n), "an invalid escape"]; }],
    [2, () => { const n = rng.int(0, text.length); return [text.slice(0, n) + INVALID_UTF8 + text.slice(n), "bytes that are not UTF-8"]; }],
    [1, () => { const k = text.indexOf("{"); return k < 0 ? [text, "no object"] : [text.slice(0, k + 1) + '"ociVersion":"1.0.0",' + text.slice(k + 1), "a duplicate top-level key"]; }],
    [1, () => [text.replace(/:/, ": " + "[".repeat(20_000)), "unbalanced deep nesting"]],
  ])();
}

/** The id of case `index`, also the first component of its cgroup path: no tag is a prefix of another. */
export function caseTag(env: Pick<FuzzEnv, "prefix">, index: number): string {
  return `${env.prefix}${index}z`;
}

/** A character the writer turns into bytes that are not UTF-8 (0xFF 0xFE). */
export const INVALID_UTF8 = "\ue000";

/** config.json's bytes: the text as UTF-8, with INVALID_UTF8 as 0xFF 0xFE 0x80. */
export function configBytes(text: string): Buffer {
  const b = Buffer.from(text, "utf8");
  for (let i = b.indexOf(Buffer.from(INVALID_UTF8, "utf8")); i >= 0; i = b.indexOf(Buffer.from(INVALID_UTF8, "utf8"), i + 3)) {
    b[i] = 0xff;
    b[i + 1] = 0xfe;
    b[i + 2] = 0x80;
  }
  return b;
}

// ---- a whole case ------------------------------------------------------------------

function describe(v: Json): string {
  if (v instanceof Raw) return v.text.length > 40 ? `${v.text.slice(0, 20)}... (${v.text.length} chars of text)` : v.text;
  if (v instanceof Entries) return `{duplicate keys}`;
  const s = typeof v === "string" ? JSON.stringify(v) : toText(v);
  return s.length > 60 ? `${s.slice(0, 40)}... (${s.length} chars)` : s;
}

/** Case `index` of run `seed` (the first corpus.length are the bases themselves, made runnable). */
export function makeCase(rng: Rng, index: number, corpus: readonly CorpusEntry[], env: FuzzEnv): FuzzCase {
  const plain = index < corpus.length;
  const base = plain ? corpus[index]! : rng.weighted(corpus.map((c) => [c.weight, c] as const));
  const ops: string[] = [];
  let text: string;
  if (base.value === undefined) {
    const [t, what] = plain ? [base.text, "as is"] : textMutation(base.text, rng);
    text = t;
    ops.push(`text: ${what}`);
  } else {
    const v = clone(base.value);
    makeRunnable(v, env, rng, index);
    if (!plain) {
      // half the cases only take mutations that mostly keep a config valid, so
      // that create, start and delete get deep into them
      const deep = rng.chance(0.6);
      const pool = deep ? MUTATIONS.filter(([, name]) => DEEP.has(name)) : MUTATIONS;
      if (deep) ops.push("(deep)");
      const n = rng.weighted([[6, 1], [3, 2], [1, 3], [0.5, 5]]);
      for (let i = 0; i < n; i++) {
        const [, name, m] = rng.weighted(pool.map((x) => [x[0], x] as const));
        const what = m(v, rng, env, index, deep);
        if (what) ops.push(`${name}: ${what}`);
      }
    }
    const safe = makeSafe(v, env, index);
    if (safe.length) ops.push(`made safe: ${safe.join("; ")}`);
    text = toText(v, rng.chance(0.3));
    if (!plain && rng.chance(0.07)) {
      const [t, what] = textMutation(text, rng);
      text = t;
      ops.push(`text: ${what}`);
    }
  }
  let terminal = false;
  try {
    const parsed = JSON.parse(text) as { process?: { terminal?: unknown } };
    terminal = parsed?.process?.terminal === true;
  } catch { /* not JSON: create refuses it before the terminal matters */ }
  const createFlags: string[] = [];
  if (rng.chance(0.04)) createFlags.push("--no-pivot");
  if (rng.chance(0.05)) createFlags.push("--pid-file", rng.pick([`${env.work}/pidfile-${index}`, "relative-pidfile", `${env.work}/no-such-dir/pid`, env.srcDir]));
  if (rng.chance(0.03)) createFlags.push("--preserve-fds", rng.pick(["1", "-1", "100000", "x"]));
  if (rng.chance(0.03)) createFlags.push("--no-new-keyring");
  let id = caseTag(env, index);
  if (rng.chance(0.03)) {
    id = rng.pick([`../${env.prefix}canary-id-${index}`, `${id}/x`, `.${id}`, `${id}${"i".repeat(1100)}`, `${id}\u00e9`, `${id} x`, `${id}\nx`]);
    ops.push(`cli: id ${describe(id)}`);
  }
  if (createFlags.length) ops.push(`cli: ${createFlags.join(" ")}`);
  return { index, base: base.name, ops, text, createFlags, id, terminal };
}

/** sysctl values of the host by dotted key (reads /proc/sys; undefined when absent). */
export function hostSysctlReader(): (key: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (key: string) => {
    if (cache.has(key)) return cache.get(key);
    let value: string | undefined;
    const first = key.search(/[./]/);
    const file = first >= 0 && key[first] === "/" ? key : key.replace(/[./]/g, (c) => (c === "." ? "/" : "."));
    try {
      if (!file.includes("..") && !file.includes("\u0000")) value = readFileSync(`/proc/sys/${file}`, "utf8").trim().replace(/\t/g, " ");
    } catch {
      value = undefined;
    }
    cache.set(key, value);
    return value;
  };
}
