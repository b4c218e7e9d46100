// `update`: what to change, as runc's update.go decides it. Pure: the command
// line or a resources JSON -> a partial LinuxResources (only what was given),
// then merged into the resources the container has, with runc's rules.
import { ConfigError, UsageError } from "../errors";
import type { Flags } from "../cli/parse";
import type { LinuxBlockIO, LinuxResources, LinuxThrottleDevice, LinuxWeightDevice } from "../linux/cgroups";

const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** docker/go-units RAMInBytes: "512", "10m", "1.5GiB", "2 kb" (binary multiples). */
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
  const size = Number.parseFloat(m[1]!) * (m[2] ? mult[m[2].toLowerCase()]! : 1);
  return Math.trunc(size);
}

/** strconv.ParseUint / ParseInt with Go's error text. */
function parseGoInt(s: string, signed: boolean): number {
  const fn = signed ? "ParseInt" : "ParseUint";
  if (!(signed ? /^[+-]?\d+$/ : /^\+?\d+$/).test(s)) throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: invalid syntax`);
  const v = BigInt(s.replace(/^\+/, ""));
  if (signed ? v > INT64_MAX || v < -INT64_MAX - 1n : v > UINT64_MAX) throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(v);
}

function flagValue(flags: Flags, name: string, parse: (s: string) => number): number | undefined {
  const raw = flags[name];
  if (raw === undefined || raw === "") return undefined;
  try {
    return parse(String(raw));
  } catch (err) {
    throw new UsageError(`invalid value for ${name}: ${(err as Error).message}`);
  }
}

/** The per-field flags of `update` (used when no --resources is given). */
export function resourcesFromFlags(flags: Flags): LinuxResources {
  const r: Required<Pick<LinuxResources, "memory" | "cpu" | "blockIO" | "pids">> = { memory: {}, cpu: {}, blockIO: {}, pids: {} };
  const weight = flags["blkio-weight"];
  if (weight !== undefined && Number(weight) !== 0) r.blockIO.weight = Number(weight);
  if (flags["cpuset-cpus"]) r.cpu.cpus = String(flags["cpuset-cpus"]);
  if (flags["cpuset-mems"]) r.cpu.mems = String(flags["cpuset-mems"]);
  const uint = (s: string) => parseGoInt(s, false);
  const int = (s: string) => parseGoInt(s, true);
  const size = (s: string) => (s === "-1" ? -1 : ramInBytes(s));
  const set = <T extends object>(obj: T, key: keyof T, flag: string, parse: (s: string) => number) => {
    const v = flagValue(flags, flag, parse);
    if (v !== undefined) (obj as Record<keyof T, unknown>)[key] = v;
  };
  set(r.cpu, "idle", "cpu-idle", int);
  set(r.cpu, "burst", "cpu-burst", uint);
  set(r.cpu, "period", "cpu-period", uint);
  set(r.cpu, "realtimePeriod", "cpu-rt-period", uint);
  set(r.cpu, "shares", "cpu-share", uint);
  set(r.cpu, "quota", "cpu-quota", int);
  set(r.cpu, "realtimeRuntime", "cpu-rt-runtime", int);
  set(r.memory, "limit", "memory", size);
  set(r.memory, "swap", "memory-swap", size);
  set(r.memory, "reservation", "memory-reservation", size);
  const pids = flags["pids-limit"];
  if (pids !== undefined && pids !== "") r.pids.limit = Number(pids);
  return r;
}

// ------------------------------------------------------------ JSON input ----
type Kind = "int64" | "uint64" | "uint16" | "string" | "bool";

const FIELDS: Record<string, Record<string, Kind>> = {
  memory: { limit: "int64", reservation: "int64", swap: "int64", kernel: "int64", kernelTCP: "int64", swappiness: "uint64", disableOOMKiller: "bool", useHierarchy: "bool", checkBeforeUpdate: "bool" },
  cpu: { shares: "uint64", quota: "int64", burst: "uint64", period: "uint64", realtimeRuntime: "int64", realtimePeriod: "uint64", cpus: "string", mems: "string", idle: "int64" },
  pids: { limit: "int64" },
  blockIO: { weight: "uint16", leafWeight: "uint16" },
};
const WEIGHT_DEVICE: Record<string, Kind> = { major: "int64", minor: "int64", weight: "uint16", leafWeight: "uint16" };
const THROTTLE_DEVICE: Record<string, Kind> = { major: "int64", minor: "int64", rate: "uint64" };
const THROTTLES = ["throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"] as const;

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  return typeof v === "object" ? "object" : typeof v;
}

function check(v: unknown, kind: Kind, where: string): void {
  const fail = () => new ConfigError(`cannot unmarshal ${typeName(v)}${typeof v === "number" ? ` ${v}` : ""} into ${where} of type ${kind}`, [], { where: "resources" });
  switch (kind) {
    case "string":
      if (typeof v !== "string") throw fail();
      return;
    case "bool":
      if (typeof v !== "boolean") throw fail();
      return;
    default: {
      if (typeof v !== "number" || !Number.isInteger(v)) throw fail();
      const max = kind === "uint16" ? 65535 : kind === "uint64" ? 2 ** 64 : 2 ** 63;
      const min = kind === "int64" ? -(2 ** 63) : 0;
      if (v < min || v > max) throw fail();
    }
  }
}

function checkObject(obj: unknown, fields: Record<string, Kind>, where: string): void {
  if (typeof obj !== "object" || Array.isArray(obj)) throw new ConfigError(`cannot unmarshal ${typeName(obj)} into ${where} of type object`, [], { where: "resources" });
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const kind = fields[k];
    if (kind !== undefined && v !== null) check(v, kind, `${where}.${k}`);
  }
}

function checkDevices(list: unknown, fields: Record<string, Kind>, where: string): void {
  if (list === null || list === undefined) return;
  if (!Array.isArray(list)) throw new ConfigError(`cannot unmarshal ${typeName(list)} into ${where} of type array`, [], { where: "resources" });
  list.forEach((d, i) => checkObject(d, fields, `${where}[${i}]`));
}

/** Drops JSON nulls (Go leaves such pointers nil: "not given"). */
function withoutNulls<T>(v: T): T {
  if (Array.isArray(v)) return v.map(withoutNulls) as T;
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
    return out as T;
  }
  return v;
}

/**
 * A resources file (`update -r`) as runc decodes it into LinuxResources:
 * unknown keys ignored, null = not given, a wrong type is an error naming the field.
 */
export function parseResourcesJson(text: string): LinuxResources {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`invalid JSON: ${(err as Error).message}`, [], { where: "resources" });
  }
  if (v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new ConfigError(`cannot unmarshal ${typeName(v)} into LinuxResources`, [], { where: "resources" });
  const o = v as Record<string, unknown>;
  for (const [key, fields] of Object.entries(FIELDS)) if (o[key] !== undefined && o[key] !== null) checkObject(o[key], fields, key);
  const b = o["blockIO"] as Record<string, unknown> | null | undefined;
  if (b) {
    checkDevices(b["weightDevice"], WEIGHT_DEVICE, "blockIO.weightDevice");
    for (const t of THROTTLES) checkDevices(b[t], THROTTLE_DEVICE, `blockIO.${t}`);
  }
  const u = o["unified"];
  if (u !== undefined && u !== null) {
    if (typeof u !== "object" || Array.isArray(u)) throw new ConfigError(`cannot unmarshal ${typeName(u)} into unified of type map[string]string`, [], { where: "resources" });
    for (const [k, x] of Object.entries(u)) check(x, "string", `unified[${JSON.stringify(k)}]`);
  }
  const r = withoutNulls(o) as LinuxResources;
  // update applies only these (runc decodes devices, hugepages, network and
  // rdma too, but never copies them into the container's config)
  const out: LinuxResources = {};
  if (r.memory) out.memory = r.memory;
  if (r.cpu) out.cpu = r.cpu;
  if (r.pids) out.pids = r.pids;
  if (r.blockIO) out.blockIO = r.blockIO;
  if (r.unified) out.unified = r.unified;
  return out;
}

// ----------------------------------------------------------------- merge ----
const isSet = (v: unknown) => v !== undefined && v !== null;

function upsertWeight(list: LinuxWeightDevice[], d: LinuxWeightDevice): LinuxWeightDevice[] {
  for (let i = list.length - 1; i >= 0; i--) {
    const cur = list[i]!;
    if (cur.major !== d.major || cur.minor !== d.minor) continue;
    const next = { ...cur };
    if (isSet(d.weight)) next.weight = d.weight!;
    if (isSet(d.leafWeight)) next.leafWeight = d.leafWeight!;
    return list.map((x, j) => (j === i ? next : x));
  }
  return [...list, { major: d.major, minor: d.minor, weight: d.weight ?? 0, leafWeight: d.leafWeight ?? 0 }];
}

function upsertThrottle(list: LinuxThrottleDevice[], d: LinuxThrottleDevice): LinuxThrottleDevice[] {
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i]!.major === d.major && list[i]!.minor === d.minor) return list.map((x, j) => (j === i ? { ...x, rate: d.rate } : x));
  }
  return [...list, { major: d.major, minor: d.minor, rate: d.rate }];
}

export interface MergedUpdate {
  /** What the container's cgroup is set to (everything but devices), and what state.json keeps. */
  resources: LinuxResources;
  warnings: string[];
}

/**
 * runc's update: `upd` (only the fields given) over `old` (what the container
 * has). Of cpu quota and period, one given alone keeps the other's old value.
 */
export function mergeResources(old: LinuxResources, upd: LinuxResources): MergedUpdate {
  const warnings: string[] = [];
  const m: LinuxResources = JSON.parse(JSON.stringify(old ?? {}));
  const um = { ...(upd.memory ?? {}) };
  const uc = { ...(upd.cpu ?? {}) };
  // runc's fix-ups: unlimited memory with no swap given resets swap (else
  // "unable to set swap limit without memory limit"); cpu.idle drops shares
  // (cgroup v2 refuses cpu.weight on an idle cgroup)
  if (um.limit === -1 && !isSet(um.swap)) um.swap = 0;
  if (isSet(uc.idle) && !isSet(uc.shares)) uc.shares = 0;
  if (isSet(um.kernel) || isSet(um.kernelTCP)) warnings.push("Kernel memory settings are ignored and will be removed");

  const mem = (m.memory ??= {});
  if (isSet(um.limit)) mem.limit = um.limit!;
  if (isSet(um.reservation)) mem.reservation = um.reservation!;
  if (isSet(um.swap)) mem.swap = um.swap!;
  // a constant false in runc unless the JSON asks for it
  if (um.checkBeforeUpdate === true) mem.checkBeforeUpdate = true;
  else delete mem.checkBeforeUpdate;
  delete mem.kernel;
  delete mem.kernelTCP;

  const cpu = (m.cpu ??= {});
  const p = Number(uc.period ?? 0);
  const q = Number(uc.quota ?? 0);
  if (p !== 0) cpu.period = uc.period!;
  if (q !== 0) cpu.quota = uc.quota!;
  if (isSet(uc.burst)) cpu.burst = uc.burst!;
  if (isSet(uc.shares)) {
    if (Number(uc.shares) === 0) delete cpu.shares;
    else cpu.shares = uc.shares!;
  }
  if (isSet(uc.realtimePeriod)) cpu.realtimePeriod = uc.realtimePeriod!;
  if (isSet(uc.realtimeRuntime)) cpu.realtimeRuntime = uc.realtimeRuntime!;
  if (uc.cpus) cpu.cpus = uc.cpus;
  if (uc.mems) cpu.mems = uc.mems;
  if (isSet(uc.idle)) cpu.idle = uc.idle!;

  if (upd.pids && isSet(upd.pids.limit)) m.pids = { ...(m.pids ?? {}), limit: upd.pids.limit! };

  const ub: LinuxBlockIO = upd.blockIO ?? {};
  const b = (m.blockIO ??= {});
  if (isSet(ub.weight)) b.weight = ub.weight!;
  if (isSet(ub.leafWeight)) b.leafWeight = ub.leafWeight!;
  for (const wd of ub.weightDevice ?? []) b.weightDevice = upsertWeight(b.weightDevice ?? [], wd);
  for (const key of THROTTLES) for (const td of ub[key] ?? []) b[key] = upsertThrottle(b[key] ?? [], td);

  if (upd.unified) m.unified = { ...upd.unified };

  for (const k of ["memory", "cpu", "blockIO"] as const) {
    const v = m[k] as Record<string, unknown> | undefined;
    if (v && Object.keys(v).length === 0) delete m[k];
  }
  return { resources: m, warnings };
}

/** The resources to write: devices are left alone (runc's SkipDevices for update). */
export function withoutDevices(r: LinuxResources): LinuxResources {
  const { devices: _devices, ...rest } = r;
  return rest;
}
