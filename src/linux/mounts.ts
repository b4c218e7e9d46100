// The root filesystem and the config's mounts -> ops, before pivot_root. Pure.
import type { Spec, SpecMount } from "../spec/normalise";
import { Op, mountInts, type PlanOp } from "../plan/ops";
import { isBind, MS, parseMountOptions, PROPAGATION } from "./mount-options";
import { ConfigError } from "../errors";
import { posix } from "node:path";

/** A cgroup hierarchy as the container should see it under a "cgroup" mount. */
export interface CgroupView {
  /** Directory name under the mount point: "cpu", "memory", "systemd", "" for v2. */
  name: string;
  /** Host directory of the container's cgroup in this hierarchy (bind source). */
  hostPath: string;
  /** cgroup fs options when mounted fresh in a cgroup namespace ("cpu", "name=systemd"). */
  fsOptions: string;
  /** v2 hierarchy */
  unified: boolean;
}

/** linux.rootfsPropagation before the mounts: on "/" (default rslave) and the mount holding the rootfs. */
export function planRootfsPrepare(spec: Spec): PlanOp[] {
  const prop = spec.linux.rootfsPropagation ? PROPAGATION[spec.linux.rootfsPropagation]! : MS.SLAVE | MS.REC;
  return [
    // keep the container's mounts from propagating to the host (runc's default: rslave)
    { code: Op.PROPAGATION, ints: [prop], blobs: ["/"], what: "linux.rootfsPropagation" },
    { code: Op.PARENT_PRIVATE, blobs: [spec.root.path], what: "root.path (its parent mount)" },
    // the rootfs must be a mount point of its own for pivot_root
    {
      code: Op.MOUNT,
      ints: mountInts({ flags: MS.BIND | MS.REC, sourceInRoot: 2, targetHost: 1 }),
      blobs: [spec.root.path, spec.root.path, "", ""],
      what: `root.path (${spec.root.path})`,
    },
  ];
}

/**
 * linux.rootfsPropagation after pivot_root, as runc: private and slave were applied
 * to the mount holding the rootfs already; shared and unbindable must be set on the
 * new "/".
 */
export function planRootfsPropagationAfterPivot(spec: Spec): PlanOp[] {
  const after = spec.linux.rootfsPropagation ? PROPAGATION[spec.linux.rootfsPropagation]! : 0;
  if (!after || after & (MS.PRIVATE | MS.SLAVE)) return [];
  return [{ code: Op.PROPAGATION, ints: [after], blobs: ["/"], what: "linux.rootfsPropagation" }];
}

/**
 * root.readonly, linux.readonlyPaths and linux.maskedPaths, after pivot_root, in
 * runc's order: a mask made last keeps its own flags (a /dev/null bound from a
 * read-only root is read-only, one inside a read-only path is not).
 */
export function planPathRestrictions(spec: Spec, mountLabel?: string): PlanOp[] {
  const ops: PlanOp[] = [];
  if (spec.root.readonly) ops.push({ code: Op.REMOUNT_RO_ROOT, what: "root.readonly" });
  spec.linux.readonlyPaths.forEach((m, i) => ops.push({ code: Op.READONLY, blobs: [m], what: `linux.readonlyPaths[${i}] (${m})` }));
  // a masked directory's read-only tmpfs takes no data but the mount label (runc's maskPath)
  spec.linux.maskedPaths.forEach((m, i) => ops.push({ code: Op.MASK, blobs: mountLabel ? [m, mountLabel] : [m], what: `linux.maskedPaths[${i}] (${m})` }));
  return ops;
}

function mountWhat(i: number, m: SpecMount): string {
  return `mounts[${i}] (${m.destination})`;
}

/** runc labels the mounts that take an SELinux context: not binds, proc, sysfs, mqueue or cgroups. */
const NO_MOUNT_LABEL = new Set(["proc", "sysfs", "mqueue"]);

export interface MountsContext {
  cgroupViews: CgroupView[];
  inCgroupns: boolean;
  /** any user namespace but the initial one: the container's (new or joined) or ocirt's own (rootless) */
  inUserns: boolean;
  /** linux.mountLabel as a mount option (src/linux/lsm.ts), where SELinux applies it. */
  mountLabel?: string | undefined;
  /** mounts[] index -> slot of its idmapped mount (linux/idmap.ts planIdmaps). */
  idmapSlots?: ReadonlyMap<number, number> | undefined;
}

export function planMounts(spec: Spec, ctx: MountsContext): PlanOp[] {
  const { cgroupViews, inCgroupns } = ctx;
  const ops: PlanOp[] = [];
  spec.mounts.forEach((m, i) => {
    const what = mountWhat(i, m);
    const o = parseMountOptions(m.options);
    // runc lays out "cgroup" itself; "cgroup2" is an ordinary filesystem to it
    if (m.type === "cgroup") {
      const v2 = cgroupV2Mount({ inCgroupns, inUserns: ctx.inUserns, underHostSys: overHostSys(spec.mounts.slice(0, i), m) });
      ops.push(...planCgroupMount(m, what, o, cgroupViews, inCgroupns, v2));
      return;
    }
    const bind = isBind(m.type, m.options);
    if (bind && !m.source) throw new ConfigError(`bind mount needs a source`, [], { where: `mounts[${i}].source` });
    checkProcMount(m, bind, what);
    const label = ctx.mountLabel && !bind && !NO_MOUNT_LABEL.has(m.type ?? "") ? [ctx.mountLabel] : [];
    const data = [...o.data, ...label].join(",");
    const idmapSlot = ctx.idmapSlots?.get(i);
    if (idmapSlot !== undefined) {
      // made detached and mapped before the namespaces (linux/idmap.ts): moved here,
      // then finished as a bind (its flags by remount, propagation, attributes); a
      // read-only tmpfs too only after pivot_root (planLateReadonly)
      const idFlags = lateReadonly(m, bind, o.flags) ? o.flags & ~MS.RDONLY : o.flags;
      ops.push({
        code: Op.MOUNT,
        ints: mountInts({ flags: (idFlags & ~MS.REC) | MS.BIND, propagation: o.propagation, attrSet: o.attrSet, attrClr: o.attrClr, create: bind ? 3 : 1, idmap: idmapSlot + 1 }),
        blobs: [m.source ?? m.type ?? "none", m.destination, "", ""],
        what,
      });
      return;
    }
    if (o.extensions.includes("idmap") || o.extensions.includes("ridmap") || m.uidMappings.length || m.gidMappings.length) {
      throw new ConfigError("idmapped mount without its detached mount (planIdmaps)", [], { where: `mounts[${i}].options` });
    }
    const copyup = o.extensions.includes("tmpcopyup") && m.type === "tmpfs" ? 1 : 0;
    // made read-only only after pivot_root (planLateReadonly), as runc does
    const flags = lateReadonly(m, bind, o.flags) ? o.flags & ~MS.RDONLY : o.flags;
    ops.push({
      code: Op.MOUNT,
      ints: mountInts({ flags: flags | (bind ? MS.BIND : 0), propagation: o.propagation, attrSet: o.attrSet, attrClr: o.attrClr, create: bind ? 3 : 1, tmpcopyup: copyup }),
      blobs: [m.source ?? m.type ?? "none", m.destination, bind ? "" : (m.type ?? ""), data],
      what,
    });
  });
  return ops;
}

/**
 * runc mounts a tmpfs (and whatever is mounted on /dev) writable, so that files can
 * still be made in it, and makes it read-only after pivot_root with a bind remount:
 * the mount is read-only, its filesystem is not (finalizeRootfs).
 */
function lateReadonly(m: SpecMount, bind: boolean, flags: number): boolean {
  return !bind && (flags & MS.RDONLY) !== 0 && (m.type === "tmpfs" || posix.normalize(m.destination).replace(/\/+$/, "") === "/dev");
}

/** The read-only remounts of the mounts lateReadonly held back, after pivot_root. */
export function planLateReadonly(spec: Spec): PlanOp[] {
  const ops: PlanOp[] = [];
  spec.mounts.forEach((m, i) => {
    if (m.type === "cgroup") return;
    const o = parseMountOptions(m.options);
    if (!lateReadonly(m, isBind(m.type, m.options), o.flags)) return;
    ops.push({ code: Op.MOUNT, ints: mountInts({ flags: o.flags | MS.BIND | MS.REMOUNT }), blobs: ["", m.destination, "", ""], what: `${mountWhat(i, m)} read-only` });
  });
  return ops;
}

// Files under /proc that lxcfs emulates: the only mounts runc allows below /proc.
const PROC_ALLOWED = [
  "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps", "/proc/uptime", "/proc/loadavg",
  "/proc/slabinfo", "/proc/sys/kernel/ns_last_pid", "/proc/sys/crypto/fips_enabled",
];

/**
 * runc's checkProcMount: something else on /proc, or over a file in it, would hide
 * what the kernel shows there (LSM attributes, sysctls) from the ocirt init and the
 * container. Checked on the lexical path; that a bind on /proc is itself a procfs
 * is not checked here.
 */
function checkProcMount(m: SpecMount, bind: boolean, what: string): void {
  const dest = posix.normalize(m.destination).replace(/\/+$/, "") || "/";
  if (dest === "/proc") {
    if (m.type === "proc" || bind) return;
    throw new ConfigError(`"/proc" cannot be mounted because it is not of type proc`, [], { where: what });
  }
  if (!dest.startsWith("/proc/")) return;
  if (PROC_ALLOWED.some((p) => dest === p || dest.startsWith(`${p}/`))) return;
  throw new ConfigError(`${dest} cannot be mounted because it is inside /proc`, [], { where: what });
}

/**
 * Whether /sys is a bind of the host's (rootless: runc's spec, or sysfs bound by
 * rootlessMounts) above this cgroup mount: on a pure v2 host the host's cgroup2 mount
 * is then already on /sys/fs/cgroup, and the kernel refuses a cgroup2 mount on a
 * mount of the same file system (EBUSY); runc falls back to a bind (cgroupV2Mount).
 */
export function overHostSys(before: readonly SpecMount[], m: SpecMount): boolean {
  if (!posix.normalize(m.destination).startsWith("/sys/")) return false;
  return before.some((b) => posix.normalize(b.destination).replace(/\/+$/, "") === "/sys" && isBind(b.type, b.options));
}

/** runc's defaultMountFlags: what its /sys/fs/cgroup tmpfs and cgroup-namespace mounts get. */
const CGROUP_DEFAULT_FLAGS = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/** The mount point of the cgroup v2 hierarchy on a pure v2 host (runc's fs2.UnifiedMountpoint). */
export const UNIFIED_MOUNTPOINT = "/sys/fs/cgroup";

/**
 * What a "cgroup" mount is on a pure cgroup v2 host, as runc 1.1's mountCgroupV2
 * ends up: a fresh cgroup2 mount ("fresh": in a cgroup namespace its root is the
 * namespace's, without one the whole hierarchy), unless the kernel refuses it,
 * where runc falls back to a bind: of the container's own cgroup in a cgroup
 * namespace ("own", emulating it), else of the host's whole hierarchy ("all").
 * The kernel refuses with EPERM in a user namespace that does not own the cgroup
 * namespace (none of its own), and with EBUSY over a /sys bound from the host
 * (the same cgroup2 root already mounted there).
 */
export type CgroupV2Mount = "fresh" | "own" | "all";

export function cgroupV2Mount(f: { inCgroupns: boolean; inUserns: boolean; underHostSys: boolean }): CgroupV2Mount {
  if (f.underHostSys) return f.inCgroupns ? "own" : "all";
  if (f.inUserns && !f.inCgroupns) return "all";
  return "fresh";
}

/**
 * A "cgroup" mount, as runc 1.1 makes it. Pure v2: one cgroup2 mount, or the bind
 * cgroupV2Mount says. v1 and hybrid (runc's
 * mountCgroupV1): a tmpfs (nosuid, nodev, noexec, mode=755, never read-only) with
 * one directory per v1 hierarchy, in the host's mount order, and no view of the
 * hybrid layout's cgroup2; each a bind of the container's cgroup with the mount's
 * flags, or in a cgroup namespace a fresh cgroup mount with only nosuid, nodev,
 * noexec and ro; co-mounted hierarchies ("cpu,cpuacct") get a link per controller.
 */
function planCgroupMount(m: SpecMount, what: string, o: { flags: number; propagation: number; data: string[] }, views: CgroupView[], inCgroupns: boolean, v2mount: CgroupV2Mount): PlanOp[] {
  const { flags, propagation } = o;
  const ro = flags & MS.RDONLY;
  const v2 = views.find((v) => v.unified && v.name === "");
  if (v2 && views.length === 1) {
    // runc mounts the config's source with the mount's flags and data, no propagation
    if (v2mount === "fresh") return [{ code: Op.MOUNT, ints: mountInts({ flags, create: 1 }), blobs: [m.source || "cgroup", m.destination, "cgroup2", o.data.join(",")], what }];
    const source = v2mount === "own" ? v2.hostPath : UNIFIED_MOUNTPOINT;
    return [{ code: Op.MOUNT, ints: mountInts({ flags: flags | MS.BIND, propagation, create: 1 }), blobs: [source, m.destination, "", ""], what }];
  }
  const ops: PlanOp[] = [{ code: Op.MOUNT, ints: mountInts({ flags: CGROUP_DEFAULT_FLAGS, propagation, create: 1 }), blobs: ["tmpfs", m.destination, "tmpfs", "mode=755"], what }];
  const v1 = views.filter((v) => !v.unified);
  for (const v of v1) {
    const dest = `${m.destination}/${v.name}`;
    ops.push(
      inCgroupns
        ? {
          code: Op.MOUNT,
          ints: mountInts({ flags: CGROUP_DEFAULT_FLAGS | ro, create: 1 }),
          // runc names the systemd hierarchy's mount "systemd", the others "cgroup"
          blobs: [v.fsOptions.startsWith("name=") ? v.fsOptions.slice(5) : "cgroup", dest, "cgroup", v.fsOptions],
          what: `${what} ${v.name}`,
        }
        : { code: Op.MOUNT, ints: mountInts({ flags: MS.BIND | MS.REC | flags, propagation, create: 1 }), blobs: [v.hostPath, dest, "", ""], what: `${what} ${v.name}` },
    );
  }
  for (const v of v1.filter((x) => x.name.includes(","))) {
    for (const c of v.name.split(",")) ops.push({ code: Op.SYMLINK, blobs: [v.name, `${m.destination}/${c}`], what: `${what} ${c} -> ${v.name}` });
  }
  return ops;
}
