import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec } from "../../src/spec/default";
import { normaliseConfig, type Spec } from "../../src/spec/normalise";
import { RLIMIT_TYPES, type OciConfig } from "../../src/spec/types";
import { parseConfigText } from "../../src/spec/load";
import { decodePlan, encodePlan } from "../../src/plan/encode";
import { RLIMIT } from "../../src/linux/rlimits";
import { cgroupV2Mount } from "../../src/linux/mounts";
import { planContainer, type PlanInput } from "../../src/planner/container";
import { planExec } from "../../src/planner/exec";
import { Sync, type PlanOp } from "../../src/plan/ops";
import { CLONE } from "../../src/linux/namespaces";
import { MS } from "../../src/linux/mount-options";
import { ConfigError, HostError } from "../../src/errors";

const OP_NAME = new Map<number, string>();
for (const m of readFileSync(join(__dirname, "../../src/plan/ops.ts"), "utf8").matchAll(/^\s+([A-Z_]+) = (\d+),/gm))
  if (!OP_NAME.has(Number(m[2]))) OP_NAME.set(Number(m[2]), m[1]!);
const nameOf = (o: PlanOp) => OP_NAME.get(o.code)!;

const ALL_CAPS = (1n << 41n) - 1n;
const bit = (n: number) => 1n << BigInt(n);
const CAP = { KILL: 5, NET_BIND_SERVICE: 10, SYS_ADMIN: 21, AUDIT_WRITE: 29, BPF: 39 };

function specOf(patch?: (c: OciConfig) => void, rootless = false): Spec {
  const cfg = defaultSpec({ rootless, cgroupNamespace: false, uid: 1000, gid: 1000 });
  patch?.(cfg);
  return normaliseConfig(cfg, { bundle: "/bundle" });
}

interface Planned {
  ops: PlanOp[];
  cloneFlags: number;
  warnings: string[];
  names: string[];
  /** index of the first op with that name (and matching pred); -1 if none */
  at: (name: string, pred?: (o: PlanOp) => boolean) => number;
  last: (name: string) => number;
  all: (name: string) => PlanOp[];
}

function plan(spec: Spec, over: Partial<PlanInput> = {}): Planned {
  const warnings: string[] = [];
  const p = planContainer({
    spec,
    id: "test",
    noPivot: false,
    fifoIndex: 0,
    cgroupSync: false,
    cgroupViews: [{ name: "", hostPath: "/sys/fs/cgroup/ctr", fsOptions: "", unified: true }],
    env: ["PATH=/bin", "HOME=/root"],
    groups: [],
    host: { lastCap: 40, bounding: ALL_CAPS, lsm: { apparmor: false, selinux: false }, hasProcKcore: true },
    warn: (m) => warnings.push(m),
    ...over,
  });
  const names = p.ops.map(nameOf);
  return {
    ops: p.ops,
    cloneFlags: p.cloneFlags,
    warnings,
    names,
    at: (name, pred) => p.ops.findIndex((o) => nameOf(o) === name && (!pred || pred(o))),
    last: (name) => names.lastIndexOf(name),
    all: (name) => p.ops.filter((o) => nameOf(o) === name),
  };
}

function before(p: Planned, a: number, b: number, msg: string): void {
  assert.ok(a >= 0, `${msg}: first op missing`);
  assert.ok(b >= 0, `${msg}: second op missing`);
  assert.ok(a < b, `${msg} (${a} < ${b}): ${p.names.join(" ")}`);
}

const isCaps = (flags: number) => (o: PlanOp) => o.flags === flags;

// ---- the default spec ------------------------------------------------------

test("default spec: the fast path clones every namespace at once", () => {
  const p = plan(specOf());
  assert.is(p.cloneFlags, CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS);
  assert.is(p.at("SETNS"), -1);
  assert.is(p.at("UNSHARE"), -1);
  assert.is(p.at("FORK"), -1);
  assert.is(p.at("SYNC"), -1, "no cgroup sync with CLONE_INTO_CGROUP");
});

test("default spec: rootfs prepared (propagation, parent private, self-bind) before the mounts", () => {
  const p = plan(specOf());
  // the new network namespace's lo comes up first (namespace ops)
  assert.equal(p.names.slice(0, 4), ["NET_LO_UP", "PROPAGATION", "PARENT_PRIVATE", "MOUNT"]);
  assert.equal(p.ops[1]!.ints, [MS.SLAVE | MS.REC], "runc's default: rslave");
  assert.equal(p.ops[1]!.blobs, ["/"]);
  assert.equal(p.ops[2]!.blobs, ["/bundle/rootfs"]);
  const self = p.ops[3]!;
  assert.equal(self.blobs!.slice(0, 2), ["/bundle/rootfs", "/bundle/rootfs"]);
  assert.ok(((self.ints![0] as number) & (MS.BIND | MS.REC)) === (MS.BIND | MS.REC));
  assert.match(self.what, /^root\.path/);
});

test("default spec: config mounts in order, then devices and links, cwd, pivot_root", () => {
  const spec = specOf();
  const p = plan(spec);
  const mounts = p.ops.filter((o) => /^mounts\[/.test(o.what));
  assert.equal(mounts.map((o) => o.what), spec.mounts.map((m, i) => `mounts[${i}] (${m.destination})`));
  assert.equal(mounts.map((o) => o.blobs![1]), spec.mounts.map((m) => m.destination));
  const lastMount = p.last("MOUNT");
  before(p, lastMount, p.at("MKNOD"), "devices after mounts");
  before(p, p.last("MKNOD"), p.at("SYMLINK"), "links after nodes");
  before(p, p.last("SYMLINK"), p.at("MKDIR"), "cwd after devices");
  before(p, p.at("MKDIR"), p.at("PIVOT_ROOT"), "cwd made before pivot_root");
  assert.equal(p.ops[p.at("MKDIR")]!.blobs, ["/"]);
  assert.equal(p.ops[p.at("PIVOT_ROOT")]!.ints, [0]);
  assert.equal(p.ops[p.at("PIVOT_ROOT")]!.blobs, ["/bundle/rootfs"]);
  assert.is(p.all("PIVOT_ROOT").length, 1);
});

test("default spec: after pivot_root: masks, readonly paths, readonly root, hostname, rlimits", () => {
  const spec = specOf();
  const p = plan(spec);
  const pivot = p.at("PIVOT_ROOT");
  before(p, pivot, p.at("REMOUNT_RO_ROOT"), "restrictions after pivot_root");
  assert.equal(p.all("MASK").map((o) => o.blobs![0]), spec.linux.maskedPaths);
  assert.equal(p.all("READONLY").map((o) => o.blobs![0]), spec.linux.readonlyPaths);
  // runc's order: the root read-only, then readonly paths, then masks
  before(p, p.at("REMOUNT_RO_ROOT"), p.at("READONLY"), "readonly paths after the root remount");
  before(p, p.last("READONLY"), p.at("MASK"), "masks after readonly paths");
  before(p, p.last("MASK"), p.at("SETHOSTNAME"), "hostname after the masks");
  assert.equal(p.ops[p.at("SETHOSTNAME")]!.blobs, ["runc"]);
  before(p, p.at("SETHOSTNAME"), p.at("SETRLIMIT"), "rlimits after hostname");
  assert.equal(p.ops[p.at("SETRLIMIT")]!.ints, [7, 1024n, 1024n]);
});

test("default spec: bounding set, groups, user, cwd, capability sets, no_new_privs, exec last", () => {
  const p = plan(specOf());
  const bounding = p.at("CAPS", isCaps(1));
  const sets = p.at("CAPS", isCaps(2));
  before(p, p.last("SETRLIMIT"), bounding, "rlimits while still privileged");
  before(p, bounding, p.at("SETGROUPS"), "bounding set before setgroups");
  before(p, p.at("SETGROUPS"), p.at("SETUSER"), "setgroups before setuid");
  before(p, p.at("SETUSER"), p.at("CHDIR"), "chdir as the user");
  before(p, p.at("CHDIR"), sets, "capability sets after chdir");
  before(p, sets, p.at("NO_NEW_PRIVS"), "no_new_privs after capabilities");
  assert.is(p.names[p.names.length - 1], "EXEC");
  assert.is(p.all("EXEC").length, 1);
  const want = bit(CAP.AUDIT_WRITE) | bit(CAP.KILL) | bit(CAP.NET_BIND_SERVICE);
  assert.equal(p.ops[bounding]!.ints, [want, 0, 0, 0, 0]);
  assert.equal(p.ops[sets]!.ints, [want, want, want, 0n, 0n]);
  assert.equal(p.ops[p.at("SETUSER")]!.ints, [0, 0]);
  assert.equal(p.ops[p.at("CHDIR")]!.blobs, ["/"]);
  assert.equal(p.warnings, []);
});

test("exec: argv then env, the fifo index, no seccomp", () => {
  const p = plan(specOf((c) => (c.process!.args = ["/bin/echo", "a b", ""])), { fifoIndex: 3, env: ["A=1"] });
  const exec = p.ops[p.ops.length - 1]!;
  assert.equal(exec.ints, [3, 3, 0, 0]);
  assert.equal(exec.blobs, ["/bin/echo", "a b", "", "A=1"]);
  assert.match(exec.what, /^process\.args/);
});

// ---- cgroups ---------------------------------------------------------------

test("cgroup sync (v1/hybrid) is the very first op, before any namespace op", () => {
  const p = plan(specOf(undefined, true), { cgroupSync: true });
  assert.equal(p.ops[0]!.ints, [Sync.CGROUP_PLS]);
  assert.is(p.names[0], "SYNC");
  assert.match(p.ops[0]!.what, /^linux\.cgroupsPath/);
  before(p, 0, p.at("UNSHARE"), "before the user namespace");
  assert.is(plan(specOf(), { cgroupSync: true }).names[0], "SYNC");
});

test("a new cgroup namespace is unshared after the cgroup is joined and the other namespaces, before mounts", () => {
  const p = plan(specOf((c) => c.linux!.namespaces!.push({ type: "cgroup" })), { cgroupSync: true });
  const unshare = p.at("UNSHARE", (o) => o.ints![0] === CLONE.NEWCGROUP);
  before(p, p.at("SYNC"), unshare, "after the cgroup sync");
  before(p, unshare, p.at("PROPAGATION"), "before the rootfs");
  assert.is(p.cloneFlags & CLONE.NEWCGROUP, 0);
  assert.match(p.ops[unshare]!.what, /^linux\.namespaces/);
});

test("cgroup mount on pure v2, as runc 1.1: a fresh cgroup2 mount of the config's source, with or without a cgroup namespace", () => {
  const without = plan(specOf());
  const m = without.ops.find((o) => o.what === "mounts[6] (/sys/fs/cgroup)")!;
  assert.equal(m.blobs!, ["cgroup", "/sys/fs/cgroup", "cgroup2", ""]);
  assert.is(((m.ints![0] as number) & MS.BIND), 0);
  const withNs = plan(specOf((c) => c.linux!.namespaces!.push({ type: "cgroup" })));
  const m2 = withNs.ops.find((o) => o.what === "mounts[6] (/sys/fs/cgroup)")!;
  assert.equal(m2.blobs!.slice(0, 3), ["cgroup", "/sys/fs/cgroup", "cgroup2"]);
  // where the kernel refuses the mount, runc's fallback: the whole hierarchy bound (own cgroup in a cgroup namespace)
  assert.equal(cgroupV2Mount({ inCgroupns: false, inUserns: true, underHostSys: false }), "all");
  assert.equal(cgroupV2Mount({ inCgroupns: true, inUserns: true, underHostSys: false }), "fresh");
  assert.equal(cgroupV2Mount({ inCgroupns: false, inUserns: false, underHostSys: true }), "all");
  assert.equal(cgroupV2Mount({ inCgroupns: true, inUserns: false, underHostSys: true }), "own");
  const userns = plan(specOf((c) => {
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  }));
  const m3 = userns.ops.find((o) => o.what === "mounts[6] (/sys/fs/cgroup)")!;
  assert.equal(m3.blobs!.slice(0, 2), ["/sys/fs/cgroup", "/sys/fs/cgroup"]);
  assert.ok(((m3.ints![0] as number) & MS.BIND) !== 0);
});

const HYBRID_VIEWS = [
  { name: "cpu,cpuacct", hostPath: "/sys/fs/cgroup/cpu,cpuacct/ctr", fsOptions: "cpu,cpuacct", unified: false },
  { name: "memory", hostPath: "/sys/fs/cgroup/memory/ctr", fsOptions: "memory", unified: false },
  { name: "systemd", hostPath: "/sys/fs/cgroup/systemd/ctr", fsOptions: "name=systemd", unified: false },
  { name: "unified", hostPath: "/sys/fs/cgroup/unified/ctr", fsOptions: "", unified: true },
];

test("cgroup mount on v1/hybrid, as runc 1.1: a tmpfs never read-only, one dir per v1 hierarchy, no cgroup2 view, links for co-mounts", () => {
  const NSD = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const cgroupOps = (p: Planned) => p.ops.filter((o) => o.what.startsWith("mounts[6] (/sys/fs/cgroup)"));
  // runc's default: nosuid, noexec, nodev, relatime, ro; here with "noatime" and "rslave" as well
  const spec = (ns: boolean) => specOf((c) => {
    c.mounts![6]!.options = ["nosuid", "noexec", "nodev", "noatime", "ro", "rslave"];
    if (ns) c.linux!.namespaces!.push({ type: "cgroup" });
  });
  const bind = cgroupOps(plan(spec(false), { cgroupViews: HYBRID_VIEWS }));
  assert.equal(bind.map((o) => [nameOf(o), ...o.blobs!.slice(0, 3)]), [
    ["MOUNT", "tmpfs", "/sys/fs/cgroup", "tmpfs"],
    ["MOUNT", "/sys/fs/cgroup/cpu,cpuacct/ctr", "/sys/fs/cgroup/cpu,cpuacct", ""],
    ["MOUNT", "/sys/fs/cgroup/memory/ctr", "/sys/fs/cgroup/memory", ""],
    ["MOUNT", "/sys/fs/cgroup/systemd/ctr", "/sys/fs/cgroup/systemd", ""],
    ["SYMLINK", "cpu,cpuacct", "/sys/fs/cgroup/cpu"],
    ["SYMLINK", "cpu,cpuacct", "/sys/fs/cgroup/cpuacct"],
  ]);
  // the tmpfs: runc's defaultMountFlags and the mount's propagation, never the config's ro
  assert.is(bind[0]!.ints![0], NSD);
  assert.is(bind[0]!.ints![1], MS.SLAVE | MS.REC);
  assert.is(bind[0]!.blobs![3], "mode=755");
  // the binds: the config's flags (ro, noatime ...) and propagation
  assert.is(bind[1]!.ints![0], MS.BIND | MS.REC | NSD | MS.NOATIME | MS.RDONLY);
  assert.is(bind[1]!.ints![1], MS.SLAVE | MS.REC);

  const fresh = cgroupOps(plan(spec(true), { cgroupViews: HYBRID_VIEWS }));
  assert.equal(fresh.filter((o) => nameOf(o) === "MOUNT").map((o) => o.blobs), [
    ["tmpfs", "/sys/fs/cgroup", "tmpfs", "mode=755"],
    ["cgroup", "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "cpu,cpuacct"],
    ["cgroup", "/sys/fs/cgroup/memory", "cgroup", "memory"],
    ["systemd", "/sys/fs/cgroup/systemd", "cgroup", "name=systemd"],
  ]);
  // in a cgroup namespace only nosuid, nodev, noexec and ro (runc ignores the rest)
  for (const o of fresh.slice(1, 4)) assert.equal([o.ints![0], o.ints![1]], [NSD | MS.RDONLY, 0]);
  assert.not.ok([...bind, ...fresh].some((o) => ((o.ints?.[0] ?? 0) as number) & MS.REMOUNT), "no read-only remount of the tmpfs");
});

test("a \"cgroup2\" mount is an ordinary filesystem mount, as for runc (only \"cgroup\" gets runc's layout)", () => {
  const p = plan(specOf((c) => c.mounts!.push({ destination: "/mnt", type: "cgroup2", source: "cgroup2", options: ["nosuid"] })), { cgroupViews: HYBRID_VIEWS });
  const ops = p.ops.filter((o) => o.what.startsWith("mounts[7]"));
  assert.equal(ops.map((o) => [nameOf(o), ...o.blobs!]), [["MOUNT", "cgroup2", "/mnt", "cgroup2", ""]]);
  assert.is(ops[0]!.ints![0], MS.NOSUID);
});

test("a read-only tmpfs is mounted writable and bind-remounted read-only after pivot_root, as runc's finalizeRootfs", () => {
  const p = plan(specOf((c) => c.mounts!.push({ destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["ro", "nosuid"] })));
  const mnt = p.ops.filter((o) => o.what.startsWith("mounts[7]"));
  assert.equal(mnt.map((o) => o.blobs!.slice(0, 3)), [["tmpfs", "/mnt", "tmpfs"], ["", "/mnt", ""]]);
  assert.is(mnt[0]!.ints![0], MS.NOSUID, "writable at first");
  assert.is(mnt[1]!.ints![0], MS.NOSUID | MS.RDONLY | MS.BIND | MS.REMOUNT);
  before(p, p.at("PIVOT_ROOT"), p.ops.indexOf(mnt[1]!), "after pivot_root");
  before(p, p.ops.indexOf(mnt[1]!), p.at("REMOUNT_RO_ROOT"), "before the root goes read-only");
  // a read-only bind stays as it was: read-only at once
  const b = plan(specOf((c) => c.mounts!.push({ destination: "/mnt", type: "bind", source: "/srv", options: ["rbind", "ro"] })));
  assert.is(b.ops.filter((o) => o.what.startsWith("mounts[7]")).length, 1);
});

// ---- user namespaces and joins ---------------------------------------------

test("rootless spec: user namespace by unshare, id maps, root in it; devices bind-mounted", () => {
  const p = plan(specOf(undefined, true));
  assert.is(p.cloneFlags, 0);
  assert.equal(p.names.slice(0, 3), ["UNSHARE", "SYNC", "SETID_ROOT"]);
  assert.equal(p.ops[0]!.ints, [CLONE.NEWUSER]);
  assert.equal(p.ops[1]!.ints, [Sync.USERMAP_PLS]);
  before(p, p.at("SETID_ROOT"), p.at("PROPAGATION"), "in the user namespace before the rootfs");
  before(p, p.at("FORK"), p.at("PROPAGATION"), "forked into the pid namespace before the rootfs");
  for (const d of p.all("MKNOD")) assert.is(d.ints![5], 1, `${d.blobs![0]} is bound from the host`);
  const rootful = plan(specOf());
  for (const d of rootful.all("MKNOD")) assert.is(d.ints![5], 0);
});

test("joining a pid namespace: setns and fork, no clone flags", () => {
  const p = plan(specOf((c) => (c.linux!.namespaces = [{ type: "pid", path: "/proc/1/ns/pid" }, { type: "mount" }])), { fifoIndex: 2 });
  assert.is(p.cloneFlags, 0);
  assert.equal(p.names.slice(0, 3), ["SETNS", "UNSHARE", "FORK"]);
  assert.equal(p.ops[0]!.ints, [3, CLONE.NEWPID], "namespace fds follow the fifo");
  assert.is(p.ops[p.ops.length - 1]!.ints![1], 2);
});

// ---- rootfs variants -------------------------------------------------------

test("--no-pivot: MS_MOVE + chroot", () => {
  const p = plan(specOf(), { noPivot: true });
  assert.equal(p.ops[p.at("PIVOT_ROOT")]!.ints, [1]);
  assert.match(p.ops[p.at("PIVOT_ROOT")]!.what, /^root\.path/);
});

test("rootfsPropagation: used to prepare the rootfs and applied to / after pivot_root", () => {
  const p = plan(specOf((c) => (c.linux!.rootfsPropagation = "rshared")));
  assert.equal(p.ops[p.at("PROPAGATION")]!.ints, [MS.SHARED | MS.REC]);
  const after = p.ops.findIndex((o, i) => i > p.at("PIVOT_ROOT") && nameOf(o) === "PROPAGATION");
  before(p, p.at("PIVOT_ROOT"), after, "propagation after pivot");
  assert.equal(p.ops[after]!.ints, [MS.SHARED | MS.REC]);
  assert.is(p.ops[after]!.what, "linux.rootfsPropagation");
  assert.is(plan(specOf()).all("PROPAGATION").length, 1, "no second one without the field");
});

// runc applies the mapped flags as they are, and after pivot_root only for shared/unbindable
test("rootfsPropagation after pivot_root: runc's flags as mapped, only shared/unbindable", () => {
  const after = (prop: NonNullable<OciConfig["linux"]>["rootfsPropagation"]) => {
    const p = plan(specOf((c) => (c.linux!.rootfsPropagation = prop)));
    return p.ops.filter((o, i) => i > p.at("PIVOT_ROOT") && nameOf(o) === "PROPAGATION").map((o) => o.ints![0]);
  };
  assert.equal(after("shared"), [MS.SHARED]);
  assert.equal(after("rshared"), [MS.SHARED | MS.REC]);
  assert.equal(after("unbindable"), [MS.UNBINDABLE]);
  assert.equal(after("rprivate"), []);
  assert.equal(after("slave"), []);
});

test("root.readonly false: no remount", () => {
  assert.is(plan(specOf((c) => (c.root!.readonly = false))).at("REMOUNT_RO_ROOT"), -1);
});

test("/dev bind-mounted from the host: no device nodes or links", () => {
  const p = plan(specOf((c) => (c.mounts![1] = { destination: "/dev", type: "bind", source: "/dev", options: ["rbind"] })));
  assert.is(p.at("MKNOD"), -1);
  assert.is(p.at("SYMLINK"), -1);
});

test("stdio that is /dev/null: reopened as the container's right after pivot_root, unless /dev is a bind (runc's reOpenDevNull)", () => {
  const p = plan(specOf());
  assert.is(p.at("REOPEN_DEV_NULL"), p.at("PIVOT_ROOT") + 1);
  before(p, p.at("REOPEN_DEV_NULL"), p.at("REMOUNT_RO_ROOT"), "before anything is made read-only");
  const bound = plan(specOf((c) => (c.mounts![1] = { destination: "/dev", type: "bind", source: "/dev", options: ["rbind"] })));
  assert.is(bound.at("REOPEN_DEV_NULL"), -1);
  const noMnt = plan(specOf((c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "mount");
    c.linux!.maskedPaths = [];
    c.linux!.readonlyPaths = [];
  }));
  assert.is(noMnt.at("REOPEN_DEV_NULL"), -1, "no /dev of its own without a mount namespace");
});

test("terminal: the init's console right after pivot_root (and /dev/null), bound on /dev/console, before any read-only remount; exec's without", () => {
  const spec = specOf((c) => {
    c.process!.terminal = true;
    c.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["ro"] });
  });
  const p = plan(spec);
  assert.equal(p.all("CONSOLE").map((o) => o.flags), [1], "one console, with /dev/console");
  assert.is(p.at("CONSOLE"), p.at("REOPEN_DEV_NULL") + 1);
  before(p, p.at("PIVOT_ROOT"), p.at("CONSOLE"), "after pivot_root");
  before(p, p.at("CONSOLE"), p.at("MOUNT", (o) => ((o.ints![0] as number) & MS.REMOUNT) !== 0), "before the late read-only remounts");
  before(p, p.at("CONSOLE"), p.at("REMOUNT_RO_ROOT"), "before the root is made read-only");
  assert.is(p.at("SETSID"), -1, "the console makes the session");
  const ex = planExec({ spec, id: "test", join: ["pid", "mount"], cgroupSync: false, env: ["PATH=/bin"], groups: [], host: { lastCap: 40, bounding: ALL_CAPS, lsm: { apparmor: false, selinux: false }, hasProcKcore: true }, warn: () => {} });
  assert.equal(ex.filter((o) => nameOf(o) === "CONSOLE").map((o) => o.flags), [0], "exec: a pty, no /dev/console");
  const noMnt = plan(specOf((c) => {
    c.process!.terminal = true;
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "mount");
    c.linux!.maskedPaths = [];
    c.linux!.readonlyPaths = [];
  }));
  assert.equal(noMnt.all("CONSOLE").map((o) => o.flags), [0], "no mount namespace: nothing mounted");
});

test("config devices after the mounts, with their config field", () => {
  const p = plan(specOf((c) => (c.linux!.devices = [{ type: "c", path: "/dev/fuse", major: 10, minor: 229 }])));
  const fuse = p.at("MKNOD", (o) => o.blobs![0] === "/dev/fuse");
  before(p, p.last("MOUNT"), fuse, "after the mounts");
  assert.is(p.ops[fuse]!.what, "linux.devices[0] (/dev/fuse)");
});

test("no mount namespace: chroot only, with a warning, and nothing mounted", () => {
  const p = plan(
    specOf((c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "mount");
      c.linux!.maskedPaths = [];
      c.linux!.readonlyPaths = [];
    }),
  );
  assert.equal(p.all("PIVOT_ROOT").map((o) => o.ints), [[2]]);
  for (const n of ["MOUNT", "MKNOD", "SYMLINK", "PROPAGATION", "PARENT_PRIVATE", "MASK", "READONLY", "REMOUNT_RO_ROOT", "MKDIR"]) assert.is(p.at(n), -1, `no ${n}`);
  assert.is(p.warnings.length, 1);
  assert.match(p.warnings[0]!, /mount namespace/);
  assert.is(p.cloneFlags & CLONE.NEWNS, 0);
});

test("no mount namespace but masked or readonly paths: an error naming the field (as runc)", () => {
  const noMnt = (c: OciConfig) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "mount"));
  try {
    plan(specOf(noMnt));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as ConfigError).where, "linux.maskedPaths");
  }
});

// ---- sysctl, process -------------------------------------------------------

test("sysctl: written after pivot_root (the container's /proc), before masks", () => {
  const p = plan(specOf((c) => (c.linux!.sysctl = { "net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1" })));
  const w = p.all("WRITE_FILE");
  assert.equal(w.map((o) => o.blobs), [["/proc/sys/net/ipv4/ip_forward", "1"], ["/proc/sys/kernel/shm_rmid_forced", "1"]]);
  before(p, p.at("PIVOT_ROOT"), p.at("WRITE_FILE"), "after pivot");
  before(p, p.last("WRITE_FILE"), p.at("MASK"), "before masking /proc/sys");
  before(p, p.last("WRITE_FILE"), p.at("READONLY"), "before /proc/sys goes readonly");
  for (const o of w) assert.match(o.what, /^linux\.sysctl/);
});

test("user, groups and umask: setgroups, setuid, umask before chdir", () => {
  const p = plan(specOf((c) => (c.process!.user = { uid: 1000, gid: 100, umask: 0o27, additionalGids: [5] })), { groups: [5, 10] });
  assert.equal(p.ops[p.at("SETGROUPS")]!.ints, [5, 10]);
  assert.equal(p.ops[p.at("SETUSER")]!.ints, [1000, 100]);
  assert.equal(p.ops[p.at("UMASK")]!.ints, [0o27]);
  before(p, p.at("SETUSER"), p.at("UMASK"), "umask after setuid");
  before(p, p.at("UMASK"), p.at("CHDIR"), "umask before chdir");
});

test("no hostname, domainname or no_new_privs: no ops for them; no capabilities: every set emptied, as runc", () => {
  const p = plan(
    specOf((c) => {
      delete c.hostname;
      delete c.process!.capabilities;
      c.process!.noNewPrivileges = false;
    }),
  );
  for (const n of ["SETHOSTNAME", "SETDOMAINNAME", "NO_NEW_PRIVS"]) assert.is(p.at(n), -1, n);
  assert.equal(p.all("CAPS").map((o) => o.ints), [[0n, 0, 0, 0, 0], [0n, 0n, 0n, 0n, 0n]]);
  const d = plan(specOf((c) => (c.domainname = "example.org")));
  assert.equal(d.ops[d.at("SETDOMAINNAME")]!.blobs, ["example.org"]);
  assert.is(d.ops[d.at("SETDOMAINNAME")]!.what, "domainname");
});

test("rlimits in config order; uint64 values exact from the JSON text to the plan's bytes", () => {
  const p = plan(specOf((c) => (c.process!.rlimits = [{ type: "RLIMIT_CORE", soft: 0, hard: 0 }, { type: "RLIMIT_NOFILE", soft: 10, hard: 20 }])));
  assert.equal(p.all("SETRLIMIT").map((o) => o.ints), [[4, 0n, 0n], [7, 10n, 20n]]);
  assert.equal(p.all("SETRLIMIT").map((o) => o.what), ["process.rlimits[0] (RLIMIT_CORE)", "process.rlimits[1] (RLIMIT_NOFILE)"]);
  // JSON.parse rounds both of these (to 2^64 and 2^53): only the exact path keeps them
  const cfg = defaultSpec({ rootless: false, cgroupNamespace: false });
  cfg.process!.rlimits = [{ type: "RLIMIT_NOFILE", soft: 0, hard: 0 }];
  const text = JSON.stringify(cfg).replace('"soft":0,"hard":0', '"soft":9007199254740993,"hard":18446744073709551615');
  const parsed = parseConfigText(text);
  const spec = normaliseConfig(parsed.value as OciConfig, { bundle: "/bundle", bigInts: parsed.bigInts });
  const op = plan(spec).all("SETRLIMIT")[0]!;
  assert.equal(op.ints, [7, 9007199254740993n, 18446744073709551615n]);
  const decoded = decodePlan(encodePlan([op]))[0]!;
  assert.equal(decoded.ints, [7n, 9007199254740993n, 0xffffffffffffffffn]);
});

test("every rlimit type of the spec has the kernel's number", () => {
  // asm-generic/resource.h, which x86_64, arm64 and arm share
  const hdr = readFileSync("/usr/include/asm-generic/resource.h", "utf8");
  for (const type of RLIMIT_TYPES) {
    const m = new RegExp(`#\\s*define\\s+${type}\\s+(\\d+)`).exec(hdr);
    assert.ok(m, `${type} in asm-generic/resource.h`);
    assert.is(RLIMIT[type], Number(m![1]), type);
  }
});

test("linux.mountLabel: context= on the mounts that take one where SELinux is on, an error naming it where it is off", () => {
  const label = "system_u:object_r:container_file_t:s0:c1,c2";
  const spec = specOf((c) => {
    c.linux!.mountLabel = label;
    c.mounts!.push({ destination: "/data", type: "bind", source: "/srv", options: ["rbind"] });
  });
  const data = (p: Planned, dest: string) => p.all("MOUNT").find((o) => o.blobs![1] === dest)!.blobs![3];
  const on = plan(spec, { host: { lastCap: 40, bounding: ALL_CAPS, lsm: { apparmor: false, selinux: true }, hasProcKcore: true } });
  assert.is(data(on, "/dev"), `mode=755,size=65536k,context="${label}"`);
  assert.is(data(on, "/dev/shm"), `mode=1777,size=65536k,context="${label}"`);
  assert.is(data(on, "/proc"), "", "proc takes no context");
  assert.is(data(on, "/dev/mqueue"), "", "nor mqueue");
  assert.is(data(on, "/sys"), "", "nor sysfs");
  assert.is(data(on, "/data"), "", "nor a bind");
  // runc's maskPath: a masked directory's tmpfs takes the label as its only data
  assert.ok(on.all("MASK").every((o) => o.blobs![1] === `context="${label}"`), "masks carry the label");
  assert.ok(plan(specOf()).all("MASK").every((o) => o.blobs!.length === 1), "and nothing without one");
  // as runc, whose tmpfs mount fails with the context= option: the label cannot be applied
  assert.throws(() => plan(spec), (e: Error) => e instanceof HostError && /^linux\.mountLabel: SELinux is disabled/.test(e.line()));
});

// ---- seccomp ---------------------------------------------------------------

const filter = { program: Buffer.alloc(16, 1), flags: 4, notify: false };

test("seccomp without no_new_privs: loaded early, while still privileged", () => {
  const p = plan(specOf((c) => (c.process!.noNewPrivileges = false)), { seccomp: filter });
  const s = p.at("SECCOMP");
  before(p, p.at("PIVOT_ROOT"), s, "after the rootfs");
  before(p, s, p.at("CAPS", isCaps(1)), "before the bounding set is dropped");
  before(p, s, p.at("SETUSER"), "before setuid");
  assert.equal(p.ops[s]!.ints, [4, 0]);
  assert.equal(p.ops[s]!.blobs, [filter.program]);
  assert.is(p.ops[s]!.what, "linux.seccomp");
  const exec = p.ops[p.ops.length - 1]!;
  assert.equal(exec.ints!.slice(2), [0, 0], "the exec carries none");
});

test("seccomp with no_new_privs: carried by the exec, loaded last", () => {
  const p = plan(specOf(), { seccomp: { ...filter, notify: true } });
  assert.is(p.at("SECCOMP"), -1);
  const exec = p.ops[p.ops.length - 1]!;
  assert.equal(exec.ints, [1, 0, 4, 3]);
  assert.is(exec.blobs![exec.blobs!.length - 1], filter.program);
  const plain = plan(specOf(), { seccomp: filter });
  assert.equal(plain.ops[plain.ops.length - 1]!.ints, [1, 0, 4, 1]);
});

// ---- capabilities ----------------------------------------------------------

test("capabilities outside the host's bounding set are dropped with a warning", () => {
  const host = { lastCap: 40, bounding: ALL_CAPS & ~bit(CAP.SYS_ADMIN) & ~bit(CAP.BPF), lsm: { apparmor: false, selinux: false }, hasProcKcore: true };
  const p = plan(specOf((c) => (c.process!.capabilities = { bounding: ["CAP_SYS_ADMIN", "CAP_KILL", "CAP_BPF"], effective: ["CAP_SYS_ADMIN"], permitted: ["CAP_SYS_ADMIN", "CAP_KILL"] })), { host });
  assert.equal(p.ops[p.at("CAPS", isCaps(2))]!.ints, [bit(CAP.KILL), 0n, bit(CAP.KILL), 0n, 0n]);
  assert.equal(p.ops[p.at("CAPS", isCaps(1))]!.ints, [bit(CAP.KILL), 0, 0, 0, 0]);
  assert.is(p.warnings.length, 1);
  assert.match(p.warnings[0]!, /^process\.capabilities: CAP_SYS_ADMIN, CAP_BPF not in this host's bounding set/);
});

test("unknown capability names and ones above cap_last_cap: warned and ignored", () => {
  const p = plan(specOf((c) => (c.process!.capabilities = { bounding: ["CAP_KILL", "CAP_NOPE", "CAP_CHECKPOINT_RESTORE"] })), {
    host: { lastCap: 39, bounding: ALL_CAPS, lsm: { apparmor: false, selinux: false }, hasProcKcore: true },
  });
  assert.equal(p.ops[p.at("CAPS", isCaps(1))]!.ints, [bit(CAP.KILL), 0, 0, 0, 0]);
  assert.is(p.warnings.length, 2);
  assert.ok(p.warnings.some((w) => /bounding.*CAP_NOPE/.test(w)));
  assert.ok(p.warnings.some((w) => /bounding.*CAP_CHECKPOINT_RESTORE/.test(w)));
});

// ---- what ------------------------------------------------------------------

const CONFIG_FIELD = /^(process|root|mounts|linux|hostname|domainname|hooks|annotations)\b/;

function richSpec(): Spec {
  return specOf((c) => {
    c.linux!.sysctl = { "kernel.msgmax": "8192" };
    c.linux!.devices = [{ type: "c", path: "/dev/fuse", major: 10, minor: 229 }];
    c.linux!.rootfsPropagation = "rslave";
    c.linux!.namespaces!.push({ type: "cgroup" });
    c.domainname = "d";
    c.process!.user = { uid: 1, gid: 1, umask: 0o22 };
    c.process!.oomScoreAdj = 100;
  });
}

test("every op has a what", () => {
  for (const spec of [richSpec(), specOf(undefined, true)]) {
    const p = plan(spec, { cgroupSync: true, seccomp: filter });
    for (const o of p.ops) assert.ok(o.what && o.what.trim().length > 0, `${nameOf(o)} has no what`);
  }
});

test("every op's what names the config field (devices and links included)", () => {
  const p = plan(richSpec(), { cgroupSync: true, seccomp: filter });
  const bad = p.ops.filter((o) => !CONFIG_FIELD.test(o.what)).map((o) => `${nameOf(o)}: ${o.what}`);
  assert.equal(bad, []);
});

test.run();
