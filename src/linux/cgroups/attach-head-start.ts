// Head starts of the grace period the first attach to a cgroup waits for (docs/speed.md).
//
// On v1 and hybrid the init waits, at its first op, while create writes its pid to each
// hierarchy's cgroup.procs. The first such write of a while waits for an RCU grace period
// (the kernel's cgroup_threadgroup_rwsem: 6-16 ms on these VMs, whichever hierarchy; runc's
// write waits as long); a write within one grace period after another's does not wait, and
// keeps that window open. A no-op write ("0": this process, into its own cgroup), on a
// thread of the addon, starts the grace period while create goes on. The waiting writer
// holds the kernel's cgroup mutex, which mkdir needs, so the two head starts are placed
// around the cgroup dirs: the first as soon as the command is known to be create or run
// (main.ts, before the command's bundle loads: the grace period is over before the dirs are
// made, unless the machine is slow), the second right after the dirs (container-cgroup.ts),
// which keeps the window open until the init's attach. Where it cannot write, nothing changes.
import { native } from "../../native";
import { probeCgroupHost, type CgroupHost } from "./host";

export function startAttachGracePeriod(host: CgroupHost): void {
  if (host.mode === "v2") return; // CLONE_INTO_CGROUP: no attach to wait for
  // a hierarchy whose controllers do nothing on attach: hybrid's cgroup2 (no
  // controllers there), a named one, pids; never cpuset (attaching resets the
  // process's CPU affinity to the cpuset's)
  const quiet = (s: string) => (s === "" ? !!host.unified : !!host.v1[s]) && host.own[s] !== undefined;
  const sub = ["", ...Object.keys(host.own).filter((s) => s.startsWith("name=")), "pids"].find(quiet);
  if (sub === undefined) return;
  const m = sub === "" ? host.unified! : host.v1[sub]!;
  const own = host.own[sub]!;
  const rel = m.root === "/" ? own : own.startsWith(m.root) ? own.slice(m.root.length) : undefined;
  if (rel === undefined || rel.split("/").includes("..")) return;
  try {
    native().writeSoon(`${m.mountpoint}${rel === "/" ? "" : rel}/cgroup.procs`, "0");
  } catch { /* an older addon: no head start */ }
}

let probed: CgroupHost | undefined;

/** The first head start: root only (rootless creates attach nowhere they could not write). */
export function attachHeadStart(rootless: string): void {
  if (rootless === "true" || (process.geteuid?.() ?? 0) !== 0) return;
  try {
    probed = probeCgroupHost();
    startAttachGracePeriod(probed);
  } catch { /* no cgroups to speak of: create says so itself */ }
}

/** The host attachHeadStart probed for this command, once (create's setupCgroup takes it). */
export function takeProbedHost(): CgroupHost | undefined {
  const h = probed;
  probed = undefined;
  return h;
}
