// Spec -> the init helper's plan: every op in the order the kernel needs. Pure:
// what it needs from the host (cap_last_cap, cgroup views, ...) comes in as data,
// so the order of operations is unit-tested without root. Each config field is
// planned by its module in src/linux/ (the table in docs/ARCHITECTURE.md); this
// file only decides the order.
import { ConfigError } from "../errors";
import { Op, Sync, type PlanOp } from "../plan/ops";
import { CLONE, planNamespaces, timeOffsetLines, type NamespacePlan } from "../linux/namespaces";
import { planLateReadonly, planMounts, planPathRestrictions, planRootfsPrepare, planRootfsPropagationAfterPivot, type CgroupView } from "../linux/mounts";
import { planDevices } from "../linux/devices";
import { planIdmaps, type IdmapMappings } from "../linux/idmap";
import { checkRootless, rootlessMounts } from "../linux/rootless";
import { planSysctl } from "../linux/sysctl";
import { mountLabelOption } from "../linux/lsm";
import { planCreateHooks } from "./hooks";
import { planConsole, planOomScoreAdj, planProcessSetup, type ProcessPlanInput } from "./process";

export interface PlanInput extends ProcessPlanInput {
  noPivot: boolean;
  /** The parent writes the pid into the cgroup (v1/hybrid), rather than CLONE_INTO_CGROUP. */
  cgroupSync: boolean;
  cgroupViews: CgroupView[];
  debug?: ((msg: string) => void) | undefined;
}

export interface ContainerPlan {
  cloneFlags: number;
  ns: NamespacePlan;
  ops: PlanOp[];
  /** User namespaces the parent makes for idmapped mounts, as extra fds after the namespace files. */
  idmapUserns: IdmapMappings[];
}

export function planContainer(inp: PlanInput): ContainerPlan {
  const { spec } = inp;
  const user = inp.host.user;
  // what cannot work without root is refused here, before anything is made (rootless)
  checkRootless(spec, user);
  // an unprivileged parent writes the id maps only while the helper is dumpable
  const ns = planNamespaces(spec.linux.namespaces, inp.fifoIndex + 1, timeOffsetLines(spec.linux.timeOffsets), { unprivilegedParent: !!user && user.euid !== 0 });
  const hasMountNs = ns.has("mount");
  const mountLabel = hasMountNs ? mountLabelOption(spec, inp.host.lsm) : undefined;
  const joinedUser = ns.joinPaths.findIndex((j) => j.type === "user");
  const idmap = hasMountNs
    ? planIdmaps(spec, { extraBase: inp.fifoIndex + 1 + ns.joinPaths.length, joinedUserns: joinedUser >= 0 ? inp.fifoIndex + 1 + joinedUser : undefined, mountLabel })
    : { ops: [], userns: [], slots: new Map<number, number>() };
  const ops: PlanOp[] = [];
  // placed in the cgroup before anything of the container runs, and before the
  // cgroup namespace is made so that its root is the container's cgroup
  if (inp.cgroupSync) ops.push({ code: Op.SYNC, ints: [Sync.CGROUP_PLS], what: "linux.cgroupsPath" });
  ops.push(...planOomScoreAdj(spec));
  // idmapped mounts are made while the helper is still root of ocirt's user namespace
  ops.push(...idmap.ops);
  ops.push(...ns.ops);
  if (ns.newCgroup) ops.push({ code: Op.UNSHARE, ints: [CLONE.NEWCGROUP], what: "linux.namespaces (cgroup)" });

  if (hasMountNs) {
    ops.push(...planRootfsPrepare(spec));
    // sysfs is bound from the host where a user namespace may not mount it (rootless)
    const mounts = rootlessMounts(spec, user);
    // mknod and a cgroup2 mount without a cgroup namespace are refused in any user namespace but the initial one
    const inUserns = ns.newUser || ns.has("user") || (!!user && (user.euid !== 0 || user.inUserns));
    ops.push(...planMounts({ ...spec, mounts }, { cgroupViews: inp.cgroupViews, inCgroupns: ns.has("cgroup"), inUserns, mountLabel, idmapSlots: idmap.slots }));
    const devMounted = spec.mounts.some((m) => m.destination === "/dev");
    const devBound = spec.mounts.some((m) => m.destination === "/dev" && (m.type === "bind" || m.options.includes("bind") || m.options.includes("rbind")));
    if (!devBound) {
      ops.push(...planDevices(spec.linux.devices, {
        inUserns,
        hasProcKcore: inp.host.hasProcKcore && devMounted,
      }));
    }
    // runc creates a missing cwd in the rootfs
    ops.push({ code: Op.MKDIR, ints: [0o755], blobs: [spec.process.cwd], what: "process.cwd" });
    ops.push(...planCreateHooks(spec, inp.id));
    ops.push({ code: Op.PIVOT_ROOT, ints: [inp.noPivot ? 1 : 0], blobs: [spec.root.path], what: inp.noPivot ? "root.path (chroot, --no-pivot)" : "root.path (pivot_root)" });
    ops.push(...planRootfsPropagationAfterPivot(spec));
    // as runc's prepareRootfs: stdio that is /dev/null becomes the container's own
    // (read-write), unless /dev is a bind; then the console, bound on /dev/console,
    // before anything is made read-only
    if (!devBound) ops.push({ code: Op.REOPEN_DEV_NULL, what: "process (stdio: /dev/null of the container)" });
    ops.push(...planConsole(spec, true));
    ops.push(...planLateReadonly(spec));
  } else {
    // Without a mount namespace every mount would land in the host's mount table
    // and outlive the container: ocirt only changes root (runc would mount anyway).
    if (spec.linux.maskedPaths.length || spec.linux.readonlyPaths.length) {
      throw new ConfigError("unable to restrict paths without a private mount namespace", [], { where: spec.linux.maskedPaths.length ? "linux.maskedPaths" : "linux.readonlyPaths" });
    }
    if (spec.mounts.length || spec.root.readonly) {
      inp.warn("linux.namespaces: no mount namespace: mounts and root.readonly are not applied (they would change the host's mounts)");
    }
    ops.push(...planCreateHooks(spec, inp.id));
    ops.push({ code: Op.PIVOT_ROOT, ints: [2], blobs: [spec.root.path], what: "root.path (chroot, no mount namespace)" });
  }
  ops.push(...planSysctl(spec));
  if (hasMountNs) ops.push(...planPathRestrictions(spec, mountLabel));
  if (spec.hostname !== undefined) ops.push({ code: Op.SETHOSTNAME, blobs: [spec.hostname], what: "hostname" });
  if (spec.domainname !== undefined) ops.push({ code: Op.SETDOMAINNAME, blobs: [spec.domainname], what: "domainname" });
  ops.push(...planProcessSetup({ ...inp, consolePlanned: hasMountNs }));
  return { cloneFlags: ns.cloneFlags, ns, ops, idmapUserns: idmap.userns };
}
