import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, describe } from "../../src/errors";
import { parseConfigText } from "../../src/spec/load";
import { normaliseConfig } from "../../src/spec/normalise";
import { checkConfig, stripNulls, validateConfig } from "../../src/spec/validate";
import * as T from "../../src/spec/types";
import type { OciConfig } from "../../src/spec/types";
import { ensureValidator } from "./ensure-validator";

const repo = join(__dirname, "../..");
const fixtures = join(repo, "test/fixtures/configs");

ensureValidator();

/** The first problem line for a fixture's text, the way loadSpec would report it. */
function firstLine(text: string): string | undefined {
  try {
    const { value, bigInts } = parseConfigText(text);
    const lines = checkConfig(value, { bigInts }).problems;
    return lines.length === 0 ? undefined : `${lines[0]!.path || "config.json"}: ${lines[0]!.message}`;
  } catch (err) {
    if (err instanceof ConfigError) return describe(err);
    throw err;
  }
}

const goodFiles = readdirSync(join(fixtures, "good")).filter((f) => f.endsWith(".json"));
const badExpect = JSON.parse(readFileSync(join(fixtures, "bad/expectations.json"), "utf8")) as Record<string, string>;
const badFiles = readdirSync(join(fixtures, "bad")).filter((f) => f.endsWith(".json") && f !== "expectations.json");

test("the corpus has at least 45 configs and every bad one states its expectation", () => {
  assert.ok(goodFiles.length + badFiles.length >= 45, `${goodFiles.length} good + ${badFiles.length} bad`);
  for (const f of badFiles) assert.type(badExpect[f.replace(/\.json$/, "")], "string", `bad/${f} has no entry in expectations.json`);
  for (const name of Object.keys(badExpect)) assert.ok(badFiles.includes(`${name}.json`), `expectations.json names missing bad/${name}.json`);
});

for (const f of goodFiles) {
  test(`good/${f} is accepted and normalises`, () => {
    const text = readFileSync(join(fixtures, "good", f), "utf8");
    const { value, bigInts } = parseConfigText(text);
    const { config, problems } = checkConfig(value, { bigInts });
    assert.equal(problems, [], `good/${f}: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
    const spec = normaliseConfig(config as OciConfig, { bundle: "/bundles/b", bigInts });
    assert.ok(spec.root.path.startsWith("/"));
    assert.ok(spec.process.cwd.startsWith("/"));
  });
}

for (const f of badFiles) {
  const name = f.replace(/\.json$/, "");
  test(`bad/${f} is refused naming its path`, () => {
    const line = firstLine(readFileSync(join(fixtures, "bad", f), "utf8"));
    assert.ok(line !== undefined, `bad/${f} was accepted`);
    const want = badExpect[name] ?? "";
    assert.ok(line!.includes(want), `bad/${f}:\n  got:  ${line}\n  want: ...${want}...`);
  });
}

test("schema.json enumerations are the ones types.ts declares", () => {
  const schema = JSON.parse(readFileSync(join(repo, "src/spec/schema.json"), "utf8"));
  const d = schema.definitions;
  const p = d.Process.properties;
  const l = d.Linux.properties;
  const pairs: [unknown, readonly string[]][] = [
    [l.namespaces.items.properties.type.enum, T.NAMESPACE_TYPES],
    [p.rlimits.items.properties.type.enum, T.RLIMIT_TYPES],
    [d.SeccompAction.enum, T.SECCOMP_ACTIONS],
    [d.Seccomp.properties.syscalls.items.properties.args.items.properties.op.enum, T.SECCOMP_OPERATORS],
    [d.Seccomp.properties.architectures.items.enum, T.SECCOMP_ARCHES],
    [d.Seccomp.properties.flags.items.enum, T.SECCOMP_FLAGS],
    [l.rootfsPropagation.enum, T.ROOTFS_PROPAGATIONS],
    [l.devices.items.properties.type.enum, T.DEVICE_TYPES],
    [d.Resources.properties.devices.items.properties.type.enum, T.CGROUP_DEVICE_TYPES],
    [p.ioPriority.properties.class.enum, T.IOPRIO_CLASSES],
    [p.scheduler.properties.policy.enum, T.SCHED_POLICIES],
    [p.scheduler.properties.flags.items.enum, T.SCHED_FLAGS],
    [l.memoryPolicy.properties.mode.enum, T.MEMORY_POLICY_MODES],
    [l.memoryPolicy.properties.flags.items.enum, T.MEMORY_POLICY_FLAGS],
    [l.personality.properties.domain.enum, T.PERSONALITY_DOMAINS],
    [l.timeOffsets.propertyNames.enum, T.TIME_OFFSET_CLOCKS],
    [Object.keys(schema.properties.hooks.properties), T.HOOK_NAMES],
  ];
  for (const [inSchema, inTypes] of pairs) assert.equal([...(inSchema as string[])].sort(), [...inTypes].sort());
});

const minimal = () => ({ ociVersion: "1.2.0", root: { path: "rootfs" }, process: { cwd: "/", args: ["sh"] } });

test("unknown properties are ignored at every level", () => {
  const c: any = minimal();
  c.future = { a: 1 };
  c.process.future = [1];
  c.root.future = "x";
  c.linux = { future: true, namespaces: [{ type: "pid", future: 1 }], resources: { future: {} } };
  assert.equal(validateConfig(c), []);
});

test("anyOf alternatives come out as one line per path", () => {
  const c: any = minimal();
  c.linux = { resources: { blockIO: { weightDevice: [{ major: 8, minor: 0 }] } } };
  assert.equal(validateConfig(c), ["linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight"]);
});

test("if/then noise is dropped; the missing fields are named", () => {
  const c: any = minimal();
  c.linux = { devices: [{ type: "c", path: "/dev/x" }, { type: "p", path: "/dev/fifo" }] };
  assert.equal(validateConfig(c), ["linux.devices[0].major: required field is missing", "linux.devices[0].minor: required field is missing"]);
});

test("all problems are reported, deduplicated, in the order found", () => {
  const c: any = minimal();
  c.process.user = { uid: -1, gid: "x" };
  c.process.rlimits = [{ type: "RLIMIT_NOPE", soft: 1, hard: 1 }];
  const lines = validateConfig(c);
  assert.equal(lines, [
    "process.user.uid: must be >= 0 (got -1)",
    'process.user.gid: must be an integer (got string "x")',
    "process.rlimits[0].type: must be one of RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_FSIZE, RLIMIT_LOCKS, RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RSS, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIMIT_SIGPENDING, RLIMIT_STACK (got \"RLIMIT_NOPE\")",
  ]);
  assert.equal(new Set(lines).size, lines.length);
});

test("the document itself is named config.json", () => {
  assert.equal(validateConfig(null), ["config.json: must be a JSON object (got null)"]);
  assert.equal(validateConfig("x"), ['config.json: must be a JSON object (got string "x")']);
});

test("ociVersion: any 1.x is accepted, a newer minor with a warning; other majors are not", () => {
  for (const v of ["1.0.0", "1.0.2-dev", "1.1.0-rc.3", "1.2.1", "1.3.0", "1.3.7+dev"]) assert.equal(validateConfig({ ...minimal(), ociVersion: v }), [], v);
  const newer = checkConfig({ ...minimal(), ociVersion: "1.9.0" });
  assert.equal(newer.problems, []);
  assert.match(newer.warnings[0]!.message, /newer than ocirt knows/);
  assert.equal(validateConfig({ ...minimal(), ociVersion: "2.0.0" }), [
    'ociVersion: unsupported version "2.0.0": ocirt supports 1.0.0 to 1.3.x',
  ]);
  assert.match(validateConfig({ ...minimal(), ociVersion: "1.0" })[0]!, /^ociVersion: invalid version "1.0"/);
});

test("null means absent, as for Go's decoder; null inside arrays does not", () => {
  const c: any = { ...minimal(), hostname: null, mounts: null, linux: { sysctl: null, namespaces: null } };
  assert.equal(validateConfig(c), []);
  assert.equal((stripNulls(c) as any).linux, {});
  const d: any = minimal();
  d.process.args = ["sh", null];
  assert.equal(validateConfig(d), ["process.args[1]: must be a string (got null)"]);
});

test("a __proto__ key stays data", () => {
  const c = JSON.parse('{"ociVersion":"1.2.0","root":{"path":"r"},"process":{"cwd":"/","args":["sh"]},"annotations":{"__proto__":"x"}}');
  const out = stripNulls(c) as any;
  assert.is(Object.getPrototypeOf(out.annotations), Object.prototype);
  assert.equal(Object.keys(out.annotations), ["__proto__"]);
  assert.equal(validateConfig(c), []);
  // and in the config kept for exec (what the schema knows)
  const kept = normaliseConfig(stripNulls(c) as OciConfig, { bundle: "/b" }).config as any;
  assert.is(Object.getPrototypeOf(kept.annotations), Object.prototype);
  assert.equal(Object.keys(kept.annotations), ["__proto__"]);
  assert.is(kept.annotations["__proto__"], "x");
});

test("semantic problems name their paths", () => {
  const c: any = minimal();
  c.process.cwd = "work";
  c.hostname = "h";
  c.linux = {
    namespaces: [{ type: "pid" }, { type: "mount" }, { type: "pid" }],
    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    sysctl: { "net.core.somaxconn": "1024", "kernel/msgmax": "8192", "kernel.pid_max": "1" },
    timeOffsets: { boottime: { secs: 1 } },
  };
  assert.equal(validateConfig(c), [
    'linux.namespaces[2].type: duplicate namespace type "pid" (also at linux.namespaces[0])',
    'process.cwd: must be an absolute path (got "work")',
    "hostname: needs a uts namespace in linux.namespaces",
    "linux.timeOffsets: given, but linux.namespaces has no time namespace",
    'linux.sysctl["net.core.somaxconn"]: needs a network namespace in linux.namespaces',
    'linux.sysctl["kernel/msgmax"]: needs an ipc namespace in linux.namespaces',
    'linux.sysctl["kernel.pid_max"]: is not namespaced: it would change the host',
  ]);
});

test("id mappings without a user namespace are ignored with a warning, as runc ignores them", () => {
  const c: any = minimal();
  c.linux = { namespaces: [{ type: "mount" }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] };
  const r = checkConfig(c);
  assert.equal(r.problems, []);
  assert.equal(r.warnings.map((w) => `${w.path}: ${w.message}`), [
    "linux.uidMappings: ignored: linux.namespaces has no user namespace",
    "linux.gidMappings: ignored: linux.namespaces has no user namespace",
  ]);
});

test("relative mount destinations and personality flags are warnings, not errors", () => {
  const c: any = minimal();
  c.mounts = [{ destination: "data", type: "tmpfs", source: "tmpfs" }];
  c.linux = { personality: { domain: "LINUX", flags: ["SHORT_INODE"] } };
  const r = checkConfig(c);
  assert.equal(r.problems, []);
  assert.equal(
    r.warnings.map((w) => w.path),
    ["mounts[0].destination", "linux.personality.flags"],
  );
});

test("a NUL byte: named where the schema describes the place, ignored in unknown properties and annotations", () => {
  const c: any = minimal();
  c.process.args = ["sh", "a\0b"];
  c.hostname = "h\0";
  c.linux = { sysctl: { "k\0": "v" } };
  assert.equal(validateConfig(c).sort(), ["hostname: contains a NUL byte", 'linux.sysctl["k\\u0000"]: the key contains a NUL byte', "process.args[1]: contains a NUL byte"]);
  const ok: any = minimal();
  ok.annotations = { "a\0": "b\0" };
  ok.future = { deep: [[["x\0"]]] };
  ok.process.unknownField = "y\0";
  assert.equal(validateConfig(ok), []);
});

test.run();
