// One runtime under test: its binary, its own --root and scratch dir, and how a
// command is run (stdio through files, as engines hand a runtime files or pipes the
// container keeps: a created container's init holds them open after the runtime exits).

import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface ExecOptions {
  /** Text for stdin (default /dev/null). */
  stdin?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Global flags before the command (default: --root ROOT). */
  noRoot?: boolean;
  /** Keep these output files (a container writes into them after the command returns). */
  stdoutFile?: string;
  stderrFile?: string;
}

let seq = 0;

export class Runtime {
  constructor(
    readonly name: "runc" | "ocirt",
    readonly bin: string,
    /** --root of this run */
    readonly root: string,
    /** scratch dir of this runtime: bundles, outputs, sockets */
    readonly work: string,
  ) {
    mkdirSync(root, { recursive: true });
    mkdirSync(join(work, "io"), { recursive: true });
  }

  /** Runs `bin [--root R] args...`; never throws for a non-zero exit. */
  exec(args: string[], opts: ExecOptions = {}): Promise<RunResult> {
    const n = ++seq;
    const out = opts.stdoutFile ?? join(this.work, "io", `${n}.out`);
    const err = opts.stderrFile ?? join(this.work, "io", `${n}.err`);
    let inPath = "/dev/null";
    if (opts.stdin !== undefined) {
      inPath = join(this.work, "io", `${n}.in`);
      writeFileSync(inPath, opts.stdin);
    }
    const fi = openSync(inPath, "r"), fo = openSync(out, "a"), fe = openSync(err, "a");
    const argv = opts.noRoot ? args : ["--root", this.root, ...args];
    const t0 = Date.now();
    return new Promise((resolve) => {
      const child = spawn(this.bin, argv, { stdio: [fi, fo, fe], cwd: opts.cwd, env: opts.env ?? process.env });
      closeSync(fi);
      closeSync(fo);
      closeSync(fe);
      const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
      const done = (status: number) => {
        clearTimeout(timer);
        const read = (p: string) => {
          try {
            return readFileSync(p, "utf8");
          } catch {
            return "";
          }
        };
        const r = { status, stdout: read(out), stderr: read(err), ms: Date.now() - t0 };
        if (!opts.stdoutFile) rmSync(out, { force: true });
        if (!opts.stderrFile) rmSync(err, { force: true });
        if (opts.stdin !== undefined) rmSync(inPath, { force: true });
        resolve(r);
      };
      child.on("error", () => done(-1));
      child.on("exit", (code, sig) => done(code ?? (sig ? 128 + (osSignal(sig) ?? 0) : -1)));
    });
  }
}

function osSignal(sig: NodeJS.Signals): number | undefined {
  return (require("node:os").constants.signals as Record<string, number>)[sig];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a process exists and is not a zombie. */
export function alive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = st.slice(st.lastIndexOf(")") + 2, st.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Waits until pid is gone; false on timeout. */
export async function waitGone(pid: number, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(5);
  }
  return !alive(pid);
}

export async function waitFor(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(5);
  }
  return cond();
}

/** Runs tasks with at most n at once, in order of the list. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
}
