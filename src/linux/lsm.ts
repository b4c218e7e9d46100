// LSM labels: process.apparmorProfile, process.selinuxLabel, linux.mountLabel.
// Applied as runc applies them where the host has that LSM; where it does not,
// each is an error naming the field (runc fails too: at its init step, or, for a
// mount label, when the kernel refuses the context= option of /dev's tmpfs).
// Pure: what the host has comes in as data (src/host.ts probes it).
import type { Spec } from "../spec/normalise";
import { HostError } from "../errors";
import { Op, type PlanOp } from "../plan/ops";
import type { LsmHost } from "../host";

/** Ops that label the exec (last before EXEC), or a clear error where the host cannot. */
export function planLsm(spec: Spec, host: LsmHost): PlanOp[] {
  const ops: PlanOp[] = [];
  const p = spec.process;
  if (p.apparmorProfile) {
    if (!host.apparmor) throw new HostError(`AppArmor is not enabled on this host (no /sys/kernel/security/apparmor): cannot apply profile ${JSON.stringify(p.apparmorProfile)}`, { where: "process.apparmorProfile" });
    ops.push({ code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/thread-self/attr/apparmor/exec", `exec ${p.apparmorProfile}`], what: "process.apparmorProfile" });
  }
  if (p.selinuxLabel) {
    if (!host.selinux) throw new HostError("selinux label is specified in config, but SELinux is disabled or not supported on this host", { where: "process.selinuxLabel" });
    ops.push({ code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/thread-self/attr/exec", p.selinuxLabel], what: "process.selinuxLabel" });
  }
  return ops;
}

/**
 * linux.mountLabel as the mount option runc's label.FormatMountLabel makes of it
 * (`context="<label>"`), for the mounts that take one; an error where SELinux is
 * off (the label cannot be applied: runtime.md "Create").
 */
export function mountLabelOption(spec: Spec, host: LsmHost): string | undefined {
  const label = spec.linux.mountLabel;
  if (!label) return undefined;
  if (!host.selinux) throw new HostError("SELinux is disabled or not supported on this host: cannot apply the mount label", { where: "linux.mountLabel" });
  return `context="${label}"`;
}
