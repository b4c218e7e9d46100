// Removing a container's cgroup directories once nothing runs in them: the last step of
// destroyCgroup (dirs.ts), and on its own the whole of it for a stopped container whose
// cgroups are empty, the usual `delete`. That case needs none of the cgroup library
// (Cgroup, resources, systemd), so delete loads none of it (docs/speed.md).
import { codeOf } from "./errno";
import type { CgroupFs } from "./fsio";

/**
 * The parents this container's create made (`created`, outermost first), innermost first,
 * each removed if it is empty: another container's cgroup may live there too.
 */
export function removeCreatedParents(fs: CgroupFs, created: readonly string[], leaves: ReadonlySet<string>): { dir: string; err: unknown }[] {
  const failed: { dir: string; err: unknown }[] = [];
  for (const dir of [...created].reverse()) {
    if (leaves.has(dir)) continue;
    try {
      fs.rmdir(dir);
    } catch (err) {
      const code = codeOf(err);
      if (code !== "ENOENT" && code !== "EBUSY" && code !== "ENOTEMPTY") failed.push({ dir, err });
    }
  }
  return failed;
}

/**
 * The cgroups of a container's state (fs driver) removed when each is empty: one rmdir(2)
 * per directory, which the kernel refuses while a task or a child cgroup is in it. True when
 * all are gone; false when something stays (a process, a child cgroup, a frozen or a systemd
 * cgroup, a state this does not read): destroyCgroup (dirs.ts) then does the rest, killing
 * what runs there. Nothing is killed here.
 */
export function removeEmptyCgroup(fs: CgroupFs, state: unknown): boolean {
  const st = state as { driver?: unknown; paths?: unknown; created?: unknown } | null;
  if (!st || typeof st !== "object" || st.driver !== "fs" || !st.paths || typeof st.paths !== "object") return false;
  // Cgroup.fromState's tests of the paths; a state that fails them is the library's to report
  const normal = (p: unknown): p is string => typeof p === "string" && isNormalAbsolute(p);
  const leaves = new Set<string>();
  for (const p of Object.values(st.paths)) {
    if (!normal(p)) return false;
    leaves.add(p);
  }
  const created = Array.isArray(st.created) ? st.created.filter((p) => typeof p === "string") : [];
  if (!created.every((c) => isCgroupOrParent(c, leaves))) return false;
  for (const dir of leaves) {
    try {
      fs.rmdir(dir);
    } catch (err) {
      if (codeOf(err) !== "ENOENT") return false;
    }
  }
  return removeCreatedParents(fs, created, leaves).length === 0;
}

/** A `created` entry of a cgroup state that delete may remove: one of its paths or a parent of one. */
export function isCgroupOrParent(dir: string, paths: Iterable<string>): boolean {
  if (!isNormalAbsolute(dir)) return false;
  for (const p of paths) if (p === dir || p.startsWith(`${dir}/`)) return true;
  return false;
}

/**
 * posix.isAbsolute(p) && posix.normalize(p) === p (an absolute path without empty, "." or ".."
 * segments; one trailing "/" allowed, as normalize keeps it), without normalize's walk over
 * every character (~25 µs a call, cold, under Bun; delete makes a score of them) or a regex
 * (compiled at its first use, in every command).
 */
export function isNormalAbsolute(p: string): boolean {
  if (p === "/") return true;
  if (p[0] !== "/") return false;
  const parts = p.split("/"); // "" first; a trailing "/" makes a last ""
  for (let i = 1; i < parts.length; i++) {
    const s = parts[i]!;
    if (s === "." || s === "..") return false;
    if (s === "" && !(i === parts.length - 1 && i > 1)) return false;
  }
  return true;
}
