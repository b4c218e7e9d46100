// What ocirt needs to know about the host it runs on, probed in one place: the
// capability range and ocirt's own bounding set, the LSMs, /proc/kcore. The
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
  facts = { lastCap, bounding: bnd ? BigInt("0x" + bnd) : (1n << BigInt(lastCap + 1)) - 1n, hasProcKcore: existsSync("/proc/kcore"), lsm: probeLsm() };
  return facts;
}
