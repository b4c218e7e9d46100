// A process's stdio as containerd describes it — FIFO paths (plain or fifo://),
// `file:///path` (stdout and stderr appended to a file), `binary:///path?k=v`
// (a logging program reads them), or empty (/dev/null) — turned into the three
// fds the container gets, and the copying the shim does meanwhile.
//
// The container never gets a host fd other than pipes made for it: the shim keeps
// the FIFOs and files and copies between them and the pipes (as runc's shim does).
// A FIFO is opened once containerd's side of it is open (a worker thread waits for
// that), so nothing written is lost; a stdout FIFO is closed once its pipe has
// drained after the process exited, which is the EOF the client waits for before it
// deletes the task; the end of the stdin FIFO is the process's EOF.
import { closeSync, constants as fsc, createWriteStream, fchownSync, mkdirSync, open as openAsync, openSync } from "node:fs";
import { Socket } from "node:net";
import { ReadStream as TtyStream } from "node:tty";
import { spawn, type ChildProcess } from "node:child_process";
import { dirname } from "node:path";
import type { Writable, Readable } from "node:stream";
import { sys } from "./runtime";
import { shimLog } from "./log";

export interface StdioPaths {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

export interface IoContext {
  id: string;
  namespace: string;
  ioUid: number;
  ioGid: number;
  /** a logger started through child_process: the reaper hands its exit to node's handle */
  adoptChild(child: ChildProcess): void;
}

type Scheme = "fifo" | "file" | "binary" | "null";

// node has no O_PATH: an fd that names a file without opening it for I/O
const O_PATH = 0o10000000;

export function schemeOf(uri: string): { scheme: Scheme; path: string; query: [string, string][] } {
  if (!uri) return { scheme: "null", path: "", query: [] };
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(uri);
  if (!m) return { scheme: "fifo", path: uri, query: [] };
  const scheme = m[1]!.toLowerCase();
  const u = new URL(uri);
  const path = decodeURIComponent(u.pathname);
  if (scheme === "fifo") return { scheme: "fifo", path, query: [] };
  if (scheme === "file") return { scheme: "file", path, query: [] };
  if (scheme === "binary") return { scheme: "binary", path, query: [...u.searchParams.entries()] };
  throw new Error(`unknown STDIO scheme ${scheme}`);
}

/** containerd's logging-binary arguments: each query key, then its value when it has one. */
export function binaryArgs(query: [string, string][]): string[] {
  const out: string[] = [];
  for (const [k, v] of query) {
    out.push(k);
    if (v !== "") out.push(v);
  }
  return out;
}

export class ProcessIO {
  /** what the container's 0, 1, 2 become */
  readonly fds: [number, number, number];
  private ours: number[] = []; // container-side ends: closed once the process has them
  private stdinWriter: Writable | undefined;
  private stdinSource: Readable | undefined;
  private outputs: Promise<void>[] = [];
  private closers: (() => void)[] = [];
  private console: TtyStream | undefined;
  private logger: ChildProcess | undefined;
  private closed = false;
  private stdinClosed = false;

  private constructor(readonly paths: StdioPaths, fds: [number, number, number]) {
    this.fds = fds;
  }

  static async open(paths: StdioPaths, ctx: IoContext): Promise<ProcessIO> {
    const devnull = openSync("/dev/null", fsc.O_RDWR);
    const io = new ProcessIO(paths, [devnull, devnull, devnull]);
    io.ours.push(devnull);
    try {
      await io.setup(ctx);
    } catch (err) {
      io.close();
      throw err;
    }
    return io;
  }

  private pipe(containerReads: boolean, ctx: IoContext): { ours: number; theirs: number } {
    const [r, w] = sys().pipe();
    const theirs = containerReads ? r : w;
    if (ctx.ioUid || ctx.ioGid) fchownSync(theirs, ctx.ioUid, ctx.ioGid);
    this.ours.push(theirs);
    return { ours: containerReads ? w : r, theirs };
  }

  private async setup(ctx: IoContext): Promise<void> {
    const p = this.paths;
    const out = schemeOf(p.stdout);
    if (p.terminal) {
      // the container's stdio is its pty (set up by its init); we relay the master later
      return;
    }
    if (p.stdin) {
      const { ours, theirs } = this.pipe(true, ctx);
      this.fds[0] = theirs;
      const dst = new Socket({ fd: ours, readable: false, writable: true });
      dst.on("error", () => this.stdinSource?.destroy()); // the process is gone (EPIPE)
      this.stdinWriter = dst;
      this.closers.push(() => dst.destroy());
      this.openStdin((src) => src.pipe(dst));
    }
    if (out.scheme === "binary") {
      await this.startLogger(out.path, out.query, ctx);
      return;
    }
    if (out.scheme === "file") {
      mkdirSync(dirname(out.path), { recursive: true, mode: 0o755 });
      closeSync(openSync(out.path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND, 0o644));
    }
    for (const [i, uri] of [[1, p.stdout], [2, p.stderr]] as const) {
      const target = out.scheme === "file" ? { scheme: "file" as Scheme, path: out.path } : schemeOf(uri);
      if (target.scheme === "null") continue;
      const { ours, theirs } = this.pipe(false, ctx);
      this.fds[i] = theirs;
      const src = new Socket({ fd: ours, readable: true, writable: false });
      this.outputs.push(this.copyOut(src, target.scheme === "file" ? Promise.resolve(fileSink(target.path)) : this.fifoSink(target.path)));
    }
  }

  /**
   * Copies until the pipe's last writer is gone, then closes the sink (EOF for the
   * reader). Until the sink is open the output waits in the pipe and the stream's
   * buffer (the process blocks once they are full, as with runc's shim).
   */
  private copyOut(src: Readable, sink: Promise<Writable>): Promise<void> {
    this.closers.push(() => (src as Socket).destroy());
    return sink.then(
      (dst) => new Promise<void>((resolve) => {
        this.closers.push(() => dst.destroy());
        if (this.closed) {
          dst.destroy();
          resolve();
          return;
        }
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          resolve();
        };
        src.on("error", () => dst.end());
        dst.on("error", (err) => {
          shimLog.warn("copying output", { error: err.message });
          (src as Socket).destroy();
          finish();
        });
        dst.on("close", finish);
        dst.on("finish", () => {
          dst.destroy();
          finish();
        });
        src.pipe(dst);
      }),
      (err: Error) => {
        shimLog.warn("opening an output FIFO", { error: err.message });
        (src as Socket).destroy();
      },
    );
  }

  /**
   * A stdout/stderr FIFO for writing, once its reader (containerd's side) is there:
   * closing a FIFO nobody had open yet would drop what was written, and the reader
   * would then wait for a writer forever. The open waits on a worker thread; a read
   * end of our own, held while we write, keeps writes from failing should the
   * reader go away and come back (a client reattaching). close() ends a wait that is
   * still pending by opening the read side itself.
   */
  private fifoSink(path: string): Promise<Writable> {
    const pathFd = openSync(path, O_PATH);
    const via = `/proc/self/fd/${pathFd}`;
    let pending = true;
    this.closers.push(() => {
      if (!pending) return;
      try {
        closeSync(openSync(via, fsc.O_RDONLY | fsc.O_NONBLOCK));
      } catch { /* the open completed meanwhile */ }
    });
    return new Promise((resolve, reject) => {
      openAsync(via, fsc.O_WRONLY, (err, fd) => {
        pending = false;
        let keep = -1;
        if (!err) {
          try {
            keep = openSync(via, fsc.O_RDONLY | fsc.O_NONBLOCK);
          } catch { /* only a safeguard */ }
        }
        closeSync(pathFd);
        if (err) {
          reject(err);
          return;
        }
        const dst = new Socket({ fd, readable: false, writable: true });
        dst.once("close", () => {
          if (keep >= 0) closeSync(keep);
        });
        resolve(dst);
      });
    });
  }

  private async startLogger(path: string, query: [string, string][], ctx: IoContext): Promise<void> {
    const out = this.pipe(false, ctx);
    const err = this.pipe(false, ctx);
    this.fds[1] = out.theirs;
    this.fds[2] = err.theirs;
    const [waitR, waitW] = sys().pipe();
    let child: ChildProcess;
    try {
      child = spawn(path, binaryArgs(query), {
        stdio: ["ignore", "ignore", "ignore", out.ours, err.ours, waitW],
        env: { CONTAINER_ID: ctx.id, CONTAINER_NAMESPACE: ctx.namespace },
      });
    } finally {
      // the logger has its ends now (fds 3, 4, 5); ours are not needed
      closeSync(out.ours);
      closeSync(err.ours);
      closeSync(waitW);
    }
    ctx.adoptChild(child);
    this.logger = child;
    // the logger says it is ready by closing (or writing to) fd 5
    const ready = new Socket({ fd: waitR, readable: true, writable: false });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`logging binary ${path} did not become ready within 10 s`)), 10_000);
      const ok = () => (clearTimeout(t), ready.destroy(), resolve());
      ready.once("data", ok);
      ready.once("end", ok);
      ready.once("error", ok);
      child.once("error", (e) => (clearTimeout(t), ready.destroy(), reject(new Error(`starting logging binary ${path}: ${e.message}`))));
    });
  }

  /** The process has its fds: ours of its ends go; a pty master starts being relayed. */
  started(consoleFd?: number): void {
    for (const fd of new Set(this.ours)) {
      try { closeSync(fd); } catch { /* closed */ }
    }
    this.ours = [];
    if (consoleFd === undefined) return;
    const con = new TtyStream(consoleFd);
    this.console = con;
    con.on("error", () => {}); // EIO once the last process holding the pty's other side exits
    const out = schemeOf(this.paths.stdout);
    if (out.scheme === "fifo" || out.scheme === "file") {
      const sink = out.scheme === "file" ? Promise.resolve(fileSink(out.path)) : this.fifoSink(out.path);
      this.outputs.push(this.copyOut(con, sink));
    } else {
      con.resume(); // nobody reads: drain so the process never blocks on a full pty
    }
    if (this.paths.stdin) {
      this.openStdin((src) => src.on("data", (d: Buffer) => {
        if (!con.destroyed) con.write(d);
      }));
    }
  }

  /**
   * The stdin FIFO, read until the client closes its end (that EOF is the
   * process's). The open waits for the client's writer (on a worker thread), as
   * the client may open its end only after the task exists; close() ends a wait
   * that is still pending by opening the FIFO's write side itself.
   */
  private openStdin(use: (src: Socket) => void): void {
    // an O_PATH fd keeps the FIFO reachable (through /proc/self/fd) even after the
    // client removed its directory, so a pending open can always be ended
    const pathFd = openSync(schemeOf(this.paths.stdin).path, O_PATH);
    const via = `/proc/self/fd/${pathFd}`;
    let pending = true;
    this.closers.push(() => {
      if (!pending) return;
      try {
        closeSync(openSync(via, fsc.O_WRONLY | fsc.O_NONBLOCK));
      } catch { /* no reader waiting any more */ }
    });
    openAsync(via, fsc.O_RDONLY, (err, fd) => {
      pending = false;
      closeSync(pathFd);
      if (err) {
        shimLog.warn("opening stdin", { path: this.paths.stdin, error: err.message });
        return;
      }
      if (this.closed || this.stdinClosed) {
        closeSync(fd);
        return;
      }
      const src = new Socket({ fd, readable: true, writable: false });
      src.on("error", () => {});
      this.stdinSource = src;
      this.closers.push(() => src.destroy());
      use(src);
    });
  }

  resize(width: number, height: number): void {
    if (!this.console) return;
    const fd = (this.console as unknown as { fd?: number }).fd ?? (this.console as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd !== undefined && fd >= 0) sys().setWinsize(fd, height, width);
  }

  /** CloseIO(stdin): the process reads EOF. */
  closeStdin(): void {
    this.stdinClosed = true;
    this.stdinSource?.destroy();
    this.stdinSource = undefined;
    this.stdinWriter?.end();
    this.stdinWriter = undefined;
    if (this.console && !this.console.destroyed) {
      // a terminal has no EOF of its own: send the EOF character (^D), as a terminal does
      this.console.write("\x04");
    }
  }

  /** Resolves when every output has drained into its sink (after the process exited). */
  drained(timeoutMs: number): Promise<void> {
    return Promise.race([Promise.all(this.outputs).then(() => undefined), new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of new Set(this.ours)) {
      try { closeSync(fd); } catch { /* closed */ }
    }
    this.ours = [];
    for (const c of this.closers) {
      try { c(); } catch { /* gone */ }
    }
    this.console?.destroy();
    const logger = this.logger;
    if (logger && logger.exitCode === null && logger.signalCode === null && logger.pid) {
      // it has EOF on both pipes; give it a moment to flush, then TERM, then KILL (as runc's shim)
      const pid = logger.pid;
      const term = setTimeout(() => {
        try { process.kill(pid, "SIGTERM"); } catch { /* gone */ }
      }, 2000);
      const kill = setTimeout(() => {
        try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
      }, 12_000);
      term.unref();
      kill.unref();
      logger.once("exit", () => (clearTimeout(term), clearTimeout(kill)));
    }
  }
}

function fileSink(path: string): Writable {
  const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND, 0o644);
  return createWriteStream("", { fd, autoClose: true });
}
