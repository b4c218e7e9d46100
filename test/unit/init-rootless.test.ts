// The helper's rootless and idmapped-mount ops against the recording fake of its
// system calls (test/unit/init/sys_fake.c): the dumpable id-map wait, the detached
// idmapped mounts made before the namespaces and moved into place, and their errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Op, Sync, SYNC_DUMPABLE, mountInts, type PlanOp } from "../../src/plan/ops";
import { MS } from "../../src/linux/mount-options";
import { defaultSpec } from "../../src/spec/default";
import { normaliseConfig } from "../../src/spec/normalise";
import { planContainer } from "../../src/planner/container";
import { indexOf, inOrder, ROOTFS_FS, runFake } from "./init/fake";

const SELF_BIND: PlanOp = { code: Op.MOUNT, ints: mountInts({ flags: MS.BIND | MS.REC, sourceInRoot: 2, targetHost: 1 }), blobs: ["/rootfs", "/rootfs", "", ""], what: "root.path" };
const EXEC: PlanOp = { code: Op.EXEC, ints: [1, -1, 0, 0], blobs: ["/bin/sh", "PATH=/bin"], what: "process.args[0]" };
const USERNS: PlanOp[] = [
  { code: Op.UNSHARE, ints: [0x10000000], what: "linux.namespaces (user)" },
  { code: Op.SYNC, flags: SYNC_DUMPABLE, ints: [Sync.USERMAP_PLS], what: "linux.uidMappings" },
  { code: Op.SETID_ROOT, what: "linux.uidMappings" },
];
const MAPPED = 0x100000; // MOUNT_ATTR_IDMAP

test("rootless: dumpable only while the parent writes the id maps, non-dumpable again before becoming root", () => {
  const r = runFake([...USERNS, EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [/^prctl DUMPABLE 0$/, /^unshare 0x10000000$/, /^prctl DUMPABLE 1$/, /^send USERMAP_PLS/, /^recv ACK$/, /^prctl DUMPABLE 0$/, /^setresgid 0$/, /^setresuid 0$/]);
  assert.is(r.calls.filter((c) => c === "prctl DUMPABLE 1").length, 1);
  // root's parent: never dumpable (CVE-2016-9962)
  const root = runFake([{ ...USERNS[0]! }, { ...USERNS[1]!, flags: 0 }, USERNS[2]!, EXEC], { fs: ROOTFS_FS });
  assert.is(root.status, 0, root.calls.join("\n"));
  assert.not.ok(root.calls.includes("prctl DUMPABLE 1"));
});

test("rootless: a failure to become dumpable fails the step, naming it", () => {
  const r = runFake([...USERNS, EXEC], { fs: ROOTFS_FS, fail: ["prctl_dumpable1=1"] });
  assert.is(r.status, 1);
  assert.match(r.error ?? "", /PR_SET_DUMPABLE/);
});

test("planContainer for an unprivileged user runs through: the dumpable wait, device binds, /sys bound", () => {
  const cfg = defaultSpec({ rootless: true, cgroupNamespace: false, uid: 1000, gid: 1000 });
  cfg.root = { path: "/rootfs", readonly: true };
  cfg.process!.args = ["/bin/sh"];
  cfg.process!.terminal = false;
  const spec = normaliseConfig(cfg, { bundle: "/bundle" });
  const p = planContainer({
    spec, id: "c1", noPivot: false, fifoIndex: 0, cgroupSync: false, cgroupViews: [{ name: "", hostPath: "/sys/fs/cgroup/u", fsOptions: "", unified: true }],
    env: ["PATH=/bin"], groups: [], warn: () => {},
    host: { lastCap: 40, bounding: (1n << 41n) - 1n, lsm: { apparmor: false, selinux: false }, hasProcKcore: true, user: { euid: 1000, egid: 1000, inUserns: false } },
  });
  const r = runFake(p.ops, { fs: [...ROOTFS_FS, "c /dev/null", "c /dev/zero", "c /dev/full", "c /dev/random", "c /dev/urandom", "c /dev/tty"], extra: ["/state/exec.fifo"], fork: ["child"], read: "pipe:r=x" });
  assert.is(r.status, 0, `${r.error}\n${r.calls.join("\n")}`);
  inOrder(r.calls, [
    /^unshare 0x10000000$/,
    /^prctl DUMPABLE 1$/,
    /^send USERMAP_PLS/,
    /^prctl DUMPABLE 0$/,
    /^setresuid 0$/,
    /^mount \/sys \/rootfs\/sys - BIND\|REC -$/, // bound, not mounted: no network namespace of its own
    /^mount - \/rootfs\/sys - RDONLY\|NOSUID\|NODEV\|NOEXEC\|REMOUNT\|BIND -$/,
    /^mount \/dev\/null \/rootfs\/dev\/null - BIND -$/, // no mknod in a user namespace
    /^pivot_root /,
  ]);
  assert.not.ok(r.calls.some((c) => c.startsWith("mknodat")));
});

const IDMAP_BIND: PlanOp = { code: Op.IDMAP_MOUNT, ints: [0, 0, 1, 0], blobs: ["/host/data", "", ""], what: "mounts[5] (/data) (idmapped)" };
const MOUNT_IDMAPPED: PlanOp = {
  code: Op.MOUNT, ints: mountInts({ flags: MS.BIND | MS.RDONLY, propagation: MS.PRIVATE, create: 3, idmap: 1 }), blobs: ["/host/data", "/data", "", ""], what: "mounts[5] (/data)",
};

test("idmapped bind: cloned (open_tree) and mapped with the given user namespace before the namespaces; moved onto its target", () => {
  const r = runFake([IDMAP_BIND, { code: Op.UNSHARE, ints: [0x20000], what: "ns" }, SELF_BIND, MOUNT_IDMAPPED, EXEC], { fs: ROOTFS_FS, extra: ["/idmap/userns"] });
  assert.is(r.status, 0, `${r.error}\n${r.calls.join("\n")}`);
  const [, setattr, unshare, , , move] = inOrder(r.calls, [
    /^open_tree \/host\/data CLONE RECURSIVE = \d+$/,
    /^mount_setattr tree:\/host\/data set=0x100000 clr=0 userns=\/idmap\/userns$/,
    /^unshare 0x20000$/,
    /^fstatat tree:\/host\/data  = dir$/, // its target made like the clone, not the source path (may be out of reach)
    /^openat2 \/rootfs data IN_ROOT\|NO_MAGICLINKS = \d+ \/rootfs\/data$/,
    /^move_mount tree:\/host\/data -> \/rootfs\/data$/,
    /^close tree:\/host\/data$/,
    /^mount - \/rootfs\/data - RDONLY\|REMOUNT\|BIND -$/, // its flags, as any bind's
    /^mount - \/rootfs\/data - PRIVATE -$/,
  ]);
  assert.ok(setattr! < unshare!, "mapped while the helper is still root of ocirt's user namespace");
  assert.ok(move! > unshare!);
  assert.not.ok(r.calls.some((c) => /^mount \/host\/data /.test(c)), "no mount(2) of the source: the clone is what lands there");
  assert.not.ok(r.calls.some((c) => /^fstatat AT_FDCWD \/host\/data/.test(c)), "the source path is not looked up again");
  void MAPPED;
});

test("idmapped: ridmap maps recursively; a plain bind clones just the one mount", () => {
  const r = runFake([{ ...IDMAP_BIND, ints: [0, 0, 0, 1] }, SELF_BIND, MOUNT_IDMAPPED, EXEC], { fs: ROOTFS_FS, extra: ["/idmap/userns"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  assert.ok(r.calls.includes("open_tree /host/data CLONE = 100") || r.calls.some((c) => /^open_tree \/host\/data CLONE = \d+$/.test(c)), r.calls.join("\n"));
  assert.ok(r.calls.some((c) => /^mount_setattr tree:\/host\/data set=0x100000 clr=0 RECURSIVE userns=/.test(c)), r.calls.join("\n"));
});

test("idmapped tmpfs: a new file system from fsopen with its options, fsmount, mapped, moved", () => {
  const prep: PlanOp = { code: Op.IDMAP_MOUNT, ints: [0, 0, 0, 0], blobs: ["tmpfs", "tmpfs", "mode=755,size=1m,noswap"], what: "mounts[5] (/t) (idmapped)" };
  const mount: PlanOp = { code: Op.MOUNT, ints: mountInts({ flags: MS.BIND | MS.NOSUID, create: 1, idmap: 1 }), blobs: ["tmpfs", "/t", "", ""], what: "mounts[5] (/t)" };
  const r = runFake([prep, SELF_BIND, mount, EXEC], { fs: ROOTFS_FS, extra: ["/idmap/userns"] });
  assert.is(r.status, 0, `${r.error}\n${r.calls.join("\n")}`);
  inOrder(r.calls, [
    /^fsopen tmpfs = \d+$/,
    /^fsconfig fs:tmpfs source=tmpfs$/,
    /^fsconfig fs:tmpfs mode=755$/,
    /^fsconfig fs:tmpfs size=1m$/,
    /^fsconfig fs:tmpfs noswap$/,
    /^fsconfig fs:tmpfs CREATE$/,
    /^fsmount fs:tmpfs = \d+$/,
    /^mount_setattr fs:tmpfs set=0x100000 clr=0 userns=\/idmap\/userns$/,
    /^mkdirat \/rootfs\/t 755$/,
    /^move_mount fs:tmpfs -> \/rootfs\/t$/,
    /^mount - \/rootfs\/t - NOSUID\|REMOUNT\|BIND -$/,
  ]);
});

test("idmapped: the kernel's refusals come back on one line naming the mount and saying why", () => {
  const einval = runFake([IDMAP_BIND, EXEC], { fs: ROOTFS_FS, extra: ["/idmap/userns"], fail: ["mount_setattr=22"] });
  assert.is(einval.status, 1);
  assert.match(einval.error ?? "", /^errno=22 idmapping \/host\/data: the kernel cannot idmap this mount \(its file system type does not support idmapped mounts/);
  const eperm = runFake([IDMAP_BIND, EXEC], { fs: ROOTFS_FS, extra: ["/idmap/userns"], fail: ["mount_setattr=1"] });
  assert.match(eperm.error ?? "", /^errno=1 idmapping \/host\/data: not permitted \(mount_setattr needs CAP_SYS_ADMIN over the user namespace that owns the file system/);
  const missing = runFake([{ ...IDMAP_BIND, blobs: ["/host/nothing", "", ""] }, EXEC], { fs: ROOTFS_FS, extra: ["/idmap/userns"] });
  assert.match(missing.error ?? "", /idmapped mount: cloning \/host\/nothing/);
  const badOpt = runFake([{ code: Op.IDMAP_MOUNT, ints: [0, 0, 0, 0], blobs: ["tmpfs", "tmpfs", "bogus=1"], what: "m" }, EXEC], { fs: ROOTFS_FS, extra: ["/idmap/userns"], fail: ["fsconfig=22"] });
  assert.match(badOpt.error ?? "", /^errno=22 idmapped mount: tmpfs source tmpfs$/);
  for (const x of [einval, eperm, missing, badOpt]) assert.not.match(x.error ?? "", /\n/);
});

test("idmapped: a mount whose slot was never filled, or a slot filled twice, is refused", () => {
  const r = runFake([SELF_BIND, MOUNT_IDMAPPED, EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 1);
  assert.match(r.error ?? "", /no idmapped mount was made for slot 0/);
  const twice = runFake([IDMAP_BIND, IDMAP_BIND, EXEC], { fs: ROOTFS_FS, extra: ["/idmap/userns"] });
  assert.match(twice.error ?? "", /idmapped mount slot 0 is taken/);
});

test("a mount refused in the container's own user namespace says so", () => {
  const ext4: PlanOp = { code: Op.MOUNT, ints: mountInts({ create: 1 }), blobs: ["/dev/vdb", "/data", "ext4", ""], what: "mounts[5] (/data)" };
  const r = runFake([{ code: Op.UNSHARE, ints: [0x10000000], what: "user" }, SELF_BIND, ext4, EXEC], { fs: ROOTFS_FS, fail: ["mount.ext4=1"] });
  assert.is(r.status, 1);
  assert.ok(indexOf(r.calls, /^send ERROR/) >= 0);
  assert.match(r.error ?? "", /mount \/dev\/vdb on \/data \(type ext4\) \(not permitted in the container's user namespace\)$/);
});

test.run();
