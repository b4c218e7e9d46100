// End to end against fake cgroupfs trees (no root needed): which files get
// which values for v1, v2 and the hybrid layout, including controllers the CI
// host does not mount (hugetlb, net_cls, net_prio, rdma).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEVICE_FILTER, makeFakeHost, type FakeCgroupFs } from "../../src/linux/cgroups/fakefs";
import { compileDeviceFilter } from "../../src/linux/cgroups/devices-bpf";
import { parseDeviceRules } from "../../src/linux/cgroups/devices";
import { planCgroup } from "../../src/linux/cgroups/plan";
import { Cgroup } from "../../src/linux/cgroups/cgroup";
import { createCgroup, destroyCgroup } from "../../src/linux/cgroups/dirs";
import { isNormalAbsolute, removeEmptyCgroup } from "../../src/linux/cgroups/remove";
import { emptyStats, encodeJSON, statsToRuncJSON } from "../../src/linux/cgroups/stats";
import { HostError, SetupError, StateError } from "../../src/errors";
import type { CgroupHost } from "../../src/linux/cgroups/host";
import type { CgroupSpecInput } from "../../src/linux/cgroups/types";

const is = (cls: abstract new (...a: never[]) => unknown, re?: RegExp) => (e: unknown) =>
  e instanceof cls && (!re || re.test((e as Error & { line?: () => string }).line?.() ?? String(e)));

let tmp: string;
test.before.each(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ocirt-test-cgfake-"));
});
test.after.each(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const read = (p: string) => fs.readFileSync(p, "utf8").trim();

const FULL: CgroupSpecInput = {
  linux: {
    resources: {
      devices: [
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
      ],
      memory: { limit: 104857600, reservation: 52428800, swap: 209715200, swappiness: 0, disableOOMKiller: true },
      cpu: { shares: 512, quota: 20000, period: 100000, cpus: "1", mems: "0", idle: 0 },
      pids: { limit: 64 },
      blockIO: { weight: 200, throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }] },
      hugepageLimits: [{ pageSize: "2MB", limit: 10485760 }],
      network: { classID: 0x100001, priorities: [{ name: "eth0", priority: 7 }] },
      rdma: { mlx5_0: { hcaHandles: 2, hcaObjects: 100 } },
    },
  },
};

function v1Host(own: Record<string, string> = { memory: "/process_api/abc" }): { host: CgroupHost; fs: FakeCgroupFs } {
  return makeFakeHost(tmp, { mode: "v1", own });
}

test("v1: create writes every controller's files, including ones this CI host lacks", () => {
  const { host, fs: ffs } = v1Host();
  const plan = planCgroup(FULL, "ctr", { host });
  const cg = createCgroup(plan, { fs: ffs });
  const d = (c: string) => path.join(tmp, c, "ctr");
  const mem = path.join(tmp, "memory/process_api/abc/ctr");
  assert.is(cg.paths["memory"], mem);
  assert.is(read(`${mem}/memory.limit_in_bytes`), "104857600");
  assert.is(read(`${mem}/memory.memsw.limit_in_bytes`), "209715200");
  assert.is(read(`${mem}/memory.soft_limit_in_bytes`), "52428800");
  assert.is(read(`${mem}/memory.swappiness`), "0");
  assert.is(read(`${mem}/memory.oom_control`), "1");
  assert.is(read(`${d("cpu")}/cpu.shares`), "512");
  assert.is(read(`${d("cpu")}/cpu.cfs_quota_us`), "20000");
  assert.is(read(`${d("cpu")}/cpu.cfs_period_us`), "100000");
  assert.is(read(`${d("cpu")}/cpu.idle`), "0");
  assert.is(read(`${d("cpuset")}/cpuset.cpus`), "1");
  assert.is(read(`${d("pids")}/pids.max`), "64");
  assert.is(read(`${d("blkio")}/blkio.bfq.weight`), "200");
  assert.is(read(`${d("blkio")}/blkio.throttle.read_bps_device`), "254:0 1048576");
  assert.is(read(`${d("hugetlb")}/hugetlb.2MB.limit_in_bytes`), "10485760");
  assert.is(read(`${d("hugetlb")}/hugetlb.2MB.rsvd.limit_in_bytes`), "10485760");
  assert.is(read(`${d("net_cls")}/net_cls.classid`), String(0x100001));
  assert.equal(ffs.writesTo("net_prio.ifpriomap"), ["eth0 7"]);
  assert.equal(ffs.writesTo("rdma.max"), ["mlx5_0 hca_handle=2 hca_object=100"]);
  // The kernel's devices.list after our writes: exactly the wanted whitelist.
  assert.is(
    read(`${d("devices")}/devices.list`),
    ["b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 10:200 rwm", "c 10:229 rwm", "c 136:* rwm"].join("\n"),
  );
  assert.equal(ffs.writesTo("devices.deny"), ["a *:* rwm"]);
  // cpuset cpus/mems were inherited before the spec's values went in.
  assert.equal(ffs.writesTo("cpuset.cpus"), ["0-1", "1"]);
  assert.equal(ffs.writesTo("cpuset.mems"), ["0", "0"]);
  // Exactly the leaf dirs were created (the runtime's own memory cgroup existed).
  assert.equal(
    cg.created.map((p) => path.relative(tmp, p)).sort(),
    ["blkio/ctr", "cpu/ctr", "cpuacct/ctr", "cpuset/ctr", "devices/ctr", "freezer/ctr", "hugetlb/ctr", "memory/process_api/abc/ctr", "net_cls/ctr", "net_prio/ctr", "perf_event/ctr", "pids/ctr", "rdma/ctr", "systemd/ctr"],
  );
  destroyCgroup(cg);
  assert.ok(fs.existsSync(path.join(tmp, "memory/process_api/abc")));
  for (const p of cg.created) assert.not.ok(fs.existsSync(p), p);
});

test("v1: the write order of the plan is the order on disk", () => {
  const { host, fs: ffs } = v1Host();
  const plan = planCgroup({ linux: { resources: { memory: { limit: 1000, swap: 2000 }, cpu: { shares: 100, quota: 1000, period: 10000 } } } }, "ctr", { host });
  createCgroup(plan, { fs: ffs });
  const limits = ffs.writes.filter((w) => /memory\.(memsw\.)?limit_in_bytes|cpu\.(shares|cfs_)/.test(w.path)).map((w) => `${path.basename(w.path)}=${w.value}`);
  assert.equal(limits, ["memory.limit_in_bytes=1000", "memory.memsw.limit_in_bytes=2000", "cpu.shares=100", "cpu.cfs_period_us=10000", "cpu.cfs_quota_us=1000"]);
});

test("v1: processes join every hierarchy; pids, freeze/thaw, destroy kills stragglers", () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  cg.addProcess(4242);
  for (const dir of new Set(Object.values(cg.paths))) assert.is(read(path.join(dir, "cgroup.procs")), "4242", dir);
  assert.equal(cg.pids(), [4242]);
  assert.is(cg.state(), "thawed");
  cg.freeze();
  assert.is(read(path.join(cg.paths["freezer"]!, "freezer.state")), "FROZEN");
  assert.is(cg.state(), "frozen");
  cg.thaw();
  assert.is(cg.state(), "thawed");
  assert.is(cg.openV2DirFd(), null);
  destroyCgroup(cg);
  assert.equal(ffs.killed, [4242]);
  assert.not.ok(fs.existsSync(path.join(tmp, "memory/process_api/abc/ctr")));
});

test("delete's light path: an empty cgroup goes with one rmdir each, parents it made too; anything else is left to destroyCgroup", () => {
  const { host, fs: ffs } = v1Host();
  // nested cgroupsPath: create makes the parents a/b too
  const cg = createCgroup(planCgroup({ linux: { cgroupsPath: "/a/b/ctr" } }, "ctr", { host }), { fs: ffs });
  assert.ok(cg.created.some((p) => p.endsWith("/a")), "parents recorded");
  cg.addProcess(4242);
  // a process in it: refused, nothing killed, the library's turn (which kills and removes)
  assert.is(removeEmptyCgroup(ffs, cg.toState()), false);
  assert.equal(ffs.killed, []);
  destroyCgroup(cg);
  assert.equal(ffs.killed, [4242]);
  for (const p of cg.created) assert.not.ok(fs.existsSync(p), p);

  const empty = createCgroup(planCgroup({ linux: { cgroupsPath: "/a/b/ctr" } }, "ctr", { host }), { fs: ffs });
  const other = createCgroup(planCgroup({ linux: { cgroupsPath: "/a/b/other" } }, "other", { host }), { fs: ffs });
  assert.is(removeEmptyCgroup(ffs, empty.toState()), true);
  for (const p of Object.values(empty.paths)) assert.not.ok(fs.existsSync(p), p);
  // the parents stay while another container's cgroup is in them
  assert.ok(fs.existsSync(path.join(tmp, "pids/a/b/other")));
  assert.ok(fs.existsSync(path.join(tmp, "pids/a/b")));
  assert.is(removeEmptyCgroup(ffs, empty.toState()), true, "again: already gone is gone");
  // a child cgroup inside: refused
  fs.mkdirSync(path.join(other.paths["pids"]!, "child"));
  assert.is(removeEmptyCgroup(ffs, other.toState()), false);
  // states it does not read: the library decides (and reports)
  for (const bad of [null, {}, { ...other.toState(), driver: "systemd" }, { ...other.toState(), paths: { pids: "/sys/fs/cgroup/../x" } }, { ...other.toState(), created: ["/elsewhere"] }])
    assert.is(removeEmptyCgroup(ffs, bad), false, JSON.stringify(bad));
});

test("a value the kernel refuses names the field, the value, the file and the errno", () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  ffs.fail("memory.limit_in_bytes", "EBUSY");
  assert.throws(
    () => cg.applyResources({ memory: { limit: 1 } }),
    (e: unknown) => e instanceof SetupError && e.line() === "linux.resources.memory.limit: write 1 to memory.limit_in_bytes: Device or resource busy" && e.errno === 16,
  );
  ffs.fail("memory.use_hierarchy", "EINVAL");
  assert.throws(() => cg.applyResources({ memory: { useHierarchy: false } }), is(SetupError, /^linux\.resources\.memory\.useHierarchy: write 0 to memory\.use_hierarchy: Invalid argument$/));
  assert.throws(
    () => cg.applyResources({ hugepageLimits: [{ pageSize: "3MB", limit: 1 }] }),
    is(HostError, /^linux\.resources\.hugepageLimits\[0\]: write 1 to hugetlb\.3MB\.limit_in_bytes: No such file or directory \(hugepage size 3MB is not supported by the kernel\)$/),
  );
  destroyCgroup(cg);
});

test("EINVAL on cfs_period_us is retried after the quota (runc's order dance)", () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  ffs.fail("cpu.cfs_period_us", "EINVAL", 1);
  cg.applyResources({ cpu: { period: 50000, quota: 25000 } });
  const cpu = ffs.writes.filter((w) => w.path.startsWith("cpu/ctr/cpu.")).map((w) => path.basename(w.path));
  assert.equal(cpu, ["cpu.cfs_quota_us", "cpu.cfs_period_us"]);
  assert.is(read(path.join(cg.paths["cpu"]!, "cpu.cfs_period_us")), "50000");
  // Without a quota to wait for, EINVAL is reported at once.
  ffs.fail("cpu.cfs_period_us", "EINVAL", 1);
  assert.throws(() => cg.applyResources({ cpu: { period: 1 } }), is(SetupError, /^linux\.resources\.cpu\.period: write 1 to cpu\.cfs_period_us: Invalid argument$/));
  destroyCgroup(cg);
});

test("optional knobs missing from the kernel are skipped; clamped cpu.shares are refused", () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  fs.rmSync(path.join(cg.paths["cpu"]!, "cpu.cfs_burst_us"));
  cg.applyResources({ cpu: { burst: 1000, quota: 5000 } });
  assert.equal(ffs.writesTo("cpu.cfs_burst_us"), []);
  ffs.stores.set("cpu.shares", (v) => String(Math.max(2, Number(v))));
  assert.throws(() => cg.applyResources({ cpu: { shares: 1 } }), is(SetupError, /^linux\.resources\.cpu\.shares: the minimum allowed value of cpu\.shares is 2/));
  destroyCgroup(cg);
});

test("update: devices go through the emulator against the live devices.list", () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({ linux: { resources: { devices: [{ allow: false, access: "rwm" }] } } }, "ctr", { host }), { fs: ffs });
  const before = ffs.writes.length;
  const rules = [...(planCgroup({}, "x", { host }).resources.devices ?? []), { allow: true, type: "b" as const, major: 8, minor: 0, access: "r" }];
  cg.applyResources({ devices: rules });
  // Nothing disruptive (no "a" rule): only the new device.
  assert.equal(ffs.writes.slice(before).map((w) => `${path.basename(w.path)}=${w.value}`), ["devices.allow=b 8:0 r"]);
  destroyCgroup(cg);
});

test("absolute cgroupsPath: parents created by us go on destroy, shared parents stay", () => {
  const { host, fs: ffs } = v1Host();
  const a = createCgroup(planCgroup({ linux: { cgroupsPath: "/ocirt-test/pod/a" } }, "a", { host }), { fs: ffs });
  const b = createCgroup(planCgroup({ linux: { cgroupsPath: "/ocirt-test/pod/b" } }, "b", { host }), { fs: ffs });
  assert.is(a.paths["memory"], path.join(tmp, "memory/ocirt-test/pod/a"));
  assert.ok(a.created.includes(path.join(tmp, "pids/ocirt-test")));
  assert.not.ok(b.created.includes(path.join(tmp, "pids/ocirt-test")));
  destroyCgroup(a);
  assert.ok(fs.existsSync(path.join(tmp, "pids/ocirt-test/pod/b")));
  destroyCgroup(b);
  // a created the parents; b's removal left them, so they are still there now...
  assert.ok(fs.existsSync(path.join(tmp, "pids/ocirt-test/pod")));
  // ...and a fresh container whose parents already exist leaves them too.
  const c = createCgroup(planCgroup({ linux: { cgroupsPath: "/solo/c" } }, "c", { host }), { fs: ffs });
  destroyCgroup(c);
  assert.not.ok(fs.existsSync(path.join(tmp, "pids/solo")));
});

test("a failure during create removes what was created", () => {
  const { host, fs: ffs } = v1Host();
  ffs.fail("pids.max", "EINVAL");
  assert.throws(() => createCgroup(planCgroup({ linux: { resources: { pids: { limit: 5 } } } }, "ctr", { host }), { fs: ffs }), is(SetupError, /pids\.limit/));
  for (const c of ["pids", "memory/process_api/abc", "cpu", "systemd"]) assert.not.ok(fs.existsSync(path.join(tmp, c, "ctr")), c);
});

test("destroy removes child cgroups first and retries EBUSY", () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  ffs.mkdir(path.join(cg.paths["pids"]!, "sub"));
  ffs.mkdir(path.join(cg.paths["pids"]!, "sub", "deeper"));
  ffs.fail(path.relative(tmp, cg.paths["cpu"]!), "EBUSY", 3);
  destroyCgroup(cg);
  assert.not.ok(fs.existsSync(cg.paths["pids"]!));
  assert.not.ok(fs.existsSync(cg.paths["cpu"]!));
});

test("state.json round trip and validation", () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  const again = Cgroup.fromState(JSON.parse(JSON.stringify(cg.toState())), { fs: ffs });
  assert.equal(again.paths, cg.paths);
  assert.equal(again.created, cg.created);
  assert.equal(again.optional, cg.optional);
  assert.is(again.mode, "v1");
  destroyCgroup(again);
  assert.not.ok(fs.existsSync(cg.paths["pids"]!));
  assert.throws(() => Cgroup.fromState(null), is(StateError));
  assert.throws(() => Cgroup.fromState({ mode: "v3", driver: "fs", paths: {} }), is(StateError, /mode/));
  assert.throws(() => Cgroup.fromState({ mode: "v1", driver: "fs", paths: { memory: "relative" } }), is(StateError, /memory/));
  assert.throws(() => Cgroup.fromState({ mode: "v1", driver: "fs", paths: { memory: "/a/../b" } }), is(StateError));
  assert.throws(() => Cgroup.fromState({ mode: "v2", driver: "fs", paths: { memory: "/a" } }), is(StateError));
  // delete rmdirs "created": nothing outside the cgroup's own paths and their parents.
  assert.throws(() => Cgroup.fromState({ mode: "v1", driver: "fs", paths: { pids: "/c/pids/x" }, created: ["/etc"] }), is(StateError, /created dir/));
  assert.ok(Cgroup.fromState({ mode: "v1", driver: "fs", paths: { pids: "/c/pids/a/x" }, created: ["/c/pids/a", "/c/pids/a/x"] }));
});

test("oomEvents yields new kills and ends when the cgroup is gone", async () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  const file = path.join(cg.paths["memory"]!, "memory.oom_control");
  const got: bigint[] = [];
  const done = (async () => {
    for await (const n of cg.oomEvents({ intervalMs: 2 })) got.push(n);
  })();
  await new Promise((r) => setTimeout(r, 10));
  fs.writeFileSync(file, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  await new Promise((r) => setTimeout(r, 20));
  fs.writeFileSync(file, "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
  await new Promise((r) => setTimeout(r, 20));
  destroyCgroup(cg);
  await done;
  assert.equal(got, [1n, 3n]);
});

test("OOM kills are counted from memory.oom_control and watched by polling", async () => {
  const { host, fs: ffs } = v1Host();
  const cg = createCgroup(planCgroup({}, "ctr", { host }), { fs: ffs });
  const file = path.join(cg.paths["memory"]!, "memory.oom_control");
  assert.is(cg.oomKillCount(), 0n);
  const seen: bigint[] = [];
  const w = cg.watchOom((n) => seen.push(n), { intervalMs: 2 });
  fs.writeFileSync(file, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  await new Promise((r) => setTimeout(r, 30));
  w.stop();
  assert.equal(seen, [2n]);
  assert.is(cg.oomKillCount(), 2n);
  destroyCgroup(cg);
});

test("v1 stats: runc's JSON shape with exact uint64s", () => {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode: "v1", controllers: ["cpu", "cpuacct", "memory", "devices", "pids", "blkio", "hugetlb", "freezer"] });
  const cg = createCgroup(planCgroup({ linux: { resources: { pids: { limit: 100 } } } }, "ctr", { host }), { fs: ffs });
  const put = (c: string, f: string, v: string) => fs.writeFileSync(path.join(cg.paths[c]!, f), v + "\n");
  put("cpuacct", "cpuacct.usage", "123456789");
  put("cpuacct", "cpuacct.stat", "user 7\nsystem 3");
  put("cpuacct", "cpuacct.usage_percpu", "100 200");
  put("cpuacct", "cpuacct.usage_all", "cpu user system\n0 60 40\n1 150 50");
  put("cpu", "cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 5000");
  put("memory", "memory.stat", "cache 4096\nrss 8192");
  put("memory", "memory.usage_in_bytes", "12288");
  put("memory", "memory.max_usage_in_bytes", "20000");
  put("pids", "pids.current", "3");
  put("blkio", "blkio.bfq.io_service_bytes_recursive", "254:0 Read 512\n254:0 Write 0\nTotal 512");
  put("blkio", "blkio.bfq.io_serviced_recursive", "254:0 Read 1\nTotal 1");
  put("hugetlb", "hugetlb.2MB.rsvd.usage_in_bytes", "2097152");
  const json = statsToRuncJSON(cg.stats());
  assert.equal(JSON.parse(encodeJSON(json).replace(/9223372036854771712/g, '"BIG"')), {
    cpu: {
      usage: { total: 123456789, percpu: [100, 200], percpu_kernel: [40, 50], percpu_user: [60, 150], kernel: 30000000, user: 70000000 },
      throttling: { periods: 10, throttledPeriods: 2, throttledTime: 5000 },
    },
    cpuset: { cpu_exclusive: 0, mem_hardwall: 0, mem_exclusive: 0, memory_migrate: 0, memory_spread_page: 0, memory_spread_slab: 0, memory_pressure: 0, sched_load_balance: 0, sched_relax_domain_level: 0 },
    memory: {
      cache: 4096,
      usage: { limit: "BIG", usage: 12288, max: 20000, failcnt: 0 },
      swap: { limit: "BIG", failcnt: 0 },
      kernel: { limit: "BIG", failcnt: 0 },
      kernelTCP: { limit: "BIG", failcnt: 0 },
      raw: { cache: 4096, rss: 8192 },
    },
    pids: { current: 3, limit: 100 },
    blkio: {
      ioServiceBytesRecursive: [{ major: 254, op: "Read", value: 512 }, { major: 254, op: "Write" }],
      ioServicedRecursive: [{ major: 254, op: "Read", value: 1 }],
    },
    hugetlb: { "2MB": { usage: 2097152, failcnt: 0 }, "1GB": { failcnt: 0 } },
    intel_rdt: {},
    network_interfaces: null,
  });
  assert.match(encodeJSON(json), /"limit":9223372036854771712,/);
  assert.is(encodeJSON({ a: 18446744073709551615n, s: "@big:0@", n: [1n, 2] }), '{"a":18446744073709551615,"s":"@big:0@","n":[1,2]}');
  destroyCgroup(cg);
});

test("hybrid: joins the unified hierarchy best-effort and never writes limits there", () => {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode: "hybrid", controllers: ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"] });
  assert.is(host.mode, "hybrid");
  const cg = createCgroup(planCgroup({ linux: { resources: { memory: { limit: 1000 } } } }, "ctr", { host }), { fs: ffs });
  assert.is(cg.paths[""], path.join(tmp, "unified/ctr"));
  assert.ok(cg.created.includes(path.join(tmp, "unified/ctr")));
  assert.not.ok(ffs.writes.some((w) => w.path.startsWith("unified/") && !w.path.endsWith("cgroup.procs")));
  cg.addProcess(77);
  assert.is(read(path.join(tmp, "unified/ctr/cgroup.procs")), "77");
  assert.is(cg.openV2DirFd(), null);
  // Unified resources are refused naming the field.
  assert.throws(() => cg.applyResources({ unified: { "memory.high": "1" } }), is(HostError, /^linux\.resources\.unified:/));
  destroyCgroup(cg);
  assert.not.ok(fs.existsSync(path.join(tmp, "unified/ctr")));

  // A unified hierarchy that cannot be joined does not fail the container.
  ffs.fail(path.join("unified", "ctr2"), "EACCES");
  const cg2 = createCgroup(planCgroup({}, "ctr2", { host }), { fs: ffs });
  assert.not.ok(cg2.created.includes(path.join(tmp, "unified/ctr2")));
  cg2.addProcess(78);
  destroyCgroup(cg2);
});

test("v2: controllers are enabled down the path, values converted, freezer via cgroup.freeze", () => {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode: "v2", own: { "": "/user.slice/user-1000.slice/session-1.scope" } });
  const plan = planCgroup(
    { linux: { resources: { memory: { limit: 1000, swap: 3000 }, cpu: { shares: 1024, quota: 50000 }, pids: { limit: 9 }, hugepageLimits: [{ pageSize: "1GB", limit: 0 }], unified: { "memory.high": "900" } } } },
    "ctr",
    { host },
  );
  assert.is(plan.paths[""], path.join(tmp, "user.slice/user-1000.slice/ctr"));
  // The default device rules become an eBPF program; a kernel that refuses it fails the create.
  ffs.fail(DEVICE_FILTER, "EPERM", 1);
  assert.throws(() => createCgroup(plan, { fs: ffs }), is(SetupError, /^linux\.resources\.devices: attach the eBPF device filter to .*: Operation not permitted$/));
  assert.not.ok(fs.existsSync(plan.paths[""]!), "cleaned up after the refusal");
  const cg = createCgroup(plan, { fs: ffs });
  const dir = cg.paths[""]!;
  assert.equal(ffs.deviceFilters.get(ffs.rel(dir)), compileDeviceFilter(parseDeviceRules(plan.resources.devices!)));
  // skipDevices (update) leaves the program alone.
  ffs.deviceFilters.clear();
  cg.applyResources(plan.resources, { skipDevices: true });
  assert.is(ffs.deviceFilters.size, 0);
  // Allowing everything needs no program.
  cg.applyResources({ devices: [{ allow: true, access: "rwm" }] });
  assert.is(ffs.deviceFilters.size, 0);
  for (const p of ["", "user.slice", "user.slice/user-1000.slice"]) {
    assert.is(read(path.join(tmp, p, "cgroup.subtree_control")), "cpuset cpu io memory hugetlb pids rdma", p);
  }
  assert.is(read(`${dir}/memory.max`), "1000");
  assert.is(read(`${dir}/memory.swap.max`), "2000");
  assert.is(read(`${dir}/cpu.weight`), "100");
  assert.is(read(`${dir}/cpu.max`), "50000 100000");
  assert.is(read(`${dir}/pids.max`), "9");
  assert.is(read(`${dir}/hugetlb.1GB.max`), "0");
  assert.is(read(`${dir}/memory.high`), "900");
  const fd = cg.openV2DirFd();
  assert.type(fd, "number");
  fs.closeSync(fd!);
  cg.addProcess(99);
  cg.freeze();
  assert.is(read(`${dir}/cgroup.freeze`), "1");
  assert.is(cg.state(), "frozen");
  cg.thaw();
  assert.is(cg.state(), "thawed");
  fs.writeFileSync(`${dir}/memory.events`, "oom 1\noom_kill 4\n");
  assert.is(cg.oomKillCount(), 4n);
  fs.writeFileSync(`${dir}/cpu.stat`, "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 0\n");
  fs.writeFileSync(`${dir}/memory.stat`, "anon 100\nfile 50\n");
  fs.writeFileSync(`${dir}/memory.current`, "150\n");
  fs.writeFileSync(`${dir}/pids.current`, "1\n");
  fs.writeFileSync(`${dir}/io.stat`, "254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0\n");
  const st = statsToRuncJSON(cg.stats()) as Record<string, Record<string, unknown>>;
  assert.equal(st["cpu"]!["usage"], { total: 10000n, kernel: 4000n, user: 6000n });
  assert.equal(st["memory"]!["usage"], { limit: 1000n, usage: 150n, failcnt: 0n });
  assert.equal(st["memory"]!["swap"], { limit: 3000n, usage: 150n, failcnt: 0n });
  assert.is(st["memory"]!["cache"], 50n);
  assert.equal(st["pids"], { current: 1n, limit: 9n });
  assert.equal((st["blkio"]!["ioServiceBytesRecursive"] as unknown[]).length, 2);
  assert.ok(st["cpu"]!["psi"] !== undefined);
  destroyCgroup(cg);
  assert.equal(ffs.writesTo("cgroup.kill"), ["1"]);
  assert.not.ok(fs.existsSync(dir));
  assert.ok(fs.existsSync(path.join(tmp, "user.slice/user-1000.slice")));
});

test("v2: a controller that is not enabled is reported with a hint", () => {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode: "v2", v2Controllers: ["cpu", "pids"] });
  const plan = planCgroup({ linux: { resources: { memory: { limit: 1000 } } } }, "ctr", { host });
  assert.throws(
    () => createCgroup(plan, { fs: ffs, skipDevices: true }),
    is(HostError, /^linux\.resources\.memory\.limit: write 1000 to memory\.max: No such file or directory \(the memory controller is not enabled for this cgroup\)$/),
  );
});

test("systemd driver: planned paths; the fs driver's createCgroup refuses its plan", () => {
  const { host, fs: ffs } = makeFakeHost(tmp, { mode: "hybrid", systemdRunning: true });
  const plan = planCgroup({ linux: { cgroupsPath: "machine.slice:ocirt:ctr" } }, "ctr", { host, systemd: true });
  assert.is(plan.paths["memory"], path.join(tmp, "memory/machine.slice/ocirt-ctr.scope"));
  assert.throws(() => createCgroup(plan, { fs: ffs }), is(SetupError, /systemd driver starts a unit/));
});

test("stats JSON: runc 1.1 keeps every struct (omitempty drops numbers and lists only): throttling {} when nothing was throttled", () => {
  const j = JSON.parse(encodeJSON(statsToRuncJSON(emptyStats())));
  assert.equal(j.cpu, { usage: { kernel: 0, user: 0 }, throttling: {} });
  for (const k of ["usage", "swap", "kernel", "kernelTCP"]) assert.equal(j.memory[k], { limit: 0, failcnt: 0 }, k);
  assert.equal(j.pids, {});
  assert.equal(j.blkio, {});
});

test("isNormalAbsolute is posix.isAbsolute && posix.normalize(p) === p, for every path of up to 7 of '/', '.', 'a'", () => {
  const alphabet = ["/", ".", "a"];
  let paths = [""];
  let checked = 0;
  for (let len = 1; len <= 7; len++) {
    paths = paths.flatMap((p) => alphabet.map((c) => p + c));
    for (const p of paths) {
      assert.is(isNormalAbsolute(p), path.posix.isAbsolute(p) && path.posix.normalize(p) === p, JSON.stringify(p));
      checked++;
    }
  }
  assert.ok(checked > 3000);
  for (const p of ["/sys/fs/cgroup/cpu/ocirt/c1", "/sys/fs/cgroup/cpu/../c1", "/sys/fs/cgroup/x/", "/sys/fs/cgroup//x", "/..."]) {
    assert.is(isNormalAbsolute(p), path.posix.normalize(p) === p, p);
  }
});

test.run();
