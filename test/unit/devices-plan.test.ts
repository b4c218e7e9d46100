import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_DEVICES, planDevices } from "../../src/linux/devices";
import { Op } from "../../src/plan/ops";
import type { SpecDevice } from "../../src/spec/normalise";

const S_IFCHR = 0o020000, S_IFBLK = 0o060000, S_IFIFO = 0o010000;
const opts = { inUserns: false, hasProcKcore: true };
const nodes = (ops: ReturnType<typeof planDevices>) => ops.filter((o) => o.code === Op.MKNOD);
const links = (ops: ReturnType<typeof planDevices>) => ops.filter((o) => o.code === Op.SYMLINK);
const dev = (d: Partial<SpecDevice> & Pick<SpecDevice, "path">): SpecDevice => ({ type: "c", major: 0, minor: 0, fileMode: undefined, uid: undefined, gid: undefined, ...d });

test("the runtime-spec's default devices, in runc's order (a user namespace's bind mounts show it)", () => {
  assert.equal(
    DEFAULT_DEVICES.map((d) => [d.path, d.type, d.major, d.minor, d.fileMode]),
    [
      ["/dev/null", "c", 1, 3, 0o666],
      ["/dev/random", "c", 1, 8, 0o666],
      ["/dev/full", "c", 1, 7, 0o666],
      ["/dev/tty", "c", 5, 0, 0o666],
      ["/dev/zero", "c", 1, 5, 0o666],
      ["/dev/urandom", "c", 1, 9, 0o666],
    ],
  );
  const ops = nodes(planDevices([], opts));
  assert.equal(ops.map((o) => o.blobs), DEFAULT_DEVICES.map((d) => [d.path]));
  assert.equal(ops[0]!.ints, [S_IFCHR | 0o666, 1, 3, 0, 0, 0]);
  for (const o of ops) assert.match(o.what, /\/dev\//);
});

test("config devices after the defaults: type bits, mode, owner", () => {
  const ops = nodes(
    planDevices(
      [
        dev({ path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o600, uid: 5, gid: 6 }),
        dev({ path: "/dev/sda", type: "b", major: 8, minor: 0 }),
        dev({ path: "/dev/myfifo", type: "p" }),
        dev({ path: "/dev/ttyU", type: "u", major: 4, minor: 64 }),
      ],
      opts,
    ),
  );
  assert.is(ops.length, DEFAULT_DEVICES.length + 4);
  const tail = ops.slice(DEFAULT_DEVICES.length);
  assert.equal(tail.map((o) => o.ints), [
    [S_IFCHR | 0o600, 10, 229, 5, 6, 0],
    [S_IFBLK | 0o666, 8, 0, 0, 0, 0],
    [S_IFIFO | 0o666, 0, 0, 0, 0, 0],
    [S_IFCHR | 0o666, 4, 64, 0, 0, 0],
  ]);
  assert.equal(tail.map((o) => o.what), ["linux.devices[0] (/dev/fuse)", "linux.devices[1] (/dev/sda)", "linux.devices[2] (/dev/myfifo)", "linux.devices[3] (/dev/ttyU)"]);
});

test("a config entry for a default device replaces it, after the other defaults (runc's createDevices)", () => {
  const ops = nodes(planDevices([dev({ path: "/dev/null", major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1000 })], opts));
  assert.is(ops.length, DEFAULT_DEVICES.length, "no duplicate");
  const last = ops.at(-1)!;
  assert.equal(last.blobs, ["/dev/null"]);
  assert.equal(last.ints, [S_IFCHR | 0o600, 1, 3, 1000, 1000, 0]);
  assert.is(last.what, "linux.devices[0] (/dev/null)");
  assert.equal(ops.map((o) => o.blobs![0]), ["/dev/random", "/dev/full", "/dev/tty", "/dev/zero", "/dev/urandom", "/dev/null"]);
});

test("in a user namespace every node is bound from the host", () => {
  const ops = nodes(planDevices([dev({ path: "/dev/fuse", major: 10, minor: 229 })], { ...opts, inUserns: true }));
  for (const o of ops) assert.is(o.ints![5], 1, o.what);
  for (const o of nodes(planDevices([], opts))) assert.is(o.ints![5], 0);
});

test("links: fd, stdio; core with /proc/kcore; ptmx with devpts", () => {
  const all = links(planDevices([], opts)).map((o) => o.blobs);
  assert.equal(all, [
    ["/proc/self/fd", "/dev/fd"],
    ["/proc/self/fd/0", "/dev/stdin"],
    ["/proc/self/fd/1", "/dev/stdout"],
    ["/proc/self/fd/2", "/dev/stderr"],
    ["/proc/kcore", "/dev/core"],
    ["pts/ptmx", "/dev/ptmx"],
  ]);
  // the ptmx link is made whether or not devpts is mounted, as runc does
  const bare = links(planDevices([], { inUserns: false, hasProcKcore: false })).map((o) => o.blobs![1]);
  assert.equal(bare, ["/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/ptmx"]);
  // nodes come before links
  const ops = planDevices([], opts);
  assert.ok(ops.findIndex((o) => o.code === Op.SYMLINK) > ops.map((o) => o.code).lastIndexOf(Op.MKNOD));
});

test.run();
