// The config fuzzer's generator (test/stress/mutate.ts), without root: a case is
// a pure function of (seed, index); the mutations reach what the check promises
// (boundaries, NUL bytes, deep nesting, 5,000 env vars, 2,000 mounts, 500 hooks,
// 300 kB annotations, paths through the rootfs's symlinks, namespaces, ids);
// and whatever they do, makeSafe leaves nothing that could touch the shared host.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultSpec } from "../../src/spec/default";
import { Rng } from "../stress/lib/rng";
import { Raw, toText, type Json } from "../stress/lib/json-text";
import { caseTag, makeCase, makeSafe, type CorpusEntry, type FuzzEnv } from "../stress/mutate";

const env: FuzzEnv = {
  rootfs: "/tmp/ocfz-unit/rootfs",
  work: "/tmp/ocfz-unit",
  bundle: "/tmp/ocfz-unit/bundle-0",
  prefix: "ocfzunit-",
  sleeperNs: { network: "/proc/4242424/ns/net", uts: "/proc/4242424/ns/uts", ipc: "/proc/4242424/ns/ipc", mount: "/proc/4242424/ns/mnt" },
  hostNs: { network: ["/proc/self/ns/net"], uts: ["/proc/self/ns/uts"], ipc: ["/proc/self/ns/ipc"] },
  srcDir: "/tmp/ocfz-unit/srcdir",
  srcFile: "/tmp/ocfz-unit/srcfile",
  hookTrue: "/bin/true",
  hookFalse: "/bin/false",
  hookSh: "/bin/sh",
  hostSysctl: (k) => ({ "net.ipv4.ip_forward": "0", "kernel.shmmax": "18446744073692774399", "net.core.somaxconn": "4096" } as Record<string, string>)[k],
  hostname: "hostname-of-the-host",
  domainname: "(none)",
  blockFs: new Set(["ext4", "xfs"]),
  hostIfaces: new Set(["eth0", "lo"]),
};

const spec = JSON.stringify(defaultSpec({ rootless: false }));
const corpus: CorpusEntry[] = [
  { name: "spec", text: spec, value: JSON.parse(spec) as Json, weight: 10 },
  {
    name: "hostile",
    text: "",
    weight: 3,
    value: {
      ociVersion: "1.2.0",
      root: { path: "/" },
      process: { args: ["sh"], cwd: "/" },
      hostname: "x",
      mounts: [{ destination: "/host", type: "bind", source: "/", options: ["rbind"] }, { destination: "/disk", type: "ext4", source: "/dev/sda1" }],
      hooks: { prestart: [{ path: "/usr/bin/env", args: ["env", "rm"] }], createRuntime: [{ path: "/proc/1284/exe" }] },
      linux: {
        namespaces: [{ type: "mount", path: "/proc/1/ns/mnt" }, { type: "network", path: "/proc/self/ns/net" }, { type: "pid" }],
        cgroupsPath: "/system.slice",
        sysctl: { "net.ipv4.ip_forward": "1", "kernel.shmmax": "1" },
        netDevices: { eth0: {} },
      },
    },
  },
  { name: "broken", text: '{"ociVersion": "1.0.0",', value: undefined, weight: 1 },
];

const cases = (seed: string, n: number) => Array.from({ length: n }, (_, i) => makeCase(new Rng(seed, i), i, corpus, env));

test("a case is a function of (seed, index) alone", () => {
  const a = cases("s1", 60).map((c) => c.text);
  const b = cases("s1", 60).map((c) => c.text);
  assert.equal(a, b);
  const c = cases("s2", 60).map((x) => x.text);
  assert.ok(a.filter((t, i) => t !== c[i]).length > 40, "another seed gives other cases");
  // and independent of the cases before it
  assert.is(makeCase(new Rng("s1", 45), 45, corpus, env).text, a[45]);
});

test("Raw numbers are written exactly; JSON.parse would round them", () => {
  assert.is(toText({ a: new Raw("18446744073709551616"), b: [new Raw("-0")] }), '{"a":18446744073709551616,"b":[-0]}');
});

test("the mutations reach everything the check promises", () => {
  const all = cases("coverage", 900);
  const ops = all.flatMap((c) => c.ops).join("\n");
  for (const want of [
    /process\.env \+= 5000 variables/, /mounts \+= 2000 mounts/, /hooks\.\w+ \+= 500 hooks/, /annotations\["org\.example\.big"\] = 300000 bytes|annotations \+= 3,000 keys/,
    /= 18446744073709551616/, /= 18446744073709551615/, /= 9223372036854775808/, /= 9007199254740993/, /= 2147483648/, /= -1\b/, /= 0\b/,
    /\\u0000/, /line one\\nline two/, /nesting .* = \[{3}/, /remove /, /null /, /duplicate key /, /extra key /, /type /,
    /\/escape\//, /\/up\//, /\.\.\//, /namespaces: drop/, /namespaces: \w+ path/, /joined by path \/proc\/self\/ns/, /user\.uid = 4294967295|user\.gid = 4294967295/,
    /mappings = /, /text: truncated/, /text: a NUL byte/, /text: bytes that are not UTF-8/, /cli: --no-pivot/, /cli: id /, /made safe: /,
  ]) assert.match(ops, want);
  assert.ok(all.filter((c) => c.text.length > 300_000).length > 0, "some configs are above 300 kB");
});

test("makeSafe: no host program, namespace, cgroup, sysctl, hostname, interface or device outside the check", () => {
  for (const c of cases("safety", 500)) {
    let v: { [k: string]: unknown };
    try {
      v = JSON.parse(c.text);
    } catch {
      continue; // refused before anything runs
    }
    if (!v || typeof v !== "object" || Array.isArray(v)) continue;
    const at = `case ${c.index} (${c.ops.join("; ")})`;
    const hooks = (v["hooks"] ?? {}) as Record<string, unknown>;
    for (const [kind, list] of Object.entries(typeof hooks === "object" && hooks ? hooks : {})) {
      for (const h of Array.isArray(list) ? list : []) {
        const p = (h as { path?: unknown })?.path;
        if (typeof p !== "string" || !p.startsWith("/")) continue;
        const ok = ["/bin/true", "/bin/false", "/bin/sh", "/bin/probe", "/nonexistent/hook"].includes(p) || !require("node:fs").existsSync(p);
        assert.ok(ok, `${at}: hooks.${kind} runs ${p}`);
      }
    }
    const linux = (v["linux"] ?? {}) as Record<string, unknown>;
    if (!linux || typeof linux !== "object") continue;
    const nss = Array.isArray(linux["namespaces"]) ? (linux["namespaces"] as { type?: unknown; path?: unknown }[]) : [];
    const fresh = new Set<string>();
    for (const ns of nss) {
      if (!ns || typeof ns !== "object") continue;
      const p = ns.path;
      if (p === undefined || p === "") fresh.add(String(ns.type));
      if (typeof p !== "string" || !p) continue;
      const allowed = Object.values(env.sleeperNs).includes(p) || (env.hostNs[String(ns.type)] ?? []).includes(p) || !p.startsWith("/proc/") || !require("node:fs").existsSync(p);
      assert.ok(allowed, `${at}: joins ${p} as ${String(ns.type)}`);
    }
    for (const ns of nss) if (ns && typeof ns === "object" && typeof ns.path === "string" && ns.path) fresh.delete(String(ns.type));
    if (typeof linux["cgroupsPath"] === "string") {
      const first = require("node:path").posix.normalize("/" + linux["cgroupsPath"]).split("/").filter(Boolean)[0];
      assert.is(first, caseTag(env, c.index), `${at}: cgroupsPath ${linux["cgroupsPath"]}`);
    }
    const sysctl = linux["sysctl"];
    if (sysctl && typeof sysctl === "object") {
      for (const [k, val] of Object.entries(sysctl)) {
        const host = env.hostSysctl(k);
        if (host === undefined) continue;
        const cls = k.startsWith("net.") ? "network" : k.startsWith("kernel.shm") ? "ipc" : "host";
        if (!fresh.has(cls)) assert.is(val, host, `${at}: sysctl ${k} in the host's namespace`);
      }
    }
    if (!fresh.has("uts") && typeof v["hostname"] === "string") assert.is(v["hostname"], env.hostname, `${at}: hostname`);
    const nd = linux["netDevices"];
    if (nd && typeof nd === "object") for (const k of Object.keys(nd)) assert.not.ok(env.hostIfaces.has(k), `${at}: netDevices ${k}`);
    const root = v["root"] as { path?: unknown } | undefined;
    if (root && typeof root === "object" && typeof root.path === "string" && require("node:fs").existsSync(root.path)) {
      assert.ok(require("node:path").resolve(env.bundle, root.path).startsWith(env.work), `${at}: root.path ${root.path}`);
    }
    for (const m of Array.isArray(v["mounts"]) ? (v["mounts"] as { type?: unknown; source?: unknown }[]) : []) {
      if (m && typeof m === "object" && env.blockFs.has(String(m.type))) assert.is(m.source, "/nonexistent/blockdev", `${at}: mounts a ${String(m.type)}`);
    }
  }
});

test("makeSafe on the hostile base alone", () => {
  const v = JSON.parse(JSON.stringify(corpus[1]!.value)) as Json;
  makeSafe(v, env, 7);
  const o = v as Record<string, any>;
  assert.is(o["root"].path, env.rootfs);
  assert.is(o["hostname"], env.hostname, "no uts namespace: the host's hostname");
  assert.is(o["mounts"][0].source, env.srcDir, "a bind of the host's / becomes the work dir's");
  assert.is(o["mounts"][1].source, "/nonexistent/blockdev");
  assert.is(o["hooks"].prestart[0].path, "/nonexistent/hook");
  assert.is(o["linux"].namespaces[0].path, "/nonexistent/ns", "the host's mount namespace is never joined");
  assert.is(o["linux"].namespaces[1].path, "/proc/self/ns/net", "the host's network namespace may be");
  assert.equal(o["linux"].sysctl, { "net.ipv4.ip_forward": "0", "kernel.shmmax": "18446744073692774399" }, "pinned to the host's values");
  assert.is(o["linux"].cgroupsPath, "/ocfzunit-7z//system.slice");
  assert.equal(Object.keys(o["linux"].netDevices), ["fz7"]);
});

test.run();
