// The one sequence create and exec share: encode the plan, clone the helper
// (addon/spawn.cc), answer it over the sync socket until READY (protocol.ts), hand
// its terminal on, and kill it if anything fails on the way.
import { fchownSync, fstatSync, statSync } from "node:fs";
import { posix } from "node:path";
import { SetupError } from "../errors";
import { native, initHelperPath } from "../native";
import { encodePlan } from "../plan/encode";
import type { PlanOp } from "../plan/ops";
import type { Spec } from "../spec/normalise";
import { driveProtocol, type ProtocolHandlers } from "./protocol";
import { userInfo } from "./userdb";
import { dedupeEnv } from "../planner/env";
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
  /**
   * the helper's working directory until it leaves it (pivot_root, setns): the
   * rootfs, as runc's cmd.Dir; never the caller's, which a user namespace may not search
   */
  cwd: string;
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
    spawned = n.spawnInit({ initPath: initHelperPath(), plan, cloneFlags: req.cloneFlags, preserved: req.preserved, extra: req.extra, cgroupFd: req.cgroupFd, argv0: "ocirt-init", stdio: req.stdio, cwd: req.cwd });
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
      console: (fd) => {
        if (req.consoleSocket) {
          sendConsole(req.consoleSocket, fd);
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

/**
 * The pty master to the --console-socket listener (containerd's shim), as runc sends
 * it: named after the master, "/dev/ptmx" (containerd/console's file name), not the pts.
 */
function sendConsole(socket: string, fd: number): void {
  try {
    native().sendFdTo(socket, Buffer.from("/dev/ptmx"), fd);
  } catch (err) {
    throw new SetupError(`sending the console to ${socket}: ${(err as Error).message}`, undefined, { where: "--console-socket" });
  }
}

/**
 * The environment the process starts with, as runc 1.1 makes it (os.Setenv for each
 * entry, then HOME when unset or empty): a name given twice stays in the place of its
 * first entry with its last value; HOME comes from the container's /etc/passwd ("/"
 * without), in the place of an empty HOME= or at the end.
 */
export function processEnv(spec: Spec, rootfs: string): string[] {
  // runc looks the user up inside the container, after the masks: a masked
  // /etc/passwd (or /etc) has no entries
  const masked = spec.linux.maskedPaths.some((p) => ["/etc", "/etc/passwd"].includes(posix.normalize(p).replace(/\/+$/, "")));
  return prepareEnv(spec.process.env, (masked ? undefined : userInfo(rootfs, spec.process.user.uid).home) || "/");
}

export function prepareEnv(env: readonly string[], home: string): string[] {
  const out = dedupeEnv(env);
  const i = out.findIndex((kv) => kv.startsWith("HOME="));
  if (i < 0) out.push(`HOME=${home}`);
  else if (out[i] === "HOME=") out[i] = `HOME=${home}`;
  return out;
}

/**
 * runc's fixStdioPermissions, for the stdio a detached container inherits from us
 * (foreground run/exec relay it, and runc gives those pipes of its own): each of
 * fds 0-2 that is not /dev/null and not owned by the process's user already is
 * given to that user (its group kept), so the process can reopen /dev/stdout and
 * the like. In a user namespace runc's chown fails quietly where the user, or the
 * file's owner or group, is not mapped: those are left alone here too.
 */
export function giveStdioToUser(spec: Spec, stdio: readonly number[] = [0, 1, 2]): void {
  const { uid } = spec.process.user;
  const userns = spec.linux.namespaces.some((n) => n.type === "user");
  type IdMaps = { containerID: number; hostID: number; size: number }[];
  const toHost = (maps: IdMaps, id: number) => {
    const m = maps.find((x) => id >= x.containerID && id < x.containerID + x.size);
    return m ? m.hostID + (id - m.containerID) : undefined;
  };
  const mapped = (maps: IdMaps, hostId: number) => maps.some((x) => hostId >= x.hostID && hostId < x.hostID + x.size);
  const hostUid = userns ? toHost(spec.linux.uidMappings, uid) : uid;
  if (hostUid === undefined) return;
  let nullRdev = -1;
  try {
    nullRdev = statSync("/dev/null").rdev;
  } catch { /* no /dev/null: nothing is skipped for it */ }
  for (const fd of stdio) {
    if (fd < 0) continue;
    let st;
    try {
      st = fstatSync(fd);
    } catch {
      continue; // closed
    }
    if (st.uid === hostUid || (st.isCharacterDevice() && st.rdev === nullRdev)) continue;
    if (userns && (!mapped(spec.linux.uidMappings, st.uid) || !mapped(spec.linux.gidMappings, st.gid))) continue;
    try {
      fchownSync(fd, hostUid, st.gid);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EINVAL" && code !== "EPERM") throw new SetupError(`giving stdio (fd ${fd}) to uid ${uid}: ${(err as Error).message}`, undefined, { where: "process.user" });
    }
  }
}

/** The host ids of the container's uid/gid 0 (themselves without a user namespace). */
export function hostRootIds(spec: Spec): { uid: number; gid: number } {
  const find = (maps: { containerID: number; hostID: number; size: number }[]) => {
    const m = maps.find((x) => x.containerID <= 0 && 0 < x.containerID + x.size);
    return m ? m.hostID - m.containerID : 0;
  };
  const userns = spec.linux.namespaces.some((n) => n.type === "user");
  return userns ? { uid: find(spec.linux.uidMappings), gid: find(spec.linux.gidMappings) } : { uid: 0, gid: 0 };
}

/**
 * Supplementary groups: exactly additionalGids. runc passes numeric ids and never
 * reads /etc/group (libcontainer "switch to numeric UID/GID/groups"; before that,
 * the explicit "uid:gid" form it used skipped the membership lookup too).
 */
export function processGroups(spec: Spec): number[] {
  return [...new Set(spec.process.user.additionalGids)];
}
