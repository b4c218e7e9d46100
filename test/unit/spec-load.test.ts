import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ConfigError, describe } from "../../src/errors";
import { loadSpec, readConfigFile } from "../../src/spec/load";
import { ensureValidator } from "./ensure-validator";

ensureValidator();

const made: string[] = [];
function bundle(config?: unknown | string, opts: { rootfs?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "ocirt-spec-"));
  made.push(dir);
  if (opts.rootfs !== false) mkdirSync(join(dir, "rootfs"));
  if (config !== undefined) writeFileSync(join(dir, "config.json"), typeof config === "string" ? config : JSON.stringify(config, null, 2));
  return dir;
}

const base = () => ({
  ociVersion: "1.2.0",
  root: { path: "rootfs" },
  process: { cwd: "/", args: ["sh"] },
  linux: { namespaces: [{ type: "mount" }] },
});

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

test("missing config.json", () => {
  const dir = bundle();
  const real = realpathSync(dir);
  const err = thrown(() => loadSpec(dir));
  assert.is(describe(err), `config.json: no such file in bundle "${real}"`);
  assert.is(err.where, "config.json");
  assert.equal(err.problems, [describe(err)]);
});

test("missing bundle directory", () => {
  const dir = join(tmpdir(), "ocirt-spec-does-not-exist-4711");
  assert.is(describe(thrown(() => loadSpec(dir))), `bundle: "${dir}": no such file or directory`);
});

test("invalid JSON names the line", () => {
  const dir = bundle('{\n  "ociVersion": "1.2.0",\n  "root": {"path": "rootfs"}\n  "process": {}\n}\n');
  assert.is(describe(thrown(() => loadSpec(dir))), "config.json: invalid JSON: unexpected '\"', expected ',' or '}' after a property value (line 4)");
  assert.is(describe(thrown(() => loadSpec(bundle("")))), "config.json: invalid JSON: unexpected end of input, expected a value (line 1)");
});

test("validation errors: where is the first path, problems holds every line", () => {
  const c: any = base();
  c.process.cwd = "rel";
  c.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: 1, hard: 1 }, { type: "RLIMIT_NOFILE", soft: 1, hard: 1 }];
  const err = thrown(() => loadSpec(bundle(c)));
  assert.is(err.where, "process.cwd");
  assert.is(err.message, 'must be an absolute path (got "rel")');
  assert.is(describe(err), 'process.cwd: must be an absolute path (got "rel")');
  assert.equal(err.problems, [
    'process.cwd: must be an absolute path (got "rel")',
    'process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE" (also at process.rlimits[0])',
  ]);
});

test("missing rootfs, and rootfs that is a file", () => {
  const dir = bundle(base(), { rootfs: false });
  const real = realpathSync(dir);
  assert.is(describe(thrown(() => loadSpec(dir))), `root.path: invalid rootfs "${real}/rootfs": no such file or directory (root.path is "rootfs")`);
  writeFileSync(join(dir, "rootfs"), "");
  assert.is(describe(thrown(() => loadSpec(dir))), `root.path: invalid rootfs "${real}/rootfs": not a directory`);
});

test("a root.path or bundle with a newline or control characters stays on one line", () => {
  for (const path of ["line one\nline two", "tab\there", "nul-free\r\u001b[31m"]) {
    const line = describe(thrown(() => loadSpec(bundle({ ...base(), root: { path } }))));
    assert.not.match(line, /[\n\r\t\u001b]/, JSON.stringify(line));
    assert.match(line, /^root\.path: invalid rootfs "[^\n]*": no such file or directory/);
  }
  const parent = mkdtempSync(join(tmpdir(), "ocirt-spec-"));
  const odd = join(parent, "bundle\nname");
  made.push(parent);
  assert.not.match(describe(thrown(() => loadSpec(odd))), /\n/);
  mkdirSync(odd);
  assert.not.match(describe(thrown(() => loadSpec(odd))), /\n/);
});

test("a rootfs reached through a symlink is refused, as runc does", () => {
  const dir = bundle({ ...base(), root: { path: "link" } });
  symlinkSync("rootfs", join(dir, "link"));
  assert.match(describe(thrown(() => loadSpec(dir))), /^root\.path: invalid rootfs ".*\/link": it goes through a symlink/);
});

test("relative bundle, relative root.path and bind sources resolve against the bundle", () => {
  const c: any = base();
  c.mounts = [
    { destination: "/data", type: "bind", source: "volumes/data", options: ["rbind", "ro"] },
    { destination: "/abs", type: "bind", source: "/srv/abs", options: ["bind"] },
    { destination: "/tmp", type: "tmpfs", source: "tmpfs" },
    { destination: "run", type: "tmpfs", source: "tmpfs" },
  ];
  const dir = bundle(c);
  const real = realpathSync(dir);
  const spec = loadSpec(relative(process.cwd(), dir));
  assert.is(spec.bundle, real);
  assert.is(spec.root.path, join(real, "rootfs"));
  assert.is(spec.root.readonly, false);
  assert.equal(
    spec.mounts.map((m) => [m.destination, m.source]),
    [
      ["/data", join(real, "volumes/data")],
      ["/abs", "/srv/abs"],
      ["/tmp", "tmpfs"],
      ["/run", "tmpfs"],
    ],
  );
  assert.equal(spec.warnings, ['mounts[3].destination: relative destination "run" is deprecated; taken as relative to "/"']);
});

test("absolute root.path is used as is", () => {
  const other = bundle(undefined);
  const dir = bundle({ ...base(), root: { path: join(realpathSync(other), "rootfs"), readonly: true } }, { rootfs: false });
  const spec = loadSpec(dir);
  assert.is(spec.root.path, join(realpathSync(other), "rootfs"));
  assert.is(spec.root.readonly, true);
});

test("defaults are filled in", () => {
  const spec = loadSpec(bundle(base()));
  assert.equal(spec.process.user, { uid: 0, gid: 0, umask: undefined, additionalGids: [] });
  assert.equal(spec.process.env, []);
  assert.is(spec.process.cwd, "/");
  assert.is(spec.process.terminal, false);
  assert.is(spec.process.noNewPrivileges, false);
  assert.is(spec.process.capabilities, undefined);
  assert.is(spec.process.oomScoreAdj, undefined);
  assert.equal(spec.process.rlimits, []);
  assert.equal(spec.mounts, []);
  assert.equal(spec.annotations, {});
  assert.equal(Object.keys(spec.hooks), ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
  assert.ok(Object.values(spec.hooks).every((h) => h.length === 0));
  assert.equal(spec.linux.namespaces, [{ type: "mount" }]);
  assert.equal(spec.linux.uidMappings, []);
  assert.equal(spec.linux.sysctl, {});
  assert.equal(spec.linux.maskedPaths, []);
  assert.is(spec.linux.seccomp, undefined);
  assert.is(spec.linux.resources, undefined);
  assert.is(spec.hostname, undefined);
  assert.is(spec.config.ociVersion, "1.2.0");
});

test("capabilities, hooks, scheduler and seccomp get their inner defaults", () => {
  const c: any = base();
  c.process.capabilities = { bounding: ["CAP_KILL"] };
  c.process.scheduler = { policy: "SCHED_FIFO", priority: 10 };
  c.process.ioPriority = { class: "IOPRIO_CLASS_BE" };
  c.hooks = { poststart: [{ path: "/bin/notify" }], poststop: [{ path: "/bin/clean", args: ["clean", "-f"], env: ["A=1"], timeout: 3 }] };
  c.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["ioctl"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, value: 21505, op: "SCMP_CMP_EQ" }] }] };
  c.linux.devices = [{ type: "p", path: "/dev/fifo" }];
  c.linux.netDevices = { eth1: {}, eth2: { name: "in2" } };
  c.linux.namespaces.push({ type: "network" });
  const spec = loadSpec(bundle(c));
  assert.equal(spec.process.capabilities, { bounding: ["CAP_KILL"], effective: [], inheritable: [], permitted: [], ambient: [] });
  assert.equal(spec.process.scheduler, { policy: "SCHED_FIFO", nice: 0, priority: 10, flags: [], runtime: 0, deadline: 0, period: 0 });
  assert.equal(spec.process.ioPriority, { class: "IOPRIO_CLASS_BE", priority: 0 });
  // no env: the hook inherits the runtime's environment, as runc's (Go's nil Env)
  assert.equal(spec.hooks.poststart, [{ path: "/bin/notify", args: ["/bin/notify"], env: undefined, timeout: undefined }]);
  assert.equal(spec.hooks.poststop, [{ path: "/bin/clean", args: ["clean", "-f"], env: ["A=1"], timeout: 3 }]);
  assert.equal(spec.linux.seccomp, {
    defaultAction: "SCMP_ACT_ALLOW",
    defaultErrnoRet: undefined,
    architectures: [],
    flags: undefined,
    listenerPath: undefined,
    listenerMetadata: undefined,
    syscalls: [{ names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: undefined, args: [{ index: 1, value: 21505n, valueTwo: 0n, op: "SCMP_CMP_EQ" }] }],
  });
  assert.equal(spec.linux.devices, [{ type: "p", path: "/dev/fifo", major: 0, minor: 0, fileMode: undefined, uid: undefined, gid: undefined }]);
  assert.equal(spec.linux.netDevices, { eth1: { name: "eth1" }, eth2: { name: "in2" } });
});

test("uint64 values beyond 2^53 arrive exactly", () => {
  const text = JSON.stringify(base(), null, 2).replace(
    '"args": [',
    '"rlimits": [{"type": "RLIMIT_CORE", "soft": 18446744073709551615, "hard": 18446744073709551615}, {"type": "RLIMIT_AS", "soft": 9007199254740993, "hard": 18446744073709551614}],\n    "args": [',
  ).replace(
    '"namespaces"',
    '"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 18446744073709551615, "valueTwo": 18446744069414584320, "op": "SCMP_CMP_MASKED_EQ"}]}]},\n    "namespaces"',
  );
  const spec = loadSpec(bundle(text));
  assert.equal(spec.process.rlimits, [
    { type: "RLIMIT_CORE", soft: 18446744073709551615n, hard: 18446744073709551615n },
    { type: "RLIMIT_AS", soft: 9007199254740993n, hard: 18446744073709551614n },
  ]);
  const arg = spec.linux.seccomp!.syscalls[0]!.args[0]!;
  assert.is(arg.value, 18446744073709551615n);
  assert.is(arg.valueTwo, 18446744069414584320n);
});

test("readConfigFile parses without validating", () => {
  const dir = bundle({ ociVersion: "9.9.9" });
  assert.equal(readConfigFile(dir).value, { ociVersion: "9.9.9" });
  assert.is(readConfigFile(dir).bigInts.size, 0);
});

test("config.json that is a directory", () => {
  const dir = bundle();
  mkdirSync(join(dir, "config.json"));
  assert.match(describe(thrown(() => loadSpec(dir))), /^config\.json: is a directory in bundle /);
});

test.after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test.run();
