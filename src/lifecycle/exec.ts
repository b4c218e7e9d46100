// `ocirt exec`: a new process in a running container, through the same helper and
// plan machinery as create: it joins the container's namespaces and cgroup and is
// set up as the container's own process (user, capabilities, seccomp, cwd).
import { closeSync, constants as fsc, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import type { ContainerHandle, ContainerRecord } from "../state";
import type { OciConfig, Process } from "../spec/types";
import { normaliseConfig } from "../spec/normalise";
import { checkConfig, problemLine } from "../spec/validate";
import { ConfigError, SetupError, StatusError } from "../errors";
import { native } from "../native";
import { planExec } from "../planner/exec";
import { hostFacts } from "../host";
import { NS_PROC_NAME } from "../linux/namespaces";
import { parseList } from "../linux/process-attrs";
import { statusOf } from "./status";
import { cgroupOf } from "./container-cgroup";
import { parseProcCgroup, probeCgroupHost } from "../linux/cgroups";
import { posix } from "node:path";
import { compileContainerSeccomp } from "./seccomp";
import { checkConsole, giveStdioToUser, hostRootIds, processEnv, processGroups, runHelper } from "./spawn";
import { makeProcessPipes, type ProcessPipes } from "./stdio-pipes";
import { writePidFile } from "./pidfile";
import { log } from "../log";
import { strerror } from "./errno";

export interface ExecOptions {
  /** process.json, or built from the command line over the container's own process */
  process: Process;
  detach: boolean;
  pidFile?: string | undefined;
  preserveFds: number;
  ignorePaused: boolean;
  consoleSocket?: string | undefined;
  /** --cgroup [controller[,controller]:]path: existing sub-cgroups of the container's to join */
  subCgroups?: string[] | undefined;
  /** The process's stdin, stdout, stderr (a shim's pipes); absent: this process's own */
  stdio?: [number, number, number] | undefined;
}

/**
 * Returns the pid of the new process (already running its program), its pty master
 * when relayed, and, in the foreground without a terminal, its stdio pipes being copied.
 */
export async function execInContainer(h: ContainerHandle, rec: ContainerRecord, o: ExecOptions): Promise<{ pid: number; consoleFd?: number | undefined; pipes?: ProcessPipes | undefined }> {
  const status = statusOf(h, rec);
  if (status === "stopped") throw new StatusError("cannot exec in a stopped container");
  if (status === "paused" && !o.ignorePaused) throw new StatusError("cannot exec in a paused container (thaw it first, or use --ignore-paused)");
  if (status === "creating") throw new StatusError("cannot exec in a container that is still being created");
  checkConsole(!!o.process.terminal, o.consoleSocket, !o.detach);
  const saved = rec.runtime?.["config"] as OciConfig | undefined;
  if (!saved) throw new StatusError(`container ${rec.id} was created by an ocirt without exec support: recreate it`);

  // the container's config with this process in place of its own, checked as a whole
  const cfg: OciConfig = { ...saved, process: withContainerDefaults(o.process, saved.process) };
  const { problems } = checkConfig(cfg);
  const bad = problems.filter((p) => p.path.startsWith("process"));
  if (bad.length) throw new ConfigError(problemLine(bad[0]!), bad.map(problemLine));
  const spec = normaliseConfig(cfg, { bundle: rec.bundle });

  const join = Object.keys((rec.runtime?.["namespaces"] as Record<string, string> | undefined) ?? {}).filter((t) => t in NS_PROC_NAME);
  const fds = join.map((t) => openSync(`/proc/${rec.pid}/ns/${NS_PROC_NAME[t]}`, "r"));
  let pipes: ProcessPipes | undefined;
  try {
    // the pid read above must still be the container's init while we hold its ns files
    if (!h.initAlive(rec)) throw new StatusError("cannot exec in a stopped container");
    const cg = cgroupOf(rec);
    const aff = spec.process.execCPUAffinity;
    const affinity = aff?.final ?? aff?.initial;
    if (o.detach && !spec.process.terminal) giveStdioToUser(spec, o.stdio);
    // runc's setupProcessPipes: in the foreground the process gets pipes, never our stdio
    if (!o.detach && !spec.process.terminal && !o.stdio) {
      pipes = makeProcessPipes(hostRootIds(spec));
      giveStdioToUser(spec, pipes.child);
    }
    const ops = planExec({
      spec,
      id: rec.id,
      join,
      cgroupSync: !!cg && cg.mode !== "v2",
      env: processEnv(spec, rec.rootfs),
      groups: processGroups(spec),
      seccomp: compileContainerSeccomp(spec),
      host: hostFacts(),
      cpuAffinity: affinity ? parseList(affinity, "process.execCPUAffinity") : undefined,
      warn: (m) => log.warn(m),
    });
    // v2: the clone itself lands in the cgroup (the container's, or the --cgroup
    // sub-cgroup of it), so the process never runs outside it
    let cgFd = cg && cg.mode === "v2" ? (o.subCgroups?.length ? openCgroupDir(subCgroupTargets(cg.paths, o.subCgroups).get("")!) : (cg.openV2DirFd() ?? -1)) : -1;
    const spawn = () => runHelper({
      ops,
      cloneFlags: 0,
      preserved: Array.from({ length: o.preserveFds }, (_, i) => 3 + i),
      extra: fds,
      cgroupFd: cgFd,
      step: "exec",
      cwd: rec.rootfs,
      consoleSocket: o.consoleSocket,
      relayConsole: !o.detach,
      stdio: o.stdio ?? pipes?.child,
    }, {
      cgroup: (pid) => (cg && o.subCgroups?.length ? joinSubCgroups(cg.paths, o.subCgroups, pid) : cg?.addProcess(pid)),
    });
    let proc;
    try {
      try {
        proc = await spawn();
      } catch (err) {
        // cgroup v2's no-internal-process rule: a container whose init moved into a
        // child cgroup and enabled controllers for its children there (systemd or
        // docker inside) has a cgroup no process can join. As runc: the init's own
        // cgroup instead, unless --cgroup named one.
        const initDir = cg && cg.mode === "v2" && !o.subCgroups?.length && cloneBusy(err) ? initCgroupDir(cg.paths[""]!, rec.pid) : undefined;
        if (!initDir) throw err;
        log.debug(`exec: the container's cgroup refuses processes (${(err as Error).message}); joining the init's cgroup ${initDir}`);
        native().close(cgFd);
        cgFd = -1;
        cgFd = openCgroupDir(initDir);
        proc = await spawn();
      }
    } finally {
      if (cgFd >= 0) native().close(cgFd);
      pipes?.closeChildEnds(); // the helper holds them now
    }
    if (o.pidFile) {
      try {
        writePidFile(o.pidFile, proc.pid);
      } catch (err) {
        // as runc: a process whose pid cannot be reported is not left running
        try { native().kill(proc.pid, 9); } catch { /* gone */ }
        if (proc.consoleFd !== undefined) native().close(proc.consoleFd);
        throw err;
      }
    }
    return { pid: proc.pid, consoleFd: proc.consoleFd, pipes };
  } catch (err) {
    pipes?.close();
    throw err;
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
}

/**
 * What runc's exec takes from the container's own process when a process.json
 * leaves it out: the capabilities (libcontainer's newInitConfig keeps the
 * container's when the process names none; else such a process would run with
 * every capability). no_new_privs and rlimits are the process.json's own, absent
 * meaning off and none, as runc's exec makes them (its newProcess always sets
 * NoNewPrivileges from the file).
 */
export function withContainerDefaults(p: Process, container: Process | undefined): Process {
  const out: Process = { ...p };
  if (out.capabilities === undefined && container?.capabilities !== undefined) out.capabilities = container.capabilities;
  return out;
}

const EBUSY = 16;

/** clone3(CLONE_INTO_CGROUP) refused with EBUSY: the cgroup enables domain controllers for its children. */
function cloneBusy(err: unknown): boolean {
  return err instanceof SetupError && err.errno === EBUSY && /^clone3:/.test((err.cause as Error | undefined)?.message ?? "");
}

/**
 * The cgroup v2 directory the init is in now (its /proc/<pid>/cgroup), if it
 * lies inside the container's cgroup `dir`; undefined otherwise.
 */
function initCgroupDir(dir: string, pid: number): string | undefined {
  let rel: string | undefined;
  try {
    rel = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"))[""];
  } catch {
    return undefined;
  }
  const mount = probeCgroupHost().unified;
  if (rel === undefined || !mount) return undefined;
  const inMount = posix.relative(mount.root, rel);
  if (inMount.startsWith("..")) return undefined;
  const target = posix.join(mount.mountpoint, inMount);
  return target !== dir && target.startsWith(`${dir}/`) ? target : undefined;
}

function openCgroupDir(dir: string): number {
  try {
    return openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  } catch (err) {
    throw new SetupError(`opening ${dir}: ${(err as Error).message}`, undefined, { where: "--cgroup" });
  }
}

/** runc's exec: the container's process with the command line's changes. */
export function processFromFlags(saved: Process | undefined, args: string[], f: {
  cwd?: string | undefined; env?: string[] | undefined; user?: string | undefined; additionalGids?: string[] | undefined;
  caps?: string[] | undefined; noNewPrivs?: boolean; apparmor?: string | undefined; processLabel?: string | undefined; tty?: boolean;
}): Process {
  const p: Process = JSON.parse(JSON.stringify(saved ?? { cwd: "/", args: [] }));
  p.args = args;
  p.terminal = !!f.tty;
  if (f.cwd) p.cwd = f.cwd;
  if (f.env?.length) p.env = [...(p.env ?? []), ...f.env];
  if (f.user) {
    const [u, g] = f.user.split(":");
    if (!/^\d+$/.test(u!) || (g !== undefined && !/^\d+$/.test(g))) throw new ConfigError(`--user: invalid value ${JSON.stringify(f.user)}: use UID or UID:GID`);
    p.user = { ...(p.user ?? { uid: 0, gid: 0 }), uid: Number(u), gid: g === undefined ? 0 : Number(g) };
  }
  if (f.additionalGids?.length) {
    p.user = { ...(p.user ?? { uid: 0, gid: 0 }), additionalGids: f.additionalGids.map((g) => {
      if (!/^\d+$/.test(g)) throw new ConfigError(`--additional-gids: invalid gid ${JSON.stringify(g)}`);
      return Number(g);
    }) };
  }
  if (f.caps?.length) {
    const c = p.capabilities ?? {};
    for (const set of ["bounding", "effective", "permitted", "ambient"] as const) c[set] = [...new Set([...(c[set] ?? []), ...f.caps])];
    p.capabilities = c;
  }
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  return p;
}

export function readProcessFile(path: string): Process {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`--process ${path}: ${typeof e.errno === "number" ? strerror(-e.errno) : e.message}`);
  }
  try {
    return JSON.parse(text) as Process;
  } catch (err) {
    throw new ConfigError(`--process ${path}: invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * runc's exec --cgroup: "[controller[,controller]:]path" names an existing
 * sub-cgroup of the container's own, in the named hierarchies (all without a
 * controller); the other hierarchies get the container's cgroup as usual.
 * Returns, per hierarchy of `paths`, the directory to join.
 */
export function subCgroupTargets(paths: Readonly<Record<string, string>>, specs: string[]): Map<string, string> {
  const sub = new Map<string, string>(); // controller ("" = every one) -> relative path
  for (const spec of specs) {
    const i = spec.indexOf(":");
    const [ctrls, rel] = i < 0 ? ["", spec] : [spec.slice(0, i), spec.slice(i + 1)];
    const clean = rel.replace(/^\/+/, "");
    if (!clean || clean.split("/").includes("..")) throw new ConfigError(`--cgroup ${JSON.stringify(spec)}: the path must lie inside the container's cgroup`);
    for (const c of ctrls ? ctrls.split(",") : [""]) {
      if (c && !(c in paths)) throw new ConfigError(`--cgroup ${JSON.stringify(spec)}: the container has no ${c} cgroup`);
      sub.set(c, clean);
    }
  }
  const targets = new Map<string, string>();
  for (const [ctrl, dir] of Object.entries(paths)) {
    const rel = sub.get(ctrl) ?? sub.get("");
    const target = rel ? `${dir}/${rel}` : dir;
    if (rel && !existsSync(target)) throw new ConfigError(`--cgroup: ${target} does not exist (exec joins existing sub-cgroups only)`);
    targets.set(ctrl, target);
  }
  return targets;
}

/** v1/hybrid: writes the pid into each target of subCgroupTargets. */
export function joinSubCgroups(paths: Readonly<Record<string, string>>, specs: string[], pid: number): void {
  const done = new Set<string>();
  for (const [ctrl, target] of subCgroupTargets(paths, specs)) {
    if (done.has(target)) continue;
    done.add(target);
    try {
      writeFileSync(`${target}/cgroup.procs`, String(pid));
    } catch (err) {
      if (ctrl === "" || ctrl.startsWith("name=")) continue; // best effort, as for the container
      throw new SetupError(`joining ${target}: ${(err as Error).message}`, undefined, { where: "--cgroup" });
    }
  }
}
