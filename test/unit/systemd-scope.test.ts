// The systemd driver's orchestration without root: create/update/delete
// against fake cgroupfs trees with a fake systemd standing in for the bus, and
// the real D-Bus client against a private dbus-daemon (where the host has one)
// with a fake org.freedesktop.systemd1 on it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, HostError, SetupError } from "../../src/errors";
import { makeFakeHost, type FakeCgroupFs } from "../../src/linux/cgroups/fakefs";
import { planCgroup, type CgroupPlan } from "../../src/linux/cgroups/plan";
import { Cgroup } from "../../src/linux/cgroups/cgroup";
import { DBusConnection } from "../../src/linux/cgroups/dbus-conn";
import { MessageType, Variant, type Message } from "../../src/linux/cgroups/dbus-wire";
import { prop, type UnitProperty } from "../../src/linux/cgroups/systemd-props";
import { SYSTEMD_V1, SystemdManager, applySystemdResources, destroySystemdCgroup, pendingSystemdCgroup, prepareSystemdCgroup, type SystemdBus } from "../../src/linux/cgroups/systemd-scope";
import type { CgroupMode, LinuxResources } from "../../src/linux/cgroups/types";
import { skip } from "../skip";

let tmp: string;
test.before.each(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ocirt-test-sdscope-"));
});
test.after.each(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const PID = 4242;

/** systemd as the driver sees it: makes and removes its cgroups in the fake tree. */
class FakeSystemd implements SystemdBus {
  calls: { method: string; unit?: string; props?: UnitProperty[] }[] = [];
  failStart: string | undefined;
  closed = false;
  constructor(
    private readonly ffs: FakeCgroupFs,
    private readonly plan: CgroupPlan,
  ) {}
  private own(): [string, string][] {
    return Object.entries(this.plan.paths).filter(([k]) => k === "" || SYSTEMD_V1.has(k));
  }
  async version() {
    this.calls.push({ method: "version" });
    return 252;
  }
  async startUnit(unit: string, props: UnitProperty[]) {
    this.calls.push({ method: "start", unit, props });
    if (this.failStart) throw new SetupError(this.failStart);
    const pids = props.find((p) => p.name === "PIDs")?.value.value as number[];
    for (const [key, dir] of this.own()) {
      const mount = this.plan.mounts[key]!;
      let cur = mount;
      for (const part of path.relative(mount, dir).split("/")) {
        cur = path.join(cur, part);
        if (!fs.existsSync(cur)) this.ffs.mkdir(cur);
      }
      for (const pid of pids) this.ffs.writeFile(path.join(dir, "cgroup.procs"), String(pid));
    }
  }
  async stopUnit(unit: string) {
    this.calls.push({ method: "stop", unit });
    for (const [, dir] of this.own()) {
      const procs = path.join(dir, "cgroup.procs");
      if (fs.existsSync(procs)) fs.writeFileSync(procs, "");
      if (fs.existsSync(dir)) this.ffs.rmdir(dir);
    }
  }
  async resetFailed(unit: string) {
    this.calls.push({ method: "reset", unit });
  }
  async setProperties(unit: string, props: UnitProperty[]) {
    this.calls.push({ method: "set", unit, props });
  }
  close() {
    this.closed = true;
  }
}

function setup(mode: CgroupMode, resources: LinuxResources, cgroupsPath = "system.slice:runc:ctr") {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode, systemdRunning: true });
  const plan = planCgroup({ linux: { cgroupsPath, resources } }, "ctr", { host, systemd: true });
  const bus = new FakeSystemd(ffs, plan);
  return { ffs, plan, bus };
}

const read = (...p: string[]) => fs.readFileSync(path.join(tmp, ...p), "utf8").trim();
const propNames = (props: UnitProperty[] | undefined) => (props ?? []).map((p) => p.name);

test("v2: the unit starts with the init's pid and every property; the files get the resources", async () => {
  const r: LinuxResources = { memory: { limit: 67108864 }, pids: { limit: 100 }, cpu: { shares: 512, quota: 12345, period: 100000 } };
  const { ffs, plan, bus } = setup("v2", r);
  const sd = prepareSystemdCgroup(plan, { "org.systemd.property.TimeoutStopSec": "15" }, { fs: ffs, manager: bus, procCgroup: () => "0::/system.slice/runc-ctr.scope\n" });
  assert.not.ok(fs.existsSync(path.join(tmp, "system.slice", "runc-ctr.scope")), "nothing exists before the pid does");
  await sd.addProcess(PID);
  assert.ok(bus.closed, "the bus connection is closed once the unit is up (a foreground run lives on)");
  bus.closed = false;
  const start = bus.calls.find((c) => c.method === "start")!;
  assert.is(start.unit, "runc-ctr.scope");
  const names = propNames(start.props);
  assert.equal(names.slice(0, 9), ["Description", "Slice", "Delegate", "PIDs", "MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting", "DefaultDependencies"]);
  // annotations after the unit's own, resources last (they win, as runc's Set after Apply)
  assert.ok(names.indexOf("TimeoutStopUSec") < names.indexOf("MemoryMax"));
  assert.ok(names.includes("DevicePolicy") && names.includes("TasksMax") && names.includes("CPUQuotaPerSecUSec"));
  assert.equal(start.props!.find((p) => p.name === "PIDs")!.value, new Variant("au", [PID]));
  assert.is(read("system.slice/runc-ctr.scope/memory.max"), "67108864");
  assert.is(read("system.slice/runc-ctr.scope/pids.max"), "100");
  // the quota systemd rounds to 10 ms goes to the file as well
  assert.is(read("system.slice/runc-ctr.scope/cpu.max"), "13000 100000");
  const st = sd.cgroup.toState();
  assert.equal({ driver: st.driver, unit: st.unit, created: st.created }, { driver: "systemd", unit: "runc-ctr.scope", created: [] });
  // the state reloads as the later commands see it
  assert.is(Cgroup.fromState(JSON.parse(JSON.stringify(st))).unit, "runc-ctr.scope");

  await sd.destroy();
  assert.equal(bus.calls.slice(-2).map((c) => c.method), ["stop", "reset"]);
  assert.ok(bus.closed);
  assert.not.ok(fs.existsSync(path.join(tmp, "system.slice", "runc-ctr.scope")));
});

test("hybrid: the hierarchies systemd leaves alone are made before the clone and joined after", async () => {
  const { ffs, plan, bus } = setup("hybrid", { pids: { limit: 10 } }, "machine.slice:ocirt:ctr");
  // recorded before anything is made: the unit, and only the dirs ocirt will make
  const pending = Cgroup.fromState(JSON.parse(JSON.stringify(pendingSystemdCgroup(plan, { fs: ffs }).toState())));
  assert.is(pending.unit, "ocirt-ctr.scope");
  const sd = prepareSystemdCgroup(plan, undefined, { fs: ffs, manager: bus });
  const created = sd.cgroup.created;
  assert.equal([...pending.created].sort(), [...created].sort());
  assert.ok(created.includes(path.join(tmp, "freezer/machine.slice/ocirt-ctr.scope")), "freezer made by ocirt");
  assert.ok(created.includes(path.join(tmp, "freezer/machine.slice")), "and its parent");
  assert.not.ok(created.some((d) => d.includes("/memory/") || d.includes("/pids/") || d.includes("/systemd/")), "systemd's own are left to it");
  await sd.addProcess(PID);
  for (const h of ["freezer", "cpuset", "perf_event", "pids", "memory", "cpu"]) {
    assert.is(read(h, "machine.slice/ocirt-ctr.scope/cgroup.procs"), String(PID), h);
  }
  // v1 cpuset children start empty: inherited from the parent before the pid joins
  assert.is(read("cpuset/machine.slice/ocirt-ctr.scope/cpuset.cpus"), "0-1");
  assert.is(read("pids/machine.slice/ocirt-ctr.scope/pids.max"), "10");
  assert.ok(propNames(bus.calls.find((c) => c.method === "start")!.props).includes("BlockIOAccounting"));
  // name=systemd is systemd's: ocirt never writes there
  assert.equal(ffs.writesTo("systemd/machine.slice/ocirt-ctr.scope/cgroup.procs"), [String(PID)]);

  // delete (a later command): the unit stopped and reset, ocirt's own dirs removed
  const later = Cgroup.fromState(JSON.parse(JSON.stringify(sd.cgroup.toState())), { fs: ffs });
  await destroySystemdCgroup(later, bus);
  for (const d of created) assert.not.ok(fs.existsSync(d), d);
  assert.not.ok(fs.existsSync(path.join(tmp, "memory/machine.slice/ocirt-ctr.scope")));
});

test("a failed start leaves what destroy removes; a misplaced init is refused", async () => {
  const { ffs, plan, bus } = setup("hybrid", {});
  bus.failStart = "systemd: StartTransientUnit runc-ctr.scope: org.freedesktop.DBus.Error.InvalidArgs: nope";
  const sd = prepareSystemdCgroup(plan, undefined, { fs: ffs, manager: bus });
  const err = await sd.addProcess(PID).then(() => undefined, (e: unknown) => e);
  assert.instance(err, SetupError);
  await sd.destroy();
  for (const d of sd.cgroup.created) assert.not.ok(fs.existsSync(d), d);

  const v2 = setup("v2", {});
  const sd2 = prepareSystemdCgroup(v2.plan, undefined, { fs: v2.ffs, manager: v2.bus, procCgroup: () => "0::/init.scope\n" });
  const err2 = await sd2.addProcess(PID).then(() => undefined, (e: unknown) => e);
  assert.ok(err2 instanceof SetupError && /placed the container's init in \/init\.scope, not in \/system\.slice\/runc-ctr\.scope/.test(err2.message), String(err2));
});

test("a bad annotation stops create before anything is made or connected", () => {
  const { ffs, plan, bus } = setup("hybrid", {});
  assert.throws(
    () => prepareSystemdCgroup(plan, { "org.systemd.property.TasksMax": "[" }, { fs: ffs, manager: bus }),
    (e: unknown) => e instanceof ConfigError && /org\.systemd\.property\.TasksMax/.test(e.line()),
  );
  assert.not.ok(fs.existsSync(path.join(tmp, "freezer/system.slice")));
  assert.equal(bus.calls, []);
});

test("update: the unit's properties (no device ones), then the files; a refused plan changes neither", async () => {
  const { ffs, plan, bus } = setup("v2", { memory: { limit: 67108864 } });
  const sd = prepareSystemdCgroup(plan, undefined, { fs: ffs, manager: bus, procCgroup: () => "0::/system.slice/runc-ctr.scope\n" });
  await sd.addProcess(PID);
  const cg = Cgroup.fromState(JSON.parse(JSON.stringify(sd.cgroup.toState())), { fs: ffs });
  await applySystemdResources(cg, { memory: { limit: 134217728 }, pids: { limit: 200 } }, { skipDevices: true, manager: bus });
  const set = bus.calls.at(-1)!;
  assert.is(set.method, "set");
  assert.equal(propNames(set.props), ["MemoryMax", "TasksMax"]);
  assert.is(read("system.slice/runc-ctr.scope/memory.max"), "134217728");
  assert.is(read("system.slice/runc-ctr.scope/pids.max"), "200");
  const before = bus.calls.length;
  const err = await applySystemdResources(cg, { memory: { swap: 1 } }, { manager: bus }).then(() => undefined, (e: unknown) => e);
  assert.instance(err, ConfigError);
  assert.is(bus.calls.length, before, "systemd was not asked");
  // the plain applyResources refuses a systemd cgroup (the unit would not learn of it)
  assert.throws(() => cg.applyResources({ pids: { limit: 1 } }), /through its unit/);
});

test("state: a systemd cgroup's unit must be a unit name naming its own directory", () => {
  const base = { mode: "v2", driver: "systemd", paths: { "": "/sys/fs/cgroup/system.slice/runc-x.scope" }, created: [], optional: [] };
  assert.is(Cgroup.fromState({ ...base, unit: "runc-x.scope" }).unit, "runc-x.scope");
  for (const unit of [undefined, "sshd.service", "other.scope", "../x.scope", "a b.scope"]) {
    assert.throws(() => Cgroup.fromState({ ...base, unit }), /invalid cgroup state: unit/, String(unit));
  }
});

// ------------------------------------------------ a real bus, a fake systemd ----
const DBUS_DAEMON = ["/usr/bin/dbus-daemon", "/bin/dbus-daemon"].find((p) => fs.existsSync(p));

interface Bus {
  daemon: ChildProcess;
  address: string;
  service: DBusConnection;
  seen: Message[];
  /** units that exist: "failed" ones ResetFailedUnit clears, "active" ones stay */
  leftovers: Map<string, "failed" | "active">;
  jobResult: string;
  signalFirst: boolean;
}

async function startBus(dir: string): Promise<Bus> {
  const address = path.join(dir, "bus");
  const conf = path.join(dir, "bus.conf");
  fs.writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${address}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
  );
  const daemon = spawn(DBUS_DAEMON!, [`--config-file=${conf}`, "--nofork", "--nosyslog"], { stdio: "ignore" });
  for (let i = 0; i < 500 && !fs.existsSync(address); i++) await new Promise((r) => setTimeout(r, 10));
  const service = DBusConnection.bus(address);
  const bus: Bus = { daemon, address, service, seen: [], leftovers: new Map(), jobResult: "done", signalFirst: true };
  await service.uniqueName;
  const [owner] = await service.call({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "RequestName", signature: "su", body: ["org.freedesktop.systemd1", 4] });
  assert.is(owner, 1, "primary owner of org.freedesktop.systemd1");
  let job = 0;
  const OBJ = "/org/freedesktop/systemd1";
  const MANAGER = "org.freedesktop.systemd1.Manager";
  service.onMethodCall((m) => {
    bus.seen.push(m);
    const reply = (signature: string, body: unknown[]) =>
      service.send({ type: MessageType.MethodReturn, replySerial: m.serial, destination: m.sender!, ...(signature ? { signature, body: body as never } : {}) });
    const error = (name: string, text: string) => service.send({ type: MessageType.Error, replySerial: m.serial, destination: m.sender!, errorName: name, signature: "s", body: [text] });
    const jobDone = (unit: string, result: string) => {
      const p = `${OBJ}/job/${++job}`;
      const signal = () => service.send({ type: MessageType.Signal, path: OBJ, interface: MANAGER, member: "JobRemoved", signature: "uoss", body: [job, p, unit, result] });
      if (bus.signalFirst) signal();
      reply("o", [p]);
      if (!bus.signalFirst) signal();
    };
    const unit = String(m.body?.[0] ?? "");
    switch (m.member) {
      case "Get":
        return reply("v", [new Variant("s", "252.38-1~deb12u1")]);
      case "StartTransientUnit":
        if (bus.leftovers.has(unit)) return error("org.freedesktop.systemd1.UnitExists", `Unit ${unit} was already loaded or has a fragment file.`);
        return jobDone(unit, bus.jobResult);
      case "StopUnit":
        return unit.startsWith("gone") ? error("org.freedesktop.systemd1.NoSuchUnit", `Unit ${unit} not loaded.`) : jobDone(unit, "done");
      case "ResetFailedUnit":
        if (bus.leftovers.get(unit) === "failed") bus.leftovers.delete(unit);
        return reply("", []);
      case "SetUnitProperties":
        return reply("", []);
      default:
        return error("org.freedesktop.DBus.Error.UnknownMethod", m.member ?? "");
    }
  });
  return bus;
}

function stopBus(b: Bus): void {
  b.service.close();
  if (b.daemon.pid) b.daemon.kill("SIGTERM");
}

const members = (b: Bus) => b.seen.map((m) => `${m.member}${m.body?.[0] !== undefined && typeof m.body[0] === "string" ? " " + m.body[0] : ""}`);

if (!DBUS_DAEMON || spawnSync(DBUS_DAEMON, ["--version"]).status !== 0) {
  skip(test, "D-Bus: the client against a private dbus-daemon and a fake systemd1", "no dbus-daemon on this host (Debian: dbus-daemon)");
} else {
  test("D-Bus: the client against dbus-daemon and a fake systemd1: start, job signal, version, set, stop", async () => {
    const b = await startBus(tmp);
    const mgr = SystemdManager.connect(b.address);
    try {
      assert.is(await mgr.version(), 252);
      const props = [prop("Slice", "s", "system.slice"), prop("PIDs", "au", [1234]), prop("MemoryMax", "t", 67108864n), prop("AllowedCPUs", "ay", Buffer.from([3])), prop("DeviceAllow", "a(ss)", [["char-pts", "rwm"]])];
      // JobRemoved arrives before the method's reply: kept until the job path is known
      await mgr.startUnit("runc-a.scope", props);
      const start = b.seen.find((m) => m.member === "StartTransientUnit")!;
      assert.is(start.signature, "ssa(sv)a(sa(sv))");
      assert.equal(start.body, ["runc-a.scope", "replace", props.map((p) => [p.name, p.value]), []]);
      b.signalFirst = false;
      await mgr.startUnit("runc-b.scope", props);
      await mgr.setProperties("runc-b.scope", [prop("TasksMax", "t", 5n)]);
      const set = b.seen.find((m) => m.member === "SetUnitProperties")!;
      assert.equal(set.body, ["runc-b.scope", true, [["TasksMax", new Variant("t", 5n)]]]);
      await mgr.stopUnit("runc-b.scope");
      await mgr.stopUnit("gone.scope"); // not loaded: already stopped
      assert.equal(members(b), ["Get org.freedesktop.systemd1.Manager", "StartTransientUnit runc-a.scope", "StartTransientUnit runc-b.scope", "SetUnitProperties runc-b.scope", "StopUnit runc-b.scope", "StopUnit gone.scope"]);
    } finally {
      mgr.close();
      stopBus(b);
    }
  });

  test("D-Bus: a leftover unit is reset and the start tried once more; a failed job is an error", async () => {
    const b = await startBus(tmp);
    const mgr = SystemdManager.connect(b.address);
    try {
      b.leftovers.set("runc-x.scope", "failed");
      await mgr.startUnit("runc-x.scope", [prop("PIDs", "au", [1])]);
      assert.equal(members(b), ["StartTransientUnit runc-x.scope", "ResetFailedUnit runc-x.scope", "StartTransientUnit runc-x.scope"]);
      b.jobResult = "failed";
      const err = await mgr.startUnit("runc-y.scope", []).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof SetupError && err.line() === "linux.cgroupsPath: error creating systemd unit runc-y.scope: got failed", String(err));
      assert.is(members(b).at(-1), "ResetFailedUnit runc-y.scope");
      // a unit that stays (a running container of that name): one line naming it
      b.jobResult = "done";
      b.leftovers.set("runc-z.scope", "active");
      const err2 = await mgr.startUnit("runc-z.scope", []).then(() => undefined, (e: unknown) => e);
      assert.ok(err2 instanceof SetupError && /^linux\.cgroupsPath: systemd: StartTransientUnit runc-z\.scope: org\.freedesktop\.systemd1\.UnitExists: Unit runc-z\.scope was already loaded/.test(err2.line()), String(err2));
    } finally {
      mgr.close();
      stopBus(b);
    }
  });
}

test("D-Bus: no bus at the address is one line naming the socket", async () => {
  const { ffs, plan } = setup("v2", {});
  const mgr = SystemdManager.connect(path.join(tmp, "no-such-socket"));
  const sd = prepareSystemdCgroup(plan, undefined, { fs: ffs, manager: mgr });
  const err = await sd.addProcess(PID).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof HostError && /^linux\.cgroupsPath: systemd cgroup driver: D-Bus .*no-such-socket: ENOENT$/.test(err.line()), String(err));
  mgr.close();
});

test.run();
