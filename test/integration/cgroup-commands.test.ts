// pause/resume, update, ps, events and kill --all on real containers (root).
// Limits are read back from the cgroup files the kernel shows for the
// container's init (/proc/<pid>/cgroup), not from ocirt's own state.
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OCIRT, sandbox, statePid, uniqueId, waitFor, type Sandbox } from "./harness";
import type { OciConfig } from "../../src/spec/types";

const t = hostSuite<{ sb: Sandbox }>("cgroup-commands");
t.before((ctx) => {
  ctx.sb = sandbox("cgcmd");
});
t.after((ctx) => ctx.sb.cleanup());

// ---------------------------------------------------------------- helpers ----
interface Mount {
  mountPoint: string;
  root: string;
  fstype: string;
  superOpts: string[];
}

function cgroupMounts(): Mount[] {
  const out: Mount[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const f = pre.split(" ");
    const p = post.split(" ");
    if (p[0] !== "cgroup" && p[0] !== "cgroup2") continue;
    out.push({ mountPoint: f[4]!, root: f[3]!, fstype: p[0]!, superOpts: (p[2] ?? "").split(",") });
  }
  return out;
}

/** The host dir of pid's cgroup for a v1 controller, or its cgroup2 dir for "". */
function cgroupDir(pid: number, controller: string): string | undefined {
  const mounts = cgroupMounts();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const ctrls = m[2]!.split(",");
    const mine = controller === "" ? m[1] === "0" && m[2] === "" : ctrls.includes(controller);
    if (!mine) continue;
    const mount = mounts.find((x) => (controller === "" ? x.fstype === "cgroup2" : x.fstype === "cgroup" && x.superOpts.includes(controller)));
    if (!mount) return undefined;
    const rel = mount.root === "/" ? m[3]! : m[3]!.slice(mount.root.length);
    return join(mount.mountPoint, rel);
  }
  return undefined;
}

const v1 = () => cgroupMounts().some((m) => m.fstype === "cgroup" && m.superOpts.includes("memory"));

/** A knob of pid's cgroup: the v1 file of `controller`, or the v2 file. */
function knob(pid: number, controller: string, v1file: string, v2file: string): string {
  const dir = v1() ? cgroupDir(pid, controller) : cgroupDir(pid, "");
  assert.ok(dir, `no ${controller} cgroup for ${pid}`);
  return readFileSync(join(dir!, v1() ? v1file : v2file), "utf8").trim();
}

function sleeper(sb: Sandbox, patch?: (c: OciConfig) => void, args = ["/bin/probe", "sleep", "inf"]): string {
  const id = uniqueId("cg");
  sb.ids.push(id);
  const r = sb.ocirt(["run", "-d", "-b", sb.bundle((c) => ((c.process!.args = args), patch?.(c))), id]);
  assert.is(r.status, 0, r.stderr);
  return id;
}

const status = (sb: Sandbox, id: string) => JSON.parse(sb.ocirt(["state", id]).stdout).status as string;
const stateJson = (sb: Sandbox, id: string) => JSON.parse(readFileSync(join(sb.root, id, "state.json"), "utf8"));
const oneLine = (s: string) => s.trim().split("\n").length === 1;
const alive = (pid: number) => existsSync(`/proc/${pid}/stat`) && readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0] !== "Z";
/** The state letter of /proc/<pid>/stat (S sleeping, T stopped, Z zombie). */
const procState = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0];
  } catch {
    return undefined;
  }
};
const MiB = 1024 * 1024;
const cpus = () => readFileSync("/sys/devices/system/cpu/online", "utf8").trim();

// ------------------------------------------------------------------ update ----
t("resources given at create are in the cgroup files", ({ sb }) => {
  const id = sleeper(sb, (c) => {
    c.linux!.resources = {
      ...c.linux!.resources,
      memory: { limit: 64 * MiB, swap: 128 * MiB, reservation: 32 * MiB },
      cpu: { shares: 512, quota: 25000, period: 100000, cpus: "0", mems: "0" },
      pids: { limit: 42 },
    };
  });
  const pid = statePid(sb, id);
  assert.is(knob(pid, "memory", "memory.limit_in_bytes", "memory.max"), String(64 * MiB));
  if (v1()) {
    const memsw = join(cgroupDir(pid, "memory")!, "memory.memsw.limit_in_bytes");
    if (existsSync(memsw)) assert.is(readFileSync(memsw, "utf8").trim(), String(128 * MiB));
    assert.is(knob(pid, "memory", "memory.soft_limit_in_bytes", "memory.low"), String(32 * MiB));
    assert.is(knob(pid, "cpu", "cpu.shares", ""), "512");
    assert.is(knob(pid, "cpu", "cpu.cfs_quota_us", ""), "25000");
    assert.is(knob(pid, "cpu", "cpu.cfs_period_us", ""), "100000");
  } else {
    assert.is(knob(pid, "cpu", "", "cpu.max"), "25000 100000");
  }
  assert.is(knob(pid, "cpuset", "cpuset.cpus", "cpuset.cpus"), "0");
  assert.is(knob(pid, "cpuset", "cpuset.mems", "cpuset.mems"), "0");
  assert.is(knob(pid, "pids", "pids.max", "pids.max"), "42");
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("update changes the cgroup and keeps the new values in state.json", ({ sb }) => {
  const id = sleeper(sb, (c) => {
    c.linux!.resources = { ...c.linux!.resources, memory: { limit: 64 * MiB, swap: 128 * MiB }, cpu: { shares: 512, quota: 25000, period: 100000 }, pids: { limit: 42 } };
  });
  const pid = statePid(sb, id);
  const allCpus = cpus();
  let r = sb.ocirt(["update", "--memory", "128M", "--memory-swap", "256M", "--cpu-quota", "50000", "--cpu-share", "256", "--pids-limit", "99", "--cpuset-cpus", allCpus, id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(knob(pid, "memory", "memory.limit_in_bytes", "memory.max"), String(128 * MiB));
  assert.is(knob(pid, "pids", "pids.max", "pids.max"), "99");
  assert.is(knob(pid, "cpuset", "cpuset.cpus", "cpuset.cpus"), allCpus);
  if (v1()) {
    assert.is(knob(pid, "cpu", "cpu.shares", ""), "256");
    assert.is(knob(pid, "cpu", "cpu.cfs_quota_us", ""), "50000");
    assert.is(knob(pid, "cpu", "cpu.cfs_period_us", ""), "100000", "the period given at create stays");
  } else {
    assert.is(knob(pid, "cpu", "", "cpu.max"), "50000 100000");
  }
  // a resources file: the period alone keeps the quota set before
  const file = join(sb.dir, `${id}-resources.json`);
  writeFileSync(file, JSON.stringify({ cpu: { period: 200000 }, memory: { reservation: 16 * MiB } }));
  r = sb.ocirt(["update", "-r", file, id]);
  assert.is(r.status, 0, r.stderr);
  if (v1()) {
    assert.is(knob(pid, "cpu", "cpu.cfs_period_us", ""), "200000");
    assert.is(knob(pid, "cpu", "cpu.cfs_quota_us", ""), "50000");
    assert.is(knob(pid, "memory", "memory.soft_limit_in_bytes", ""), String(16 * MiB));
  }
  // the same from the standard input; other flags are then ignored
  const s = spawnSync(OCIRT, ["--root", sb.root, "update", "-r", "-", "--pids-limit", "5", id], { input: '{"pids":{"limit":7}}', encoding: "utf8", timeout: 30_000 });
  assert.is(s.status, 0, s.stderr);
  assert.is(knob(pid, "pids", "pids.max", "pids.max"), "7");
  const saved = stateJson(sb, id).runtime.resources;
  assert.is(saved.pids.limit, 7);
  assert.is(saved.memory.limit, 128 * MiB);
  assert.is(saved.cpu.quota, 50000);
  assert.is(saved.cpu.period, 200000);
  assert.is(saved.cpu.shares, 256);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("update: values the kernel refuses fail on one line naming the field and change nothing", ({ sb }) => {
  const id = sleeper(sb, (c) => {
    c.linux!.resources = { ...c.linux!.resources, cpu: { shares: 512 }, pids: { limit: 42 } };
  });
  const pid = statePid(sb, id);
  if (v1()) {
    let r = sb.ocirt(["update", "--cpu-share", "1", "--pids-limit", "50", id]);
    assert.is(r.status, 1);
    assert.ok(oneLine(r.stderr), r.stderr);
    assert.match(r.stderr, /cpu\.shares/);
    assert.is(knob(pid, "cpu", "cpu.shares", ""), "512", "set back after the refused write");
    assert.is(knob(pid, "pids", "pids.max", ""), "42");
    assert.is(stateJson(sb, id).runtime.resources.pids.limit, 42, "state.json keeps the old values");
    r = sb.ocirt(["update", "--memory", "4096", id]);
    assert.is(r.status, 1);
    assert.ok(oneLine(r.stderr), r.stderr);
    assert.match(r.stderr, /memory\.limit/);
  }
  let r = sb.ocirt(["update", "--cpuset-cpus", "4095", id]);
  assert.is(r.status, 1);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.match(r.stderr, /linux\.resources\.cpu\.cpus: write 4095 to cpuset\.cpus: /);
  r = sb.ocirt(["update", "--memory", "lots", id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^invalid value for memory: invalid size: 'lots'$/m);
  r = sb.ocirt(["update", "-r", join(sb.dir, "no-such-file.json"), id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /no-such-file\.json/);
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 0);
  assert.ok(waitFor(() => status(sb, id) === "stopped"));
  r = sb.ocirt(["update", "--pids-limit", "5", id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^container not running$/m);
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

// ------------------------------------------------------------ pause/resume ----
t("pause and resume freeze and thaw the cgroup; state shows paused; wrong states fail like runc", ({ sb }) => {
  const id = sleeper(sb);
  const pid = statePid(sb, id);
  const frozen = () => (v1() ? knob(pid, "freezer", "freezer.state", "") === "FROZEN" : /^frozen 1$/m.test(readFileSync(join(cgroupDir(pid, "")!, "cgroup.events"), "utf8")));
  let r = sb.ocirt(["resume", id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^container not paused$/m);
  assert.is(sb.ocirt(["pause", id]).status, 0);
  assert.is(status(sb, id), "paused");
  assert.ok(frozen());
  assert.match(sb.ocirt(["list"]).stdout, new RegExp(`${id}\\s+${pid}\\s+paused`));
  r = sb.ocirt(["pause", id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^container not running$/m);
  r = sb.ocirt(["delete", id]);
  assert.is(r.status, 1, "a paused container is not deleted without --force");
  assert.is(sb.ocirt(["resume", id]).status, 0);
  assert.is(status(sb, id), "running");
  assert.not.ok(frozen());
  // a created container can be paused too (runc allows it)
  const id2 = uniqueId("cg");
  sb.ids.push(id2);
  assert.is(sb.ocirt(["create", "-b", sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"])), id2]).status, 0);
  assert.is(sb.ocirt(["pause", id2]).status, 0);
  assert.is(status(sb, id2), "paused");
  // delete --force of a paused container does not wait for a frozen init
  for (const x of [id, id2]) {
    if (x === id) assert.is(sb.ocirt(["pause", x]).status, 0);
    const t0 = Date.now();
    assert.is(sb.ocirt(["delete", "--force", x]).status, 0);
    assert.ok(Date.now() - t0 < 5000, `delete --force of paused ${x} took ${Date.now() - t0} ms`);
  }
  r = sb.ocirt(["pause", id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /does not exist/);
});

t("kill KILL of a paused container stops it", ({ sb }) => {
  const id = sleeper(sb);
  assert.is(sb.ocirt(["pause", id]).status, 0);
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 0);
  assert.ok(waitFor(() => status(sb, id) === "stopped"), `status ${status(sb, id)}`);
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

// ---------------------------------------------------------------------- ps ----
t("ps: json is the cgroup's pids, table is ps -ef cut to them", ({ sb }) => {
  const id = sleeper(sb, undefined, ["/bin/probe", "fork-sleep", "inf", "3"]);
  const pid = statePid(sb, id);
  let pids: number[] = [];
  assert.ok(waitFor(() => (pids = JSON.parse(sb.ocirt(["ps", "-f", "json", id]).stdout)).length === 4), `ps json: ${JSON.stringify(pids)}`);
  const r0 = sb.ocirt(["ps", "--format", "json", id]);
  assert.match(r0.stdout, /^\[\d+(,\d+)*\]\n$/, "a bare JSON array");
  assert.ok(pids.includes(pid));
  const procs = readFileSync(join(cgroupDir(pid, v1() ? "pids" : "")!, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  assert.equal([...pids].sort(), [...procs].sort());
  for (const p of pids) if (p !== pid) assert.ok(readFileSync(`/proc/${p}/stat`, "utf8").includes(`) S ${pid} `), `${p} is a child of the init`);
  let r = sb.ocirt(["ps", id]);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^UID\s+PID\s+PPID/);
  assert.is(lines.length, 5);
  const tablePids = lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[1]));
  assert.equal(tablePids.sort(), [...pids].sort());
  r = sb.ocirt(["ps", id, "-o", "pid,comm"]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\s*PID COMMAND\n(\s*\d+ probe\n){4}$/);
  r = sb.ocirt(["ps", "-f", "yaml", id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /invalid format option/);
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 0);
  assert.ok(waitFor(() => status(sb, id) === "stopped"));
  assert.ok(waitFor(() => sb.ocirt(["ps", "-f", "json", id]).stdout === "null\n"), "empty cgroup: null, as runc");
  assert.is(sb.ocirt(["ps", id]).stdout.split("\n").filter(Boolean).length, 1, "only the header");
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

// ------------------------------------------------------------------ events ----
t("events --stats prints one stats event in runc's shape", ({ sb }) => {
  const id = sleeper(sb, (c) => {
    c.linux!.resources = { ...c.linux!.resources, memory: { limit: 64 * MiB }, pids: { limit: 42 } };
  });
  const r = sb.ocirt(["events", "--stats", id]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(oneLine(r.stdout));
  const ev = JSON.parse(r.stdout);
  assert.equal(Object.keys(ev), ["type", "id", "data"]);
  assert.is(ev.type, "stats");
  assert.is(ev.id, id);
  assert.equal(Object.keys(ev.data), ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]);
  assert.equal(ev.data.pids, { current: 1, limit: 42 });
  assert.is(ev.data.memory.usage.limit, 64 * MiB);
  assert.ok(ev.data.memory.usage.usage > 0);
  assert.type(ev.data.memory.raw, "object");
  assert.ok("kernel" in ev.data.cpu.usage && "user" in ev.data.cpu.usage);
  // runc 1.1 keeps every struct: a container without a cpu quota shows throttling {}
  assert.equal(ev.data.cpu.throttling, {});
  assert.is(ev.data.network_interfaces, null);
  assert.equal(ev.data.intel_rdt, {});
  let bad = sb.ocirt(["events", "--interval", "0s", id]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /duration interval must be greater than 0/);
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 0);
  assert.ok(waitFor(() => status(sb, id) === "stopped"));
  bad = sb.ocirt(["events", "--stats", id]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, new RegExp(`^container with id ${id} is not running$`, "m"));
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t("events streams stats every interval and ends when the container stops", async ({ sb }) => {
  const id = sleeper(sb);
  const out: string[] = [];
  const child = spawn(OCIRT, ["--root", sb.root, "events", "--interval", "100ms", id], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d: Buffer) => out.push(d.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  await new Promise((res) => setTimeout(res, 700));
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 0);
  const code = await Promise.race([exited, new Promise<string>((res) => setTimeout(() => res("timeout"), 10_000))]);
  if (code === "timeout") child.kill("SIGKILL");
  assert.is(code, 0, "events exits once the container is gone");
  const lines = out.join("").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(lines.length >= 2, `${lines.length} events`);
  for (const e of lines) {
    assert.is(e.type, "stats");
    assert.is(e.id, id);
  }
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

// -------------------------------------------------------------- kill --all ----
t("kill --all reaches every process of the cgroup; plain kill only the init", ({ sb }) => {
  const id = sleeper(sb, undefined, ["/bin/probe", "fork-sleep", "inf", "3"]);
  const pid = statePid(sb, id);
  let pids: number[] = [];
  assert.ok(waitFor(() => (pids = JSON.parse(sb.ocirt(["ps", "-f", "json", id]).stdout)).length === 4));
  const children = pids.filter((p) => p !== pid);
  assert.is(sb.ocirt(["kill", id, "STOP"]).status, 0);
  assert.ok(waitFor(() => procState(pid) === "T"));
  assert.ok(children.every((p) => procState(p) === "S"), "plain kill leaves the children alone");
  assert.is(sb.ocirt(["kill", "--all", id, "STOP"]).status, 0);
  assert.ok(waitFor(() => pids.every((p) => procState(p) === "T")), "kill --all STOP reaches the children");
  assert.is(sb.ocirt(["kill", "--all", id, "CONT"]).status, 0);
  assert.ok(waitFor(() => pids.every((p) => procState(p) === "S")));
  assert.is(status(sb, id), "running");
  assert.is(sb.ocirt(["kill", "-a", id, "KILL"]).status, 0);
  assert.ok(waitFor(() => status(sb, id) === "stopped"));
  assert.ok(waitFor(() => pids.every((p) => !alive(p))));
  const r = sb.ocirt(["kill", "--all", id, "KILL"]);
  assert.is(r.status, 0, `kill --all of a stopped container succeeds as in runc: ${r.stderr}`);
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 1);
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t("kill --all after the init is gone reaches what is left in the cgroup", ({ sb }) => {
  const id = sleeper(sb, (c) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "pid")), ["/bin/probe", "fork-sleep", "inf", "2"]);
  const pid = statePid(sb, id);
  let pids: number[] = [];
  assert.ok(waitFor(() => (pids = JSON.parse(sb.ocirt(["ps", "-f", "json", id]).stdout)).length === 3));
  const children = pids.filter((p) => p !== pid);
  assert.is(sb.ocirt(["kill", id, "TERM"]).status, 0);
  assert.ok(waitFor(() => status(sb, id) === "stopped"));
  assert.ok(children.every(alive), "without a pid namespace the children outlive the init");
  assert.is(sb.ocirt(["kill", "--all", id, "TERM"]).status, 0);
  assert.ok(waitFor(() => children.every((p) => !alive(p))));
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t("without a pid namespace of its own, kill KILL takes the whole cgroup", ({ sb }) => {
  const id = sleeper(sb, (c) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "pid")), ["/bin/probe", "fork-sleep", "inf", "2"]);
  const pid = statePid(sb, id);
  let pids: number[] = [];
  assert.ok(waitFor(() => (pids = JSON.parse(sb.ocirt(["ps", "-f", "json", id]).stdout)).length === 3));
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 0);
  assert.ok(waitFor(() => pids.every((p) => !alive(p))), "the children die with the init");
  assert.ok(!alive(pid));
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t.run();
