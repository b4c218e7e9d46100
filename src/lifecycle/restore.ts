// `restore`: a container comes back from criu's images under a new (or the same)
// id, with the bundle's config: state dir and cgroup as create makes them, criu
// restoring the process tree into them, state.json written as create writes it so
// that every other command works on the restored container. prestart and
// createRuntime hooks run when criu has made the namespaces, as runc runs them.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ChildProcess } from "node:child_process";
import { loadSpec, type Spec } from "../spec/load";
import { ConfigError, SetupError } from "../errors";
import { StateStore, nowNs, ownerName, processStartTime, rfc3339Nano, type ContainerHandle, type ContainerRecord } from "../state";
import { native } from "../native";
import { NS_PROC_NAME } from "../linux/namespaces";
import { log } from "../log";
import { setupCgroup } from "./container-cgroup";
import { runHooks } from "./hooks";
import { checkConsole } from "./spawn";
import { writePidFile } from "./pidfile";
import { SPEC_VERSION } from "../version";
import { cgroupRoots, configFileOf, restoreRequest, RESTORE_LOG, type CriuFlags } from "../criu/request";
import { swrk } from "../criu/swrk";
import { ContainerTree, makeMountpoints, restoreMountpoints } from "../criu/rootfs";
import { cgroupLayout, criuFailed, criuVersionOf, devicePaths, imagePaths, networkLockFor, openDir, readDescriptors, requireFeatures } from "./criu";
import { Cgroup } from "../linux/cgroups";

const MS_BIND = 0x1000, MS_REC = 0x4000, MNT_DETACH = 2;
/** Where the rootfs is bound for criu inside the state dir (removed with it: state.ts). */
export const CRIU_ROOT = "criu-root";

export interface RestoreOptions {
  root: string;
  id: string;
  bundle: string;
  flags: CriuFlags;
  criu: string;
  pidFile?: string | undefined;
  consoleSocket?: string | undefined;
  /** a foreground restore keeps a terminal's pty master to relay it */
  relayConsole?: boolean | undefined;
  systemdCgroup: boolean;
  /** criu's (and so the restored init's new) stdin, stdout, stderr: a shim's pipes; default ours */
  stdio?: [number, number, number] | undefined;
  adopt?(child: ChildProcess): void;
}

export interface Restored {
  handle: ContainerHandle;
  record: ContainerRecord;
  spec: Spec;
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
        log.warn(`cleanup after failed restore: ${s.what}: ${(err as Error).message}`);
      }
    }
    this.steps = [];
  }
}

export async function restoreContainer(o: RestoreOptions): Promise<Restored> {
  const bundle = resolve(o.bundle);
  const spec = loadSpec(bundle);
  checkConsole(spec.process.terminal, o.consoleSocket, !!o.relayConsole);
  for (const w of spec.warnings) log.warn(w);
  const f = o.flags;
  const paths = imagePaths(f.imagePath, undefined);
  if (!existsSync(paths.image)) throw new ConfigError(`${JSON.stringify(paths.image)}: no such file or directory`, [], { where: "--image-path" });
  const descriptors = readDescriptors(paths.image);

  const store = new StateStore(o.root);
  const undo = new Undo();
  let created = rfc3339Nano(nowNs());
  const record = (pid: number, phase: ContainerRecord["phase"], runtime: Record<string, unknown>): ContainerRecord => ({
    ociVersion: spec.ociVersion || SPEC_VERSION, id: o.id, pid, bundle, rootfs: spec.root.path, created,
    owner: ownerName(process.getuid?.() ?? 0), annotations: spec.annotations,
    initStartTime: pid ? (processStartTime(pid) ?? "") : "", phase, runtime,
  });
  const handle = store.create(o.id, record(0, "creating", {}));
  undo.push("state directory", () => handle.remove());
  const fds: number[] = [];
  const closeFds = () => {
    for (const fd of fds.splice(0)) {
      try { closeSync(fd); } catch { /* closed */ }
    }
  };
  undo.push("fds", closeFds);
  let consoleFd: number | undefined;
  undo.push("console", () => { if (consoleFd !== undefined) native().close(consoleFd); });
  try {
    const version = await criuVersionOf(o.criu);
    await requireFeatures(o.criu, { lazyPages: f.lazyPages }, "restore");
    const cg = setupCgroup(spec, o.id, { systemd: o.systemdCgroup, record: (state) => handle.write(record(0, "creating", state)) });
    undo.push("cgroup", () => cg.destroy());
    const cgState = cg.toState();
    handle.write(record(0, "creating", cgState));

    // criu wants its root to be a mount point whose parent is not overmounted
    const criuRoot = join(handle.dir, CRIU_ROOT);
    mkdirSync(criuRoot, { mode: 0o755 });
    undo.push("criu root", () => unbindRoot(criuRoot));
    try {
      native().mount(spec.root.path, criuRoot, "", MS_BIND | MS_REC, "");
    } catch (err) {
      throw new SetupError(`binding the rootfs to ${criuRoot}: ${(err as Error).message}`, undefined, { where: "root.path" });
    }

    // the mount points create would have made, which a fresh rootfs may lack
    const tree = new ContainerTree(spec.root.path);
    makeMountpoints(tree, restoreMountpoints(spec.mounts, isDirectory));

    const imagesDirFd = openDir(paths.image, "--image-path", false);
    fds.push(imagesDirFd);
    let workDirFd: number | undefined;
    if (f.workPath) {
      workDirFd = openDir(f.workPath, "--work-path", true);
      fds.push(workDirFd);
    }
    const logFile = join(f.workPath || paths.image, RESTORE_LOG);
    // namespaces given by path: criu inherits net and pid ones at 4, 5, ...
    const extra: number[] = [];
    const nsFdAt = new Map<string, number>();
    const joined = spec.linux.namespaces.filter((n) => n.path).map((n) => ({ type: n.type, path: n.path! }));
    const req = restoreRequest({
      flags: f,
      version,
      root: criuRoot,
      imagesDirFd,
      workDirFd,
      mounts: spec.mounts,
      cgroup: cgroupLayout(Cgroup.fromState(cgState["cgroup"]), spec),
      resolve: (p) => new ContainerTree(spec.root.path).resolve(p),
      masks: spec.linux.maskedPaths.length > 0,
      devices: devicePaths(spec),
      namespaces: joined,
      inheritNs: (type) => {
        const path = joined.find((n) => n.type === type)!.path;
        let fd: number;
        try {
          fd = openSync(path, "r");
        } catch (err) {
          throw new ConfigError(`namespace ${path} does not exist: ${(err as Error).message}`, [], { where: `linux.namespaces (${type})` });
        }
        fds.push(fd);
        extra.push(fd);
        nsFdAt.set(type, 3 + extra.length);
        return 3 + extra.length;
      },
      descriptors,
      configFile: configFileOf(spec.annotations),
      networkLock: networkLockFor(version),
    });

    const newNet = spec.linux.namespaces.some((n) => n.type === "network" && !n.path);
    let restoredPid = 0;
    let runtime: Record<string, unknown> = {};
    const r = await swrk(req, {
      criu: o.criu,
      step: "restore",
      stdio: o.stdio ?? [0, 1, 2],
      extraFds: extra,
      adopt: o.adopt,
      // as runc: criu itself joins the container's cgroup, and restores the tree there
      spawned: (pid, rq) => {
        cg.addProcess(pid);
        rq.opts!.cgRoot = cgroupRoots(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
      },
      notify: (n) => {
        switch (n.script) {
          case "setup-namespaces": {
            const state = { ociVersion: spec.ociVersion, id: o.id, status: "creating", pid: n.pid, bundle, annotations: spec.annotations };
            runHooks("prestart", spec.hooks.prestart, state);
            runHooks("createRuntime", spec.hooks.createRuntime, state);
            break;
          }
          case "post-restore": {
            restoredPid = n.pid;
            // runc brings nothing up in the empty network namespace criu made; create would have set lo up
            if (newNet) loUp(n.pid);
            created = rfc3339Nano(nowNs());
            runtime = {
              ...cgState,
              namespaces: namespacePaths(n.pid, spec),
              userns: spec.linux.namespaces.some((x) => x.type === "user"),
              hooks: { poststart: spec.hooks.poststart, poststop: spec.hooks.poststop },
              config: spec.config,
              restored: { images: paths.image },
            };
            handle.write(record(n.pid, "created", runtime));
            undo.push("restored processes", () => {
              try { native().kill(n.pid, 9); } catch { /* gone */ }
            });
            break;
          }
          case "orphan-pts-master":
            if (n.fd < 0) throw new SetupError("criu sent no pty master", undefined, { where: "restore" });
            if (o.consoleSocket) {
              try {
                native().sendFdTo(o.consoleSocket, Buffer.from("orphan-pts-master"), n.fd);
              } catch (err) {
                throw new SetupError(`sending the console to ${o.consoleSocket}: ${(err as Error).message}`, undefined, { where: "--console-socket" });
              } finally {
                closeSync(n.fd);
              }
            } else if (o.relayConsole && consoleFd === undefined) consoleFd = n.fd;
            else closeSync(n.fd);
            break;
          default:
            if (n.fd >= 0) closeSync(n.fd);
        }
      },
    });
    if (!r.response.success) throw criuFailed(r.response, logFile, "restore");
    const pid = r.response.restore?.pid || restoredPid;
    if (!pid || !processStartTime(pid)) throw new SetupError("the restored init is not running", undefined, { where: "restore" });
    if (pid !== restoredPid) handle.write(record(pid, "created", { ...runtime, namespaces: namespacePaths(pid, spec) }));
    closeFds();
    unbindRoot(criuRoot);
    if (o.pidFile) writePidFile(o.pidFile, pid);
    return { handle, record: handle.read(), spec, consoleFd };
  } catch (err) {
    undo.run();
    throw err;
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return true; // a missing source fails at criu's mount with its own message
  }
}

function unbindRoot(dir: string): void {
  if (!existsSync(dir)) return;
  try {
    native().umount2(dir, MNT_DETACH);
  } catch { /* not mounted */ }
  rmdirSync(dir);
}

function loUp(pid: number): void {
  let fd = -1;
  try {
    fd = openSync(`/proc/${pid}/ns/net`, "r");
    native().netnsLoUp(fd);
  } catch (err) {
    log.warn(`bringing up lo in the restored container: ${(err as Error).message}`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * The namespaces exec joins, as create records them; and the time namespace
 * criu >= 3.14 restores processes into (runc adds it to the config so): exec must
 * see the same clocks as the restored init.
 */
function namespacePaths(pid: number, spec: Spec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of spec.linux.namespaces) out[n.type] = n.path || `/proc/${pid}/ns/${NS_PROC_NAME[n.type]}`;
  if (!out["time"] && NS_PROC_NAME["time"]) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/time`) !== readlinkSync("/proc/self/ns/time")) out["time"] = `/proc/${pid}/ns/time`;
    } catch { /* no time namespaces on this kernel */ }
  }
  return out;
}
