// The phase profile: with OCIRT_PROFILE=1 in the environment (or --debug), a command
// prints on stderr, when it exits, each phase it went through with its milliseconds.
// Phases are laps: phase(name) closes the stretch since the previous phase() under
// that name, so the phases add up to the command's whole life. The first two come
// from the bundle's first line (bin/ocirt.js's under Node): "engine start" (the engine's own start, up to that
// line) and "module load" (reading and evaluating the bundle).
// Off, a call costs one comparison (and whatever its argument costs to build).
import { writeSync } from "node:fs";

interface Launch {
  /** process.uptime() in ms at the bundle's (or bin/ocirt.js's) first line: the engine's own start */
  engineMs: number;
  /** process.hrtime.bigint() at that moment */
  t0: bigint;
  /** CPU ms the process had used by then */
  cpuMs: number;
}

let on = false;
let last = 0n;
let lastCpu = 0;
let command = "";
/** [phase, wall ms, CPU ms (user + system, all threads)] */
const laps: [string, number, number][] = [];

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function launch(): Launch | undefined {
  return (globalThis as { __ocirtLaunch?: Launch }).__ocirtLaunch;
}

/** Whether the environment asks for the profile (checked once per start). */
export function profileRequested(argv: readonly string[] = []): boolean {
  const v = process.env["OCIRT_PROFILE"];
  return (v !== undefined && v !== "" && v !== "0") || argv.includes("--debug") || argv.includes("-debug");
}

/** Starts recording (idempotent); `module load` ends here. */
export function startProfile(): void {
  if (on) return;
  on = true;
  const l = launch();
  const now = process.hrtime.bigint();
  const cpu = cpuMs();
  if (l) {
    laps.push(["engine start", l.engineMs, l.cpuMs]);
    laps.push(["module load", Number(now - l.t0) / 1e6, cpu - l.cpuMs]);
  } else {
    laps.push(["engine start + module load", process.uptime() * 1000, cpu]);
  }
  last = now;
  lastCpu = cpu;
  process.once("exit", reportProfile);
}

export function profiling(): boolean {
  return on;
}

/** Names the command in the report. */
export function profileCommand(name: string): void {
  command = name;
}

/** Ends the current phase as `name`. */
export function phase(name: string): void {
  if (!on) return;
  const now = process.hrtime.bigint();
  const cpu = cpuMs();
  laps.push([name, Number(now - last) / 1e6, cpu - lastCpu]);
  last = now;
  lastCpu = cpu;
}

/** The phases so far (for tests and for callers that report them otherwise). */
export function phases(): readonly [string, number, number][] {
  return laps;
}

/**
 * The report: "ocirt profile: <command> (<engine> <version>)", then one line per
 * phase "  <name>  <wall> ms  cpu <cpu> ms", then the same for "total". bench/
 * parses these lines. CPU time is the whole process's (every thread), so it can
 * exceed the wall time; it moves far less with the machine's load.
 */
export function formatProfile(cmd: string, engine: string, list: readonly [string, number, number][]): string {
  const width = Math.max(5, ...list.map(([n]) => n.length));
  const total = list.reduce((a, [, ms]) => a + ms, 0);
  const totalCpu = list.reduce((a, [, , c]) => a + c, 0);
  const row = (n: string, ms: number, cpu: number) => `  ${n.padEnd(width)}  ${ms.toFixed(2).padStart(8)} ms  cpu ${cpu.toFixed(2).padStart(7)} ms\n`;
  return `ocirt profile: ${cmd || "?"} (${engine})\n${list.map(([n, ms, c]) => row(n, ms, c)).join("")}${row("total", total, totalCpu)}`;
}

function reportProfile(): void {
  phase("exit");
  const bun = (process.versions as Record<string, string | undefined>)["bun"];
  const text = formatProfile(command, bun ? `bun ${bun}` : `node ${process.version}`, laps);
  try {
    writeSync(2, text);
  } catch { /* stderr closed: nobody to tell */ }
}
