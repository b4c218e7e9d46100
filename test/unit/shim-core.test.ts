// The shim's pure parts: its command line, socket addresses, options, the wire
// bytes of the messages containerd decodes, metrics, stdio URIs, rootfs mounts,
// and the reaper's bookkeeping.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { groupOf, parseFlags, sha256Hex, socketAddress } from "../../src/shim/flags";
import { decodeOptions, parseOptionsToml } from "../../src/shim/options";
import { Options as RuncOptions } from "../../src/shim/gen/runc_options";
import { Options as RuntimeOptions } from "../../src/shim/gen/runtime_options";
import { CreateOptions } from "../../src/shim/gen/runc_create_options";
import { CreateTaskResponse, DeleteResponse, StateResponse } from "../../src/shim/gen/task";
import { TaskExit } from "../../src/shim/gen/events";
import { Metrics as V1 } from "../../src/shim/gen/cgroups_v1";
import { Metrics as V2 } from "../../src/shim/gen/cgroups_v2";
import { Status } from "../../src/shim/gen/task_types";
import { metricsAny, V1_METRICS_URL, V2_METRICS_URL } from "../../src/shim/metrics";
import { binaryArgs, schemeOf } from "../../src/shim/stdio";
import { mountCalls } from "../../src/shim/rootfs";
import { Reaper } from "../../src/shim/reaper";
import { emptyStats } from "../../src/linux/cgroups";

const tmp = mkdtempSync(join(tmpdir(), "ocirt-shim-unit-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

test("flags as containerd passes them (Go's flag package), then the action", () => {
  const f = parseFlags(["-namespace", "k8s.io", "-address", "/run/containerd/containerd.sock", "-publish-binary", "/usr/bin/containerd", "-id", "abc", "-debug", "start"]);
  assert.equal([f.namespace, f.address, f.publishBinary, f.id, f.debug, f.action], ["k8s.io", "/run/containerd/containerd.sock", "/usr/bin/containerd", "abc", true, "start"]);
  const g = parseFlags(["--namespace=default", "-id=x", "-bundle", "/b", "-debug=false", "delete"]);
  assert.equal([g.namespace, g.id, g.bundle, g.debug, g.action], ["default", "x", "/b", false, "delete"]);
  assert.is(parseFlags(["-namespace", "n"]).action, "");
  assert.throws(() => parseFlags(["-nope", "x"]), /flag provided but not defined: -nope/);
  assert.throws(() => parseFlags(["-id"]), /flag needs an argument: -id/);
});

test("the socket address is containerd's: sha256 of address/namespace/group under /run/containerd/s", () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 200]) {
    const b = Buffer.alloc(n, 0x61 + (n % 26));
    assert.is(sha256Hex(b), createHash("sha256").update(b).digest("hex"), `length ${n}`);
  }
  const want = createHash("sha256").update("/run/containerd/containerd.sock/default/c1").digest("hex");
  assert.is(socketAddress("/run/containerd/containerd.sock", "default", "c1"), `unix:///run/containerd/s/${want}`);
  // a pod's containers share their sandbox's shim
  assert.is(groupOf("ctr1", { "io.kubernetes.cri.sandbox-id": "sandbox9" }), "sandbox9");
  assert.is(groupOf("ctr1", { other: "x" }), "ctr1");
  assert.is(groupOf("ctr1", undefined), "ctr1");
});

test("options: runc's type (the fields that apply), CRI's generic type with a config file, none", () => {
  const runc = { typeUrl: "containerd.runc.v1.Options", value: RuncOptions.encode(RuncOptions.fromPartial({ systemdCgroup: true, root: "/run/x", noPivotRoot: true, ioUid: 1000, ioGid: 1001, binaryName: "runc" })).finish() };
  const o = decodeOptions(runc, "k8s.io");
  assert.equal([o.root, o.systemdCgroup, o.noPivotRoot, o.noNewKeyring, o.ioUid, o.ioGid, o.ignored], ["/run/x/k8s.io", true, true, false, 1000, 1001, ["BinaryName"]]);
  assert.is(decodeOptions(undefined, "default").root, "/run/containerd/ocirt/default");
  const toml = join(tmp, "ocirt.toml");
  writeFileSync(toml, '# runtime options\nSystemdCgroup = true\nRoot = "/run/y"\nNoNewKeyring = true\nIoUid = 5\n');
  const cri = { typeUrl: "runtimeoptions.v1.Options", value: RuntimeOptions.encode({ typeUrl: "", configPath: toml }).finish() };
  const c = decodeOptions(cri, "k8s.io");
  assert.equal([c.root, c.systemdCgroup, c.noNewKeyring, c.ioUid], ["/run/y/k8s.io", true, true, 5]);
  assert.equal(parseOptionsToml("no_pivot_root = true\nshim_cgroup = '/pod'"), { noPivotRoot: true, shimCgroup: "/pod" });
  const create = { typeUrl: "containerd.linux.runc.CreateOptions", value: CreateOptions.encode(CreateOptions.fromPartial({ noPivotRoot: true, ioUid: 7, ioGid: 8 })).finish() };
  const k = decodeOptions(create, "default");
  assert.equal([k.noPivotRoot, k.ioUid, k.ioGid, k.root], [true, 7, 8, "/run/containerd/ocirt/default"]);
  assert.throws(() => decodeOptions({ typeUrl: "x.y.Z", value: new Uint8Array(0) }, "n"), /unsupported options type x\.y\.Z/);
});

test("wire bytes containerd decodes: field numbers and types as its Go types have them", () => {
  assert.equal([...CreateTaskResponse.encode({ pid: 300 }).finish()], [0x08, 0xac, 0x02]);
  // pid 1, exit_status 2, exited_at {seconds 3, nanos 4}
  assert.equal([...DeleteResponse.encode({ pid: 1, exitStatus: 2, exitedAt: { seconds: 3n, nanos: 4 } }).finish()], [0x08, 1, 0x10, 2, 0x1a, 4, 0x08, 3, 0x10, 4]);
  const st = StateResponse.encode(StateResponse.fromPartial({ id: "a", status: Status.PAUSED, execId: "e" })).finish();
  assert.equal([...st], [0x0a, 1, 0x61, 0x20, 4, 0x5a, 1, 0x65], "status is field 4, exec_id field 11");
  const ex = TaskExit.encode(TaskExit.fromPartial({ containerId: "c", id: "c", pid: 7, exitStatus: 137 })).finish();
  assert.equal([...ex], [0x0a, 1, 0x63, 0x12, 1, 0x63, 0x18, 7, 0x20, 0x89, 0x01]);
});

test("metrics: v1 from memory.stat's keys and the usage entries; v2 swap alone, IO per device", () => {
  const s = emptyStats();
  s.memory.raw = { cache: 11n, rss: 22n, total_rss: 33n, pgmajfault: 4n, hierarchical_memsw_limit: 99n };
  s.memory.usage = { limit: 1000n, usage: 500n, max: 600n, failcnt: 1n };
  s.memory.swap = { limit: 3000n, usage: 700n, max: 0n, failcnt: 0n };
  s.pids = { current: 3n, limit: 10n };
  s.cpu.usage = { total: 5_000_000n, kernel: 1_000_000n, user: 4_000_000n, percpu: [2n, 3n] };
  s.blkio.ioServiceBytesRecursive = [{ major: 8n, minor: 0n, op: "Read", value: 100n }, { major: 8n, minor: 0n, op: "Write", value: 200n }];
  s.blkio.ioServicedRecursive = [{ major: 8n, minor: 0n, op: "Read", value: 1n }, { major: 8n, minor: 0n, op: "Write", value: 2n }];
  const v1any = metricsAny("hybrid", s, {});
  assert.is(v1any.typeUrl, V1_METRICS_URL);
  const v1 = V1.decode(v1any.value);
  assert.equal([v1.memory!.cache, v1.memory!.rss, v1.memory!.totalRss, v1.memory!.pgMajFault, v1.memory!.hierarchicalSwapLimit], [11n, 22n, 33n, 4n, 99n]);
  assert.equal([v1.memory!.usage!.usage, v1.memory!.usage!.limit, v1.pids!.current, v1.cpu!.usage!.perCpu], [500n, 1000n, 3n, [2n, 3n]]);
  assert.is(v1.blkio!.ioServiceBytesRecursive.length, 2);
  const v2any = metricsAny("v2", s, {});
  assert.is(v2any.typeUrl, V2_METRICS_URL);
  const v2 = V2.decode(v2any.value);
  assert.equal([v2.memory!.usage, v2.memory!.usageLimit, v2.memory!.swapUsage, v2.memory!.swapLimit], [500n, 1000n, 200n, 2000n]);
  assert.equal([v2.cpu!.usageUsec, v2.cpu!.userUsec, v2.cpu!.systemUsec], [5000n, 4000n, 1000n]);
  assert.equal(v2.io!.usage, [{ major: 8n, minor: 0n, rbytes: 100n, wbytes: 200n, rios: 1n, wios: 2n }]);
});

test("stdio URIs: plain FIFO paths, fifo://, file://, binary:// with its arguments", () => {
  assert.equal(schemeOf("/run/containerd/fifo/1/c-stdout"), { scheme: "fifo", path: "/run/containerd/fifo/1/c-stdout", query: [] });
  assert.equal(schemeOf(""), { scheme: "null", path: "", query: [] });
  assert.is(schemeOf("file:///var/log/c.log").path, "/var/log/c.log");
  const b = schemeOf("binary:///usr/bin/logger?tag=web&debug");
  assert.equal([b.scheme, b.path, binaryArgs(b.query)], ["binary", "/usr/bin/logger", ["tag", "web", "debug"]]);
  assert.throws(() => schemeOf("tcp://x"), /unknown STDIO scheme tcp/);
});

test("rootfs mounts: an overlay as given, a read-only bind as bind + remount", () => {
  const ov = mountCalls({ type: "overlay", source: "overlay", target: "", options: ["index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l"] });
  assert.equal(ov, [{ source: "overlay", type: "overlay", flags: 0, data: "index=off,workdir=/w,upperdir=/u,lowerdir=/l" }]);
  const bind = mountCalls({ type: "bind", source: "/snap", target: "", options: ["rbind", "ro"] });
  assert.equal(bind.map((c) => [c.source, c.type, c.flags]), [["/snap", "", 4096 | 16384 | 1], ["", "", 1 | 32 | 4096]]);
});

test("reaper: exits go to their watchers; an early exit waits for a watcher that started before it", () => {
  const queue: { pid: number; status: number; signal: number }[] = [];
  const r = new Reaper({ waitpid: () => queue.shift() ?? null });
  const got: string[] = [];
  r.watch(10, r.mark(), (e) => got.push(`10:${e.status}`));
  queue.push({ pid: 10, status: 3, signal: 0 });
  r.reap();
  assert.equal(got, ["10:3"]);
  // pid 20 exits before anyone watches it, after the mark: it is kept for the watcher
  const mark = r.mark();
  queue.push({ pid: 20, status: -1, signal: 9 });
  r.reap();
  r.watch(20, mark, (e) => got.push(`20:${e.status}`));
  assert.equal(got, ["10:3", "20:137"]);
  // an exit reaped before the mark belongs to an older process with the same pid
  queue.push({ pid: 30, status: 0, signal: 0 });
  r.reap();
  r.watch(30, r.mark(), (e) => got.push(`30:${e.status}`));
  assert.equal(got.length, 2);
  // in one batch the init (isLast) reports after the others
  r.watch(40, r.mark(), () => got.push("init"));
  r.watch(41, r.mark(), () => got.push("exec"));
  queue.push({ pid: 40, status: 0, signal: 0 }, { pid: 41, status: 0, signal: 0 });
  r.reap((pid) => pid === 40);
  assert.equal(got.slice(2), ["exec", "init"]);
  let foreign = 0;
  r.foreign.set(50, () => foreign++);
  queue.push({ pid: 50, status: 0, signal: 0 });
  r.reap();
  assert.is(foreign, 1);
});

test.run();
