// Shared by the integration suites: bundles on the probe rootfs, running the
// real bin/ocirt, and the "nothing left behind" assertion every test ends with.
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { closeSync, openSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureProbeRootfs, ensureBusyboxRootfs } from "../../conformance/rootfs";
import { findCgroupDirs } from "../../conformance/cgroup-dirs";
import { defaultSpec } from "../../src/spec/default";
import { parseProbeReport, type ProbeReport } from "../../conformance/probe/report";
import type { OciConfig } from "../../src/spec/types";

export const REPO = join(__dirname, "..", "..");
export const OCIRT = join(REPO, "bin", "ocirt");
export const isRoot = process.getuid?.() === 0;

let counter = 0;
/** Ids unique to this process and call, prefixed so leftovers are easy to find. */
export function uniqueId(tag = "c"): string {
  return `ocitest-${process.pid}-${tag}-${++counter}`;
}

export interface Sandbox {
  root: string; // --root of this test
  dir: string; // scratch space (bundles)
  ids: string[];
  ocirt(args: string[], opts?: SpawnSyncOptions): { status: number; stdout: string; stderr: string };
  bundle(patch?: (c: OciConfig) => void, opts?: { busybox?: boolean }): string;
  /** Runs `probe report` (args appended) in a fresh container and returns what it saw. */
  report(patch?: (c: OciConfig) => void, opts?: { env?: string[] }): ProbeReport;
  cleanup(): void;
}

export function sandbox(name: string): Sandbox {
  const dir = mkdtempSync(`/tmp/ocitest-${name}-`);
  const root = join(dir, "state");
  const ids: string[] = [];
  const sb: Sandbox = {
    root,
    dir,
    ids,
    ocirt(args, opts = {}) {
      // files, not pipes: a created container's init inherits stdio and would keep
      // a pipe open (and spawnSync waiting) for as long as it lives
      const out = join(dir, `out-${process.pid}`), err = join(dir, `err-${process.pid}`);
      const fo = openSync(out, "w"), fe = openSync(err, "w");
      try {
        const r = spawnSync(OCIRT, ["--root", root, ...args], { timeout: 60_000, stdio: ["ignore", fo, fe], ...opts });
        if (r.error) throw r.error;
        return { status: r.status ?? 128 + 9, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
      } finally {
        closeSync(fo);
        closeSync(fe);
      }
    },
    bundle(patch, opts = {}) {
      const b = mkdtempSync(join(dir, "bundle-"));
      const cfg = defaultSpec({ rootless: false });
      cfg.root = { path: opts.busybox ? ensureBusyboxRootfs() : ensureProbeRootfs(), readonly: true };
      cfg.process!.terminal = false;
      cfg.process!.args = ["/bin/probe", "report"];
      cfg.hostname = "ocitest";
      patch?.(cfg);
      writeFileSync(join(b, "config.json"), JSON.stringify(cfg, null, 2));
      return b;
    },
    report(patch, opts = {}) {
      const id = uniqueId("r");
      ids.push(id);
      const b = sb.bundle((c) => {
        if (opts.env) c.process!.env = [...(c.process!.env ?? []), ...opts.env];
        patch?.(c);
      });
      const r = sb.ocirt(["run", "-b", b, id]);
      if (r.status !== 0) throw new Error(`ocirt run failed (${r.status}): ${r.stderr}`);
      return parseProbeReport(r.stdout);
    },
    cleanup() {
      for (const id of ids) sb.ocirt(["delete", "-f", id]);
      assertNothingLeft(root, ids);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  mkdirSync(root, { recursive: true });
  return sb;
}

/** No state dir, mount, cgroup or process of these containers remains on the host. */
export function assertNothingLeft(root: string, ids: string[]): void {
  const problems: string[] = [];
  if (existsSync(root)) {
    const left = readdirSync(root).filter((n) => !n.startsWith("."));
    if (left.length) problems.push(`state dirs left in ${root}: ${left.join(", ")}`);
  }
  const mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  for (const id of ids) if (mountinfo.includes(id)) problems.push(`a mount mentions ${id}`);
  if (mountinfo.includes(root)) problems.push(`a mount mentions ${root}`);
  for (const dir of findCgroupDirs((n) => ids.includes(n), { depth: 5 })) problems.push(`cgroup ${dir} is left`);
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
    } catch { continue; }
    if (ids.some((id) => cmd.includes(id)) || cmd.includes(root)) problems.push(`process ${p} (${cmd.replace(/\0/g, " ")}) is left`);
  }
  if (problems.length) throw new Error(`left behind:\n  ${problems.join("\n  ")}`);
}

export function statePid(sb: Sandbox, id: string): number {
  return JSON.parse(sb.ocirt(["state", id]).stdout).pid;
}

export function waitFor(cond: () => boolean, ms = 5000): boolean {
  const end = Date.now() + ms;
  const s = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < end) {
    if (cond()) return true;
    Atomics.wait(s, 0, 0, 10);
  }
  return cond();
}
