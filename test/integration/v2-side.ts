// Shared by the cgroup v2 suites (test/integration/cgroups-v2.test.ts, the fs driver in
// a pure cgroup v2 host; test/systemd/cgroups-systemd.test.ts, the systemd driver):
// the same bundle run by ocirt and, side by side, by runc, with what each one's
// cgroup holds read back from the kernel's own files.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { assertNothingLeft, OCIRT, type Sandbox } from "./harness";

export const RUNC = ["/usr/sbin/runc", "/usr/bin/runc"].find((p) => existsSync(p));
export const MiB = 1024 * 1024;

/** Why this host is not pure cgroup v2 (cgroup2 at /sys/fs/cgroup, no v1 hierarchy), or null. */
export function notPureV2(): string | null {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => {
    const [pre, post] = l.split(" - ");
    return { at: pre?.split(" ")[4], type: post?.split(" ")[0] };
  });
  if (!mounts.some((m) => m.at === "/sys/fs/cgroup" && m.type === "cgroup2")) {
    return "the host is not pure cgroup v2 (no cgroup2 at /sys/fs/cgroup): the VM lane's guests are (npm run test:vm)";
  }
  const v1 = mounts.filter((m) => m.type === "cgroup").map((m) => m.at);
  if (v1.length) return `the host mounts cgroup v1 hierarchies too (${v1.join(", ")}): the VM lane's guests are pure cgroup v2 (npm run test:vm)`;
  return null;
}

export type Runtime = "ocirt" | "runc";

export interface Made {
  rt: Runtime;
  id: string;
  pid: number;
  /** The container's cgroup directory, from /proc/<pid>/cgroup. */
  dir: string;
}

/**
 * Runs both runtimes on the suite's sandbox: ocirt with the sandbox's root, runc with
 * its own. `extra` global flags go to both (--systemd-cgroup).
 */
export class Side {
  readonly runcRoot: string;
  readonly runcIds: string[] = [];
  constructor(readonly sb: Sandbox, readonly extra: string[] = []) {
    this.runcRoot = join(sb.dir, "runc-root");
  }

  /** One runtime command; output through files (a created init inherits stdio). */
  cmd(rt: Runtime, args: string[], opts: { timeout?: number } = {}): { status: number; stdout: string; stderr: string } {
    const bin = rt === "ocirt" ? OCIRT : RUNC!;
    const root = rt === "ocirt" ? this.sb.root : this.runcRoot;
    const out = join(this.sb.dir, `side-out-${process.pid}`), err = join(this.sb.dir, `side-err-${process.pid}`);
    const fo = openSync(out, "w"), fe = openSync(err, "w");
    try {
      const r = spawnSync(bin, ["--root", root, ...this.extra, ...args], { timeout: opts.timeout ?? 60_000, stdio: ["ignore", fo, fe] });
      if (r.error) throw r.error;
      return { status: r.status ?? 128 + 9, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
    } finally {
      closeSync(fo);
      closeSync(fe);
    }
  }

  /** `create` (and `start` when asked): the container and its cgroup dir, or the failure. */
  make(rt: Runtime, bundle: string, id: string, opts: { start?: boolean } = {}): Made | { rt: Runtime; id: string; status: number; error: string } {
    (rt === "ocirt" ? this.sb.ids : this.runcIds).push(id);
    const pidFile = join(this.sb.dir, `${id}.pid`);
    const c = this.cmd(rt, ["create", "--pid-file", pidFile, "-b", bundle, id]);
    if (c.status !== 0) return { rt, id, status: c.status, error: lastLine(c.stderr) };
    const pid = Number(readFileSync(pidFile, "utf8"));
    const dir = cgroupDirOf(pid);
    if (opts.start) {
      const s = this.cmd(rt, ["start", id]);
      if (s.status !== 0) throw new Error(`${rt} start ${id}: ${s.stderr}`);
    }
    return { rt, id, pid, dir };
  }

  /**
   * delete -f. runc 1.1 retries rmdir only briefly: on a slow guest a cgroup whose
   * last process is still exiting can be left, which is runc's and is removed here.
   */
  delete(m: { rt: Runtime; id: string; dir?: string }): void {
    const r = this.cmd(m.rt, ["delete", "-f", m.id]);
    if (r.status !== 0) throw new Error(`${m.rt} delete -f ${m.id}: ${r.stderr}`);
    if (m.rt === "runc" && m.dir && existsSync(m.dir)) rmdirLater(m.dir);
  }

  /** runc's containers are gone, and nothing of them is left (ocirt's are the sandbox's). */
  cleanup(): void {
    if (!RUNC) return;
    for (const id of this.runcIds) this.cmd("runc", ["delete", "-f", id]);
    assertNothingLeft(this.runcRoot, this.runcIds);
  }
}

/** rmdir, retried while the cgroup's last processes exit. */
function rmdirLater(dir: string): void {
  for (let i = 0; i < 100 && existsSync(dir); i++) {
    try {
      rmdirSync(dir);
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

/** The message of a runtime's failure: ocirt's one line, or runc's logrus `msg="..."`. */
export function lastLine(stderr: string): string {
  const line = stderr.trim().split("\n").at(-1) ?? "";
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return m ? m[1]!.replace(/\\"/g, '"') : line;
}

/** The host directory of pid's cgroup v2 (its "0::" line). */
export function cgroupDirOf(pid: number): string {
  const line = /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
  if (!line) throw new Error(`no cgroup v2 line for ${pid}`);
  return join("/sys/fs/cgroup", line[1]!);
}

/** Files of a cgroup, trimmed; "<ENOENT>" and the like for those that cannot be read. */
export function knobs(dir: string, files: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of files) {
    try {
      out[f] = readFileSync(join(dir, f), "utf8").trim();
    } catch (err) {
      out[f] = `<${(err as NodeJS.ErrnoException).code}>`;
    }
  }
  return out;
}

export const knob = (dir: string, file: string): string => knobs(dir, [file])[file]!;

/** Page sizes the kernel has ("2MB", "1GB"), as the hugetlb files name them. */
export function hugePageSizes(): string[] {
  try {
    return readdirSync("/sys/kernel/mm/hugepages").map((d) => {
      const kb = Number(/^hugepages-(\d+)kB$/.exec(d)?.[1] ?? 0);
      return kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`;
    });
  } catch {
    return [];
  }
}

// ----------------------------------------------------- devices to limit ----
const inVm = !!process.env["OCIRT_VM"];
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });

export interface BlockDev {
  name: string;
  major: number;
  minor: number;
  /** The test may switch its I/O scheduler (a null_blk device it made in the VM). */
  own: boolean;
}

/**
 * A block device for io.max and per-device weights: in the VM lane's guests a
 * null_blk device the test makes (and may give the BFQ scheduler); elsewhere the
 * first whole disk the host has, only limited inside the container's cgroup.
 */
export function blockDevice(): BlockDev | string {
  if (inVm && !existsSync("/sys/block/nullb0")) sh("modprobe", ["null_blk", "nr_devices=1"]);
  if (inVm && existsSync("/dev/nullb0")) {
    const rdev = statSync("/dev/nullb0").rdev;
    return { name: "nullb0", major: Math.floor(rdev / 256), minor: rdev % 256, own: true };
  }
  for (const name of existsSync("/sys/block") ? readdirSync("/sys/block") : []) {
    if (/^(loop|ram|zram)/.test(name)) continue;
    const [major, minor] = readFileSync(`/sys/block/${name}/dev`, "utf8").trim().split(":").map(Number);
    return { name, major: major!, minor: minor!, own: false };
  }
  return "no block device on this host (the VM lane makes one with null_blk)";
}

/** Gives the test's own device the BFQ scheduler (io.bfq.weight per device); false where it cannot. */
export function useBfq(d: BlockDev): boolean {
  if (!d.own) return /\[bfq\]/.test(readFileSync(`/sys/block/${d.name}/queue/scheduler`, "utf8"));
  sh("modprobe", ["bfq"]);
  try {
    spawnSync("sh", ["-c", `echo bfq > /sys/block/${d.name}/queue/scheduler`]);
    return /\[bfq\]/.test(readFileSync(`/sys/block/${d.name}/queue/scheduler`, "utf8"));
  } catch {
    return false;
  }
}

export function noBfq(d: BlockDev): void {
  if (d.own) spawnSync("sh", ["-c", `echo none > /sys/block/${d.name}/queue/scheduler`]);
}

/**
 * An RDMA device for rdma.max: one the host has, or in the VM lane's guests a soft-RoCE
 * device (rdma_rxe) on a veth pair the test makes (left to the throwaway guest: see below).
 */
export function rdmaDevice(): { name: string; remove(): void } | string {
  const have = existsSync("/sys/class/infiniband") ? readdirSync("/sys/class/infiniband") : [];
  if (have.length) return { name: have[0]!, remove: () => {} };
  if (!inVm) return "no RDMA device on this host (the VM lane makes a soft-RoCE one)";
  if (!["/usr/bin/rdma", "/sbin/rdma", "/usr/sbin/rdma", "/bin/rdma"].some((p) => existsSync(p))) return "no rdma tool (iproute2) to make a soft-RoCE device";
  sh("modprobe", ["rdma_rxe"]);
  const name = `ocirxe${process.pid % 1000}`;
  const veth = `ocirv${process.pid % 1000}`;
  sh("ip", ["link", "add", veth, "type", "veth", "peer", "name", `${veth}p`]);
  sh("ip", ["link", "set", veth, "up"]);
  const r = sh("rdma", ["link", "add", name, "type", "rxe", "netdev", veth]);
  const removeNow = () => {
    sh("rdma", ["link", "delete", name]);
    sh("ip", ["link", "delete", veth]);
  };
  if (r.status !== 0 || !existsSync(`/sys/class/infiniband/${name}`)) {
    removeNow();
    return `no soft-RoCE device: rdma link add: ${(r.stderr || r.stdout).trim()}`;
  }
  // left in place: the guest is thrown away after the run, and deleting a soft-RoCE device
  // the rdma controller has charged panics Debian's 6.12 kernel now and then ("kernel BUG at
  // lib/list_debug.c:62" in rdmacg_unregister_device, seen in the VM lane)
  return { name, remove: () => {} };
}

/** `systemctl show UNIT -p ...` as a record. */
export function show(unit: string, props: string[]): Record<string, string> {
  const r = spawnSync("systemctl", ["show", unit, "-p", props.join(",")], { encoding: "utf8" });
  const out: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Why systemd cannot manage cgroups here (not PID 1, or silent on the system bus), or null. */
export function systemdMissing(): string | null {
  if (!existsSync("/run/systemd/system")) return "systemd is not running on this host (the VM lane's systemd guest runs it: npm run test:vm -- --systemd)";
  const comm = readFileSync("/proc/1/comm", "utf8").trim();
  if (comm !== "systemd") return `PID 1 is ${comm}, not systemd`;
  const ping = sh("busctl", ["--system", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.DBus.Peer", "Ping"]);
  if (ping.status !== 0) return `systemd does not answer on the system bus (${String(ping.stderr ?? ping.error).trim()})`;
  return null;
}
