// `update`'s per-field flags (runc's update.go): the command line -> a partial
// LinuxResources with only what was given, parsed with Go's rules and messages.
import { UsageError } from "../errors";
import type { Flags } from "./parse";
import type { LinuxResources } from "../spec/types";

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

