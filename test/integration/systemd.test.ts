// The systemd cgroup driver (--systemd-cgroup) against a live systemd: each
// container is a transient scope made over the system bus. What landed is read
// back from systemd (`systemctl show`) and from the kernel's cgroup files.
// Where systemd is not PID 1 with a system bus (this project's usual hosts),
// the live tests are recorded as skipped with the reason, and the refusal
// itself is tested. Run them in a systemd VM:
//   v2vm.sh --systemd -- npx uvu -r tsx/cjs test/integration '^systemd\.test\.ts$'
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { assertNothingLeft, isRoot, OCIRT, sandbox, statePid, uniqueId, waitFor, type Sandbox } from "./harness";
import { cpuSharesToWeight } from "../../src/linux/cgroups/convert";
import { SYSTEMD_NOT_RUNNING } from "../../src/linux/cgroups/systemd";
import type { OciConfig } from "../../src/spec/types";
import { testIf } from "../skip";
import { show, systemdMissing } from "./v2-side";

const t = suite<{ sb: Sandbox }>("systemd");
t.before((ctx) => {
  ctx.sb = sandbox("systemd");
});
t.after((ctx) => ctx.sb.cleanup());

const V2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
const MiB = 1024 * 1024;

const gone = (unit: string) => show(unit, ["LoadState"])["LoadState"] === "not-found";

/** A knob of the container's cgroup: on v2 under /sys/fs/cgroup, on v1 in the named hierarchy. */
function knob(rel: string, v1: string, file: string): string {
  return readFileSync(V2 ? join("/sys/fs/cgroup", rel, file) : join("/sys/fs/cgroup", v1, rel, file), "utf8").trim();
}

/** The cgroup the kernel shows for pid (the cgroup2 line, or name=systemd's on v1). */
function cgroupOf(pid: number): string {
  const text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  return (/^0::(.*)$/m.exec(text)?.[1] ?? "") || (/^\d+:name=systemd:(.*)$/m.exec(text)?.[1] ?? "");
}

function systemdBundle(sb: Sandbox, slice: string, id: string, patch?: (c: OciConfig) => void): string {
  return sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    c.linux!.cgroupsPath = `${slice}:ocitest:${id}`;
    patch?.(c);
  });
}

const sd = (sb: Sandbox, args: string[]) => sb.ocirt(["--systemd-cgroup", ...args]);
const status = (sb: Sandbox, id: string) => JSON.parse(sd(sb, ["state", id]).stdout).status as string;

const missing = isRoot ? systemdMissing() : "needs root";
/** A test against the live systemd, recorded as skipped with the reason where there is none. */
const live = (name: string, fn: Parameters<typeof t>[1]) => testIf(t, missing ?? null, name, fn);

testIf(
  t,
  !isRoot ? "needs root" : existsSync("/run/systemd/system") ? "systemd runs on this host (this checks the refusal where it does not)" : null,
  "without systemd, --systemd-cgroup is refused with one line and leaves nothing",
  ({ sb }) => {
    const id = uniqueId("nosd");
    sb.ids.push(id);
    const r = sd(sb, ["run", "-b", systemdBundle(sb, "system.slice", id), id]);
    assert.is(r.status, 1);
    assert.is(r.stderr, `${SYSTEMD_NOT_RUNNING}\n`);
    assert.is(sd(sb, ["state", id]).status, 1, "no state");
    assertNothingLeft(sb.root, [id]);
  },
);

live("create/start/pause/resume/update/exec/ps/events/delete through a transient scope", ({ sb }) => {
  const id = uniqueId("sd");
  sb.ids.push(id);
  const unit = `ocitest-${id}.scope`;
  const rel = `system.slice/${unit}`;
  const b = systemdBundle(sb, "system.slice", id, (c) => {
    c.annotations = { "org.systemd.property.TimeoutStopSec": "15", "org.systemd.property.CollectMode": "'inactive-or-failed'" };
    c.linux!.resources = {
      ...c.linux!.resources,
      memory: V2 ? { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB } : undefined,
      cpu: { shares: 512, quota: 50000, period: 100000, ...(V2 ? { cpus: "0", mems: "0" } : {}) },
      pids: { limit: 100 },
      ...(V2 ? { unified: { "memory.high": String(48 * MiB) } } : {}),
    };
  });
  const c = sd(sb, ["create", "-b", b, id]);
  assert.is(c.status, 0, c.stderr);
  try {
    checkLifecycle(sb, id, unit, rel);
  } catch (err) {
    sd(sb, ["delete", "-f", id]); // so the later tests' "nothing left" checks see only their own
    throw err;
  }
  assertNothingLeft(sb.root, [id]);
});

function checkLifecycle(sb: Sandbox, id: string, unit: string, rel: string): void {
  assert.is(status(sb, id), "created");
  const pid = statePid(sb, id);
  assert.is(cgroupOf(pid), `/${rel}`, "the init is in the scope");

  const s = show(unit, [
    "LoadState", "ActiveState", "Transient", "Delegate", "Slice", "ControlGroup", "DefaultDependencies", "TimeoutStopUSec", "CollectMode",
    "MemoryMax", "MemoryLow", "MemoryHigh", "MemorySwapMax", "TasksMax", "CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec", "CPUWeight", "CPUShares", "AllowedCPUs", "DevicePolicy", "Description",
  ]);
  assert.equal(
    { LoadState: s["LoadState"], ActiveState: s["ActiveState"], Transient: s["Transient"], Delegate: s["Delegate"], Slice: s["Slice"], ControlGroup: s["ControlGroup"] },
    { LoadState: "loaded", ActiveState: "active", Transient: "yes", Delegate: "yes", Slice: "system.slice", ControlGroup: `/${rel}` },
  );
  assert.is(s["DefaultDependencies"], "no");
  assert.is(s["Description"], `libcontainer container ${id}`);
  assert.is(s["TimeoutStopUSec"], "15s", "annotation, Sec converted to USec");
  assert.is(s["CollectMode"], "inactive-or-failed", "string annotation");
  assert.is(s["DevicePolicy"], "strict");
  assert.is(s["TasksMax"], "100");
  assert.is(s["CPUQuotaPerSecUSec"], "500ms");
  assert.is(s["CPUQuotaPeriodUSec"], "100ms");
  assert.is(knob(rel, "pids", "pids.max"), "100");
  if (V2) {
    assert.is(s["MemoryMax"], String(64 * MiB));
    assert.is(s["MemoryLow"], String(32 * MiB));
    assert.is(s["MemoryHigh"], String(48 * MiB));
    assert.is(s["MemorySwapMax"], String(64 * MiB));
    assert.is(s["CPUWeight"], String(cpuSharesToWeight(512n)));
    assert.is(s["AllowedCPUs"], "0");
    assert.is(knob(rel, "", "memory.max"), String(64 * MiB));
    assert.is(knob(rel, "", "memory.low"), String(32 * MiB));
    assert.is(knob(rel, "", "memory.high"), String(48 * MiB));
    assert.is(knob(rel, "", "cpu.weight"), String(cpuSharesToWeight(512n)));
    assert.is(knob(rel, "", "cpu.max"), "50000 100000");
    assert.is(knob(rel, "", "cpuset.cpus"), "0");
    if (existsSync(join("/sys/fs/cgroup", rel, "memory.swap.max"))) assert.is(knob(rel, "", "memory.swap.max"), String(64 * MiB));
  } else {
    assert.is(s["CPUShares"], "512");
    assert.is(knob(rel, "cpu", "cpu.shares"), "512");
    assert.is(knob(rel, "cpu", "cpu.cfs_quota_us"), "50000");
    // the hierarchies systemd does not manage are joined by path
    assert.match(knob(rel, "freezer", "cgroup.procs"), String(pid));
  }

  assert.is(sd(sb, ["start", id]).status, 0);
  assert.is(status(sb, id), "running");
  assert.is(sd(sb, ["pause", id]).status, 0);
  assert.is(status(sb, id), "paused");
  assert.is(V2 ? knob(rel, "", "cgroup.freeze") : knob(rel, "freezer", "freezer.state"), V2 ? "1" : "FROZEN");
  assert.is(sd(sb, ["resume", id]).status, 0);
  assert.is(status(sb, id), "running");

  const u = sd(sb, ["update", ...(V2 ? ["--memory", "128M", "--memory-swap", "256M"] : []), "--pids-limit", "200", "--cpu-quota", "25000", id]);
  assert.is(u.status, 0, u.stderr);
  const s2 = show(unit, ["MemoryMax", "TasksMax", "CPUQuotaPerSecUSec"]);
  assert.is(s2["TasksMax"], "200");
  assert.is(s2["CPUQuotaPerSecUSec"], "250ms");
  assert.is(knob(rel, "pids", "pids.max"), "200");
  if (V2) {
    assert.is(s2["MemoryMax"], String(128 * MiB));
    assert.is(knob(rel, "", "memory.max"), String(128 * MiB));
    assert.is(knob(rel, "", "cpu.max"), "25000 100000");
  } else assert.is(knob(rel, "cpu", "cpu.cfs_quota_us"), "25000");

  const pidFile = join(sb.dir, `${id}.exec.pid`);
  const e = sd(sb, ["exec", "-d", "--pid-file", pidFile, id, "/bin/probe", "sleep", "inf"]);
  assert.is(e.status, 0, e.stderr);
  const execPid = Number(readFileSync(pidFile, "utf8"));
  assert.is(cgroupOf(execPid), `/${rel}`, "exec joins the scope");
  const ps = sd(sb, ["ps", "-f", "json", id]);
  assert.equal(JSON.parse(ps.stdout).sort(), [pid, execPid].sort());
  const ev = sd(sb, ["events", "--stats", id]);
  assert.is(ev.status, 0, ev.stderr);
  assert.is(JSON.parse(ev.stdout).data.pids.current, 2);

  const d = sd(sb, ["delete", "-f", id]);
  assert.is(d.status, 0, d.stderr);
  assert.ok(gone(unit), "the scope is gone after delete");
  assert.not.ok(existsSync(join("/sys/fs/cgroup", V2 ? "" : "freezer", rel)), "and its cgroup");
}

live("run in the foreground: the exit status passes through and the scope is gone after", ({ sb }) => {
  const id = uniqueId("sdrun");
  sb.ids.push(id);
  const r = sd(sb, ["run", "-b", systemdBundle(sb, "system.slice", id, (c) => (c.process!.args = ["/bin/probe", "exit", "3"])), id]);
  assert.is(r.status, 3, r.stderr);
  assert.ok(gone(`ocitest-${id}.scope`));
  assertNothingLeft(sb.root, [id]);
});

live("nested slices: a-b-c.slice lives in a.slice/a-b.slice/a-b-c.slice", ({ sb }) => {
  const id = uniqueId("sdnest");
  sb.ids.push(id);
  const top = `ocit${process.pid}`;
  const slice = `${top}-x-y.slice`;
  const unit = `ocitest-${id}.scope`;
  const dir = `/${top}.slice/${top}-x.slice/${slice}/${unit}`;
  try {
    const r = sd(sb, ["run", "-d", "-b", systemdBundle(sb, slice, id), id]);
    assert.is(r.status, 0, r.stderr);
    const s = show(unit, ["Slice", "ControlGroup"]);
    assert.equal(s, { Slice: slice, ControlGroup: dir });
    assert.is(cgroupOf(statePid(sb, id)), dir);
    assert.ok(existsSync(join("/sys/fs/cgroup", V2 ? "" : "pids", dir)));
    assert.is(sd(sb, ["delete", "-f", id]).status, 0);
    assert.ok(gone(unit));
  } finally {
    // the slices stay after the container, as with runc; the test removes its own
    spawnSync("systemctl", ["stop", `${top}.slice`]);
  }
  assert.not.ok(existsSync(join("/sys/fs/cgroup", V2 ? "" : "pids", `${top}.slice`)), "the test's slices are stopped");
});

live("a property systemd refuses fails create with one line and leaves no unit; a bad annotation fails before", ({ sb }) => {
  const id = uniqueId("sdbad");
  sb.ids.push(id);
  // TasksMax wants uint64; a bare number is an int32 (as with runc)
  const r = sd(sb, ["create", "-b", systemdBundle(sb, "system.slice", id, (c) => (c.annotations = { "org.systemd.property.TasksMax": "100" })), id]);
  assert.is(r.status, 1);
  // systemd 252: "System.Error.ENXIO: Failed to set unit properties: Unexpected message contents"
  assert.match(r.stderr, /^linux\.cgroupsPath: systemd: StartTransientUnit ocitest-.*\.scope: [\w.]+: .*\n$/);
  assert.ok(gone(`ocitest-${id}.scope`));
  assertNothingLeft(sb.root, [id]);
  const bad = sd(sb, ["create", "-b", systemdBundle(sb, "system.slice", id, (c) => (c.annotations = { "org.systemd.property.TasksMax": "uint64 [" })), id]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /^annotations\["org\.systemd\.property\.TasksMax"\]: annotation .* value parse error: .*\n$/);
  assertNothingLeft(sb.root, [id]);
});

live("a second container for the same unit is refused; the first is untouched", ({ sb }) => {
  const a = uniqueId("sddup");
  const b = uniqueId("sddup2");
  sb.ids.push(a, b);
  assert.is(sd(sb, ["create", "-b", systemdBundle(sb, "system.slice", a), a]).status, 0);
  const r = sd(sb, ["create", "-b", systemdBundle(sb, "system.slice", a), b]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^linux\.cgroupsPath: container's cgroup .* is not empty/);
  assert.is(status(sb, a), "created");
  assert.is(show(`ocitest-${a}.scope`, ["ActiveState"])["ActiveState"], "active");
  assert.is(sd(sb, ["delete", a]).status, 0);
  assert.ok(gone(`ocitest-${a}.scope`));
});

live("a create killed after the scope exists leaves a state that delete cleans up", async ({ sb }) => {
  const id = uniqueId("sdkill");
  sb.ids.push(id);
  const marker = join(sb.dir, `${id}.hook-started`);
  const b = systemdBundle(sb, "system.slice", id, (c) => (c.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${marker}; sleep 60`] }] }));
  const child = spawn(OCIRT, ["--root", sb.root, "--systemd-cgroup", "create", "-b", b, id], { stdio: "ignore", detached: true });
  assert.ok(waitFor(() => existsSync(marker), 60_000), "the hook started");
  assert.is(show(`ocitest-${id}.scope`, ["ActiveState"])["ActiveState"], "active", "the scope exists");
  process.kill(-child.pid!, "SIGKILL");
  await new Promise<void>((res) => child.on("exit", () => res()));
  const d = sd(sb, ["delete", "-f", id]);
  assert.is(d.status, 0, d.stderr);
  assert.ok(gone(`ocitest-${id}.scope`));
  assertNothingLeft(sb.root, [id]);
});

t.run();
