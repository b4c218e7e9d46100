// The pure parts of pause/resume/update/ps/events/kill --all, and the cgroup
// side of them against fake cgroupfs trees (no root needed).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeFakeHost } from "../../src/linux/cgroups/fakefs";
import { planCgroup } from "../../src/linux/cgroups/plan";
import { createCgroup, destroyCgroup } from "../../src/linux/cgroups/dirs";
import { emptyStats } from "../../src/linux/cgroups/stats";
import { ConfigError, SetupError, UsageError } from "../../src/errors";
import { mergeResources, parseResourcesJson, withoutDevices } from "../../src/lifecycle/update-resources";
import { ramInBytes, resourcesFromFlags } from "../../src/cli/update-flags";
import { applyUpdate } from "../../src/lifecycle/update";
import { filterPsOutput } from "../../src/lifecycle/ps";
import { intervalMs, oomEvent, parseGoDuration, statsEvent } from "../../src/lifecycle/events";
import { signalAllProcesses } from "../../src/lifecycle/cgroup-state";

const is = (cls: abstract new (...a: never[]) => unknown, re?: RegExp) => (e: unknown) =>
  e instanceof cls && (!re || re.test((e as Error & { line?: () => string }).line?.() ?? String(e)));

let tmp: string;
test.before.each(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ocirt-test-cgcmd-"));
});
test.after.each(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------ update ----
test("ramInBytes: docker/go-units binary sizes", () => {
  assert.is(ramInBytes("512"), 512);
  assert.is(ramInBytes("10m"), 10 * 1024 * 1024);
  assert.is(ramInBytes("10M"), 10 * 1024 * 1024);
  assert.is(ramInBytes("1.5GiB"), 1.5 * 2 ** 30);
  assert.is(ramInBytes("2 kb"), 2048);
  assert.is(ramInBytes("3b"), 3);
  assert.throws(() => ramInBytes("abc"), /invalid size: 'abc'/);
  assert.throws(() => ramInBytes("-5"), /invalid size/);
  assert.throws(() => ramInBytes("5x"), /invalid size/);
});

test("update flags: only the given fields, runc's parsing and messages", () => {
  const r = resourcesFromFlags({ memory: "100M", "memory-swap": "-1", "cpu-quota": "-1", "cpu-period": "50000", "cpu-share": "", "cpuset-cpus": "0-1", "pids-limit": 0, "blkio-weight": 0 });
  assert.equal(r, { memory: { limit: 100 * 2 ** 20, swap: -1 }, cpu: { cpus: "0-1", period: 50000, quota: -1 }, blockIO: {}, pids: { limit: 0 } });
  assert.equal(resourcesFromFlags({ "blkio-weight": 300, "cpu-idle": "1", "cpu-rt-runtime": "-5" }).blockIO, { weight: 300 });
  assert.equal(resourcesFromFlags({}), { memory: {}, cpu: {}, blockIO: {}, pids: {} });
  assert.throws(() => resourcesFromFlags({ "cpu-period": "x" }), is(UsageError, /^invalid value for cpu-period: strconv\.ParseUint: parsing "x": invalid syntax$/));
  assert.throws(() => resourcesFromFlags({ "cpu-share": "-1" }), is(UsageError, /cpu-share: strconv\.ParseUint/));
  assert.throws(() => resourcesFromFlags({ "cpu-quota": "99999999999999999999" }), is(UsageError, /value out of range/));
  assert.throws(() => resourcesFromFlags({ memory: "lots" }), is(UsageError, /^invalid value for memory: invalid size: 'lots'$/));
});

test("update -r JSON: unknown keys ignored, null is 'not given', wrong types name the field", () => {
  assert.equal(parseResourcesJson('{"memory":{"limit":1024,"swap":null},"cpu":{"cpus":"0"},"bogus":1,"devices":[{"allow":true}]}'), {
    memory: { limit: 1024 },
    cpu: { cpus: "0" },
  });
  assert.equal(parseResourcesJson("null"), {});
  assert.throws(() => parseResourcesJson('{"memory":{"limit":"1g"}}'), is(ConfigError, /^resources\.memory\.limit: must be an integer \(got string "1g"\)$/));
  assert.throws(() => parseResourcesJson('{"cpu":{"shares":-2}}'), is(ConfigError, /^resources\.cpu\.shares: must be >= 0/));
  assert.throws(() => parseResourcesJson('{"blockIO":{"weight":70000}}'), is(ConfigError, /^resources\.blockIO\.weight: must be <= 65535/));
  assert.throws(() => parseResourcesJson('{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":"x"}]}}'), is(ConfigError, /^resources\.blockIO\.throttleReadBpsDevice\[0\]\.rate: must be an integer/));
  assert.throws(() => parseResourcesJson('{"unified":{"memory.high":5}}'), is(ConfigError, /^resources\.unified\["memory\.high"\]: must be a string/));
  assert.throws(() => parseResourcesJson("{"), is(ConfigError, /^resources: invalid JSON/));
  assert.throws(() => parseResourcesJson("[]"), is(ConfigError));
});

test("merge: quota or period alone keeps the other; given fields override; devices kept", () => {
  const old = { devices: [{ allow: false, access: "rwm" }], memory: { limit: 100, swap: 200 }, cpu: { shares: 512, quota: 20000, period: 100000, cpus: "0" }, pids: { limit: 10 } };
  const { resources } = mergeResources(old, { cpu: { quota: 50000 }, pids: { limit: 20 } });
  assert.equal(resources, { devices: [{ allow: false, access: "rwm" }], memory: { limit: 100, swap: 200 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0" }, pids: { limit: 20 } });
  assert.equal(mergeResources(old, { cpu: { period: 50000 } }).resources.cpu, { shares: 512, quota: 20000, period: 50000, cpus: "0" });
  assert.equal(withoutDevices(resources).devices, undefined);
  assert.equal(old.cpu.quota, 20000, "the old resources are not modified");
});

test("merge: runc's fix-ups (memory -1 resets swap, cpu idle drops shares, kernel memory warns)", () => {
  const old = { memory: { limit: 100, swap: 200 }, cpu: { shares: 512 } };
  const a = mergeResources(old, { memory: { limit: -1 } });
  assert.equal(a.resources.memory, { limit: -1, swap: 0 });
  const b = mergeResources(old, { cpu: { idle: 1 } });
  assert.equal(b.resources.cpu, { idle: 1 });
  const c = mergeResources({}, { memory: { kernel: 5, checkBeforeUpdate: true } });
  assert.equal(c.resources.memory, { checkBeforeUpdate: true });
  assert.equal(c.warnings, ["Kernel memory settings are ignored and will be removed"]);
  assert.equal(mergeResources({ memory: { limit: 5, checkBeforeUpdate: true } }, {}).resources.memory, { limit: 5 }, "checkBeforeUpdate holds for one update only");
});

test("merge: block I/O devices are updated in place or appended", () => {
  const old = { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 100 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] } };
  const { resources } = mergeResources(old, {
    blockIO: { weightDevice: [{ major: 8, minor: 0, leafWeight: 50 }, { major: 8, minor: 16, weight: 300 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 2 }] },
  });
  assert.equal(resources.blockIO, {
    weightDevice: [{ major: 8, minor: 0, weight: 100, leafWeight: 50 }, { major: 8, minor: 16, weight: 300, leafWeight: 0 }],
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 2 }],
  });
});

test("applyUpdate: writes the merged values; a refused value puts the old ones back", async () => {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode: "v1" });
  const old = { memory: { limit: 104857600 }, cpu: { shares: 512, quota: 20000, period: 100000 }, pids: { limit: 10 } };
  const cg = createCgroup(planCgroup({ linux: { resources: old } }, "ctr", { host }), { fs: ffs });
  const d = (c: string, f: string) => fs.readFileSync(path.join(tmp, c, "ctr", f), "utf8").trim();
  const devWrites = () => ffs.writesTo("devices.allow").length + ffs.writesTo("devices.deny").length;
  const before = devWrites();
  const set = await applyUpdate(cg, old, { cpu: { quota: 50000 }, pids: { limit: 64 } });
  assert.equal(set.cpu, { shares: 512, quota: 50000, period: 100000 });
  assert.is(d("cpu", "cpu.cfs_quota_us"), "50000");
  assert.is(d("cpu", "cpu.cfs_period_us"), "100000");
  assert.is(d("pids", "pids.max"), "64");
  assert.is(devWrites(), before, "devices are left alone");
  ffs.fail("pids.max", "EINVAL", 1);
  const err = await applyUpdate(cg, set, { memory: { limit: 209715200 }, pids: { limit: 5 } }).then(() => undefined, (e: unknown) => e);
  assert.ok(is(SetupError, /^linux\.resources\.pids\.limit: write 5 to pids\.max: Invalid argument$/)(err), String(err));
  // the memory limit written before the failure was set back
  assert.is(d("memory", "memory.limit_in_bytes"), "104857600");
  assert.is(d("pids", "pids.max"), "64");
  assert.is(devWrites(), before);
  destroyCgroup(cg);
});

// ---------------------------------------------------------------------- ps ----
const PS = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root         200       1  0 10:01 ?        00:00:00 /bin/probe sleep inf
root         201     200  0 10:01 ?        00:00:00 /bin/probe sleep inf
`;

test("ps table: the header and the rows of the container's pids", () => {
  const out = filterPsOutput(PS, [200, 201]);
  assert.is(out, PS.split("\n").filter((l, i) => i !== 1).join("\n"));
  assert.is(filterPsOutput(PS, []), PS.split("\n")[0] + "\n");
  assert.is(filterPsOutput("  PID COMMAND\n  200 probe\n  300 other\n", [200]), "  PID COMMAND\n  200 probe\n");
  assert.throws(() => filterPsOutput("USER COMMAND\nroot init\n", [1]), is(SetupError, /couldn't find PID field in ps output/));
  assert.throws(() => filterPsOutput("PID COMMAND\nabc init\n", [1]), is(SetupError, /unable to parse pid/));
});

// ------------------------------------------------------------------ events ----
test("Go durations and the --interval checks", () => {
  assert.is(parseGoDuration("5s"), 5e9);
  assert.is(parseGoDuration("1m30s"), 90e9);
  assert.is(parseGoDuration("250ms"), 250e6);
  assert.is(parseGoDuration("1.5h"), 1.5 * 3600e9);
  assert.is(parseGoDuration("0"), 0);
  assert.is(parseGoDuration("-1s"), -1e9);
  assert.throws(() => parseGoDuration("5"), /missing unit/);
  assert.throws(() => parseGoDuration("5x"), /unknown unit "x"/);
  assert.throws(() => parseGoDuration(""), /invalid duration/);
  assert.is(intervalMs("5s"), 5000);
  assert.throws(() => intervalMs("0s"), is(UsageError, /^duration interval must be greater than 0$/));
  assert.throws(() => intervalMs("-1s"), is(UsageError, /greater than 0/));
  assert.throws(() => intervalMs("soon"), is(UsageError, /^invalid value "soon" for flag -interval: time: invalid duration "soon"$/));
});

test("event lines are runc's types.Event JSON", () => {
  assert.is(oomEvent("c1"), '{"type":"oom","id":"c1"}');
  const s = emptyStats();
  s.memory.usage = { limit: (1n << 63n) - 4096n, usage: 4096n, max: 8192n, failcnt: 0n };
  s.pids = { current: 3n, limit: 0n };
  const ev = JSON.parse(statsEvent("c1", s));
  assert.equal(Object.keys(ev), ["type", "id", "data"]);
  assert.is(ev.type, "stats");
  assert.equal(Object.keys(ev.data), ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]);
  assert.equal(ev.data.pids, { current: 3 });
  assert.ok(statsEvent("c1", s).includes('"limit":9223372036854771712'), "uint64 values are exact");
});

// ---------------------------------------------------------------- kill --all ----
test("kill --all on v1: freeze, signal every pid (child cgroups too), thaw", () => {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode: "v1" });
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  cg.addProcess(100);
  cg.addProcess(101);
  const sub = path.join(cg.paths["devices"]!, "sub");
  ffs.mkdir(sub);
  ffs.writeFile(path.join(sub, "cgroup.procs"), "102");
  signalAllProcesses(cg, 15);
  assert.equal(ffs.killed.sort(), [100, 101, 102]);
  assert.equal(ffs.writesTo("freezer.state"), ["FROZEN", "THAWED"]);
  ffs.rmdir(sub);
  destroyCgroup(cg);
});

test("kill --all SIGKILL on v2 goes through cgroup.kill", () => {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode: "v2" });
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs, skipDevices: true });
  cg.addProcess(300);
  signalAllProcesses(cg, 9);
  assert.equal(ffs.writesTo("cgroup.kill"), ["1"]);
  assert.equal(ffs.killed, [300]);
  assert.equal(ffs.writesTo("cgroup.freeze"), []);
  destroyCgroup(cg);
});

test.run();
