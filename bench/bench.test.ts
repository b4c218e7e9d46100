// The benchmark's pure parts: npx uvu -r tsx/cjs bench '\.test\.ts$'
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mean, pairedRatioMedian, quantile, summarize } from "./stats";
import { kbField } from "./memory";
import { planConfig } from "./bundles";
import { markdown, rows, type ScenarioResult } from "./report";
import { cleanEnv } from "./exec";
import { parseProfile, phaseRows } from "./phases";

test("parseProfile reads the last profile block of a command's stderr", () => {
  const err = "container says hi\nocirt profile: run (bun 1.4.4)\n  engine start   2.50 ms  cpu    2.00 ms\n  cgroup.procs: cpuset   8.00 ms  cpu    0.10 ms\n  total  10.50 ms  cpu    2.10 ms\nafter\n";
  assert.equal(parseProfile(err), { "engine start": 2.5, "cgroup.procs: cpuset": 8, total: 10.5 });
  assert.equal(parseProfile("no profile here"), {});
});

test("phaseRows: medians per phase, small phases folded, total last", () => {
  const r = phaseRows("lifecycle", { create: { "engine start": [2, 4, 3], tiny: [0.1, 0.1, 0.1], tiny2: [0.1, 0.2, 0.1], total: [10, 12, 11] } });
  assert.equal(r.map((x) => [x.phase, x.median]), [["engine start", 3], ["other phases (each < 0.3 ms)", 0.2], ["total", 11]]);
});

test("quantile interpolates linearly between order statistics", () => {
  assert.is(quantile([3, 1, 2], 0.5), 2);
  assert.is(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.is(quantile([0, 10], 0.1), 1);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  const s = summarize([5, 1, 4, 2, 3]);
  assert.equal([s.n, s.median, s.min, s.max], [5, 3, 1, 5]);
  assert.is(mean([1, 2, 6]), 3);
});

test("paired ratio pairs samples of the same iteration", () => {
  assert.is(pairedRatioMedian([2, 4, 60], [1, 2, 3]), 2);
});

test("kbField reads /proc status and smaps_rollup lines", () => {
  assert.is(kbField("Name:\tx\nVmRSS:\t     528 kB\n", "VmRSS"), 528);
  assert.is(kbField("Rss:                 728 kB\nPss:                 724 kB\n", "Pss"), 724);
  assert.ok(Number.isNaN(kbField("", "Pss")));
});

test("planConfig: probe exit 0, readonly root, user namespace and seccomp on request", () => {
  const plain = planConfig("plain", "/rootfs");
  assert.equal(plain.process!.args, ["/bin/probe", "exit", "0"]);
  assert.equal(plain.root, { path: "/rootfs", readonly: true });
  assert.is(plain.process!.terminal, false);
  const u = planConfig("userns", "/rootfs");
  assert.ok(u.linux!.namespaces!.some((n) => n.type === "user"));
  assert.is(u.linux!.uidMappings![0]!.size, 65536);
  assert.ok(!plain.linux!.namespaces!.some((n) => n.type === "user"));
  const s = planConfig("seccomp", "/rootfs", { defaultAction: "SCMP_ACT_ERRNO" });
  assert.equal(s.linux!.seccomp, { defaultAction: "SCMP_ACT_ERRNO" });
});

test("cleanEnv drops the CA bundle, NODE_OPTIONS and npm's variables", () => {
  const { env, dropped } = cleanEnv({ PATH: "/bin", NODE_EXTRA_CA_CERTS: "/x", NODE_OPTIONS: "--require y", npm_config_x: "1" });
  assert.equal(env, { PATH: "/bin" });
  assert.equal(dropped.sort(), ["NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "npm_config_x"]);
});

test("report: ratio of medians per measurement, baselines and skips listed", () => {
  const r: ScenarioResult = {
    name: "state", unit: "ms", what: "", subjects: ["ocirt", "runc", "node -e 0"], iterations: 3, notes: [],
    samples: { ocirt: { state: [40, 50, 60] }, runc: { state: [5, 10, 15] }, "node -e 0": { state: [30, 30, 30] } },
    cpu: { ocirt: { state: [40, 40, 40] }, runc: { state: [4, 4, 4] } },
    loadavg: { before: [], after: [] },
  };
  const [row] = rows([r]);
  assert.is(row!.ratio, 5);
  const md = markdown([r, { ...r, name: "seccomp", skipped: "fixture absent" }]);
  assert.match(md, /\| state \| state \| 50\.0 \(42\.0–58\.0\) \| 10\.0 \(6\.00–14\.0\) \| \*\*5\.00\*\*/);
  assert.match(md, /\| state \| node -e 0 \| 30\.0 .* \| 20\.0 ms \|/);
  assert.match(md, /\| state \| state \| 40\.0 \| 4\.0 \| \*\*10\.00\*\* \|/);
  assert.match(md, /- seccomp: skipped \(fixture absent\)/);
});

test.run();
