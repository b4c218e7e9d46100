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
  planVersion: number;
  flock(fd: number, op: number): void;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, sig: number): void;
  kill(pid: number, sig: number): void;
  mkfifo(path: string, mode: number): void;
  waitpid(pid: number, flags: number): { pid: number; status: number; signal: number } | null;
  setChildSubreaper(on: number): void;
  close(fd: number): void;
  spawnInit(req: {
    initPath: string;
    plan: Buffer;
    cloneFlags: number;
    /** fds the child gets, in order, at 3, 4, ... (preserved fds first, then the helper's own) */
    fds: number[];
    cgroupFd: number;
    argv0: string;
  }): SpawnResult;
  syncRecv(fd: number, timeoutMs: number): { type: number; errno: number; step: number; data: Buffer } | null;
  syncSend(fd: number, type: number, data?: Buffer): void;
  compileSeccomp?(input: unknown): Buffer;
}

export const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

let cached: Native | undefined;

export function native(): Native {
  if (cached) return cached;
  const path = join(__dirname, "..", "build", "Release", "ocirt_native.node");
  try {
    cached = require(path) as Native;
  } catch (err) {
    throw new HostError(`cannot load the ocirt addon at ${path}: ${(err as Error).message} (run 'npm run build')`);
  }
  return cached;
}

export function initHelperPath(): string {
  return join(__dirname, "..", "build", "Release", "ocirt-init");
}
