// Helpers the container suites (process, mounts, devices, namespaces, failures)
// share on top of harness.ts.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import * as assert from "uvu/assert";
import { ensureBusyboxRootfs, ensureProbeRootfs } from "../../conformance/rootfs";
import { parseProbeReport, probeReportEnv, type ProbeFile, type ProbeMount, type ProbeReport } from "../../conformance/probe/report";
import { assertNothingLeft, OCIRT, uniqueId, type Sandbox } from "./harness";
import type { OciConfig } from "../../src/spec/types";

export { probeReportEnv };

/**
 * A private copy of the probe (or busybox) rootfs in the test's dir: for tests
 * that make the runtime create files in the rootfs (missing mount targets, cwd)
 * or plant symlinks. The shared trees under build/ are never written.
 */
export function copyRootfs(sb: Sandbox, opts: { busybox?: boolean } = {}): string {
  const src = opts.busybox ? ensureBusyboxRootfs() : ensureProbeRootfs();
  const dst = join(mkdtempSync(join(sb.dir, "rootfs-")), "rootfs");
  execFileSync("cp", ["-a", src, dst]);
  return dst;
}

/** `ocirt run` of a bundle made from patch; the probe's report (run must succeed). */
export function runReport(sb: Sandbox, patch: (c: OciConfig) => void, opts: { args?: string[]; busybox?: boolean } = {}): ProbeReport {
  const id = uniqueId("r");
  sb.ids.push(id);
  const b = sb.bundle(patch, { busybox: opts.busybox });
  const r = sb.ocirt(["run", ...(opts.args ?? []), "-b", b, id]);
  if (r.status !== 0) throw new Error(`ocirt run failed (${r.status}): ${r.stderr}`);
  return parseProbeReport(r.stdout);
}

/** `ocirt run` of a bundle; status, stdout and stderr (no expectation). */
export function run(sb: Sandbox, patch: (c: OciConfig) => void, opts: { args?: string[]; busybox?: boolean } = {}): { status: number; stdout: string; stderr: string; id: string } {
  const id = uniqueId("r");
  sb.ids.push(id);
  const b = sb.bundle(patch, { busybox: opts.busybox });
  return { ...sb.ocirt(["run", ...(opts.args ?? []), "-b", b, id]), id };
}

/**
 * `ocirt create` that must fail: exit 1, exactly one line on stderr, and
 * nothing of the container left (state dir, mount, cgroup, process).
 * Returns that line.
 */
export function createFails(sb: Sandbox, patch: (c: OciConfig) => void, opts: { args?: string[]; busybox?: boolean } = {}): string {
  const id = uniqueId("f");
  const b = sb.bundle(patch, { busybox: opts.busybox });
  const r = sb.ocirt(["create", ...(opts.args ?? []), "-b", b, id]);
  if (r.status === 0) sb.ocirt(["delete", "-f", id]); // do not leave it to fail the suite's cleanup
  assert.is(r.status, 1, `create should fail; stdout: ${r.stdout} stderr: ${r.stderr}`);
  assert.is(r.stdout, "", "nothing on stdout");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.is(lines.length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
  assert.is(sb.ocirt(["state", id]).status, 1, "no state is left");
  assertNothingLeft(sb.root, [id]);
  return lines[0]!;
}

/** readlink of /proc/self/ns/<kind> of this test process: the host's namespace. */
export function hostNs(kind: string): string | null {
  try {
    return readlinkSync(`/proc/self/ns/${kind}`);
  } catch {
    return null;
  }
}

export function mountAt(r: ProbeReport, path: string): ProbeMount | undefined {
  // the last one: a mount on top of another hides it
  return r.mounts?.filter((m) => m.mount_point === path).at(-1);
}

export function fileOf(r: ProbeReport, path: string): Exclude<ProbeFile, { error: string }> {
  const f = r.files[path];
  if (!f) throw new Error(`probe did not report ${path}`);
  if ("error" in f) throw new Error(`${path}: ${f.error}`);
  return f;
}

export function fileError(r: ProbeReport, path: string): string | undefined {
  const f = r.files[path];
  return f && "error" in f ? f.error : undefined;
}

/** Adds the probe's PROBE_* variables to the process env. */
export function probeEnv(c: OciConfig, opts: { sysctls?: string[]; files?: string[]; writable?: string[] }): void {
  c.process!.env = [...(c.process!.env ?? []), ...probeReportEnv(opts)];
}

export function commandExists(cmd: string): boolean {
  return ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(join(d, cmd)));
}

/** No mount of the host's mount table lies under dir (container mounts must stay in the container). */
export function assertNoHostMountUnder(dir: string): void {
  const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  const bad = lines.filter((l) => l.split(" ")[4]?.startsWith(dir));
  assert.equal(bad, [], `host mounts under ${dir}`);
}

/**
 * bin/ocirt with its stdout and stderr on pipes of the test's, read whole; stdin
 * the bytes given (through a pipe; empty: EOF at once) or an fd of the test's (a file).
 */
export function ocirtPiped(sb: Sandbox, args: string[], opts: { input?: Buffer | string; stdin?: number } = {}): { status: number; stdout: Buffer; stderr: Buffer; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(OCIRT, ["--root", sb.root, ...args], {
    input: opts.stdin === undefined ? (opts.input ?? "") : undefined,
    stdio: [opts.stdin ?? "pipe", "pipe", "pipe"],
    maxBuffer: 256 << 20,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? 128 + 9, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

/** "1\n2\n...n\n", as seq prints it. */
export function seqText(n: number, prefix = ""): string {
  let s = "";
  for (let i = 1; i <= n; i++) s += `${prefix}${i}\n`;
  return s;
}
