import { test } from "uvu";
import * as assert from "uvu/assert";
import { isBind, MOUNT_ATTR, MS, parseMountOptions, PROPAGATION } from "../../src/linux/mount-options";

test("MS_* and MOUNT_ATTR_* values are the kernel's", () => {
  assert.equal(
    { ...MS },
    {
      RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128,
      NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192, REC: 16384, SILENT: 32768,
      POSIXACL: 1 << 16, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20,
      RELATIME: 1 << 21, I_VERSION: 1 << 23, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
    },
  );
  assert.equal({ ...MOUNT_ATTR }, { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME_MASK: 0x70, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 });
});

/** runc's mountFlags table (libcontainer/specconv): option -> [clear?, flag]. */
const RUNC_FLAGS: Record<string, [boolean, number]> = {
  acl: [false, MS.POSIXACL], async: [true, MS.SYNCHRONOUS], atime: [true, MS.NOATIME], bind: [false, MS.BIND],
  defaults: [false, 0], dev: [true, MS.NODEV], diratime: [true, MS.NODIRATIME], dirsync: [false, MS.DIRSYNC],
  exec: [true, MS.NOEXEC], iversion: [false, MS.I_VERSION], lazytime: [false, MS.LAZYTIME], loud: [true, MS.SILENT],
  mand: [false, MS.MANDLOCK], noacl: [true, MS.POSIXACL], noatime: [false, MS.NOATIME], nodev: [false, MS.NODEV],
  nodiratime: [false, MS.NODIRATIME], noexec: [false, MS.NOEXEC], noiversion: [true, MS.I_VERSION],
  nolazytime: [true, MS.LAZYTIME], nomand: [true, MS.MANDLOCK], norelatime: [true, MS.RELATIME],
  nostrictatime: [true, MS.STRICTATIME], nosuid: [false, MS.NOSUID], nosymfollow: [false, MS.NOSYMFOLLOW],
  rbind: [false, MS.BIND | MS.REC], relatime: [false, MS.RELATIME], remount: [false, MS.REMOUNT], ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY], silent: [false, MS.SILENT], strictatime: [false, MS.STRICTATIME], suid: [true, MS.NOSUID],
  sync: [false, MS.SYNCHRONOUS], symfollow: [true, MS.NOSYMFOLLOW],
};

test("every mount(8) flag of runc sets or clears its MS_* bit", () => {
  const ALL = Object.values(RUNC_FLAGS).reduce((a, [, f]) => a | f, 0);
  for (const [opt, [clear, flag]] of Object.entries(RUNC_FLAGS)) {
    const alone = parseMountOptions([opt]);
    assert.is(alone.flags, clear ? 0 : flag, opt);
    assert.equal(alone.data, [], `${opt} is not data`);
    if (clear) {
      // clears what an earlier option set, and only that
      const r = parseMountOptions([...Object.keys(RUNC_FLAGS).filter((o) => !RUNC_FLAGS[o]![0]), opt]);
      assert.is(r.flags, ALL & ~flag, `${opt} clears`);
    }
  }
});

test("later options win: ro,rw and rw,ro", () => {
  assert.is(parseMountOptions(["ro", "rw"]).flags, 0);
  assert.is(parseMountOptions(["rw", "ro"]).flags, MS.RDONLY);
  assert.is(parseMountOptions(["nosuid", "suid", "nosuid"]).flags, MS.NOSUID);
  assert.is(parseMountOptions(["defaults"]).flags, 0);
  assert.is(parseMountOptions(["nosuid", "nodev", "noexec", "ro"]).flags, MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY);
});

test("propagation options go apart from the flags; the last one wins", () => {
  for (const [opt, v] of Object.entries({
    private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
    slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
  })) {
    const r = parseMountOptions([opt]);
    assert.is(r.propagation, v, opt);
    assert.is(r.flags, 0, `${opt} is no mount flag`);
    assert.is(PROPAGATION[opt], v);
  }
  assert.is(parseMountOptions(["rbind", "rprivate", "rslave"]).propagation, MS.SLAVE | MS.REC);
  assert.is(parseMountOptions(["rbind"]).propagation, 0);
});

test("recursive attributes (mount_setattr) set and clear", () => {
  const cases: Record<string, [number, number]> = {
    rro: [MOUNT_ATTR.RDONLY, 0], rrw: [0, MOUNT_ATTR.RDONLY],
    rnosuid: [MOUNT_ATTR.NOSUID, 0], rsuid: [0, MOUNT_ATTR.NOSUID],
    rnodev: [MOUNT_ATTR.NODEV, 0], rdev: [0, MOUNT_ATTR.NODEV],
    rnoexec: [MOUNT_ATTR.NOEXEC, 0], rexec: [0, MOUNT_ATTR.NOEXEC],
    rnodiratime: [MOUNT_ATTR.NODIRATIME, 0], rdiratime: [0, MOUNT_ATTR.NODIRATIME],
    rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, 0], rsymfollow: [0, MOUNT_ATTR.NOSYMFOLLOW],
    rrelatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR.ATIME_MASK],
    ratime: [0, MOUNT_ATTR.NOATIME],
  };
  for (const [opt, [set, clr]] of Object.entries(cases)) {
    const r = parseMountOptions([opt]);
    assert.equal([r.attrSet, r.attrClr], [set, clr], opt);
    assert.is(r.flags, 0, `${opt} is not a mount(2) flag`);
    assert.equal(r.data, [], `${opt} is not data`);
  }
  for (const opt of ["rnorelatime", "rnostrictatime"]) {
    const r = parseMountOptions([opt]);
    assert.equal(r.data, [], `${opt} is known`);
  }
});

test("recursive atime modes clear the whole atime mask (mount_setattr(2))", () => {
  for (const [opt, set] of [["rnoatime", MOUNT_ATTR.NOATIME], ["rstrictatime", MOUNT_ATTR.STRICTATIME], ["rrelatime", MOUNT_ATTR.RELATIME]] as const) {
    const r = parseMountOptions([opt]);
    assert.equal([r.attrSet, r.attrClr], [set, MOUNT_ATTR.ATIME_MASK], opt);
  }
  const r = parseMountOptions(["rnoatime", "rro"]);
  assert.equal([r.attrSet, r.attrClr], [MOUNT_ATTR.NOATIME | MOUNT_ATTR.RDONLY, MOUNT_ATTR.ATIME_MASK]);
});

test("recursive attributes: a later opposite option undoes an earlier one", () => {
  const a = parseMountOptions(["rro", "rrw"]);
  assert.equal([a.attrSet, a.attrClr], [0, MOUNT_ATTR.RDONLY]);
  const b = parseMountOptions(["rrw", "rro"]);
  assert.equal([b.attrSet, b.attrClr], [MOUNT_ATTR.RDONLY, 0]);
  const c = parseMountOptions(["rro", "rnosuid", "rnodev", "rnoexec"]);
  assert.is(c.attrSet, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC);
  // ro and rro are independent: one is mount(2), one is mount_setattr
  const d = parseMountOptions(["ro", "rro"]);
  assert.is(d.flags, MS.RDONLY);
  assert.is(d.attrSet, MOUNT_ATTR.RDONLY);
});

test("anything else is filesystem data, in order", () => {
  const r = parseMountOptions(["nosuid", "mode=755", "size=65536k", "noexec", "newinstance", "ptmxmode=0666", "gid=5", "lowerdir=/a:/b,x"]);
  assert.equal(r.data, ["mode=755", "size=65536k", "newinstance", "ptmxmode=0666", "gid=5", "lowerdir=/a:/b,x"]);
  assert.is(r.flags, MS.NOSUID | MS.NOEXEC);
  assert.equal(parseMountOptions([]), { flags: 0, propagation: 0, attrSet: 0, attrClr: 0, data: [], extensions: [] });
  // case matters, as in runc
  assert.equal(parseMountOptions(["RO"]).data, ["RO"]);
});

test("runc's extensions are neither flags nor data", () => {
  const r = parseMountOptions(["tmpcopyup", "mode=755", "idmap", "ridmap"]);
  assert.equal(r.extensions, ["tmpcopyup", "idmap", "ridmap"]);
  assert.equal(r.data, ["mode=755"]);
  assert.is(r.flags, 0);
});

test("isBind: type bind, or a bind/rbind option", () => {
  assert.ok(isBind("bind", []));
  assert.ok(isBind(undefined, ["rbind"]));
  assert.ok(isBind("none", ["ro", "bind"]));
  assert.ok(isBind("tmpfs", ["bind"]));
  assert.not.ok(isBind("tmpfs", ["rw"]));
  assert.not.ok(isBind(undefined, []));
  assert.not.ok(isBind("none", ["rbindx"]));
});

test.run();
