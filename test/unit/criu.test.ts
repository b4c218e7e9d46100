// checkpoint/restore's pure parts: the criu requests built from a container's
// facts, their bytes on the wire (checked against criu's own rpc.proto where the
// host has it), the flags, criu's log, and the container tree walk that names and
// makes mount points.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, type Stats } from "node:fs";
import { skip } from "../skip";
import {
  CgroupMode, CLONE_NEWNET, NetworkLock, ReqType, cgroupRoots, configFileOf, dumpRequest, hostBinds, joinedNamespaces, notifyAck,
  parseCgroupMode, parseEmptyNs, parsePageServer, pipeFds, restoreRequest, versionNumber, type CgroupLayout, type CriuFlags, type DumpFacts, type RestoreFacts,
} from "../../src/criu/request";
import { Request, Response } from "../../src/criu/gen/criu_rpc";
import { mainError, quoteErrors } from "../../src/criu/log";
import { ContainerTree, makeMountpoints, restoreMountpoints, type TreeFs } from "../../src/criu/rootfs";
import { networkLockFor, defaultFlags } from "../../src/lifecycle/criu";
import type { SpecMount } from "../../src/spec/normalise";
import { describe } from "../../src/errors";

/** The one line the user would see for what fn throws. */
function lineOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return describe(err);
  }
  return "(nothing thrown)";
}

const m = (destination: string, type: string | undefined, source: string | undefined, options: string[] = []): SpecMount => ({ destination, type, source, options, uidMappings: [], gidMappings: [] });

const MOUNTS: SpecMount[] = [
  m("/proc", "proc", "proc"),
  m("/dev", "tmpfs", "tmpfs", ["nosuid", "mode=755"]),
  m("/dev/pts", "devpts", "devpts"),
  m("/sys", "sysfs", "sysfs", ["ro"]),
  m("/sys/fs/cgroup", "cgroup", "cgroup", ["ro"]),
  m("/data", "bind", "/srv/data", ["rbind", "rw"]),
  m("/etc/resolv.conf", undefined, "/run/resolv.conf", ["bind", "ro"]),
];

const V2: CgroupLayout = { unifiedOnly: true, inCgroupns: false, inUserns: false, views: [{ name: "", hostPath: "/sys/fs/cgroup/ctr" }] };
const V1: CgroupLayout = { unifiedOnly: false, inCgroupns: false, inUserns: false, views: [{ name: "memory", hostPath: "/sys/fs/cgroup/memory/ctr" }, { name: "cpu,cpuacct", hostPath: "/sys/fs/cgroup/cpu,cpuacct/ctr" }] };

const flags = (o: Partial<CriuFlags> = {}): CriuFlags => ({ ...defaultFlags("/img"), ...o });

function dumpFacts(o: Partial<DumpFacts> = {}): DumpFacts {
  return {
    flags: flags(), version: 31701, pid: 4242, rootfs: "/b/rootfs", imagesDirFd: 7, mounts: MOUNTS, cgroup: V2,
    resolve: (p) => p, maskedFiles: ["/proc/kcore"], devices: ["/dev/null", "/dev/fuse"], externalNs: [], ...o,
  };
}

function restoreFacts(o: Partial<RestoreFacts> = {}): RestoreFacts {
  return {
    flags: flags(), version: 31701, root: "/run/ocirt/c/criu-root", imagesDirFd: 7, mounts: MOUNTS, cgroup: V2,
    resolve: (p) => p, masks: true, devices: ["/dev/null", "/dev/fuse"], namespaces: [], inheritNs: () => { throw new Error("no ns"); },
    descriptors: ["pipe:[11]", "pipe:[12]", "/dev/pts/0"], ...o,
  };
}

const extMnt = (r: Request) => r.opts!.extMnt.map((e) => `${e.key}=${e.val}`);

test("dump: runc's options, the container's pid and rootfs, criu's log in dump.log", () => {
  const r = dumpRequest(dumpFacts({ flags: flags({ tcpEstablished: true, shellJob: true, fileLocks: true }), workDirFd: 8, freezeCgroup: "/sys/fs/cgroup/ctr", configFile: "/etc/criu/runc.conf" }));
  assert.is(r.type, ReqType.REQ_DUMP);
  const o = r.opts!;
  assert.equal([o.imagesDirFd, o.workDirFd, o.pid, o.root, o.logLevel, o.logFile], [7, 8, 4242, "/b/rootfs", 4, "dump.log"]);
  assert.equal([o.manageCgroups, o.notifyScripts, o.orphanPtsMaster, o.leaveRunning, o.tcpEstablished, o.shellJob, o.fileLocks, o.extUnixSk], [true, true, true, false, true, true, true, false]);
  assert.is(o.emptyNs, CLONE_NEWNET, "the network namespace is always restored empty (runc)");
  assert.is(o.freezeCgroup, "/sys/fs/cgroup/ctr");
  assert.is(o.configFile, "/etc/criu/runc.conf");
  assert.is(o.manageCgroupsMode, undefined, "criu's default unless asked");
  assert.is(o.parentImg, undefined);
});

test("dump: binds from the host, /dev/null masks and devices are external mounts; real cgroup mounts are not", () => {
  assert.equal(extMnt(dumpRequest(dumpFacts())), [
    // v2 without a cgroup namespace: a fresh cgroup2 mount (runc's), criu's own
    "/data=/data", "/etc/resolv.conf=/etc/resolv.conf", "/proc/kcore=/dev/null", "/dev/null=/dev/null", "/dev/fuse=/dev/fuse",
  ]);
  const v1 = extMnt(dumpRequest(dumpFacts({ cgroup: V1, maskedFiles: [], devices: [] })));
  assert.equal(v1, ["/sys/fs/cgroup/memory=/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu,cpuacct=/sys/fs/cgroup/cpu,cpuacct", "/data=/data", "/etc/resolv.conf=/etc/resolv.conf"]);
  const ns = extMnt(dumpRequest(dumpFacts({ cgroup: { ...V1, inCgroupns: true }, maskedFiles: [], devices: [] })));
  assert.equal(ns, ["/data=/data", "/etc/resolv.conf=/etc/resolv.conf"], "in a cgroup namespace the cgroup mounts are criu's own");
  // a destination through a symlink of the image is named where it really is
  const res = extMnt(dumpRequest(dumpFacts({ resolve: (p) => p.replace(/^\/data/, "/var/data"), maskedFiles: [], devices: [] })));
  assert.ok(res.includes("/var/data=/var/data"), res.join(" "));
});

test("pre-dump: memory only, no mounts; --parent-path tracks memory against the parent", () => {
  const r = dumpRequest(dumpFacts({ flags: flags({ preDump: true, parentPath: "../pd1" }) }));
  assert.is(r.type, ReqType.REQ_PRE_DUMP);
  assert.equal(r.opts!.extMnt, []);
  assert.equal([r.opts!.parentImg, r.opts!.trackMem], ["../pd1", true]);
  const fin = dumpRequest(dumpFacts({ flags: flags({ parentPath: "../pd2" }) }));
  assert.equal([fin.type, fin.opts!.parentImg, fin.opts!.trackMem], [ReqType.REQ_DUMP, "../pd2", true]);
});

test("dump: namespaces joined by path are external (runc's keys), where criu is new enough", () => {
  const r = dumpRequest(dumpFacts({ externalNs: [{ type: "network", inode: 4026532001 }, { type: "pid", inode: 4026532002 }] }));
  assert.equal(r.opts!.external, ["net[4026532001]:extRootNetNS", "pid[4026532002]:extRootPidNS"]);
  assert.throws(() => dumpRequest(dumpFacts({ version: 31400, externalNs: [{ type: "pid", inode: 1 }] })), /needs criu 3\.15 or later \(found 3\.14\)/);
  assert.throws(() => dumpRequest(dumpFacts({ version: 20000 })), /needs criu 3\.0 or later/);
});

test("restore: rst_sibling into criu's root; binds come from their sources, masks from the host's /dev/null", () => {
  const r = restoreRequest(restoreFacts({ workDirFd: 9, flags: flags({ manageCgroupsMode: CgroupMode.CG_IGNORE, lsmProfile: "apparmor:x" }) }));
  assert.is(r.type, ReqType.REQ_RESTORE);
  const o = r.opts!;
  assert.equal([o.rstSibling, o.evasiveDevices, o.orphanPtsMaster, o.notifyScripts, o.manageCgroups, o.root, o.logFile, o.workDirFd], [true, true, true, true, true, "/run/ocirt/c/criu-root", "restore.log", 9]);
  assert.is(o.manageCgroupsMode, CgroupMode.CG_IGNORE);
  assert.is(o.lsmProfile, "apparmor:x");
  assert.equal(extMnt(r), ["/data=/srv/data", "/etc/resolv.conf=/run/resolv.conf", "/dev/null=/dev/null", "/dev/fuse=/dev/fuse"]);
  // the masks' binds, named /dev/null at dump, come from the host's /dev/null (also without the device in the list)
  assert.ok(extMnt(restoreRequest(restoreFacts({ devices: [] }))).includes("/dev/null=/dev/null"));
  assert.not.ok(extMnt(restoreRequest(restoreFacts({ devices: [], masks: false }))).includes("/dev/null=/dev/null"));
  // the init's stdio pipes become criu's own 0 and 1; the terminal is criu's to restore
  assert.equal(o.inheritFd, [{ key: "pipe:[11]", fd: 0 }, { key: "pipe:[12]", fd: 1 }]);
  assert.is(lineOf(() => restoreRequest(restoreFacts({ version: 31500, flags: flags({ lsmProfile: "x" }) }))), "--lsm-profile: --lsm-profile needs criu 3.16 or later (found 3.15)");
});

test("restore: a net or pid namespace by path is inherited under its key; others are joined; a cgroup one is refused", () => {
  const fds: string[] = [];
  const r = restoreRequest(restoreFacts({
    namespaces: [{ type: "network", path: "/run/netns/a" }, { type: "ipc", path: "/proc/1/ns/ipc" }, { type: "pid", path: "/proc/9/ns/pid" }],
    inheritNs: (t) => (fds.push(t), 3 + fds.length),
  }));
  assert.equal(fds, ["network", "pid"]);
  assert.equal(r.opts!.inheritFd.slice(0, 2), [{ key: "extRootNetNS", fd: 4 }, { key: "extRootPidNS", fd: 5 }]);
  assert.equal(r.opts!.joinNs, [{ ns: "ipc", nsFile: "/proc/1/ns/ipc" }]);
  assert.is(lineOf(() => joinedNamespaces([{ type: "cgroup", path: "/proc/1/ns/cgroup" }])), "linux.namespaces (cgroup): criu cannot restore into a cgroup namespace given by path");
  assert.equal(joinedNamespaces([{ type: "mount", path: "/x" }, { type: "uts", path: "" }]), [{ ns: "mnt", nsFile: "/x" }]);
});

test("hostBinds: what ocirt bound from the host, per cgroup layout", () => {
  assert.equal(hostBinds([m("/sys/fs/cgroup", "cgroup2", "cgroup")], { ...V2, inCgroupns: true }), []);
  // pure v2, a "cgroup" mount: binds only where linux/mounts.ts cgroupV2Mount falls back to one
  const cg = m("/sys/fs/cgroup", "cgroup", "cgroup");
  const hostSys = m("/sys", "bind", "/sys", ["rbind"]);
  assert.equal(hostBinds([cg], V2), [], "fresh: criu's own");
  assert.equal(hostBinds([cg], { ...V2, inUserns: true }), [{ dest: "/sys/fs/cgroup", source: "/sys/fs/cgroup" }], "in a user namespace: the whole hierarchy");
  assert.equal(hostBinds([hostSys, cg], V2), [{ dest: "/sys", source: "/sys" }, { dest: "/sys/fs/cgroup", source: "/sys/fs/cgroup" }]);
  assert.equal(hostBinds([hostSys, cg], { ...V2, inCgroupns: true }), [{ dest: "/sys", source: "/sys" }, { dest: "/sys/fs/cgroup", source: "/sys/fs/cgroup/ctr" }]);
  assert.equal(hostBinds([m("/x", "bind", undefined, ["bind"])], V2), [], "a bind needs a source to be one");
  assert.equal(hostBinds([m("/x/", "tmpfs", "/src", ["rbind"])], V2), [{ dest: "/x", source: "/src" }], "bind by its options, whatever the type (runc)");
  assert.equal(pipeFds(["/dev/null", "pipe:[5]", "pipe:[5]"]), [{ key: "pipe:[5]", fd: 1 }, { key: "pipe:[5]", fd: 2 }]);
});

test("cg_root from /proc/<criu>/cgroup, controllers as the line has them (\"\" for v2)", () => {
  assert.equal(cgroupRoots("0::/ctr\n"), [{ ctrl: "", path: "/ctr" }]);
  assert.equal(cgroupRoots("12:memory:/a/b\n3:cpu,cpuacct:/a/b\n1:name=systemd:/a/b\n0::/a/b\n"), [
    { ctrl: "memory", path: "/a/b" }, { ctrl: "cpu,cpuacct", path: "/a/b" }, { ctrl: "name=systemd", path: "/a/b" }, { ctrl: "", path: "/a/b" },
  ]);
});

test("flags: --manage-cgroups-mode, --empty-ns, --page-server as runc reads them", () => {
  assert.equal([parseCgroupMode(undefined), parseCgroupMode("soft"), parseCgroupMode("full"), parseCgroupMode("strict"), parseCgroupMode("ignore")], [undefined, CgroupMode.CG_SOFT, CgroupMode.CG_FULL, CgroupMode.CG_STRICT, CgroupMode.CG_IGNORE]);
  assert.throws(() => parseCgroupMode("props"), /--manage-cgroups-mode/);
  assert.is(parseEmptyNs([]), CLONE_NEWNET);
  assert.is(parseEmptyNs(["network"]), CLONE_NEWNET);
  assert.throws(() => parseEmptyNs(["network", "ipc"]), /namespace "ipc" is not supported/);
  assert.equal(parsePageServer("10.0.0.1:1234"), { address: "10.0.0.1", port: 1234 });
  assert.equal(parsePageServer("[::1]:27"), { address: "::1", port: 27 });
  assert.is(parsePageServer(""), undefined);
  for (const bad of ["host", ":1", "host:", "::1:2", "h:99999", "h:x"]) assert.match(lineOf(() => parsePageServer(bad)), /^--page-server: /, bad);
  assert.is(versionNumber({ major: 3, minor: 17, sublevel: 1 }), 31701);
});

test("config file: runc.conf unless org.criu.config names one (empty: none)", () => {
  assert.is(configFileOf({}), "/etc/criu/runc.conf");
  assert.is(configFileOf({ "org.criu.config": "/etc/criu/mine.conf" }), "/etc/criu/mine.conf");
  assert.is(configFileOf({ "org.criu.config": "" }), undefined);
});

test("network lock: iptables where the host has it (criu's default), nftables where it has not", () => {
  assert.is(networkLockFor(31701, true), undefined);
  assert.is(networkLockFor(31701, false), NetworkLock.LOCK_NFTABLES);
  assert.is(networkLockFor(31500, false), undefined, "criu before 3.16 has no nftables lock");
});

// --- the wire ----------------------------------------------------------------

const CRIU_PROTO = "/usr/include/criu/rpc.proto";
const protoc = spawnSync("protoc", ["--version"]).status === 0;
const wireReason = !existsSync(CRIU_PROTO) ? `${CRIU_PROTO} is not installed (Debian's criu package ships it)` : !protoc ? "no protoc (Debian: protobuf-compiler)" : null;

function protocText(type: "criu_req" | "criu_resp", bytes: Uint8Array): string {
  const r = spawnSync("protoc", ["-I/usr/include/criu", `--decode=${type}`, "rpc.proto"], { input: Buffer.from(bytes), encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

if (wireReason) skip(test, "criu's own rpc.proto reads ocirt's requests", wireReason);
else test("criu's own rpc.proto reads ocirt's requests: zero values that were set are sent (cgroup mode ignore)", () => {
  const req = restoreRequest(restoreFacts({ flags: flags({ manageCgroupsMode: CgroupMode.CG_IGNORE }), networkLock: NetworkLock.LOCK_NFTABLES, configFile: "/etc/criu/runc.conf" }));
  req.opts!.cgRoot = cgroupRoots("0::/ctr");
  const text = protocText("criu_req", Request.encode(req).finish());
  for (const want of [
    "type: RESTORE", "images_dir_fd: 7", "rst_sibling: true", "manage_cgroups_mode: IGNORE", "network_lock: NFTABLES",
    'root: "/run/ocirt/c/criu-root"', 'key: "/data"', 'val: "/srv/data"', 'key: "pipe:[11]"', 'ctrl: ""', 'path: "/ctr"',
    "shell_job: false", `empty_ns: ${CLONE_NEWNET}`, 'config_file: "/etc/criu/runc.conf"',
  ]) assert.ok(text.includes(want), `${want} in:\n${text}`);
  assert.ok(protocText("criu_req", Request.encode(notifyAck(true)).finish()).includes("notify_success: true"));
});

if (wireReason) skip(test, "ocirt reads criu's responses", wireReason);
else test("ocirt reads criu's responses as criu's rpc.proto writes them", () => {
  const enc = (text: string) => {
    const r = spawnSync("protoc", ["-I/usr/include/criu", "--encode=criu_resp", "rpc.proto"], { input: text });
    if (r.status !== 0) throw new Error(r.stderr.toString());
    return Response.decode(r.stdout);
  };
  const n = enc('type: NOTIFY success: true notify { script: "post-restore" pid: 4711 }');
  assert.equal([n.type, n.success, n.notify?.script, n.notify?.pid], [ReqType.REQ_NOTIFY, true, "post-restore", 4711]);
  const v = enc("type: VERSION success: true version { major_number: 3 minor_number: 17 sublevel: 1 }");
  assert.is(versionNumber(v.version!), 31701);
  const f = enc('type: DUMP success: false cr_errno: 2 cr_errmsg: "no"');
  assert.equal([f.success, f.crErrno, f.crErrmsg], [false, 2, "no"]);
  const ft = enc("type: FEATURE_CHECK success: true features { mem_track: true lazy_pages: false }");
  assert.equal(ft.features, { memTrack: true, lazyPages: false });
});

// --- criu's log ---------------------------------------------------------------

const LOG = [
  "(00.01) Version: 3.17.1",
  "(00.02) Error (criu/util.c:642): exited, status=1",
  "(00.03) a", "(00.04) b", "(00.05) c", "(00.06) d", "(00.07) e", "(00.08) f",
  "(00.09) Error (criu/sk-unix.c:351): unix: Unix socket 665 not found",
  "(00.10) Error (criu/cr-dump.c:1635): Dump files (pid: 393) failed with -1",
  "(00.11) Error (criu/cr-dump.c:2053): Dumping FAILED.",
].join("\n");

test("criu's log: the first error that is no known noise says why", () => {
  assert.is(mainError(LOG), "Error (criu/sk-unix.c:351): unix: Unix socket 665 not found");
  assert.is(mainError("(00.1) Error (criu/util.c:642): exited, status=1\n(00.2) Error (criu/cr-dump.c:2053): Dumping FAILED."), "Error (criu/cr-dump.c:2053): Dumping FAILED.", "only noise: the last line");
  assert.is(mainError("all good"), undefined);
});

test("criu's log quoted as runc quotes it: each error with five lines before it, gaps marked", () => {
  const q = quoteErrors(LOG);
  assert.equal(q.slice(0, 3), ["1:(00.01) Version: 3.17.1", "2:(00.02) Error (criu/util.c:642): exited, status=1", "..."]);
  assert.is(q[3], "4:(00.04) b");
  assert.is(q[q.length - 1], "11:(00.11) Error (criu/cr-dump.c:2053): Dumping FAILED.");
  assert.is(q.filter((l) => l === "...").length, 1);
});

// --- the container tree -------------------------------------------------------

/** A fake file tree: paths -> "dir" | "file" | "link:<target>". */
function fakeFs(tree: Record<string, string>): TreeFs & { made: string[] } {
  const stat = (kind: string | undefined) => kind === undefined ? undefined : ({ isSymbolicLink: () => kind.startsWith("link:"), isDirectory: () => kind === "dir" } as Stats);
  const made: string[] = [];
  return {
    made,
    lstat: (p) => stat(tree[p]),
    stat: (p) => stat(tree[p]),
    readlink: (p) => tree[p]!.slice(5),
    mkdir: (p) => { tree[p] = "dir"; made.push(`${p}/`); },
    touch: (p) => { tree[p] = "file"; made.push(p); },
  };
}

test("the tree walk follows symlinks inside the container's root, never out of it", () => {
  const fs = fakeFs({ "/r/var": "dir", "/r/var/run": "link:/run", "/r/run": "dir", "/r/up": "link:../../../../etc", "/r/etc": "dir", "/r/rel": "link:var/run/x" });
  const t = new ContainerTree("/r", fs);
  assert.is(t.resolve("/var/run/app"), "/run/app");
  assert.is(t.resolve("/up/passwd"), "/etc/passwd", "`..` stops at the root");
  assert.is(t.resolve("/rel"), "/run/x");
  assert.is(t.resolve("/nope/../var/./x"), "/var/x");
  assert.is(t.hostPath("/run/app"), "/r/run/app");
  const loop = new ContainerTree("/r", fakeFs({ "/r/a": "link:/b", "/r/b": "link:/a" }));
  assert.throws(() => loop.resolve("/a/x"), /too many levels of symbolic links/);
});

test("restore's mount points: made in the rootfs or in the bind they are nested in; none inside a tmpfs or a pseudo fs", () => {
  const mounts = [
    m("/proc", "proc", "proc"), m("/proc/cpuinfo", "bind", "/lxcfs/cpuinfo", ["bind"]),
    m("/dev", "tmpfs", "tmpfs"), m("/dev/shm", "tmpfs", "shm"), m("/sys/fs/cgroup", "cgroup", "cgroup"),
    m("/vol", "bind", "/host/vol", ["rbind"]), m("/vol/sub", "bind", "/host/file", ["bind"]), m("/etc/hosts", "bind", "/host/hosts", ["bind"]),
    m("/var/run/x", "tmpfs", "tmpfs"),
  ];
  const points = restoreMountpoints(mounts, (s) => s === "/host/vol");
  assert.equal(points.map((p) => `${p.dest}:${p.kind}`), ["/proc:dir", "/dev:dir", "/vol:dir", "/vol/sub:file", "/etc/hosts:file", "/var/run/x:dir"]);
  const fs = fakeFs({ "/r/proc": "dir", "/r/etc": "dir", "/r/var": "dir", "/r/var/run": "link:/run", "/r/run": "dir", "/host/vol": "dir" });
  makeMountpoints(new ContainerTree("/r", fs), points);
  assert.equal(fs.made, ["/r/dev/", "/r/vol/", "/host/vol/sub", "/r/etc/hosts", "/r/run/x/"]);
  const bad = fakeFs({ "/r/etc": "file" });
  assert.is(lineOf(() => makeMountpoints(new ContainerTree("/r", bad), [{ index: 3, dest: "/etc/hosts", kind: "file" }])), "mounts[3] (/etc/hosts): making the mount point for restore: /etc is not a directory");
});

test.run();
