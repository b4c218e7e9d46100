// Rootless cgroups: whether the container's cgroup can be made where ocirt is not
// root of the host. It can where the hierarchy has been delegated to the caller
// (systemd's user@UID.service subtree on cgroup v2: the directories and their
// cgroup.procs belong to the user); elsewhere (v1 hierarchies, or a cgroup2 tree
// nobody delegated) the container runs in the caller's own cgroup, as runc's
// rootless cgroup manager does. Pure: what exists and what is writable come in.
import * as path from "node:path";
import type { CgroupPlan } from "./plan";
import type { LinuxResources } from "./types";

export interface DelegationProbe {
  exists(p: string): boolean;
  /** access(2) W_OK for the caller */
  writable(p: string): boolean;
}

/**
 * Why the plan's cgroup cannot be made by the caller, or undefined when it can:
 * for every hierarchy that must be joined, the nearest existing directory of the
 * container's path (the container's own, or the parent it would be made in) and
 * its cgroup.procs must be writable.
 */
export function delegationProblem(plan: CgroupPlan, probe: DelegationProbe): string | undefined {
  for (const [key, dir] of Object.entries(plan.paths)) {
    if (plan.optional.includes(key)) continue;
    const mount = plan.mounts[key] ?? "/";
    let cur = dir;
    while (cur !== mount && cur !== "/" && !probe.exists(cur)) cur = path.posix.dirname(cur);
    if (!probe.writable(cur) || !probe.writable(path.posix.join(cur, "cgroup.procs"))) {
      return `${cur} is not writable${key ? ` (the ${key} hierarchy)` : ""}: no cgroup is delegated here`;
    }
  }
  return undefined;
}

/**
 * linux.resources that need a cgroup of the container's own, by name ("memory",
 * "pids", ...). Device rules are not among them: without a cgroup (or without the
 * right to load a BPF program) they are skipped, as runc does rootless.
 */
export function limitsRequested(r: LinuxResources | undefined): string[] {
  if (!r) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(r)) {
    if (k === "devices" || v === undefined || v === null) continue;
    if (Array.isArray(v) ? v.length === 0 : typeof v === "object" && Object.values(v as object).every((x) => x === undefined || x === null)) continue;
    out.push(k);
  }
  return out;
}
