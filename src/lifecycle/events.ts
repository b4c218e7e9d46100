// `events`: runc's event stream. Each line is one JSON object as runc's
// types.Event encodes it: {"type":"stats","id":…,"data":{…}} or
// {"type":"oom","id":…}. The stream ends once the container's cgroup is empty
// or gone (runc's OOM notifier closes then).
import { UsageError } from "../errors";
import { encodeJSON, statsToRuncJSON, type Cgroup, type CgroupStats } from "../linux/cgroups";
import { log } from "../log";

export function statsEvent(id: string, stats: CgroupStats): string {
  return encodeJSON({ type: "stats", id, data: statsToRuncJSON(stats) });
}

export function oomEvent(id: string): string {
  return encodeJSON({ type: "oom", id });
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("5s", "1m30s", "250ms", "1.5h"), in nanoseconds. */
export function parseGoDuration(s: string): number {
  const bad = (why: string) => new Error(`time: ${why} ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw bad("invalid duration");
  let total = 0;
  while (rest !== "") {
    const m = /^([0-9]*)(\.[0-9]*)?/.exec(rest)!;
    if (m[0] === "" || m[0] === ".") throw bad("invalid duration");
    rest = rest.slice(m[0].length);
    const u = /^[^0-9.]+/.exec(rest)?.[0];
    if (!u) throw bad("missing unit in duration");
    const mult = UNIT_NS[u];
    if (mult === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(s)}`);
    rest = rest.slice(u.length);
    total += Number(m[0].startsWith(".") ? `0${m[0]}` : m[0]) * mult;
  }
  return sign * total;
}

/** The --interval flag as runc reads it; ms for the timers. */
export function intervalMs(flag: string): number {
  let ns: number;
  try {
    ns = parseGoDuration(flag);
  } catch (err) {
    throw new UsageError(`invalid value ${JSON.stringify(flag)} for flag -interval: ${(err as Error).message}`);
  }
  if (ns <= 0) throw new UsageError("duration interval must be greater than 0");
  // setInterval's range; below 1 ms Node would round up anyway
  return Math.min(Math.max(ns / 1e6, 1), 2 ** 31 - 1);
}

export interface StreamOptions {
  id: string;
  cg: Cgroup;
  intervalMs: number;
  write(line: string): void;
  /** How often the OOM counter and the cgroup's members are looked at. */
  pollMs?: number;
}

/** Stats every interval and OOM kills as they happen, until the cgroup empties. */
export function streamEvents(o: StreamOptions): Promise<void> {
  const { id, cg } = o;
  const oomKills = (): bigint => {
    try {
      return cg.oomKillCount();
    } catch {
      return 0n;
    }
  };
  const live = (): boolean => {
    try {
      return cg.exists() && cg.pids({ recursive: true }).length > 0;
    } catch {
      return false;
    }
  };
  let lastOom = oomKills();
  return new Promise((resolve) => {
    const stats = setInterval(() => {
      try {
        o.write(statsEvent(id, cg.stats()) + "\n");
      } catch (err) {
        log.error(`events: reading stats: ${(err as Error).message}`);
      }
    }, o.intervalMs);
    const poll = setInterval(() => {
      const now = oomKills();
      if (now > lastOom) {
        lastOom = now;
        o.write(oomEvent(id) + "\n");
      }
      if (!live()) {
        clearInterval(stats);
        clearInterval(poll);
        resolve();
      }
    }, o.pollMs ?? 200);
  });
}
