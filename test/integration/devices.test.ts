// /dev in the container (default devices, links, linux.devices, in a user
// namespace) and linux.maskedPaths / linux.readonlyPaths.
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { existsSync, statSync } from "node:fs";
import { sandbox, type Sandbox } from "./harness";
import { fileError, fileOf, mountAt, probeEnv, runReport } from "./util";
import type { OciConfig } from "../../src/spec/types";

const t = hostSuite<{ sb: Sandbox }>("devices");
t.before((ctx) => {
  ctx.sb = sandbox("devices");
});
t.after((ctx) => ctx.sb.cleanup());

const DEFAULTS: [string, number, number][] = [
  ["/dev/null", 1, 3],
  ["/dev/zero", 1, 5],
  ["/dev/full", 1, 7],
  ["/dev/random", 1, 8],
  ["/dev/urandom", 1, 9],
  ["/dev/tty", 5, 0],
];
const LINKS: [string, string][] = [
  ["/dev/fd", "/proc/self/fd"],
  ["/dev/stdin", "/proc/self/fd/0"],
  ["/dev/stdout", "/proc/self/fd/1"],
  ["/dev/stderr", "/proc/self/fd/2"],
  ["/dev/ptmx", "pts/ptmx"],
];

t("default devices (0666 root char nodes on the container's /dev tmpfs) and the standard links", ({ sb }) => {
  const r = runReport(sb, (c) => probeEnv(c, { files: [...DEFAULTS.map((d) => d[0]), ...LINKS.map((l) => l[0]), "/dev/core", "/dev/shm"], writable: ["/dev/null", "/dev/shm"] }));
  const devMount = mountAt(r, "/dev")!;
  for (const [path, major, minor] of DEFAULTS) {
    const f = fileOf(r, path);
    assert.equal([f.type, f.major, f.minor, f.mode_octal, f.uid, f.gid], ["char", major, minor, "0666", 0, 0], path);
    assert.is(`${f.dev_major}:${f.dev_minor}`, devMount.dev, `${path} is made in the container's /dev`);
  }
  for (const [path, target] of LINKS) {
    const f = fileOf(r, path);
    assert.is(f.type, "symlink", path);
    assert.is(f.target, target, path);
  }
  if (existsSync("/proc/kcore")) assert.is(fileOf(r, "/dev/core").target, "/proc/kcore");
  else assert.is(fileError(r, "/dev/core"), "ENOENT", "no /dev/core without /proc/kcore (as runc)");
  assert.is(fileOf(r, "/dev/shm").type, "dir");
  assert.is(mountAt(r, "/dev/shm")!.fstype, "tmpfs");
  assert.equal(r.writable["/dev/shm"], { ok: true, error: null });
  assert.equal(r.writable["/dev/null"], { ok: true, error: null });
});

t("linux.devices: char, block and fifo nodes with fileMode, uid and gid; parents created; a default overridden", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.linux!.devices = [
      { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o640, uid: 1000, gid: 1001 },
      { path: "/dev/loop7", type: "b", major: 7, minor: 7, fileMode: 0o600, uid: 0, gid: 6 },
      { path: "/dev/sub/dir/pipe", type: "p", major: 0, minor: 0, fileMode: 0o620 },
      { path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1000 },
    ];
    // the entry drops the default's cgroup rule (as runc's): without one of its own the
    // init cannot open it, and reopening its /dev/null stdin fails create (as runc's)
    c.linux!.resources!.devices!.push({ allow: true, type: "c", major: 1, minor: 3, access: "rwm" });
    probeEnv(c, { files: ["/dev/fuse", "/dev/loop7", "/dev/sub/dir/pipe", "/dev/null", "/dev/zero"] });
  });
  const f = (p: string) => {
    const x = fileOf(r, p);
    return [x.type, x.major, x.minor, x.mode_octal, x.uid, x.gid];
  };
  assert.equal(f("/dev/fuse"), ["char", 10, 229, "0640", 1000, 1001]);
  assert.equal(f("/dev/loop7"), ["block", 7, 7, "0600", 0, 6]);
  assert.equal(f("/dev/sub/dir/pipe"), ["fifo", 0, 0, "0620", 0, 0]);
  assert.equal(f("/dev/null"), ["char", 1, 3, "0600", 1000, 1000], "the config's entry wins over the default");
  assert.equal(f("/dev/zero"), ["char", 1, 5, "0666", 0, 0], "the other defaults stay");
});

const userns = (c: OciConfig) => {
  c.linux!.namespaces!.push({ type: "user" });
  c.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  c.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
};

t("in a user namespace devices are bind-mounted from the host", ({ sb }) => {
  const hostNull = statSync("/dev/null");
  const hostFull = statSync("/dev/full");
  const r = runReport(sb, (c) => {
    userns(c);
    c.linux!.devices = [{ path: "/dev/full", type: "c", major: 1, minor: 7 }];
    probeEnv(c, { files: ["/dev/null", "/dev/zero", "/dev/full", "/dev/ptmx", "/dev/fd"], writable: ["/dev/null"] });
  });
  assert.equal(r.uid_map, [[0, 200000, 65536]]);
  for (const [p, st] of [["/dev/null", hostNull], ["/dev/full", hostFull]] as const) {
    const f = fileOf(r, p);
    assert.is(f.type, "char", p);
    assert.is(f.ino, st.ino, `${p} is the host's node`);
    assert.is(`${f.dev_major}:${f.dev_minor}`, `${Math.floor(st.dev / 256)}:${st.dev % 256}`, p);
    assert.ok(mountAt(r, p), `${p} is a bind mount`);
  }
  assert.is(fileOf(r, "/dev/ptmx").target, "pts/ptmx");
  assert.is(fileOf(r, "/dev/fd").target, "/proc/self/fd");
  assert.equal(r.writable["/dev/null"], { ok: true, error: null });
});

t("maskedPaths: a file gets /dev/null over it, a directory an empty read-only tmpfs; missing ones are skipped", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.linux!.maskedPaths = [...(c.linux!.maskedPaths ?? []), "/etc/hostname", "/home", "/no/such/path"];
    probeEnv(c, { files: ["/etc/hostname", "/home", "/home/probeuser", "/proc/timer_list", "/sys/firmware"], writable: ["/home"] });
  });
  const host = fileOf(r, "/etc/hostname");
  assert.equal([host.type, host.major, host.minor], ["char", 1, 3]);
  assert.ok(mountAt(r, "/etc/hostname"));
  const home = mountAt(r, "/home")!;
  assert.is(home.fstype, "tmpfs");
  assert.ok(home.options.includes("ro"), home.options.join(","));
  assert.is(fileError(r, "/home/probeuser"), "ENOENT", "the directory's content is hidden");
  assert.equal(r.writable["/home"], { ok: false, error: "EROFS" });
  const tl = r.files["/proc/timer_list"]!;
  if (!("error" in tl)) assert.equal([tl.type, tl.major, tl.minor], ["char", 1, 3]);
  assert.is(mountAt(r, "/sys/firmware")?.fstype, "tmpfs");
  assert.not.ok(mountAt(r, "/no/such/path"));
});

t("readonlyPaths: read-only bind mounts of themselves (on mounts too); missing ones are skipped", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.root!.readonly = true;
    c.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: [] });
    c.mounts!.push({ destination: "/tmp/sub", type: "tmpfs", source: "tmpfs", options: [] });
    c.linux!.readonlyPaths = [...(c.linux!.readonlyPaths ?? []), "/tmp", "/no/such/path"];
    probeEnv(c, { writable: ["/proc/sys/kernel/hostname", "/tmp", "/tmp/sub", "/dev/shm"] });
  });
  assert.ok(mountAt(r, "/proc/sys")!.options.includes("ro"));
  assert.equal(r.writable["/proc/sys/kernel/hostname"], { ok: false, error: "EROFS" });
  const tmp = mountAt(r, "/tmp")!;
  assert.ok(tmp.options.includes("ro"), tmp.options.join(","));
  assert.is(tmp.fstype, "tmpfs");
  assert.equal(r.writable["/tmp"], { ok: false, error: "EROFS" });
  assert.ok(mountAt(r, "/tmp/sub"), "submounts are kept (rbind)");
  assert.equal(r.writable["/dev/shm"], { ok: true, error: null });
});

t.run();
