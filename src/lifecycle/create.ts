// `create`: config -> state dir -> cgroup -> plan -> spawn -> protocol -> state.json.
// Every step that makes something registers how to undo it; a failure anywhere
// undoes all of it, so a failed create leaves no state dir, cgroup or process.
import { chmodSync, chownSync, closeSync, constants as fsc, fstatSync, openSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { loadSpec, type Spec } from "../spec/load";
import { sysctlNamespace } from "../spec/semantic";
import { childPath } from "../spec/path";
import { ConfigError } from "../errors";
import { StateStore, nowNs, ownerName, processStartTime, rfc3339Nano, type ContainerHandle, type ContainerRecord } from "../state";
import { native } from "../native";
import { planContainer } from "../planner/container";
import { hostFacts, probeUser, socketActivationFds } from "../host";
import { NS_FLAG, NS_PROC_NAME } from "../linux/namespaces";
import { log } from "../log";
import { strerror } from "./errno";
import { planContainerCgroup, type CgroupStep } from "./container-cgroup";
import { compileContainerSeccomp } from "./seccomp";
import { hookState, runHooks, runHooksWarn } from "./hooks";
import { checkConsole, giveStdioToUser, hostRootIds, processEnv, processGroups, runHelper } from "./spawn";
import { makeProcessPipes, type ProcessPipes } from "./stdio-pipes";
import { writePidFile } from "./pidfile";
import { checkMapTools, idmapUsernsFds, writeIdMaps } from "./usermap";
import { SPEC_VERSION } from "../version";
import { phase } from "../profile";

// node lacks O_PATH; libuv adds O_CLOEXEC to every open
const O_PATH = 0o10000000;

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
  /** --rootless (resolved): a cgroup that is not delegated to ocirt's user is skipped, not fatal */
  rootless?: boolean;
  /** `run` in the foreground: keep the pty master to relay it, when there is no console socket */
  relayConsole?: boolean;
  /** The init's stdin, stdout, stderr (a shim's pipes); absent: this process's own */
  stdio?: [number, number, number] | undefined;
  /**
   * `run` in the foreground (not `create`, not `run -d`): without a terminal the init
   * gets pipes of its own, copied to and from ours (runc's setupProcessPipes)
   */
  foreground?: boolean;
}

export interface Created {
  handle: ContainerHandle;
  record: ContainerRecord;
  spec: Spec;
  /** The process clone() made: our child (the init itself unless the helper forked). */
  childPid: number;
  /** The pty master, when process.terminal is set and it was kept to be relayed. */
  consoleFd?: number | undefined;
  /** A foreground run without a terminal: the init's stdio pipes, being copied. */
  pipes?: ProcessPipes | undefined;
}

class Undo {
  private steps: { what: string; fn: () => void | Promise<void> }[] = [];
  push(what: string, fn: () => void | Promise<void>): void {
    this.steps.push({ what, fn });
  }
  async run(): Promise<void> {
    for (const s of this.steps.reverse()) {
      try {
        await s.fn();
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
  const user = hostFacts().user ?? probeUser();
  checkMapTools(spec, user);
  const store = new StateStore(o.root);
  const undo = new Undo();
  // state.json exists from the start, growing as things are made, so that when this
  // process dies half-way (SIGKILL, OOM) `delete` still finds and removes all of it
  const created = rfc3339Nano(nowNs());
  const owner = ownerName(process.getuid?.() ?? 0);
  const startTimes = new Map<number, string>(); // the init's, read once
  const startTime = (pid: number) => startTimes.get(pid) ?? startTimes.set(pid, processStartTime(pid, { zombie: true }) ?? "").get(pid)!;
  const record = (pid: number, phase: ContainerRecord["phase"], runtime: Record<string, unknown>): ContainerRecord => ({
    ociVersion: spec.ociVersion || SPEC_VERSION, id: o.id, pid, bundle, rootfs: spec.root.path, created,
    owner, annotations: spec.annotations, initStartTime: pid ? startTime(pid) : "", phase, runtime,
  });
  store.refuseTaken(o.id);
  // the container existed (or was about to) and is destroyed: poststop hooks run, as
  // after a failed prestart, createRuntime or createContainer hook (runtime.md
  // "Lifecycle" steps 3-5, 12, 13) and as runc runs them after any failed create
  const destroyed = () => runHooksWarn("poststop", spec.hooks.poststop, hookState({ ociVersion: spec.ociVersion, id: o.id, status: "stopped", bundle: spec.bundle, annotations: spec.annotations }), { cwd: spec.bundle });
  // the cgroup is planned first, so that state.json names it from the start
  let cgroup: CgroupStep;
  try {
    cgroup = planContainerCgroup(spec, o.id, { systemd: o.systemdCgroup, rootless: o.rootless });
  } catch (err) {
    destroyed();
    throw err;
  }
  const handle = store.create(o.id, record(0, "creating", cgroup.state));
  phase("state dir + lock");
  undo.push("state directory", () => handle.remove());
  const fds: number[] = [];
  undo.push("fds", () => fds.forEach((fd) => { try { closeSync(fd); } catch { /* already closed */ } }));
  try {
    native().mkfifo(handle.fifoPath, 0o622);
    // the init opens it for writing as the container's user: writable by others
    // (mkfifo's mode passed through the umask), owned by the container's root
    chmodSync(handle.fifoPath, 0o622);
    const rootIds = hostRootIds(spec);
    try {
      chownSync(handle.fifoPath, rootIds.uid, rootIds.gid);
    } catch (err) {
      // rootless: the container's root may be an id of /etc/subuid; the fifo is writable by all anyway
      if (user.euid === 0 || (err as NodeJS.ErrnoException).code !== "EPERM") throw err;
    }
    const fifoFd = openSync(handle.fifoPath, O_PATH);
    fds.push(fifoFd);
    phase("exec.fifo");

    const cg = cgroup.make();
    undo.push("cgroup", () => cg.destroy());
    if (cg.prime) await cg.prime();
    // written only when it differs from what was planned (the systemd driver's unit)
    handle.write(record(0, "creating", cg.toState()));
    phase("state.json (cgroup)");

    // a detached container keeps our stdio (a foreground `run` relays its terminal,
    // or, without one, gives the init pipes of its own and copies them, as runc)
    if (!spec.process.terminal && !o.foreground) giveStdioToUser(spec, o.stdio);
    let pipes: ProcessPipes | undefined;
    if (!spec.process.terminal && o.foreground && !o.stdio) {
      const made = makeProcessPipes(hostRootIds(spec));
      pipes = made;
      undo.push("stdio pipes", () => made.close());
      giveStdioToUser(spec, made.child);
    }
    const env = processEnv(spec, spec.root.path);
    // socket activation passes on as runc does: the fds at 3.. and the variables,
    // with LISTEN_PID naming the container's init
    const listenFds = socketActivationFds();
    if (listenFds) env.push(`LISTEN_FDS=${listenFds}`, "LISTEN_PID=1");
    const plan = planContainer({
      spec,
      id: o.id,
      noPivot: o.noPivot,
      noNewKeyring: o.noNewKeyring,
      fifoIndex: 0,
      cgroupSync: cg.needsSync,
      cgroupViews: cg.views(),
      env,
      groups: processGroups(spec),
      seccomp: compileContainerSeccomp(spec),
      host: hostFacts(),
      warn: (m) => log.warn(m),
      debug: (m) => log.debug(m),
    });
    phase("plan");
    const nsFds: number[] = [];
    for (const { type, path } of plan.ns.joinPaths) {
      nsFds.push(openNamespace(type, path));
      fds.push(nsFds[nsFds.length - 1]!);
      refuseHostSysctls(spec, type, path, nsFds[nsFds.length - 1]!);
    }
    // the mappings of idmapped mounts, as user namespaces (extra fds after the namespace files)
    const idmapFds = idmapUsernsFds(plan.idmapUserns);
    fds.push(...idmapFds);
    log.debug("plan", { ops: plan.ops.length, cloneFlags: plan.cloneFlags });

    const proc = await runHelper({
      ops: plan.ops,
      cloneFlags: plan.cloneFlags,
      preserved: Array.from({ length: listenFds + o.preserveFds }, (_, i) => 3 + i),
      extra: [fifoFd, ...nsFds, ...idmapFds],
      cgroupFd: cg.cloneIntoFd(),
      step: "create",
      cwd: spec.root.path,
      consoleSocket: o.consoleSocket,
      relayConsole: o.relayConsole,
      stdio: o.stdio ?? pipes?.child,
    }, {
      spawned: (childPid) => {
        handle.write(record(childPid, "creating", cg.toState()));
        phase("state.json (pid)");
        undo.push("init process", () => {
          try { native().kill(childPid, 9); } catch { /* gone */ }
          try { native().waitpid(childPid, 0); } catch { /* reaped */ }
        });
      },
      usermap: (pid) => writeIdMaps(pid, spec, user),
      cgroup: (pid) => cg.addProcess(pid),
      hooks: (stage, pid) => {
        if (stage !== 1) return;
        // the runtime-namespace hooks of create: the container exists, nothing of it runs yet
        // from the bundle, as runc (which chdirs there) runs them
        const state = hookState({ ociVersion: spec.ociVersion, id: o.id, status: "creating", pid, bundle: spec.bundle, annotations: spec.annotations });
        runHooks("prestart", spec.hooks.prestart, state, { cwd: spec.bundle });
        runHooks("createRuntime", spec.hooks.createRuntime, state, { cwd: spec.bundle });
      },
      seccompFd: async (fd, pid) => {
        const { sendSeccompListener } = await import("./seccomp-notify");
        await sendSeccompListener(spec, fd, pid, o.id);
      },
    });
    pipes?.closeChildEnds(); // the helper holds them now
    if (proc.consoleFd !== undefined) undo.push("console", () => native().close(proc.consoleFd!));
    undo.push("container process", () => {
      try { native().kill(proc.pid, 9); } catch { /* gone */ }
    });

    phase("protocol done");
    // An init that exits after READY (e.g. its seccomp filter refuses the exec.fifo
    // open, or a signal ends it) leaves a created container that is already stopped:
    // create succeeds, as runc's, and `start` says it has stopped
    // hooks as they were at create: later changes to config.json must not affect the container
    const userns = spec.linux.namespaces.some((n) => n.type === "user");
    const rec = record(proc.pid, "created", { ...cg.toState(), namespaces: namespacePaths(proc.pid, spec), userns, hooks: { poststart: spec.hooks.poststart, poststop: spec.hooks.poststop }, config: spec.config });
    handle.write(rec);
    phase("state.json (created)");
    if (o.pidFile) writePidFile(o.pidFile, proc.pid);
    phase("pid file");
    // success: keep everything but the fds (the pty master goes to `run`, which relays it)
    for (const fd of fds) {
      try { closeSync(fd); } catch { /* ignore */ }
    }
    return { handle, record: rec, spec, childPid: proc.childPid, consoleFd: proc.consoleFd, pipes };
  } catch (err) {
    await undo.run();
    destroyed();
    throw err;
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

/**
 * A namespace joined by path may be the runtime's own (the host's): a sysctl of that
 * namespace would then change the host. runc refuses net.* there ("not allowed in host
 * network namespace"); the same holds for the ipc and uts ones.
 */
function refuseHostSysctls(spec: Spec, type: string, path: string, fd: number): void {
  if (type !== "network" && type !== "ipc" && type !== "uts") return;
  const keys = Object.keys(spec.linux.sysctl).filter((k) => sysctlNamespace(k) === type);
  if (!keys.length) return;
  let own;
  try {
    own = statSync(`/proc/self/ns/${NS_PROC_NAME[type]}`);
  } catch {
    return; // no namespace files: nothing to compare with
  }
  const joined = fstatSync(fd);
  if (joined.ino !== own.ino || joined.dev !== own.dev) return;
  throw new ConfigError(`not allowed in the host's ${type} namespace (linux.namespaces joins it by path ${JSON.stringify(path)})`, [], { where: childPath("linux.sysctl", keys[0]!) });
}

function namespacePaths(pid: number, spec: Spec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of spec.linux.namespaces) out[n.type] = n.path || `/proc/${pid}/ns/${NS_PROC_NAME[n.type]}`;
  return out;
}

