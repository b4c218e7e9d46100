// Where the container's cgroup goes in each hierarchy, following runc:
//  - cgroupsPath absolute: under the root of every hierarchy;
//  - cgroupsPath relative: under the runtime's own cgroup (v1: per hierarchy,
//    from /proc/self/cgroup; v2: under the *parent* of the runtime's cgroup,
//    since a populated cgroup cannot enable controllers for children);
//  - no cgroupsPath: the relative path "<container-id>".
// On hybrid hosts runc's relative rule for the unified hierarchy ignores the
// runtime's own v2 cgroup and uses the mount point itself; kept for parity.
import * as path from "node:path";
import { ConfigError, HostError } from "../../errors";
import { V1_CONTROLLERS, type CgroupHost, type CgroupMount } from "./host";
import type { SystemdUnit } from "./systemd";

/** runc's utils.CleanPath: no "..", relative paths stay relative. */
export function cleanPath(p: string): string {
  if (p === "") return "";
  if (p.startsWith("/")) return path.posix.normalize(p).replace(/(.)\/$/, "$1");
  const abs = path.posix.normalize("/" + p).replace(/(.)\/$/, "$1");
  return path.posix.relative("/", abs);
}

/** The cgroup path inside each hierarchy: the cleaned cgroupsPath, or the container id. */
export function innerPath(cgroupsPath: string | undefined, id: string): string {
  const inner = cleanPath(cgroupsPath ?? "") || cleanPath(id);
  if (inner === "" || inner === "/") {
    // Placing a container at a hierarchy's root would make delete remove
    // nothing and freeze the whole machine.
    throw new ConfigError("the container's cgroup cannot be the root cgroup", [], { where: "linux.cgroupsPath" });
  }
  return inner;
}

/** v1 keys in the order runc applies them; name=systemd and misc are joined but not limited. */
export const V1_SUBSYSTEMS = [...V1_CONTROLLERS.filter((c) => c !== "misc"), "name=systemd", "misc"] as const;

function underMount(mount: CgroupMount, ownPath: string | undefined, inner: string): string {
  if (inner.startsWith("/")) return path.posix.join(mount.mountpoint, inner);
  // Inside a nested container /proc/self/cgroup shows host paths; the mount's
  // root tells which part of them is visible here.
  const own = ownPath ?? "/";
  const rel = path.posix.relative(mount.root, own);
  return path.posix.join(mount.mountpoint, rel, inner);
}

export interface ResolvedPaths {
  paths: Record<string, string>;
  /** v1 controllers runc knows that this host does not mount. */
  missing: string[];
}

/** The path of every mounted v1 hierarchy, and the controllers runc knows that are not mounted. */
function eachV1(host: CgroupHost, at: (mount: CgroupMount, sub: string) => string): ResolvedPaths {
  const paths: Record<string, string> = {};
  const missing: string[] = [];
  for (const sub of V1_SUBSYSTEMS) {
    const mount = host.v1[sub];
    if (!mount) {
      if (!sub.startsWith("name=") && sub !== "misc") missing.push(sub);
      continue;
    }
    paths[sub] = at(mount, sub);
  }
  return { paths, missing };
}

/** cgroupfs driver paths. Pure. */
export function fsPaths(host: CgroupHost, inner: string): ResolvedPaths {
  if (host.mode === "v2") {
    const mount = host.unified!;
    if (inner.startsWith("/")) return { paths: { "": path.posix.join(mount.mountpoint, inner) }, missing: [] };
    const own = host.own[""] ?? "/";
    const parent = path.posix.dirname(own);
    return { paths: { "": underMount(mount, parent, inner) }, missing: [] };
  }
  const { paths, missing } = eachV1(host, (mount, sub) => underMount(mount, host.own[sub], inner));
  if (!paths["devices"]) {
    // runc treats a missing devices hierarchy as fatal: without it the
    // container could open any device node it can create.
    throw new HostError("the devices cgroup controller is not mounted; refusing to run a container without device restrictions", {
      where: "linux.resources.devices",
    });
  }
  if (host.mode === "hybrid" && host.unified) {
    paths[""] = path.posix.join(host.unified.mountpoint, inner);
  }
  return { paths, missing };
}

/** systemd driver paths: <mount>/<slice path>/<unit> in every hierarchy. Pure. */
export function systemdPaths(host: CgroupHost, unit: SystemdUnit, managerCgroup = "/"): ResolvedPaths {
  // a user's manager (rootless) makes its slices below its own cgroup
  const rel = path.posix.join(managerCgroup, unit.slicePath, unit.unit);
  if (host.mode === "v2") return { paths: { "": path.posix.join(host.unified!.mountpoint, rel) }, missing: [] };
  const { paths, missing } = eachV1(host, (mount) => path.posix.join(mount.mountpoint, rel));
  if (host.mode === "hybrid" && host.unified) paths[""] = path.posix.join(host.unified.mountpoint, rel);
  return { paths, missing };
}

/** The mount point of the hierarchy a plan key lives in (for mkdir -p bounds). */
export function mountOf(host: CgroupHost, key: string): string | undefined {
  if (key === "") return host.unified?.mountpoint;
  return host.v1[key]?.mountpoint;
}
