// The container's cgroup as create/delete/kill/pause see it: a thin bridge over
// src/linux/cgroups that also knows what the init helper and state.json need.
import { basename, dirname } from "node:path";
import type { Spec } from "../spec/normalise";
import type { ContainerRecord } from "../state";
import type { CgroupView } from "../linux/mounts";
import { probeCgroupHost, planCgroup, createCgroup, destroyCgroup, pendingCgroup, Cgroup, type CgroupHost, type LinuxResources } from "../linux/cgroups";
import { delegationProblem, limitsRequested } from "../linux/cgroups/delegation";
import { hostUid, userManager, userManagerOf, type UserManager } from "../linux/cgroups/systemd-user";
import { requireSystemd } from "../linux/cgroups/systemd";
import { StateError } from "../errors";
import { accessSync, constants as fsc, existsSync, readFileSync } from "node:fs";
import { HostError } from "../errors";
import { phase } from "../profile";
import { posix } from "node:path";
import { userBusPath } from "../linux/cgroups/dbus-address";
import { log } from "../log";
import { startAttachGracePeriod, takeProbedHost } from "../linux/cgroups/attach-head-start";

export interface ContainerCgroup {
  /** The parent places the pid when the init asks (v1/hybrid: no CLONE_INTO_CGROUP; systemd: the unit is made then). */
  needsSync: boolean;
  cloneIntoFd(): number;
  views(): CgroupView[];
  /** A promise with the systemd driver (the unit is started with the pid). */
  addProcess(pid: number): void | Promise<void>;
  /** A promise with the systemd driver (the unit is stopped). */
  destroy(): void | Promise<void>;
  toState(): Record<string, unknown>;
  /**
   * systemd driver: one turn of the event loop, so the bus connection is made and its
   * first messages go out while the init is cloned (the protocol loop then blocks the
   * event loop until the init asks to be placed).
   */
  prime?(): Promise<void>;
}

/** The systemd driver's module: D-Bus (node:net) is loaded only when a systemd cgroup is at hand. */
function systemdScope(): typeof import("../linux/cgroups/systemd-scope") {
  return require("../linux/cgroups/systemd-scope");
}

/**
 * The container's cgroup in two steps: `state` is what the cgroup will be (state.json
 * names it before anything is made, so that `delete` finds it even if this process dies
 * half-way), `make()` makes it. Planning checks the config and that the cgroup is not
 * another's (refuseBusy), so a busy cgroup is never recorded as the container's.
 */
export interface CgroupStep {
  state: Record<string, unknown>;
  make(): ContainerCgroup;
}

export function planContainerCgroup(spec: Spec, id: string, opts: { systemd: boolean; rootless?: boolean }): CgroupStep {
  const host = takeProbedHost() ?? probeCgroupHost();
  // rootless --systemd-cgroup: the user's own manager on the session bus makes the unit
  if (opts.systemd) requireSystemd(host.systemdRunning);
  const user = opts.rootless && opts.systemd ? userManagerHere(host) : undefined;
  const plan = planCgroup({ linux: { cgroupsPath: spec.linux.cgroupsPath, resources: spec.linux.resources, devices: spec.linux.devices } }, id, { host, systemd: opts.systemd, systemdUser: user });
  if (opts.rootless && plan.driver === "fs") {
    // rootless: the cgroup is made only where it is delegated to the caller
    const problem = delegationProblem(plan, { exists: existsSync, writable });
    if (problem) {
      const none = noCgroup(spec, host, problem);
      return { state: none.toState(), make: () => none };
    }
  }
  phase("cgroup: host probe + plan");
  refuseBusy(plan.paths);
  // resources: what update merges into (runc keeps them in its state.json too)
  const stateOf = (cg: Cgroup) => ({ cgroup: cg.toState(), cgroupProcs: procsFile(cg), ...(spec.linux.resources ? { resources: spec.linux.resources } : {}) });
  if (plan.driver === "systemd") {
    const scope = systemdScope();
    return {
      state: { cgroup: scope.pendingSystemdCgroup(plan).toState() },
      make() {
        // a user's manager cannot load the device program: device rules skipped, as runc rootless
        const sd = scope.prepareSystemdCgroup(plan, spec.annotations, user ? { connect: () => userBus(user), devices: false } : {});
        return {
          needsSync: true,
          cloneIntoFd: () => -1,
          views: () => cgroupViews(sd.cgroup),
          addProcess: (pid) => sd.addProcess(pid),
          destroy: () => sd.destroy(),
          toState: () => stateOf(sd.cgroup),
          prime: () => new Promise((resolve) => setImmediate(resolve)),
        };
      },
    };
  }
  // what createCgroup will report, so that the record after it is the same (and not written again)
  const state = stateOf(pendingCgroup(plan));
  phase("cgroup: busy check");
  return {
    state,
    make() {
      // rootless: device rules need CAP_SYS_ADMIN (v1 devices.deny, v2 a BPF program): skipped, as runc
      const cg = createCgroup(plan, opts.rootless ? { skipDevices: true } : {});
      // the second head start of the attach grace period (linux/cgroups/attach-head-start.ts)
      if (plan.mode !== "v2" && !opts.rootless) startAttachGracePeriod(host);
      let v2fd: number | null | undefined;
      return {
        needsSync: plan.mode !== "v2",
        cloneIntoFd() {
          if (v2fd === undefined) v2fd = plan.mode === "v2" ? cg.openV2DirFd() : null;
          return v2fd ?? -1;
        },
        views: () => cgroupViews(cg, [...new Set(Object.values(host.v1).map((m) => m.mountpoint))]),
        addProcess: (pid) => cg.addProcess(pid),
        destroy: () => destroyCgroup(cg, { killProcesses: true }),
        toState: () => stateOf(cg),
      };
    },
  };
}

/** Both steps at once: `record` gets the state before anything is made (restore). */
export function setupCgroup(spec: Spec, id: string, opts: { systemd: boolean; rootless?: boolean; record(state: Record<string, unknown>): void }): ContainerCgroup {
  const step = planContainerCgroup(spec, id, opts);
  opts.record(step.state);
  return step.make();
}

function writable(p: string): boolean {
  try {
    accessSync(p, fsc.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Rootless without a delegated cgroup: the container stays in the caller's cgroup,
 * as with runc's rootless cgroup manager. Limits cannot be honoured there, so they
 * are refused; a cgroupsPath that cannot be made is a note, and so is the rest
 * (--debug).
 */
function noCgroup(spec: Spec, host: CgroupHost, problem: string): ContainerCgroup {
  const uid = process.geteuid?.() ?? 0;
  const limits = limitsRequested(spec.linux.resources);
  if (limits.length) {
    throw new HostError(`cannot be applied without a cgroup of the container's own: ${problem} (rootless, uid ${uid}); delegate a cgroup v2 subtree to this user or drop the limits`, { where: `linux.resources.${limits[0]}` });
  }
  const note = `rootless (uid ${uid}): no cgroup of the container's own, it runs in ocirt's: ${problem}`;
  if (spec.linux.cgroupsPath) log.warn(`linux.cgroupsPath ${spec.linux.cgroupsPath}: not made: ${note}`);
  else log.debug(note);
  return {
    needsSync: false,
    cloneIntoFd: () => -1,
    views: () => ownCgroupViews(host),
    addProcess: () => {},
    destroy: () => {},
    toState: () => ({}),
  };
}

/** The caller's own cgroup of each hierarchy, as the container's /sys/fs/cgroup shows it without one of its own. */
export function ownCgroupViews(host: CgroupHost): CgroupView[] {
  const seen = new Map<string, CgroupView>();
  const add = (sub: string, mountpoint: string, root: string, unified: boolean) => {
    const own = host.own[sub] ?? "/";
    const rel = posix.relative(root, own);
    const hostPath = rel.startsWith("..") ? mountpoint : posix.join(mountpoint, rel);
    const name = host.mode === "v2" ? "" : (/^\/sys\/fs\/cgroup\/([^/]+)/.exec(mountpoint)?.[1] ?? basename(mountpoint));
    if (!seen.has(name)) seen.set(name, { name, hostPath, fsOptions: unified ? "" : sub.startsWith("name=") ? sub : name, unified });
  };
  if (host.mode !== "v2") for (const [sub, m] of Object.entries(host.v1)) add(sub, m.mountpoint, m.root, false);
  if (host.unified) add("", host.unified.mountpoint, host.unified.root, true);
  return [...seen.values()];
}

/**
 * An existing cgroup is reused only when nothing runs in it and it is not frozen:
 * another container's cgroup, or a leftover with live processes, is refused, as
 * runc >= 1.2 refuses it ("container's cgroup is not empty"; runc 1.1 joined it:
 * docs/DIFFERENCES.md). A frozen one would hold the init forever; runc says
 * "container's cgroup unexpectedly frozen".
 */
function refuseBusy(paths: Record<string, string>): void {
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return undefined; // absent (not made yet) or vanished meanwhile
    }
  };
  const dirs = [paths["devices"], paths[""], ...Object.values(paths)].filter((d): d is string => !!d && existsSync(d));
  const dir = dirs[0];
  if (dir) {
    const pids = (read(`${dir}/cgroup.procs`) ?? "").split("\n").filter(Boolean);
    if (pids.length) throw new HostError(`container's cgroup ${dir} is not empty: ${pids.length} process(es) found`, { where: "linux.cgroupsPath" });
  }
  // cgroup v2's no-internal-process rule: a cgroup that hands domain controllers to
  // its children holds no processes (runc fails on the cgroup.procs write, EBUSY)
  const v2 = paths[""];
  const delegated = v2 !== undefined ? (read(`${v2}/cgroup.subtree_control`) ?? "").split(/\s+/).filter((c) => c && !THREADED_CONTROLLERS.has(c)) : [];
  if (delegated.length) {
    throw new HostError(`container's cgroup ${v2} enables ${delegated.join(" ")} for its child cgroups (cgroup.subtree_control), so it cannot hold the container's processes`, { where: "linux.cgroupsPath" });
  }
  const frozen =
    (paths["freezer"] !== undefined && read(`${paths["freezer"]}/freezer.state`)?.trim() === "FROZEN") ||
    (paths[""] !== undefined && read(`${paths[""]}/cgroup.freeze`)?.trim() === "1");
  if (frozen) throw new HostError("container's cgroup unexpectedly frozen", { where: "linux.cgroupsPath" });
}

/** The cgroup v2 controllers that work in threaded subtrees; the others are domain controllers. */
const THREADED_CONTROLLERS = new Set(["cpu", "cpuset", "pids", "perf_event"]);

function procsFile(cg: Cgroup): string | undefined {
  const dir = cg.path("pids") ?? cg.path("") ?? cg.path("devices") ?? Object.values(cg.paths)[0];
  return dir ? `${dir}/cgroup.procs` : undefined;
}

/**
 * Each hierarchy as the container's /sys/fs/cgroup shows it, in the order of the
 * host's mounts (`mountOrder`, mount points), as runc lists them.
 */
export function cgroupViews(cg: Pick<Cgroup, "paths" | "mode">, mountOrder: readonly string[] = []): CgroupView[] {
  const seen = new Map<string, CgroupView>();
  for (const [sub, dir] of Object.entries(cg.paths)) {
    // /sys/fs/cgroup/<mount>/<container path>: the mount dir names the view
    const m = /^\/sys\/fs\/cgroup\/([^/]+)/.exec(dir);
    const unified = sub === "";
    const name = cg.mode === "v2" ? "" : m?.[1] ?? basename(dirname(dir));
    if (seen.has(name)) continue;
    seen.set(name, { name, hostPath: dir, fsOptions: unified ? "" : sub.startsWith("name=") ? sub : name, unified });
  }
  const rank = (v: CgroupView) => {
    const i = mountOrder.findIndex((mp) => v.hostPath === mp || v.hostPath.startsWith(`${mp}/`));
    return i < 0 ? mountOrder.length : i;
  };
  return [...seen.values()].sort((a, b) => rank(a) - rank(b));
}

export function cgroupOf(rec: ContainerRecord): Cgroup | undefined {
  const st = rec.runtime?.["cgroup"];
  if (!st) return undefined;
  return Cgroup.fromState(st);
}

/** The container's cgroup, for the commands that cannot work without one. */
export function requireCgroup(rec: ContainerRecord, what: string): Cgroup {
  const cg = cgroupOf(rec);
  if (!cg) throw new StateError(`container ${rec.id} has no cgroup recorded in its state`, { where: what });
  return cg;
}

/** Removes the container's cgroup (and with the systemd driver its unit); processes in it are killed. */
export async function destroyContainerCgroup(cg: Cgroup): Promise<void> {
  if (cg.driver === "systemd") await systemdScope().destroySystemdCgroup(cg, ...managerOf(cg));
  else destroyCgroup(cg, { killProcesses: true });
}

/** Sets resources: the files, and with the systemd driver the unit's properties first. */
export async function applyContainerResources(cg: Cgroup, r: LinuxResources, opts: { skipDevices?: boolean } = {}): Promise<void> {
  if (cg.driver === "systemd") {
    const [manager] = managerOf(cg);
    await systemdScope().applySystemdResources(cg, r, manager ? { ...opts, manager, skipDevices: true } : opts);
  } else cg.applyResources(r, opts);
}

/** The uid's session bus: ours where we are that user, else the manager's usual one. */
function userBusFor(uid: number): UserManager {
  const own = userBusPath();
  return { uid, managerCgroup: "", bus: own && existsSync(own) ? own : `/run/user/${uid}/bus` };
}

/** A rootless unit (under a user's manager) is reached on that user's bus; others on the system bus. */
function managerOf(cg: Cgroup): [] | [ReturnType<typeof userBus>] {
  const uid = userManagerOf(cg.paths[""] ?? Object.values(cg.paths)[0]);
  return uid === undefined ? [] : [userBus(userBusFor(uid))];
}

function userBus(u: UserManager) {
  // the bus knows us by the host's uid (root of rootless Podman's namespace is the user)
  return systemdScope().SystemdManager.connect(u.bus, u.uid);
}

function userManagerHere(host: CgroupHost): UserManager {
  let map = "";
  try {
    map = readFileSync("/proc/self/uid_map", "utf8");
  } catch { /* no user namespaces: the uid is the host's */ }
  return userManager(host, hostUid(process.getuid?.() ?? 0, map), userBusPath(), existsSync);
}

/** linux.resources as last applied (create, then each update). */
export function savedResources(rec: ContainerRecord): LinuxResources {
  const r = rec.runtime?.["resources"];
  return r && typeof r === "object" ? (r as LinuxResources) : {};
}
