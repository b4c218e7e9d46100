// The one sequence create and exec share: encode the plan, clone the helper
// (addon/spawn.cc), answer it over the sync socket until READY (protocol.ts), hand
// its terminal on, and kill it if anything fails on the way.
import { SetupError } from "../errors";
import { native, initHelperPath } from "../native";
import { encodePlan } from "../plan/encode";
import type { PlanOp } from "../plan/ops";
import type { Spec } from "../spec/normalise";
import { driveProtocol, type ProtocolHandlers } from "./protocol";
import { userInfo } from "./userdb";
import { ConfigError } from "../errors";
import { phase } from "../profile";

export interface HelperRequest {
  ops: PlanOp[];
  cloneFlags: number;
  /** land at 3, 4, ... in the helper (LISTEN_FDS, --preserve-fds) */
  preserved: number[];
  /** the helper's extra fds the plan refers to by index */
  extra: number[];
  /** v2: the cgroup directory for CLONE_INTO_CGROUP, or -1 */
  cgroupFd: number;
  /** the step errors name: "create" or "exec" */
  step: string;
  /** process.terminal's pty master goes to this socket (containerd's shim) ... */
  consoleSocket?: string | undefined;
  /** ... or is kept for a foreground run/exec to relay */
  relayConsole?: boolean | undefined;
  /** fds to become the process's 0-2 (a shim's pipes); default: ours */
  stdio?: [number, number, number] | undefined;
}

export interface HelperHandlers extends Omit<ProtocolHandlers, "console"> {
  /** Called right after the clone, with the pid of our child, before any message. */
  spawned?(childPid: number): void;
}

export interface HelperProcess {
  /** The process clone() made: our child (the program's process unless the helper forked). */
  childPid: number;
  /** The process that runs (or waits to run) the program. */
  pid: number;
  /** The pty master, when it was kept to be relayed. */
  consoleFd?: number | undefined;
}

/** Starts the helper on a plan and answers it until READY; on any failure the helper is killed and reaped. */
export async function runHelper(req: HelperRequest, h: HelperHandlers): Promise<HelperProcess> {
  const n = native();
  let spawned: { pid: number; syncFd: number; pidfd: number };
  const plan = encodePlan(req.ops);
  phase("plan encoding");
  try {
    spawned = n.spawnInit({ initPath: initHelperPath(), plan, cloneFlags: req.cloneFlags, preserved: req.preserved, extra: req.extra, cgroupFd: req.cgroupFd, argv0: "ocirt-init", stdio: req.stdio });
  } catch (err) {
    throw new SetupError(`starting the container's process: ${(err as Error).message}`, (err as { errno?: number }).errno, { where: req.step === "create" ? "clone" : req.step, cause: err });
  }
  phase("spawn (memfds, clone3)");
  let pid = spawned.pid;
  let consoleFd: number | undefined;
  try {
    h.spawned?.(spawned.pid);
    pid = await driveProtocol(spawned.syncFd, spawned.pid, req.ops, {
      ...h,
      console: (fd, name) => {
        if (req.consoleSocket) {
          sendConsole(req.consoleSocket, fd, name);
          return false;
        }
        consoleFd = fd;
        return true;
      },
    }, req.step);
    return { childPid: spawned.pid, pid, consoleFd };
  } catch (err) {
    for (const p of new Set([pid, spawned.pid])) {
      try { n.kill(p, 9); } catch { /* gone */ }
    }
    try { n.waitpid(spawned.pid, 0); } catch { /* reaped */ }
    if (consoleFd !== undefined) n.close(consoleFd);
    throw err;
  } finally {
    n.close(spawned.syncFd);
    n.close(spawned.pidfd);
  }
}

/** runc's rules: a terminal needs somewhere to go, a console socket needs a terminal. */
export function checkConsole(terminal: boolean, socket: string | undefined, relay: boolean): void {
  if (terminal && !socket && !relay) throw new ConfigError("cannot allocate a terminal for a detached container without --console-socket", [], { where: "process.terminal" });
  if (!terminal && socket) throw new ConfigError("--console-socket is only for a container with a terminal (process.terminal is false)", [], { where: "process.terminal" });
}

/** The pty master to the --console-socket listener (containerd's shim), as runc sends it. */
function sendConsole(socket: string, fd: number, name: string): void {
  try {
    native().sendFdTo(socket, Buffer.from(name), fd);
  } catch (err) {
    throw new SetupError(`sending the console to ${socket}: ${(err as Error).message}`, undefined, { where: "--console-socket" });
  }
}

/**
 * The environment the process starts with, as runc's prepareEnv: a name given
 * twice keeps its last value (in the place of that last one), an empty HOME counts
 * as unset, and a missing HOME comes from the container's /etc/passwd ("/" without).
 */
export function processEnv(spec: Spec, rootfs: string): string[] {
  return prepareEnv(spec.process.env, userInfo(rootfs, spec.process.user.uid).home || "/");
}

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

/**
 * Supplementary groups: exactly additionalGids. runc passes numeric ids and never
 * reads /etc/group (libcontainer "switch to numeric UID/GID/groups"; before that,
 * the explicit "uid:gid" form it used skipped the membership lookup too).
 */
export function processGroups(spec: Spec): number[] {
  return [...new Set(spec.process.user.additionalGids)];
}
