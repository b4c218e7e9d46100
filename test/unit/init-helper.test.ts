// The init helper's system calls, without root: the helper's own sources built
// against a recording fake of its syscall table (test/unit/init/sys_fake.c), fed
// op lists encoded by src/plan/encode.ts. Each test asserts the order and
// arguments of the calls an op list makes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encodePlan } from "../../src/plan/encode";
import { Op, Sync, type PlanOp } from "../../src/plan/ops";
import { MS } from "../../src/linux/mount-options";
import { defaultSpec } from "../../src/spec/default";
import { normaliseConfig } from "../../src/spec/normalise";
import { planContainer } from "../../src/planner/container";
import { planExec } from "../../src/planner/exec";
import { indexOf, inOrder, ROOTFS_FS, runFake } from "./init/fake";

const SELF_BIND: PlanOp = { code: Op.MOUNT, ints: [MS.BIND | MS.REC, 0, 0, 0, 0, 2, 1], blobs: ["/rootfs", "/rootfs", "", ""], what: "root.path" };
const PROC: PlanOp = { code: Op.MOUNT, ints: [MS.NOSUID | MS.NODEV | MS.NOEXEC, 0, 0, 0, 1, 0, 0], blobs: ["proc", "/proc", "proc", ""], what: "mounts[0] (/proc)" };
const SYSFS: PlanOp = { code: Op.MOUNT, ints: [MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, 0, 0, 0, 1, 0, 0], blobs: ["sysfs", "/sys", "sysfs", ""], what: "mounts[1] (/sys)" };
const PIVOT: PlanOp = { code: Op.PIVOT_ROOT, ints: [0], blobs: ["/rootfs"], what: "root.path (pivot_root)" };
const exec = (args: string[], env: string[], opts: { flags?: number; fifo?: number; seccomp?: Buffer } = {}): PlanOp => ({
  code: Op.EXEC,
  flags: opts.flags ?? 0,
  ints: [args.length, opts.fifo ?? -1, 0, opts.seccomp ? 1 : 0],
  blobs: [...args, ...env, ...(opts.seccomp ? [opts.seccomp] : [])],
  what: "process.args[0]",
});
const EXEC = exec(["/bin/sh"], ["PATH=/bin"]);

test("start: not dumpable before anything else; own fds close-on-exec; the plan's fd closed right after mapping", () => {
  const r = runFake([EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  assert.is(r.calls[0], "prctl DUMPABLE 0", "the very first call");
  // spawn.cc has the child die with ocirt until the helper runs; the init must outlive create
  assert.is(r.calls[1], "prctl PDEATHSIG 0", "the parent-death signal cleared next");
  const [, , planClosed] = inOrder(r.calls, [/^fcntl fd3 F_SETFD 1$/, /^fcntl fd4 F_SETFD 1$/, /^close fd4$/]);
  assert.ok(planClosed! < indexOf(r.calls, /^faccessat/), "closed before the first op");
});

test("mount: a bind with options: bind (rec), remount with the options, propagation, all on the resolved fd", () => {
  const bind: PlanOp = { code: Op.MOUNT, ints: [MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID, MS.PRIVATE, 0, 0, 3, 0, 0], blobs: ["/host/data", "/data", "", ""], what: "mounts[2] (/data)" };
  const r = runFake([SELF_BIND, bind, EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [
    /^mount \/rootfs \/rootfs - BIND\|REC -$/, // the rootfs self-bind, on its host path
    /^fstatat AT_FDCWD \/host\/data = dir$/, // create like the source: a directory
    /^openat2 \/rootfs data IN_ROOT\|NO_MAGICLINKS = No such file/,
    /^mkdirat \/rootfs\/data 755$/,
    /^openat2 \/rootfs data IN_ROOT\|NO_MAGICLINKS = \d+ \/rootfs\/data$/,
    /^fchdir \/proc\/1\/fd$/, // the fd is named through the helper's own fd directory
    /^mount \/host\/data \/rootfs\/data - BIND\|REC -$/,
    /^mount - \/rootfs\/data - RDONLY\|NOSUID\|REMOUNT\|BIND -$/,
    /^mount - \/rootfs\/data - PRIVATE -$/,
  ]);
  assert.is(r.calls.filter((c) => c.startsWith("mount ")).length, 4);
});

test("mount: a symlink in the destination stays inside the rootfs (RESOLVE_IN_ROOT)", () => {
  const bind: PlanOp = { code: Op.MOUNT, ints: [MS.BIND, 0, 0, 0, 3, 0, 0], blobs: ["/host/data", "/link/x", "", ""], what: "mounts[0]" };
  const r = runFake([SELF_BIND, bind, EXEC], { fs: [...ROOTFS_FS, "l /rootfs/link /etc", "d /etc/x"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  // /link -> /etc is the rootfs's /etc, not the host's
  assert.ok(r.calls.includes("mount /host/data /rootfs/etc/x - BIND -"), r.calls.join("\n"));
});

test("D1: proc on a symlink (/proc -> /vol/proc) is refused, naming the mount; nothing is mounted", () => {
  const r = runFake([SELF_BIND, PROC, EXEC], { fs: [...ROOTFS_FS.filter((l) => l !== "d /rootfs/proc"), "l /rootfs/proc /vol/proc", "d /rootfs/vol/proc/sys/kernel"] });
  assert.is(r.status, 1);
  assert.match(r.error ?? "", /^errno=0 filesystem "proc" must be mounted on ordinary directory \(\/proc is a symlink\)$/);
  assert.is(r.calls.filter((c) => c.startsWith("mount ")).length, 1, "only the rootfs self-bind");
});

test("D1: sysfs on a file is refused too; proc on a missing directory creates it", () => {
  const onFile = runFake([SELF_BIND, SYSFS, EXEC], { fs: [...ROOTFS_FS.filter((l) => l !== "d /rootfs/sys"), "f /rootfs/sys"] });
  assert.match(onFile.error ?? "", /filesystem "sysfs" must be mounted on ordinary directory \(\/sys is not a directory\)/);
  const missing = runFake([SELF_BIND, PROC, EXEC], { fs: ROOTFS_FS.filter((l) => l !== "d /rootfs/proc") });
  assert.is(missing.status, 0, missing.calls.join("\n"));
  inOrder(missing.calls, [/^mkdirat \/rootfs\/proc 755$/, /^openat \/rootfs proc 0 = \d+ \/rootfs\/proc$/, /^mount proc \/rootfs\/proc proc NOSUID\|NODEV\|NOEXEC -$/]);
});

test("D1: a mount whose destination resolves into /proc through a symlink is refused", () => {
  const vol: PlanOp = { code: Op.MOUNT, ints: [MS.BIND | MS.REC, 0, 0, 0, 3, 0, 0], blobs: ["/host/data", "/x/sys", "", ""], what: "mounts[2] (/x/sys)" };
  const r = runFake([SELF_BIND, PROC, vol, EXEC], { fs: [...ROOTFS_FS, "l /rootfs/x /proc"] });
  assert.is(r.status, 1);
  assert.match(r.error ?? "", /mount destination \/x\/sys resolves into \/proc \(through a symlink\): refused/);
  assert.not.ok(r.calls.some((c) => c.startsWith("mount /host/data")));
});

test("D1: a bind on /proc must bring a procfs (runc's checkProcMount)", () => {
  const bind: PlanOp = { code: Op.MOUNT, ints: [MS.BIND | MS.REC, 0, 0, 0, 3, 0, 0], blobs: ["/host/data", "/proc", "", ""], what: "mounts[0] (/proc)" };
  const r = runFake([SELF_BIND, bind, EXEC], { fs: ROOTFS_FS });
  assert.match(r.error ?? "", /"\/proc" cannot be mounted because it is not of type proc/);
});

test("tmpfs: mounted with the config's data as it is, then its root takes the mode of the directory it covers (runc)", () => {
  const tmpfs = (dst: string, data: string): PlanOp => ({ code: Op.MOUNT, ints: [MS.NOSUID, 0, 0, 0, 1, 0, 0], blobs: ["tmpfs", dst, "tmpfs", data], what: `mounts (${dst})` });
  const r = runFake([SELF_BIND, tmpfs("/etc", "mode=700"), tmpfs("/new", "mode=700,size=1m"), EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [
    /^openat2 \/rootfs etc IN_ROOT\|NO_MAGICLINKS = \d+ \/rootfs\/etc$/,
    /^fstatat \/rootfs\/etc {2}= dir$/, // the covered directory's mode, before the mount
    /^mount tmpfs \/rootfs\/etc tmpfs NOSUID mode=700$/, // no mode= of ocirt's own in the data
    /^openat2 \/rootfs etc IN_ROOT\|NO_MAGICLINKS = \d+ \/rootfs\/etc$/, // the new mount, reopened
    /^fchmodat \/rootfs\/etc 755$/, // through the fd directory: the mount's root gets the covered mode
    /^mount tmpfs \/rootfs\/new tmpfs NOSUID mode=700,size=1m$/,
  ]);
  assert.not.ok(r.calls.some((c) => c.startsWith("fchmodat /rootfs/new")), "over a directory made for it, the config's mode stays");
  assert.not.ok(r.calls.some((c) => /mode=0/.test(c)), r.calls.join("\n"));
});

test("stdio that is /dev/null becomes the container's own /dev/null, read-write, checked then reopened through the fd directory (runc's reOpenDevNull)", () => {
  const REOPEN: PlanOp = { code: Op.REOPEN_DEV_NULL, what: "process (stdio)" };
  const r = runFake([SELF_BIND, PROC, PIVOT, REOPEN, EXEC], { fs: [...ROOTFS_FS, "c /dev/null"], stdio: ["/dev/null"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [
    /^pivot_root /,
    /^fstatat \/dev\/null {2}= chr$/, // fd 0: the caller's /dev/null
    /^openat2 \/rootfs dev\/null IN_ROOT\|NO_MAGICLINKS = \d+ \/rootfs\/dev\/null$/,
    /^fstatat \/rootfs\/dev\/null {2}= chr$/,
    /^openat \/rootfs\/proc\/1\/fd \d+ 0 = \d+ \/rootfs\/dev\/null RDWR$/,
    /^dup2 \/rootfs\/dev\/null 0$/,
    /^close \/rootfs\/dev\/null$/,
    /^execve /,
  ]);
  assert.not.ok(r.calls.some((c) => /^dup2 .* [12]$/.test(c)), "only the fd that was /dev/null");
  const none = runFake([SELF_BIND, PROC, PIVOT, REOPEN, EXEC], { fs: ROOTFS_FS });
  assert.is(none.status, 0, none.error);
  assert.not.ok(none.calls.some((c) => c.includes("dev/null")), "no stdio is a device: nothing opened");
  const planted = runFake([SELF_BIND, PROC, PIVOT, REOPEN, EXEC], { fs: [...ROOTFS_FS.filter((l) => !l.includes("dev/null")), "f /rootfs/dev/null", "c /dev/null"], stdio: ["/dev/null"] });
  assert.match(planted.error ?? "", /reopening \/dev\/null inside the container: \/dev\/null is not a character device/);
  assert.not.ok(planted.calls.some((c) => c.startsWith("dup2")));
  // a device entry made /dev/null another device (1:5): it matches no stdio, nothing is reopened (runc compares the two)
  const other = runFake([SELF_BIND, PROC, PIVOT, REOPEN, EXEC], { fs: [...ROOTFS_FS.filter((l) => !l.includes("dev/null")), "c /rootfs/dev/null 1:5", "c /dev/null"], stdio: ["/dev/null"] });
  assert.is(other.status, 0, other.error);
  assert.not.ok(other.calls.some((c) => c.startsWith("dup2") || / RDWR$/.test(c)), other.calls.join("\n"));
});

test("pivot_root: chdir into the rootfs, pivot_root(., .), detach the old root as a slave, chdir /", () => {
  const r = runFake([SELF_BIND, PIVOT, EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [
    /^openat2 \/proc 1\/fd .*NO_XDEV = \d+ \/proc\/1\/fd$/, // the host's fd directory, before the root changes
    /^chdir \/rootfs$/,
    /^openat AT_FDCWD \/ 0 = \d+ \/$/,
    /^pivot_root \/rootfs \.$/,
    /^fchdir \/$/,
    /^mount - \/ - REC\|SLAVE -$/,
    /^umount2 \/ DETACH$/,
    /^chdir \/rootfs$/,
    /^execve \/rootfs\/bin\/sh \/bin\/sh \| PATH=\/bin$/,
  ]);
});

const MOUNTINFO = [
  "1 0 8:1 / / rw - ext4 /dev/sda1 rw",
  "2 1 0:5 / /proc rw,nosuid - proc proc rw",
  "3 1 0:6 / /sys rw - sysfs sysfs rw",
  "4 3 0:7 / /sys/fs/cgroup rw - tmpfs tmpfs rw",
  "5 1 0:5 /sys /mnt/procsys ro - proc proc rw", // not a full procfs: left alone
  "6 1 0:8 / /run/with\\040space rw - proc proc rw",
  "7 1 8:1 /rootfs /rootfs rw - ext4 /dev/sda1 rw",
  "8 7 0:9 / /rootfs/proc rw - proc proc rw", // the container's own
  "9 7 0:10 / /rootfs/sys rw - sysfs sysfs rw",
  "10 1 0:11 / /rootfsX/proc rw - proc proc rw", // only looks like it is inside
].join("\n") + "\n";

test("--no-pivot: every full procfs/sysfs outside the rootfs made a slave and detached, then MS_MOVE + chroot", () => {
  const r = runFake([SELF_BIND, { ...PIVOT, ints: [1] }, EXEC], { fs: [...ROOTFS_FS, "d /run/with\\040space", "d /rootfsX/proc"], mountinfo: MOUNTINFO });
  assert.is(r.status, 0, r.calls.join("\n"));
  const detached = r.calls.filter((c) => c.startsWith("umount2 ")).map((c) => c.slice(8));
  assert.equal(detached, ["/proc DETACH", "/sys DETACH", "/run/with space DETACH", "/rootfsX/proc DETACH"]);
  inOrder(r.calls, [
    /^openat2 \/proc 1\/mountinfo /,
    /^mount - \/proc - REC\|SLAVE -$/,
    /^umount2 \/proc DETACH$/,
    /^mount - \/sys - REC\|SLAVE -$/,
    /^umount2 \/sys DETACH$/,
    /^mount \/rootfs \/ - MOVE -$/,
    /^chroot \/rootfs$/,
  ]);
  assert.not.ok(r.calls.some((c) => c.startsWith("pivot_root")));
});

test("--no-pivot: a mount that may not be unmounted (EPERM) is covered with a tmpfs", () => {
  const r = runFake([SELF_BIND, { ...PIVOT, ints: [1] }, EXEC], { fs: ROOTFS_FS, mountinfo: "2 1 0:5 / /proc rw - proc proc rw\n", fail: ["umount2=1"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [/^mount - \/proc - REC\|SLAVE -$/, /^mount tmpfs \/proc tmpfs 0 -$/, /^mount \/rootfs \/ - MOVE -$/]);
});

test("masked paths: a directory gets a read-only tmpfs without data (runc's maskPath), a file the container's /dev/null, by fd", () => {
  const r = runFake([SELF_BIND, PROC, PIVOT, { code: Op.MASK, blobs: ["/proc/acpi"], what: "m0" }, { code: Op.MASK, blobs: ["/proc/kcore"], what: "m1" }, { code: Op.MASK, blobs: ["/proc/missing-dir/x"], what: "m2" }, EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [
    /^openat2 \/rootfs proc\/acpi IN_ROOT\|NO_MAGICLINKS = \d+ \/rootfs\/proc\/acpi$/,
    /^fchdir \/rootfs\/proc\/1\/fd$/, // the container's own procfs, verified, after pivot_root
    /^mount tmpfs \/rootfs\/proc\/acpi tmpfs RDONLY -$/,
    /^openat2 \/rootfs dev\/null IN_ROOT\|NO_MAGICLINKS/,
    /^fstatat \/rootfs\/dev\/null {2}= chr$/,
    /^mount \/rootfs\/dev\/null \/rootfs\/proc\/kcore - BIND -$/,
  ]);
});

test("masked paths: a directory's tmpfs takes the mount label, its only data", () => {
  const r = runFake([SELF_BIND, PROC, PIVOT, { code: Op.MASK, blobs: ["/proc/acpi", 'context="system_u:object_r:container_file_t:s0"'], what: "m0" }, EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  assert.ok(r.calls.includes('mount tmpfs /rootfs/proc/acpi tmpfs RDONLY context="system_u:object_r:container_file_t:s0"'), r.calls.join("\n"));
});

test("masked paths: a /dev/null that is not the null device is refused", () => {
  const r = runFake([SELF_BIND, PROC, PIVOT, { code: Op.MASK, blobs: ["/proc/kcore"], what: "m1" }, EXEC], { fs: [...ROOTFS_FS.filter((l) => !l.includes("dev/null")), "l /rootfs/dev/null /proc/kcore"] });
  assert.match(r.error ?? "", /masking \/proc\/kcore: \/dev\/null of the container is not the null device/);
});

test("readonly paths: recursive bind onto itself, then remount read-only keeping nosuid, nodev, noexec (runc)", () => {
  const r = runFake([SELF_BIND, PROC, PIVOT, { code: Op.READONLY, blobs: ["/proc/sys"], what: "r0" }, { code: Op.READONLY, blobs: ["/etc"], what: "r1" }, EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [
    /^mount \/rootfs\/proc\/sys \/rootfs\/proc\/sys - BIND\|REC -$/,
    /^fstatfs \/rootfs\/proc\/sys = proc$/,
    /^mount - \/rootfs\/proc\/sys - RDONLY\|NOSUID\|NODEV\|NOEXEC\|REMOUNT\|BIND -$/,
    /^mount \/rootfs\/etc \/rootfs\/etc - BIND\|REC -$/,
    /^mount - \/rootfs\/etc - RDONLY\|REMOUNT\|BIND -$/, // the rootfs had none of them
  ]);
});

test("sysctl: written through the verified procfs root, beneath it, no symlinks, nothing mounted over", () => {
  const r = runFake([SELF_BIND, PROC, PIVOT, { code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/sys/kernel/shm_rmid_forced", "1"], what: "linux.sysctl" }, EXEC], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [
    /^pivot_root/,
    /^openat2 \/rootfs proc BENEATH\|NO_SYMLINKS\|NO_MAGICLINKS = \d+ \/rootfs\/proc$/,
    /^fstatfs \/rootfs\/proc = proc$/,
    /^openat2 \/rootfs\/proc sys\/kernel\/shm_rmid_forced BENEATH\|NO_SYMLINKS\|NO_MAGICLINKS\|NO_XDEV = \d+/,
    /^fstatfs \/rootfs\/proc\/sys\/kernel\/shm_rmid_forced = proc$/,
    /^write \/rootfs\/proc\/sys\/kernel\/shm_rmid_forced 1 1$/,
  ]);
});

test("sysctl: /proc a symlink, a plain directory or something mounted over: refused, nothing written", () => {
  const sysctl: PlanOp = { code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/sys/kernel/shm_rmid_forced", "1"], what: "linux.sysctl" };
  const link = runFake([SELF_BIND, PIVOT, sysctl, EXEC], { fs: [...ROOTFS_FS.filter((l) => l !== "d /rootfs/proc"), "l /rootfs/proc /vol/proc", "f /rootfs/vol/proc/sys/kernel/shm_rmid_forced"] });
  assert.match(link.error ?? "", /\/proc is a symlink: refusing to reach \/proc\/sys\/kernel\/shm_rmid_forced through it/);
  const plain = runFake([SELF_BIND, PIVOT, sysctl, EXEC], { fs: [...ROOTFS_FS, "f /rootfs/proc/sys/kernel/shm_rmid_forced"] });
  assert.match(plain.error ?? "", /\/proc is not the root of a procfs mount/);
  const over = runFake([SELF_BIND, PROC, PIVOT, sysctl, EXEC], { fs: ROOTFS_FS, mounts: ["tmpfs /rootfs/proc/sys"] });
  assert.match(over.error ?? "", /something is mounted over it/);
  for (const r of [link, plain, over]) assert.not.ok(r.calls.some((c) => c.startsWith("write /")), r.calls.join("\n"));
});

test("procfs writes: self is read from the procfs and must name a process; only /proc and /sys", () => {
  const oom: PlanOp = { code: Op.OOM_SCORE_ADJ, ints: [500], what: "process.oomScoreAdj" };
  const r = runFake([oom, EXEC], { fs: ROOTFS_FS });
  inOrder(r.calls, [/^readlinkat \/proc\/self = 1$/, /^openat2 \/proc 1\/oom_score_adj .*NO_XDEV = \d+ \/proc\/1\/oom_score_adj$/, /^write \/proc\/1\/oom_score_adj 3 500$/]);
  const elsewhere = runFake([{ code: Op.WRITE_FILE, ints: [0], blobs: ["/etc/passwd", "x"], what: "w" }, EXEC], { fs: ROOTFS_FS });
  assert.match(elsewhere.error ?? "", /only files under \/proc and \/sys/);
  const bogus = runFake([oom, EXEC], { fs: [...ROOTFS_FS, "l /proc/self ../etc"] });
  assert.match(bogus.error ?? "", /\/proc\/self names \.\.\/etc, not a process/);
});

test("procfs writes in a user namespace of the helper's own: dumpable only around the open of its own file", () => {
  const ops: PlanOp[] = [
    { code: Op.UNSHARE, ints: [0x10000000], what: "user" },
    { code: Op.UNSHARE, ints: [0x80], what: "time" },
    { code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/self/timens_offsets", "monotonic 1 0\n"], what: "linux.timeOffsets" },
    { code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/sys/kernel/shm_rmid_forced", "1"], what: "linux.sysctl" },
    EXEC,
  ];
  const r = runFake(ops, { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [/^prctl DUMPABLE 1$/, /^openat2 \/proc 1\/timens_offsets/, /^prctl DUMPABLE 0$/, /^write \/proc\/1\/timens_offsets/]);
  assert.is(r.calls.filter((c) => c === "prctl DUMPABLE 1").length, 1, "not for the sysctl");
});

test("user and capabilities: bounding set, groups, keepcaps + setresgid/uid, keepcaps off, sets, ambient", () => {
  const ops: PlanOp[] = [
    { code: Op.CAPS, flags: 1, ints: [(1n << 5n) | (1n << 10n), 0, 0, 0, 0], what: "bounding" },
    { code: Op.SETGROUPS, ints: [10, 29], what: "groups" },
    { code: Op.SETUSER, ints: [1000, 1000], what: "user" },
    { code: Op.CAPS, flags: 2, ints: [(1n << 5n) | (1n << 10n), 1n << 5n, (1n << 5n) | (1n << 10n), 1n << 10n, (1n << 10n) | (1n << 5n)], what: "caps" },
    EXEC,
  ];
  const r = runFake(ops, { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.calls.join("\n"));
  const drops = r.calls.filter((c) => c.startsWith("prctl CAPBSET_DROP")).map((c) => Number(c.split(" ")[2]));
  assert.equal(drops, Array.from({ length: 41 }, (_, i) => i).filter((c) => c !== 5 && c !== 10), "every cap the kernel has but 5 and 10");
  inOrder(r.calls, [
    /^prctl CAPBSET_DROP 40$/,
    /^setgroups 2$/,
    /^prctl KEEPCAPS 1$/,
    /^setresgid 1000$/,
    /^setresuid 1000$/,
    /^prctl KEEPCAPS 0$/,
    /^capset eff=0x20 prm=0x420 inh=0x400$/,
    /^prctl AMBIENT CLEAR_ALL 0$/,
    /^prctl AMBIENT RAISE 10$/, // 5 is not inheritable: skipped, as runc
    /^execve /,
  ]);
  assert.not.ok(r.calls.includes("prctl AMBIENT RAISE 5"));
});

test("return values: clearing keepcaps or the ambient set, close_range, fail the step", () => {
  const user: PlanOp = { code: Op.SETUSER, ints: [1000, 1000], what: "process.user" };
  assert.match(runFake([user, EXEC], { fail: ["prctl_keepcaps=1"] }).error ?? "", /keeping capabilities across setuid/);
  const caps: PlanOp = { code: Op.CAPS, flags: 2, ints: [0, 0, 0, 0, 1n << 5n], what: "caps" };
  assert.match(runFake([caps, EXEC], { fail: ["prctl_ambient=1"] }).error ?? "", /clearing the ambient capabilities/);
  assert.match(runFake([EXEC], { fs: ROOTFS_FS, fail: ["close_range=9"] }).error ?? "", /close_range/);
});

test("setgroups: 65536 groups (the kernel's NGROUPS_MAX) pass whole; more is refused", () => {
  const gids = Array.from({ length: 65536 }, (_, i) => i + 1);
  const r = runFake([{ code: Op.SETGROUPS, ints: gids, what: "groups" }, EXEC], { fs: ROOTFS_FS });
  assert.ok(r.calls.includes("setgroups 65536"), r.error);
  assert.ok(r.calls.includes("setgroups first=1 last=65536"));
  const more = runFake([{ code: Op.SETGROUPS, ints: [...gids, 65537], what: "groups" }, EXEC], { fs: ROOTFS_FS });
  assert.match(more.error ?? "", /65537 supplementary groups: the kernel allows 65536/);
});

test("exec: lookup, signal handlers and an empty mask, close_range, READY, exec.fifo through the fd directory, execve", () => {
  const r = runFake([SELF_BIND, PROC, PIVOT, exec(["sh", "-c", "x"], ["PATH=/usr/bin:/bin", "A=1"], { fifo: 0 })], { fs: ROOTFS_FS, extra: ["/state/exec.fifo"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  // the host's fd directory is given up as soon as the container's procfs serves
  const [pivot, hostClosed] = inOrder(r.calls, [/^pivot_root/, /^close \/proc\/1\/fd$/]);
  assert.ok(hostClosed! < indexOf(r.calls, /^send READY/), `closed right after pivot_root (#${pivot})`);
  inOrder(r.calls, [
    /^fstatat AT_FDCWD \/bin\/sh = file$/,
    /^faccessat \/rootfs\/bin\/sh$/,
    /^sigaction 15 handler$/,
    /^sigprocmask SETMASK 0$/,
    /^close_range 3 4294967295 CLOEXEC$/,
    /^send READY /,
    /^close fd3$/, // the sync socket: nobody listens after READY
    /^openat \/rootfs\/proc\/1\/fd 5 0 = \d+ \/state\/exec\.fifo$/, // the container's procfs, verified
    /^write \/state\/exec\.fifo 1 0$/,
    /^close \/state\/exec\.fifo$/,
    /^close \/state\/exec\.fifo$/, // and its O_PATH fd
    /^execve \/rootfs\/bin\/sh sh -c x \| PATH=\/usr\/bin:\/bin A=1$/,
  ]);
  for (const sig of [1, 2, 3, 10, 12, 15, 34, 64]) assert.ok(r.calls.includes(`sigaction ${sig} handler`), `signal ${sig} handled`);
});

test("exec.fifo without a procfs of the container (no mount namespace: chroot): the host's fd directory, closed after", () => {
  const r = runFake([{ code: Op.PIVOT_ROOT, ints: [2], blobs: ["/rootfs"], what: "root.path (chroot)" }, exec(["/bin/sh"], ["PATH=/bin"], { fifo: 0 })], { fs: ROOTFS_FS, extra: ["/state/exec.fifo"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [/^openat2 \/proc 1\/fd /, /^chroot \/rootfs$/, /^fstatfs \/rootfs\/proc = ext4$/, /^send READY/, /^openat \/proc\/1\/fd 5 0 = \d+ \/state\/exec\.fifo$/, /^close \/proc\/1\/fd$/, /^execve /]);
});

test("D3: with no_new_privs, seccomp is loaded before READY and the startContainer hooks, which run between the halves", () => {
  const hook: PlanOp = { code: Op.RUN_HOOK, ints: [0, 1, 1], blobs: ["/bin/hook", "hook", "H=1", '{"pid":', "}"], what: "hooks.startContainer[0]" };
  const prog = Buffer.alloc(16);
  const r = runFake([SELF_BIND, PROC, PIVOT, exec(["/bin/sh"], ["PATH=/bin"], { flags: 1, fifo: 0, seccomp: prog }), hook, exec(["/bin/sh"], ["PATH=/bin"], { flags: 2, fifo: 0, seccomp: prog })], {
    fs: [...ROOTFS_FS, "f /rootfs/bin/hook"],
    extra: ["/state/exec.fifo"],
  });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [/^seccomp 2 instructions/, /^send READY/, /^write \/state\/exec\.fifo 1 0$/, /^fork = parent$/, /^write pipe:w \d+ \{"pid":\d+\}$/, /^waitpid 777$/, /^execve \/rootfs\/bin\/sh /]);
  assert.is(r.calls.filter((c) => c.startsWith("seccomp")).length, 1, "loaded once");
});

test("exec: a directory as args[0] fails at create, before READY: permission denied (runc's exec.LookPath)", () => {
  const r = runFake([SELF_BIND, PROC, PIVOT, exec(["/bin"], ["PATH=/bin"], { fifo: 0 })], { fs: ROOTFS_FS, extra: ["/state/exec.fifo"] });
  assert.is(r.status, 1);
  assert.is(r.error, 'errno=13 exec: "/bin" is a directory');
  assert.not.ok(r.calls.some((c) => c.startsWith("send READY")));
});

test("exec.fifo with a mount namespace but no procfs on /proc: create fails before READY, as runc's init (\"error closing exec fds\")", () => {
  const r = runFake([SELF_BIND, PIVOT, exec(["/bin/sh"], ["PATH=/bin"], { fifo: 0 })], { fs: ROOTFS_FS, extra: ["/state/exec.fifo"] });
  assert.is(r.status, 1);
  assert.is(r.error, "errno=2 the container has no procfs on /proc (mounts): error closing exec fds: open /proc/self/fd");
  assert.not.ok(r.calls.some((c) => c.startsWith("send READY")));
  const missing = runFake([SELF_BIND, PIVOT, exec(["/bin/sh"], ["PATH=/bin"], { fifo: 0 })], { fs: ROOTFS_FS.filter((l) => l !== "d /rootfs/proc"), extra: ["/state/exec.fifo"] });
  assert.is(missing.error, "errno=2 the container has no procfs on /proc (mounts): error closing exec fds: open /proc/self/fd");
});

test("D6: argv and env of any count reach execve", () => {
  const env = Array.from({ length: 5000 }, (_, i) => `VAR_${i}=${"v".repeat(i % 50)}`);
  const args = ["/bin/sh", ...Array.from({ length: 300 }, (_, i) => `arg${i}`)];
  const r = runFake([exec(args, ["PATH=/bin", ...env])], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.error);
  assert.ok(r.calls.some((c) => c === `execve /bin/sh argc=301 envc=5001 first=/bin/sh last=${env.at(-1)}`), r.calls.at(-1));
});

test("D7: hook state of any size, all of it written; a hook that does not read it (EPIPE) is fine; cwd for createContainer is the rootfs", () => {
  const big = "x".repeat(100_000);
  const hook: PlanOp = { code: Op.RUN_HOOK, ints: [0, 0, 0], blobs: ["/bin/hook", `{"annotations":{"a":"${big}"},"pid":`, "}"], what: "hooks.createContainer[0]" };
  const r = runFake([SELF_BIND, hook, EXEC], { fs: [...ROOTFS_FS, "f /bin/hook"], fork: ["parent"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  assert.ok(r.calls.some((c) => /^write pipe:w 10\d{4} bytes$/.test(c)), "the whole state in one write (the fake pipe takes it)");
  const epipe = runFake([SELF_BIND, hook, EXEC], { fs: [...ROOTFS_FS, "f /bin/hook"], writeEpipe: ["pipe:w"] });
  assert.is(epipe.status, 0, epipe.calls.join("\n"));
  const child = runFake([SELF_BIND, hook, EXEC], { fs: [...ROOTFS_FS, "f /bin/hook"], fork: ["child"] });
  inOrder(child.calls, [/^fork = child$/, /^dup2 pipe:r 0$/, /^fchdir \/rootfs$/, /^execve \/bin\/hook \/bin\/hook \|$/]);
  const failing = runFake([SELF_BIND, hook, EXEC], { fs: [...ROOTFS_FS, "f /bin/hook"], hookStatus: 3 });
  assert.is(failing.error, "errno=0 exit status 3");
});

test("hooks run by the helper: stdout and stderr captured (not the container's), the last stderr line in the error (runc captures them too)", () => {
  const hook: PlanOp = { code: Op.RUN_HOOK, ints: [0, 0, 0, 0], blobs: ["/bin/hook", '{"pid":', "}"], what: "hooks.createContainer[0]" };
  const child = runFake([SELF_BIND, hook, EXEC], { fs: [...ROOTFS_FS, "f /bin/hook"], fork: ["child"] });
  inOrder(child.calls, [/^fork = child$/, /^dup2 pipe:r 0$/, /^dup2 pipe1:w 1$/, /^dup2 pipe2:w 2$/, /^execve \/bin\/hook /]);
  const failing = runFake([SELF_BIND, hook, EXEC], { fs: [...ROOTFS_FS, "f /bin/hook"], hookStatus: 3, read: "pipe2:r=some noise\nthe reason\n" });
  assert.is(failing.error, "errno=0 exit status 3: the reason");
  inOrder(failing.calls, [/^close pipe1:w$/, /^close pipe2:w$/, /^read pipe1:r$/, /^read pipe2:r$/, /^waitpid 777$/]);
  assert.not.ok(failing.calls.some((c) => c.startsWith("send READY")));
  // a startContainer hook fails after READY: the container's stderr says which, and the init exits 1
  const start: PlanOp = { ...hook, ints: [0, 0, 0, 1], what: "hooks.startContainer[1]" };
  const late = runFake([SELF_BIND, PROC, PIVOT, exec(["/bin/sh"], ["PATH=/bin"], { flags: 1, fifo: 0 }), start, exec(["/bin/sh"], ["PATH=/bin"], { flags: 2, fifo: 0 })], {
    fs: [...ROOTFS_FS, "f /rootfs/bin/hook"],
    extra: ["/state/exec.fifo"],
    hookStatus: 3,
    read: "pipe2:r=boom\n",
  });
  assert.is(late.status, 1);
  assert.is(late.stderr, "ocirt-init: hooks.startContainer[1] (/bin/hook): exit status 3: boom\n");
  assert.not.ok(late.calls.some((c) => c.startsWith("execve /rootfs/bin/sh")), "the program never runs");
});

test("E: console: the pty from TIOCGPTPEER, chowned to the uid only (keeps devpts's tty group), session, controlling terminal", () => {
  const r = runFake([{ code: Op.CONSOLE, ints: [24, 80, 1000, 1000], what: "process.terminal" }, EXEC], { fs: [...ROOTFS_FS, "c /dev/ptmx"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [/^ioctl \/dev\/ptmx TIOCSPTLCK$/, /^ioctl \/dev\/ptmx TIOCSWINSZ 24x80$/, /^ioctl \/dev\/ptmx TIOCGPTPEER$/, /^fchown \/dev\/pts\/3 1000 -1$/,
    /^send CONSOLE_FD op=0 err=0 fd=\/dev\/ptmx \/dev\/pts\/3/, /^recv ACK$/, /^setsid$/, /^ioctl \/dev\/pts\/3 TIOCSCTTY$/, /^dup2 \/dev\/pts\/3 0$/]);
});

test("E: console: the init's (flags 1) is also bound on /dev/console, a file made for it, the pty by fd; exec's (0) is not", () => {
  const consoleOp = (flags: number): PlanOp => ({ code: Op.CONSOLE, flags, ints: [0, 0, 1000, 1000], what: "process.terminal" });
  const r = runFake([SELF_BIND, PROC, PIVOT, consoleOp(1), EXEC], { fs: [...ROOTFS_FS, "c /rootfs/dev/ptmx"] });
  assert.is(r.status, 0, r.calls.join("\n"));
  inOrder(r.calls, [
    /^ioctl \/rootfs\/dev\/ptmx TIOCGPTPEER$/,
    /^fchown \/dev\/pts\/3 1000 -1$/,
    /^openat \/rootfs\/dev console 0 = \d+ \/rootfs\/dev\/console$/, // created (O_CREAT) in the container's /dev
    /^fchdir \/rootfs\/proc\/1\/fd$/,
    /^mount \/dev\/pts\/3 \/rootfs\/dev\/console - BIND -$/,
    /^send CONSOLE_FD /,
    /^setsid$/,
    /^ioctl \/dev\/pts\/3 TIOCSCTTY$/,
  ]);
  const exec = runFake([SELF_BIND, PROC, PIVOT, consoleOp(0), EXEC], { fs: [...ROOTFS_FS, "c /rootfs/dev/ptmx"] });
  assert.is(exec.status, 0, exec.error);
  assert.not.ok(exec.calls.some((c) => c.includes("console")), exec.calls.join("\n"));
});

test("E: session keyring: flag 1 joins without setting permissions; 0 joins and adds the bits", () => {
  const join = runFake([{ code: Op.SESSION_KEYRING, flags: 1, ints: [0x8], blobs: ["_ses.c1"], what: "k" }, EXEC], { fs: ROOTFS_FS });
  assert.ok(join.calls.includes("keyctl JOIN _ses.c1"));
  assert.not.ok(join.calls.some((c) => c.startsWith("keyctl SETPERM") || c.startsWith("keyctl DESCRIBE")), join.calls.join("\n"));
  const own = runFake([{ code: Op.SESSION_KEYRING, ints: [0x8], blobs: ["_ses.c1"], what: "k" }, EXEC], { fs: ROOTFS_FS });
  inOrder(own.calls, [/^keyctl JOIN _ses\.c1$/, /^keyctl DESCRIBE 1234$/, /^keyctl SETPERM 1234 0x3f010008$/]);
});

test("E: lo up: SIOCGIFFLAGS then SIOCSIFFLAGS with IFF_UP", () => {
  const r = runFake([{ code: Op.NET_LO_UP, what: "lo" }, EXEC], { fs: ROOTFS_FS });
  inOrder(r.calls, [/^socket 2 2 = \d+$/, /^ioctl socket SIOCGIFFLAGS lo$/, /^ioctl socket SIOCSIFFLAGS lo 0x9 UP$/, /^close socket$/]);
});

test("fork: the parent reports the child's pid and exits; the child goes on only after that report, and drops the parent's fd directory", () => {
  const parent = runFake([{ code: Op.FORK, what: "pid" }, EXEC], { fs: ROOTFS_FS, fork: ["parent"] });
  assert.equal(parent.calls.slice(-3), ["fork = parent", "send CHILD_PID op=0 err=777", "write pipe:w 1 \u0001"]);
  const ops = [{ code: Op.OOM_SCORE_ADJ, ints: [1], what: "o" }, { code: Op.FORK, what: "pid" }, { code: Op.OOM_SCORE_ADJ, ints: [2], what: "o" }, EXEC];
  const child = runFake(ops, { fs: ROOTFS_FS, fork: ["child"], read: "pipe:r=x" });
  assert.is(child.status, 0, child.calls.join("\n"));
  inOrder(child.calls, [/^fork = child$/, /^close pipe:w$/, /^read pipe:r$/, /^close pipe:r$/, /^write \/proc\/1\/oom_score_adj \d+ 2$/]);
  // a parent gone before its report: the child stops there (ocirt would not know its pid)
  const orphan = runFake(ops, { fs: ROOTFS_FS, fork: ["child"] });
  assert.is.not(orphan.status, 0);
  assert.match(orphan.error ?? "", /the parent exited before reporting the child's pid/);
  assert.not.ok(orphan.calls.some((c) => c.startsWith("execve")), orphan.calls.join("\n"));
});

// ---- the whole plan, as the planner writes it ----

function spec(patch?: (c: ReturnType<typeof defaultSpec>) => void) {
  const cfg = defaultSpec({ rootless: false });
  cfg.root = { path: "/rootfs", readonly: true };
  cfg.process!.args = ["/bin/sh"];
  cfg.process!.terminal = false;
  patch?.(cfg);
  return normaliseConfig(cfg, { bundle: "/bundle" });
}
const HOST = { lastCap: 40, bounding: (1n << 41n) - 1n, lsm: { apparmor: false, selinux: false }, hasProcKcore: true };

test("planContainer's default plan runs through: namespaces, mounts, pivot_root, masks, readonly, user, exec", () => {
  const s = spec();
  const p = planContainer({ spec: s, id: "c1", noPivot: false, fifoIndex: 0, cgroupSync: true, cgroupViews: [{ name: "", hostPath: "/sys/fs/cgroup/c1", fsOptions: "", unified: true }], env: ["PATH=/bin"], groups: [], host: HOST, warn: () => {} });
  const r = runFake(p.ops, { fs: [...ROOTFS_FS, "d /sys/fs/cgroup/c1"], extra: ["/state/exec.fifo"] });
  assert.is(r.status, 0, `${r.error}\n${r.calls.join("\n")}`);
  inOrder(r.calls, [
    /^prctl DUMPABLE 0$/,
    /^send CGROUP_PLS/,
    /^ioctl socket SIOCSIFFLAGS lo 0x9 UP$/,
    /^mount - \/ - REC\|SLAVE -$/,
    /^mount - \/ - PRIVATE -$/,
    /^mount \/rootfs \/rootfs - BIND\|REC -$/,
    /^mount proc \/rootfs\/proc proc /,
    /^mount tmpfs \/rootfs\/dev tmpfs NOSUID\|STRICTATIME mode=755,size=65536k$/,
    /^fchmodat \/rootfs\/dev 755$/, // the mode of the directory it covers, after the mount
    /^mknodat \/rootfs\/dev\/null 20666 1:3$/,
    /^symlinkat \/rootfs\/dev\/fd -> \/proc\/self\/fd$/,
    /^pivot_root \/rootfs \.$/,
    // runc's order: root read-only, readonly paths, then masks
    /^mount - \/rootfs - RDONLY\|REMOUNT\|BIND -$/,
    /^mount - \/rootfs\/proc\/sys - RDONLY\|REMOUNT\|BIND -$/, // runc's default proc mount has no nosuid ...
    /^mount tmpfs \/rootfs\/proc\/acpi tmpfs RDONLY -$/,
    /^sethostname runc$/,
    /^keyctl JOIN _ses\.c1$/,
    /^setsid$/,
    /^prlimit 7 1024 1024$/,
    /^setresuid 0$/,
    /^capset /,
    /^prctl NO_NEW_PRIVS 1$/,
    /^send READY/,
    /^write \/state\/exec\.fifo 1 0$/,
    /^execve \/rootfs\/bin\/sh \/bin\/sh \| PATH=\/bin$/,
  ]);
});

test("planExec's plan: namespaces joined user first, fork, joins the keyring only, setsid, oom_score_adj before any namespace", () => {
  const s = spec((c) => {
    c.process!.oomScoreAdj = 100;
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  const ops = planExec({ spec: s, id: "c1", join: ["pid", "user", "mount"], cgroupSync: false, env: ["PATH=/bin"], groups: [], host: HOST, warn: () => {} });
  const r = runFake(ops, { fs: ROOTFS_FS, extra: ["/proc/9/ns/pid", "/proc/9/ns/user", "/proc/9/ns/mnt"], fork: ["child"], read: "pipe:r=x" });
  assert.is(r.status, 0, `${r.error}\n${r.calls.join("\n")}`);
  inOrder(r.calls, [
    /^write \/proc\/1\/oom_score_adj 3 100$/,
    /^setns \/proc\/9\/ns\/user 0x10000000$/,
    /^close \/proc\/9\/ns\/user$/,
    /^setns \/proc\/9\/ns\/pid 0x20000000$/,
    /^setns \/proc\/9\/ns\/mnt 0x20000$/,
    /^fork = child$/,
    /^keyctl JOIN _ses\.c1$/,
    /^setsid$/,
    /^execve /,
  ]);
  assert.not.ok(r.calls.some((c) => c.startsWith("keyctl SETPERM")));
});

// ---- the plan decoder ----

function rawOp(code: number, size: number, nints: number, nblobs: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(Math.max(16, 16 + body.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt32LE(size, 4);
  b.writeUInt32LE(nints, 8);
  b.writeUInt32LE(nblobs, 12);
  body.copy(b, 16);
  return b;
}
function rawPlan(...ops: Buffer[]): Buffer {
  const head = Buffer.alloc(16);
  const total = 16 + ops.reduce((n, o) => n + o.length, 0);
  head.writeUInt32LE(0x4c50434f, 0);
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(ops.length, 8);
  head.writeUInt32LE(total, 12);
  return Buffer.concat([head, ...ops]);
}

test("decoder: a malformed op anywhere stops the plan before its first op runs", () => {
  const good = encodePlan([{ code: Op.SETHOSTNAME, blobs: ["x"], what: "h" }]).subarray(16);
  const cases: [string, Buffer, RegExp][] = [
    ["size not a multiple of 8", rawPlan(good, rawOp(Op.UMASK, 20, 0, 0, Buffer.alloc(4))), /op 1 is malformed: size 20 is not a multiple of 8/],
    ["size past the plan", rawPlan(good, rawOp(Op.UMASK, 64, 0, 0)), /op 1 is malformed: size 64 runs past the plan/],
    ["ints that do not fit", rawPlan(rawOp(Op.UMASK, 24, 0x40000000, 0, Buffer.alloc(8))), /op 0 is malformed: 1073741824 ints do not fit/],
    ["blob count that does not fit", rawPlan(rawOp(Op.EXEC, 24, 0, 1000000, Buffer.alloc(8))), /op 0 is malformed: 1000000 blobs do not fit/],
    ["blob length past the op", rawPlan(rawOp(Op.SETHOSTNAME, 24, 0, 1, Buffer.from([100, 0, 0, 0, 0x61, 0, 0, 0]))), /op 0 is malformed: blob 0 \(100 bytes\) runs past the op/],
    ["string without its NUL", rawPlan(rawOp(Op.SETHOSTNAME, 24, 0, 1, Buffer.from([2, 0, 0, 0, 0x61, 0x62, 0, 0]))), /op 0 is malformed: blob 0 is not a NUL-terminated string/],
    ["string with a NUL inside", rawPlan(rawOp(Op.SETHOSTNAME, 24, 0, 1, Buffer.from([3, 0, 0, 0, 0x61, 0, 0x62, 0]))), /blob 0 is not a NUL-terminated string/],
    ["empty blob where a string is", rawPlan(rawOp(Op.SETHOSTNAME, 24, 0, 1, Buffer.alloc(8))), /blob 0 is not a NUL-terminated string/],
    ["bytes after the last op", Buffer.concat([rawPlan(good), Buffer.alloc(8)]), /./],
  ];
  for (const [name, raw, re] of cases) {
    if (name === "bytes after the last op") raw.writeUInt32LE(raw.length, 12);
    const r = runFake([], { raw });
    assert.is(r.status, 1, name);
    assert.match(r.error ?? r.stderr, re, `${name}: ${r.error}`);
    assert.not.ok(r.calls.some((c) => c.startsWith("sethostname")), `${name}: nothing ran`);
  }
});

test("decoder: binary blobs (seccomp, cpu mask, the exec's filter) need no NUL", () => {
  const r = runFake([{ code: Op.CPU_AFFINITY, blobs: [Buffer.from([1, 2, 3])], what: "a" }, exec(["/bin/sh"], ["PATH=/bin"], { seccomp: Buffer.alloc(8, 7) })], { fs: ROOTFS_FS });
  assert.is(r.status, 0, r.error);
  inOrder(r.calls, [/^sched_setaffinity 3$/, /^seccomp 1 instructions/, /^execve /]);
});

test("sync: unexpected answers and the CHILD_PID of the protocol stay as plan.h says", () => {
  assert.is(Sync.CHILD_PID, 7);
  assert.is(Sync.CONSOLE_FD, 10);
});

test.run();
