// runc's setupProcessPipes (utils_linux.go) for a foreground `run`/`exec` without a
// terminal: the process gets three pipes of its own, never ocirt's stdio, and ocirt
// copies between them and its own 0, 1, 2 (stdin -> pipe, pipe -> stdout, pipe ->
// stderr). So the container holds no fd of the caller's: it cannot reopen the
// caller's file through /proc/self/fd/1, nor ioctl the operator's terminal.
//
// ocirt's own 0-2 are the caller's file descriptions and keep their flags. Each of
// the three copies is a thread of the addon's (pumpFd: blocking reads and writes, as
// runc's goroutines), not the event loop's: Bun has no libuv handles, and blocking
// reads in an engine's thread pool can starve it. A stdin read still waiting when
// ocirt exits ends with it. Nothing here runs between clone and execve: the pipes
// exist before.
import { fchownSync } from "node:fs";
import { SetupError } from "../errors";
import { native } from "../native";

export interface ProcessPipes {
  /** What the process's 0, 1, 2 become (given to the helper). */
  readonly child: [number, number, number];
  /** Closes the process's ends here, once the helper holds them. */
  closeChildEnds(): void;
  /**
   * Resolves once the process's stdout and stderr reached EOF (every holder of
   * their write ends closed them) and all of it was written out; runc's tty.Close
   * waits the same way.
   */
  finish(): Promise<void>;
  /** A failed create or exec: closes the process's ends here (the copies end at EOF). */
  close(): void;
}

/**
 * Makes the pipes (close-on-exec), gives them to the container's root on the host
 * (runc's InitializeIO fchowns them to rootuid/rootgid) and starts copying.
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
    // (a caller without CAP_CHOWN may not give them away: they stay its own, as a
    // detached container's stdio does in giveStdioToUser)
    for (const fd of made) chownTolerant(fd, root.uid, root.gid);
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
  // from here on each thread owns our end of its pipe: stdin's write end is closed
  // at our EOF (the process's EOF); stdout's and stderr's read ends at theirs, or
  // when our own output fails (EPIPE: the process gets EPIPE in turn, as runc's copyIO)
  const pumps: number[] = [];
  try {
    n.pumpFd(0, ins[1], false, true);
    pumps.push(n.pumpFd(outs[0], 1, true, false));
    pumps.push(n.pumpFd(errs[0], 2, true, false));
  } catch (err) {
    closeChildEnds(); // the running pumps end at EOF
    throw new SetupError(`copying the process's stdio: ${(err as Error).message}`, undefined, { where: "stdio" });
  }
  return {
    child,
    closeChildEnds,
    async finish() {
      closeChildEnds();
      // the threads tell no event loop: look every few ms (the process has exited)
      let wait = 1;
      while (!pumps.every((id) => n.pumpDone(id))) {
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 20);
      }
    },
    close: closeChildEnds,
  };
}

function chownTolerant(fd: number, uid: number, gid: number): void {
  try {
    fchownSync(fd, uid, gid);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "EINVAL") throw err;
  }
}
