// Running bin/ocirt from the stress checks: asynchronously (several at once, or
// killed at a chosen moment), stdio to files (a created container's init inherits
// them and would hold a pipe open), a clean environment, a timeout, and the pids
// of everything spawned (so the leak walk can tell them from leftovers).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cleanEnv } from "../../../bench/exec";

export const REPO = join(__dirname, "..", "..", "..");
export const OCIRT = join(REPO, "bin", "ocirt");

export interface Result {
  /** Exit status, or 128+N when killed by signal N (a timeout is a SIGKILL). */
  status: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  started: bigint;
  done: Promise<Result>;
}

/** Pids this process spawned and has not seen exit: never a leftover, never ours to reap. */
export const spawnedPids = new Set<number>();

let seq = 0;

export class OcirtRunner {
  readonly env: NodeJS.ProcessEnv;

  /**
   * @param root   the --root every command gets
   * @param scratch where stdout/stderr files go
   * @param mark   put in the environment: hooks that inherit it can be found by it
   */
  constructor(readonly root: string, readonly scratch: string, mark: string) {
    this.env = { ...cleanEnv().env, OCIRT_STRESS_MARK: mark };
  }

  /** Starts `ocirt --root ROOT ...args`; `done` settles when it has exited. */
  start(args: readonly string[], opts: { timeoutMs?: number; cwd?: string; program?: string; noRoot?: boolean } = {}): Running {
    const n = ++seq;
    const out = join(this.scratch, `out-${process.pid}-${n}`);
    const err = join(this.scratch, `err-${process.pid}-${n}`);
    const fo = openSync(out, "w");
    const fe = openSync(err, "w");
    const argv = opts.noRoot ? [...args] : ["--root", this.root, ...args];
    const started = process.hrtime.bigint();
    let child: ChildProcess;
    try {
      child = spawn(opts.program ?? OCIRT, argv, { stdio: ["ignore", fo, fe], env: this.env, cwd: opts.cwd });
    } finally {
      closeSync(fo);
      closeSync(fe);
    }
    const pid = child.pid ?? -1;
    spawnedPids.add(pid);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 60_000);
    const done = new Promise<Result>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        spawnedPids.delete(pid);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const read = (f: string) => {
          try {
            return readFileSync(f, "utf8");
          } catch {
            return "";
          } finally {
            rmSync(f, { force: true });
          }
        };
        const sigNum = signal ? (require("node:os").constants.signals[signal] as number) : 0;
        resolve({ status: code ?? 128 + sigNum, signal, stdout: read(out), stderr: read(err), ms, timedOut });
      };
      child.once("error", () => finish(127, null));
      child.once("exit", finish);
    });
    return { child, pid, started, done };
  }

  run(args: readonly string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<Result> {
    return this.start(args, opts).done;
  }
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

/** What never may appear in ocirt's output: an internal error or a JavaScript stack. */
export function internalError(text: string): string | null {
  if (/internal error/i.test(text)) return "internal error";
  const m = /^ {4}at .*$/m.exec(text);
  if (m) return `a stack trace (${m[0].trim()})`;
  if (/^(TypeError|RangeError|ReferenceError|SyntaxError|Error):/m.test(text)) return "an uncaught JavaScript error";
  return null;
}

/**
 * The contract of a rejection: exit 1 and exactly one line on stderr, no stack.
 * Returns what is wrong, or null.
 */
export function badRejection(r: Result): string | null {
  const ie = internalError(r.stderr) ?? internalError(r.stdout);
  if (ie) return `${ie} in the output`;
  if (r.timedOut) return `did not finish within its timeout`;
  if (r.status === 0) return null;
  if (r.status !== 1) return `exit status ${r.status}${r.signal ? ` (${r.signal})` : ""}, not 1`;
  const n = errorLines(r.stderr).length;
  if (n !== 1) return `${n} lines on stderr (besides warnings), not 1`;
  return null;
}

/** A warning as ocirt (and runc) logs it to stderr: `time="..." level=warning msg="..."`. */
export function isWarning(line: string): boolean {
  return /^time="[^"]*" level=warning msg=/.test(line);
}

/** The lines of stderr that are not warnings. */
export function errorLines(stderr: string): string[] {
  return lines(stderr).filter((l) => !isWarning(l));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
