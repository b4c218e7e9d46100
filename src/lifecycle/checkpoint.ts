// `checkpoint`: criu dumps the running (or paused) container into --image-path;
// afterwards the container is gone (criu killed it and ocirt deletes it, as runc
// destroys it) unless --leave-running or --pre-dump.
import { closeSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { StatusError, StateError } from "../errors";
import { log } from "../log";
import type { ContainerHandle, ContainerRecord } from "../state";
import type { OciConfig } from "../spec/types";
import { normaliseConfig, type Spec } from "../spec/normalise";
import { statusOf } from "./status";
import { cgroupOf } from "./container-cgroup";
import { deleteContainer } from "./cgroup-removal";
import { dumpRequest, configFileOf, DESCRIPTORS_FILE, DUMP_LOG, type CriuFlags, type CriuVersion } from "../criu/request";
import { swrk } from "../criu/swrk";
import { ContainerTree } from "../criu/rootfs";
import { cgroupLayout, checkStatusFd, criuFailed, criuVersionOf, devicePaths, imagePaths, networkLockFor, openDir, requireFeatures, stdioDescriptors } from "./criu";

export interface CheckpointOptions {
  flags: CriuFlags;
  /** the criu binary (--criu) */
  criu: string;
  /** the shim's reaper takes criu over */
  adopt?(child: ChildProcess): void;
}

/** The container's config as create saved it, normalised. */
export function savedSpec(rec: ContainerRecord): Spec {
  const cfg = rec.runtime?.["config"] as OciConfig | undefined;
  if (!cfg) throw new StateError(`container ${rec.id} was created by an ocirt that did not keep its config: recreate it`);
  return normaliseConfig(cfg, { bundle: rec.bundle });
}

export async function checkpointContainer(h: ContainerHandle, rec: ContainerRecord, o: CheckpointOptions): Promise<void> {
  const status = statusOf(h, rec);
  if (status === "created" || status === "stopped" || status === "creating") throw new StatusError(`container cannot be checkpointed in ${status} state`);
  const spec = savedSpec(rec);
  const f = o.flags;
  const paths = imagePaths(f.imagePath, f.parentPath);
  const version = await criuVersionOf(o.criu);
  await requireFeatures(o.criu, { memTrack: f.preDump, lazyPages: f.lazyPages }, "checkpoint");
  const useStatusFd = f.lazyPages && f.statusFd >= 0;
  if (useStatusFd) checkStatusFd(f.statusFd);

  const fds: number[] = [];
  try {
    const imagesDirFd = openDir(paths.image, "--image-path", true);
    fds.push(imagesDirFd);
    let workDirFd: number | undefined;
    if (f.workPath) {
      workDirFd = openDir(f.workPath, "--work-path", true);
      fds.push(workDirFd);
    }
    const logFile = join(f.workPath || paths.image, DUMP_LOG);
    const pid = rec.pid;
    const cg = cgroupOf(rec);
    const tree = new ContainerTree(spec.root.path);
    const req = dumpRequest({
      flags: { ...f, parentPath: paths.parent },
      version,
      pid,
      rootfs: spec.root.path,
      imagesDirFd,
      workDirFd,
      mounts: spec.mounts,
      cgroup: cgroupLayout(cg, spec),
      resolve: (p) => tree.resolve(p),
      maskedFiles: f.preDump ? [] : maskedFiles(pid, spec.linux.maskedPaths),
      devices: devicePaths(spec),
      externalNs: externalNamespaces(spec),
      freezeCgroup: freezeCgroupOf(cg, version),
      configFile: configFileOf(spec.annotations),
      networkLock: networkLockFor(version),
    });
    // criu < 3.15 writes the status fd itself; later ones notify "status-ready"
    if (useStatusFd && version < 31500) req.opts!.statusFd = f.statusFd;
    if (!f.preDump) {
      // what the init's stdio was: restore hands its own in place of these pipes
      writeFileSync(join(paths.image, DESCRIPTORS_FILE), JSON.stringify(stdioDescriptors(pid)), { mode: 0o600 });
    }
    log.debug("criu dump", { pid, type: req.type, images: paths.image });
    let statusFdOpen = useStatusFd;
    const r = await swrk(req, {
      criu: o.criu,
      step: "checkpoint",
      adopt: o.adopt,
      notify: (n) => {
        if (n.fd >= 0) closeSync(n.fd);
        if (n.script === "status-ready" && statusFdOpen) {
          statusFdOpen = false;
          try {
            writeFileSync(f.statusFd, "\0");
          } catch (err) {
            log.warn(`cannot write \\0 to --status-fd ${f.statusFd}: ${(err as Error).message}`);
          }
          try { closeSync(f.statusFd); } catch { /* closed */ }
        }
      },
    });
    if (!r.response.success) throw criuFailed(r.response, logFile, "checkpoint");
    if (r.exit.code && !f.preDump) log.warn(`criu exited with status ${r.exit.code} after a successful dump`);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  if (f.leaveRunning || f.preDump) return;
  // criu has killed the container's processes: remove what is left of it, as runc's destroy
  try {
    deleteContainer(h, h.read(), true);
  } catch (err) {
    log.warn(`removing container ${rec.id} after the checkpoint: ${(err as Error).message}`);
  }
}

/** runc's addMaskPaths: masked paths that are files in the container are /dev/null binds criu must not dump. */
function maskedFiles(pid: number, masked: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of masked) {
    try {
      if (!statSync(`/proc/${pid}/root${p}`).isDirectory()) out.push(p);
    } catch { /* not there: not masked */ }
  }
  return out;
}

/** Network and pid namespaces joined by path: criu leaves them to the restore (runc's extRoot<Type>NS). */
function externalNamespaces(spec: Spec): { type: "network" | "pid"; inode: number }[] {
  const out: { type: "network" | "pid"; inode: number }[] = [];
  for (const n of spec.linux.namespaces) {
    if ((n.type !== "network" && n.type !== "pid") || !n.path) continue;
    if (!existsSync(n.path)) throw new StateError(`namespace ${n.path} of the container is gone`, { where: `linux.namespaces (${n.type})` });
    out.push({ type: n.type, inode: statSync(n.path).ino });
  }
  return out;
}

/** The cgroup criu freezes the container with: v1's freezer, or (criu >= 3.14) the v2 directory. */
function freezeCgroupOf(cg: ReturnType<typeof cgroupOf>, version: CriuVersion): string | undefined {
  if (!cg) return undefined;
  if (cg.mode === "v2") return version >= 31400 ? cg.path("") : undefined;
  return cg.path("freezer");
}
