// The one place where the shim calls into ocirt's library (src/lifecycle, the
// state store, the addon). Everything else under src/shim/ goes through these
// functions, so a change of the library's layout touches only this file.
//
// A container is named by its state root and id, exactly as `ocirt --root R ...
// ID` names it: the shim keeps no container state of its own beyond what it
// needs to answer containerd (exit statuses, stdio), so `ocirt --root R state ID`
// and the shim's crash cleanup (`delete`) see the same containers.
import { createContainer } from "../lifecycle/create";
import { startContainer } from "../lifecycle/start";
import { deleteContainer } from "../lifecycle/cgroup-removal";
import { signalContainer } from "../lifecycle/kill";
import { cgroupKiller } from "../lifecycle/kill-cgroup";
import { execInContainer } from "../lifecycle/exec";
import { pauseContainer, resumeContainer } from "../lifecycle/pause";
import { updateContainer } from "../lifecycle/update";
import { parseResourcesJson } from "../lifecycle/update-resources";
import { statusOf } from "../lifecycle/status";
import { cgroupOf } from "../lifecycle/container-cgroup";
import { cgroupPids } from "../lifecycle/cgroup-state";
import { StateStore, type ContainerHandle, type Status } from "../state";
import { native, type Native } from "../native";
import { parseMountOptions, MS } from "../linux/mount-options";
import { ConfigError, ExistsError, NotFoundError, StatusError, UsageError, describe } from "../errors";
import type { CgroupStats } from "../linux/cgroups";
import type { Process } from "../spec/types";
import { VERSION, COMMIT } from "../version";
import { checkConfig } from "../spec/validate";
import { normaliseConfig } from "../spec/normalise";
import { defaultSpec } from "../spec/default";
import { syscallTables } from "../seccomp/tables";
import { checkpointContainer } from "../lifecycle/checkpoint";
import { restoreContainer } from "../lifecycle/restore";
import { defaultFlags as defaultCriuFlags } from "../lifecycle/criu";
import { parseCgroupMode, parseEmptyNs, type CriuFlags } from "../criu/request";
import type { ChildProcess } from "node:child_process";

export type { Status, CgroupStats, Process, CriuFlags };
export { parseMountOptions, MS, VERSION, COMMIT, defaultCriuFlags, parseCgroupMode, parseEmptyNs };

/** The parent-side syscalls of ocirt's addon the shim uses (pipes, mounts, waitpid, ptys). */
export function sys(): Native {
  return native();
}

export interface TaskOptions {
  root: string;
  systemdCgroup: boolean;
  noPivotRoot: boolean;
  noNewKeyring: boolean;
}

function withHandle<T>(root: string, id: string, lock: boolean, fn: (h: ContainerHandle) => T): T {
  const h = new StateStore(root).open(id, { lock });
  try {
    return fn(h);
  } finally {
    h.unlock();
  }
}

/**
 * `ocirt create`, in this process: returns once the init waits for start, with
 * the pty master when the process has a terminal (the shim relays it).
 */
export async function createTask(o: TaskOptions & { id: string; bundle: string; stdio: [number, number, number]; terminal: boolean }): Promise<{ pid: number; consoleFd?: number | undefined }> {
  const c = await createContainer({
    root: o.root, id: o.id, bundle: o.bundle, noPivot: o.noPivotRoot, noNewKeyring: o.noNewKeyring,
    systemdCgroup: o.systemdCgroup, preserveFds: 0, relayConsole: o.terminal, stdio: o.stdio,
  });
  c.handle.unlock();
  return { pid: c.record.pid, consoleFd: c.consoleFd };
}

export async function startTask(root: string, id: string): Promise<void> {
  const h = new StateStore(root).open(id, { lock: true });
  try {
    await startContainer(h, h.read(), () => deleteContainer);
  } finally {
    h.unlock();
  }
}

export function signalTask(root: string, id: string, signal: number, all: boolean): void {
  withHandle(root, id, false, (h) => {
    const rec = h.read();
    signalContainer(h, rec, statusOf(h, rec), signal, all, () => cgroupKiller);
  });
}

/** `ocirt delete [--force]`: cgroup, state dir, poststop hooks. A missing container is not an error. */
export async function deleteTask(root: string, id: string, force: boolean): Promise<void> {
  let h: ContainerHandle;
  try {
    h = new StateStore(root).open(id, { lock: true });
  } catch (err) {
    if (err instanceof NotFoundError) return;
    throw err;
  }
  try {
    // async: the systemd driver stops the container's unit over D-Bus before the state goes
    await deleteContainer(h, h.read(), force);
  } finally {
    h.unlock();
  }
}

/** The init's pid as the state records it (0 when unknown). */
export function taskPid(root: string, id: string): number {
  try {
    return withHandle(root, id, false, (h) => h.read().pid);
  } catch {
    return 0;
  }
}

/** created / running / paused / stopped, or undefined when there is no such container. */
export function taskStatus(root: string, id: string): Status | undefined {
  try {
    return withHandle(root, id, false, (h) => statusOf(h, h.read()));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** `ocirt exec -d` in this process; returns the new process's pid (and its pty master). */
export async function execTask(root: string, id: string, proc: Process, stdio: [number, number, number]): Promise<{ pid: number; consoleFd?: number | undefined }> {
  const h = new StateStore(root).open(id, { lock: false });
  // detach: false lets a terminal's pty master come back to us instead of a console socket
  return execInContainer(h, h.read(), { process: proc, detach: false, preserveFds: 0, ignorePaused: false, stdio });
}

export function pauseTask(root: string, id: string): void {
  withHandle(root, id, true, (h) => pauseContainer(h, h.read()));
}

export function resumeTask(root: string, id: string): void {
  withHandle(root, id, true, (h) => resumeContainer(h, h.read()));
}

/** `ocirt update -r`: resources as LinuxResources JSON. */
export async function updateTask(root: string, id: string, resourcesJson: string): Promise<void> {
  const upd = parseResourcesJson(resourcesJson);
  const h = new StateStore(root).open(id, { lock: true });
  try {
    await updateContainer(h, h.read(), upd);
  } finally {
    h.unlock();
  }
}

export interface TaskCgroup {
  mode: "v1" | "v2" | "hybrid";
  paths: Readonly<Record<string, string>>;
  stats(): CgroupStats;
  oomKillCount(): bigint;
}

export function taskCgroup(root: string, id: string): TaskCgroup | undefined {
  return withHandle(root, id, false, (h) => cgroupOf(h.read()));
}

/** Host pids of the container's cgroup (`ocirt ps --format json`). */
export function taskPids(root: string, id: string): number[] {
  return withHandle(root, id, false, (h) => cgroupPids(h.read()));
}

/** False when the container shares another pid namespace (host or pod): its init's death then leaves the others. */
export function ownsPidNamespace(root: string, id: string): boolean {
  return withHandle(root, id, false, (h) => {
    const rec = h.read();
    const ns = rec.runtime?.["namespaces"] as Record<string, string> | undefined;
    if (!ns) return true;
    return ns["pid"] === `/proc/${rec.pid}/ns/pid`;
  });
}

export type ErrorKind = "notfound" | "exists" | "precondition" | "invalid" | "other";

/** How an error of the library reads to containerd, and its one line. */
export function classify(err: unknown): { kind: ErrorKind; message: string } {
  const message = describe(err);
  if (err instanceof NotFoundError) return { kind: "notfound", message };
  if (err instanceof ExistsError) return { kind: "exists", message };
  if (err instanceof StatusError) return { kind: "precondition", message };
  if (err instanceof ConfigError || err instanceof UsageError) return { kind: "invalid", message };
  return { kind: "other", message };
}

/**
 * What a first create loads on demand (the config validator, the syscall tables,
 * node:crypto) loaded and run once on a default config: a spare shim does this
 * while it waits, so its container's create does not.
 */
export function warmUp(): void {
  const cfg = defaultSpec({ rootless: false });
  checkConfig(cfg);
  normaliseConfig(cfg, { bundle: "/" });
  try {
    syscallTables();
  } catch { /* not generated: seccomp profiles fail later with their own error */ }
  require("node:crypto");
}

/** `ocirt checkpoint`, in this process (criu is a child the shim's reaper hands back through adopt). */
export async function checkpointTask(root: string, id: string, flags: CriuFlags, criu: string, adopt: (child: ChildProcess) => void): Promise<void> {
  const h = new StateStore(root).open(id, { lock: true });
  try {
    await checkpointContainer(h, h.read(), { flags, criu, adopt });
  } finally {
    h.unlock();
  }
}

/**
 * `ocirt restore -d`, in this process: the restored init is criu's sibling, so the
 * shim's own child; with a terminal, its new pty master comes back to relay.
 */
export async function restoreTask(o: TaskOptions & { id: string; bundle: string; flags: CriuFlags; criu: string; stdio: [number, number, number]; terminal: boolean; adopt(child: ChildProcess): void }): Promise<{ pid: number; consoleFd?: number | undefined }> {
  const r = await restoreContainer({
    root: o.root, id: o.id, bundle: o.bundle, flags: o.flags, criu: o.criu, relayConsole: o.terminal,
    systemdCgroup: o.systemdCgroup, stdio: o.stdio, adopt: o.adopt,
  });
  r.handle.unlock();
  return { pid: r.record.pid, consoleFd: r.consoleFd };
}
