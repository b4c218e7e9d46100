// LSM labels: process.apparmorProfile, process.selinuxLabel, linux.mountLabel.
// Applied as runc applies them where the host has that LSM; where it does not,
// a profile or process label is an error (runc fails too, at its init step)
// and a mount label is ignored (runc's label package leaves mounts unchanged).
import { existsSync, readFileSync } from "node:fs";
import type { Spec } from "../spec/normalise";
import { HostError } from "../errors";
import { Op, type PlanOp } from "../plan/ops";

export interface LsmHost {
  apparmor: boolean;
  selinux: boolean;
}

export function probeLsm(): LsmHost {
  let apparmor = false;
  try {
    apparmor = existsSync("/sys/kernel/security/apparmor") && readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").startsWith("Y");
  } catch { /* not enabled */ }
  const selinux = existsSync("/sys/fs/selinux/enforce");
  return { apparmor, selinux };
}

/** Ops that label the exec (last before EXEC), or a clear error where the host cannot. */
export function planLsm(spec: Spec, host: LsmHost): { ops: PlanOp[]; mountContext: string | undefined; notes: string[] } {
  const ops: PlanOp[] = [];
  const notes: string[] = [];
  const p = spec.process;
  if (p.apparmorProfile) {
    if (!host.apparmor) throw new HostError(`AppArmor is not enabled on this host (no /sys/kernel/security/apparmor): cannot apply profile ${JSON.stringify(p.apparmorProfile)}`, { where: "process.apparmorProfile" });
    ops.push({ code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/thread-self/attr/apparmor/exec", `exec ${p.apparmorProfile}`], what: "process.apparmorProfile" });
  }
  if (p.selinuxLabel) {
    if (!host.selinux) throw new HostError("selinux label is specified in config, but SELinux is disabled or not supported on this host", { where: "process.selinuxLabel" });
    ops.push({ code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/thread-self/attr/exec", p.selinuxLabel], what: "process.selinuxLabel" });
  }
  let mountContext: string | undefined;
  if (spec.linux.mountLabel) {
    if (host.selinux) mountContext = `context="${spec.linux.mountLabel}"`;
    else notes.push("linux.mountLabel: SELinux is not enabled on this host: mount label ignored");
  }
  return { ops, mountContext, notes };
}
