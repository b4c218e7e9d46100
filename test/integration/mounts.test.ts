// mounts, root.readonly, --no-pivot and rootfsPropagation: the container's
// mountinfo (as the probe reports it) against the config.
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, type Sandbox } from "./harness";
import { parseProbeReport } from "../../conformance/probe/report";
import { assertNoHostMountUnder, copyRootfs, createFails, fileError, fileOf, mountAt, probeEnv, run, runReport } from "./util";
import { ensureProbeRootfs } from "../../conformance/rootfs";
import type { Mount } from "../../src/spec/types";

const t = hostSuite<{ sb: Sandbox }>("mounts");
t.before((ctx) => {
  ctx.sb = sandbox("mounts");
});
t.after((ctx) => {
  assertNoHostMountUnder(ctx.sb.dir);
  ctx.sb.cleanup();
});
t.after.each((ctx) => assertNoHostMountUnder(ctx.sb.dir));

let seq = 0;
/** A host directory with one file in it, for bind sources. */
function hostDir(sb: Sandbox, file = "hello"): string {
  const d = join(sb.dir, `src-${++seq}`);
  mkdirSync(d);
  writeFileSync(join(d, file), "hello\n");
  return d;
}

const has = (opts: string[] | undefined, ...want: string[]) => want.every((w) => opts?.includes(w));

t("a read-only tmpfs: the mount is read-only, its filesystem not (runc remounts it ro after pivot_root)", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["ro", "nosuid", "size=1m"] });
    probeEnv(c, { writable: ["/mnt"] });
  });
  const m = mountAt(r, "/mnt")!;
  assert.ok(has(m.options, "ro", "nosuid"), m.options.join(","));
  assert.ok(has(m.super_options, "rw"), m.super_options.join(","));
  assert.equal(r.writable["/mnt"], { ok: false, error: "EROFS" });
});

t("bind: ro, nosuid, nodev, noexec; rw by default", ({ sb }) => {
  const src = hostDir(sb);
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/mnt", type: "bind", source: src, options: ["rbind", "ro", "nosuid", "nodev", "noexec"] });
    c.mounts!.push({ destination: "/run", type: "none", source: src, options: ["bind"] });
    probeEnv(c, { files: ["/mnt/hello", "/run/hello"], writable: ["/mnt", "/run"] });
  });
  const m = mountAt(r, "/mnt")!;
  assert.ok(m, "mounted");
  assert.ok(has(m.options, "ro", "nosuid", "nodev", "noexec"), m.options.join(","));
  assert.is(fileOf(r, "/mnt/hello").type, "file");
  assert.equal(r.writable["/mnt"], { ok: false, error: "EROFS" });
  const rw = mountAt(r, "/run")!;
  assert.ok(has(rw.options, "rw"), rw.options.join(","));
  assert.not.ok(has(rw.options, "nosuid") || has(rw.options, "noexec"), rw.options.join(","));
  assert.equal(r.writable["/run"], { ok: true, error: null });
  assert.is(fileOf(r, "/run/hello").ino, statSync(join(src, "hello")).ino, "the host's file");
});

t("bind: atime options (relatime, noatime, strictatime)", ({ sb }) => {
  const src = hostDir(sb);
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/mnt", type: "bind", source: src, options: ["bind", "noatime"] });
    c.mounts!.push({ destination: "/run", type: "bind", source: src, options: ["bind", "relatime"] });
    c.mounts!.push({ destination: "/home", type: "bind", source: src, options: ["bind", "strictatime"] });
  });
  assert.ok(has(mountAt(r, "/mnt")!.options, "noatime"), mountAt(r, "/mnt")!.options.join(","));
  assert.ok(has(mountAt(r, "/run")!.options, "relatime"), mountAt(r, "/run")!.options.join(","));
  const s = mountAt(r, "/home")!.options;
  assert.not.ok(has(s, "relatime") || has(s, "noatime"), `strictatime shows neither: ${s.join(",")}`);
});

t("recursive options (rro, rnosuid, rnodev, rnoexec) reach submounts; plain ro does not", ({ sb }) => {
  const rootfs = ensureProbeRootfs();
  // /mnt with a submount, both made in the container; then bound twice
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
    c.mounts!.push({ destination: "/mnt/sub", type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
    c.mounts!.push({ destination: "/run", type: "bind", source: `${rootfs}/mnt`, options: ["rbind", "rro", "rnosuid", "rnodev", "rnoexec"] });
    c.mounts!.push({ destination: "/home", type: "bind", source: `${rootfs}/mnt`, options: ["rbind", "ro"] });
    probeEnv(c, { writable: ["/run/sub", "/home", "/home/sub", "/mnt/sub"] });
  });
  for (const p of ["/run", "/run/sub"]) {
    const m = mountAt(r, p);
    assert.ok(m, `${p} mounted`);
    assert.ok(has(m!.options, "ro", "nosuid", "nodev", "noexec"), `${p}: ${m!.options.join(",")}`);
  }
  assert.equal(r.writable["/run/sub"], { ok: false, error: "EROFS" });
  assert.ok(has(mountAt(r, "/home")!.options, "ro"));
  assert.ok(has(mountAt(r, "/home/sub")!.options, "rw"), "ro alone is not recursive");
  assert.equal(r.writable["/home"], { ok: false, error: "EROFS" });
  assert.equal(r.writable["/home/sub"], { ok: true, error: null });
  assert.equal(r.writable["/mnt/sub"], { ok: true, error: null }, "the source is untouched");
});

t("propagation options: shared, slave, private, unbindable", ({ sb }) => {
  const rootfs = ensureProbeRootfs();
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=1m", "shared"] });
    c.mounts!.push({ destination: "/run", type: "bind", source: `${rootfs}/mnt`, options: ["rbind", "rslave"] });
    c.mounts!.push({ destination: "/home", type: "bind", source: `${rootfs}/mnt`, options: ["bind", "private"] });
    c.mounts!.push({ destination: "/root", type: "bind", source: `${rootfs}/mnt`, options: ["bind", "unbindable"] });
  });
  const shared = mountAt(r, "/mnt")!.propagation;
  assert.is(shared.length, 1, shared.join(" "));
  assert.match(shared[0]!, /^shared:\d+$/);
  const group = shared[0]!.split(":")[1];
  assert.equal(mountAt(r, "/run")!.propagation, [`master:${group}`]);
  assert.equal(mountAt(r, "/home")!.propagation, []);
  assert.equal(mountAt(r, "/root")!.propagation, ["unbindable"]);
});

t("tmpfs with data (size, mode, uid, gid, nr_inodes) and flags", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "size=1m", "mode=700", "uid=1000", "gid=1001", "nr_inodes=100"] });
    probeEnv(c, { files: ["/tmp"] });
  });
  const m = mountAt(r, "/tmp")!;
  assert.is(m.fstype, "tmpfs");
  assert.ok(has(m.options, "rw", "nosuid", "nodev"), m.options.join(","));
  assert.ok(has(m.super_options, "size=1024k", "mode=700", "uid=1000", "gid=1001", "nr_inodes=100"), m.super_options.join(","));
  const f = fileOf(r, "/tmp");
  // as runc 1.1.5: the root then takes the mode of the /tmp it covers (1777), over mode=700
  assert.equal([f.mode_octal, f.uid, f.gid], ["1777", 1000, 1001]);
});

t("tmpfs on an existing directory takes its mode, over a mode= of the config; on a directory made for it the config's (runc)", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/root", type: "tmpfs", source: "tmpfs", options: [] });
    c.mounts!.push({ destination: "/home", type: "tmpfs", source: "tmpfs", options: ["mode=750"] });
    c.mounts!.push({ destination: "/dev/fresh", type: "tmpfs", source: "tmpfs", options: ["mode=750"] });
    probeEnv(c, { files: ["/root", "/home", "/dev/fresh"] });
  });
  assert.is(mountAt(r, "/root")!.fstype, "tmpfs");
  assert.is(fileOf(r, "/root").mode_octal, "0700", "the rootfs's /root is 0700");
  assert.is(fileOf(r, "/home").mode_octal, "0755", "the rootfs's /home is 0755: mode=750 loses (runc chmods after the mount)");
  assert.ok(mountAt(r, "/home")!.super_options.includes("mode=750"), "the data went to the kernel as it was");
  assert.is(fileOf(r, "/dev/fresh").mode_octal, "0750", "nothing was there: the config's mode stays");
});

t("mounts on /proc: only proc itself, and only lxcfs-style files below it (runc's checkProcMount)", ({ sb }) => {
  const src = hostDir(sb);
  let line = createFails(sb, (c) => c.mounts!.push({ destination: "/proc", type: "tmpfs", source: "tmpfs", options: [] }));
  assert.match(line, /^mounts\[7\] \(\/proc\): .*not of type proc/);
  line = createFails(sb, (c) => c.mounts!.push({ destination: "/proc/sys/kernel/core_pattern", type: "bind", source: join(src, "hello"), options: ["bind"] }));
  assert.match(line, /^mounts\[7\] \(\/proc\/sys\/kernel\/core_pattern\): .*inside \/proc/);
  line = createFails(sb, (c) => c.mounts!.push({ destination: "/proc/./self/../sys", type: "tmpfs", source: "tmpfs", options: [] }));
  assert.match(line, /inside \/proc/);
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/proc/uptime", type: "bind", source: join(src, "hello"), options: ["bind", "ro"] });
    probeEnv(c, { files: ["/proc/uptime"] });
  });
  assert.is(fileOf(r, "/proc/uptime").ino, statSync(join(src, "hello")).ino, "lxcfs-style /proc/uptime is allowed");
});

t("proc, sysfs, devpts, mqueue and /dev/shm as runc's default config mounts them", ({ sb }) => {
  const r = runReport(sb, () => {});
  const at = (p: string) => mountAt(r, p)!;
  assert.is(at("/proc").fstype, "proc");
  assert.is(at("/sys").fstype, "sysfs");
  assert.ok(has(at("/sys").options, "ro", "nosuid", "nodev", "noexec"), at("/sys").options.join(","));
  assert.is(at("/dev").fstype, "tmpfs");
  assert.ok(has(at("/dev").super_options, "size=65536k", "mode=755"), at("/dev").super_options.join(","));
  assert.not.ok(has(at("/dev").options, "relatime"), "strictatime");
  assert.is(at("/dev/pts").fstype, "devpts");
  assert.ok(has(at("/dev/pts").options, "nosuid", "noexec"));
  assert.ok(has(at("/dev/pts").super_options, "gid=5", "mode=620", "ptmxmode=666"), at("/dev/pts").super_options.join(","));
  assert.is(at("/dev/shm").fstype, "tmpfs");
  assert.ok(has(at("/dev/shm").options, "nosuid", "nodev", "noexec"));
  assert.is(at("/dev/mqueue").fstype, "mqueue");
  assert.ok(has(at("/dev/mqueue").options, "nosuid", "nodev", "noexec"));
  // mounts come in config order, each on top of the one it lies in
  const order = r.mounts!.map((m) => m.mount_point).filter((p) => ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"].includes(p));
  assert.equal(order, ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"]);
});

/** The host's cgroup v1 hierarchies in mount order: mount dir name -> the controllers/name in its options. */
function hostV1Hierarchies(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const mp = pre.split(" ")[4]!;
    const [fstype, , sopts] = post.split(" ");
    if (!mp.startsWith("/sys/fs/cgroup/") || mp.split("/").length !== 5) continue;
    if (fstype === "cgroup") out.set(mp.slice("/sys/fs/cgroup/".length), sopts!.split(",").filter((o) => o !== "rw" && o !== "ro").join(","));
  }
  return out;
}

const V1_VIEWS = hostV1Hierarchies().size ? null : "the host has no cgroup v1 hierarchies (cgroup v2 only)";

// runc 1.1's mountCgroupV1: a tmpfs that stays writable (nosuid, nodev, noexec) even
// when the mount says ro, one view per v1 hierarchy in the host's order and none of
// the hybrid layout's cgroup2
testIf(t, V1_VIEWS, "cgroup mount: one view per host v1 hierarchy in host order, the container's own cgroup, without a cgroup namespace", ({ sb }) => {
  const host = hostV1Hierarchies();
  const r = runReport(sb, (c) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "cgroup")));
  const tmpfs = mountAt(r, "/sys/fs/cgroup")!;
  assert.is(tmpfs.fstype, "tmpfs");
  assert.ok(has(tmpfs.options, "rw", "nosuid", "nodev", "noexec"), tmpfs.options.join(","));
  const views = r.mounts!.filter((m) => m.parent === tmpfs.id);
  assert.equal(views.map((m) => m.mount_point.split("/")[4]), [...host.keys()]);
  assert.not.ok(r.mounts!.some((m) => m.mount_point === "/sys/fs/cgroup/unified"), "no cgroup2 view on a hybrid host");
  const ownPath = (ctrl: string) => {
    for (const l of r.cgroup!) {
      const [, ctrls, path] = l.split(":");
      if (ctrl === "" ? ctrls === "" : ctrls!.split(",").includes(ctrl)) return path;
    }
    return undefined;
  };
  for (const v of views) {
    assert.ok(has(v.options, "ro", "nosuid", "nodev", "noexec"), `${v.mount_point}: ${v.options.join(",")}`);
    const ctrl = host.get(v.mount_point.split("/")[4]!)!.split(",")[0]!;
    assert.is(v.root, ownPath(ctrl), `${v.mount_point} shows the container's cgroup`);
    assert.match(v.root, /ocitest-/);
  }
});

testIf(t, V1_VIEWS, "cgroup mount in a cgroup namespace: fresh mounts whose root is the namespace's; the systemd one is named systemd", ({ sb }) => {
  const host = hostV1Hierarchies();
  const r = runReport(sb, (c) => c.linux!.namespaces!.push({ type: "cgroup" }));
  const tmpfs = mountAt(r, "/sys/fs/cgroup")!;
  assert.ok(has(tmpfs.options, "rw"), tmpfs.options.join(","));
  const views = r.mounts!.filter((m) => m.parent === tmpfs.id);
  assert.equal(views.map((m) => m.mount_point.split("/")[4]), [...host.keys()]);
  for (const v of views) {
    assert.is(v.root, "/", v.mount_point);
    assert.ok(has(v.options, "ro", "nosuid", "nodev", "noexec"), v.mount_point);
    assert.is(v.source, host.get(v.mount_point.split("/")[4]!) === "name=systemd" ? "systemd" : "cgroup", v.mount_point);
  }
  assert.ok(r.cgroup!.every((l) => l.endsWith(":/")), r.cgroup!.join(" "));
});

const V2_ONLY = existsSync("/sys/fs/cgroup/cgroup.controllers") ? null : "the host is not pure cgroup v2 (the VM lane's guests are: npm run test:vm)";

// runc 1.1's mountCgroupV2: a fresh cgroup2 mount of the config's source, with its
// options; without a cgroup namespace the kernel gives the whole hierarchy
testIf(t, V2_ONLY, "cgroup mount on pure v2: a fresh cgroup2 mount, the whole hierarchy without a cgroup namespace, the namespace's root with one", ({ sb }) => {
  const r = runReport(sb, (c) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "cgroup")));
  const m = mountAt(r, "/sys/fs/cgroup")!;
  assert.equal([m.fstype, m.source, m.root], ["cgroup2", "cgroup", "/"], JSON.stringify(m));
  assert.ok(has(m.options, "ro", "nosuid", "nodev", "noexec"), m.options.join(","));
  const own = r.cgroup!.find((l) => l.startsWith("0::"))!.slice(3);
  assert.match(own, /ocitest-/, "the process sees its cgroup by its host path");
  // the test bundle has a cgroup namespace
  const ns = runReport(sb, (c) => assert.ok(c.linux!.namespaces!.some((x) => x.type === "cgroup")));
  const n = mountAt(ns, "/sys/fs/cgroup")!;
  assert.equal([n.fstype, n.source, n.root], ["cgroup2", "cgroup", "/"], JSON.stringify(n));
  assert.equal(ns.cgroup, ["0::/"]);
  // in a user namespace without a cgroup namespace the kernel refuses the mount (EPERM):
  // runc's fallback, a bind of the host's whole hierarchy (its source is the host's "cgroup2")
  const userns = runReport(sb, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "cgroup");
    c.linux!.namespaces.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
  });
  const u = mountAt(userns, "/sys/fs/cgroup")!;
  assert.equal([u.fstype, u.source, u.root], ["cgroup2", "cgroup2", "/"], JSON.stringify(u));
  assert.ok(has(u.options, "ro", "nosuid", "nodev", "noexec"), u.options.join(","));
});

t("overlay with lowerdir, upperdir and workdir", ({ sb }) => {
  const base = join(sb.dir, "ovl");
  for (const d of ["lower", "upper", "work"]) mkdirSync(join(base, d), { recursive: true });
  writeFileSync(join(base, "lower", "fromlower"), "lower\n");
  const ovl: Mount = { destination: "/mnt", type: "overlay", source: "overlay", options: [`lowerdir=${base}/lower`, `upperdir=${base}/upper`, `workdir=${base}/work`] };
  const r = runReport(sb, (c) => {
    c.mounts!.push(ovl);
    probeEnv(c, { files: ["/mnt/fromlower"], writable: ["/mnt"] });
  });
  assert.is(mountAt(r, "/mnt")!.fstype, "overlay");
  assert.ok(has(mountAt(r, "/mnt")!.super_options, `lowerdir=${base}/lower`, `upperdir=${base}/upper`), mountAt(r, "/mnt")!.super_options.join(","));
  assert.is(fileOf(r, "/mnt/fromlower").type, "file");
  assert.equal(r.writable["/mnt"], { ok: true, error: null });
  const w = run(sb, (c) => {
    c.mounts!.push(ovl);
    c.process!.args = ["/bin/probe", "write", "/mnt/written", "upper"];
  });
  assert.is(w.status, 0, w.stderr);
  assert.is(readFileSync(join(base, "upper", "written"), "utf8"), "upper");
  assert.not.ok(existsSync(join(base, "lower", "written")));
});

t("missing targets are created: a file for a file source, directories otherwise", ({ sb }) => {
  const rootfs = copyRootfs(sb);
  const src = hostDir(sb);
  const r = runReport(sb, (c) => {
    c.root!.path = rootfs;
    c.mounts!.push({ destination: "/new/file", type: "bind", source: join(src, "hello"), options: ["bind", "ro"] });
    c.mounts!.push({ destination: "/new/dir/deep", type: "bind", source: src, options: ["bind"] });
    c.mounts!.push({ destination: "/new/tmpfs", type: "tmpfs", source: "tmpfs", options: [] });
    probeEnv(c, { files: ["/new/file", "/new/dir/deep/hello", "/new/tmpfs"] });
  });
  assert.is(fileOf(r, "/new/file").type, "file");
  assert.is(fileOf(r, "/new/file").ino, statSync(join(src, "hello")).ino);
  assert.is(fileOf(r, "/new/dir/deep/hello").type, "file");
  assert.is(fileOf(r, "/new/tmpfs").type, "dir");
  assert.ok(lstatSync(join(rootfs, "new/file")).isFile(), "a file was made in the rootfs");
  assert.ok(lstatSync(join(rootfs, "new/dir/deep")).isDirectory());
  assert.ok(lstatSync(join(rootfs, "new/tmpfs")).isDirectory());
});

t("a target that is (or passes through) a symlink out of the rootfs stays in the rootfs", ({ sb }) => {
  const rootfs = copyRootfs(sb);
  const outside = join(sb.dir, `outside-${++seq}`);
  mkdirSync(outside);
  // followed on the host these name the host's dir; in the rootfs, its copy of that path
  mkdirSync(join(rootfs, outside), { recursive: true });
  writeFileSync(join(rootfs, outside, "file"), "");
  symlinkSync(outside, join(rootfs, "abs-link"));
  symlinkSync(`../../../../../../../..${outside}`, join(rootfs, "rel-link"));
  symlinkSync(`${outside}/file`, join(rootfs, "mnt", "file-link"));
  const src = hostDir(sb);
  const r = runReport(sb, (c) => {
    c.root!.path = rootfs;
    c.mounts!.push({ destination: "/abs-link/a", type: "tmpfs", source: "tmpfs", options: [] });
    c.mounts!.push({ destination: "/rel-link/b", type: "bind", source: src, options: ["bind"] });
    c.mounts!.push({ destination: "/mnt/file-link", type: "bind", source: join(src, "hello"), options: ["bind"] });
  });
  assert.equal(readdirSync(outside), [], "nothing was created outside the rootfs");
  assert.ok(mountAt(r, `${outside}/a`), "tmpfs on the rootfs's copy of the path");
  assert.ok(mountAt(r, `${outside}/b`), "bind on the rootfs's copy of the path");
  assert.ok(mountAt(r, `${outside}/file`), "the file link's target inside the rootfs");
  assert.ok(existsSync(join(rootfs, outside, "a")) && existsSync(join(rootfs, outside, "b")));
});

t("a target through a dangling symlink never leads outside the rootfs (an error, or made inside it)", ({ sb }) => {
  const rootfs = copyRootfs(sb);
  const outside = join(sb.dir, `outside-${++seq}`);
  mkdirSync(outside);
  symlinkSync(outside, join(rootfs, "dangling"));
  symlinkSync(`${outside}/file`, join(rootfs, "mnt", "dangling-file"));
  const src = hostDir(sb);
  for (const [m, where] of [
    [{ destination: "/dangling/a", type: "tmpfs", source: "tmpfs", options: [] }, `${outside}/a`],
    [{ destination: "/mnt/dangling-file", type: "bind", source: join(src, "hello"), options: ["bind"] }, `${outside}/file`],
  ] as const) {
    const res = run(sb, (c) => {
      c.root = { path: rootfs, readonly: true };
      c.mounts!.push({ ...m, options: [...m.options] });
    });
    if (res.status === 0) {
      // runc < 1.2 (SecureJoin + MkdirAll) creates through the link, inside the rootfs
      const r = parseProbeReport(res.stdout);
      assert.ok(mountAt(r, where), `${m.destination}: mounted at the rootfs's ${where}`);
      assert.ok(existsSync(join(rootfs, where)));
    } else {
      // runc >= 1.2 (pathrs MkdirAllInRoot) refuses it
      assert.is(res.status, 1);
      assert.match(res.stderr, new RegExp(`^mounts\\[7\\] \\(${m.destination.replace(/\//g, "\\/")}\\): [^\\n]*\\n$`));
    }
    assert.equal(readdirSync(outside), [], "nothing was created outside the rootfs");
  }
});

t("root.readonly: / is read-only, mounts on it are not; false: / is writable", ({ sb }) => {
  let r = runReport(sb, (c) => {
    c.root!.readonly = true;
    c.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: [] });
    probeEnv(c, { writable: ["/", "/etc/hostname", "/tmp", "/dev/shm"] });
  });
  assert.ok(has(mountAt(r, "/")!.options, "ro"));
  assert.equal(r.writable["/"], { ok: false, error: "EROFS" });
  assert.equal(r.writable["/etc/hostname"], { ok: false, error: "EROFS" });
  assert.equal(r.writable["/tmp"], { ok: true, error: null });
  assert.equal(r.writable["/dev/shm"], { ok: true, error: null });
  const rootfs = copyRootfs(sb);
  r = runReport(sb, (c) => {
    c.root = { path: rootfs, readonly: false };
    probeEnv(c, { writable: ["/", "/etc/hostname"] });
  });
  assert.ok(has(mountAt(r, "/")!.options, "rw"));
  assert.equal(r.writable["/"], { ok: true, error: null });
  assert.equal(r.writable["/etc/hostname"], { ok: true, error: null });
});

t("--no-pivot: the rootfs is moved to / and chrooted into", ({ sb }) => {
  const r = runReport(sb, (c) => probeEnv(c, { files: ["/bin/probe", "/work"] }), { args: ["--no-pivot"] });
  assert.is(r.cwd, "/");
  assert.is(r.exe, "/bin/probe");
  assert.ok(mountAt(r, "/"), "a mount at /");
  assert.ok(mountAt(r, "/proc"));
  assert.is(fileError(r, "/work"), "ENOENT", "the host's tree is not reachable");
});

t("rootfsPropagation: private, shared, unbindable on the container's /", ({ sb }) => {
  const want: Record<string, RegExp> = { private: /^$/, rprivate: /^$/, shared: /^shared:\d+$/, rshared: /^shared:\d+$/, unbindable: /^unbindable$/ };
  for (const [prop, re] of Object.entries(want)) {
    const r = runReport(sb, (c) => (c.linux!.rootfsPropagation = prop as NonNullable<typeof c.linux>["rootfsPropagation"]));
    assert.match(mountAt(r, "/")!.propagation.join(" "), re, `${prop}: ${mountAt(r, "/")!.propagation.join(" ")}`);
  }
});

t("tmpfs with tmpcopyup starts with what the directory held, then read-only if asked", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "ro", "nosuid", "mode=755"] });
    probeEnv(c, { files: ["/etc/passwd", "/etc/hostname"], writable: ["/etc/x"] });
  });
  assert.is(mountAt(r, "/etc")!.fstype, "tmpfs");
  assert.is(fileOf(r, "/etc/passwd").type, "file");
  assert.is(fileOf(r, "/etc/hostname").type, "file");
  assert.is(r.writable["/etc/x"]!.ok, false, "read-only after the copy");
  const plain = runReport(sb, (c) => {
    c.mounts!.push({ destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["nosuid"] });
    probeEnv(c, { files: ["/etc/passwd"] });
  });
  assert.ok(fileError(plain, "/etc/passwd"), "without tmpcopyup the tmpfs is empty");
});

// idmapped mounts: test/integration/idmap.test.ts

t.run();
