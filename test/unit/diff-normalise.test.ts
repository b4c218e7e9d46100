// The differential harness's normalisation (pure): only what must differ is rewritten.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { namespaceClass, normaliseDeep, normaliseReport, normaliseStateJson, normaliseString, pidClass, shapeOf } from "../../conformance/diff/normalise";
import type { ProbeReport } from "../../conformance/probe/report";

const ctx = { ids: ["ocidiff-1-2-in-r", "ocidiff-1-2-in-r2"], paths: [["/tmp/ocidiff-x/root-runc", "<ROOT>"], ["/tmp/ocidiff-x", "<DIR>"]] as [string, string][] };

test("ids, dirs, runtime names, times and kernel object numbers", () => {
  assert.is(normaliseString("container ocidiff-1-2-in-r2 in /tmp/ocidiff-x/root-runc/ocidiff-1-2-in-r2", ctx), "container <ID> in <ROOT>/<ID>");
  assert.is(normaliseString("/tmp/ocidiff-x/rootfs", ctx), "<DIR>/rootfs");
  assert.is(normaliseString("runc: error; ocirt: error; runcx stays", ctx), "<RUNTIME>: error; <RUNTIME>: error; runcx stays");
  assert.is(normaliseString("at 2024-05-06T07:08:09.123Z and 2024-05-06T07:08:09+02:00", ctx), "at <TIME> and <TIME>");
  assert.is(normaliseString("pipe:[12345] net:[4026531840]", ctx), "pipe:[*] net:[*]");
  // what must not differ is left alone
  assert.is(normaliseString("exit status 1, pid 1234", ctx), "exit status 1, pid 1234");
  assert.equal(normaliseDeep({ "k-ocidiff-1-2-in-r": ["ocidiff-1-2-in-r"] }, ctx), { "k-<ID>": ["<ID>"] });
});

test("state JSON: pid and created; pid 0 kept", () => {
  const s = { ociVersion: "1.0.2-dev", id: "ocidiff-1-2-in-r", pid: 4242, status: "running", bundle: "/tmp/ocidiff-x/b", created: "2024-05-06T07:08:09.123456789Z", owner: "" };
  assert.equal(normaliseStateJson(s, ctx), { ociVersion: "1.0.2-dev", id: "<ID>", pid: "<PID>", status: "running", bundle: "<DIR>/b", created: "<TIME>", owner: "" });
  assert.is((normaliseStateJson({ pid: 0 }, ctx) as { pid: number }).pid, 0);
  assert.equal(normaliseStateJson([{ pid: 5 }], ctx), [{ pid: "<PID>" }]);
  assert.is(pidClass(1), 1);
  assert.is(pidClass(77), "<PID>");
  assert.equal(shapeOf({ a: 1, b: [2, 3], c: "x" }), { a: "<number>", b: ["<number>"], c: "x" });
});

test("probe report: pids relative, namespaces host/new, mount ids and anonymous minors, inodes, key serials", () => {
  const host = { net: "net:[1]", pid: "pid:[2]" };
  const r = {
    pid: 1, ppid: 0, pgid: 1, sid: 0, nspid: [999, 1],
    namespaces: { net: "net:[1]", pid: "pid:[77]" },
    mounts: [
      { id: 10, parent: 5, dev: "0:55", root: "/", mount_point: "/", options: ["ro"], propagation: [], fstype: "tmpfs", source: "tmpfs", super_options: [] },
      { id: 11, parent: 10, dev: "254:1", root: "/", mount_point: "/proc", options: [], propagation: [], fstype: "proc", source: "proc", super_options: [] },
    ],
    files: { "/x": { type: "file", ino: 5, dev_major: 0, dev_minor: 44, mode: 1 }, "/y": { error: "ENOENT" } },
    keys: ["1a2b3c I--Q--- 3 perm 3f030000 0 0 keyring _ses.ocidiff-1-2-in-r: empty", "deadbeef I--Q--- 1 perm 3f030000 0 0 keyring _ses.other: empty", "0001 I------ 1 perm 1f0b0000 0 0 keyring .blacklist: empty"],
    session_keyring: "keyring;0;0;3f030000;_ses.ocidiff-1-2-in-r",
  } as unknown as ProbeReport;
  const n = normaliseReport(r, ctx, host);
  assert.is(n.pid, 1);
  assert.is(n.pgid, "self");
  assert.is(n.sid, 0);
  assert.equal(n.nspid, ["<PID>", 1]);
  assert.equal(n.namespaces, { net: "host", pid: "new" });
  const [root, proc] = n.mounts as Record<string, unknown>[];
  assert.is(root!.dev, "0:*");
  assert.is(root!.parent, "(outside)");
  assert.is(proc!.dev, "254:1");
  assert.is(proc!.parent, "/");
  assert.not.ok("id" in root!);
  assert.equal((n.files as Record<string, unknown>)["/x"], { type: "file", dev_major: 0, dev_minor: "*", mode: 1 });
  assert.equal(n.keys, ["<SERIAL> I--Q--- 3 perm 3f030000 0 0 keyring _ses.<ID>: empty", "<SERIAL> I------ 1 perm 1f0b0000 0 0 keyring .blacklist: empty"]);
  assert.is(namespaceClass(null, host, "net"), null);
});

test.run();
