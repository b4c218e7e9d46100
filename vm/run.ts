// Boots one throwaway VM, runs one command in it and returns its exit status
// (124 timeout, 125 the VM stopped first). The command's stdout and stderr are
// streamed as they grow in the run's ctl directory (a 9p share, cache=none).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  checkGuestCwd, commandScript, decideOutcome, effectiveMasks, guestEnvFile, qemuArgs, type Outcome, type RunFacts, type VmOptions,
} from "./plan";
import { ensureHostPackages, ensureInitrd, resolveKernel, VM_DIR, VmSetupError } from "./setup";

export interface Timings {
  /** host seconds from QEMU's start to the rc file (or the end) */
  wall: number;
  /** guest uptime (s): stage-1 init ran, switch_root, command started, command ended */
  init?: number;
  switchRoot?: number;
  start?: number;
  end?: number;
  /** systemd mode: what `systemctl is-system-running --wait` said */
  systemState?: string;
}

export interface RunResult extends Outcome {
  timings: Timings;
  kernelVersion: string;
}

export interface Sinks {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

const toFd = (fd: number) => (b: Buffer) => {
  for (let off = 0; off < b.length;) {
    try {
      off += writeSync(fd, b, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
  }
};
export const STDIO: Sinks = { stdout: toFd(1), stderr: toFd(2) };

/** Follows a file that another process appends to. */
class Tail {
  private off = 0;
  constructor(private readonly path: string, private readonly sink: (b: Buffer) => void) {}
  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch { return; }
    try {
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.off);
        if (n <= 0) break;
        this.off += n;
        this.sink(Buffer.from(buf.subarray(0, n)));
      }
    } finally {
      closeSync(fd);
    }
  }
}

function readOpt(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function num(path: string): number | undefined {
  const t = readOpt(path)?.trim();
  return t && /^[\d.]+$/.test(t) ? Number(t) : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runVm(o: VmOptions, sinks: Sinks = STDIO): Promise<RunResult> {
  ensureHostPackages(o.mode, o.scratch);
  const cwd = o.cwd ?? process.cwd();
  checkGuestCwd(cwd);
  const k = resolveKernel(o.kernel);
  const initrd = ensureInitrd(k.dir, k.kver, o.scratch);

  mkdirSync(join(VM_DIR, "run"), { recursive: true });
  const runDir = mkdtempSync(join(VM_DIR, "run", "vm-"));
  const ctl = join(runDir, "ctl");
  mkdirSync(ctl);
  writeFileSync(join(ctl, "env"), guestEnvFile({
    mode: o.mode,
    kernelDir: k.dir,
    cwd,
    scratch: o.scratch,
    scratchSize: o.scratchSize,
    shares: o.shares,
    masks: o.mode === "systemd" ? effectiveMasks(o.mask, o.unmask) : [],
    keepUnits: o.keepUnits,
    machineId: randomBytes(16).toString("hex"),
  }));
  copyFileSync(join(__dirname, "guest", "runner.sh"), join(ctl, "runner"));
  writeFileSync(join(ctl, "cmd"), commandScript(o.command, o.env));
  // the guest creates these: empty now, so the tails open them from the start
  for (const f of ["stdout", "stderr"]) writeFileSync(join(ctl, f), "");
  const consoleLog = join(runDir, "console.log");
  let scratchImage: string | undefined;
  if (o.scratch === "ext4") {
    scratchImage = join(runDir, "scratch.img");
    closeSync(openSync(scratchImage, "w"));
    spawnSync("truncate", ["-s", `${o.scratchSize}M`, scratchImage]);
    const mk = spawnSync("/sbin/mkfs.ext4", ["-q", "-F", "-m", "0", "-O", "^has_journal", "-E", "lazy_itable_init=1,nodiscard", scratchImage], { encoding: "utf8" });
    if (mk.status !== 0) throw new VmSetupError(`mkfs.ext4 ${scratchImage}: ${mk.stderr}`);
  }

  const args = qemuArgs(o, { vmlinuz: k.vmlinuz, initrd, console: consoleLog, ctl, ...(scratchImage ? { scratchImage } : {}) });
  // the run dir goes on any exit of the lane (also a crash), unless --keep
  const onExit = () => {
    if (!o.keep) rmSync(runDir, { recursive: true, force: true });
  };
  process.on("exit", onExit);
  const { outcome, wall, rcText } = await supervise({
    qemu: "qemu-system-x86_64", args, runDir, ctl, consoleLog, timeout: o.timeout, console: o.console,
  }, sinks);
  const timings: Timings = {
    wall,
    init: num(join(ctl, "t_init")),
    switchRoot: num(join(ctl, "t_switch")),
    start: num(join(ctl, "t_start")),
    end: num(join(ctl, "t_end")),
    systemState: readOpt(join(ctl, "sysstate"))?.trim(),
  };
  const failedUnits = readOpt(join(ctl, "failed"))?.trim();
  if (failedUnits) sinks.stderr(Buffer.from(`vm: guest system state '${timings.systemState}', failed units:\n${failedUnits.replace(/^/gm, "  ")}\n`));
  if (outcome.problem) {
    const lines = [`vm: ${outcome.problem}`];
    if (rcText === null) {
      const con = (readOpt(consoleLog) ?? "").trimEnd().split("\n").slice(-30);
      lines.push("vm: last console lines:", ...con.map((l) => `  | ${l}`));
      const q = (readOpt(join(runDir, "qemu.log")) ?? "").trim();
      if (q) lines.push(...q.split("\n").map((l) => `  qemu: ${l}`));
    }
    sinks.stderr(Buffer.from(lines.join("\n") + "\n"));
  }
  if (o.time) sinks.stderr(Buffer.from(formatTimings(o.mode, k.kver, timings) + "\n"));
  if (o.keep) sinks.stderr(Buffer.from(`vm: run directory kept: ${runDir}\n`));
  else rmSync(runDir, { recursive: true, force: true });
  process.off("exit", onExit);
  return { ...outcome, timings, kernelVersion: k.kver };
}

export function formatTimings(mode: string, kver: string, t: Timings): string {
  const f = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(2)}s`);
  const parts = [`vm: ${mode} guest, kernel ${kver}: wall ${f(t.wall)}`, `init@${f(t.init)}`, `switch_root@${f(t.switchRoot)}`, `command@${f(t.start)}`, `end@${f(t.end)}`];
  if (t.start !== undefined && t.end !== undefined) parts.push(`command took ${f(t.end - t.start)}`);
  if (t.systemState) parts.push(`system ${t.systemState}`);
  return parts.join(" ") + " (@ = guest uptime)";
}

export interface SuperviseParams {
  qemu: string;
  args: string[];
  runDir: string;
  ctl: string;
  consoleLog: string;
  timeout: number;
  console: boolean;
}

/**
 * Starts QEMU and follows the run: streams the command's stdout/stderr from the
 * ctl directory, stops at the exit status (rc), at the timeout, when QEMU ends
 * by itself, or on SIGINT/SIGTERM/SIGHUP of the lane; QEMU is then killed by its pid.
 */
export async function supervise(p: SuperviseParams, sinks: Sinks): Promise<{ outcome: Outcome; wall: number; rcText: string | null }> {
  const { ctl, consoleLog, runDir } = p;
  const qemuLog = openSync(join(runDir, "qemu.log"), "w");
  const t0 = process.hrtime.bigint();
  const qemu = spawn(p.qemu, p.args, { stdio: ["ignore", qemuLog, qemuLog] });
  closeSync(qemuLog);
  let qemuExit: RunFacts["qemuExit"] = null;
  const exited = new Promise<void>((resolve) => {
    qemu.on("exit", (code, signal) => {
      qemuExit = { code, signal };
      resolve();
    });
    qemu.on("error", (e) => {
      qemuExit = { code: 127, signal: null };
      sinks.stderr(Buffer.from(`vm: cannot start ${p.qemu}: ${e.message}\n`));
      resolve();
    });
  });
  const killQemu = () => {
    if (qemuExit === null && qemu.pid) {
      try {
        process.kill(qemu.pid, "SIGKILL");
      } catch { /* gone */ }
    }
  };
  // Ctrl-C / SIGTERM / exit of the lane: QEMU goes with it (killed by its pid)
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    interrupted = s;
    killQemu();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("exit", killQemu);

  const tails = [new Tail(join(ctl, "stdout"), sinks.stdout), new Tail(join(ctl, "stderr"), sinks.stderr)];
  if (p.console) tails.push(new Tail(consoleLog, sinks.stderr));
  const deadline = Date.now() + p.timeout * 1000;
  let timedOut = false;
  let rcText: string | null = null;
  try {
    while (qemuExit === null && interrupted === null) {
      for (const t of tails) t.poll();
      rcText = readOpt(join(ctl, "rc")) ?? null;
      if (rcText !== null) break;
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      await sleep(100);
    }
    killQemu();
    await exited;
    for (const t of tails) t.poll();
    rcText ??= readOpt(join(ctl, "rc")) ?? null;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    process.off("exit", killQemu);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;

  const initError = readOpt(join(ctl, "init-error"));
  const outcome = decideOutcome({ rcText, timedOut, qemuExit: rcText !== null || timedOut ? null : qemuExit, ...(initError ? { initError } : {}) }, p.timeout);
  if (interrupted) {
    outcome.status = 128 + (interrupted === "SIGINT" ? 2 : interrupted === "SIGHUP" ? 1 : 15);
    outcome.problem = `interrupted by ${interrupted}`;
  }
  return { outcome, wall, rcText };
}
