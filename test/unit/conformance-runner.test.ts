import { test } from "uvu";
import * as assert from "uvu/assert";
import { UsageError } from "../../src/errors";
import { DEFAULT_TIMEOUT_SECONDS, nameList, parseRunnerArgs } from "../../conformance/runner/args";
import { goArch, lookPath, selectFiles } from "../../conformance/runner/discover";
import { execute } from "../../conformance/runner/execute";
import { diffSnapshots, isUnder, mountsUnder, parseContainerList, type HostSnapshot } from "../../conformance/runner/leaks";

test("args: runtimes as names, relative paths and label=command", () => {
  const o = parseRunnerArgs(["--tree", "rt", "--runtime", "runc", "--runtime", "./bin/ocirt", "--runtime", "old=/usr/bin/runc"], "/home/me");
  assert.is(o.tree, "/home/me/rt");
  assert.equal(o.runtimes, [
    { label: "runc", command: "runc" },
    { label: "ocirt", command: "/home/me/bin/ocirt" },
    { label: "old", command: "/usr/bin/runc" },
  ]);
  assert.is(o.timeoutSeconds, DEFAULT_TIMEOUT_SECONDS);
  assert.is(o.only, undefined);
  assert.is(o.cleanup, true);
});

test("args: --only lists, --timeout, --json, duplicate labels", () => {
  const o = parseRunnerArgs(["--tree", "/t", "--runtime", "runc", "--runtime", "/usr/sbin/runc", "--only", "create,start.t", "--only", "state", "--timeout", "30", "--json", "out.json", "--no-cleanup"], "/w");
  assert.equal(o.only, ["create", "start", "state"]);
  assert.is(o.timeoutSeconds, 30);
  assert.is(o.json, "/w/out.json");
  assert.is(o.cleanup, false);
  assert.equal(
    o.runtimes.map((r) => r.label),
    ["runc", "runc#2"],
  );
});

test("args: usage errors", () => {
  assert.throws(() => parseRunnerArgs(["--runtime", "runc"], "/"), (e: unknown) => e instanceof UsageError && /--tree/.test((e as UsageError).line()));
  assert.throws(() => parseRunnerArgs(["--tree", "/t"], "/"), (e: unknown) => e instanceof UsageError);
  assert.throws(() => parseRunnerArgs(["--tree", "/t", "--runtime", "runc", "--timeout", "0"], "/"), (e: unknown) => e instanceof UsageError);
  assert.throws(() => parseRunnerArgs(["--tree", "/t", "--runtime", "runc", "--bogus"], "/"), (e: unknown) => e instanceof UsageError);
});

test("nameList splits, strips .t and dedupes", () => {
  assert.equal(nameList(["a, b.t", "a"]), ["a", "b"]);
});

test("selectFiles filters and rejects unknown names", () => {
  const all = [
    { name: "create", rel: "validation/create/create.t" },
    { name: "start", rel: "validation/start/start.t" },
  ];
  assert.equal(selectFiles(all, ["start"], []).map((f) => f.name), ["start"]);
  assert.equal(selectFiles(all, undefined, ["start"]).map((f) => f.name), ["create"]);
  assert.throws(() => selectFiles(all, ["nope"], []), (e: unknown) => e instanceof UsageError);
});

test("goArch maps node arch names to GOARCH", () => {
  assert.is(goArch("x64"), "amd64");
  assert.is(goArch("arm64"), "arm64");
  assert.is(goArch("ia32"), "386");
});

test("lookPath finds commands on PATH and checks explicit paths", () => {
  assert.is(lookPath("sh", "/nonexistent:/bin"), "/bin/sh");
  assert.is(lookPath("no-such-runtime-xyz", "/bin:/usr/bin"), undefined);
  assert.is(lookPath("/bin/sh"), "/bin/sh");
  assert.is(lookPath("/nonexistent/runc"), undefined);
});

test("container list parsing: runc JSON, null, garbage", () => {
  assert.equal(parseContainerList('[{"id":"a","bundle":"/tmp/ocitest1","status":"created","pid":3}]'), [{ id: "a", bundle: "/tmp/ocitest1", status: "created" }]);
  assert.equal(parseContainerList("null"), []);
  assert.is(parseContainerList("ID PID"), undefined);
});

test("only new things inside the run's own TMPDIR count as leftovers, plus new test cgroups", () => {
  const run = "/tmp/ocrt-x/3";
  const before: HostSnapshot = { containers: [{ id: "old", bundle: `${run}/ocitest1` }], mounts: [], cgroups: ["/sys/fs/cgroup/pids/cgrouptest"], tempDirs: [] };
  const after: HostSnapshot = {
    containers: [
      { id: "old", bundle: `${run}/ocitest1` },
      { id: "new", bundle: `${run}/ocitest2` },
      // someone else's run of the suite, or ocirt's integration tests
      { id: "0b6c5a4e-9f3a-4b1e-8c2d-1a2b3c4d5e6f", bundle: "/tmp/ocitest77" },
      { id: "nobundle" },
    ],
    mounts: [`${run}/ocitest2/proc`, "/tmp/ocitest-lifecycle-x/rootfs"],
    cgroups: ["/sys/fs/cgroup/pids/cgrouptest", "/sys/fs/cgroup/cpu/testdir/cgrouptest"],
    tempDirs: [`${run}/ocitest2`, `${run}/oci-pid5`],
  };
  assert.equal(diffSnapshots(before, after, run), {
    containers: [{ id: "new", bundle: `${run}/ocitest2` }],
    mounts: [`${run}/ocitest2/proc`],
    cgroups: ["/sys/fs/cgroup/cpu/testdir/cgrouptest"],
    tempDirs: [`${run}/ocitest2`, `${run}/oci-pid5`],
  });
  assert.ok(isUnder("/a/b/c", "/a/b"));
  assert.not.ok(isUnder("/a/b", "/a/b"));
  assert.not.ok(isUnder("/a/bc", "/a/b"));
});

test("mountinfo: mounts at or under a directory, octal escapes decoded", () => {
  const info = [
    "22 1 0:21 / / rw,relatime - overlay overlay rw",
    "310 22 0:55 / /tmp/ocrt-x/3/ocitest42/proc rw - proc proc rw",
    "311 22 0:56 / /tmp/ocrt-x/3/ocitest42/a\\040b rw - tmpfs tmpfs rw",
    "312 22 0:57 / /tmp/ocrt-x/30/ocitest9 rw - tmpfs tmpfs rw",
    "313 22 0:58 / /tmp/ocitest-mounts-x1/rootfs rw - tmpfs tmpfs rw",
  ].join("\n");
  assert.equal(mountsUnder(info, "/tmp/ocrt-x/3"), ["/tmp/ocrt-x/3/ocitest42/proc", "/tmp/ocrt-x/3/ocitest42/a b"]);
});

test("execute captures output and exit status", async () => {
  const r = await execute("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], { cwd: "/", env: process.env, timeoutMs: 10_000 });
  assert.is(r.stdout, "out\n");
  assert.is(r.stderr, "err\n");
  assert.is(r.exitCode, 3);
  assert.is(r.timedOut, false);
});

test("execute kills the whole process group at the time limit", async () => {
  const r = await execute("/bin/sh", ["-c", "echo started; sleep 30 & wait"], { cwd: "/", env: process.env, timeoutMs: 300, killGraceMs: 200 });
  assert.is(r.timedOut, true);
  assert.is(r.stdout, "started\n");
  assert.ok(r.durationMs < 5000, `took ${r.durationMs} ms`);
});

test("execute reports a missing executable", async () => {
  const r = await execute("/nonexistent/file.t", [], { cwd: "/", env: process.env, timeoutMs: 1000 });
  assert.ok(r.spawnError);
  assert.is(r.exitCode, null);
});

test.run();
