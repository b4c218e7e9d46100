// The systemd unit properties of a container (pure): what runc's systemd
// drivers send for the same config, and the annotation syntax.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError } from "../../src/errors";
import { Variant } from "../../src/linux/cgroups/dbus-wire";
import { defaultDeviceCgroups } from "../../src/linux/cgroups/devices";
import { cpuSharesToWeight } from "../../src/linux/cgroups/convert";
import {
  alignQuota,
  annotationProperties,
  findDeviceGroup,
  needsVersion,
  parseSystemdVersion,
  rangeToBits,
  resourceProperties,
  unitProperties,
  type SystemdFacts,
  type UnitProperty,
} from "../../src/linux/cgroups/systemd-props";
import { parseSystemdCgroupsPath } from "../../src/linux/cgroups/systemd";
import { planCgroup } from "../../src/linux/cgroups/plan";
import { parseCgroupHost } from "../../src/linux/cgroups/host";
import type { LinuxResources } from "../../src/linux/cgroups/types";

const PROC_DEVICES = `Character devices:
  1 mem
  4 /dev/vc/0
  5 /dev/tty
 10 misc
136 pts

Block devices:
  7 loop
  8 sd
`;

const facts = (version = 252, exists: (p: string) => boolean = (p) => p.startsWith("/sys/dev/char/") && !p.endsWith("10:200")): SystemdFacts => ({
  version,
  procDevices: () => PROC_DEVICES,
  exists,
});

/** name -> [signature, value] (the last one of a name, as systemd applies them in order). */
const asMap = (props: UnitProperty[]) => Object.fromEntries(props.map((p) => [p.name, [p.value.signature, p.value.value]]));
const names = (props: UnitProperty[]) => props.map((p) => p.name);
const MAX = (1n << 64n) - 1n;

const SAMPLE: LinuxResources = {
  memory: { limit: 67108864, reservation: 33554432, swap: 134217728 },
  cpu: { shares: 512, quota: 12345, period: 100000, cpus: "0-1", mems: "0" },
  pids: { limit: 100 },
  blockIO: { weight: 500 },
  unified: { "memory.high": "50331648", "memory.min": "1048576" },
};

test("unit properties: a scope in its slice, delegated, with the init's pid and accounting", () => {
  assert.throws(
    () => planCgroup({ linux: { cgroupsPath: "system.slice:x:my.slice" } }, "x", { host: parseCgroupHost("0 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/\n", { systemdRunning: true }), systemd: true }),
    (e: unknown) => e instanceof ConfigError && /^linux\.cgroupsPath: "my\.slice" is a slice, and systemd puts no processes in slices/.test(e.line()),
  );
  const unit = parseSystemdCgroupsPath("system.slice:docker:abc", "x");
  assert.equal(
    unitProperties(unit, "v2", 1234).map((p) => [p.name, p.value.signature, p.value.value]),
    [
      ["Description", "s", "libcontainer container abc"],
      ["Slice", "s", "system.slice"],
      ["Delegate", "b", true],
      ["PIDs", "au", [1234]],
      ["MemoryAccounting", "b", true],
      ["CPUAccounting", "b", true],
      ["IOAccounting", "b", true],
      ["TasksAccounting", "b", true],
      ["DefaultDependencies", "b", false],
    ],
  );
  // v1/hybrid: BlockIOAccounting
  const v1 = asMap(unitProperties(parseSystemdCgroupsPath("a-b.slice:p:c", "x"), "hybrid", undefined));
  assert.equal(v1["Slice"], ["s", "a-b.slice"]);
  assert.is(v1["BlockIOAccounting"]?.[1], true);
  assert.is(v1["IOAccounting"], undefined);
  assert.is(v1["PIDs"], undefined);
});

test("v2 resources: runc's properties for the comparison config (and IOWeight, which runc leaves out)", () => {
  const { properties, warnings } = resourceProperties(SAMPLE, "v2", facts(), { devices: false });
  assert.equal(warnings, []);
  assert.equal(asMap(properties), {
    MemoryMax: ["t", 67108864n],
    MemoryLow: ["t", 33554432n],
    MemorySwapMax: ["t", 67108864n],
    CPUWeight: ["t", cpuSharesToWeight(512n)],
    CPUQuotaPeriodUSec: ["t", 100000n],
    // 12345/100000 of a CPU = 123450 us per second, rounded up to whole 10 ms as runc does
    CPUQuotaPerSecUSec: ["t", 130000n],
    IOWeight: ["t", 4950n],
    TasksMax: ["t", 100n],
    AllowedCPUs: ["ay", Buffer.from([0x03])],
    AllowedMemoryNodes: ["ay", Buffer.from([0x01])],
    MemoryHigh: ["t", 50331648n],
    MemoryMin: ["t", 1048576n],
  });
  // the files get the quota systemd will apply, so both agree
  assert.is(alignQuota(SAMPLE).cpu!.quota, 13000);
  assert.is(alignQuota({ cpu: { quota: 50000, period: 100000 } }).cpu!.quota, 50000);
  assert.is(alignQuota({ cpu: { quota: -1 } }).cpu!.quota, -1);
});

test("v1 resources: MemoryLimit, CPUShares, BlockIOWeight, as runc's legacy driver", () => {
  const { properties } = resourceProperties(SAMPLE, "hybrid", facts(), { devices: false });
  assert.equal(names(properties), ["MemoryLimit", "CPUShares", "CPUQuotaPeriodUSec", "CPUQuotaPerSecUSec", "BlockIOWeight", "TasksMax", "AllowedCPUs", "AllowedMemoryNodes"]);
  const m = asMap(properties);
  assert.equal(m["CPUShares"], ["t", 512n]);
  assert.equal(m["BlockIOWeight"], ["t", 500n]);
});

test("limits: unlimited, zero and no-swap values as systemd takes them", () => {
  const m = (r: LinuxResources, mode: "v1" | "v2" = "v2") => asMap(resourceProperties(r, mode, facts(), { devices: false }).properties);
  assert.equal(m({ memory: { limit: -1 } })["MemoryMax"], ["t", MAX]);
  assert.equal(m({ memory: { limit: -1 } }, "v1")["MemoryLimit"], ["t", MAX]);
  assert.equal(m({ pids: { limit: -1 } })["TasksMax"], ["t", MAX]);
  // systemd refuses TasksMax=0; the files get 1 too
  assert.equal(m({ pids: { limit: 0 } })["TasksMax"], ["t", 1n]);
  // memory+swap == memory: no swap at all (runc leaves systemd at infinity, the file says 0)
  assert.equal(m({ memory: { limit: 1048576, swap: 1048576 } })["MemorySwapMax"], ["t", 0n]);
  assert.equal(m({ memory: { limit: 1048576, swap: -1 } })["MemorySwapMax"], ["t", MAX]);
  // quota alone: the default period; period alone: no quota
  assert.equal(m({ cpu: { quota: 50000 } })["CPUQuotaPerSecUSec"], ["t", 500000n]);
  assert.equal(m({ cpu: { period: 50000 } }), { CPUQuotaPeriodUSec: ["t", 50000n], CPUQuotaPerSecUSec: ["t", MAX] });
  assert.equal(m({ cpu: { quota: -1, period: 100000 } })["CPUQuotaPerSecUSec"], ["t", MAX]);
  assert.equal(m({}), {});
  assert.throws(() => m({ memory: { swap: 100 } }), (e: unknown) => e instanceof ConfigError && /swap limit without memory limit/.test(e.message));
});

test("systemd's version gates CPUQuotaPeriodUSec (242), AllowedCPUs (244) and CPUWeight=idle (252)", () => {
  const old = resourceProperties({ cpu: { period: 100000, quota: 50000, cpus: "0" } }, "v2", facts(241), { devices: false });
  assert.equal(names(old.properties), ["CPUQuotaPerSecUSec"]);
  assert.is(old.notes.length, 2);
  const idle = resourceProperties({ cpu: { idle: 1, shares: 1024 } }, "v2", facts(252), { devices: false });
  assert.equal(asMap(idle.properties)["CPUWeight"], ["t", 0n]);
  assert.equal(idle.warnings, ["unable to apply both CPUWeight and CpuIdle to systemd, ignoring CPUWeight"]);
  const noIdle = resourceProperties({ cpu: { idle: 1, shares: 1024 } }, "v2", facts(251), { devices: false });
  assert.equal(asMap(noIdle.properties)["CPUWeight"], ["t", cpuSharesToWeight(1024n)]);
  assert.ok(needsVersion({ cpu: { period: 1 } }));
  assert.ok(needsVersion({ cpu: { mems: "0" } }));
  assert.ok(needsVersion({ unified: { "cpu.max": "max" } }));
  assert.not.ok(needsVersion({ memory: { limit: 1 }, cpu: { shares: 2, quota: 5 } }));
  assert.is(parseSystemdVersion("252.38-1~deb12u1"), 252);
  assert.is(parseSystemdVersion("v245.4-1.fc32"), 245);
  assert.is(parseSystemdVersion("nonsense"), 0);
});

test("devices: runc's default rules as DevicePolicy=strict + DeviceAllow", () => {
  const { properties, notes } = resourceProperties({ devices: [{ allow: false, access: "rwm" }, ...defaultDeviceCgroups()] }, "v2", facts(), { devices: true });
  assert.equal(names(properties), ["DevicePolicy", "DeviceAllow", "DeviceAllow"]);
  assert.equal(asMap(properties)["DevicePolicy"], ["s", "strict"]);
  assert.equal(properties[1]!.value, new Variant("a(ss)", []));
  assert.equal(properties[2]!.value.value, [
    ["block-*", "m"],
    ["char-*", "m"],
    ["/dev/char/1:3", "rwm"],
    ["/dev/char/1:5", "rwm"],
    ["/dev/char/1:7", "rwm"],
    ["/dev/char/1:8", "rwm"],
    ["/dev/char/1:9", "rwm"],
    ["/dev/char/5:0", "rwm"],
    ["/dev/char/5:2", "rwm"],
    ["char-pts", "rwm"],
  ]);
  // /dev/net/tun without the tun module: skipped (the cgroup itself still has the rule)
  assert.equal(notes, ["skipping device /dev/char/10:200 for systemd: it does not exist"]);
  // devices: false (update) leaves the device properties alone
  assert.equal(resourceProperties({ devices: defaultDeviceCgroups() }, "v2", facts(), { devices: false }).properties, []);
});

test("devices: allow-all, deny-lists, '*:n' and unknown majors", () => {
  const dev = (devices: LinuxResources["devices"]) => resourceProperties({ devices }, "v2", facts(), { devices: true });
  const all = dev([{ allow: true, access: "rwm" }]);
  assert.equal(all.properties.map((p) => [p.name, p.value.value]), [["DevicePolicy", "auto"], ["DeviceAllow", []]]);
  const deny = dev([{ allow: true, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 3, access: "rwm" }]);
  assert.equal(deny.properties.map((p) => [p.name, p.value.value]), [["DevicePolicy", "strict"], ["DeviceAllow", []]]);
  assert.equal(deny.warnings, ["systemd doesn't support blacklist device rules -- applying temporary deny-all rule"]);
  const odd = dev([{ allow: true, type: "c", minor: 3, access: "r" }, { allow: true, type: "b", major: 8, access: "rw" }, { allow: true, type: "c", major: 99, access: "r" }]);
  assert.equal(odd.properties[2]!.value.value, [["block-sd", "rw"]]);
  assert.is(odd.notes.length, 2);
  assert.is(findDeviceGroup(PROC_DEVICES, "c", 136), "char-pts");
  assert.is(findDeviceGroup(PROC_DEVICES, "b", 7), "block-loop");
  assert.is(findDeviceGroup(PROC_DEVICES, "b", 136), undefined);
});

test("block I/O: per-device properties only for devices systemd can find", () => {
  const io: LinuxResources = {
    blockIO: {
      weightDevice: [{ major: 8, minor: 0, weight: 1000 }, { major: 8, minor: 16, weight: 10 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
    },
  };
  const exists = (p: string) => p === "/dev/block/8:0";
  const v2 = resourceProperties(io, "v2", facts(252, exists), { devices: false });
  assert.equal(asMap(v2.properties), {
    IODeviceWeight: ["a(st)", [["/dev/block/8:0", 10000n]]],
    IOReadBandwidthMax: ["a(st)", [["/dev/block/8:0", 1048576n]]],
    IOWriteIOPSMax: ["a(st)", [["/dev/block/8:0", 100n]]],
  });
  assert.is(v2.notes.length, 1);
  const v1 = resourceProperties(io, "v1", facts(252, exists), { devices: false });
  assert.equal(names(v1.properties), ["BlockIODeviceWeight", "BlockIOReadBandwidth"]);
  assert.equal(asMap(v1.properties)["BlockIODeviceWeight"], ["a(st)", [["/dev/block/8:0", 1000n]]]);
});

test("unified: the keys runc converts, the rest left to the files", () => {
  const u = (unified: Record<string, string>) => resourceProperties({ unified }, "v2", facts(), { devices: false });
  assert.equal(asMap(u({ "cpu.max": "max 50000" }).properties), { CPUQuotaPeriodUSec: ["t", 50000n], CPUQuotaPerSecUSec: ["t", MAX] });
  assert.equal(asMap(u({ "cpu.max": "20000" }).properties), { CPUQuotaPeriodUSec: ["t", 100000n], CPUQuotaPerSecUSec: ["t", 200000n] });
  assert.equal(asMap(u({ "cpu.weight": " 100\n", "pids.max": "max", "memory.swap.max": "0", "cpuset.mems": "0" }).properties), {
    CPUWeight: ["t", 100n],
    TasksMax: ["t", MAX],
    MemorySwapMax: ["t", 0n],
    AllowedMemoryNodes: ["ay", Buffer.from([1])],
  });
  const unknown = u({ "io.max": "8:0 rbps=1", "memory.oom.group": "1" });
  assert.equal(unknown.properties, []);
  assert.is(unknown.notes.length, 2);
  const bad = (unified: Record<string, string>, re: RegExp) => assert.throws(() => u(unified), (e: unknown) => e instanceof ConfigError && re.test(e.line()));
  bad({ "memory.high": "lots" }, /^linux\.resources\.unified\.memory\.high: unified resource "memory\.high" value conversion error/);
  bad({ "cpu.max": "1 2 3" }, /value invalid/);
  bad({ "a/b": "1" }, /no slashes/);
  bad({ nodot: "1" }, /CONTROLLER\.PARAMETER/);
  bad({ "cpuset.cpus": "3-1" }, /invalid range/);
});

test("rangeToBits: systemd's little-endian CPU masks", () => {
  assert.equal([...rangeToBits("0-1")], [0x03]);
  assert.equal([...rangeToBits("0-9")], [0xff, 0x03]);
  assert.equal([...rangeToBits("8")], [0x00, 0x01]);
  assert.equal([...rangeToBits("1,3-5")], [0x3a]);
  assert.equal([...rangeToBits(" 2 , ,3")], [0x0c]);
  for (const bad of ["", ",", "3-1", "a", "-1", "1-", "70000"]) assert.throws(() => rangeToBits(bad), undefined, bad);
});

test("annotations: org.systemd.property.* as runc parses them (Sec -> USec)", () => {
  const props = annotationProperties({
    "org.systemd.property.TimeoutStopSec": "15",
    "org.systemd.property.CPUQuotaPeriodSec": "uint64 1",
    "org.systemd.property.RuntimeMaxSec": "1.5",
    "org.systemd.property.CollectMode": "'inactive-or-failed'",
    "org.systemd.property.TimeoutStopUSec": "uint64 7",
    "org.systemd.property.MemoryDenyWriteExecute": "true",
    "io.kubernetes.other": "ignored",
  });
  assert.equal(props.map((p) => [p.name, p.value.signature, p.value.value]), [
    ["TimeoutStopUSec", "t", 15000000n],
    ["CPUQuotaPeriodUSec", "t", 1000000n],
    ["RuntimeMaxUSec", "t", 1500000n],
    ["CollectMode", "s", "inactive-or-failed"],
    ["TimeoutStopUSec", "t", 7n],
    ["MemoryDenyWriteExecute", "b", true],
  ]);
  // Go's wrapping uint64 arithmetic, kept
  assert.equal(annotationProperties({ "org.systemd.property.TimeoutStopSec": "-1" })[0]!.value.value, (1n << 64n) - 1000000n);
  const bad = (a: Record<string, string>, re: RegExp) => assert.throws(() => annotationProperties(a), (e: unknown) => e instanceof ConfigError && re.test(e.line()));
  bad({ "org.systemd.property.Ab": "1" }, /^annotations\["org\.systemd\.property\.Ab"\]: annotation org\.systemd\.property\.Ab name incorrect: too short$/);
  bad({ "org.systemd.property.Foo1": "1" }, /non-alphabetic/);
  bad({ "org.systemd.property.Foo.Bar": "1" }, /non-alphabetic/);
  bad({ "org.systemd.property.TasksMax": "[1," }, /value parse error/);
  bad({ "org.systemd.property.TimeoutStopSec": "'ten'" }, /value parse error: not a number/);
  assert.equal(annotationProperties(undefined), []);
});

test.run();
