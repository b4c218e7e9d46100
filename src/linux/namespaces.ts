// Namespaces of the config -> how the init gets into them. Pure.
//
// Fast path: every namespace is new, none is joined by path, and there is no new
// user namespace; the clone itself creates them (one process, no extra fork).
// Otherwise the clone creates nothing and the helper joins (setns) the given paths
// first — the user namespace before the others, so the joined ones are entered
// with host privileges — then unshares a new user namespace and waits for its id
// maps, then unshares the other new ones, and forks once when the pid (or time)
// namespace changes, because those apply only to children.
//
// A new user namespace is never made by the clone: the helper is exec'd right
// after it, and an execve by a process whose uid is not yet mapped in its user
// namespace drops every capability it had there.
import type { LinuxNamespace } from "../spec/types";
import type { SpecLinux } from "../spec/normalise";
import { Op, Sync, SYNC_DUMPABLE, type PlanOp } from "../plan/ops";

export const CLONE = {
  NEWTIME: 0x80, NEWNS: 0x20000, NEWCGROUP: 0x02000000, NEWUTS: 0x04000000, NEWIPC: 0x08000000,
  NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000,
} as const;

export const NS_FLAG: Record<string, number> = {
  mount: CLONE.NEWNS, uts: CLONE.NEWUTS, ipc: CLONE.NEWIPC, user: CLONE.NEWUSER, pid: CLONE.NEWPID,
  network: CLONE.NEWNET, cgroup: CLONE.NEWCGROUP, time: CLONE.NEWTIME,
};

/** /proc/<pid>/ns/<name> for each spec namespace type. */
export const NS_PROC_NAME: Record<string, string> = {
  mount: "mnt", uts: "uts", ipc: "ipc", user: "user", pid: "pid", network: "net", cgroup: "cgroup", time: "time",
};

export interface NamespacePlan {
  cloneFlags: number;
  /** Namespace files the parent opens and hands over, in extra-fd order. */
  joinPaths: { type: string; path: string }[];
  /** Ops up to the point where the init is in all its namespaces (cgroup ns excluded). */
  ops: PlanOp[];
  /** Set when the helper forks: the container's pid comes in a CHILD_PID message. */
  forks: boolean;
  newUser: boolean;
  newCgroup: boolean;
  has: (type: string) => boolean;
}

/**
 * @param extraBase index of the first extra fd the namespace files will occupy
 * @param timeOffsets lines for /proc/self/timens_offsets ("monotonic 1 0")
 */
export function planNamespaces(namespaces: LinuxNamespace[], extraBase: number, timeOffsets: string[], opts: { unprivilegedParent?: boolean } = {}): NamespacePlan {
  const joins = namespaces.filter((n) => n.path);
  const fresh = namespaces.filter((n) => !n.path);
  const has = (t: string) => namespaces.some((n) => n.type === t);
  const newUser = fresh.some((n) => n.type === "user");
  const newCgroup = fresh.some((n) => n.type === "cgroup");
  const newPid = fresh.some((n) => n.type === "pid");
  const newTime = fresh.some((n) => n.type === "time");
  const ops: PlanOp[] = [];
  const joinPaths: { type: string; path: string }[] = [];
  const userSetup: PlanOp[] = newUser
    ? [
        // rootless: the parent, not root, opens the helper's uid_map, gid_map and setgroups (SYNC_DUMPABLE)
        { code: Op.SYNC, ...(opts.unprivilegedParent ? { flags: SYNC_DUMPABLE } : {}), ints: [Sync.USERMAP_PLS], what: "linux.uidMappings" },
        { code: Op.SETID_ROOT, what: "linux.uidMappings" },
      ]
    : [];

  // as runc: a new network namespace gets its loopback interface up
  const loUp: PlanOp[] = fresh.some((n) => n.type === "network") ? [{ code: Op.NET_LO_UP, what: "linux.namespaces (network: lo up)" }] : [];

  if (joins.length === 0 && !newTime && !newUser) {
    let flags = 0;
    for (const n of fresh) if (n.type !== "cgroup") flags |= NS_FLAG[n.type]!;
    return { cloneFlags: flags, joinPaths, ops: loUp, forks: false, newUser, newCgroup, has };
  }

  // user namespace first: joining it gives the rights to join the others it owns
  const ordered = [...joins].sort((a, b) => (a.type === "user" ? -1 : b.type === "user" ? 1 : 0));
  for (const n of ordered) {
    const idx = extraBase + joinPaths.length;
    joinPaths.push({ type: n.type, path: n.path! });
    ops.push({ code: Op.SETNS, ints: [idx, NS_FLAG[n.type]!], what: `linux.namespaces (${n.type} ${n.path})` });
    if (n.type === "user") ops.push({ code: Op.SETID_ROOT, what: `linux.namespaces (user ${n.path})` });
  }
  if (newUser) ops.push({ code: Op.UNSHARE, ints: [CLONE.NEWUSER], what: "linux.namespaces (user)" }, ...userSetup);
  let unshare = 0;
  for (const n of fresh) if (!["cgroup", "pid", "time", "user"].includes(n.type)) unshare |= NS_FLAG[n.type]!;
  if (unshare) ops.push({ code: Op.UNSHARE, ints: [unshare], what: "linux.namespaces" });
  if (newTime) {
    ops.push({ code: Op.UNSHARE, ints: [CLONE.NEWTIME], what: "linux.namespaces (time)" });
    if (timeOffsets.length) ops.push({ code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/self/timens_offsets", timeOffsets.join("\n") + "\n"], what: "linux.timeOffsets" });
  }
  if (newPid) ops.push({ code: Op.UNSHARE, ints: [CLONE.NEWPID], what: "linux.namespaces (pid)" });
  const joinsPid = joins.some((n) => n.type === "pid");
  const forks = newPid || joinsPid || newTime;
  if (forks) ops.push({ code: Op.FORK, what: "linux.namespaces (pid)" });
  ops.push(...loUp);
  return { cloneFlags: 0, joinPaths, ops, forks, newUser, newCgroup, has };
}

/** linux.timeOffsets as the lines of /proc/self/timens_offsets ("monotonic 1 0"). */
export function timeOffsetLines(offsets: SpecLinux["timeOffsets"]): string[] {
  const out: string[] = [];
  for (const [clock, o] of Object.entries(offsets)) {
    if (!o) continue;
    out.push(`${clock === "boottime" ? "boottime" : "monotonic"} ${o.secs} ${o.nanosecs}`);
  }
  return out;
}
