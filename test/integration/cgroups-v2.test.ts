// cgroup v2 for real (the fs driver): every resource of linux.resources, read back
// from the kernel's own files of the container's cgroup, and the commands that work
// on the cgroup (pause/resume, update, events, ps, exec) on a pure cgroup v2 host.
// Where runc is installed the same bundle is run by runc side by side and the files
// compared; what runc 1.1 does differently (it predates cpu.idle, cpu.max.burst,
// hugetlb rsvd limits, pids.limit 0 as 1 and runc 1.3's shares->weight curve) is
// left out of those comparisons and said where it matters.
// Hosts that are not pure v2 (this project's hybrid machines) record every test as
// skipped; the VM lane's guest is such a host: npm run test:vm -- 'cgroups-v2'.
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, uniqueId, waitFor, type Sandbox } from "./harness";
import { blockDevice, hugePageSizes, knob, knobs, MiB, noBfq, notPureV2, rdmaDevice, RUNC, Side, useBfq, type Made, type Runtime } from "./v2-side";
import { blkioWeightToIoWeight, cpuSharesToWeight } from "../../src/linux/cgroups/convert";
import type { OciConfig } from "../../src/spec/types";

interface Ctx {
  sb: Sandbox;
  side: Side;
}

const t = hostSuite<Ctx>("cgroups-v2", process.getuid?.() !== 0 ? "needs root" : notPureV2());
t.before((ctx) => {
  ctx.sb = sandbox("cgv2");
  ctx.side = new Side(ctx.sb);
});
let t0 = 0;
t.before.each(() => void (t0 = Date.now()));
t.after.each(() => void (process.env["OCIRT_TEST_TIMES"] && process.stderr.write(`  [${((Date.now() - t0) / 1000).toFixed(1)} s]\n`)));
t.after((ctx) => {
  ctx.side.cleanup();
  ctx.sb.cleanup();
});

const RUNTIMES: Runtime[] = RUNC ? ["ocirt", "runc"] : ["ocirt"];
const SLEEP = ["/bin/sleep", "1000"];

/** A busybox bundle that sleeps, with `resources` merged into the default ones. */
function bundle(sb: Sandbox, patch: (c: OciConfig) => void = () => {}): string {
  return sb.bundle((c) => {
    c.process!.args = SLEEP;
    patch(c);
  }, { busybox: true });
}

const withResources = (r: NonNullable<OciConfig["linux"]>["resources"]) => (c: OciConfig) => {
  c.linux!.resources = { ...c.linux!.resources, ...r };
};

/** The container of each runtime made from one bundle; must succeed. */
function makeAll(side: Side, b: string, opts: { start?: boolean } = {}): Made[] {
  return RUNTIMES.map((rt) => {
    const m = side.make(rt, b, uniqueId(rt === "ocirt" ? "v2" : "rc"), opts);
    if (!("dir" in m)) throw new Error(`${rt} create: ${m.error}`);
    return m;
  });
}

/** The files of ocirt's container, and runc's equal to them where runc is there. */
function sameFiles(made: Made[], files: string[], what: string): Record<string, string> {
  const [mine, runc] = made.map((m) => knobs(m.dir, files));
  if (runc) assert.equal(mine, runc, `${what}: ocirt's files (first) as runc's (second)`);
  return mine!;
}

function deleteAll(side: Side, made: readonly { rt: Runtime; id: string; dir?: string }[]): void {
  for (const m of made) side.delete(m);
  for (const m of made) if ("dir" in m) assert.not.ok(existsSync((m as Made).dir), `${m.rt}'s cgroup is removed`);
}

/** create must fail for each runtime: ocirt with one line naming `where`; the lines returned. */
function failAll(side: Side, b: string, where: RegExp): Record<Runtime, string> {
  const out: Partial<Record<Runtime, string>> = {};
  for (const rt of RUNTIMES) {
    const m = side.make(rt, b, uniqueId(rt === "ocirt" ? "v2f" : "rcf"));
    if ("dir" in m) {
      side.delete(m);
      assert.unreachable(`${rt} create succeeded`);
    }
    const failed = m as { status: number; error: string };
    assert.is(failed.status, 1, `${rt}: ${failed.error}`);
    out[rt] = failed.error;
  }
  assert.match(out.ocirt!, where);
  return out as Record<Runtime, string>;
}

const exec = (side: Side, m: { rt: Runtime; id: string }, script: string) => side.cmd(m.rt, ["exec", m.id, "/bin/sh", "-c", script]);
const status = (side: Side, m: { rt: Runtime; id: string }) => JSON.parse(side.cmd(m.rt, ["state", m.id]).stdout).status as string;

// --------------------------------------------------- memory, pids, hugetlb ----
const sizes = hugePageSizes();

t("memory, pids, hugetlb: memory.max/swap.max/low, unified memory.high/min/oom.group, pids.max, hugetlb.<size>.max, as runc writes them", ({ sb, side }) => {
  const limits = sizes.map((pageSize, i) => ({ pageSize, limit: i === 0 ? 2 * 1024 * MiB : 0 }));
  const made = makeAll(side, bundle(sb, withResources({
    memory: { limit: 64 * MiB, swap: 96 * MiB, reservation: 32 * MiB },
    pids: { limit: 50 },
    hugepageLimits: limits,
    unified: { "memory.high": String(48 * MiB), "memory.min": String(8 * MiB), "memory.oom.group": "1" },
  })));
  const hugetlb = Object.fromEntries(limits.map((l) => [`hugetlb.${l.pageSize}.max`, String(l.limit)]));
  const want = {
    "memory.max": String(64 * MiB),
    // the spec's swap is memory+swap (v1's memsw); v2's swap.max is swap alone
    "memory.swap.max": String(32 * MiB),
    "memory.low": String(32 * MiB),
    "memory.high": String(48 * MiB),
    "memory.min": String(8 * MiB),
    "memory.oom.group": "1",
    "pids.max": "50",
    ...hugetlb,
  };
  assert.equal(sameFiles(made, Object.keys(want), "memory, pids, hugetlb"), want);
  deleteAll(side, made);
});

t("what runc >= 1.2 added over 1.1: cpu.idle, cpu.max.burst, hugetlb rsvd limits, pids.limit 0 as 1; runc 1.3's shares->weight curve", ({ sb, side }) => {
  const limits = sizes.map((pageSize, i) => ({ pageSize, limit: i === 0 ? 2 * 1024 * MiB : 0 }));
  const m = side.make("ocirt", bundle(sb, withResources({ cpu: { idle: 1, burst: 10000, quota: 50000, period: 100000 }, pids: { limit: 0 }, hugepageLimits: limits })), uniqueId("new"));
  assert.ok("dir" in m, JSON.stringify(m));
  assert.equal(knobs((m as Made).dir, ["cpu.idle", "cpu.weight", "cpu.max.burst", "pids.max", ...limits.map((l) => `hugetlb.${l.pageSize}.rsvd.max`)]), {
    // an idle cgroup's weight reads 1
    "cpu.idle": "1",
    "cpu.weight": "1",
    "cpu.max.burst": "10000",
    // systemd's TasksMax cannot be 0: both of runc's drivers write 1
    "pids.max": "1",
    ...Object.fromEntries(limits.map((l) => [`hugetlb.${l.pageSize}.rsvd.max`, String(l.limit)])),
  });
  deleteAll(side, [m]);
  // runc 1.1 converts shares linearly (512 -> 20); runc >= 1.3 and ocirt with the curve through 2, 1024, 262144
  assert.equal([2n, 512n, 1024n, 262144n].map(cpuSharesToWeight), [1n, 59n, 100n, 10000n]);
});

// --------------------------------------------------------------------- cpu ----
t("cpu: cpu.weight, cpu.max, cpuset.cpus/mems", ({ sb, side }) => {
  const made = makeAll(side, bundle(sb, withResources({ cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0", mems: "0" } })));
  assert.equal(sameFiles(made, ["cpu.max", "cpuset.cpus", "cpuset.mems"], "cpu"), { "cpu.max": "50000 100000", "cpuset.cpus": "0", "cpuset.mems": "0" });
  assert.is(knob(made[0]!.dir, "cpu.weight"), String(cpuSharesToWeight(512n)));
  deleteAll(side, made);
});

// ---------------------------------------------------------------------- io ----
let devCache: ReturnType<typeof blockDevice> | undefined;
/** The block device the io tests limit (made on first use in the VM lane). */
const device = () => (devCache ??= blockDevice());
t("io: weight, per-device weight (BFQ) and io.max", ({ sb, side }) => {
  const dev = device();
  if (typeof dev === "string") throw new Error(dev);
  const d = { major: dev.major, minor: dev.minor };
  const mm = `${dev.major}:${dev.minor}`;
  const throttle = {
    throttleReadBpsDevice: [{ ...d, rate: 1000000 }],
    throttleWriteIOPSDevice: [{ ...d, rate: 100 }],
  };
  const bfq = useBfq(dev);
  try {
    const made = makeAll(side, bundle(sb, withResources({ blockIO: { weight: 500, ...(bfq ? { weightDevice: [{ ...d, weight: 300 }] } : {}), ...throttle } })));
    const files = sameFiles(made, ["io.max", existsSync(join(made[0]!.dir, "io.bfq.weight")) ? "io.bfq.weight" : "io.weight"], "io");
    assert.is(files["io.max"], `${mm} rbps=1000000 wbps=max riops=max wiops=100`);
    // BFQ takes the spec's weight as it is; without it, io.weight gets runc's conversion
    if (files["io.bfq.weight"] !== undefined) assert.is(files["io.bfq.weight"], bfq ? `default 500\n${mm} 300` : "default 500");
    else assert.is(files["io.weight"], `default ${blkioWeightToIoWeight(500n)}`);
    deleteAll(side, made);
  } finally {
    if (bfq) noBfq(dev);
  }
});

testIf(t, process.env["OCIRT_VM"] ? null : "needs a block device of its own to switch its scheduler (the VM lane's guests make one with null_blk)",
  "io: a per-device weight the device's scheduler cannot take fails naming the field, as with runc", ({ sb, side }) => {
  const dev = device();
  if (typeof dev === "string" || !dev.own) throw new Error(typeof dev === "string" ? dev : `${dev.name} is the host's own disk`);
  const d = { major: dev.major, minor: dev.minor };
  noBfq(dev);
  // the device without BFQ cannot take a weight of its own: EOPNOTSUPP, for runc too
  const errs = failAll(side, bundle(sb, withResources({ blockIO: { weightDevice: [{ ...d, weight: 300 }] } })), /^linux\.resources\.blockIO\.weightDevice\[0\]\.weight: write .* to io\.bfq\.weight: Operation not supported/);
  if (errs.runc) assert.match(errs.runc, /operation not supported/);
});

// --------------------------------------------------------------- rdma, misc ----
t("rdma: rdma.max of a device; an unknown device fails naming the field, as with runc", ({ sb, side }) => {
  const rdma = rdmaDevice();
  if (typeof rdma === "string") throw new Error(rdma);
  try {
    const made = makeAll(side, bundle(sb, withResources({ rdma: { [rdma.name]: { hcaHandles: 2, hcaObjects: 100 } } })));
    assert.equal(sameFiles(made, ["rdma.max"], "rdma"), { "rdma.max": `${rdma.name} hca_handle=2 hca_object=100` });
    deleteAll(side, made);
  } finally {
    rdma.remove();
  }
  const errs = failAll(side, bundle(sb, withResources({ rdma: { ocitestnodev: { hcaHandles: 1 } } })), /^linux\.resources\.rdma\.ocitestnodev: write ocitestnodev hca_handle=1 to rdma\.max: No such device$/);
  if (errs.runc) assert.match(errs.runc, /no such device/);
});

t("misc: misc.max through unified (a resource the host has, else the kernel's refusal naming the field)", ({ sb, side }) => {
  const capacity = readFileSync("/sys/fs/cgroup/misc.capacity", "utf8").trim().split("\n").filter(Boolean);
  if (capacity.length) {
    const res = capacity[0]!.split(" ")[0]!;
    const made = makeAll(side, bundle(sb, withResources({ unified: { "misc.max": `${res} 0` } })));
    assert.match(sameFiles(made, ["misc.max"], "misc")["misc.max"]!, new RegExp(`^${res} 0$`, "m"));
    deleteAll(side, made);
  }
  const errs = failAll(side, bundle(sb, withResources({ unified: { "misc.max": "ocitest 1" } })), /^linux\.resources\.unified\.misc\.max: write ocitest 1 to misc\.max: Invalid argument$/);
  if (errs.runc) assert.match(errs.runc, /misc\.max.*invalid argument/);
});

// ------------------------------------------------------------------ unified ----
t("unified: any cgroup file, written after (and over) the spec's own fields; bad keys fail naming the key", ({ sb, side }) => {
  const made = makeAll(side, bundle(sb, withResources({
    cpu: { shares: 1024 },
    pids: { limit: 100 },
    unified: { "cpu.weight": "77", "cpu.max": "20000 100000", "pids.max": "9", "io.weight": "default 42", "memory.high": String(40 * MiB), "cgroup.max.depth": "3" },
  })));
  assert.equal(sameFiles(made, ["cpu.weight", "cpu.max", "pids.max", "io.weight", "memory.high", "cgroup.max.depth"], "unified"), {
    "cpu.weight": "77",
    "cpu.max": "20000 100000",
    "pids.max": "9",
    "io.weight": "default 42",
    "memory.high": String(40 * MiB),
    "cgroup.max.depth": "3",
  });
  deleteAll(side, made);
  failAll(side, bundle(sb, withResources({ unified: { "memory.nosuch": "1" } })), /^linux\.resources\.unified\.memory\.nosuch: write 1 to memory\.nosuch: No such file or directory$/);
  const slash = side.make("ocirt", bundle(sb, withResources({ unified: { "../cgroup.procs": "1" } })), uniqueId("sl"));
  assert.ok(!("dir" in slash) && /must be a file name \(no slashes\)/.test(slash.error), JSON.stringify(slash));
});

// ----------------------------------------------------------------- devices ----
t("devices: the eBPF program denies what the rules deny (a device listed in linux.devices loses runc's default rule)", ({ sb, side }) => {
  // /dev/zero listed as a device of the spec: only the spec's own rules (deny all) apply to it
  const b = bundle(sb, (c) => {
    c.linux!.devices = [{ path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 0o666 }];
  });
  const made = makeAll(side, b);
  for (const m of made) {
    const r = exec(side, m, "head -c1 /dev/zero >/dev/null; echo zero=$?; echo > /dev/null; echo null=$?; head -c1 /dev/urandom >/dev/null; echo urandom=$?");
    assert.is(r.stdout, "zero=1\nnull=0\nurandom=0\n", `${m.rt}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /\/dev\/zero: Operation not permitted/, m.rt);
  }
  deleteAll(side, made);
  // and /dev/null itself (runc 1.1 cannot run this one: it reopens the init's stdin, /dev/null, and fails)
  const id = uniqueId("null");
  sb.ids.push(id);
  const r = sb.ocirt(["run", "-b", sb.bundle((c) => {
    c.process!.args = ["/bin/sh", "-c", "echo x > /dev/null; echo null=$?"];
    c.linux!.devices = [{ path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666 }];
  }, { busybox: true }), id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "null=1\n");
  assert.match(r.stderr, /\/dev\/null: Operation not permitted/);
});

// ------------------------------------------------------------ freeze/thaw ----
// (created containers, and the wrong-state refusals: cgroup-commands.test.ts, which runs here too)
t("pause/resume: cgroup.freeze and cgroup.events' frozen, state paused, as runc", ({ sb, side }) => {
  const made = makeAll(side, bundle(sb), { start: true });
  for (const m of made) {
    assert.is(side.cmd(m.rt, ["pause", m.id]).status, 0, m.rt);
    assert.is(knob(m.dir, "cgroup.freeze"), "1");
    assert.match(knob(m.dir, "cgroup.events"), /^frozen 1$/m);
    assert.is(status(side, m), "paused", m.rt);
    assert.is(side.cmd(m.rt, ["resume", m.id]).status, 0, m.rt);
    assert.is(knob(m.dir, "cgroup.freeze"), "0");
    assert.match(knob(m.dir, "cgroup.events"), /^frozen 0$/m);
    assert.is(status(side, m), "running", m.rt);
  }
  deleteAll(side, made);
});

// ---------------------------------------------------------------------- OOM ----
/** `events` in the background, its output in a file. */
function watchEvents(side: Side, m: { rt: Runtime; id: string }): { lines(): string[]; stop(): Promise<void> } {
  const file = join(side.sb.dir, `events-${m.id}`);
  const fd = openSync(file, "w");
  const bin = m.rt === "ocirt" ? join(__dirname, "..", "..", "bin", "ocirt") : RUNC!;
  const root = m.rt === "ocirt" ? side.sb.root : side.runcRoot;
  const child = spawn(bin, ["--root", root, "events", "--interval", "1h", m.id], { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  return {
    lines: () => readFileSync(file, "utf8").split("\n").filter(Boolean),
    stop: () => new Promise((res) => (child.exitCode !== null ? res() : (child.on("exit", () => res()), child.kill()))),
  };
}

// one process that takes 40 MB at once: the OOM killer has nothing else of the hog's to pick
// (a `head | tr` pipeline kept allocating after its shell was killed, and a second kill then
// now and then took the init)
const HOG = "exec dd if=/dev/zero of=/dev/null bs=40000000 count=1";

t("OOM: memory.events counts the kill, `events` prints runc's oom event; memory.oom.group takes the whole container", async ({ sb, side }) => {
  // started: runc's waiting init is a Go process the OOM killer may pick
  const made = makeAll(side, bundle(sb, withResources({ memory: { limit: 16 * MiB, swap: 16 * MiB } })), { start: true });
  for (const m of made) {
    const ev = watchEvents(side, m);
    try {
      // the stream is set up once it has read the counter; nothing tells when but time
      await new Promise((r) => setTimeout(r, 1500));
      const r = exec(side, m, HOG);
      assert.is(r.status, 137, `${m.rt}: the hog is killed (${r.stdout}${r.stderr})`);
      assert.match(knob(m.dir, "memory.events"), /^oom_kill [1-9]\d*$/m);
      assert.is(status(side, m), "running", `${m.rt}: the init lives on (memory.oom.group 0)`);
      const end = Date.now() + 10_000;
      while (Date.now() < end && !ev.lines().length) await new Promise((res) => setTimeout(res, 100));
      assert.ok(ev.lines().length >= 1, `${m.rt}: an event`);
      for (const line of ev.lines()) assert.equal(JSON.parse(line), { type: "oom", id: m.id }, `${m.rt}: ${line}`);
    } finally {
      await ev.stop();
    }
  }
  deleteAll(side, made);
  const group = side.make("ocirt", bundle(sb, withResources({ memory: { limit: 16 * MiB, swap: 16 * MiB }, unified: { "memory.oom.group": "1" } })), uniqueId("oomg")) as Made;
  const r = exec(side, group, HOG);
  assert.is(r.status, 137, r.stdout + r.stderr);
  assert.ok(waitFor(() => status(side, group) === "stopped", 10_000), "the kernel killed the whole group, the init with it");
  assert.match(knob(group.dir, "memory.events"), /^oom_group_kill [1-9]\d*$/m);
  deleteAll(side, [group]);
});

// ------------------------------------------------------------ events --stats ----
/** Every key path of a JSON value ("memory.usage.limit"); arrays by their first element. */
function paths(v: unknown, p = ""): string[] {
  if (Array.isArray(v)) return v.length ? paths(v[0], `${p}[]`) : [];
  if (!v || typeof v !== "object") return [];
  return Object.entries(v).flatMap(([k, x]) => [`${p}${k}`, ...paths(x, `${p}${k}.`)]);
}

t("events --stats: read from the v2 files in runc's JSON shape, PSI as runc >= 1.2 prints it", ({ sb, side }) => {
  const limit = sizes.length ? [{ pageSize: sizes[0]!, limit: 0 }] : [];
  // started: runc's waiting init is a Go process with threads of its own
  const made = makeAll(side, bundle(sb, withResources({ memory: { limit: 64 * MiB }, pids: { limit: 20 }, hugepageLimits: limit })), { start: true });
  const [mine, runc] = made.map((m) => {
    const r = side.cmd(m.rt, ["events", "--stats", m.id]);
    assert.is(r.status, 0, `${m.rt}: ${r.stderr}`);
    assert.is(r.stdout.trim().split("\n").length, 1, "one line");
    return JSON.parse(r.stdout);
  });
  assert.equal(Object.keys(mine), ["type", "id", "data"]);
  assert.is(mine.type, "stats");
  const d = mine.data;
  assert.equal(Object.keys(d), ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]);
  assert.equal(d.pids, { current: 1, limit: 20 });
  assert.is(d.memory.usage.limit, 64 * MiB);
  assert.ok(d.memory.usage.usage > 0);
  assert.ok(d.cpu.usage.total > 0);
  assert.equal(Object.keys(d.hugetlb).sort(), [...sizes].sort());
  // PSI: runc 1.2's PSIStats, "some" and "full" always both there (Go omits no struct)
  for (const [key, file] of [["cpu", "cpu.pressure"], ["memory", "memory.pressure"], ["blkio", "io.pressure"]] as const) {
    if (!existsSync(join(made[0]!.dir, file))) continue;
    assert.equal(Object.keys(d[key].psi), ["some", "full"], `${key}.psi`);
    for (const k of ["some", "full"]) assert.equal(Object.keys(d[key].psi[k]), ["avg10", "avg60", "avg300", "total"], `${key}.psi.${k}`);
  }
  if (runc) {
    // the same shape as runc 1.1's, but for what 1.1 lacks (PSI, memory.peak) and the zero
    // structs it prints that Go >= 1.24's omitzero (runc >= 1.3) leaves out
    const known = /^data\.(cpu|memory|blkio)\.psi|^data\.memory\.usage\.max$|^data\.memory\.(kernel|kernelTCP)(\.|$)|^data\.cpu\.throttling$/;
    const norm = (j: unknown) => paths(j).filter((p) => !known.test(p) && !/^data\.memory\.raw\./.test(p)).sort();
    assert.equal(norm(mine), norm(runc));
    assert.equal(Object.keys(mine.data.memory.raw).sort(), Object.keys(runc.data.memory.raw).sort(), "memory.stat's keys");
    assert.equal(mine.data.pids, runc.data.pids);
    assert.is(mine.data.memory.usage.limit, runc.data.memory.usage.limit);
  }
  deleteAll(side, made);
});

// ------------------------------------------------------------------ update ----
t("update: every field, read back from the files; runc 1.1 writes the same for the fields it knows", ({ sb, side }) => {
  const dev = device();
  if (typeof dev === "string") throw new Error(dev);
  const made = makeAll(side, bundle(sb, withResources({ memory: { limit: 64 * MiB }, cpu: { shares: 1024, quota: 50000, period: 100000 }, pids: { limit: 100 } })));
  const files = ["memory.max", "memory.swap.max", "memory.low", "cpu.max", "cpuset.cpus", "cpuset.mems", "pids.max"];
  const upd = (args: string[]) => made.forEach((m) => {
    const r = side.cmd(m.rt, ["update", ...args, m.id]);
    assert.is(r.status, 0, `${m.rt} update ${args.join(" ")}: ${r.stderr}`);
  });
  upd(["--memory", "128M", "--memory-swap", "256M", "--memory-reservation", "16M", "--cpu-share", "2048", "--cpu-period", "200000", "--cpu-quota", "100000",
    "--cpuset-cpus", "0", "--cpuset-mems", "0", "--pids-limit", "200", "--blkio-weight", "300"]);
  assert.equal(sameFiles(made, files, "update flags"), {
    "memory.max": String(128 * MiB), "memory.swap.max": String(128 * MiB), "memory.low": String(16 * MiB), "cpu.max": "100000 200000",
    "cpuset.cpus": "0", "cpuset.mems": "0", "pids.max": "200",
  });
  const weightFile = existsSync(join(made[0]!.dir, "io.bfq.weight")) ? "io.bfq.weight" : "io.weight";
  assert.is(sameFiles(made, [weightFile], "blkio weight")[weightFile], weightFile === "io.bfq.weight" ? "default 300" : `default ${blkioWeightToIoWeight(300n)}`);
  assert.is(knob(made[0]!.dir, "cpu.weight"), String(cpuSharesToWeight(2048n)));
  upd(["--cpu-quota", "-1"]);
  assert.is(sameFiles(made, ["cpu.max"], "quota -1")["cpu.max"], "max 200000");
  // memory == memory+swap: no swap at all; -1: no limit, on swap either
  upd(["--memory", "64M", "--memory-swap", "64M"]);
  assert.equal(sameFiles(made, ["memory.max", "memory.swap.max"], "no swap"), { "memory.max": String(64 * MiB), "memory.swap.max": "0" });
  upd(["--memory", "-1", "--pids-limit", "-1"]);
  assert.equal(sameFiles(made, ["memory.max", "memory.swap.max", "pids.max"], "memory -1"), { "memory.max": "max", "memory.swap.max": "max", "pids.max": "max" });
  // -r: the JSON form, unified and the I/O limits included (runc 1.1 applies neither the
  // throttles nor cpu.burst from it; runc >= 1.2 does)
  const json = join(sb.dir, "update.json");
  writeFileSync(json, JSON.stringify({
    memory: { limit: 100 * MiB, swap: 150 * MiB },
    cpu: { shares: 512, burst: 1000 },
    pids: { limit: 77 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: dev.major, minor: dev.minor, rate: 2000000 }], throttleWriteIOPSDevice: [{ major: dev.major, minor: dev.minor, rate: 50 }] },
    unified: { "memory.high": String(90 * MiB), "memory.oom.group": "1" },
  }));
  upd(["-r", json]);
  assert.equal(sameFiles(made, ["memory.max", "memory.swap.max", "pids.max", "memory.high", "memory.oom.group"], "update -r"), {
    "memory.max": String(100 * MiB), "memory.swap.max": String(50 * MiB), "pids.max": "77", "memory.high": String(90 * MiB), "memory.oom.group": "1",
  });
  assert.equal(knobs(made[0]!.dir, ["io.max", "cpu.max.burst", "cpu.weight"]), {
    "io.max": `${dev.major}:${dev.minor} rbps=2000000 wbps=max riops=max wiops=50`, "cpu.max.burst": "1000", "cpu.weight": String(cpuSharesToWeight(512n)),
  });
  // cpu.idle (runc >= 1.2's --cpu-idle)
  const m = made[0]!;
  assert.is(side.cmd("ocirt", ["update", "--cpu-idle", "1", m.id]).status, 0);
  assert.is(knob(m.dir, "cpu.idle"), "1");
  assert.is(side.cmd("ocirt", ["update", "--cpu-idle", "0", "--cpu-share", "1024", m.id]).status, 0);
  assert.equal(knobs(m.dir, ["cpu.idle", "cpu.weight"]), { "cpu.idle": "0", "cpu.weight": "100" });
  deleteAll(side, made);
});

// ------------------------------------------------- subtree_control, nesting ----
t("cgroup.subtree_control: every available controller enabled on the way down, none in the container's own, as runc", ({ sb, side }) => {
  const top = `ocitest-tree-${process.pid}`;
  const made = RUNTIMES.map((rt) => {
    const id = uniqueId(rt === "ocirt" ? "tree" : "rtree");
    const m = side.make(rt, bundle(sb, (c) => (c.linux!.cgroupsPath = `/${top}-${rt}/a/${id}`)), id);
    assert.ok("dir" in m, JSON.stringify(m));
    return m as Made;
  });
  const available = readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").trim();
  for (const m of made) {
    assert.is(m.dir, `/sys/fs/cgroup/${top}-${m.rt}/a/${m.id}`);
    for (const anc of ["", `${top}-${m.rt}`, `${top}-${m.rt}/a`]) {
      assert.is(knob(join("/sys/fs/cgroup", anc), "cgroup.subtree_control").split(" ").sort().join(" "), available.split(" ").sort().join(" "), `${m.rt}: /${anc}`);
    }
    assert.is(knob(m.dir, "cgroup.subtree_control"), "", `${m.rt}: the container's own cgroup enables nothing`);
    assert.is(knob(m.dir, "cgroup.controllers"), available);
  }
  deleteAll(side, made);
  // ocirt removes the parents it made; runc leaves them
  assert.not.ok(existsSync(`/sys/fs/cgroup/${top}-ocirt`));
  for (const d of [`${top}-runc/a`, `${top}-runc`]) if (existsSync(`/sys/fs/cgroup/${d}`)) rmdirSync(`/sys/fs/cgroup/${d}`);
});

/** A process of the host parked in a new cgroup (the parent of a container's, to make it busy). */
function busyCgroup(name: string): { dir: string; done(): void } {
  const dir = join("/sys/fs/cgroup", name);
  mkdirSync(dir);
  const p = spawn("sleep", ["600"], { stdio: "ignore" });
  writeFileSync(join(dir, "cgroup.procs"), String(p.pid));
  return {
    dir,
    done: () => {
      p.kill("SIGKILL");
      waitFor(() => knob(dir, "cgroup.procs") === "");
      rmdirSync(dir);
    },
  };
}

t("no internal processes: a parent with processes gets threaded controllers only; a cgroup that delegates domain controllers takes no container", ({ sb, side }) => {
  for (const rt of RUNTIMES) {
    const busy = busyCgroup(`ocitest-busy-${process.pid}-${rt}`);
    try {
      // no limits: created, with the controllers a cgroup with processes may hand down
      const m = side.make(rt, bundle(sb, (c) => (c.linux!.cgroupsPath = `/${busy.dir.slice(15)}/c`)), uniqueId(`busy${rt}`));
      assert.ok("dir" in m, JSON.stringify(m));
      assert.is(knob(busy.dir, "cgroup.subtree_control"), "cpuset cpu pids", rt);
      assert.is(knob((m as Made).dir, "cgroup.controllers"), "cpuset cpu pids", rt);
      deleteAll(side, [m]);
      // a memory limit there cannot be had: refused before anything runs (the parent, a
      // thread root now, or the new cgroup in it, an invalid domain: runc's two checks)
      const f = side.make(rt, bundle(sb, (c) => {
        c.linux!.cgroupsPath = `/${busy.dir.slice(15)}/c`;
        c.linux!.resources = { ...c.linux!.resources, memory: { limit: 64 * MiB } };
      }), uniqueId(`busyf${rt}`));
      assert.ok(!("dir" in f), rt);
      assert.match((f as { error: string }).error, /cannot enter cgroupv2 "?\/sys\/fs\/cgroup\/ocitest-busy-\d+-\w+(\/c)?"? with domain controllers:? -?-? ?it is in (an invalid state|domain threaded mode)/, `${rt}: ${(f as { error: string }).error}`);
    } finally {
      busy.done();
    }
  }
  // the container's own cgroup exists and enables memory for its children
  for (const rt of RUNTIMES) {
    const dir = `/sys/fs/cgroup/ocitest-deleg-${process.pid}-${rt}`;
    mkdirSync(dir);
    try {
      writeFileSync(join(dir, "cgroup.subtree_control"), "+memory");
      const f = side.make(rt, bundle(sb, (c) => (c.linux!.cgroupsPath = dir.slice(14))), uniqueId(`deleg${rt}`));
      assert.ok(!("dir" in f), rt);
      if (rt === "ocirt") {
        assert.match((f as { error: string }).error, /^linux\.cgroupsPath: container's cgroup \/sys\/fs\/cgroup\/ocitest-deleg-\d+-ocirt enables memory for its child cgroups/);
        // refused before anything is written: the cgroup it did not make is left as it was
        assert.ok(existsSync(dir), "ocirt leaves the cgroup it did not make");
        assert.is(knob(dir, "cgroup.subtree_control"), "memory");
      } else {
        // runc 1.1 fails on the cgroup.procs write, and its clean-up removes the cgroup
        assert.match((f as { error: string }).error, /cgroup\.procs: device or resource busy/);
      }
    } finally {
      if (existsSync(dir)) rmdirSync(dir);
    }
  }
});

t("exec into a container whose init enabled controllers for its children: the exec joins the init's cgroup, as runc", ({ sb, side }) => {
  // systemd or docker inside a container: the init moves into a child cgroup and delegates
  const b = bundle(sb, (c) => {
    c.process!.args = ["/bin/sh", "-c", "mkdir /sys/fs/cgroup/init && echo $$ > /sys/fs/cgroup/init/cgroup.procs && echo +memory +pids > /sys/fs/cgroup/cgroup.subtree_control && exec sleep 1000"];
    for (const m of c.mounts!) if (m.destination === "/sys/fs/cgroup" || m.destination === "/sys") m.options = m.options!.filter((o) => o !== "ro");
  });
  const made = makeAll(side, b, { start: true });
  for (const m of made) {
    assert.ok(waitFor(() => knob(m.dir, "cgroup.subtree_control") === "memory pids", 10_000), `${m.rt}: the init delegated`);
    const r = exec(side, m, "cat /proc/self/cgroup");
    assert.is(r.status, 0, `${m.rt}: ${r.stderr}`);
    assert.is(r.stdout, "0::/init\n", m.rt);
  }
  // --cgroup naming a sub-cgroup still goes there, and only there
  const mine = made[0]!;
  mkdirSync(join(mine.dir, "other"));
  const r = side.cmd("ocirt", ["exec", "--cgroup", "other", mine.id, "cat", "/proc/self/cgroup"]);
  assert.is(r.stdout, "0::/other\n", r.stderr);
  deleteAll(side, made);
});

t("nested: a container whose cgroupsPath is inside another's: its own cgroup namespace, a threaded cgroup as with runc, ps and delete", ({ sb, side }) => {
  for (const rt of RUNTIMES) {
    const a = side.make(rt, bundle(sb), uniqueId(`na${rt}`)) as Made;
    const rel = a.dir.slice("/sys/fs/cgroup".length);
    const bId = uniqueId(`nb${rt}`);
    const b = side.make(rt, bundle(sb, (c) => (c.linux!.cgroupsPath = `${rel}/${bId}`)), bId) as Made;
    assert.ok("dir" in b, JSON.stringify(b));
    assert.is(b.dir, `${a.dir}/${bId}`);
    // a cgroup with processes hands down threaded controllers only: B becomes threaded
    assert.equal(knobs(b.dir, ["cgroup.type"]), { "cgroup.type": "threaded" }, rt);
    assert.is(knob(a.dir, "cgroup.type"), "domain threaded", rt);
    let r = exec(side, b, "cat /proc/self/cgroup");
    assert.is(r.stdout, "0::/\n", `${rt}: B's cgroup namespace is rooted at its cgroup`);
    r = exec(side, a, `cat /proc/self/cgroup; ls -d /sys/fs/cgroup/${bId}`);
    assert.is(r.stdout, `0::/\n/sys/fs/cgroup/${bId}\n`, `${rt}: A sees B's cgroup below its own (${r.stderr})`);
    if (rt === "ocirt") {
      const ps = JSON.parse(side.cmd(rt, ["ps", "--format", "json", a.id]).stdout) as number[];
      assert.equal(ps.sort(), [a.pid, b.pid].sort(), "ps of A: its init and B's, each once");
    }
    side.delete(b);
    assert.not.ok(existsSync(b.dir));
    assert.is(status(side, a), "created", `${rt}: A is untouched`);
    side.delete(a);
    assert.not.ok(existsSync(a.dir));
  }
  // deleting the outer one first: ocirt kills the whole subtree (cgroup.kill) and removes
  // it; B is stopped and its delete cleans up (runc 1.1 leaves B running in a cgroup it
  // cannot remove and warns)
  const a = side.make("ocirt", bundle(sb), uniqueId("na")) as Made;
  const bId = uniqueId("nb");
  const b = side.make("ocirt", bundle(sb, (c) => (c.linux!.cgroupsPath = `${a.dir.slice(14)}/${bId}`)), bId) as Made;
  side.delete(a);
  assert.not.ok(existsSync(a.dir));
  assert.is(status(side, b), "stopped");
  side.delete(b);
});

t.run();
