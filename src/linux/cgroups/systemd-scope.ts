// The systemd cgroup driver at work: a transient scope unit per container,
// made, changed and removed through systemd's Manager over the system bus.
//
// create: prepareSystemdCgroup() runs before the clone. It checks the
//   annotations, makes the v1 hierarchies systemd does not manage, opens the
//   bus connection and sends (pipelined) the auth, Hello, the JobRemoved match
//   and the Version query, so they are answered while the init is cloned. The
//   init's first op asks the parent to place it (CGROUP_PLS, as on v1); then
//   addProcess(pid) calls StartTransientUnit with the pid in PIDs= and every
//   property, waits for the job's JobRemoved signal, joins the pid to the other
//   v1 hierarchies and writes the resources to the files as the fs driver does.
//   This is runc's order (unit started with the init's pid after the clone).
//   systemd 252 refuses a scope without a pid, so the unit cannot exist before
//   the clone for CLONE_INTO_CGROUP; the init runs nothing before it is placed.
// update: SetUnitProperties(runtime=true), then the files.
// delete: the processes killed, StopUnit (waiting for its job), ResetFailedUnit,
//   then whatever directories remain (v1 hierarchies systemd does not manage).
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { HostError, SetupError } from "../../errors";
import { log } from "../../log";
import { readSnapshot } from "./apply";
import { Cgroup } from "./cgroup";
import { DBusConnection, DBusError, DBusTransportError, systemBusPath } from "./dbus-conn";
import { codeOf, strerror } from "./errno";
import { join, realFs, type CgroupFs } from "./fsio";
import { cpusetInherit, destroyCgroup, killAll, mkdirP, v2Prepare } from "./dirs";
import type { CgroupPlan } from "./plan";
import { planResources } from "./resources";
import { alignQuota, annotationProperties, needsVersion, parseSystemdVersion, resourceProperties, unitProperties, type SystemdFacts, type UnitProperty } from "./systemd-props";
import type { LinuxResources } from "./types";

const DEST = "org.freedesktop.systemd1";
const OBJ = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
/** runc waits 30 s for a unit's job. */
const JOB_TIMEOUT_MS = 30_000;

/** The v1 hierarchies systemd manages for a unit with Delegate=yes (cpuset is v2-only for systemd). */
export const SYSTEMD_V1 = new Set(["cpu", "cpuacct", "blkio", "memory", "devices", "pids", "name=systemd"]);

function hostFacts(version: number): SystemdFacts {
  return {
    version,
    procDevices: () => readFileSync("/proc/devices", "utf8"),
    exists: (p) => existsSync(p),
  };
}

/** A failure talking to systemd, as one line naming the method and unit. */
function busError(what: string, unit: string, err: unknown): Error {
  if (err instanceof DBusError) return new SetupError(`systemd: ${what} ${unit}: ${err.message}`, undefined, { where: "linux.cgroupsPath", cause: err });
  if (err instanceof DBusTransportError) return new HostError(`systemd cgroup driver: ${err.message}`, { where: "linux.cgroupsPath", cause: err });
  return err as Error;
}

/** What the driver asks of systemd (SystemdManager; tests stand in a fake). */
export interface SystemdBus {
  version(): Promise<number>;
  startUnit(unit: string, props: UnitProperty[]): Promise<void>;
  stopUnit(unit: string): Promise<void>;
  resetFailed(unit: string): Promise<void>;
  setProperties(unit: string, props: UnitProperty[]): Promise<void>;
  close(): void;
}

/** systemd's Manager over one bus connection, with JobRemoved tracking. */
export class SystemdManager implements SystemdBus {
  private readonly results = new Map<string, string>();
  private readonly waiters = new Map<string, (result: string) => void>();
  private readonly match: Promise<unknown>;
  private versionP: Promise<number> | undefined;

  private constructor(private readonly conn: DBusConnection) {
    conn.onSignal((m) => {
      if (m.member !== "JobRemoved" || m.interface !== MANAGER || m.signature !== "uoss") return;
      const [, job, , result] = m.body as [number, string, string, string];
      const w = this.waiters.get(job);
      if (w) {
        this.waiters.delete(job);
        w(result);
      } else this.results.set(job, result);
    });
    // Installed before any job is queued on this connection, so no JobRemoved is missed.
    this.match = conn.call({
      destination: "org.freedesktop.DBus",
      path: "/org/freedesktop/DBus",
      interface: "org.freedesktop.DBus",
      member: "AddMatch",
      signature: "s",
      body: [`type='signal',sender='${DEST}',path='${OBJ}',interface='${MANAGER}',member='JobRemoved'`],
    });
    this.match.catch(() => {});
  }

  /** Connects to the system bus (or the bus given); nothing is awaited here (the calls queue behind the auth). */
  static connect(address = systemBusPath(), authUid?: number): SystemdManager {
    return new SystemdManager(DBusConnection.bus(address, authUid));
  }

  /** systemd's version number (Manager.Version, e.g. "252.38-1~deb12u1" -> 252), asked once. */
  version(): Promise<number> {
    this.versionP ??= this.conn
      .call({ destination: DEST, path: OBJ, interface: "org.freedesktop.DBus.Properties", member: "Get", signature: "ss", body: [MANAGER, "Version"] })
      .then(([v]) => parseSystemdVersion(String((v as { value?: unknown })?.value ?? "")));
    return this.versionP;
  }

  private manager(member: string, signature: string, body: Parameters<DBusConnection["call"]>[0]["body"]) {
    return this.conn.call({ destination: DEST, path: OBJ, interface: MANAGER, member, signature, body: body ?? [] });
  }

  private waitJob(job: string): Promise<string | undefined> {
    const done = this.results.get(job);
    if (done !== undefined) {
      this.results.delete(job);
      return Promise.resolve(done);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(job);
        resolve(undefined);
      }, JOB_TIMEOUT_MS);
      this.waiters.set(job, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  /**
   * StartTransientUnit(name, "replace", props) and the job's result, which must
   * be "done". A unit of that name that exists already may be a failed
   * leftover: it is reset and the start tried once more (as runc >= 1.1.6).
   */
  async startUnit(unit: string, props: UnitProperty[]): Promise<void> {
    const body = [unit, "replace", props.map((p) => [p.name, p.value]), []];
    for (let attempt = 0; ; attempt++) {
      let job: string;
      try {
        await this.match;
        job = String((await this.manager("StartTransientUnit", "ssa(sv)a(sa(sv))", body))[0]);
      } catch (err) {
        if (attempt === 0 && err instanceof DBusError && err.errorName === "org.freedesktop.systemd1.UnitExists") {
          await this.resetFailed(unit);
          continue;
        }
        throw busError("StartTransientUnit", unit, err);
      }
      const result = await this.waitJob(job);
      log.debug(`systemd: started ${unit}`, { job, result });
      if (result === "done") return;
      await this.resetFailed(unit);
      if (result === undefined) throw new SetupError(`timed out waiting for systemd to create ${unit}`, undefined, { where: "linux.cgroupsPath" });
      throw new SetupError(`error creating systemd unit ${unit}: got ${result}`, undefined, { where: "linux.cgroupsPath" });
    }
  }

  /** StopUnit(name, "replace") and its job; a unit that is not loaded is already stopped. */
  async stopUnit(unit: string): Promise<void> {
    let job: string;
    try {
      await this.match;
      job = String((await this.manager("StopUnit", "ss", [unit, "replace"]))[0]);
    } catch (err) {
      if (err instanceof DBusError && err.errorName === "org.freedesktop.systemd1.NoSuchUnit") return;
      throw busError("StopUnit", unit, err);
    }
    const result = await this.waitJob(job);
    log.debug(`systemd: stopped ${unit}`, { job, result });
    if (result === undefined) throw new SetupError(`timed out waiting for systemd to remove ${unit}`, undefined, { where: "cgroup" });
    if (result !== "done") log.warn(`error removing unit ${unit}: got ${result}; continuing`);
  }

  /** ResetFailedUnit: lets systemd forget a failed unit (its name becomes free). Never fails. */
  async resetFailed(unit: string): Promise<void> {
    try {
      await this.manager("ResetFailedUnit", "s", [unit]);
    } catch (err) {
      if (err instanceof DBusError && err.errorName === "org.freedesktop.systemd1.NoSuchUnit") return;
      log.warn(`unable to reset failed unit ${unit}: ${(err as Error).message}`);
    }
  }

  /** SetUnitProperties(name, runtime=true, props). */
  async setProperties(unit: string, props: UnitProperty[]): Promise<void> {
    if (props.length === 0) return;
    try {
      await this.manager("SetUnitProperties", "sba(sv)", [unit, true, props.map((p) => [p.name, p.value])]);
    } catch (err) {
      throw busError("SetUnitProperties", unit, err);
    }
  }

  close(): void {
    this.conn.close();
  }
}

function report(planned: { notes: string[]; warnings: string[] }): void {
  for (const w of planned.warnings) log.warn(w);
  for (const n of planned.notes) log.debug(`systemd: ${n}`);
}

// ----------------------------------------------------------------- create ----
export interface SystemdCgroupSetup {
  /** The container's cgroup (its paths exist once addProcess has run). */
  cgroup: Cgroup;
  /** Starts the unit holding pid, joins the other v1 hierarchies, writes the resources. */
  addProcess(pid: number): Promise<void>;
  /** Kills what runs in it, stops and forgets the unit, removes what is left. */
  destroy(): Promise<void>;
}

/**
 * Before the clone: annotations checked, the v1 hierarchies systemd leaves
 * alone made (so they are in the state before anything runs), the bus
 * connection opened and the version asked for.
 */
export function prepareSystemdCgroup(
  plan: CgroupPlan,
  annotations: Readonly<Record<string, string>> | undefined,
  opts: {
    fs?: CgroupFs;
    manager?: SystemdBus;
    procCgroup?: (pid: number) => string | undefined;
    /** How to reach the manager (rootless: the user's, on the session bus); default the system bus. */
    connect?: () => SystemdBus;
    /** DevicePolicy/DeviceAllow (false rootless: a user's manager cannot load the BPF program); default true. */
    devices?: boolean;
  } = {},
): SystemdCgroupSetup {
  const unit = plan.systemd;
  if (!unit) throw new SetupError("internal: a systemd cgroup plan without a unit", undefined, { where: "cgroup" });
  const fs = opts.fs ?? realFs;
  const extra = annotationProperties(annotations);
  const resources = alignQuota(plan.resources);
  const created: string[] = [];
  const cg = () => new Cgroup(plan.mode, "systemd", plan.paths, created, plan.optional, { fs, unit: unit.unit });
  const make = (key: string, dir: string) => {
    try {
      created.push(...mkdirP(fs, plan.mounts[key]!, dir));
      if (key === "cpuset") cpusetInherit(fs, plan.mounts[key]!, dir);
    } catch (err) {
      created.push(...(((err as { made?: string[] }).made) ?? []));
      if (!plan.optional.includes(key)) throw err;
    }
  };
  const own = Object.entries(plan.paths).filter(([k]) => plan.mode !== "v2" && k !== "" && !SYSTEMD_V1.has(k));
  try {
    for (const [key, dir] of own) make(key, dir);
  } catch (err) {
    try {
      destroyCgroup(cg(), { killProcesses: false });
    } catch {
      /* the original error matters */
    }
    throw err;
  }
  // Opened now so the auth, Hello, match and version are answered while the init is
  // cloned; closed once the unit is up (a foreground `run` would otherwise keep it,
  // and every JobRemoved of the host, for the container's lifetime).
  const connect = opts.connect ?? (() => SystemdManager.connect());
  let mgr: SystemdBus | undefined = opts.manager ?? connect();
  const version = mgr.version();
  version.catch(() => {}); // awaited in addProcess
  const bus = (): SystemdBus => (mgr ??= opts.manager ?? connect());
  const closeBus = () => {
    mgr?.close();
    mgr = undefined;
  };

  return {
    get cgroup() {
      return cg();
    },
    async addProcess(pid) {
      log.debug(`systemd: starting ${unit.unit}`, { pid });
      let v: number;
      try {
        v = await version;
      } catch (err) {
        throw busError("Get Version of", "the manager", err);
      }
      const planned = resourceProperties(resources, plan.mode, hostFacts(v), { devices: opts.devices ?? true });
      report(planned);
      // resources last: like runc's Set after Apply, they win over annotations
      await bus().startUnit(unit.unit, [...unitProperties(unit, plan.mode, pid), ...extra, ...planned.properties]);
      closeBus();
      if (plan.mode === "v2") {
        verifyPlaced((opts.procCgroup ?? readProcCgroup)(pid), plan.paths[""]!, plan.mounts[""]!);
        // runc's CreateCgroupPath: every controller enabled on the way down
        v2Prepare(fs, plan.mounts[""]!, plan.paths[""]!, resources);
      } else {
        // runc's joinCgroups: every v1 hierarchy but name=systemd (the hybrid cgroup2 is systemd's too)
        for (const [key, dir] of Object.entries(plan.paths)) {
          if (key === "" || key === "name=systemd") continue;
          if (SYSTEMD_V1.has(key)) make(key, dir); // exists unless systemd left that controller out
          joinPid(fs, key, dir, pid, plan.optional.includes(key));
        }
      }
      cg().applyResources(resources, { filesOnly: true, skipDevices: opts.devices === false });
    },
    async destroy() {
      try {
        await stopAndRemove(cg(), bus());
      } finally {
        closeBus();
      }
    },
  };
}

function joinPid(fs: CgroupFs, key: string, dir: string, pid: number, optional: boolean): void {
  const file = join(dir, "cgroup.procs");
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFile(file, String(pid));
      return;
    } catch (err) {
      if (codeOf(err) === "EINVAL" && attempt < 5) {
        fs.sleep(30);
        continue;
      }
      if (optional) return;
      throw new SetupError(`add pid ${pid} to ${file}: ${strerror(err)}`, undefined, { where: `cgroup (${key})`, cause: err });
    }
  }
}

function readProcCgroup(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch {
    return undefined; // gone: the later steps say so
  }
}

/** The scope's cgroup must be where ocirt computed it (a systemd with another cgroup root would differ). */
function verifyPlaced(text: string | undefined, dir: string, mount: string): void {
  if (text === undefined) return;
  const have = /^0::(.*)$/m.exec(text)?.[1];
  const want = "/" + path.posix.relative(mount, dir);
  if (have !== undefined && have !== want) {
    throw new SetupError(`systemd placed the container's init in ${have}, not in ${want}`, undefined, { where: "linux.cgroupsPath" });
  }
}

async function stopAndRemove(cg: Cgroup, mgr: SystemdBus): Promise<void> {
  // what still runs dies first: the stop job then has nothing to wait for (KillMode,
  // TimeoutStopSec); a frozen cgroup was thawed by the caller
  if (cg.exists()) killAll(cg);
  const unit = cg.unit!;
  log.debug(`systemd: stopping ${unit}`);
  await mgr.stopUnit(unit);
  await mgr.resetFailed(unit);
  // the dirs systemd does not own (v1), sub-cgroups an old systemd leaves behind
  destroyCgroup(cg, { killProcesses: false });
}

// ----------------------------------------------------- later commands ----
/** delete: stop and forget the unit, remove what remains. */
export async function destroySystemdCgroup(cg: Cgroup, mgr: SystemdBus = SystemdManager.connect()): Promise<void> {
  try {
    await stopAndRemove(cg, mgr);
  } finally {
    mgr.close();
  }
}

/**
 * update: the unit's properties (runtime), then the files. The files' plan is
 * made first, so a value the kernel-side checks refuse (memory below usage)
 * fails before systemd applies it.
 */
export async function applySystemdResources(cg: Cgroup, r: LinuxResources, opts: { skipDevices?: boolean; manager?: SystemdBus } = {}): Promise<void> {
  const resources = alignQuota(r);
  planResources(resources, { mode: cg.mode, paths: { ...cg.paths } }, readSnapshot(cg.io, cg.mode, { ...cg.paths }, resources));
  const mgr = opts.manager ?? SystemdManager.connect();
  try {
    let v = 0;
    if (needsVersion(resources)) {
      try {
        v = await mgr.version();
      } catch (err) {
        throw busError("Get Version of", "the manager", err);
      }
    }
    const planned = resourceProperties(resources, cg.mode, hostFacts(v), { devices: !opts.skipDevices });
    report(planned);
    await mgr.setProperties(cg.unit!, planned.properties);
  } finally {
    mgr.close();
  }
  cg.applyResources(resources, { skipDevices: opts.skipDevices ?? false, filesOnly: true });
}

/**
 * What create records before anything is made (so a create killed half-way leaves
 * a state delete cleans up): the unit, and as made by ocirt only the directories of
 * the v1 hierarchies systemd does not manage (systemd's own are systemd's to remove).
 */
export function pendingSystemdCgroup(plan: CgroupPlan, opts: { fs?: CgroupFs } = {}): Cgroup {
  const fs = opts.fs ?? realFs;
  const missing: string[] = [];
  for (const [key, dir] of Object.entries(plan.paths)) {
    if (plan.mode === "v2" || key === "" || SYSTEMD_V1.has(key)) continue;
    const mount = plan.mounts[key]!;
    let cur = mount;
    for (const part of path.posix.relative(mount, dir).split("/").filter(Boolean)) {
      cur = join(cur, part);
      if (!fs.exists(cur) && !missing.includes(cur)) missing.push(cur);
    }
  }
  return new Cgroup(plan.mode, "systemd", plan.paths, missing, plan.optional, { fs, unit: plan.systemd!.unit });
}
