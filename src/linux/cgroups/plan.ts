// planCgroup: spec + container id + host -> where the cgroup goes and the resources
// it gets. Pure: the host is probed beforehand (probeCgroupHost). The writes
// themselves are planned once, against the live files, when they are applied
// (Cgroup.applyResources).
import { ConfigError } from "../../errors";
import { defaultDeviceCgroups } from "./devices";
import type { CgroupHost } from "./host";
import { fsPaths, innerPath, mountOf, systemdPaths } from "./paths";
import { parseSystemdCgroupsPath, requireSystemd, type SystemdUnit } from "./systemd";
import type { CgroupMode, CgroupSpecInput, LinuxResources } from "./types";

export interface PlanOptions {
  host: CgroupHost;
  /** --systemd-cgroup */
  systemd?: boolean;
  /**
   * Rootless --systemd-cgroup: the user's systemd manager makes the unit, below its
   * own cgroup (user@UID.service), and the default slice is user.slice (runc's).
   */
  systemdUser?: { managerCgroup: string } | undefined;
}

export interface CgroupPlan {
  mode: CgroupMode;
  driver: "fs" | "systemd";
  /** subsystem -> absolute cgroup dir; "" is the unified (cgroup2) hierarchy. */
  paths: Record<string, string>;
  /** subsystem -> the hierarchy's mount point (mkdir -p starts below it). */
  mounts: Record<string, string>;
  /** Hierarchies that are only joined: failing to create or join them is not an error. */
  optional: string[];
  /** v1 controllers runc knows that the host does not mount. */
  missing: string[];
  systemd?: SystemdUnit;
  /** The spec's resources with runc's default device rules appended. */
  resources: LinuxResources;
}

export function planCgroup(spec: CgroupSpecInput, id: string, opts: PlanOptions): CgroupPlan {
  const host = opts.host;
  const cgroupsPath = spec.linux?.cgroupsPath || undefined;
  let driver: CgroupPlan["driver"] = "fs";
  let unit: SystemdUnit | undefined;
  let resolved;
  if (opts.systemd) {
    requireSystemd(host.systemdRunning);
    driver = "systemd";
    unit = parseSystemdCgroupsPath(cgroupsPath, id, opts.systemdUser ? "user.slice" : "system.slice");
    // runc asks systemd for a slice holding the init's pid, which systemd refuses
    // ("Cannot set property PIDs") after the clone; refused here, before anything exists
    if (unit.unit.endsWith(".slice")) {
      throw new ConfigError(`${JSON.stringify(unit.unit)} is a slice, and systemd puts no processes in slices: name a scope ("slice:prefix:name")`, [], { where: "linux.cgroupsPath" });
    }
    resolved = systemdPaths(host, unit, opts.systemdUser?.managerCgroup);
  } else {
    resolved = fsPaths(host, innerPath(cgroupsPath, id));
  }
  const mounts: Record<string, string> = {};
  for (const key of Object.keys(resolved.paths)) mounts[key] = mountOf(host, key)!;

  const specDevicePaths = (spec.linux?.devices ?? []).map((d) => d.path);
  const base = spec.linux?.resources ?? {};
  const resources: LinuxResources = { ...base, devices: [...(base.devices ?? []), ...defaultDeviceCgroups(specDevicePaths)] };

  return {
    mode: host.mode,
    driver,
    paths: resolved.paths,
    mounts,
    optional: Object.keys(resolved.paths).filter((k) => k === "" ? host.mode === "hybrid" : k.startsWith("name=") || k === "misc"),
    missing: resolved.missing,
    ...(unit ? { systemd: unit } : {}),
    resources,
  };
}
