// Timed child processes. stdio goes to files, never pipes: a created container's
// init inherits stdio and would hold a pipe (and spawnSync) open while it lives.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Timed {
  status: number;
  ms: number;
  /** CPU time (user + system) of the child and the descendants it reaped; 1/CLK_TCK resolution. */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

export class BenchError extends Error {
  override name = "BenchError";
}

/**
 * The environment every measured command gets, the same for both runtimes:
 * the caller's, minus what npx/tsx add and NODE_EXTRA_CA_CERTS (Node reads that
 * CA bundle at every start; ocirt's shebang drops it anyway, node -e 0 would not).
 */
export function cleanEnv(from: NodeJS.ProcessEnv = process.env): { env: NodeJS.ProcessEnv; dropped: string[] } {
  const env: NodeJS.ProcessEnv = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(from)) {
    if (k === "NODE_EXTRA_CA_CERTS" || k === "NODE_OPTIONS" || k === "NODE" || k.startsWith("npm_")) dropped.push(k);
    else env[k] = v;
  }
  return { env, dropped };
}

export class Runner {
  private readonly out: string;
  private readonly err: string;
  constructor(
    scratch: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.out = join(scratch, "stdout");
    this.err = join(scratch, "stderr");
  }

  /** Runs argv to completion; the time covers fork to reaping, nothing else. */
  run(argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Timed {
    const fo = openSync(this.out, "w");
    const fe = openSync(this.err, "w");
    let ms: number;
    let status: number;
    let cpuMs: number;
    try {
      const c0 = reapedCpuTicks();
      const t0 = process.hrtime.bigint();
      const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", fo, fe], env: opts.env ?? this.env, cwd: opts.cwd, timeout: 60_000 });
      const t1 = process.hrtime.bigint();
      cpuMs = ((reapedCpuTicks() - c0) * 1000) / CLK_TCK;
      if (r.error) throw new BenchError(`${argv.join(" ")}: ${r.error.message}`);
      ms = Number(t1 - t0) / 1e6;
      status = r.status ?? 128 + 9;
    } finally {
      closeSync(fo);
      closeSync(fe);
    }
    return { status, ms, cpuMs, stdout: readFileSync(this.out, "utf8"), stderr: readFileSync(this.err, "utf8") };
  }

  /** run() that must exit 0. */
  ok(argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Timed {
    const r = this.run(argv, opts);
    if (r.status !== 0) throw new BenchError(`${argv.join(" ")} exited ${r.status}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    return r;
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * cutime + cstime of this process: CPU used by the children it has waited for
 * (and what they reaped). One reading is coarse (clock ticks) but the kernel keeps
 * the sum exactly, so a mean over many runs is precise. A created container's init
 * is not our child's child once create exits, so it is never counted.
 */
function reapedCpuTicks(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[13]) + Number(f[14]);
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps without spinning: on a 2-CPU machine a busy poll would steal the container's CPU. */
export function sleepMs(ms: number): void {
  Atomics.wait(SLEEPER, 0, 0, ms);
}

/** Whether pid is gone or a zombie (exited; whoever reaps it has not yet). */
export function exited(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return true;
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state === "Z" || state === "X";
}

/** Waits (polling every 0.2 ms) until pid has exited; returns the time it took. */
export function waitExit(pid: number, timeoutMs = 30_000): number {
  const t0 = process.hrtime.bigint();
  const limit = t0 + BigInt(timeoutMs) * 1_000_000n;
  while (!exited(pid)) {
    if (process.hrtime.bigint() > limit) throw new BenchError(`pid ${pid} still running after ${timeoutMs} ms`);
    sleepMs(0.2);
  }
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
