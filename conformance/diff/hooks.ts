// Hooks: every stage under both runtimes, each hook the probe's `hook-record`, which
// appends what it was given (argv, env, cwd, the state on stdin, namespaces) to a file.
// Compared: the order, and per hook what it got; then failing and slow hooks (what
// create/start/delete do then).

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HookRecord } from "../probe/report";
import type { Hook, OciConfig } from "../../src/spec/types";
import { classifyStderr } from "./compare";
import { baseConfig, finish } from "./corpus";
import type { Harness } from "./env";
import { writeBundle } from "./inside";
import { namespaceClass, normaliseDeep, normaliseStateJson } from "./normalise";
import { waitGone, type Runtime } from "./runtime";
import type { Tally } from "./tally";

const STAGES = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] as const;

/** The runtime's own environment in this category: small, with a marker hooks may inherit. */
const RUNTIME_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", OCIDIFF_RUNTIME_ENV: "1" };

interface Scenario {
  name: string;
  /** hooks for the config, given the record files */
  hooks(rec: (stage: string, exit?: number) => Hook[], h: Harness): OciConfig["hooks"];
}

export function scenarios(): Scenario[] {
  const all = (rec: (stage: string, exit?: number) => Hook[]) => Object.fromEntries(STAGES.map((s) => [s, rec(s)]));
  return [
    { name: "every stage, with and without env", hooks: (rec) => all(rec) },
    { name: "prestart fails", hooks: (rec) => ({ ...all(rec), prestart: rec("prestart", 1) }) },
    { name: "createRuntime fails", hooks: (rec) => ({ ...all(rec), createRuntime: rec("createRuntime", 1) }) },
    { name: "createContainer fails", hooks: (rec) => ({ ...all(rec), createContainer: rec("createContainer", 1) }) },
    { name: "startContainer fails", hooks: (rec) => ({ ...all(rec), startContainer: rec("startContainer", 1) }) },
    { name: "poststart fails", hooks: (rec) => ({ ...all(rec), poststart: rec("poststart", 1) }) },
    { name: "poststop fails", hooks: (rec) => ({ ...all(rec), poststop: rec("poststop", 1) }) },
    { name: "createRuntime times out", hooks: (rec) => ({ ...all(rec), createRuntime: [{ path: "/bin/sleep", args: ["sleep", "5"], timeout: 1 }] }) },
    { name: "prestart path missing", hooks: (rec) => ({ ...all(rec), prestart: [{ path: "/ocidiff/missing-hook" }] }) },
  ];
}

interface HookRun {
  create: number;
  createError: string[];
  start?: number;
  startError?: string[];
  delete: number;
  deleteError: string[];
  stateAfterCreate?: string;
  records: HookRecord[];
}

async function runScenario(h: Harness, rt: Runtime, sc: Scenario): Promise<HookRun> {
  const id = h.newId(rt, "hk");
  const dir = join(rt.work, "hooks", id);
  mkdirSync(dir, { recursive: true });
  const primary = join(dir, "records.jsonl");
  const c = baseConfig(h.corpusEnv);
  c.mounts!.push({ destination: "/mnt", type: "bind", source: dir, options: ["rbind", "rw"] });
  const rec = (stage: string, exit = 0): Hook[] => {
    const path = stage === "startContainer" ? "/bin/probe" : h.probe;
    const args = (n: string) => ["probe-hook", "hook-record", n, String(exit), primary, "/mnt/records.jsonl"];
    return [
      { path, args: args(`${stage}#env`), env: ["HOOKVAR=1", "PATH=/bin"] },
      { path, args: args(`${stage}#noenv`) },
    ];
  };
  c.hooks = sc.hooks(rec, h);
  finish(c);
  const bundle = writeBundle(rt, id, c, { rootfs: h.corpusEnv.rootfs });
  const pidFile = join(rt.work, "io", `${id}.pid`);
  const out = join(rt.work, "io", `${id}.out`);
  const env = RUNTIME_ENV;
  const cr = await rt.exec(["create", "--bundle", bundle, "--pid-file", pidFile, id], { env, stdoutFile: out, stderrFile: out, cwd: rt.work });
  const run: HookRun = { create: cr.status, createError: cr.status ? classifyStderr(cr.stderr, cr.status).keywords : [], delete: 0, deleteError: [], records: [] };
  const st = await rt.exec(["state", id], { env });
  run.stateAfterCreate = st.status === 0 ? JSON.parse(st.stdout).status : "missing";
  if (cr.status === 0) {
    const s = await rt.exec(["start", id], { env, cwd: rt.work });
    run.start = s.status;
    run.startError = s.status ? classifyStderr(s.stderr, s.status).keywords : [];
    if (existsSync(pidFile)) await waitGone(Number(readFileSync(pidFile, "utf8")), 5000);
  }
  const d = await rt.exec(["delete", id], { env, cwd: rt.work });
  run.delete = d.status;
  run.deleteError = d.status ? classifyStderr(d.stderr, d.status).keywords : [];
  if (d.status !== 0) await rt.exec(["delete", "--force", id], { env });
  if (existsSync(primary)) run.records = readFileSync(primary, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as HookRecord);
  return run;
}

/** A hook's record with what must differ normalised: the state's pid and time, namespace inodes. */
export function normaliseRecord(r: HookRecord, h: Harness, rt: Runtime): Record<string, unknown> {
  let state: unknown = r.stdin;
  try {
    state = normaliseStateJson(JSON.parse(r.stdin), h.norm(rt));
  } catch {
    /* not JSON: compared as text */
  }
  return normaliseDeep(
    {
      file: r.file,
      argv: r.argv,
      env: r.env,
      cwd: r.cwd,
      state,
      uid: r.uid,
      namespaces: Object.fromEntries(Object.entries(r.namespaces).map(([k, v]) => [k, namespaceClass(v, h.hostNs, k)])),
    },
    h.norm(rt),
  );
}

export async function hooksCategory(h: Harness, t: Tally, args: { quick: boolean; filter: string | null }): Promise<void> {
  let scs = scenarios();
  if (args.quick) scs = scs.slice(0, 3);
  if (args.filter) scs = scs.filter((s) => s.name.includes(args.filter!) || "hooks".includes(args.filter!));
  for (const sc of scs) {
    const [a, b] = await Promise.all([runScenario(h, h.runc, sc), runScenario(h, h.ocirt, sc)]);
    const { records: ra, ...oa } = a;
    const { records: rb, ...ob } = b;
    t.cell("hooks", sc.name, "outcome", oa, ob);
    t.cell("hooks", sc.name, "order", ra.map((r) => r.name), rb.map((r) => r.name));
    const byName = (rs: HookRecord[]) => new Map(rs.map((r) => [r.name, r]));
    const ma = byName(ra), mb = byName(rb);
    for (const name of new Set([...ma.keys(), ...mb.keys()])) {
      const x = ma.get(name), y = mb.get(name);
      const nx = x ? normaliseRecord(x, h, h.runc) : "(did not run)";
      const ny = y ? normaliseRecord(y, h, h.ocirt) : "(did not run)";
      if (typeof nx === "object" && typeof ny === "object") t.cells("hooks", `${sc.name} / ${name}`, nx, ny);
      else t.cell("hooks", `${sc.name} / ${name}`, "ran", nx, ny);
    }
  }
}
