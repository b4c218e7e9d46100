// Standing check 1: the config fuzzer. Configs mutated (test/stress/mutate.ts)
// from `ocirt spec` output and the fixtures in test/fixtures/configs, with a fixed
// seed; each goes through `ocirt validate` and `ocirt create` (then `start` and
// `delete --force` when create succeeds) in a private --root on a copy of the
// probe rootfs, asserting:
//   - never an internal error or a stack trace; exit status 0 or 1, nothing else;
//   - every rejection is exactly one line on stderr;
//   - validate and create agree (create never accepts what validate refuses);
//   - nothing is left behind: state dir, mount, cgroup, process; no file made
//     outside the rootfs (canaries), no host sysctl or hostname changed.
//
//   npx tsx test/stress/fuzz-config.ts [--seed S] [--cases N] [--jobs J] [--case I]   (as root)
// OCIRT_STRESS_SCALE multiplies the number of cases (default 2,000);
// OCIRT_STRESS_SEED sets the seed. A failure prints its seed and index and writes
// the config to build/stress/fuzz-failures/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ensureProbeRootfs } from "../../conformance/rootfs";
import { Rng } from "./lib/rng";
import { OcirtRunner, REPO, badRejection, errorLines, isWarning, lines, type Result } from "./lib/ocirt";
import { becomeSubreaper, cleanLeftovers, findLeftovers, liveOrphans, reapOrphans, type Scope } from "./lib/leaks";
import { KNOWN, Report, median, option, scale } from "./lib/report";
import { consoleSink, idPrefix, nsSleeper, removeWorkDir, requireRoot, workDir } from "./lib/work";
import { caseTag, configBytes, hostSysctlReader, makeCase, type CorpusEntry, type FuzzCase, type FuzzEnv } from "./mutate";
import type { Json } from "./lib/json-text";
import { sysctlNamespace } from "../../src/spec/semantic";

const NAME = "fuzz-config";
const FIXTURES = join(REPO, "test", "fixtures", "configs");
const FAILURES = join(REPO, "build", "stress", "fuzz-failures");


/** A raw Node error that names no config field or step ("ENOENT: no such file ..., open '/x'"). */
function rawNodeError(text: string): string | null {
  const m = /^E[A-Z0-9]+: [^\n]*, \w+ '[^\n]*$/m.exec(text);
  return m ? m[0] : null;
}

export function loadCorpus(specs: { name: string; text: string }[]): CorpusEntry[] {
  const out: CorpusEntry[] = specs.map((s) => ({ name: s.name, text: s.text, value: JSON.parse(s.text) as Json, weight: 15 }));
  for (const kind of ["good", "bad"] as const) {
    const dir = join(FIXTURES, kind);
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".json") && n !== "expectations.json").sort()) {
      const text = readFileSync(join(dir, f), "utf8");
      let value: Json | undefined;
      try {
        value = JSON.parse(text) as Json;
      } catch {
        value = undefined;
      }
      out.push({ name: `${kind}/${f}`, text, value, weight: kind === "good" ? 1.5 : 0.12 });
    }
  }
  return out;
}

/** The sysctls of a config that belong to a namespace it joins by one of the host's own paths. */
function hostSysctlsAccepted(text: string, hostNs: Record<string, string[]>): string[] {
  let cfg: { linux?: { namespaces?: unknown; sysctl?: unknown } };
  try {
    cfg = JSON.parse(text);
  } catch {
    return [];
  }
  const nss = Array.isArray(cfg?.linux?.namespaces) ? (cfg.linux!.namespaces as { type?: unknown; path?: unknown }[]) : [];
  const sysctl = cfg?.linux?.sysctl && typeof cfg.linux.sysctl === "object" ? Object.keys(cfg.linux.sysctl) : [];
  const hostTypes = new Set(nss.filter((n) => n && typeof n.path === "string" && (hostNs[String(n.type)] ?? []).includes(n.path)).map((n) => String(n.type)));
  return sysctl.filter((k) => hostTypes.has(sysctlNamespace(k) ?? "")).map((k) => JSON.stringify(k));
}

/** The fuzz rootfs: a copy of the probe rootfs with symlinks that point out of it. */
function makeRootfs(work: string): string {
  const rootfs = join(work, "rootfs");
  execFileSync("cp", ["-a", ensureProbeRootfs(), rootfs]);
  symlinkSync("/", join(rootfs, "escape"));
  symlinkSync("../../../../../../../../../..", join(rootfs, "up"));
  symlinkSync("loop", join(rootfs, "loop"));
  symlinkSync("/proc/self/root", join(rootfs, "proc-self"));
  symlinkSync("../../../../../../tmp", join(rootfs, "etc", "escape"));
  symlinkSync(rootfs, `${rootfs}-link`);
  return rootfs;
}

interface Worker {
  n: number;
  bundle: string;
  root: string;
  runner: OcirtRunner;
  scope: Scope;
}

interface Host {
  hostname: string;
  domainname: string;
  sysctls: Map<string, string>;
}

function hostState(keys: Iterable<string>): Host {
  const read = hostSysctlReader();
  const sysctls = new Map<string, string>();
  for (const k of keys) {
    const v = read(k);
    if (v !== undefined) sysctls.set(k, v);
  }
  return {
    hostname: readFileSync("/proc/sys/kernel/hostname", "utf8").trim(),
    domainname: readFileSync("/proc/sys/kernel/domainname", "utf8").trim(),
    sysctls,
  };
}

function hostChanges(before: Host): string[] {
  const now = hostState(before.sysctls.keys());
  const out: string[] = [];
  if (now.hostname !== before.hostname) out.push(`the host's hostname changed from ${before.hostname} to ${now.hostname}`);
  if (now.domainname !== before.domainname) out.push(`the host's domainname changed from ${before.domainname} to ${now.domainname}`);
  for (const [k, v] of before.sysctls) if (now.sysctls.get(k) !== v) out.push(`the host's sysctl ${k} changed from ${JSON.stringify(v)} to ${JSON.stringify(now.sysctls.get(k))}`);
  return out;
}

/** Files named <prefix>canary-* that a case made outside the rootfs. */
function canaries(prefix: string, work: string): string[] {
  const out: string[] = [];
  for (const dir of ["/", "/tmp", dirname(work), work, "/dev", "/etc"]) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch { continue; }
    for (const n of names) if (n.includes(`${prefix}canary`)) out.push(join(dir, n));
  }
  return out;
}

/** The cgroup dirs a case may make (its tag is the first component of the path). */
function cgroupPlaces(): string[] {
  const places: string[] = [];
  const own = new Map<string, string>();
  for (const l of readFileSync("/proc/self/cgroup", "utf8").split("\n").filter(Boolean)) {
    const [, ctrls, path] = l.split(":");
    for (const c of (ctrls || "unified").split(",")) own.set(c.replace(/^name=/, ""), path ?? "/");
  }
  for (const m of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = m.split(" ");
    const dash = f.indexOf("-");
    if (dash < 0 || !/^cgroup2?$/.test(f[dash + 1] ?? "")) continue;
    const mp = f[4]!;
    places.push(mp);
    const opts = (f[dash + 3] ?? "").split(",");
    const ctrl = f[dash + 1] === "cgroup2" ? "unified" : (opts.find((o) => own.has(o.replace(/^name=/, ""))) ?? "").replace(/^name=/, "");
    const rel = own.get(ctrl);
    if (rel && rel !== "/") places.push(join(mp, rel));
  }
  return [...new Set(places)];
}

async function main(): Promise<number> {
  requireRoot(NAME);
  const report = new Report(NAME);
  const seed = option("seed", "OCIRT_STRESS_SEED", "1");
  const only = option("case", undefined, "");
  const total = only ? 1 : Math.round(Number(option("cases", undefined, String(2000 * scale()))));
  const jobs = only ? 1 : Math.max(1, Number(option("jobs", "OCIRT_STRESS_JOBS", "4")));
  console.log(`== ${NAME}: seed ${seed}, ${only ? `case ${only}` : `${total} cases`}, ${jobs} at once`);

  becomeSubreaper();
  const work = workDir("ocfz");
  const prefix = idPrefix("ocfz");
  const sink = await consoleSink(join(work, "console.sock"));
  const sleeper = await nsSleeper();
  const rootfs = makeRootfs(work);
  const srcDir = join(work, "srcdir");
  mkdirSync(join(srcDir, "sub"), { recursive: true });
  writeFileSync(join(srcDir, "file"), "x");
  writeFileSync(join(work, "srcfile"), "x");

  const specRunner = new OcirtRunner(join(work, "state-spec"), work, `${prefix}mark-spec`);
  const specs: { name: string; text: string }[] = [];
  for (const rootless of [false, true]) {
    const d = join(work, `spec-${rootless ? "rootless" : "root"}`);
    mkdirSync(d);
    const r = await specRunner.run(["spec", "-b", d, ...(rootless ? ["--rootless"] : [])], { cwd: work });
    if (r.status !== 0) throw new Error(`ocirt spec failed: ${r.stderr}`);
    specs.push({ name: `ocirt spec${rootless ? " --rootless" : ""}`, text: readFileSync(join(d, "config.json"), "utf8") });
  }
  const corpus = loadCorpus(specs);

  const blockFs = new Set(readFileSync("/proc/filesystems", "utf8").split("\n").filter((l) => l && !l.startsWith("nodev")).map((l) => l.trim()));
  const hostNs: Record<string, string[]> = {};
  for (const [t, n] of [["network", "net"], ["uts", "uts"], ["ipc", "ipc"]] as const) hostNs[t] = [`/proc/self/ns/${n}`, `/proc/${process.pid}/ns/${n}`];
  const hostSysctl = hostSysctlReader();
  const sysctlKeys = new Set<string>(["net.ipv4.ip_forward", "net.ipv4.ping_group_range", "net.core.somaxconn", "kernel.shmmax", "kernel.msgmax", "fs.mqueue.msg_max", "kernel.sem", "net.ipv4.ip_unprivileged_port_start", "vm.overcommit_memory", "user.max_user_namespaces"]);
  for (const c of corpus) {
    const s = (c.value as { linux?: { sysctl?: unknown } } | undefined)?.linux?.sysctl;
    if (s && typeof s === "object") for (const k of Object.keys(s)) sysctlKeys.add(k);
  }
  const before = hostState(sysctlKeys);
  const envFor = (bundle: string): FuzzEnv => ({
    rootfs, work, bundle, prefix, sleeperNs: sleeper.ns, hostNs, srcDir, srcFile: join(work, "srcfile"),
    hookTrue: "/bin/true", hookFalse: "/bin/false", hookSh: "/bin/sh",
    hostSysctl, hostname: before.hostname, domainname: before.domainname, blockFs,
    hostIfaces: new Set(readdirSync("/sys/class/net")),
  });
  const places = cgroupPlaces();
  // (a live orphan that cannot be told apart from another worker's container: the final walk decides)
  const readEnviron = (pid: number) => { try { return readFileSync(`/proc/${pid}/environ`, "utf8"); } catch { return ""; } };
  const readCgroup = (pid: number) => { try { return readFileSync(`/proc/${pid}/cgroup`, "utf8"); } catch { return ""; } };
  const reasons = new Map<string, number>();
  const validRefused = new Map<string, number>();
  const times: number[] = [];
  let slowest: { ms: number; what: string } | undefined;

  const workers: Worker[] = Array.from({ length: jobs }, (_, n) => {
    const bundle = join(work, `bundle-${n}`);
    mkdirSync(bundle);
    const root = join(work, `state-${n}`);
    const mark = `${prefix}mark-w${n}`;
    return { n, bundle, root, runner: new OcirtRunner(root, work, mark), scope: { prefix: `${prefix}w${n}-none`, roots: [root], dirs: [bundle], mark } };
  });

  const failuresDir = join(FAILURES, `seed-${seed}`);
  const reproduce = (c: FuzzCase, w: Worker) => {
    const dir = join(failuresDir, `case-${c.index}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), configBytes(c.text));
    writeFileSync(join(dir, "case.txt"), [`seed ${seed}, case ${c.index}, base ${c.base}`, ...c.ops, `create flags: ${JSON.stringify(c.createFlags)}`, `id: ${JSON.stringify(c.id)}`, `bundle used: ${w.bundle} (rootfs ${rootfs})`, ""].join("\n"));
    return `npx tsx test/stress/fuzz-config.ts --seed ${seed} --case ${c.index}   (config: ${join(dir, "config.json")}; base ${c.base}; ${c.ops.join("; ").slice(0, 600)})`;
  };

  const runCase = async (w: Worker, index: number): Promise<void> => {
    const env = envFor(w.bundle);
    const t = Date.now();
    const c = makeCase(new Rng(seed, index), index, corpus, env);
    const tag = caseTag(env, index);
    writeFileSync(join(w.bundle, "config.json"), configBytes(c.text));
    report.count("tried");
    let failed = false;
    const fail = (kind: string, what: string) => {
      failed = true;
      report.fail(kind, `case ${index} (${c.base}): ${what}`, reproduce(c, w));
    };
    const checkOutput = (cmd: string, r: Result) => {
      // a refusal that comes from a fixed limit of ocirt's own (below the kernel's) is a failure
      const limit = KNOWN.find((k) => k.match.test(r.stderr));
      if (r.status !== 0 && limit) fail("limit", `${cmd}: refused by a limit of ocirt's own: ${errorLines(r.stderr).join(" / ").slice(0, 600)}`);
      const bad = badRejection(r);
      // the init helper's own diagnostics on the container's stderr (which is ocirt's), besides ocirt's line
      const helper = /lines on stderr/.test(bad ?? "") && errorLines(r.stderr).some((l) => l.startsWith("ocirt-init: "));
      if (bad) fail(/stack|internal|uncaught/.test(bad) ? "internal-error" : r.timedOut ? "hang" : helper ? "helper-stderr" : /lines on stderr/.test(bad) ? "stderr-lines" : "exit-status", `${cmd}: ${bad}: ${r.stderr.trim().slice(0, 1500)}`);
      const raw = rawNodeError(r.stderr);
      if (raw) fail("raw-node-error", `${cmd}: an error that names no field or step: ${raw}`);
    };

    const v = await w.runner.run(["validate", "-b", w.bundle], { cwd: env.work, timeoutMs: 60_000 });
    checkOutput("validate", v);
    if (v.status === 0 && lines(v.stdout).at(-1) !== "valid") fail("validate-output", `validate exited 0 without "valid": ${v.stdout.slice(0, 300)}`);

    const flags = [...c.createFlags];
    if (c.terminal) flags.push("--console-socket", join(work, "console.sock"));
    const cr = await w.runner.run(["create", ...flags, "-b", w.bundle, c.id], { cwd: env.work, timeoutMs: 90_000 });
    checkOutput("create", cr);
    if (cr.status !== 0 && lines(cr.stderr).some(isWarning)) report.count("rejections with warnings");
    let created = false;
    if (cr.status === 0) {
      created = true;
      report.count("accepted");
      if (v.status !== 0) fail("inconsistent", `validate refused the config (${lines(v.stderr)[0] ?? ""}) but create accepted it`);
      const host = hostSysctlsAccepted(c.text, hostNs);
      if (host.length) fail("host-sysctl", `create accepted sysctls of the host's own namespaces (joined by path): ${host.join(", ")} (runc refuses them; makeSafe pinned them to the host's values)`);
      const st = await w.runner.run(["start", c.id], { cwd: env.work, timeoutMs: 60_000 });
      checkOutput("start", st);
      if (st.status === 0) report.count("ran");
      else report.count("start refused");
      const del = await w.runner.run(["delete", "--force", c.id], { cwd: env.work, timeoutMs: 60_000 });
      checkOutput("delete --force", del);
      if (del.status !== 0) fail("delete", `delete --force exited ${del.status}: ${del.stderr.trim()}`);
    } else {
      report.count("rejected");
      if (v.status === 0) report.count("valid but refused by create");
      const first = lines(cr.stderr).filter((l) => !isWarning(l))[0] ?? "";
      const reason = first.replace(/\[\d+\]/g, "[]").replace(/^(.{0,70}?): .*$/, "$1").slice(0, 70);
      if (v.status === 0) validRefused.set(reason, (validRefused.get(reason) ?? 0) + 1);
      if (process.env["OCIRT_FUZZ_VERBOSE"]) console.log(`  case ${index} rejected${v.status === 0 ? " (valid)" : ""}: ${first.slice(0, 300)}`);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }

    // what is left of this case (the whole scope is walked at the end too)
    const left: string[] = [];
    const hasHooks = c.text.includes('"hooks"');
    if (existsSync(w.root)) {
      const names = readdirSync(w.root);
      if (names.length) left.push(`state left in ${w.root}: ${names.join(", ")}`);
    }
    for (const m of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (m.includes(tag) || m.includes(w.bundle)) left.push(`mount left: ${m}`);
    for (const p of places) if (existsSync(join(p, tag))) left.push(`cgroup left: ${join(p, tag)}`);
    // a container's processes are in its cgroup (checked above); whatever else a
    // case leaves (a helper or hook whose ocirt exited) is handed to us as subreaper
    for (const o of liveOrphans()) {
      const environ = hasHooks ? readEnviron(o.pid) : "";
      if (jobs === 1 || environ.includes(w.scope.mark) || (readCgroup(o.pid)).includes(`/${tag}`)) left.push(`process left: ${o.pid} ${JSON.stringify(o.cmdline)}`);
    }
    for (const f of canaries(prefix, work)) left.push(`made outside the rootfs: ${f}${/canary-(\d+)/.test(f) ? ` (by case ${/canary-(\d+)/.exec(f)![1]})` : ""}`);
    if (left.length) {
      fail(created ? "leak" : "leak-after-failed-create", left.join("\n"));
      // clean up, so one failure does not become many
      await w.runner.run(["delete", "--force", c.id], { cwd: env.work });
      cleanLeftovers({ ...w.scope, prefix: tag });
      for (const f of canaries(prefix, work)) execFileSync("rm", ["-rf", "--one-file-system", f]);
      execFileSync("rm", ["-rf", w.root]);
    }
    const changed = hostChanges(before);
    if (changed.length) {
      fail("host-changed", changed.join("; "));
      for (const [k, val] of before.sysctls) {
        try { writeFileSync(`/proc/sys/${k.replace(/\./g, "/")}`, val); } catch { /* not writable */ }
      }
    }
    reapOrphans();
    if (!failed) report.count("clean");
    const ms = Date.now() - t;
    times.push(ms);
    if (!slowest || ms > slowest.ms) slowest = { ms, what: `case ${index} (${c.base}; ${c.ops.join("; ").slice(0, 200)})` };
  };

  let next = only ? Number(only) : 0;
  const last = only ? Number(only) + 1 : total;
  let done = 0;
  const t0 = Date.now();
  await Promise.all(workers.map(async (w) => {
    for (;;) {
      const i = next++;
      if (i >= last) return;
      try {
        await runCase(w, i);
      } catch (err) {
        report.fail("check-error", `case ${i}: the check itself failed: ${(err as Error).stack}`);
      }
      if (++done % 100 === 0) console.log(`  ${done}/${total} cases, ${report.get("accepted")} accepted, ${report.get("ran")} ran, ${report.failures.length} failures (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  }));

  // the whole scope, once everything is done
  const scope: Scope = { prefix, roots: workers.map((w) => w.root), dirs: [work], mark: `${prefix}mark` };
  reapOrphans();
  const left = findLeftovers(scope).filter((l) => !l.includes(`${sink.child.pid}`) && !l.includes(` ${sleeper.helper.child.pid} `));
  if (left.length) {
    report.fail("leak", `after all cases:\n${left.join("\n")}`);
    cleanLeftovers(scope);
  }
  sink.stop();
  sleeper.helper.stop();
  removeWorkDir(work);
  const per = (k: string) => report.get(k);
  return report.finish([
    `seed: ${seed} (another: --seed S or OCIRT_STRESS_SEED)`,
    `configs tried: ${per("tried")} (from ${corpus.length} bases: ocirt spec, ${corpus.filter((c) => c.name.startsWith("good/")).length} good and ${corpus.filter((c) => c.name.startsWith("bad/")).length} bad fixtures)`,
    `accepted by create: ${per("accepted")}`,
    `rejected by create: ${per("rejected")} (of which validate had accepted ${per("valid but refused by create")}; ${per("rejections with warnings")} printed warnings first)`,
    `ran (started): ${per("ran")}; start refused: ${per("start refused")}`,
    `cases with no failure: ${per("clean")}`,
    `time per case: median ${median(times).toFixed(0)} ms; slowest ${slowest ? `${slowest.ms} ms: ${slowest.what}` : "-"}`,
    `create's most common rejections: ${[...reasons].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([r, n]) => `${n}× ${r}`).join("; ")}`,
    `... of configs validate accepted: ${[...validRefused].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([r, n]) => `${n}× ${r}`).join("; ")}`,
    ...(report.failures.length ? [`reproducers: ${failuresDir}`] : []),
  ]);
}

if (require.main === module || basename(process.argv[1] ?? "") === "fuzz-config.ts") {
  main().then((code) => process.exit(code), (err) => {
    console.error(err);
    console.log(`check ${NAME}: FAILED (the check crashed)`);
    process.exit(1);
  });
}
