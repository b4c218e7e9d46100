// The systemd cgroup driver (`--systemd-cgroup`), naming: the
// "slice:prefix:name" cgroupsPath, slice expansion and the unit name, exactly
// as runc computes them. The unit itself is made over D-Bus (systemd-scope.ts);
// where systemd does not run at all the driver refuses up front, as runc does.
import { ConfigError, HostError } from "../../errors";

export const SYSTEMD_NOT_RUNNING =
  "systemd cgroup driver: systemd is not running on this host (no /run/systemd/system)";

export interface SystemdUnit {
  /** The parent slice unit, e.g. "system.slice". */
  slice: string;
  /** The expanded slice path, e.g. "/system.slice" or "/a.slice/a-b.slice". */
  slicePath: string;
  /** The unit holding the container, e.g. "runc-abc.scope" (or a slice). */
  unit: string;
  /** The name part of "slice:prefix:name" (the container id by default), for the description. */
  name: string;
}

/** test-a-b.slice -> /test.slice/test-a.slice/test-a-b.slice (runc's ExpandSlice). */
export function expandSlice(slice: string): string {
  const suffix = ".slice";
  const bad = () => new ConfigError(`invalid slice name: ${slice}`, [], { where: "linux.cgroupsPath" });
  if (slice.length < suffix.length || !slice.endsWith(suffix)) throw bad();
  if (slice.includes("/")) throw bad();
  const name = slice.slice(0, -suffix.length);
  if (name === "-") return "/";
  let path = "";
  let prefix = "";
  for (const component of name.split("-")) {
    if (component === "") throw bad();
    path += "/" + prefix + component + suffix;
    prefix += component + "-";
  }
  return path;
}

/**
 * "slice:prefix:name" (e.g. "system.slice:docker:1234") or empty for the
 * default "system.slice" + "runc-<id>.scope".
 */
export function parseSystemdCgroupsPath(cgroupsPath: string | undefined, id: string, defaultSlice = "system.slice"): SystemdUnit {
  let slice = "";
  let prefix = "runc";
  let name = id;
  if (cgroupsPath) {
    const parts = cgroupsPath.split(":");
    if (parts.length !== 3) {
      throw new ConfigError(
        `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`,
        [],
        { where: "linux.cgroupsPath" },
      );
    }
    [slice, prefix, name] = parts as [string, string, string];
  }
  const parent = slice || defaultSlice;
  // A name that is itself a slice is used as the unit; anything else becomes a scope.
  const unit = name.endsWith(".slice") ? name : `${prefix}-${name}.scope`;
  // systemd refuses other names; refused here, before anything is made or recorded
  for (const u of [parent, unit]) {
    if (!isUnitName(u)) throw new ConfigError(`invalid systemd unit name ${JSON.stringify(u)}`, [], { where: "linux.cgroupsPath" });
  }
  return { slice: parent, slicePath: expandSlice(parent), unit, name };
}

/** systemd's unit_name_is_valid for the names ocirt makes: [A-Za-z0-9:_.\\@-], at most 255 characters. */
export function isUnitName(s: string): boolean {
  return s.length <= 255 && /^[A-Za-z0-9:_.\\@-]+\.(scope|slice)$/.test(s) && !s.startsWith(".");
}

export function requireSystemd(running: boolean): void {
  if (!running) throw new HostError(SYSTEMD_NOT_RUNNING);
}
