// Device cgroup rules: the spec's list plus runc's default allowed devices,
// and a port of runc's devices emulator. The emulator works out the smallest
// set of devices.allow/devices.deny writes that takes a v1 devices cgroup from
// its current devices.list to the wanted state, so `update` never opens a
// window in which the container has no (or every) device.
import { ConfigError } from "../../errors";
import type { DeviceRule, LinuxDeviceCgroup, Int } from "./types";

const WILDCARD = -1;

/**
 * runc's specconv.AllowedDevices as cgroup rules, with the device path they
 * belong to (a spec device with the same path replaces the default).
 */
export const DEFAULT_DEVICE_RULES: readonly (DeviceRule & { path?: string })[] = [
  { type: "c", major: WILDCARD, minor: WILDCARD, access: "m", allow: true },
  { type: "b", major: WILDCARD, minor: WILDCARD, access: "m", allow: true },
  { type: "c", major: 1, minor: 3, access: "rwm", allow: true, path: "/dev/null" },
  { type: "c", major: 1, minor: 8, access: "rwm", allow: true, path: "/dev/random" },
  { type: "c", major: 1, minor: 7, access: "rwm", allow: true, path: "/dev/full" },
  { type: "c", major: 5, minor: 0, access: "rwm", allow: true, path: "/dev/tty" },
  { type: "c", major: 1, minor: 5, access: "rwm", allow: true, path: "/dev/zero" },
  { type: "c", major: 1, minor: 9, access: "rwm", allow: true, path: "/dev/urandom" },
  // /dev/pts/* and /dev/ptmx
  { type: "c", major: 136, minor: WILDCARD, access: "rwm", allow: true },
  { type: "c", major: 5, minor: 2, access: "rwm", allow: true },
  // /dev/net/tun: dropped in runc 1.2.0-rc1, restored for compatibility.
  { type: "c", major: 10, minor: 200, access: "rwm", allow: true },
];

function toNumber(v: Int | null | undefined): number {
  if (v === undefined || v === null) return WILDCARD;
  return Number(v);
}

/**
 * Validates linux.resources.devices and brings it to normal form, in order.
 * The list is complete: planCgroup() has already appended the defaults.
 */
export function parseDeviceRules(list: readonly LinuxDeviceCgroup[]): DeviceRule[] {
  return list.map((d, i) => {
    const where = `linux.resources.devices[${i}]`;
    const type = d.type === undefined || d.type === "" ? "a" : d.type;
    if (type !== "a" && type !== "b" && type !== "c") {
      throw new ConfigError(`invalid cgroup device type ${JSON.stringify(d.type)}`, [], { where: `${where}.type` });
    }
    if (!d.access) throw new ConfigError("device access cannot be empty", [], { where: `${where}.access` });
    if (!isValidAccess(d.access)) {
      throw new ConfigError(`invalid device access ${JSON.stringify(d.access)} (a combination of r, w, m)`, [], { where: `${where}.access` });
    }
    return { type, major: toNumber(d.major), minor: toNumber(d.minor), access: d.access, allow: !!d.allow };
  });
}

/**
 * runc's defaults in OCI form, to append after the spec's own rules; a default
 * whose device path the spec lists in linux.devices is left out (the spec's
 * entry wins, and the spec must allow it itself).
 */
export function defaultDeviceCgroups(specDevicePaths: readonly string[] = []): LinuxDeviceCgroup[] {
  const overridden = new Set(specDevicePaths);
  return DEFAULT_DEVICE_RULES.filter((r) => !(r.path && overridden.has(r.path))).map((r) => ({
    allow: r.allow,
    type: r.type,
    major: r.major === WILDCARD ? null : r.major,
    minor: r.minor === WILDCARD ? null : r.minor,
    access: r.access,
  }));
}

// --- permissions as bit sets ---------------------------------------------------
const R = 1;
const W = 2;
const M = 4;

function isValidAccess(s: string): boolean {
  return /^[rwm]+$/.test(s);
}

function toSet(p: string): number {
  let s = 0;
  for (const c of p) s |= c === "r" ? R : c === "w" ? W : c === "m" ? M : 0;
  return s;
}

function fromSet(s: number): string {
  return (s & R ? "r" : "") + (s & W ? "w" : "") + (s & M ? "m" : "");
}

export function ruleString(r: { type: string; major: number; minor: number; access: string }): string {
  const maj = r.major === WILDCARD ? "*" : String(r.major);
  const min = r.minor === WILDCARD ? "*" : String(r.minor);
  return `${r.type} ${maj}:${min} ${r.access}`;
}

// --- the emulator ------------------------------------------------------------------
type Meta = string; // "c 1 3": map key for (type, major, minor)

function metaKey(type: string, major: number, minor: number): Meta {
  return `${type} ${major} ${minor}`;
}

function parseMeta(k: Meta): { type: "b" | "c"; major: number; minor: number } {
  const [t, a, b] = k.split(" ");
  return { type: t as "b" | "c", major: Number(a), minor: Number(b) };
}

export class DeviceEmulator {
  /** true: blacklist (everything allowed but the rules); false: whitelist. */
  defaultAllow = false;
  rules = new Map<Meta, number>();

  static fromRules(rules: readonly DeviceRule[]): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const r of rules) e.apply(r);
    return e;
  }

  /** devices.list is an allow list; "a *:* rwm" means blacklist mode with unknown denies. */
  static fromList(list: string): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const line of list.split("\n")) {
      if (!line.trim()) continue;
      const f = line.trim().split(/[ :]/);
      if (f.length !== 4) throw new Error(`malformed devices.list rule ${JSON.stringify(line)}`);
      const [t, maj, min, perms] = f as [string, string, string, string];
      if (t === "a") {
        e.allowRule(undefined);
        continue;
      }
      if (t !== "b" && t !== "c") throw new Error(`unknown device type ${JSON.stringify(t)} in devices.list`);
      e.allowRule({
        meta: metaKey(t, maj === "*" ? WILDCARD : Number(maj), min === "*" ? WILDCARD : Number(min)),
        perms: toSet(perms),
      });
    }
    return e;
  }

  isBlacklist(): boolean {
    return this.defaultAllow;
  }

  apply(rule: DeviceRule): void {
    const inner = rule.type === "a" ? undefined : { meta: metaKey(rule.type, rule.major, rule.minor), perms: toSet(rule.access) };
    if (rule.allow) this.allowRule(inner);
    else this.denyRule(inner);
  }

  private add(meta: Meta, perms: number): void {
    this.rules.set(meta, (this.rules.get(meta) ?? 0) | perms);
  }

  private remove(meta: Meta, perms: number): void {
    // cgroup v1 silently ignores removing part of a wildcard rule; runc refuses
    // so nobody believes a device is denied when it is not.
    const m = parseMeta(meta);
    for (const partial of [
      metaKey(m.type, WILDCARD, m.minor),
      metaKey(m.type, m.major, WILDCARD),
      metaKey(m.type, WILDCARD, WILDCARD),
    ]) {
      if (partial === meta) continue;
      const pp = this.rules.get(partial) ?? 0;
      if (pp & perms) {
        const p = parseMeta(partial);
        throw new ConfigError(
          `rule ${ruleString({ ...m, access: fromSet(perms) })} is not supported by the devices cgroup v1 (cannot punch a hole in the wildcard rule ${ruleString({ ...p, access: fromSet(pp) })})`,
          [],
          { where: "linux.resources.devices" },
        );
      }
    }
    const left = (this.rules.get(meta) ?? 0) & ~perms;
    if (left === 0) this.rules.delete(meta);
    else this.rules.set(meta, left);
  }

  private allowRule(r: { meta: Meta; perms: number } | undefined): void {
    if (!r) {
      this.defaultAllow = true;
      this.rules = new Map();
      return;
    }
    if (this.defaultAllow) this.remove(r.meta, r.perms);
    else this.add(r.meta, r.perms);
  }

  private denyRule(r: { meta: Meta; perms: number } | undefined): void {
    if (!r) {
      this.defaultAllow = false;
      this.rules = new Map();
      return;
    }
    if (this.defaultAllow) this.add(r.meta, r.perms);
    else this.remove(r.meta, r.perms);
  }

  /** Sorted by (major, minor, type) so the same state always gives the same writes. */
  ordered(): { meta: Meta; perms: number }[] {
    return [...this.rules.entries()]
      .map(([meta, perms]) => ({ meta, perms, m: parseMeta(meta) }))
      .sort((a, b) => a.m.major - b.m.major || a.m.minor - b.m.minor || a.m.type.charCodeAt(0) - b.m.type.charCodeAt(0))
      .map(({ meta, perms }) => ({ meta, perms }));
  }

  equals(o: DeviceEmulator): boolean {
    if (this.defaultAllow !== o.defaultAllow || this.rules.size !== o.rules.size) return false;
    for (const [k, v] of this.rules) if (o.rules.get(k) !== v) return false;
    return true;
  }

  /** runc's Transition: the minimal rules from this state to target. */
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let oldRules = this.rules;
    // Nothing is known about the denies of a blacklist, so it always gets reset.
    if (this.isBlacklist() || this.defaultAllow !== target.defaultAllow) {
      out.push({ type: "a", major: WILDCARD, minor: WILDCARD, access: "rwm", allow: target.defaultAllow });
      oldRules = new Map();
    }
    const old = new DeviceEmulator();
    old.rules = oldRules;
    for (const { meta, perms } of old.ordered()) {
      const dropped = perms & ~(target.rules.get(meta) ?? 0);
      if (dropped) out.push({ ...parseMeta(meta), access: fromSet(dropped), allow: target.defaultAllow });
    }
    for (const { meta, perms } of target.ordered()) {
      const gained = perms & ~(oldRules.get(meta) ?? 0);
      if (gained) out.push({ ...parseMeta(meta), access: fromSet(gained), allow: !target.defaultAllow });
    }
    return out;
  }
}

/** The v1 file writes (file, value) that move devices.list `current` to `rules`. */
export function deviceWritesV1(current: string, rules: readonly DeviceRule[]): { file: string; value: string }[] {
  const target = DeviceEmulator.fromRules(rules);
  return DeviceEmulator.fromList(current)
    .transition(target)
    .map((r) => ({ file: r.allow ? "devices.allow" : "devices.deny", value: ruleString(r) }));
}
