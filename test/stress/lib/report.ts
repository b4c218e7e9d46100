// How a standing check reports: its counts, each failure with what reproduces it,
// and failures with a known cause (being fixed elsewhere) marked as such. The last
// line is "check <name>: ok ..." or "check <name>: FAILED ..."; the exit status
// says the same (scripts/test.mjs counts the check as one test).

/** Failures whose cause is known and whose fix is in progress elsewhere. */
export const KNOWN: readonly { key: string; match: RegExp; why: string }[] = [
  {
    key: "helper-argv-env-64",
    match: /plan op \d+ is malformed/,
    why: "the init helper decodes at most 64 blobs per op (addon/init/init.h: blob[64]), so argv+env above 64 entries fail; fix in progress in the C helper",
  },
  {
    key: "hook-state-8k",
    match: /state too large/,
    why: "the init helper builds a createContainer/startContainer hook's state in an 8 KB buffer (addon/init/ops.c: op_run_hook); fix in progress in the C helper",
  },
  {
    key: "sigterm-created-init",
    match: /SIGTERM .*ignored|ignored SIGTERM/,
    why: "a created container's init ignores SIGTERM while it waits on exec.fifo; fix in progress in the C helper",
  },
];

export interface Failure {
  /** A short class: "internal-error", "leak", "exit", ... */
  kind: string;
  what: string;
  /** How to reproduce it (a command line, a file). */
  repro?: string | undefined;
  known?: string | undefined;
}

export class Report {
  readonly failures: Failure[] = [];
  readonly counts = new Map<string, number>();
  private readonly t0 = Date.now();

  constructor(readonly name: string) {}

  count(key: string, by = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  fail(kind: string, what: string, repro?: string): Failure {
    const known = KNOWN.find((k) => k.match.test(what))?.key;
    const f: Failure = { kind, what: what.length > 2000 ? `${what.slice(0, 2000)}... (${what.length} chars)` : what, repro, known };
    this.failures.push(f);
    const tag = known ? `known:${known}` : kind;
    console.log(`FAIL [${tag}] ${f.what.split("\n").join("\n    ")}${repro ? `\n    reproduce: ${repro.split("\n").join("\n    ")}` : ""}`);
    return f;
  }

  seconds(): number {
    return (Date.now() - this.t0) / 1000;
  }

  /** Prints the counts, the failures by kind and known cause, and the closing line; returns the exit status. */
  finish(lines: string[]): number {
    console.log(`\n== ${this.name}: results`);
    for (const l of lines) console.log(`  ${l}`);
    const known = this.failures.filter((f) => f.known);
    const fresh = this.failures.filter((f) => !f.known);
    const byKind = new Map<string, number>();
    for (const f of fresh) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
    console.log(`  failures: ${this.failures.length} (${known.length} with a known cause, ${fresh.length} other)`);
    for (const [k, n] of byKind) console.log(`    ${k}: ${n}`);
    for (const k of KNOWN) {
      const n = known.filter((f) => f.known === k.key).length;
      if (n) console.log(`    known ${k.key}: ${n} — ${k.why}`);
    }
    const cpu = cpuSeconds();
    console.log(`  time: ${this.seconds().toFixed(1)} s; CPU: ${cpu.own.toFixed(1)} s this process, ${cpu.children.toFixed(1)} s ocirt and the containers (load average ${require("node:os").loadavg()[0].toFixed(1)} on ${require("node:os").cpus().length} CPUs)`);
    const ok = this.failures.length === 0;
    console.log(`check ${this.name}: ${ok ? "ok" : `FAILED (${this.failures.length} failure${this.failures.length === 1 ? "" : "s"}: ${known.length} known, ${fresh.length} other)`}`);
    return ok ? 0 : 1;
  }
}

/** --name VALUE / --name=VALUE from argv, else the environment variable, else the default. */
export function option(name: string, env: string | undefined, dflt: string): string {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}` && i + 1 < argv.length) return argv[i + 1]!;
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  if (env !== undefined && process.env[env] !== undefined && process.env[env] !== "") return process.env[env]!;
  return dflt;
}

/** OCIRT_STRESS_SCALE (or --scale): multiplies every count of the checks (default 1). */
export function scale(): number {
  const s = Number(option("scale", "OCIRT_STRESS_SCALE", "1"));
  if (!Number.isFinite(s) || s <= 0) throw new Error(`OCIRT_STRESS_SCALE / --scale must be a positive number (got ${s})`);
  return s;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** CPU seconds (user + system) of this process and of the children it (or its subreaper role) reaped. */
export function cpuSeconds(): { own: number; children: number } {
  const stat = require("node:fs").readFileSync("/proc/self/stat", "utf8") as string;
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  // fields 14-17 (utime, stime, cutime, cstime) are f[11..14] here; clock ticks of 1/100 s
  const tick = 100;
  return { own: (f[11]! + f[12]!) / tick, children: (f[13]! + f[14]!) / tick };
}
