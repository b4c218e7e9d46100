// Loads the addon built by node-gyp. Both the bundle (dist/ocirt.js) and the
// sources (src/native.ts, under tsx in tests) sit one level below the package
// root, so one relative path serves both.
import { join } from "node:path";
import { HostError } from "./errors";

export interface SpawnResult {
  pid: number;
  /** Our end of the socketpair the init helper talks on (SOCK_SEQPACKET). */
  syncFd: number;
  pidfd: number;
}

export interface Native {
  flock(fd: number, op: number): void;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, sig: number): void;
  kill(pid: number, sig: number): void;
  mkfifo(path: string, mode: number): void;
  waitpid(pid: number, flags: number): { pid: number; status: number; signal: number } | null;
  setChildSubreaper(on: number): void;
  /** signal numbers by name (SIGKILL: 9), from <signal.h> */
  signals: Record<string, number>;
  /** execv(2): this process becomes path (argv[0] included in argv); returns only by throwing */
  execv(path: string, argv: string[]): never;
  /** poll(2) for POLLIN on each fd (-1: ignored); revents per fd, all 0 on timeout */
  pollIn(fds: number[], timeoutMs: number): number[];
  /** write(2) of data to path on a detached thread of the addon; errors ignored */
  writeSoon(path: string, data: string): void;
  close(fd: number): void;
  waitpidAsync(pid: number): Promise<{ errno: number; status: number; signal: number }>;
  spawnInit(req: {
    initPath: string;
    plan: Buffer;
    cloneFlags: number;
    /** land at 3, 4, ... in the child (LISTEN_FDS, --preserve-fds) */
    preserved: number[];
    /** the helper's extra fds, after its sync socket and plan */
    extra: number[];
    cgroupFd: number;
    argv0: string;
    /** fds to become the process's 0, 1, 2 (-1: our own); absent: our own stdio */
    stdio?: [number, number, number] | undefined;
    /** the child's working directory (entered before the clone, ours restored after) */
    cwd?: string | undefined;
  }): SpawnResult;
  /** null on timeout; type 0 on EOF (the helper is gone) */
  syncRecv(fd: number, timeoutMs: number): { type: number; errno: number; op: number; message: string; fd: number } | null;
  syncSend(fd: number, type: number, num?: number): void;
  compileSeccomp?(input: unknown): Buffer;
  sendFdTo(socketPath: string, payload: Buffer, fd: number): void;
  /**
   * Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[]) and attaches it
   * to the cgroup dir with BPF_F_ALLOW_MULTI, then detaches the device programs
   * that were attached before. progFd is close-on-exec; closing it keeps the attachment.
   */
  loadDeviceFilter(dirFd: number, program: Buffer): { progFd: number; replaced: number };
  /** Detaches every device program of the cgroup it may access; returns how many. */
  detachDeviceFilters(dirFd: number): number;
  /** Ids of the device programs attached to the cgroup itself. */
  queryDeviceFilters(dirFd: number): number[];
  nsType(fd: number): number;
  setWinsize(fd: number, rows: number, cols: number): void;
  /** [read end, write end], close-on-exec */
  pipe(): [number, number];
  /**
   * A detached thread copies `from` into `to` (blocking reads and writes; the fds'
   * flags untouched) until EOF or an error on either side, then closes the ends it
   * was told to own (they are its own from the call on). Returns the id pumpDone takes.
   */
  pumpFd(from: number, to: number, closeFrom: boolean, closeTo: boolean): number;
  /** Whether the pump has finished (and closed what it owned). */
  pumpDone(id: number): boolean;
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount2(target: string, flags: number): void;
  /** FD_CLOEXEC on (default) or off */
  setCloexec(fd: number, on?: boolean): void;
  dup2(oldFd: number, newFd: number): void;
  /** a listening unix socket (non-blocking, close-on-exec) */
  listenUnix(path: string): number;
  /** one connection's first message and the fds passed with it; null when nobody is connecting */
  recvHandoff(listenFd: number): { conn: number; fds: number[]; payload: Buffer } | null;
  /** a non-blocking, close-on-exec eventfd */
  eventfd(initval: number, flags: number): number;
  /**
   * A user namespace with these maps (uid_map/gid_map text), as a close-on-exec fd:
   * the mapping of idmapped mounts. Made by a child that is killed once it is open.
   */
  usernsFd(uidMap: string, gidMap: string): number;
  /** Calls cb on the event loop whenever fd is readable; returns the function that stops watching. */
  watchReadable(fd: number, cb: (status: number) => void): () => void;
  /** socketpair(AF_UNIX, SOCK_SEQPACKET), both ends close-on-exec (criu swrk) */
  seqpacketPair(): [number, number];
  /** one message; EPIPE when the peer is gone */
  sendPacket(fd: number, data: Buffer): void;
  /** one message and the fd it carried (-1: none), without blocking; null: nothing yet; empty data: EOF */
  recvPacket(fd: number, maxBytes: number): { data: Buffer; fd: number } | null;
  /** sets lo up in the network namespace nsFd names */
  netnsLoUp(nsFd: number): void;
}

export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

let cached: Native | undefined;

export function native(): Native {
  if (cached) return cached;
  const path = join(__dirname, "..", "build", "Release", "ocirt_native.node");
  try {
    cached = require(path) as Native;
  } catch (err) {
    throw new HostError(`cannot load the ocirt addon at ${path}: ${(err as Error).message.split("\n")[0]} (run 'npm run build')`);
  }
  // Bun has no libuv poll watcher (a native module calling uv_poll_init aborts the
  // process): there the fd is polled from a timer instead, every few milliseconds
  if (process.versions["bun"]) cached = { ...cached, watchReadable: timerWatch(cached) };
  return cached;
}

/** watchReadable without uv_poll: poll(2) with no wait, on a 4 ms timer, while watched. */
function timerWatch(n: Native): Native["watchReadable"] {
  return (fd, cb) => {
    const t = setInterval(() => {
      let revents: number[];
      try {
        revents = n.pollIn([fd], 0);
      } catch {
        return;
      }
      if (revents[0]) cb(0); // readable, or hung up (the reader then sees EOF)
    }, 4);
    return () => clearInterval(t);
  };
}

export function initHelperPath(): string {
  return join(__dirname, "..", "build", "Release", "ocirt-init");
}
