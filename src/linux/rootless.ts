// What a container needs where ocirt is not root of the host (rootless): ocirt runs
// as an unprivileged user (euid != 0, `ocirt run` by hand, `runc --rootless`), or as
// root of a user namespace other than the initial one (rootless Podman and Docker
// run the runtime inside theirs). Pure: who ocirt runs as comes in as data.
//
// In both cases every mount is made inside a user namespace that does not own the
// host's file systems, so the kernel allows only the file system types marked
// FS_USERNS_MOUNT, no mknod, and sysfs only in a network namespace of the user
// namespace's own. An unprivileged user also needs a user namespace in the config,
// and can only deny setgroups when it maps nothing but its own gid.
import type { Spec, SpecMount } from "../spec/normalise";
import type { IDMapping } from "../spec/types";
import type { UserFacts } from "../host";
import { ConfigError } from "../errors";
import { isBind, parseMountOptions } from "./mount-options";
import { isIdmappedMount } from "./idmap";

/** File system types a user namespace may mount (the kernel's FS_USERNS_MOUNT), binds aside. */
export const USERNS_MOUNTABLE: ReadonlySet<string> = new Set([
  "tmpfs", "ramfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "overlay", "fuse", "binfmt_misc", "bpf",
]);

export function userNamespaceMountable(type: string): boolean {
  return USERNS_MOUNTABLE.has(type) || type.startsWith("fuse.");
}

/** ocirt is not root of the host: an unprivileged user, or root of another user namespace. */
export function isRootless(user: UserFacts | undefined): boolean {
  return !!user && (user.euid !== 0 || user.inUserns);
}

function who(user: UserFacts): string {
  return user.euid !== 0 ? `ocirt runs as uid ${user.euid}` : "ocirt runs in a user namespace";
}

/** The one line `mapping` is exactly hostId on its own (what an unprivileged user may write itself). */
export function mapsOnlyOwnId(maps: IDMapping[], hostId: number): boolean {
  return maps.length === 1 && maps[0]!.hostID === hostId && maps[0]!.size === 1;
}

function mapped(maps: IDMapping[], id: number): boolean {
  return maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/**
 * Refuses, on one line naming the field, what cannot work without root: no user
 * namespace (unprivileged), additional groups where setgroups is denied, mounts of
 * file system types a user namespace may not mount, uid=/gid= options that do not
 * map, idmapped mounts (unprivileged). Nothing to check for root of the host.
 */
export function checkRootless(spec: Spec, user: UserFacts | undefined): void {
  if (!user || !isRootless(user)) return;
  const unprivileged = user.euid !== 0;
  const userns = spec.linux.namespaces.find((n) => n.type === "user");
  if (unprivileged && !userns) {
    throw new ConfigError(`a rootless container needs a user namespace (${who(user)}): add {"type": "user"} with uidMappings and gidMappings (see ocirt spec --rootless)`, [], { where: "linux.namespaces" });
  }
  const newUserns = !!userns && !userns.path;
  if (unprivileged && newUserns && spec.process.user.additionalGids.length && mapsOnlyOwnId(spec.linux.gidMappings, user.egid)) {
    throw new ConfigError(
      `cannot set additional groups in a rootless container whose gidMappings map only gid ${user.egid}: setgroups is denied there (map a range of /etc/subgid, written by newgidmap)`,
      [], { where: "process.user.additionalGids" },
    );
  }
  spec.mounts.forEach((m, i) => {
    const where = `mounts[${i}] (${m.destination})`;
    if (unprivileged && isIdmappedMount(m)) {
      throw new ConfigError(`idmapped mounts need ocirt to run as root (${who(user)}): mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the file system`, [], { where });
    }
    const type = m.type ?? "";
    if (!isBind(m.type, m.options) && !userNamespaceMountable(type)) {
      throw new ConfigError(
        `a rootless container cannot mount a ${JSON.stringify(type || "none")} file system (${who(user)}; a user namespace may mount only ${[...USERNS_MOUNTABLE].join(", ")}, fuse.*): bind-mount a directory instead`,
        [], { where },
      );
    }
    if (!newUserns) return;
    for (const opt of parseMountOptions(m.options).data) {
      const kv = /^(uid|gid)=(\d+)$/.exec(opt);
      if (!kv) continue;
      const maps = kv[1] === "uid" ? spec.linux.uidMappings : spec.linux.gidMappings;
      if (!mapped(maps, Number(kv[2]))) {
        throw new ConfigError(`${opt} is not mapped in linux.${kv[1]}Mappings: a rootless container cannot use it`, [], { where: `${where}.options` });
      }
    }
  });
}

/**
 * sysfs can be mounted only by a process with CAP_SYS_ADMIN in the user namespace
 * that owns its network namespace. Where the container's mounts are made in a user
 * namespace (its own, or the one ocirt runs in) and it shares ocirt's network
 * namespace (none in linux.namespaces), /sys of the host is bound instead, as runc's
 * rootless spec does ("rbind", with the mount's own options). A network namespace
 * joined by path keeps its sysfs mount: only it shows that namespace's devices.
 */
export function sysfsFromHost(spec: Spec, user: UserFacts | undefined): boolean {
  const userns = spec.linux.namespaces.some((n) => n.type === "user");
  const netns = spec.linux.namespaces.some((n) => n.type === "network");
  return (userns || isRootless(user)) && !netns;
}

/** The config's mounts, with sysfs bound from the host where it cannot be mounted (sysfsFromHost). */
export function rootlessMounts(spec: Spec, user: UserFacts | undefined): SpecMount[] {
  if (!sysfsFromHost(spec, user)) return spec.mounts;
  return spec.mounts.map((m) =>
    m.type === "sysfs" && !isBind(m.type, m.options)
      ? { ...m, type: "none", source: "/sys", options: ["rbind", ...m.options.filter((o) => o !== "bind" && o !== "rbind")] }
      : m,
  );
}
