import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLONE, NS_FLAG, NS_PROC_NAME, planNamespaces } from "../../src/linux/namespaces";
import { Op, Sync, type PlanOp } from "../../src/plan/ops";
import type { LinuxNamespace } from "../../src/spec/types";

const OP_NAME = new Map<number, string>();
for (const m of readFileSync(join(__dirname, "../../src/plan/ops.ts"), "utf8").matchAll(/^\s+([A-Z_]+) = (\d+),/gm))
  if (!OP_NAME.has(Number(m[2]))) OP_NAME.set(Number(m[2]), m[1]!);
const names = (ops: PlanOp[]) => ops.map((o) => OP_NAME.get(o.code));
const ns = (...types: string[]): LinuxNamespace[] => types.map((t) => (t.includes("=") ? { type: t.split("=")[0]!, path: t.split("=")[1]! } : { type: t })) as LinuxNamespace[];

test("clone flag values are the kernel's (linux/sched.h)", () => {
  const hdr = readFileSync("/usr/include/linux/sched.h", "utf8");
  const kernel = Object.fromEntries([...hdr.matchAll(/#define\s+CLONE_(NEW[A-Z]+)\s+(0x[0-9a-fA-F]+)/g)].map((m) => [m[1]!, Number(m[2])]));
  assert.equal(Object.keys(CLONE).sort(), Object.keys(kernel).sort(), "one flag per namespace kind the kernel has");
  for (const [k, v] of Object.entries(CLONE)) assert.is(v, kernel[k], `CLONE_${k}`);
  assert.equal(Object.keys(NS_FLAG).sort(), ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]);
  assert.equal(new Set(Object.values(NS_FLAG)), new Set(Object.values(CLONE)), "every spec namespace type maps to its own flag");
  assert.equal(NS_PROC_NAME, { mount: "mnt", uts: "uts", ipc: "ipc", user: "user", pid: "pid", network: "net", cgroup: "cgroup", time: "time" });
});

test("fast path: only new namespaces, no user ns: the clone makes them, no ops but lo up, no fork", () => {
  const p = planNamespaces(ns("pid", "network", "ipc", "uts", "mount"), 1, []);
  assert.is(p.cloneFlags, CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS);
  assert.equal(names(p.ops), ["NET_LO_UP"], "a new network namespace gets lo up (as runc)");
  assert.equal(p.joinPaths, []);
  assert.is(p.forks, false);
  assert.is(p.newUser, false);
  assert.is(p.has("mount"), true);
  assert.is(p.has("user"), false);
});

test("fast path: a new cgroup namespace is not a clone flag (it is unshared after the cgroup is joined)", () => {
  const p = planNamespaces(ns("mount", "cgroup"), 1, []);
  assert.is(p.cloneFlags, CLONE.NEWNS);
  assert.is(p.newCgroup, true);
  assert.equal(p.ops, []);
});

test("no namespaces at all: nothing to do", () => {
  const p = planNamespaces([], 1, []);
  assert.is(p.cloneFlags, 0);
  assert.equal(p.ops, []);
  assert.is(p.forks, false);
});

test("a namespace joined by path: setns with its extra fd index, then unshare the new ones", () => {
  const p = planNamespaces(ns("mount", "network=/run/netns/x", "ipc", "uts"), 5, []);
  assert.is(p.cloneFlags, 0);
  assert.equal(p.joinPaths, [{ type: "network", path: "/run/netns/x" }]);
  assert.equal(names(p.ops), ["SETNS", "UNSHARE"]);
  assert.equal(p.ops[0]!.ints, [5, CLONE.NEWNET]);
  assert.equal(p.ops[1]!.ints, [CLONE.NEWNS | CLONE.NEWIPC | CLONE.NEWUTS]);
  assert.is(p.forks, false);
  assert.match(p.ops[0]!.what, /^linux\.namespaces/);
  assert.match(p.ops[0]!.what, /\/run\/netns\/x/);
});

test("several joins: consecutive extra fd indexes, the user namespace first (then SETID_ROOT)", () => {
  const p = planNamespaces(ns("network=/n", "ipc=/i", "user=/u", "mount"), 2, []);
  assert.equal(p.joinPaths.map((j) => j.type), ["user", "network", "ipc"]);
  assert.equal(names(p.ops), ["SETNS", "SETID_ROOT", "SETNS", "SETNS", "UNSHARE"]);
  assert.equal(p.ops[0]!.ints, [2, CLONE.NEWUSER]);
  assert.equal(p.ops[2]!.ints, [3, CLONE.NEWNET]);
  assert.equal(p.ops[3]!.ints, [4, CLONE.NEWIPC]);
  assert.equal(p.ops[4]!.ints, [CLONE.NEWNS]);
  assert.is(p.newUser, false);
  assert.is(p.has("user"), true);
});

test("a new user namespace: unshare it, ask for the id maps, become its root, then the rest", () => {
  const p = planNamespaces(ns("pid", "ipc", "uts", "mount", "user"), 1, []);
  assert.is(p.cloneFlags, 0, "never made by the clone");
  assert.equal(names(p.ops), ["UNSHARE", "SYNC", "SETID_ROOT", "UNSHARE", "UNSHARE", "FORK"]);
  assert.equal(p.ops[0]!.ints, [CLONE.NEWUSER]);
  assert.equal(p.ops[1]!.ints, [Sync.USERMAP_PLS]);
  assert.equal(p.ops[3]!.ints, [CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS]);
  assert.equal(p.ops[4]!.ints, [CLONE.NEWPID]);
  assert.is(p.newUser, true);
  assert.is(p.forks, true);
  assert.match(p.ops[1]!.what, /uidMappings/);
});

test("a new user namespace with joins: the joins happen first, with host privileges", () => {
  const p = planNamespaces(ns("user", "network=/n", "mount"), 1, []);
  assert.equal(names(p.ops), ["SETNS", "UNSHARE", "SYNC", "SETID_ROOT", "UNSHARE"]);
  assert.equal(p.ops[1]!.ints, [CLONE.NEWUSER]);
});

test("joining a pid namespace forks (setns(CLONE_NEWPID) applies to children)", () => {
  const p = planNamespaces(ns("pid=/proc/1/ns/pid", "mount"), 1, []);
  assert.equal(names(p.ops), ["SETNS", "UNSHARE", "FORK"]);
  assert.equal(p.ops[0]!.ints, [1, CLONE.NEWPID]);
  assert.is(p.forks, true);
});

test("a new pid namespace with a join: unshare pid last, then fork", () => {
  const p = planNamespaces(ns("pid", "network=/n"), 1, []);
  assert.equal(names(p.ops), ["SETNS", "UNSHARE", "FORK"]);
  assert.equal(p.ops[1]!.ints, [CLONE.NEWPID]);
});

test("a new time namespace: unshare, write the offsets, fork", () => {
  const p = planNamespaces(ns("time", "mount"), 1, ["monotonic 5 0", "boottime 1 500"]);
  assert.equal(names(p.ops), ["UNSHARE", "UNSHARE", "WRITE_FILE", "FORK"]);
  assert.equal(p.ops[1]!.ints, [CLONE.NEWTIME]);
  assert.equal(p.ops[2]!.blobs, ["/proc/self/timens_offsets", "monotonic 5 0\nboottime 1 500\n"]);
  assert.is(p.ops[2]!.what, "linux.timeOffsets");
  const noOffsets = planNamespaces(ns("time"), 1, []);
  assert.equal(names(noOffsets.ops), ["UNSHARE", "FORK"]);
});

test("every op names linux.namespaces or the id mappings", () => {
  const p = planNamespaces(ns("user", "pid=/p", "network=/n", "time", "mount", "cgroup"), 1, ["monotonic 1 0"]);
  for (const o of p.ops) assert.match(o.what, /^linux\.(namespaces|uidMappings|timeOffsets)/);
  assert.ok(p.ops.every((o) => o.code !== Op.UNSHARE || ((o.ints![0] as number) & CLONE.NEWCGROUP) === 0), "cgroup is left to the caller");
});

test.run();
