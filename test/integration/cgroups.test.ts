// cgroups on the real host (root only). Written for the hybrid layout of the
// CI machines (v1 controllers + an empty cgroup2 at /sys/fs/cgroup/unified);
// parts that need a v1 hierarchy skip themselves elsewhere.
import { hostTest } from "../skip";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { probeCgroupHost, planCgroup, createCgroup, destroyCgroup, Cgroup, statsToRuncJSON, encodeJSON } from "../../src/linux/cgroups";
import type { CgroupSpecInput } from "../../src/linux/cgroups";
import { HostError, SetupError } from "../../src/errors";
import { findCgroupDirs } from "../../conformance/cgroup-dirs";

const isRoot = process.getuid?.() === 0;
const host = isRoot ? probeCgroupHost() : undefined;
const v1ish = host !== undefined && host.mode !== "v2";
const test = hostTest(!isRoot ? "needs root" : !v1ish ? `needs a cgroup v1 or hybrid host (this one is ${host?.mode})` : null);
const PREFIX = `ocirt-test-${process.pid}`;
let seq = 0;
const name = () => `${PREFIX}-${++seq}`;
const children: ChildProcess[] = [];
const made: Cgroup[] = [];

const is = (cls: abstract new (...a: never[]) => unknown, re?: RegExp) => (e: unknown) =>
  e instanceof cls && (!re || re.test((e as Error & { line?: () => string }).line?.() ?? String(e)));

function leftovers(): string[] {
  return findCgroupDirs((n) => n.includes("ocirt-test"));
}

function sleeper(): ChildProcess {
  const c = spawn("sleep", ["300"], { stdio: "ignore" });
  children.push(c);
  return c;
}

/** A shell that, once told to, allocates memory inside whatever cgroup it is in by then. */
function allocator(bytes: number): { child: ChildProcess; go(): Promise<void> } {
  const child = spawn("sh", ["-c", `read _; x=$(head -c ${bytes} /dev/zero | tr '\\0' a); echo ready; exec sleep 300`], { stdio: ["pipe", "pipe", "ignore"] });
  children.push(child);
  return {
    child,
    go: () =>
      new Promise((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
        child.on("exit", (code, sig) => reject(new Error(`allocator exited ${code} ${sig}`)));
        child.stdin!.write("go\n");
      }),
  };
}

function exited(c: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.signalCode ?? c.exitCode);
  return new Promise((r) => c.once("exit", (code, sig) => r(sig ?? code)));
}

const rd = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8").trim();

function create(spec: CgroupSpecInput, id = name()): Cgroup {
  const cg = createCgroup(planCgroup(spec, id, { host: host! }));
  made.push(cg);
  return cg;
}

/** major:minor of the block device holding / (for blkio rules). */
function rootDevice(): { major: number; minor: number } {
  const line = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === "/");
  const [major, minor] = line!.split(" ")[2]!.split(":").map(Number) as [number, number];
  return { major, minor };
}

test.after.each(() => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
  for (const cg of made.splice(0)) {
    try {
      destroyCgroup(cg);
    } catch {
      /* the test's own assertions report it */
    }
  }
});

test("the host is probed as this machine's layout", () => {
  assert.ok(host!.mode === "hybrid" || host!.mode === "v1");
  assert.ok(host!.v1["devices"], "devices hierarchy");
  assert.is(host!.systemdRunning, fs.existsSync("/run/systemd/system"));
});

test("create with resources, move a process in, read back, freeze, stats, destroy", async () => {
  const dev = rootDevice();
  const id = name();
  const cg = create(
    {
      linux: {
        resources: {
          memory: { limit: 134217728, reservation: 67108864, swap: 268435456, swappiness: 10 },
          cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0", mems: "0", idle: 0, burst: 1000 },
          pids: { limit: 50 },
          blockIO: { throttleReadBpsDevice: [{ ...dev, rate: 10485760 }], throttleWriteIOPSDevice: [{ ...dev, rate: 500 }] },
          devices: [{ allow: false, access: "rwm" }],
        },
      },
    },
    id,
  );
  const mem = cg.paths["memory"]!;
  assert.is(rd(mem, "memory.limit_in_bytes"), "134217728");
  assert.is(rd(mem, "memory.memsw.limit_in_bytes"), "268435456");
  assert.is(rd(mem, "memory.soft_limit_in_bytes"), "67108864");
  assert.is(rd(mem, "memory.swappiness"), "10");
  assert.is(rd(cg.paths["cpu"]!, "cpu.shares"), "512");
  assert.is(rd(cg.paths["cpu"]!, "cpu.cfs_quota_us"), "50000");
  assert.is(rd(cg.paths["cpu"]!, "cpu.cfs_period_us"), "100000");
  if (fs.existsSync(path.join(cg.paths["cpu"]!, "cpu.cfs_burst_us"))) assert.is(rd(cg.paths["cpu"]!, "cpu.cfs_burst_us"), "1000");
  assert.is(rd(cg.paths["cpuset"]!, "cpuset.cpus"), "0");
  assert.is(rd(cg.paths["cpuset"]!, "cpuset.mems"), "0");
  assert.is(rd(cg.paths["pids"]!, "pids.max"), "50");
  assert.is(rd(cg.paths["blkio"]!, "blkio.throttle.read_bps_device"), `${dev.major}:${dev.minor} 10485760`);
  assert.is(rd(cg.paths["blkio"]!, "blkio.throttle.write_iops_device"), `${dev.major}:${dev.minor} 500`);
  assert.is(
    rd(cg.paths["devices"]!, "devices.list"),
    ["b *:* m", "c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 10:200 rwm", "c 136:* rwm"].join("\n"),
  );

  const child = sleeper();
  cg.addProcess(child.pid!);
  assert.equal(cg.pids(), [child.pid]);
  const procCgroup = fs.readFileSync(`/proc/${child.pid}/cgroup`, "utf8");
  assert.match(procCgroup, new RegExp(`:memory:.*/${id}\\n`));
  assert.match(procCgroup, new RegExp(`:freezer:/${id}\\n`));
  if (host!.mode === "hybrid") assert.match(procCgroup, new RegExp(`^0::/${id}$`, "m"));

  cg.freeze();
  assert.is(cg.state(), "frozen");
  assert.is(rd(cg.paths["freezer"]!, "freezer.state"), "FROZEN");
  cg.thaw();
  assert.is(cg.state(), "thawed");

  const stats = statsToRuncJSON(cg.stats()) as Record<string, Record<string, unknown>>;
  assert.equal(stats["pids"], { current: 1n, limit: 50n });
  assert.is((stats["memory"]!["usage"] as { limit: bigint }).limit, 134217728n);
  assert.is((stats["memory"]!["swap"] as { limit: bigint }).limit, 268435456n);
  assert.ok(Array.isArray(stats["cpuset"]!["cpus"]));
  assert.is(stats["network_interfaces"], null);
  JSON.parse(encodeJSON({ type: "stats", id, data: stats }));

  // Reload from state.json as `delete` would, and destroy: the sleeper dies.
  const again = Cgroup.fromState(JSON.parse(JSON.stringify(cg.toState())));
  destroyCgroup(again);
  made.splice(made.indexOf(cg), 1);
  assert.is(await exited(child), "SIGKILL");
  for (const p of new Set(Object.values(cg.paths))) assert.not.ok(fs.existsSync(p), p);
});

test("the kernel refusing a memory limit below usage: EBUSY, naming the field", async () => {
  const cg = create({});
  const a = allocator(8 << 20);
  cg.addProcess(a.child.pid!);
  await a.go();
  assert.throws(() => cg.applyResources({ memory: { limit: 1 } }), (e: unknown) => {
    assert.ok(e instanceof SetupError);
    assert.is(e.line(), "linux.resources.memory.limit: write 1 to memory.limit_in_bytes: Device or resource busy");
    return true;
  });
});

test("blkio weights: written where the kernel has them, else an error naming the field and the missing scheduler", () => {
  const cg = create({});
  const dir = cg.paths["blkio"]!;
  const weightFile = ["blkio.weight", "blkio.bfq.weight"].find((f) => fs.existsSync(path.join(dir, f)));
  const dev = rootDevice();
  if (weightFile) {
    cg.applyResources({ blockIO: { weight: 300 } });
    assert.match(rd(dir, weightFile), /300/);
    // per-device weights need the scheduler on that very device
    const sched = fs.readFileSync(`/sys/dev/block/${dev.major}:${dev.minor}/queue/scheduler`, "utf8");
    if (!sched.includes("[bfq]")) {
      assert.throws(
        () => cg.applyResources({ blockIO: { weightDevice: [{ ...dev, weight: 100 }] } }),
        is(SetupError, /^linux\.resources\.blockIO\.weightDevice\[0\]\.weight: write \d+:\d+ 100 to blkio\.(bfq\.)?weight_device: Operation not supported \(device \d+:\d+ does not use the (BFQ|CFQ) I\/O scheduler\)$/),
      );
    }
  } else {
    assert.throws(() => cg.applyResources({ blockIO: { weight: 300 } }), is(HostError, /^linux\.resources\.blockIO\.weight: write 300 to blkio\.bfq\.weight: No such file or directory \(blkio weights need a kernel with the BFQ I\/O scheduler/));
    assert.throws(() => cg.applyResources({ blockIO: { weightDevice: [{ ...dev, weight: 100 }] } }), is(HostError, /^linux\.resources\.blockIO\.weightDevice\[0\]\.weight: write \d+:\d+ 100 to blkio\.bfq\.weight_device: No such file or directory/));
  }
});

test("fields this host refuses, with the kernel's errors", () => {
  const cg = create({});
  // Since Linux 5.16 use_hierarchy is always 1.
  assert.throws(() => cg.applyResources({ memory: { useHierarchy: false } }), is(SetupError, /^linux\.resources\.memory\.useHierarchy: write 0 to memory\.use_hierarchy: Invalid argument$/));
  cg.applyResources({ memory: { useHierarchy: true } });
  // cpu.shares is clamped to [2, 262144]; runc refuses the clamped value.
  assert.throws(() => cg.applyResources({ cpu: { shares: 1 } }), is(SetupError, /^linux\.resources\.cpu\.shares: the minimum allowed value of cpu\.shares is 2/));
  if (!fs.existsSync(path.join(cg.paths["blkio"]!, "blkio.leaf_weight"))) {
    assert.throws(() => cg.applyResources({ blockIO: { leafWeight: 100 } }), is(HostError, /^linux\.resources\.blockIO\.leafWeight: write 100 to blkio\.leaf_weight: No such file or directory \(leaf weights exist only with the CFQ/));
  }
  // A CPU the machine does not have; realtime runtime above its period.
  const cpus = rd(path.dirname(cg.paths["cpuset"]!), "cpuset.effective_cpus");
  if (cpus === "0-1") assert.throws(() => cg.applyResources({ cpu: { cpus: "5" } }), is(SetupError, /^linux\.resources\.cpu\.cpus: write 5 to cpuset\.cpus: Numerical result out of range$/));
  assert.throws(() => cg.applyResources({ cpu: { realtimeRuntime: 2000000, realtimePeriod: 1000000 } }), is(SetupError, /^linux\.resources\.cpu\.realtimeRuntime: write 2000000 to cpu\.rt_runtime_us: Invalid argument$/));
  // Kernel memory: a warning, nothing written; kernelTCP is still a knob.
  const r = cg.applyResources({ memory: { kernel: 1048576, kernelTCP: 4194304 } });
  assert.match(r.warnings.join("\n"), /memory\.kernel: ignored/);
  if (fs.existsSync(path.join(cg.paths["memory"]!, "memory.kmem.tcp.limit_in_bytes"))) {
    assert.is(rd(cg.paths["memory"]!, "memory.kmem.tcp.limit_in_bytes"), "4194304");
  }
  cg.applyResources({ memory: { disableOOMKiller: true } });
  assert.match(rd(cg.paths["memory"]!, "memory.oom_control"), /oom_kill_disable 1/);
});

test("controllers this host does not mount and unified are refused when the cgroup is made, leaving nothing", () => {
  const missing = (c: string) => host!.v1[c] === undefined;
  if (missing("hugetlb")) {
    assert.throws(() => create({ linux: { resources: { hugepageLimits: [{ pageSize: "2MB", limit: 2097152 }] } } }), is(HostError, /^linux\.resources\.hugepageLimits\[0\]: the hugetlb cgroup controller is not mounted on this host$/));
  }
  if (missing("net_cls")) assert.throws(() => create({ linux: { resources: { network: { classID: 1 } } } }), is(HostError, /network\.classID: the net_cls/));
  if (missing("net_prio")) assert.throws(() => create({ linux: { resources: { network: { priorities: [{ name: "lo", priority: 1 }] } } } }), is(HostError, /priorities\[0\]: the net_prio/));
  if (missing("rdma")) assert.throws(() => create({ linux: { resources: { rdma: { mlx5_0: { hcaHandles: 1 } } } } }), is(HostError, /rdma\.mlx5_0: the rdma/));
  assert.throws(() => create({ linux: { resources: { unified: { "memory.high": "1" } } } }), is(HostError, /^linux\.resources\.unified: cannot use unified resources/));
  assert.is(leftovers().length, 0);
});

test("update: raising and lowering memory+swap in the order the kernel accepts", () => {
  const cg = create({ linux: { resources: { memory: { limit: 104857600, swap: 209715200 } } } });
  const mem = cg.paths["memory"]!;
  cg.applyResources({ memory: { limit: 314572800, swap: 419430400 } });
  assert.is(rd(mem, "memory.limit_in_bytes"), "314572800");
  assert.is(rd(mem, "memory.memsw.limit_in_bytes"), "419430400");
  cg.applyResources({ memory: { limit: 52428800, swap: 62914560 } });
  assert.is(rd(mem, "memory.limit_in_bytes"), "52428800");
  assert.is(rd(mem, "memory.memsw.limit_in_bytes"), "62914560");
  cg.applyResources({ memory: { limit: -1 } });
  assert.is(rd(mem, "memory.limit_in_bytes"), "9223372036854771712");
  assert.is(rd(mem, "memory.memsw.limit_in_bytes"), "9223372036854771712");
  // Shorter period with a quota: the kernel may refuse the period first; it is retried.
  cg.applyResources({ cpu: { quota: 200000, period: 1000000 } });
  cg.applyResources({ cpu: { quota: 1000, period: 10000 } });
  assert.is(rd(cg.paths["cpu"]!, "cpu.cfs_period_us"), "10000");
  assert.is(rd(cg.paths["cpu"]!, "cpu.cfs_quota_us"), "1000");
  cg.applyResources({ cpu: { realtimePeriod: 1000000, realtimeRuntime: 0 } });
});

test("OOM kills are seen through memory.oom_control", async () => {
  const cg = create({ linux: { resources: { memory: { limit: 16777216, swap: 16777216 } } } });
  let seen = 0n;
  const w = cg.watchOom((n) => (seen += n), { intervalMs: 20 });
  try {
    const a = allocator(64 << 20);
    cg.addProcess(a.child.pid!);
    await a.go().catch(() => undefined);
    assert.is(await exited(a.child), "SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    w.stop();
  }
  assert.ok(cg.oomKillCount() >= 1n, `oom_kill ${cg.oomKillCount()}`);
  assert.ok(seen >= 1n);
});

test("absolute cgroupsPath: created parents are removed with the container", () => {
  const parent = `${PREFIX}-parent`;
  const cg = create({ linux: { cgroupsPath: `/${parent}/sub/ctr` } });
  assert.is(cg.paths["pids"], `/sys/fs/cgroup/pids/${parent}/sub/ctr`);
  assert.ok(cg.created.includes(`/sys/fs/cgroup/pids/${parent}`));
  const child = sleeper();
  cg.addProcess(child.pid!);
  destroyCgroup(cg);
  made.splice(made.indexOf(cg), 1);
  assert.not.ok(fs.existsSync(`/sys/fs/cgroup/pids/${parent}`));
  assert.not.ok(fs.existsSync(`/sys/fs/cgroup/memory/${parent}`));
});

test("nothing is left under any hierarchy", () => {
  assert.equal(leftovers(), []);
});

test.run();
