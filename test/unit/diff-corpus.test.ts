// The differential harness's corpus (pure): singles per field, pairs, engine shapes, seeded random.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PAIR_BASIS, adaptEngineConfig, baseConfig, engineEntries, instantiate, pairEntries, singleEntries, singleVariants } from "../../conformance/diff/corpus";
import { RANDOM_TARGETS, generate, randomConfigs, schemaAt, seededRng } from "../../conformance/diff/random";
import { corpusFor, parseArgs } from "../../conformance/diff/main";
import { NAMESPACE_TYPES, RLIMIT_TYPES, type OciConfig } from "../../src/spec/types";

const env = { rootfs: "/r/rootfs", scratch: "/r/scratch", blockDevice: { major: 254, minor: 0 } };
const schema = JSON.parse(readFileSync(join(__dirname, "..", "..", "src", "spec", "schema.json"), "utf8"));
const fixture = (n: string) => JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "configs", "good", `${n}.json`), "utf8")) as OciConfig;

test("at least 300 configs from singles and pairs, unique names, every one a change of the base", () => {
  const singles = singleEntries(env), pairs = pairEntries(env);
  assert.ok(singles.length + pairs.length >= 300, `${singles.length} + ${pairs.length}`);
  const names = [...singles, ...pairs].map((e) => e.name);
  assert.is(new Set(names).size, names.length, "names are unique");
  const base = JSON.stringify(baseConfig(env));
  const unchanged = singleVariants().filter((v) => { const c = baseConfig(env); v.apply(c, env); return JSON.stringify(c) === base; });
  assert.equal(unchanged.map((v) => v.name), []);
});

test("singles cover every top-level field of config.md and config-linux.md", () => {
  const fields = new Set(singleVariants().map((v) => v.field.replace(/\[.*?\]/g, "").split(".").slice(0, 2).join(".")));
  for (const f of ["ociVersion", "root.readonly", "root.path", "mounts", "hostname", "domainname", "annotations",
    "process.user", "process.cwd", "process.env", "process.args", "process.capabilities", "process.rlimits", "process.noNewPrivileges",
    "process.oomScoreAdj", "process.apparmorProfile", "process.selinuxLabel", "process.scheduler", "process.ioPriority", "process.consoleSize",
    "linux.namespaces", "linux.uidMappings", "linux.devices", "linux.cgroupsPath", "linux.resources", "linux.sysctl", "linux.seccomp",
    "linux.rootfsPropagation", "linux.maskedPaths", "linux.readonlyPaths", "linux.mountLabel", "linux.personality", "linux.intelRdt", "linux.timeOffsets"]) {
    assert.ok(fields.has(f), `no variant sets ${f}`);
  }
  const rl = new Set(singleVariants().filter((v) => v.field === "process.rlimits").map((v) => v.name.split("=")[1]));
  for (const t of RLIMIT_TYPES) assert.ok(rl.has(t), t);
  // the probe's variables are added after the variant, so an empty env still reports
  const empty = singleEntries(env).find((e) => e.name === "process.env=empty")!;
  assert.ok(empty.config.process!.env!.some((e) => e.startsWith("PROBE_FILES=")));
  assert.is(empty.config.process!.env!.some((e) => e.startsWith("PATH=")), false);
});

test("pairs combine two fields; the basis names real variants", () => {
  const pairs = pairEntries(env);
  assert.ok(pairs.every((p) => p.fields.length === 2 && p.fields[0] !== p.fields[1]));
  const names = new Set(singleVariants().map((v) => v.name));
  for (const b of PAIR_BASIS) assert.ok(names.has(b), b);
});

test("no corpus config drops the mount namespace or joins the host's mount or pid namespace", () => {
  for (const e of [...singleEntries(env), ...pairEntries(env)]) {
    const ns = e.config.linux?.namespaces ?? [];
    assert.ok(ns.some((n) => n.type === "mount" && !n.path), `${e.name} keeps a new mount namespace`);
    assert.not.ok(ns.some((n) => n.type === "pid" && n.path), e.name);
  }
});

test("engine configs keep their shape, point at this host's paths only", () => {
  const raw = fixture("docker-cgroupfs-privileged");
  const c = adaptEngineConfig(raw, env);
  assert.is(c.root!.path, env.rootfs);
  assert.equal(c.process!.args, ["/bin/probe", "report"]);
  assert.is(c.hooks, undefined);
  assert.equal(c.process!.capabilities, raw.process!.capabilities, "capabilities kept");
  assert.equal(c.linux!.resources, raw.linux!.resources, "resources kept");
  for (const m of c.mounts!) if (m.type === "bind") assert.ok(m.source!.startsWith(env.scratch), m.destination);
  assert.is(c.mounts!.find((m) => m.destination === "/etc/hosts")!.source, `${env.scratch}/file.txt`);
  assert.ok(c.linux!.namespaces!.every((n) => !n.path));
  assert.is(c.linux!.cgroupsPath, "/ocidiff-engine/{ID}");
  assert.is(instantiate(c, "abc").linux!.cgroupsPath, "/ocidiff-engine/abc");
  const entries = engineEntries({ "containerd-cri-container": fixture("containerd-cri-container") }, env);
  const k8s = entries.find((e) => e.name === "engine:kubernetes-sized")!;
  assert.ok(k8s.config.process!.env!.length > 800);
  assert.ok(JSON.stringify(k8s.config.annotations).length > 200_000);
});

test("random: the same seed gives the same configs, another seed others; values follow the schema", () => {
  const a = randomConfigs(schema, () => baseConfig(env), 20, 7);
  const b = randomConfigs(schema, () => baseConfig(env), 20, 7);
  const c = randomConfigs(schema, () => baseConfig(env), 20, 8);
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  assert.not.equal(JSON.stringify(a), JSON.stringify(c));
  for (const r of a) {
    assert.ok(r.fields.every((f) => RANDOM_TARGETS.includes(f)));
    assert.equal(r.config.mounts, baseConfig(env).mounts, "mounts never drawn");
    assert.equal(r.config.linux!.namespaces, baseConfig(env).linux!.namespaces, "namespaces never drawn");
  }
  // device nodes only ever in the container's /dev
  const many = randomConfigs(schema, () => baseConfig(env), 300, 11).flatMap((r) => r.config.linux?.devices ?? []);
  assert.ok(many.length > 0);
  for (const d of many) assert.ok(String(d.path).startsWith("/dev/"), d.path);
  const rng = seededRng(1);
  const prop = schemaAt(schema, "linux.rootfsPropagation");
  for (let i = 0; i < 20; i++) assert.ok((prop.enum as string[]).includes(generate(schema, prop, rng) as string));
  const rl = generate(schema, schemaAt(schema, "process.rlimits"), seededRng(3), "rlimits", "process") as { type: string }[];
  assert.ok(Array.isArray(rl));
  const ns = schemaAt(schema, "linux.namespaces");
  const drawn = generate(schema, ns, seededRng(5), "namespaces", "linux", 3) as { type: string }[];
  for (const n of drawn) assert.ok((NAMESPACE_TYPES as readonly string[]).includes(n.type));
});

test("CLI arguments and the quick corpus", () => {
  const a = parseArgs(["--quick", "--filter", "rlimits", "--json", "o.json", "--seed", "5"]);
  assert.is(a.quick, true);
  assert.is(a.filter, "rlimits");
  assert.is(a.json, "o.json");
  assert.is(a.seed, 5);
  assert.is(a.random, 8);
  assert.is(parseArgs([]).random, 40);
  assert.throws(() => parseArgs(["--bogus"]), /unknown argument/);
  const entries = { single: singleEntries(env), pair: pairEntries(env), engine: [], random: [] };
  const full = corpusFor({ quick: false, filter: null, seed: 1, random: 0 }, entries);
  const quick = corpusFor({ quick: true, filter: null, seed: 1, random: 0 }, entries);
  assert.ok(quick.length * 3 < full.length, `${quick.length} vs ${full.length}`);
  const f = corpusFor({ quick: false, filter: "RLIMIT_CORE", seed: 1, random: 0 }, entries);
  assert.ok(f.length >= 1 && f.every((e) => e.name.includes("RLIMIT_CORE")));
});

test.run();
