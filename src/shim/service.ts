// The Task service (containerd.task.v2.Task) over ocirt's library, in-process: one
// shim serves one container, or every container of a pod (CRI groups them by the
// sandbox id). Each container is an ocirt container under the shim's state root;
// the shim adds what containerd needs beyond the runtime: rootfs mounts, stdio,
// exit statuses from its reaper, events.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import * as T from "./gen/task";
import { Status as TaskStatus } from "./gen/task_types";
import type { Timestamp } from "./gen/google/protobuf/timestamp";
import { Empty } from "./gen/google/protobuf/empty";
import { ProcessDetails } from "./gen/runc_options";
import type { Metadata, Method } from "./ttrpc";
import { Code, TtrpcError } from "./ttrpc";
import type { Publisher } from "./events";
import type { Exit, Reaper } from "./reaper";
import { ProcessIO, type StdioPaths } from "./stdio";
import { decodeOptions, saveState, type ShimOptions } from "./options";
import { mountRootfs, unmountAll } from "./rootfs";
import { watchOom, type OomWatch } from "./oom";
import { metricsAny } from "./metrics";
import * as rt from "./runtime";
import { shimLog } from "./log";
import { checkpointTask } from "./checkpoint";

export const TASK_SERVICE = "containerd.task.v2.Task";
const PROCESS_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";
const SIGKILL = 9;
/** "<pid> <exit status> <seconds> <nanos>", written once Delete has cleaned up everything */
export const DELETED_RECORD = "ocirt-shim-deleted";

interface Proc {
  /** "" for the init, the exec id otherwise */
  execId: string;
  pid: number;
  stdio: StdioPaths;
  io: ProcessIO;
  started: boolean;
  exit: Exit | undefined;
  exited: Promise<Exit>;
  setExit(e: Exit): void;
  /** an exec's process before Start */
  spec?: rt.Process;
}

interface Container {
  id: string;
  bundle: string;
  opts: ShimOptions;
  rootfs: string | undefined;
  init: Proc;
  execs: Map<string, Proc>;
  oom: OomWatch | undefined;
  ownsPidNs: boolean;
  /** created from a checkpoint: Start restores it from these images (pid 0 until then) */
  restore?: { images: string } | undefined;
}

function newProc(execId: string, stdio: StdioPaths, io: ProcessIO): Proc {
  let resolve!: (e: Exit) => void;
  const exited = new Promise<Exit>((r) => (resolve = r));
  const p: Proc = {
    execId, pid: 0, stdio, io, started: false, exit: undefined, exited,
    setExit(e) {
      if (p.exit) return;
      p.exit = e;
      resolve(e);
    },
  };
  return p;
}

const ZERO_TIME: Timestamp = { seconds: 0n, nanos: 0 };

/** An error of the library as a ttrpc status. */
function toTtrpc(err: unknown): TtrpcError {
  if (err instanceof TtrpcError) return err;
  const { kind, message } = rt.classify(err);
  const code = { notfound: Code.NotFound, exists: Code.AlreadyExists, precondition: Code.FailedPrecondition, invalid: Code.InvalidArgument, other: Code.Unknown }[kind];
  return new TtrpcError(code, message);
}

export interface ServiceDeps {
  namespace: string;
  reaper: Reaper;
  publisher: Publisher;
  /** called once the last container is gone and containerd asked the shim to shut down */
  shutdown(): void;
}

export class TaskService {
  readonly containers = new Map<string, Container>();

  constructor(private readonly d: ServiceDeps) {}

  /** The ttrpc methods: decode, run, encode. */
  methods(): Record<string, Method> {
    const m = <Req, Res>(dec: { decode(b: Uint8Array): Req }, enc: { encode(r: Res): { finish(): Uint8Array } }, fn: (r: Req, md: Metadata) => Promise<Res> | Res): Method => {
      return async (payload, md) => {
        const req = dec.decode(payload);
        const t0 = performance.now();
        try {
          const res = enc.encode(await fn.call(this, req, md)).finish();
          shimLog.debug("request", { method: fn.name, ms: (performance.now() - t0).toFixed(1), uptime: (process.uptime() * 1000).toFixed(0) });
          return res;
        } catch (err) {
          const e = toTtrpc(err);
          shimLog.debug("request failed", { error: e.message, code: e.code });
          throw e;
        }
      };
    };
    return {
      State: m(T.StateRequest, T.StateResponse, this.state),
      Create: m(T.CreateTaskRequest, T.CreateTaskResponse, this.create),
      Start: m(T.StartRequest, T.StartResponse, this.start),
      Delete: m(T.DeleteRequest, T.DeleteResponse, this.delete),
      Pids: m(T.PidsRequest, T.PidsResponse, this.pids),
      Pause: m(T.PauseRequest, Empty, this.pause),
      Resume: m(T.ResumeRequest, Empty, this.resume),
      Checkpoint: m(T.CheckpointTaskRequest, Empty, this.checkpoint),
      Kill: m(T.KillRequest, Empty, this.kill),
      Exec: m(T.ExecProcessRequest, Empty, this.exec),
      ResizePty: m(T.ResizePtyRequest, Empty, this.resizePty),
      CloseIO: m(T.CloseIORequest, Empty, this.closeIO),
      Update: m(T.UpdateTaskRequest, Empty, this.update),
      Wait: m(T.WaitRequest, T.WaitResponse, this.wait),
      Stats: m(T.StatsRequest, T.StatsResponse, this.stats),
      Connect: m(T.ConnectRequest, T.ConnectResponse, this.connect),
      Shutdown: m(T.ShutdownRequest, Empty, this.shutdownRpc),
    };
  }

  private container(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new TtrpcError(Code.NotFound, `container ${id}: not created`);
    return c;
  }

  private proc(c: Container, execId: string): Proc {
    if (!execId) return c.init;
    const p = c.execs.get(execId);
    if (!p) throw new TtrpcError(Code.NotFound, `process ${execId} of container ${c.id} does not exist`);
    return p;
  }

  private ioContext(c: { id: string; opts: ShimOptions }) {
    return {
      id: c.id, namespace: this.d.namespace, ioUid: c.opts.ioUid, ioGid: c.opts.ioGid,
      adoptChild: (child: ChildProcess) => this.adopt(child),
    };
  }

  /** A child made by node's child_process (a logging binary): whoever reaps it first, node's handle ends. */
  adopt(child: ChildProcess): void {
    const pid = child.pid;
    if (!pid) return;
    this.d.reaper.foreign.set(pid, () => {
      const h = (child as unknown as { _handle?: { close(): void } | null })._handle;
      if (h) {
        h.close();
        (child as unknown as { _handle: null })._handle = null;
      }
      child.emit("exit", null, null);
    });
    child.once("exit", () => this.d.reaper.foreign.delete(pid));
    child.unref();
  }

  // ------------------------------------------------------------------ Create ----
  async create(r: T.CreateTaskRequest): Promise<T.CreateTaskResponse> {
    if (this.containers.has(r.id)) throw new TtrpcError(Code.AlreadyExists, `container ${r.id}: already exists`);
    const opts = decodeOptions(r.options, this.d.namespace);
    if (opts.ignored.length) shimLog.debug(`options ignored by ocirt: ${opts.ignored.join(", ")}`);
    const stdio: StdioPaths = { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal };
    let rootfs: string | undefined;
    let io: ProcessIO | undefined;
    try {
      rmSync(join(r.bundle, DELETED_RECORD), { force: true });
      saveState(r.bundle, { root: opts.root, rootfsMounted: r.rootfs.length > 0 });
      if (r.rootfs.length) rootfs = mountRootfs(r.bundle, r.rootfs);
      io = await ProcessIO.open(stdio, this.ioContext({ id: r.id, opts }));
      if (r.checkpoint) {
        // as containerd's runc shim: the restore is Start's (the task is "created" until then)
        const c: Container = { id: r.id, bundle: r.bundle, opts, rootfs, init: newProc("", stdio, io), execs: new Map(), oom: undefined, ownsPidNs: true, restore: { images: r.checkpoint } };
        this.containers.set(r.id, c);
        this.d.publisher.publish("create", {
          containerId: r.id, bundle: r.bundle, rootfs: r.rootfs, pid: 0,
          io: { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal }, checkpoint: r.checkpoint,
        });
        return { pid: 0 };
      }
      const mark = this.d.reaper.mark();
      const { pid, consoleFd } = await rt.createTask({ ...opts, id: r.id, bundle: r.bundle, stdio: io.fds, terminal: r.terminal });
      io.started(consoleFd);
      const init = newProc("", stdio, io);
      init.pid = pid;
      const c: Container = { id: r.id, bundle: r.bundle, opts, rootfs, init, execs: new Map(), oom: undefined, ownsPidNs: true };
      try {
        c.ownsPidNs = rt.ownsPidNamespace(opts.root, r.id);
      } catch { /* keep the default */ }
      this.containers.set(r.id, c);
      try {
        writeFileSync(join(r.bundle, "init.pid"), String(pid));
      } catch { /* only the crash cleanup reads it */ }
      this.watchOom(c);
      this.d.reaper.watch(pid, mark, (e) => this.initExited(c, e));
      this.d.publisher.publish("create", {
        containerId: r.id, bundle: r.bundle, rootfs: r.rootfs, pid,
        io: { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal }, checkpoint: r.checkpoint,
      });
      return { pid };
    } catch (err) {
      io?.close();
      if (rootfs) {
        try { unmountAll(rootfs); } catch (e) { shimLog.warn("unmounting the rootfs after a failed create", { error: (e as Error).message }); }
      }
      throw err;
    }
  }

  private watchOom(c: Container): void {
    try {
      const cg = rt.taskCgroup(c.opts.root, c.id);
      if (cg) c.oom = watchOom(cg, () => this.d.publisher.publish("oom", { containerId: c.id }));
    } catch (err) {
      shimLog.warn("cannot watch for OOM events", { id: c.id, error: (err as Error).message });
    }
  }

  private initExited(c: Container, e: Exit): void {
    // sharing a pid namespace, the init's death does not take the others with it
    if (!c.ownsPidNs) {
      try {
        rt.signalTask(c.opts.root, c.id, SIGKILL, true);
      } catch (err) {
        shimLog.warn("killing the container's other processes", { id: c.id, error: (err as Error).message });
      }
    }
    c.init.setExit(e);
    shimLog.debug("init exited", { id: c.id, pid: e.pid, status: e.status });
    this.d.publisher.publish("exit", { containerId: c.id, id: c.id, pid: e.pid, exitStatus: e.status, exitedAt: e.exitedAt });
  }

  // ------------------------------------------------------------------- Start ----
  async start(r: T.StartRequest): Promise<T.StartResponse> {
    const c = this.container(r.id);
    const p = this.proc(c, r.execId);
    if (!r.execId) {
      if (c.init.exit) throw new TtrpcError(Code.FailedPrecondition, `container ${c.id} has exited`);
      if (c.restore) return this.startRestore(c, c.restore.images);
      await rt.startTask(c.opts.root, c.id);
      c.init.started = true;
      this.d.publisher.publish("start", { containerId: c.id, pid: c.init.pid });
      return { pid: c.init.pid };
    }
    if (p.started) throw new TtrpcError(Code.FailedPrecondition, `process ${r.execId} was started already`);
    if (c.init.exit) throw new TtrpcError(Code.FailedPrecondition, `container ${c.id} has exited`);
    const mark = this.d.reaper.mark();
    const { pid, consoleFd } = await rt.execTask(c.opts.root, c.id, p.spec!, p.io.fds);
    p.io.started(consoleFd);
    p.pid = pid;
    p.started = true;
    this.d.publisher.publish("execStarted", { containerId: c.id, execId: p.execId, pid });
    this.d.reaper.watch(pid, mark, (e) => {
      p.setExit(e);
      this.d.publisher.publish("exit", { containerId: c.id, id: p.execId, pid, exitStatus: e.status, exitedAt: e.exitedAt });
    });
    return { pid };
  }

  /** Start of a task created from a checkpoint: criu restores it, as the shim's own child. */
  private async startRestore(c: Container, images: string): Promise<T.StartResponse> {
    const mark = this.d.reaper.mark();
    const flags = { ...rt.defaultCriuFlags(images), workPath: c.opts.criuWorkPath || undefined, shellJob: c.init.stdio.terminal };
    const { pid, consoleFd } = await rt.restoreTask({
      ...c.opts, id: c.id, bundle: c.bundle, flags, criu: c.opts.criuPath, stdio: c.init.io.fds, terminal: c.init.stdio.terminal,
      adopt: (child) => this.adopt(child),
    });
    c.restore = undefined;
    c.init.io.started(consoleFd);
    c.init.pid = pid;
    c.init.started = true;
    try {
      c.ownsPidNs = rt.ownsPidNamespace(c.opts.root, c.id);
    } catch { /* keep the default */ }
    try {
      writeFileSync(join(c.bundle, "init.pid"), String(pid));
    } catch { /* only the crash cleanup reads it */ }
    this.watchOom(c);
    this.d.reaper.watch(pid, mark, (e) => this.initExited(c, e));
    this.d.publisher.publish("start", { containerId: c.id, pid });
    return { pid };
  }

  // ------------------------------------------------------------------ Delete ----
  async delete(r: T.DeleteRequest): Promise<T.DeleteResponse> {
    const c = this.container(r.id);
    if (r.execId) {
      const p = this.proc(c, r.execId);
      if (p.started && !p.exit) throw new TtrpcError(Code.FailedPrecondition, `process ${r.execId} is running: kill it first`);
      c.execs.delete(r.execId);
      // what the process wrote reaches its FIFO before the client, told the delete is
      // done, stops reading (runc's shim waits up to 2 s for its copy the same way)
      await p.io.drained(2000);
      p.io.close();
      return { pid: p.pid, exitStatus: p.exit?.status ?? 0, exitedAt: p.exit?.exitedAt ?? ZERO_TIME };
    }
    const init = c.init;
    if (!init.exit && !c.restore) {
      const status = rt.taskStatus(c.opts.root, c.id);
      if (status === "running" || status === "paused") throw new TtrpcError(Code.FailedPrecondition, `cannot delete container ${c.id}: it is ${status}`);
      // created, never started: delete kills it, as runc's does; its status is reaped here
      try { rt.sys().kill(init.pid, SIGKILL); } catch { /* gone */ }
      await Promise.race([init.exited, new Promise((res) => setTimeout(res, 10_000))]);
    }
    await rt.deleteTask(c.opts.root, c.id, true);
    await init.io.drained(2000);
    this.teardown(c);
    const exit = init.exit;
    // containerd runs `delete` after the shim exits, even a clean one: this record
    // lets the launcher answer it without starting node (addon/shim/launcher.c)
    try {
      const at = exit?.exitedAt ?? ZERO_TIME;
      writeFileSync(join(c.bundle, DELETED_RECORD), `${init.pid} ${exit?.status ?? 0} ${at.seconds} ${at.nanos}\n`);
    } catch (err) {
      shimLog.warn("recording the delete", { error: (err as Error).message });
    }
    this.d.publisher.publish("delete", { containerId: c.id, pid: init.pid, exitStatus: exit?.status ?? 0, exitedAt: exit?.exitedAt ?? ZERO_TIME });
    return { pid: init.pid, exitStatus: exit?.status ?? 0, exitedAt: exit?.exitedAt ?? ZERO_TIME };
  }

  private teardown(c: Container): void {
    c.oom?.stop();
    for (const p of c.execs.values()) p.io.close();
    c.init.io.close();
    if (c.rootfs) unmountAll(c.rootfs);
    this.d.reaper.unwatch(c.init.pid);
    this.containers.delete(c.id);
  }

  // -------------------------------------------------------------- the others ----
  state(r: T.StateRequest): T.StateResponse {
    const c = this.container(r.id);
    const p = this.proc(c, r.execId);
    let status: TaskStatus;
    if (p.exit) status = TaskStatus.STOPPED;
    else if (r.execId) status = p.started ? TaskStatus.RUNNING : TaskStatus.CREATED;
    else if (c.restore) status = TaskStatus.CREATED;
    else {
      const s = rt.taskStatus(c.opts.root, c.id);
      status = s === "created" ? TaskStatus.CREATED : s === "running" ? TaskStatus.RUNNING : s === "paused" ? TaskStatus.PAUSED : s === "stopped" ? TaskStatus.STOPPED : TaskStatus.UNKNOWN;
    }
    return {
      id: r.execId || c.id, bundle: c.bundle, pid: p.pid, status,
      stdin: p.stdio.stdin, stdout: p.stdio.stdout, stderr: p.stdio.stderr, terminal: p.stdio.terminal,
      exitStatus: p.exit?.status ?? 0, exitedAt: p.exit?.exitedAt ?? ZERO_TIME, execId: r.execId,
    };
  }

  pids(r: T.PidsRequest): T.PidsResponse {
    const c = this.container(r.id);
    const byPid = new Map([...c.execs.values()].filter((p) => p.started && !p.exit).map((p) => [p.pid, p.execId]));
    return {
      processes: rt.taskPids(c.opts.root, c.id).map((pid) => {
        const execId = byPid.get(pid);
        return { pid, info: execId ? { typeUrl: "containerd.runc.v1.ProcessDetails", value: ProcessDetails.encode({ execId }).finish() } : undefined };
      }),
    };
  }

  pause(r: T.PauseRequest): Empty {
    const c = this.container(r.id);
    rt.pauseTask(c.opts.root, c.id);
    this.d.publisher.publish("paused", { containerId: c.id });
    return {};
  }

  resume(r: T.ResumeRequest): Empty {
    const c = this.container(r.id);
    rt.resumeTask(c.opts.root, c.id);
    this.d.publisher.publish("resumed", { containerId: c.id });
    return {};
  }

  async checkpoint(r: T.CheckpointTaskRequest): Promise<Empty> {
    const c = this.container(r.id);
    if (c.restore) throw new TtrpcError(Code.FailedPrecondition, `container ${c.id} is not running: it waits to be restored`);
    if (c.init.exit) throw new TtrpcError(Code.FailedPrecondition, `container ${c.id} has exited`);
    if (!r.path) throw new TtrpcError(Code.InvalidArgument, "checkpoint: no image path");
    await checkpointTask(c, r.path, r.options, (child) => this.adopt(child));
    return {};
  }

  kill(r: T.KillRequest): Empty {
    const c = this.container(r.id);
    const p = this.proc(c, r.execId);
    if (p.exit || (!r.execId && c.restore)) throw new TtrpcError(Code.NotFound, "process already finished");
    if (r.execId) {
      if (!p.started) throw new TtrpcError(Code.FailedPrecondition, `process ${r.execId} is not started`);
      try {
        rt.sys().kill(p.pid, r.signal);
      } catch (err) {
        if ((err as { errno?: number }).errno === 3) throw new TtrpcError(Code.NotFound, "process already finished");
        throw err;
      }
      return {};
    }
    try {
      rt.signalTask(c.opts.root, c.id, r.signal, r.all);
    } catch (err) {
      if (rt.classify(err).kind === "precondition") throw new TtrpcError(Code.NotFound, "process already finished");
      throw err;
    }
    return {};
  }

  async exec(r: T.ExecProcessRequest): Promise<Empty> {
    const c = this.container(r.id);
    if (c.execs.has(r.execId)) throw new TtrpcError(Code.AlreadyExists, `process ${r.execId}: already exists`);
    if (c.init.exit) throw new TtrpcError(Code.FailedPrecondition, `container ${c.id} has exited`);
    if (!r.spec) throw new TtrpcError(Code.InvalidArgument, "exec: no process spec");
    if (r.spec.typeUrl && !r.spec.typeUrl.endsWith("runtime-spec/1/Process") && r.spec.typeUrl !== PROCESS_URL) {
      throw new TtrpcError(Code.InvalidArgument, `exec: unsupported spec type ${r.spec.typeUrl}`);
    }
    let spec: rt.Process;
    try {
      spec = JSON.parse(Buffer.from(r.spec.value).toString("utf8")) as rt.Process;
    } catch (err) {
      throw new TtrpcError(Code.InvalidArgument, `exec: the process spec is not JSON: ${(err as Error).message}`);
    }
    spec.terminal = r.terminal;
    const stdio: StdioPaths = { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal };
    const io = await ProcessIO.open(stdio, this.ioContext(c));
    const p = newProc(r.execId, stdio, io);
    p.spec = spec;
    c.execs.set(r.execId, p);
    this.d.publisher.publish("execAdded", { containerId: c.id, execId: r.execId });
    return {};
  }

  resizePty(r: T.ResizePtyRequest): Empty {
    const c = this.container(r.id);
    this.proc(c, r.execId).io.resize(r.width, r.height);
    return {};
  }

  closeIO(r: T.CloseIORequest): Empty {
    const c = this.container(r.id);
    if (r.stdin) this.proc(c, r.execId).io.closeStdin();
    return {};
  }

  async update(r: T.UpdateTaskRequest): Promise<Empty> {
    const c = this.container(r.id);
    if (!r.resources) throw new TtrpcError(Code.InvalidArgument, "update: no resources");
    await rt.updateTask(c.opts.root, c.id, Buffer.from(r.resources.value).toString("utf8"));
    return {};
  }

  async wait(r: T.WaitRequest): Promise<T.WaitResponse> {
    const c = this.container(r.id);
    const p = this.proc(c, r.execId);
    const e = await p.exited;
    return { exitStatus: e.status, exitedAt: e.exitedAt };
  }

  stats(r: T.StatsRequest): T.StatsResponse {
    const c = this.container(r.id);
    const cg = rt.taskCgroup(c.opts.root, c.id);
    if (!cg) throw new TtrpcError(Code.NotFound, `container ${c.id} has no cgroup`);
    return { stats: metricsAny(cg.mode, cg.stats(), cg.paths) };
  }

  connect(r: T.ConnectRequest): T.ConnectResponse {
    const c = this.containers.get(r.id);
    return { shimPid: process.pid, taskPid: c?.init.pid ?? 0, version: rt.VERSION };
  }

  /** Ends every container's stdio handling (the shim is exiting). */
  closeAll(): void {
    for (const c of this.containers.values()) {
      c.oom?.stop();
      for (const p of c.execs.values()) p.io.close();
      c.init.io.close();
    }
  }

  shutdownRpc(_r: T.ShutdownRequest): Empty {
    if (this.containers.size === 0) setImmediate(() => this.d.shutdown());
    return {};
  }
}
