// Rootless planning without root: who ocirt runs as comes in as data (UserFacts), so
// the refusals, the sysfs bind, the dumpable id-map wait, the device binds, the
// state root, --rootless and the cgroup delegation check are all checked here.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultSpec } from "../../src/spec/default";
import { normaliseConfig, type Spec } from "../../src/spec/normalise";
import type { OciConfig } from "../../src/spec/types";
import { planContainer } from "../../src/planner/container";
import { Op, Sync, SYNC_DUMPABLE, type PlanOp } from "../../src/plan/ops";
import { MS } from "../../src/linux/mount-options";
import { checkRootless, rootlessMounts, sysfsFromHost, userNamespaceMountable } from "../../src/linux/rootless";
import { defaultStateRoot, isInitialUidMap, rootlessCgroups, type UserFacts } from "../../src/host";
import { checkMapTools, findTool, mapWriters } from "../../src/lifecycle/usermap";
import { delegationProblem, limitsRequested } from "../../src/linux/cgroups/delegation";
import { ownCgroupViews } from "../../src/lifecycle/container-cgroup";
import { parseCgroupHost } from "../../src/linux/cgroups/host";
import type { CgroupPlan } from "../../src/linux/cgroups/plan";
import { parseArgv } from "../../src/cli/parse";
import { hostUid, userManager, userManagerOf } from "../../src/linux/cgroups/systemd-user";
import { userBusPath } from "../../src/linux/cgroups/dbus-address";
import { planCgroup } from "../../src/linux/cgroups/plan";
import { features } from "../../src/commands/features";
import { ConfigError, UsageError } from "../../src/errors";

const USER: UserFacts = { euid: 1000, egid: 1000, inUserns: false };
const PODMAN: UserFacts = { euid: 0, egid: 0, inUserns: true };
const ROOT: UserFacts = { euid: 0, egid: 0, inUserns: false };

function specOf(patch?: (c: OciConfig) => void, rootless = true): Spec {
  const cfg = defaultSpec({ rootless, cgroupNamespace: false, uid: 1000, gid: 1000 });
  patch?.(cfg);
  return normaliseConfig(cfg, { bundle: "/bundle" });
}

function plan(spec: Spec, user: UserFacts | undefined): PlanOp[] {
  return planContainer({
    spec, id: "t", noPivot: false, fifoIndex: 0, cgroupSync: false,
    cgroupViews: [{ name: "", hostPath: "/sys/fs/cgroup/own", fsOptions: "", unified: true }],
    env: ["PATH=/bin"], groups: [],
    host: { lastCap: 40, bounding: (1n << 41n) - 1n, lsm: { apparmor: false, selinux: false }, hasProcKcore: true, user },
    warn: () => {},
  }).ops;
}

function refusal(fn: () => void): { where: string; line: string } {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ConfigError);
    const e = err as ConfigError;
    assert.not.match(e.message, /\n/, "one line");
    return { where: (e as unknown as { where: string }).where, line: e.message };
  }
  throw new Error("not refused");
}

test("ocirt spec --rootless plans as is for an unprivileged user", () => {
  const ops = plan(specOf(), USER);
  assert.ok(ops.some((o) => o.code === Op.EXEC));
});

test("unprivileged without a user namespace: refused, naming linux.namespaces", () => {
  const r = refusal(() => plan(specOf((c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "user");
    delete c.linux!.uidMappings;
    delete c.linux!.gidMappings;
  }), USER));
  assert.is(r.where, "linux.namespaces");
  assert.match(r.line, /a rootless container needs a user namespace \(ocirt runs as uid 1000\)/);
  // root of the host, or of podman's user namespace: no user namespace needed
  const noUserns = specOf((c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "user");
    delete c.linux!.uidMappings;
    delete c.linux!.gidMappings;
  });
  plan(noUserns, ROOT);
  plan(noUserns, PODMAN);
});

test("additional groups where only the caller's gid is mapped (setgroups denied): refused; a range is fine", () => {
  const r = refusal(() => checkRootless(specOf((c) => (c.process!.user!.additionalGids = [5])), USER));
  assert.is(r.where, "process.user.additionalGids");
  assert.match(r.line, /setgroups is denied/);
  checkRootless(specOf((c) => {
    c.process!.user!.additionalGids = [5];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }];
  }), USER);
});

test("a file system a user namespace may not mount: refused in one line naming the mount", () => {
  const spec = specOf((c) => c.mounts!.push({ destination: "/data", type: "ext4", source: "/dev/vdb", options: ["rw"] }));
  for (const who of [USER, PODMAN]) {
    const r = refusal(() => checkRootless(spec, who));
    assert.is(r.where, "mounts[7] (/data)");
    assert.match(r.line, /^a rootless container cannot mount a "ext4" file system/);
  }
  checkRootless(spec, ROOT); // root of the host: the kernel decides
  assert.ok(userNamespaceMountable("fuse.sshfs") && userNamespaceMountable("overlay") && !userNamespaceMountable("nfs"));
  // binds are fine whatever their type says
  checkRootless(specOf((c) => c.mounts!.push({ destination: "/data", type: "ext4", source: "/srv", options: ["rbind"] })), USER);
});

test("uid=/gid= mount options must be mapped in the container's user namespace", () => {
  const r = refusal(() => checkRootless(specOf((c) => c.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["uid=5"] })), USER));
  assert.is(r.where, "mounts[7] (/t).options");
  assert.match(r.line, /uid=5 is not mapped in linux.uidMappings/);
  checkRootless(specOf((c) => c.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["uid=0", "gid=0"] })), USER);
});

test("idmapped mounts as an unprivileged user: refused (mount_setattr needs CAP_SYS_ADMIN over the file system)", () => {
  const maps = [{ containerID: 0, hostID: 100000, size: 10 }];
  const r = refusal(() => checkRootless(specOf((c) => c.mounts!.push({ destination: "/d", type: "bind", source: "/srv", options: ["bind", "idmap"], uidMappings: maps, gidMappings: maps })), USER));
  assert.is(r.where, "mounts[7] (/d)");
  assert.match(r.line, /idmapped mounts need ocirt to run as root/);
});

test("sysfs: bound from the host where the container shares ocirt's network namespace in a user namespace", () => {
  const sysfs = (patch?: (c: OciConfig) => void) => specOf((c) => {
    c.mounts = c.mounts!.map((m) => (m.destination === "/sys" ? { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "ro"] } : m));
    patch?.(c);
  });
  // rootless spec: user namespace, no network namespace
  assert.ok(sysfsFromHost(sysfs(), USER));
  const m = rootlessMounts(sysfs(), USER).find((x) => x.destination === "/sys")!;
  assert.equal({ type: m.type, source: m.source, options: m.options }, { type: "none", source: "/sys", options: ["rbind", "nosuid", "ro"] });
  // with a new network namespace (made in the user namespace) sysfs is mounted
  const withNet = sysfs((c) => c.linux!.namespaces!.push({ type: "network" }));
  assert.not.ok(sysfsFromHost(withNet, USER));
  assert.is(rootlessMounts(withNet, USER).find((x) => x.destination === "/sys")!.type, "sysfs");
  // root, no user namespace anywhere: mounted
  const rootSpec = specOf((c) => c.mounts!.push({ destination: "/sys2", type: "sysfs", source: "sysfs" }), false);
  assert.not.ok(sysfsFromHost(normaliseConfig({ ...defaultSpec({ rootless: false, cgroupNamespace: false }), linux: { namespaces: [{ type: "mount" }] } }, { bundle: "/b" }), ROOT));
  assert.not.ok(sysfsFromHost(rootSpec, PODMAN), "podman gives a network namespace: sysfs is mounted");
  // the planned op is the bind of /sys
  const ops = plan(sysfs(), USER);
  const op = ops.find((o) => o.code === Op.MOUNT && o.blobs?.[1] === "/sys")!;
  assert.is(op.blobs![0], "/sys");
  assert.ok((Number(op.ints![0]) & (MS.BIND | MS.REC)) === (MS.BIND | MS.REC), "rbind");
});

test("cgroup v2 in a cgroup namespace under a /sys bound from the host: the container's cgroup is bound (a cgroup2 mount there is EBUSY)", () => {
  const withCgroupns = (rootless: boolean) => specOf((c) => c.linux!.namespaces!.push({ type: "cgroup" }), rootless);
  const cgroupOp = (ops: PlanOp[]) => ops.find((o) => o.code === Op.MOUNT && o.blobs?.[1] === "/sys/fs/cgroup")!;
  const bound = cgroupOp(plan(withCgroupns(true), USER));
  assert.equal(bound.blobs!.slice(0, 3), ["/sys/fs/cgroup/own", "/sys/fs/cgroup", ""]);
  assert.ok((Number(bound.ints![0]) & MS.BIND) !== 0);
  // sysfs of its own (root's default spec): a fresh cgroup2 mount in the namespace
  const fresh = cgroupOp(plan(withCgroupns(false), ROOT));
  assert.equal(fresh.blobs!.slice(0, 3), ["cgroup", "/sys/fs/cgroup", "cgroup2"]);
});

test("the id-map wait is dumpable only when the parent is unprivileged", () => {
  const wait = (ops: PlanOp[]) => ops.find((o) => o.code === Op.SYNC && o.ints?.[0] === Sync.USERMAP_PLS)!;
  assert.is(wait(plan(specOf(), USER)).flags, SYNC_DUMPABLE);
  assert.is(wait(plan(specOf(), ROOT)).flags ?? 0, 0, "root keeps the helper non-dumpable (CVE-2016-9962)");
  assert.is(wait(plan(specOf(), PODMAN)).flags ?? 0, 0);
});

test("devices are bound from the host in any user namespace, ocirt's own included (rootless Podman)", () => {
  const noUserns = specOf((c) => {
    c.linux!.namespaces = [{ type: "mount" }, { type: "pid" }, { type: "network" }];
    delete c.linux!.uidMappings;
    delete c.linux!.gidMappings;
  });
  const bindFlag = (ops: PlanOp[]) => ops.filter((o) => o.code === Op.MKNOD).map((o) => Number(o.ints![5]));
  assert.ok(bindFlag(plan(noUserns, PODMAN)).every((b) => b === 1));
  assert.ok(bindFlag(plan(noUserns, ROOT)).every((b) => b === 0));
  assert.ok(bindFlag(plan(specOf(), USER)).every((b) => b === 1));
});

test("id maps: the caller's own id is written directly, a range through newuidmap/newgidmap", () => {
  assert.equal(mapWriters(specOf(), USER), { uid: "direct", gid: "direct" });
  const ranged = specOf((c) => {
    c.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }];
  });
  assert.equal(mapWriters(ranged, USER), { uid: "tool", gid: "direct" });
  assert.equal(mapWriters(ranged, ROOT), { uid: "direct", gid: "direct" });
  assert.equal(mapWriters(ranged, PODMAN), { uid: "direct", gid: "direct" }, "root of a user namespace writes its own maps");
  // a range needs the tool: refused in one line where it is missing
  let line = "";
  try {
    checkMapTools(ranged, USER, () => undefined);
  } catch (err) {
    line = (err as Error).message;
    assert.is((err as unknown as { where: string }).where, "linux.uidMappings");
  }
  assert.match(line, /needs newuidmap \(Debian package uidmap\)/);
  checkMapTools(ranged, USER, (n) => `/usr/bin/${n}`);
  checkMapTools(specOf(), USER, () => undefined); // the own id only: no tool needed
  assert.is(findTool("sh"), "/usr/bin/sh", "found on PATH or in the usual directories");
});

test("default state root: $XDG_RUNTIME_DIR/ocirt for an unprivileged user, as runc", () => {
  const never = () => false, always = () => true;
  assert.is(defaultStateRoot({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000, never), "/run/user/1000/ocirt");
  assert.is(defaultStateRoot({ XDG_RUNTIME_DIR: "/run/user/1000/" }, 1000, never), "/run/user/1000/ocirt");
  assert.is(defaultStateRoot({}, 1000, never), "/run/ocirt");
  assert.is(defaultStateRoot({ XDG_RUNTIME_DIR: "/run/user/0" }, 0, never), "/run/ocirt", "real root keeps /run/ocirt");
  assert.is(defaultStateRoot({ XDG_RUNTIME_DIR: "/run/user/1000" }, 0, always), "/run/user/1000/ocirt", "root of podman's user namespace");
  assert.is(defaultStateRoot({ XDG_RUNTIME_DIR: "/run/user/1000", USER: "root" }, 0, always), "/run/ocirt");
});

test("--rootless: auto from the euid and the user namespace; true/false as Go's ParseBool; anything else refused", () => {
  assert.ok(rootlessCgroups("auto", USER));
  assert.ok(rootlessCgroups("auto", PODMAN));
  assert.not.ok(rootlessCgroups("auto", ROOT));
  assert.not.ok(rootlessCgroups("false", USER));
  assert.ok(rootlessCgroups("true", ROOT));
  assert.is(parseArgv(["--rootless", "1", "state", "x"]).globals.rootless, "true");
  assert.is(parseArgv(["--rootless=False", "state", "x"]).globals.rootless, "false");
  assert.is(parseArgv(["state", "x"]).globals.rootless, "auto");
  assert.throws(() => parseArgv(["--rootless", "maybe", "state", "x"]), (e: unknown) => e instanceof UsageError && /--rootless: invalid value "maybe"/.test((e as Error).message));
  assert.ok(isInitialUidMap("         0          0 4294967295\n"));
  assert.not.ok(isInitialUidMap("0 1000 1\n1 100000 65536\n"));
});

const planOf = (paths: Record<string, string>, mounts: Record<string, string>, optional: string[] = []): CgroupPlan =>
  ({ mode: "v2", driver: "fs", paths, mounts, optional, missing: [], resources: {} });

test("cgroups: made only where the caller may write the nearest existing directory and its cgroup.procs", () => {
  const D = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice";
  const owned = new Set([D, `${D}/cgroup.procs`]);
  const probe = { exists: (p: string) => p === "/sys/fs/cgroup" || p.startsWith("/sys/fs/cgroup/user.slice") && !p.endsWith("/ctr"), writable: (p: string) => owned.has(p) };
  assert.is(delegationProblem(planOf({ "": `${D}/ctr` }, { "": "/sys/fs/cgroup" }), probe), undefined, "delegated: made there");
  const no = delegationProblem(planOf({ "": "/sys/fs/cgroup/user.slice/ctr" }, { "": "/sys/fs/cgroup" }), probe);
  assert.match(no ?? "", /^\/sys\/fs\/cgroup\/user.slice is not writable: no cgroup is delegated here$/);
  // hybrid: the cgroup2 node is optional, the v1 hierarchies are not
  const v1 = delegationProblem(planOf({ cpu: "/sys/fs/cgroup/cpu/ctr", "": `${D}/ctr` }, { cpu: "/sys/fs/cgroup/cpu", "": "/sys/fs/cgroup" }, [""]), { exists: () => true, writable: () => false });
  assert.match(v1 ?? "", /\(the cpu hierarchy\)/);
});

test("cgroups: the limits that need a cgroup of the container's own (device rules are not among them)", () => {
  assert.equal(limitsRequested(undefined), []);
  assert.equal(limitsRequested({ devices: [{ allow: false, access: "rwm" }] }), []);
  assert.equal(limitsRequested({ memory: { limit: 1 << 20 }, pids: { limit: 10 }, cpu: {}, hugepageLimits: [] }), ["memory", "pids"]);
});

test("without a cgroup of its own, the container's /sys/fs/cgroup shows ocirt's own cgroups", () => {
  const mountinfo = [
    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw",
    "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu",
    "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd",
    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
  ].join("\n");
  const host = parseCgroupHost(mountinfo, "2:cpu:/user/a\n1:name=systemd:/user/a\n0::/user/b\n", { systemdRunning: false });
  assert.equal(ownCgroupViews(host), [
    { name: "cpu", hostPath: "/sys/fs/cgroup/cpu/user/a", fsOptions: "cpu", unified: false },
    { name: "systemd", hostPath: "/sys/fs/cgroup/systemd/user/a", fsOptions: "name=systemd", unified: false },
    { name: "unified", hostPath: "/sys/fs/cgroup/unified/user/b", fsOptions: "", unified: true },
  ]);
  const v2 = parseCgroupHost("41 23 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw", "0::/user.slice/u\n", { systemdRunning: true });
  assert.equal(ownCgroupViews(v2), [{ name: "", hostPath: "/sys/fs/cgroup/user.slice/u", fsOptions: "", unified: true }]);
});

test("rootless --systemd-cgroup: the user's manager, its bus, its cgroup; the unit in user.slice below it", () => {
  // root of rootless Podman's user namespace is the user to a bus outside it
  assert.is(hostUid(0, "         0       1000          1\n         1     100000      65536\n"), 1000);
  assert.is(hostUid(5, "0 1000 1\n1 100000 65536\n"), 100004);
  assert.is(hostUid(1000, "0 0 4294967295\n"), 1000);
  assert.is(userManagerOf("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/runc-x.scope"), 1000);
  assert.is(userManagerOf("/sys/fs/cgroup/system.slice/runc-x.scope"), undefined);
  assert.is(userBusPath({ DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus,guid=1" }), "/run/user/1000/bus");
  assert.is(userBusPath({ XDG_RUNTIME_DIR: "/run/user/1000" }), "/run/user/1000/bus");
  assert.is(userBusPath({}), undefined);
  const v2 = parseCgroupHost("41 23 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n", { systemdRunning: true });
  const hybrid = parseCgroupHost("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n32 31 0:29 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw", "1:devices:/\n0::/\n", { systemdRunning: true });
  const mgr = userManager(v2, 1000, "/run/user/1000/bus", () => true);
  assert.equal(mgr, { uid: 1000, managerCgroup: "/user.slice/user-1000.slice/user@1000.service", bus: "/run/user/1000/bus" });
  assert.throws(() => userManager(hybrid, 1000, undefined, () => true), /delegates cgroups only on cgroup v2 \(this host is hybrid\)/);
  assert.throws(() => userManager(v2, 1000, undefined, () => false), /no session bus of uid 1000 at \/run\/user\/1000\/bus/);
  const plan = planCgroup({ linux: {} }, "c1", { host: v2, systemd: true, systemdUser: mgr });
  assert.equal(plan.paths, { "": "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/runc-c1.scope" });
  assert.is(plan.systemd!.slice, "user.slice", "runc's default slice for a rootless container");
  const named = planCgroup({ linux: { cgroupsPath: "app.slice:libpod:x" } }, "c1", { host: v2, systemd: true, systemdUser: mgr });
  assert.equal(named.paths, { "": "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/libpod-x.scope" });
  const root = planCgroup({ linux: {} }, "c1", { host: v2, systemd: true });
  assert.equal(root.paths, { "": "/sys/fs/cgroup/system.slice/runc-c1.scope" }, "root's unchanged");
});

test("ocirt features: the user-scoped systemd cgroup manager is supported (linux.cgroup.systemdUser), as runc", () => {
  const f = features() as { linux: { cgroup: Record<string, boolean> } };
  assert.equal(f.linux.cgroup, { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true });
});

test.run();
