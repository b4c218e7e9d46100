// `create`: config -> state dir -> cgroup -> plan -> spawn -> protocol -> state.json.
// Every step that makes something registers how to undo it; a failure anywhere
// undoes all of it, so a failed create leaves no state dir, cgroup or process.
import { chmodSync, chownSync, closeSync, constants as fsc, existsSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadSpec, type Spec } from "../spec/load";
import { ConfigError, OcirtError, SetupError } from "../errors";
import { StateStore, nowNs, ownerName, processStartTime, rfc3339Nano, type ContainerHandle, type ContainerRecord } from "../state";
import { native, initHelperPath } from "../native";
import { planContainer, type HostFacts } from "../plan/container";
import { probeLsm } from "../linux/lsm";
import { encodePlan } from "../plan/encode";
import { NS_FLAG, NS_PROC_NAME } from "../linux/namespaces";
import { log } from "../log";
import { userInfo } from "./userdb";
import { strerror } from "./errno";
import { driveProtocol } from "./protocol";

// node lacks O_PATH; libuv adds O_CLOEXEC to every open
const O_PATH = 0o10000000;
import { setupCgroup } from "./cgroups";
import { compileContainerSeccomp } from "./seccomp";
import { runHooks } from "./hooks";
import { SPEC_VERSION } from "../version";

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string | undefined;
  noPivot: boolean;
  noNewKeyring?: boolean;
  preserveFds: number;
  consoleSocket?: string | undefined;
  systemdCgroup: boolean;
  /** `run` in the foreground: keep the pty master to relay it, when there is no console socket */
  relayConsole?: boolean;
  /** The init's stdin, stdout, stderr (a shim's pipes); absent: this process's own */
  stdio?: [number, number, number] | undefined;
}

export interface Created {
  handle: ContainerHandle;
  record: ContainerRecord;
  spec: Spec;
  /** The process clone() made: our child (the init itself unless the helper forked). */
  childPid: number;
  /** The pty master, when process.terminal is set and it was kept to be relayed. */
  consoleFd?: number | undefined;
}

class Undo {
  private steps: { what: string; fn: () => void }[] = [];
  push(what: string, fn: () => void): void {
    this.steps.push({ what, fn });
  }
  run(): void {
    for (const s of this.steps.reverse()) {
      try {
        s.fn();
      } catch (err) {
        log.warn(`cleanup after failed create: ${s.what}: ${(err as Error).message}`);
      }
    }
    this.steps = [];
  }
}

export async function createContainer(o: CreateOptions): Promise<Created> {
  const bundle = resolve(o.bundle);
  const spec = loadSpec(bundle); // a bad config stops before anything is made
  checkConsole(spec.process.terminal, o.consoleSocket, !!o.relayConsole);
  for (const w of spec.warnings) log.warn(w);
  const store = new StateStore(o.root);
  const undo = new Undo();
  const handle = store.create(o.id);
  undo.push("state directory", () => handle.remove());
  // state.json exists from the start, growing as things are made, so that when this
  // process dies half-way (SIGKILL, OOM) `delete` still finds and removes all of it
  const created = rfc3339Nano(nowNs());
  const progress = (pid: number, runtime: Record<string, unknown>) =>
    handle.write({
      ociVersion: spec.ociVersion || SPEC_VERSION, id: o.id, pid, bundle, rootfs: spec.root.path, created,
      owner: ownerName(process.getuid?.() ?? 0), annotations: spec.annotations,
      initStartTime: pid ? (processStartTime(pid) ?? "") : "", phase: "creating", runtime,
    });
  progress(0, {});
  const fds: number[] = [];
  undo.push("fds", () => fds.forEach((fd) => { try { closeSync(fd); } catch { /* already closed */ } }));
  try {
    native().mkfifo(handle.fifoPath, 0o622);
    // the init opens it for writing as the container's user: writable by others
    // (mkfifo's mode passed through the umask), owned by the container's root
    chmodSync(handle.fifoPath, 0o622);
    const rootIds = hostRootIds(spec);
    chownSync(handle.fifoPath, rootIds.uid, rootIds.gid);
    const fifoFd = openSync(handle.fifoPath, O_PATH);
    fds.push(fifoFd);

    const cg = setupCgroup(spec, o.id, { systemd: o.systemdCgroup });
    undo.push("cgroup", () => cg.destroy());
    progress(0, cg.toState());

    const userns = spec.linux.namespaces.some((n) => n.type === "user");
    const info = userInfo(spec.root.path, spec.process.user.uid);
    const env = prepareEnv(spec.process.env, info.home || "/");
    // socket activation passes on as runc does: the fds at 3.. and the variables,
    // with LISTEN_PID naming the container's init
    if (socketActivationFds()) env.push(`LISTEN_FDS=${socketActivationFds()}`, "LISTEN_PID=1");
    // exactly additionalGids: runc passes numeric ids and never reads /etc/group
    // (libcontainer "switch to numeric UID/GID/groups"; before that, the explicit
    // "uid:gid" form it used skipped the membership lookup too)
    const groups = [...new Set(spec.process.user.additionalGids)];
    const seccomp = compileContainerSeccomp(spec);
    const plan = planContainer({
      spec,
      id: o.id,
      noPivot: o.noPivot,
      noNewKeyring: o.noNewKeyring,
      fifoIndex: 0,
      cgroupSync: cg.needsSync,
      cgroupViews: cg.views(),
      env,
      groups,
      seccomp,
      host: hostFacts(),
      warn: (m) => log.warn(m),
      debug: (m) => log.debug(m),
    });
    const nsFds = plan.ns.joinPaths.map(({ type, path }) => openNamespace(type, path));
    fds.push(...nsFds);
    const listenFds = socketActivationFds();
    const preserved = Array.from({ length: listenFds + o.preserveFds }, (_, i) => 3 + i);
    const buf = encodePlan(plan.ops);
    log.debug("plan", { ops: plan.ops.length, bytes: buf.length, cloneFlags: plan.cloneFlags });

    let consoleFd: number | undefined;
    let spawned: { pid: number; syncFd: number; pidfd: number };
    try {
      spawned = native().spawnInit({ initPath: initHelperPath(), plan: buf, cloneFlags: plan.cloneFlags, preserved, extra: [fifoFd, ...nsFds], cgroupFd: cg.cloneIntoFd(), argv0: "ocirt-init", stdio: o.stdio });
    } catch (err) {
      throw new SetupError(`starting the container's init: ${(err as Error).message}`, (err as { errno?: number }).errno, { where: "clone", cause: err });
    }
    const childPid = spawned.pid;
    progress(childPid, cg.toState());
    let initPid = childPid;
    undo.push("init process", () => {
      for (const p of new Set([initPid, childPid])) {
        try { native().kill(p, 9); } catch { /* gone */ }
      }
      try { native().waitpid(childPid, 0); } catch { /* reaped */ }
    });
    fds.push(spawned.syncFd, spawned.pidfd);

    initPid = await driveProtocol(spawned.syncFd, childPid, plan.ops, {
      usermap: (pid) => writeIdMaps(pid, spec),
      cgroup: (pid) => cg.addProcess(pid),
      hooks: (stage, pid) => {
        if (stage !== 1) return;
        // the runtime-namespace hooks of create: the container exists, nothing of it runs yet
        const state = { ociVersion: spec.ociVersion, id: o.id, status: "creating", pid, bundle: spec.bundle, annotations: spec.annotations };
        runHooks("prestart", spec.hooks.prestart, state);
        runHooks("createRuntime", spec.hooks.createRuntime, state);
      },
      console: (fd, name) => {
        if (o.consoleSocket) {
          sendConsole(o.consoleSocket, fd, name);
          return false;
        }
        consoleFd = fd;
        fds.push(fd);
        return true;
      },
      seccompFd: async (fd, pid) => {
        const { sendSeccompListener } = await import("./seccomp-notify");
        await sendSeccompListener(spec, fd, pid, o.id);
      },
    });

    const startTime = processStartTime(initPid);
    if (!startTime) throw new SetupError("the container's init exited during setup", undefined, { where: "create" });
    const record: ContainerRecord = {
      ociVersion: spec.ociVersion || SPEC_VERSION,
      id: o.id,
      pid: initPid,
      bundle,
      rootfs: spec.root.path,
      created,
      owner: ownerName(process.getuid?.() ?? 0),
      annotations: spec.annotations,
      initStartTime: startTime,
      phase: "created",
      // hooks as they were at create: later changes to config.json must not affect the container
      runtime: { ...cg.toState(), namespaces: namespacePaths(initPid, spec), userns, hooks: { poststart: spec.hooks.poststart, poststop: spec.hooks.poststop }, config: spec.config },
    };
    handle.write(record);
    if (o.pidFile) writePidFile(o.pidFile, initPid);
    // success: keep everything but the fds (and the pty master, which `run` relays)
    if (consoleFd !== undefined) fds.splice(fds.indexOf(consoleFd), 1);
    for (const fd of fds) {
      try { closeSync(fd); } catch { /* ignore */ }
    }
    return { handle, record, spec, childPid, consoleFd };
  } catch (err) {
    undo.run();
    throw err;
  }
}


/** The host ids of the container's uid/gid 0 (themselves without a user namespace). */
function hostRootIds(spec: Spec): { uid: number; gid: number } {
  const find = (maps: { containerID: number; hostID: number; size: number }[]) => {
    const m = maps.find((x) => x.containerID <= 0 && 0 < x.containerID + x.size);
    return m ? m.hostID - m.containerID : 0;
  };
  const userns = spec.linux.namespaces.some((n) => n.type === "user");
  return userns ? { uid: find(spec.linux.uidMappings), gid: find(spec.linux.gidMappings) } : { uid: 0, gid: 0 };
}

function writeIdMaps(pid: number, spec: Spec): void {
  const fmt = (m: { containerID: number; hostID: number; size: number }[]) => m.map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join("");
  try {
    if (spec.linux.uidMappings.length) writeFileSync(`/proc/${pid}/uid_map`, fmt(spec.linux.uidMappings));
  } catch (err) {
    throw new SetupError(`writing /proc/${pid}/uid_map: ${(err as Error).message}`, undefined, { where: "linux.uidMappings" });
  }
  try {
    if (spec.linux.gidMappings.length) writeFileSync(`/proc/${pid}/gid_map`, fmt(spec.linux.gidMappings));
  } catch (err) {
    throw new SetupError(`writing /proc/${pid}/gid_map: ${(err as Error).message}`, undefined, { where: "linux.gidMappings" });
  }
}

function openNamespace(type: string, path: string): number {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`namespace path ${path}: ${e.errno ? strerror(-e.errno) : e.message}`, [], { where: `linux.namespaces (${type})` });
  }
  // setns(fd, type) would refuse a namespace of another kind with a bare EINVAL;
  // the kernel names the kind of any nsfs file, /proc/<pid>/ns or bind-mounted
  // (ip netns, CNI's /var/run/netns/...)
  let flag = -1;
  try {
    flag = native().nsType(fd);
  } catch { /* not a namespace file */ }
  if (flag !== NS_FLAG[type]) {
    closeSync(fd);
    const kind = Object.entries(NS_FLAG).find(([, f]) => f === flag)?.[0];
    throw new ConfigError(`${path} is not a ${type} namespace (${kind ? `it is a ${kind} namespace` : "it is not a namespace file"})`, [], { where: `linux.namespaces (${type})` });
  }
  return fd;
}


function namespacePaths(pid: number, spec: Spec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of spec.linux.namespaces) out[n.type] = n.path || `/proc/${pid}/ns/${NS_PROC_NAME[n.type]}`;
  return out;
}

export function hostFacts(): HostFacts {
  let lastCap = 40;
  try {
    lastCap = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  } catch { /* keep the default */ }
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  return { lastCap, bounding: bnd ? BigInt("0x" + bnd) : (1n << BigInt(lastCap + 1)) - 1n, hasProcKcore: existsSync("/proc/kcore"), lsm: probeLsm() };
}

/**
 * runc's prepareEnv: a name given twice keeps its last value (in the place of that
 * last one), an empty HOME counts as unset, and a missing HOME comes from passwd.
 */
export function prepareEnv(env: readonly string[], home: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  let homeSet = false;
  for (let i = env.length - 1; i >= 0; i--) {
    const kv = env[i]!;
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (seen.has(key)) continue;
    seen.add(key);
    if (key === "HOME") {
      if (kv === "HOME=") continue;
      homeSet = true;
    }
    out.push(kv);
  }
  out.reverse();
  if (!homeSet) out.push(`HOME=${home}`);
  return out;
}

/** runc's rules: a terminal needs somewhere to go, a console socket needs a terminal. */
export function checkConsole(terminal: boolean, socket: string | undefined, relay: boolean): void {
  if (terminal && !socket && !relay) throw new ConfigError("cannot allocate a terminal for a detached container without --console-socket", [], { where: "process.terminal" });
  if (!terminal && socket) throw new ConfigError("--console-socket is only for a container with a terminal (process.terminal is false)", [], { where: "process.terminal" });
}

/** The pty master to the --console-socket listener (containerd's shim), as runc sends it. */
export function sendConsole(socket: string, fd: number, name: string): void {
  try {
    native().sendFdTo(socket, Buffer.from(name), fd);
  } catch (err) {
    throw new SetupError(`sending the console to ${socket}: ${(err as Error).message}`, undefined, { where: "--console-socket" });
  }
}

/** systemd socket activation meant for us: LISTEN_FDS fds from 3, when LISTEN_PID is our pid. */
function socketActivationFds(): number {
  const n = Number(process.env["LISTEN_FDS"] ?? 0);
  if (!Number.isInteger(n) || n <= 0) return 0;
  return Number(process.env["LISTEN_PID"]) === process.pid ? n : 0;
}

/** Digits, no newline, written atomically (containerd reads it as soon as it appears). */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, abs);
}

export { OcirtError };
