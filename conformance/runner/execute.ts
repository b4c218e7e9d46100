// Runs one validation executable with a time limit and captures its output.
import { spawn } from "node:child_process";
import type { ProcessOutcome } from "./verdict";

export interface Execution extends ProcessOutcome {
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ExecuteOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Grace between SIGTERM and SIGKILL once the time limit is hit. */
  killGraceMs?: number;
  /** Ends the file's whole process group early (the runner was interrupted). */
  signal?: AbortSignal;
}

/** Output beyond this is dropped: a runaway file must not exhaust the runner's memory. */
const MAX_CAPTURE = 32 * 1024 * 1024;

export function execute(file: string, args: readonly string[], opts: ExecuteOptions): Promise<Execution> {
  const started = Date.now();
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    let spawnError: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    // Own process group, so that a timeout also reaches whatever the file
    // started (the runtime, hooks, sleep helpers) and not the runner.
    const child = spawn(file, [...args], { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout.on("data", (b: Buffer) => {
      if (outLen < MAX_CAPTURE) out.push(b);
      outLen += b.length;
    });
    child.stderr.on("data", (b: Buffer) => {
      if (errLen < MAX_CAPTURE) err.push(b);
      errLen += b.length;
    });

    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // group already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup("SIGTERM");
      killTimer = setTimeout(() => signalGroup("SIGKILL"), opts.killGraceMs ?? 5000);
    }, opts.timeoutMs);

    const onAbort = () => signalGroup("SIGKILL");
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (e) => {
      spawnError = e.message;
      if (child.pid === undefined) setImmediate(() => finish(null, null));
    });
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (drainTimer) clearTimeout(drainTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        exitCode: code,
        signal,
        timedOut,
        durationMs: Date.now() - started,
        ...(spawnError !== undefined ? { spawnError } : {}),
      });
    };
    child.on("close", finish);
    // A daemonised grandchild that inherited the pipes would hold "close" back
    // until it dies; the file's own exit is what counts.
    child.on("exit", (code, signal) => {
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, signal);
      }, 3000);
    });
  });
}
