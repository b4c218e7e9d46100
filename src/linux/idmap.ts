// Idmapped mounts (runtime-spec 1.2: mounts[].uidMappings / gidMappings, the idmap
// and ridmap options) -> the helper's OP_IDMAP_MOUNT ops and the user namespaces
// the parent makes for their mappings. Pure.
//
// mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the user namespace that
// owns the file system, and a detached mount: the helper makes each one before any
// namespace op (open_tree(OPEN_TREE_CLONE) for a bind, fsopen/fsmount for another
// type) and keeps it in a slot; planMounts' OP_MOUNT for that mount moves it into
// place (MOUNT_I_IDMAP). The mapping is the mount's own, or else the container's
// user namespace's (its uid/gidMappings, or the namespace joined by path); the
// spec makes an idmap without either an error.
import type { Spec, SpecMount } from "../spec/normalise";
import type { IDMapping } from "../spec/types";
import { ConfigError } from "../errors";
import { Op, type PlanOp } from "../plan/ops";
import { isBind, MS, parseMountOptions } from "./mount-options";

export interface IdmapMappings {
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
}

export interface IdmapPlan {
  /** OP_IDMAP_MOUNT per idmapped mount, to run before any namespace op. */
  ops: PlanOp[];
  /** User namespaces the parent makes with these mappings, at extra fd indexes extraBase, extraBase+1, ... */
  userns: IdmapMappings[];
  /** mounts[] index -> slot of its detached mount. */
  slots: Map<number, number>;
}

export interface IdmapContext {
  /** Extra fd index of the first user namespace the parent makes for the mappings. */
  extraBase: number;
  /** Extra fd index of the user namespace the container joins by path, if it does. */
  joinedUserns?: number | undefined;
  /** linux.mountLabel as a mount option (SELinux), for a new (non-bind) file system. */
  mountLabel?: string | undefined;
}

export function isIdmappedMount(m: SpecMount): boolean {
  return m.options.includes("idmap") || m.options.includes("ridmap") || m.uidMappings.length > 0 || m.gidMappings.length > 0;
}

/** The mappings' lines, as uid_map/gid_map take them. */
export function idMapText(maps: IDMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}

export function planIdmaps(spec: Spec, ctx: IdmapContext): IdmapPlan {
  const ops: PlanOp[] = [];
  const userns: IdmapMappings[] = [];
  const index = new Map<string, number>();
  const slots = new Map<number, number>();
  const newUserns = spec.linux.namespaces.some((n) => n.type === "user" && !n.path);
  spec.mounts.forEach((m, i) => {
    if (!isIdmappedMount(m)) return;
    const where = `mounts[${i}] (${m.destination})`;
    const o = parseMountOptions(m.options);
    if (o.extensions.includes("tmpcopyup")) throw new ConfigError("tmpcopyup cannot be combined with an idmapped mount", [], { where: `${where}.options` });
    let fd: number;
    if (m.uidMappings.length || m.gidMappings.length) {
      fd = usernsIndex({ uidMappings: m.uidMappings, gidMappings: m.gidMappings });
    } else if (newUserns) {
      fd = usernsIndex({ uidMappings: spec.linux.uidMappings, gidMappings: spec.linux.gidMappings });
    } else if (ctx.joinedUserns !== undefined) {
      fd = ctx.joinedUserns;
    } else {
      throw new ConfigError("idmap needs uidMappings and gidMappings on the mount, or a user namespace in linux.namespaces", [], { where: `${where}.options` });
    }
    const bind = isBind(m.type, m.options);
    const slot = slots.size;
    slots.set(i, slot);
    const label = ctx.mountLabel && !bind && !["proc", "sysfs", "mqueue"].includes(m.type ?? "") ? [ctx.mountLabel] : [];
    ops.push({
      code: Op.IDMAP_MOUNT,
      ints: [slot, fd, bind && o.flags & MS.REC ? 1 : 0, m.options.includes("ridmap") ? 1 : 0],
      blobs: bind ? [m.source!, "", ""] : [m.source ?? m.type ?? "none", m.type ?? "", [...o.data, ...label].join(",")],
      what: `${where} (idmapped)`,
    });
  });
  return { ops, userns, slots };

  function usernsIndex(maps: IdmapMappings): number {
    if (!maps.uidMappings.length || !maps.gidMappings.length) {
      throw new ConfigError("an idmapped mount needs both uidMappings and gidMappings", [], { where: "mounts" });
    }
    const key = idMapText(maps.uidMappings) + "|" + idMapText(maps.gidMappings);
    let k = index.get(key);
    if (k === undefined) {
      k = userns.length;
      index.set(key, k);
      userns.push(maps);
    }
    return ctx.extraBase + k;
  }
}
