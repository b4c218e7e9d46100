import { test } from "uvu";
import * as assert from "uvu/assert";
import { planResources, FRESH_SNAPSHOT, type ResourceTarget } from "../../src/linux/cgroups/resources";
import { ConfigError, HostError, SetupError } from "../../src/errors";
import type { CgroupWrite, LinuxResources, CgroupSnapshot } from "../../src/linux/cgroups/types";

const is = (cls: abstract new (...a: never[]) => unknown, re?: RegExp) => (e: unknown) =>
  e instanceof cls && (!re || re.test((e as Error & { line?: () => string }).line?.() ?? String(e)));

const ALL_V1 = ["cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb", "net_cls", "net_prio", "freezer", "rdma"];
const v1: ResourceTarget = { mode: "v1", paths: Object.fromEntries(ALL_V1.map((c) => [c, `/cg/${c}/x`])) };
const hybrid: ResourceTarget = { mode: "hybrid", paths: { ...v1.paths, "": "/cg/unified/x" } };
const v2: ResourceTarget = { mode: "v2", paths: { "": "/cg/x" } };

/** "hierarchy/file=value" for compact comparisons. */
const fmt = (ws: CgroupWrite[]) => ws.map((w) => `${w.hierarchy || "@"}/${w.file}=${w.value}`);
const plan1 = (r: LinuxResources, snap: CgroupSnapshot = FRESH_SNAPSHOT.v1) => planResources(r, v1, snap);
const plan2 = (r: LinuxResources, snap: CgroupSnapshot = FRESH_SNAPSHOT.v2) => planResources(r, v2, snap);

test("v1: every field goes to its file, in runc's controller order", () => {
  const r: LinuxResources = {
    memory: { limit: 104857600, reservation: 52428800, swap: 209715200, swappiness: 10, disableOOMKiller: true, useHierarchy: true, kernelTCP: 1048576 },
    cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: "0-1", mems: "0", idle: 1 },
    pids: { limit: 32 },
    blockIO: {
      weight: 300,
      leafWeight: 200,
      weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 200 }],
    },
    hugepageLimits: [
      { pageSize: "2MB", limit: 20971520 },
      { pageSize: "1GB", limit: 1073741824 },
    ],
    network: { classID: 1048577, priorities: [{ name: "eth0", priority: 5 }, { name: "lo", priority: 1 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 5 } },
    devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }],
  };
  const p = plan1(r, { ...FRESH_SNAPSHOT.v1, blkioWeightFile: "blkio.weight" });
  assert.equal(fmt(p.writes), [
    "cpuset/cpuset.cpus=0-1",
    "cpuset/cpuset.mems=0",
    "devices/devices.deny=a *:* rwm",
    "devices/devices.allow=c 1:3 rwm",
    "memory/memory.limit_in_bytes=104857600",
    "memory/memory.memsw.limit_in_bytes=209715200",
    "memory/memory.kmem.tcp.limit_in_bytes=1048576",
    "memory/memory.soft_limit_in_bytes=52428800",
    "memory/memory.oom_control=1",
    "memory/memory.swappiness=10",
    "memory/memory.use_hierarchy=1",
    "cpu/cpu.shares=512",
    "cpu/cpu.cfs_period_us=100000",
    "cpu/cpu.cfs_burst_us=1000",
    "cpu/cpu.cfs_quota_us=50000",
    "cpu/cpu.idle=1",
    "cpu/cpu.rt_period_us=1000000",
    "cpu/cpu.rt_runtime_us=950000",
    "pids/pids.max=32",
    "blkio/blkio.weight=300",
    "blkio/blkio.leaf_weight=200",
    "blkio/blkio.weight_device=8:0 500",
    "blkio/blkio.leaf_weight_device=8:0 300",
    "blkio/blkio.throttle.read_bps_device=8:0 1048576",
    "blkio/blkio.throttle.write_bps_device=8:0 2097152",
    "blkio/blkio.throttle.read_iops_device=8:0 100",
    "blkio/blkio.throttle.write_iops_device=8:16 200",
    "hugetlb/hugetlb.2MB.limit_in_bytes=20971520",
    "hugetlb/hugetlb.2MB.rsvd.limit_in_bytes=20971520",
    "hugetlb/hugetlb.1GB.limit_in_bytes=1073741824",
    "hugetlb/hugetlb.1GB.rsvd.limit_in_bytes=1073741824",
    "net_cls/net_cls.classid=1048577",
    "net_prio/net_prio.ifpriomap=eth0 5",
    "net_prio/net_prio.ifpriomap=lo 1",
    "rdma/rdma.max=mlx5_1 hca_handle=3 hca_object=10000",
    "rdma/rdma.max=mlx4_0 hca_object=5",
  ]);
  const byFile = (f: string) => p.writes.find((w) => w.file === f)!;
  assert.is(byFile("cpu.shares").readBack, true);
  assert.is(byFile("cpu.cfs_period_us").deferOnEinval, true);
  assert.is(byFile("cpu.cfs_burst_us").optional, true);
  assert.is(byFile("cpu.rt_period_us").deferOnEinval, true);
  assert.is(byFile("hugetlb.2MB.rsvd.limit_in_bytes").optional, true);
  assert.is(byFile("memory.swappiness").field, "linux.resources.memory.swappiness");
  assert.is(byFile("blkio.throttle.write_iops_device").field, "linux.resources.blockIO.throttleWriteIOPSDevice[0]");
  assert.is(byFile("rdma.max").field, "linux.resources.rdma.mlx5_1");
});

test("v1: BFQ hosts get blkio.bfq.weight(_device)", () => {
  const p = plan1({ blockIO: { weight: 100, weightDevice: [{ major: 254, minor: 0, weight: 10 }] } });
  assert.equal(fmt(p.writes), ["blkio/blkio.bfq.weight=100", "blkio/blkio.bfq.weight_device=254:0 10"]);
});

test("v1: memory/memsw order depends on the current limit (raise memsw first, lower limit first)", () => {
  const r = { memory: { limit: 200, swap: 400 } };
  // Current limit 100 < new memsw 400: memsw first.
  assert.equal(fmt(plan1(r, { ...FRESH_SNAPSHOT.v1, memoryLimit: 100n }).writes), ["memory/memory.memsw.limit_in_bytes=400", "memory/memory.limit_in_bytes=200"]);
  // Current limit 1000 >= 400: limit first.
  assert.equal(fmt(plan1(r, { ...FRESH_SNAPSHOT.v1, memoryLimit: 1000n }).writes), ["memory/memory.limit_in_bytes=200", "memory/memory.memsw.limit_in_bytes=400"]);
  // Unlimited memsw is always raised first.
  assert.equal(fmt(plan1({ memory: { limit: 200, swap: -1 } }).writes), ["memory/memory.memsw.limit_in_bytes=-1", "memory/memory.limit_in_bytes=200"]);
  // limit -1 without swap means unlimited memory+swap too (when swap accounting exists).
  assert.equal(fmt(plan1({ memory: { limit: -1 } }).writes), ["memory/memory.memsw.limit_in_bytes=-1", "memory/memory.limit_in_bytes=-1"]);
  assert.equal(fmt(plan1({ memory: { limit: -1 } }, { ...FRESH_SNAPSHOT.v1, hasMemsw: false }).writes), ["memory/memory.limit_in_bytes=-1"]);
});

test("v1: kernel memory is ignored with a warning; kernelTCP where the kernel has it", () => {
  const p = plan1({ memory: { kernel: 1000, kernelTCP: 2000 } }, { ...FRESH_SNAPSHOT.v1, hasKmemTcp: false });
  assert.equal(p.writes, []);
  assert.is(p.warnings.length, 2);
  assert.match(p.warnings[0]!, /^linux\.resources\.memory\.kernel: ignored/);
  assert.match(p.warnings[1]!, /^linux\.resources\.memory\.kernelTCP: ignored/);
});

test("v1: pids limit 0 is 1 (systemd parity), negative is max; swappiness -1 is left alone", () => {
  assert.equal(fmt(plan1({ pids: { limit: 0 } }).writes), ["pids/pids.max=1"]);
  assert.equal(fmt(plan1({ pids: { limit: -1 } }).writes), ["pids/pids.max=max"]);
  assert.equal(fmt(plan1({ memory: { swappiness: -1 } }).writes), []);
  assert.throws(() => plan1({ memory: { swappiness: 101 } }), is(ConfigError, /^linux\.resources\.memory\.swappiness: invalid memory swappiness value: 101/));
});

test("v1: cpuset mounted with noprefix", () => {
  assert.equal(fmt(plan1({ cpu: { cpus: "1", mems: "0" } }, { ...FRESH_SNAPSHOT.v1, cpusetPrefix: "" }).writes), ["cpuset/cpus=1", "cpuset/mems=0"]);
});

test("v1: a field whose controller is not mounted is a HostError naming the field", () => {
  const noHuge: ResourceTarget = { mode: "v1", paths: { devices: "/d", memory: "/m" } };
  assert.throws(() => planResources({ hugepageLimits: [{ pageSize: "2MB", limit: 1 }] }, noHuge, FRESH_SNAPSHOT.v1), is(HostError, /^linux\.resources\.hugepageLimits\[0\]: the hugetlb cgroup controller is not mounted/));
  assert.throws(() => planResources({ network: { classID: 1 } }, noHuge, FRESH_SNAPSHOT.v1), is(HostError, /^linux\.resources\.network\.classID: the net_cls/));
  assert.throws(() => planResources({ network: { priorities: [{ name: "lo", priority: 1 }] } }, noHuge, FRESH_SNAPSHOT.v1), is(HostError, /net_prio/));
  assert.throws(() => planResources({ rdma: { mlx: { hcaHandles: 1 } } }, noHuge, FRESH_SNAPSHOT.v1), is(HostError, /^linux\.resources\.rdma\.mlx: the rdma/));
});

test("v1 and hybrid refuse unified", () => {
  assert.throws(() => plan1({ unified: { "memory.high": "1" } }), is(HostError, /^linux\.resources\.unified: cannot use unified resources on a cgroup v1 host$/));
  assert.throws(() => planResources({ unified: { "memory.high": "1" } }, hybrid, FRESH_SNAPSHOT.v1), is(HostError, /^linux\.resources\.unified: .*hybrid/));
  // An empty map is fine.
  assert.equal(plan1({ unified: {} }).writes, []);
});

test("hybrid writes nothing to the unified hierarchy", () => {
  const p = planResources({ memory: { limit: 1000 }, pids: { limit: 5 } }, hybrid, FRESH_SNAPSHOT.v1);
  assert.not.ok(p.writes.some((w) => w.hierarchy === ""));
});

test("checkBeforeUpdate compares with the current usage", () => {
  const snap = { ...FRESH_SNAPSHOT.v1, memoryUsage: 5000n };
  assert.throws(() => plan1({ memory: { limit: 4000, checkBeforeUpdate: true } }, snap), is(SetupError, /^linux\.resources\.memory\.limit: rejecting memory limit 4000 <= usage 5000/));
  assert.throws(() => plan1({ memory: { limit: 8000, swap: 5000, checkBeforeUpdate: true } }, snap), is(SetupError, /memory\.swap: rejecting memory\+swap/));
  assert.ok(plan1({ memory: { limit: 4000 } }, snap).writes.length === 1);
});

test("v2: every field converted to its v2 file, in runc's order", () => {
  const p = plan2(
    {
      pids: { limit: 10 },
      memory: { limit: 1000, swap: 3000, reservation: 500 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 10 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 20 }], throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 30 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 40 }] },
      cpu: { shares: 1024, quota: 50000, period: 200000, burst: 100, idle: 0, cpus: "0", mems: "0" },
      hugepageLimits: [{ pageSize: "2MB", limit: 4194304 }],
      rdma: { mlx: { hcaHandles: 1, hcaObjects: 2 } },
      unified: { "memory.high": "900", "io.max": "8:0 rbps=1\n8:16 wbps=2" },
    },
    { ...FRESH_SNAPSHOT.v2 },
  );
  assert.equal(fmt(p.writes), [
    "@/pids.max=10",
    "@/memory.swap.max=2000",
    "@/memory.max=1000",
    "@/memory.low=500",
    "@/io.weight=4950",
    "@/io.max=8:0 rbps=10",
    "@/io.max=8:0 wbps=20",
    "@/io.max=8:0 riops=30",
    "@/io.max=8:0 wiops=40",
    "@/cpu.idle=0",
    "@/cpu.weight=100",
    "@/cpu.max.burst=100",
    "@/cpu.max=50000 200000",
    "@/cpuset.cpus=0",
    "@/cpuset.mems=0",
    "@/hugetlb.2MB.max=4194304",
    "@/hugetlb.2MB.rsvd.max=4194304",
    "@/rdma.max=mlx hca_handle=1 hca_object=2",
    "@/memory.high=900",
    "@/io.max=8:0 rbps=1\n8:16 wbps=2",
  ]);
  assert.is(p.writes.find((w) => w.file === "cpu.max.burst")!.deferOnEinval, true);
  assert.is(p.writes.at(-1)!.byLine, true);
  assert.is(p.writes.at(-1)!.field, "linux.resources.unified.io.max");
});

test("v2: memory/swap/cpu.max special values", () => {
  assert.equal(fmt(plan2({ memory: { limit: 1000, swap: 1000 } }).writes), ["@/memory.swap.max=0", "@/memory.max=1000"]);
  assert.equal(fmt(plan2({ memory: { limit: -1 } }).writes), ["@/memory.swap.max=max", "@/memory.max=max"]);
  assert.is(plan2({ memory: { limit: -1 } }).writes[0]!.optional, true);
  assert.throws(() => plan2({ memory: { limit: 2000, swap: 1000 } }), is(ConfigError, /^linux\.resources\.memory\.swap: memory\+swap limit should be >= memory limit/));
  assert.throws(() => plan2({ memory: { swap: 1000 } }), is(ConfigError, /without memory limit/));
  assert.equal(fmt(plan2({ cpu: { quota: -1 } }).writes), ["@/cpu.max=max 100000"]);
  assert.equal(fmt(plan2({ cpu: { period: 50000 } }).writes), ["@/cpu.max=max 50000"]);
  assert.equal(fmt(plan2({ pids: { limit: 0 } }).writes), ["@/pids.max=1"]);
});

test("v2: BFQ weights, per-device only on 5.4+", () => {
  const bfq = { ...FRESH_SNAPSHOT.v2, ioBfqWeight: true, ioBfqPerDevice: true };
  const r = { blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 50 }] } };
  assert.equal(fmt(plan2(r, bfq).writes), ["@/io.bfq.weight=300", "@/io.bfq.weight=8:0 50"]);
  const old = plan2(r, { ...bfq, ioBfqPerDevice: false });
  assert.equal(fmt(old.writes), ["@/io.bfq.weight=300"]);
  assert.match(old.warnings[0]!, /weightDevice\[0\]\.weight: ignored/);
});

test("v2: v1-only fields are ignored with warnings", () => {
  const p = plan2({
    memory: { swappiness: 10, disableOOMKiller: true, kernel: 1, kernelTCP: 1, useHierarchy: false },
    cpu: { realtimeRuntime: 1000, realtimePeriod: 10000 },
    blockIO: { leafWeight: 10 },
    network: { classID: 1, priorities: [{ name: "lo", priority: 1 }] },
  });
  assert.equal(p.writes, []);
  assert.equal(
    p.warnings.map((w) => w.split(":")[0]),
    [
      "linux.resources.memory.kernel",
      "linux.resources.memory.kernelTCP",
      "linux.resources.memory.swappiness",
      "linux.resources.memory.disableOOMKiller",
      "linux.resources.memory.useHierarchy",
      "linux.resources.blockIO.leafWeight",
      "linux.resources.cpu.realtimeRuntime",
      "linux.resources.network",
    ],
  );
});

test("v2: unified keys are validated; devices are returned for the eBPF program", () => {
  assert.throws(() => plan2({ unified: { "../x": "1" } }), is(ConfigError, /no slashes/));
  assert.throws(() => plan2({ unified: { nodot: "1" } }), is(ConfigError, /CONTROLLER\.PARAMETER/));
  const hint = plan2({ unified: { "memory.high": "1" } }, { ...FRESH_SNAPSHOT.v2, controllers: ["cpu"] }).writes[0]!;
  assert.is(hint.missingHint, 'controller "memory" not available');
  const p = plan2({ devices: [{ allow: false, access: "rwm" }] });
  assert.equal(p.deviceRules, [{ type: "a", major: -1, minor: -1, access: "rwm", allow: false }]);
  assert.equal(p.writes, []);
  assert.is(plan2({}).deviceRules, undefined);
});

test("resources not given are not touched (update passes partial objects)", () => {
  assert.equal(plan1({}).writes, []);
  assert.equal(plan2({}).writes, []);
  assert.equal(fmt(plan1({ cpu: { shares: 100 } }).writes), ["cpu/cpu.shares=100"]);
});

test("bigint values pass through exactly", () => {
  assert.equal(fmt(plan1({ memory: { limit: 9223372036854775807n } }).writes), ["memory/memory.limit_in_bytes=9223372036854775807"]);
  // JSON.parse rounds 2^63-1 up to 2^63: still int64 max.
  assert.equal(fmt(plan1({ memory: { limit: 9223372036854775807 } }).writes), ["memory/memory.limit_in_bytes=9223372036854775807"]);
});

test.run();
