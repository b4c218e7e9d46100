// Compiled programs by the sha256 of their compiler input: in memory for this
// process, and optionally in a directory so that the next `ocirt create` with the
// same profile skips the compiler. The directory must be as private as the state
// root (a program read from it is loaded into containers as is).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DebugLog } from "./types";

const MEMORY_ENTRIES = 32;
const memory = new Map<string, Buffer>();

export function memoryGet(key: string): Buffer | undefined {
  const v = memory.get(key);
  if (v) {
    memory.delete(key); // most recently used last
    memory.set(key, v);
  }
  return v;
}

export function memorySet(key: string, program: Buffer): void {
  memory.set(key, program);
  if (memory.size > MEMORY_ENTRIES) memory.delete(memory.keys().next().value!);
}

export function memoryClear(): void {
  memory.clear();
}

function file(dir: string, key: string): string {
  return join(dir, `${key}.bpf`);
}

/** A cached program, or undefined (absent, unreadable or malformed: just compile again). */
export function diskGet(dir: string, key: string, debug: DebugLog): Buffer | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file(dir, key));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") debug("seccomp: cache read failed", { error: (err as Error).message });
    return undefined;
  }
  if (buf.length === 0 || buf.length % 8 !== 0 || buf.length / 8 > 4096) {
    debug("seccomp: ignoring a malformed cache entry", { file: file(dir, key) });
    return undefined;
  }
  return buf;
}

/** Writes atomically (temp file + rename), so a reader sees all of a program or none. Failures only log. */
export function diskSet(dir: string, key: string, program: Buffer, debug: DebugLog): void {
  const tmp = join(dir, `.${key}.${process.pid}.${(require("node:crypto") as typeof import("node:crypto")).randomBytes(4).toString("hex")}.tmp`);
  try {
    // Not recursive: the parent is the state root, and node's recursive mkdir can
    // spin forever on some paths (/proc).
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    writeFileSync(tmp, program, { mode: 0o600, flag: "wx" });
    renameSync(tmp, file(dir, key));
  } catch (err) {
    debug("seccomp: cache write failed", { error: (err as Error).message });
    try {
      rmSync(tmp, { force: true });
    } catch {
      /* the directory itself is unusable: nothing was written */
    }
  }
}
