// runc's setupProcessPipes (utils_linux.go) for a foreground `run`/`exec` without a
// terminal: the process gets three pipes of its own, never ocirt's stdio, and ocirt
// copies between them and its own 0, 1, 2 (stdin -> pipe, pipe -> stdout, pipe ->
// stderr). So the container holds no fd of the caller's: it cannot reopen the
// caller's file through /proc/self/fd/1, nor ioctl the operator's terminal.
//
// Our ends are made non-blocking (libuv's pipe handles). ocirt's own 0-2 are the
// caller's file descriptions: a pipe, socket or terminal on stdin is read when
// epoll says it is readable (libuv makes it non-blocking meanwhile; its flag is
// given back at the end), a file by plain reads; stdout and stderr are written from
// the thread pool, as they are (an inherited non-blocking one is waited on).
import { fchownSync, fstatSync, read as readAsync, readSync, write as writeAsync } from "node:fs";
import type { Socket } from "node:net";
import { SetupError } from "../errors";
import { native } from "../native";

export interface ProcessPipes {
  /** What the process's 0, 1, 2 become (given to the helper). */
  readonly child: [number, number, number];
  /** Closes the process's ends here, once the helper holds them. */
  closeChildEnds(): void;
  /**
   * Resolves once the process's stdout and stderr reached EOF (every holder of
   * their write ends closed them) and all of it was written out; then stops the
   * stdin copy and closes everything. runc's tty.Close waits the same way.
   */
  finish(): Promise<void>;
  /** Stops at once and closes every end (a failed create or exec). */
  close(): void;
}

/**
 * Makes the pipes (close-on-exec), gives the process's ends to the container's root
 * on the host (runc's InitializeIO fchowns them to rootuid/rootgid) and starts
 * copying. Nothing here runs between clone and execve: the pipes exist before.
 */
export function makeProcessPipes(root: { uid: number; gid: number }): ProcessPipes {
  const n = native();
  const made: number[] = [];
  let ins: [number, number], outs: [number, number], errs: [number, number];
  try {
    ins = n.pipe();
    made.push(...ins);
    outs = n.pipe();
    made.push(...outs);
    errs = n.pipe();
    made.push(...errs);
    for (const fd of made) fchownSync(fd, root.uid, root.gid);
  } catch (err) {
    for (const fd of made) n.close(fd);
    throw new SetupError(`making the process's stdio pipes: ${(err as Error).message}`, undefined, { where: "stdio" });
  }
  const child: [number, number, number] = [ins[0], outs[1], errs[1]];
  let childOpen = true;
  const closeChildEnds = () => {
    if (!childOpen) return;
    childOpen = false;
    for (const fd of child) {
      try { n.close(fd); } catch { /* closed */ }
    }
  };

  const net = require("node:net") as typeof import("node:net");
  const stdinPipe = new net.Socket({ fd: ins[1], readable: false, writable: true });
  stdinPipe.on("error", () => stopStdin()); // EPIPE: the process closed its stdin
  const stopStdin = copyStdin(stdinPipe);
  const stdoutPipe = new net.Socket({ fd: outs[0], readable: true, writable: false });
  const stderrPipe = new net.Socket({ fd: errs[0], readable: true, writable: false });
  const copies = Promise.all([copyOut(stdoutPipe, 1), copyOut(stderrPipe, 2)]);

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeChildEnds();
    stopStdin();
    stdinPipe.destroy();
    stdoutPipe.destroy();
    stderrPipe.destroy();
  };
  return {
    child,
    closeChildEnds,
    async finish() {
      closeChildEnds();
      await copies;
      close();
    },
    close,
  };
}

/** Copies a pipe to fd until EOF; a failed write (our output is gone) ends it and closes the pipe, as runc's copyIO. */
async function copyOut(src: Socket, fd: number): Promise<void> {
  try {
    for await (const chunk of src) await writeAll(fd, chunk as Buffer);
  } catch { /* EPIPE and the like: the process gets EPIPE in turn */ }
  src.destroy();
}

async function writeAll(fd: number, buf: Buffer): Promise<void> {
  while (buf.length) {
    const written = await new Promise<number>((res, rej) => {
      writeAsync(fd, buf, 0, buf.length, null, (err, k) => {
        if (!err) return res(k);
        const code = (err as NodeJS.ErrnoException).code;
        // an inherited non-blocking pipe: wait for room rather than drop output
        if (code === "EAGAIN" || code === "EINTR") return setTimeout(() => res(0), code === "EAGAIN" ? 2 : 0);
        rej(err);
      });
    });
    buf = buf.subarray(written);
  }
}

/**
 * ocirt's stdin into the process's stdin pipe until EOF (then the pipe is closed:
 * the process's EOF), or until the returned function stops it.
 */
function copyStdin(dst: Socket): () => void {
  const n = native();
  const buf = Buffer.allocUnsafe(64 * 1024);
  let stopped = false;
  let unwatch: (() => void) | undefined;
  // a pipe, socket or terminal is watched (a FIFO reopened would never see its
  // writers' hang-up); a file, /dev/null and the like are read as they are
  let pollable = false;
  let wasNonblocking: boolean | undefined;
  try {
    const st = fstatSync(0);
    pollable = st.isFIFO() || st.isSocket() || st.isCharacterDevice();
    if (pollable) wasNonblocking = n.nonblocking(0);
  } catch { /* closed: a plain read ends at once (EBADF) */ }
  const restore = () => {
    if (wasNonblocking === undefined) return;
    try { n.nonblocking(0, wasNonblocking); } catch { /* closed */ }
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    unwatch?.();
    unwatch = undefined;
    restore();
  };
  const eof = () => {
    if (stopped) return;
    stop();
    dst.end(() => dst.destroy());
  };
  const deliver = (k: number): boolean => dst.write(Buffer.from(buf.subarray(0, k)));

  const watch = (): boolean => {
    if (!pollable) return false;
    try {
      unwatch = n.watchReadable(0, (status) => {
        if (stopped) return;
        if (status < 0) return eof();
        let k: number;
        try {
          k = readSync(0, buf, 0, buf.length, null);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "EAGAIN" || code === "EINTR") return;
          return eof(); // EBADF, EIO: no more input
        }
        if (k === 0) return eof();
        if (!deliver(k)) {
          // the process is not reading: stop polling until the pipe has room
          unwatch?.();
          unwatch = undefined;
          dst.once("drain", () => {
            if (!stopped) watch();
          });
        }
      });
      return true;
    } catch {
      return false; // not pollable after all (/dev/null and other devices)
    }
  };
  if (watch()) return stop;
  restore();

  // a file epoll refuses: its reads do not block, so plain reads from the thread pool
  const next = () => {
    if (stopped) return;
    readAsync(0, buf, 0, buf.length, null, (err, k) => {
      if (stopped) return;
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EINTR") return void setTimeout(next, 2);
        return eof();
      }
      if (k === 0) return eof();
      if (deliver(k)) next();
      else dst.once("drain", next);
    });
  };
  next();
  return stop;
}
