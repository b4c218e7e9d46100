// Runs in the systemd guest of the VM lane (`npm run test:vm -- --systemd`;
// scripts/test.mjs runs this folder only when asked for it by name): evidence
// that the guest is a modern host, pure cgroup v2 under systemd with D-Bus, and
// that a runtime with the systemd cgroup driver gets a transient scope there.
// runc is the reference here; ocirt's own driver is tested by ocirt-driver.test.ts.
import { hostTest } from "../skip";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { assertNothingLeft, sandbox, uniqueId, waitFor } from "../integration/harness";

const test = hostTest();
const CGROUP2_SUPER_MAGIC = 0x63677270;
const OVERLAYFS_SUPER_MAGIC = 0x794c7630;
const RUNC = ["/usr/sbin/runc", "/usr/bin/runc"].find((p) => existsSync(p));

/** Runs a command; its output through files, not pipes: a created container's init inherits them and would keep a pipe open. */
function sh(cmd: string, args: string[]) {
  const dir = mkdtempSync("/tmp/ocitest-sh-");
  const fo = openSync(join(dir, "out"), "w"), fe = openSync(join(dir, "err"), "w");
  try {
    const r = spawnSync(cmd, args, { stdio: ["ignore", fo, fe], timeout: 120_000 });
    const stdout = readFileSync(join(dir, "out"), "utf8");
    return { status: r.status ?? -1, out: `${stdout}${readFileSync(join(dir, "err"), "utf8")}`, stdout };
  } finally {
    closeSync(fo);
    closeSync(fe);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `systemctl show UNIT -p ...` as a record. */
function unitProps(unit: string, props: string[]): Record<string, string> {
  const r = sh("systemctl", ["show", unit, ...props.flatMap((p) => ["-p", p])]);
  return Object.fromEntries(r.stdout.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

test("systemd is PID 1 and the system is running (or degraded)", () => {
  assert.ok(existsSync("/run/systemd/system"), "/run/systemd/system exists (systemd booted this guest)");
  assert.is(readFileSync("/proc/1/comm", "utf8").trim(), "systemd");
  const r = sh("systemctl", ["is-system-running"]);
  const failed = sh("systemctl", ["--failed", "--no-legend", "--plain"]).out;
  assert.ok(["running", "degraded"].includes(r.stdout.trim()), `is-system-running: ${r.out.trim()}; failed units: ${failed}`);
});

test("the system bus answers: busctl --system list names systemd and logind", () => {
  const r = sh("busctl", ["--system", "--no-pager", "list"]);
  assert.is(r.status, 0, r.out);
  assert.match(r.stdout, /^org\.freedesktop\.systemd1\s/m);
  assert.match(r.stdout, /^org\.freedesktop\.login1\s/m);
});

test("pure cgroup v2: cgroup2 at /sys/fs/cgroup, no v1 hierarchy, this process in a service's cgroup", () => {
  assert.is(statfsSync("/sys/fs/cgroup").type, CGROUP2_SUPER_MAGIC);
  const own = readFileSync("/proc/self/cgroup", "utf8").trim();
  assert.match(own, /^0::\/system\.slice\/[^\n]+\.service$/, "one line, v2 only, under system.slice");
  for (const line of readFileSync("/proc/cgroups", "utf8").split("\n").slice(1).filter(Boolean)) {
    assert.is(line.split("\t")[1], "0", `no v1 hierarchy: ${line}`);
  }
  assert.ok(readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").includes("memory"));
});

test("/tmp is a real filesystem of the guest (overlay mounts and containerd's snapshotter need one)", () => {
  assert.is.not(statfsSync("/tmp").type, OVERLAYFS_SUPER_MAGIC);
});

test("runc --systemd-cgroup run: a transient scope with the limits, gone after delete", () => {
  assert.ok(RUNC, "runc is installed (Debian's runc; .ci/run installs it with containerd)");
  const sb = sandbox("systemd");
  const runcRoot = join(sb.dir, "runc");
  const id = uniqueId("sd");
  const unit = `ocitest-${id}.scope`;
  const b = sb.bundle((c) => {
    c.process!.args = ["/bin/sleep", "300"];
    c.linux!.cgroupsPath = `system.slice:ocitest:${id}`;
    c.linux!.resources = { ...c.linux!.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 100 } };
  }, { busybox: true });
  const runc = (...args: string[]) => sh(RUNC!, ["--root", runcRoot, "--systemd-cgroup", ...args]);
  try {
    let r = runc("create", "-b", b, id);
    assert.is(r.status, 0, `runc create: ${r.out}`);
    r = runc("start", id);
    assert.is(r.status, 0, `runc start: ${r.out}`);
    const pid = JSON.parse(runc("state", id).stdout).pid as number;
    const p = unitProps(unit, ["LoadState", "ActiveState", "Transient", "MemoryMax", "TasksMax", "ControlGroup"]);
    assert.equal(
      { load: p.LoadState, active: p.ActiveState, transient: p.Transient, mem: p.MemoryMax, tasks: p.TasksMax, cg: p.ControlGroup },
      { load: "loaded", active: "active", transient: "yes", mem: "67108864", tasks: "100", cg: `/system.slice/${unit}` },
    );
    assert.is(readFileSync(`/proc/${pid}/cgroup`, "utf8").trim(), `0::/system.slice/${unit}`);
    assert.is(readFileSync(`/sys/fs/cgroup/system.slice/${unit}/memory.max`, "utf8").trim(), "67108864");
    assert.is(readFileSync(`/sys/fs/cgroup/system.slice/${unit}/pids.max`, "utf8").trim(), "100");
  } finally {
    runc("delete", "-f", id);
  }
  assert.ok(waitFor(() => unitProps(unit, ["ActiveState"]).ActiveState === "inactive", 20_000), `${unit} stopped after delete`);
  assert.not.ok(existsSync(`/sys/fs/cgroup/system.slice/${unit}`), "the scope's cgroup is removed");
  assertNothingLeft(runcRoot, [id]);
  sb.cleanup();
});

test.run();
