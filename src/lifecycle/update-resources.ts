// `update`: what to change, as runc's update.go decides it. Pure: a resources JSON
// (or the command line's flags, src/cli/update-flags.ts) -> a partial
// LinuxResources (only what was given), then merged into the resources the
// container has, with runc's rules.
import { ConfigError } from "../errors";
import { parseConfigText } from "../spec/load";
import { checkResources, problemLine } from "../spec/validate";
import type { LinuxBlockIO, LinuxResources, LinuxThrottleDevice, LinuxWeightDevice } from "../spec/types";

const THROTTLES = ["throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"] as const;

/**
 * A resources file (`update -r`) as runc decodes it into LinuxResources: null =
 * not given, unknown keys ignored, a value of the wrong type or range an error
 * naming the field (checked by the schema's own generated validator). update
 * applies only memory, cpu, pids, blockIO and unified (runc decodes devices,
 * hugepages, network and rdma too, but never copies them into the container).
 */
export function parseResourcesJson(text: string): LinuxResources {
  const { value } = parseConfigText(text, "resources");
  if (value === null) return {};
  const { resources, problems } = checkResources(value);
  if (problems.length) throw new ConfigError(problemLine(problems[0]!), problems.map(problemLine));
  const r = resources as LinuxResources;
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
