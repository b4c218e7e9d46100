// What ocirt needs to know about the host it runs on, probed in one place: the
// capability range and ocirt's own bounding set, the LSMs, /proc/kcore, who ocirt
// runs as (rootless: an unprivileged user, or root of a user namespace). The
// planners take the result as data; cgroup hierarchies are the cgroup driver's
// own probe (src/linux/cgroups/host.ts). Read once per process.
import { existsSync, readFileSync } from "node:fs";

export interface LsmHost {
  apparmor: boolean;
  selinux: boolean;
}

export interface HostFacts {
  lastCap: number;
  /** The bounding set ocirt itself runs with: no process it starts can have more. */
  bounding: bigint;
  lsm: LsmHost;
  hasProcKcore: boolean;
  /** Who ocirt runs as; absent: root of the host's initial user namespace. */
  user?: UserFacts | undefined;
}

/** Who ocirt runs as: what rootless operation depends on. */
export interface UserFacts {
  euid: number;
  egid: number;
  /**
   * ocirt runs in a user namespace other than the host's initial one (rootless
   * Podman and rootless Docker run the runtime as root of theirs): mknod, sysfs
   * without a network namespace of its own, and most file system types are refused.
   */
  inUserns: boolean;
}

/** The initial user namespace maps every id to itself: "0 0 4294967295". */
export function isInitialUidMap(text: string): boolean {
  const lines = text.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
  return lines.length === 1 && lines[0] === "0 0 4294967295";
}

/** Whether this process runs in a user namespace other than the initial one. */
export function inUserNamespace(): boolean {
  try {
    return !isInitialUidMap(readFileSync("/proc/self/uid_map", "utf8"));
  } catch {
    return false; // no user namespaces in this kernel
  }
}

export function probeUser(): UserFacts {
  return { euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0, inUserns: inUserNamespace() };
}

/**
 * `--rootless auto|true|false` as runc reads it: whether cgroups that are not ours
 * to manage are skipped rather than fatal. auto: an unprivileged user, or root of a
 * user namespace other than the initial one (rootless Podman, rootlesskit).
 */
export function rootlessCgroups(flag: string, user: UserFacts): boolean {
  if (flag === "true") return true;
  if (flag === "false") return false;
  return user.euid !== 0 || user.inUserns;
}

/**
 * The default --root, as runc's: $XDG_RUNTIME_DIR/ocirt for an unprivileged user
 * (and for root of a user namespace, unless $USER says root), else /run/ocirt.
 */
export function defaultStateRoot(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? 0, inUserns = inUserNamespace): string {
  const xdg = env["XDG_RUNTIME_DIR"];
  if (xdg && (euid !== 0 || (inUserns() && env["USER"] !== "root"))) return `${xdg.replace(/\/+$/, "")}/ocirt`;
  return "/run/ocirt";
}

export function probeLsm(): LsmHost {
  let apparmor = false;
  try {
    apparmor = existsSync("/sys/kernel/security/apparmor") && readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").startsWith("Y");
  } catch { /* not enabled */ }
  const selinux = existsSync("/sys/fs/selinux/enforce");
  return { apparmor, selinux };
}

let facts: HostFacts | undefined;

export function hostFacts(): HostFacts {
  if (facts) return facts;
  let lastCap = 40;
  try {
    lastCap = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  } catch { /* keep the default */ }
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  facts = { lastCap, bounding: bnd ? BigInt("0x" + bnd) : (1n << BigInt(lastCap + 1)) - 1n, hasProcKcore: existsSync("/proc/kcore"), lsm: probeLsm(), user: probeUser() };
  return facts;
}

/** systemd socket activation meant for us: LISTEN_FDS fds from 3, when LISTEN_PID is our pid. */
export function socketActivationFds(): number {
  const n = Number(process.env["LISTEN_FDS"] ?? 0);
  if (!Number.isInteger(n) || n <= 0) return 0;
  return Number(process.env["LISTEN_PID"]) === process.pid ? n : 0;
}
