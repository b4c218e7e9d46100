// linux.sysctl -> writes under the container's /proc/sys, after pivot_root. Pure.
import type { Spec } from "../spec/normalise";
import { childPath } from "../spec/path";
import { Op, type PlanOp } from "../plan/ops";

/** sysctl.d(5): "net.ipv4.conf.eth0/100.forwarding" is net/ipv4/conf/eth0.100/forwarding; a key in the slash form is already the path. */
export function sysctlFile(key: string): string {
  const first = key.search(/[./]/);
  if (first >= 0 && key[first] === "/") return key;
  return key.replace(/[./]/g, (c) => (c === "." ? "/" : "."));
}

export function planSysctl(spec: Spec): PlanOp[] {
  return Object.entries(spec.linux.sysctl).map(([k, v]) => ({ code: Op.WRITE_FILE, ints: [0], blobs: [`/proc/sys/${sysctlFile(k)}`, v], what: childPath("linux.sysctl", k) }));
}
