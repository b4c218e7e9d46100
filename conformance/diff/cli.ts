// Outside: every CLI command in every container state, with the flags engines pass
// (containerd's go-runc: --root, --log FILE --log-format json, create --bundle B
// --pid-file F, delete --force, kill --all, exec --process P --detach --pid-file F,
// ps --format json, update --resources -, events --stats). Per cell: exit code, stdout
// (JSON structurally), what stderr says (error or not, key words), the log file's lines,
// pid files, and the container's state afterwards.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseProbeReport } from "../probe/report";
import type { OciConfig } from "../../src/spec/types";
import { classifyStderr } from "./compare";
import { baseConfig, finish } from "./corpus";
import type { Harness } from "./env";
import { writeBundle } from "./inside";
import { normaliseDeep, normaliseReport, normaliseStateJson, normaliseString, shapeOf } from "./normalise";
import { pool, sleep, waitFor, waitGone, type RunResult, type Runtime } from "./runtime";
import type { Tally } from "./tally";

export type State = "missing" | "creating" | "created" | "running" | "paused" | "stopped";
export const STATES: readonly State[] = ["missing", "creating", "created", "running", "paused", "stopped"];

interface Target {
  id: string;
  bundle: string;
  pidFile: string;
  /** Called once the command ran (releases a "creating" container and waits for its create). */
  release?: () => Promise<void>;
}

interface Cmd {
  name: string;
  states: readonly State[];
  args(t: Target, rt: Runtime): string[];
  stdin?: string;
  /** How stdout is compared. */
  out: "state" | "list" | "ps" | "stats" | "text" | "report" | "none" | "table";
  /** A pid file the command writes (compared for format). */
  pidFile?(t: Target, rt: Runtime): string;
}

const ALL = STATES;
const LIVE: readonly State[] = ["missing", "created", "running", "paused", "stopped"];

function processJson(args: string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ terminal: false, user: { uid: 0, gid: 0 }, args, env: ["PATH=/bin", "PROBE_FILES=/dev/null"], cwd: "/", ...extra });
}

export function commands(): Cmd[] {
  const execPid = (t: Target, rt: Runtime) => join(rt.work, "io", `${t.id}.exec.pid`);
  return [
    { name: "state", states: ALL, args: (t) => ["state", t.id], out: "state" },
    { name: "start", states: ALL, args: (t) => ["start", t.id], out: "none" },
    { name: "kill", states: ALL, args: (t) => ["kill", t.id], out: "none" },
    { name: "kill 0", states: LIVE, args: (t) => ["kill", t.id, "0"], out: "none" },
    { name: "kill KILL", states: LIVE, args: (t) => ["kill", t.id, "KILL"], out: "none" },
    { name: "kill 9", states: ["running"], args: (t) => ["kill", t.id, "9"], out: "none" },
    { name: "kill SIGUSR1", states: ["running"], args: (t) => ["kill", t.id, "SIGUSR1"], out: "none" },
    { name: "kill --all KILL", states: LIVE, args: (t) => ["kill", "--all", t.id, "KILL"], out: "none" },
    { name: "kill SIGOCIDIFF", states: ["running"], args: (t) => ["kill", t.id, "SIGOCIDIFF"], out: "none" },
    { name: "kill 99", states: ["running"], args: (t) => ["kill", t.id, "99"], out: "none" },
    { name: "delete", states: ALL, args: (t) => ["delete", t.id], out: "none" },
    { name: "delete --force", states: ALL, args: (t) => ["delete", "--force", t.id], out: "none" },
    { name: "pause", states: LIVE, args: (t) => ["pause", t.id], out: "none" },
    { name: "resume", states: LIVE, args: (t) => ["resume", t.id], out: "none" },
    {
      name: "exec --process P --detach --pid-file F (probe report)",
      states: LIVE,
      args: (t, rt) => {
        const p = join(rt.work, "io", `${t.id}.process.json`);
        writeFileSync(p, processJson(["/bin/probe", "report"]));
        return ["exec", "--process", p, "--detach", "--pid-file", execPid(t, rt), t.id];
      },
      out: "report",
      pidFile: execPid,
    },
    { name: "exec (foreground) probe exit 3", states: ["running"], args: (t) => ["exec", t.id, "/bin/probe", "exit", "3"], out: "none" },
    { name: "exec missing binary", states: ["running"], args: (t) => ["exec", t.id, "/bin/ocidiff-missing"], out: "none" },
    { name: "exec --detach missing binary", states: ["running"], args: (t) => ["exec", "--detach", t.id, "/bin/ocidiff-missing"], out: "none" },
    { name: "exec --cwd /tmp -e K=V --user 1000:1000 (probe report)", states: ["running"], args: (t) => ["exec", "--cwd", "/tmp", "-e", "K=V", "--user", "1000:1000", t.id, "/bin/probe", "report"], out: "report" },
    { name: "exec --cwd missing", states: ["running"], args: (t) => ["exec", "--cwd", "/ocidiff-missing", t.id, "/bin/probe", "exit", "0"], out: "none" },
    { name: "exec --process bad-json", states: ["running"], args: (t, rt) => { const p = join(rt.work, "io", `${t.id}.bad.json`); writeFileSync(p, "{not json"); return ["exec", "--process", p, t.id]; }, out: "none" },
    { name: "exec no command", states: ["running"], args: (t) => ["exec", t.id], out: "none" },
    { name: "ps --format json", states: LIVE, args: (t) => ["ps", "--format", "json", t.id], out: "ps" },
    { name: "ps", states: ["running"], args: (t) => ["ps", t.id], out: "table" },
    { name: "update --resources - (pids)", states: LIVE, args: (t) => ["update", "--resources", "-", t.id], stdin: JSON.stringify({ pids: { limit: 200 } }), out: "none" },
    { name: "update --resources - (memory+cpu)", states: ["running"], args: (t) => ["update", "--resources", "-", t.id], stdin: JSON.stringify({ memory: { limit: 128 << 20 }, cpu: { shares: 512, quota: 20000, period: 100000 } }), out: "none" },
    { name: "update --pids-limit 300", states: ["running"], args: (t) => ["update", "--pids-limit", "300", t.id], out: "none" },
    { name: "update --resources - (bad json)", states: ["running"], args: (t) => ["update", "--resources", "-", t.id], stdin: "{nope", out: "none" },
    { name: "events --stats", states: LIVE, args: (t) => ["events", "--stats", t.id], out: "stats" },
    { name: "create (id in use)", states: ["created", "running", "stopped"], args: (t, rt) => ["create", "--bundle", t.bundle, "--pid-file", join(rt.work, "io", `${t.id}.pid2`), t.id], out: "none" },
    { name: "list --format json", states: ["missing", "running", "stopped"], args: () => ["list", "--format", "json"], out: "list" },
    { name: "list", states: ["running"], args: () => ["list"], out: "table" },
    { name: "list -q", states: ["running"], args: () => ["list", "-q"], out: "text" },
  ];
}

/** What a log file (--log-format json) says: keys, levels, time format, key words. */
export function logSummary(text: string): Record<string, unknown> | null {
  const lines = text.split("\n").filter((l) => l.trim());
  if (!lines.length) return null;
  const keys = new Set<string>(), levels = new Set<string>(), times = new Set<string>(), words = new Set<string>();
  let notJson = 0;
  for (const l of lines) {
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      Object.keys(o).forEach((k) => keys.add(k));
      if (typeof o.level === "string") levels.add(o.level);
      if (typeof o.time === "string") times.add(o.time.replace(/\d/g, "d"));
      for (const w of classifyStderr(String(o.msg ?? ""), 1).keywords) words.add(w);
    } catch {
      notJson++;
    }
  }
  return { keys: [...keys].sort(), levels: [...levels].sort(), timeFormat: [...times].sort(), keywords: [...words].sort(), notJson };
}

function stateConfig(h: Harness, args: string[]): OciConfig {
  const c = baseConfig(h.corpusEnv);
  c.process!.args = args;
  return finish(c);
}

/** Brings a new container of rt into state s. */
async function setup(h: Harness, rt: Runtime, s: State): Promise<Target> {
  const id = h.newId(rt, "cli");
  const pidFile = join(rt.work, "io", `${id}.pid`);
  const out = join(rt.work, "io", `${id}.stdout`);
  const args = s === "stopped" ? ["/bin/probe", "exit", "0"] : ["/bin/probe", "sleep", "inf"];
  const c = stateConfig(h, args);
  let gate = "";
  if (s === "creating") {
    gate = join(rt.work, "io", `${id}.gate`);
    const entered = `${gate}.entered`;
    c.hooks = { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${entered}; i=0; while [ ! -e ${gate} ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done`] }] };
  }
  const bundle = writeBundle(rt, id, c, { rootfs: h.corpusEnv.rootfs });
  const t: Target = { id, bundle, pidFile };
  if (s === "missing") return t;
  if (s === "creating") {
    const done = rt.exec(["create", "--bundle", bundle, "--pid-file", pidFile, id], { stdoutFile: out, stderrFile: out });
    await waitFor(() => existsSync(`${gate}.entered`), 10_000);
    t.release = async () => {
      writeFileSync(gate, "");
      await done;
    };
    void done.then(() => undefined);
    return t;
  }
  const cr = await rt.exec(["create", "--bundle", bundle, "--pid-file", pidFile, id], { stdoutFile: out, stderrFile: out });
  if (cr.status !== 0) throw new Error(`${rt.name} create for state ${s} failed: ${cr.stderr.trim()}`);
  if (s === "created") return t;
  await rt.exec(["start", id]);
  if (s === "paused") await rt.exec(["pause", id]);
  if (s === "stopped") await waitGone(Number(readFileSync(pidFile, "utf8")), 10_000);
  return t;
}

async function stateAfter(rt: Runtime, id: string): Promise<string> {
  const r = await rt.exec(["state", id]);
  if (r.status !== 0) return "missing";
  try {
    return String(JSON.parse(r.stdout).status);
  } catch {
    return "unparsable";
  }
}

export function pidFileFormat(path: string): unknown {
  if (!existsSync(path)) return "(none)";
  const s = readFileSync(path, "utf8");
  return s.replace(/\d+/g, "N");
}

function normaliseOut(kind: Cmd["out"], r: RunResult, h: Harness, rt: Runtime): unknown {
  const ctx = h.norm(rt);
  const json = () => {
    try {
      return JSON.parse(r.stdout);
    } catch {
      return r.stdout === "" ? "(empty)" : `(not JSON) ${normaliseString(r.stdout.slice(0, 100), ctx)}`;
    }
  };
  switch (kind) {
    case "none":
      return r.stdout === "" ? "" : normaliseString(r.stdout, ctx).slice(0, 300);
    case "state":
      return normaliseStateJson(json(), ctx);
    case "list": {
      const v = json();
      return Array.isArray(v) ? normaliseStateJson(v.filter((e: { id?: string }) => ctx.ids.includes(String(e.id))), ctx) : v;
    }
    case "ps": {
      const v = json();
      return Array.isArray(v) ? { count: v.length, numbers: v.every((x) => typeof x === "number") } : v;
    }
    case "stats": {
      const v = json();
      return typeof v === "object" && v ? normaliseDeep(shapeOf(v), ctx) : v;
    }
    case "table": {
      const lines = r.stdout.split("\n").filter(Boolean);
      return { header: lines[0]?.split(/\s{2,}|\t/).map((s) => s.trim()) ?? null, rows: lines.length - 1 };
    }
    case "text":
      return normaliseString(r.stdout, ctx).split("\n").filter((l) => l.includes("<ID>") || !l.startsWith("ocidiff-"));
    case "report":
      try {
        return normaliseReport(parseProbeReport(r.stdout), ctx, h.hostNs);
      } catch {
        return r.stdout === "" ? "(no report)" : normaliseString(r.stdout.slice(0, 200), ctx);
      }
  }
}

async function runCell(h: Harness, rt: Runtime, cmd: Cmd, s: State): Promise<Record<string, unknown>> {
  const t = await setup(h, rt, s);
  const log = join(rt.work, "io", `${t.id}.cli.log`);
  const out = join(rt.work, "io", `${t.id}.cli.out`);
  const err = join(rt.work, "io", `${t.id}.cli.err`);
  rmSync(out, { force: true });
  // a command may wait for a create in progress: let the creating container go on after 3 s
  const gate = t.release ? setTimeout(() => void t.release!(), 3000) : undefined;
  const r = await rt.exec(["--log", log, "--log-format", "json", ...cmd.args(t, rt)], { stdin: cmd.stdin, stdoutFile: out, stderrFile: err, timeoutMs: 20_000 });
  if (gate) clearTimeout(gate);
  // a signal takes a moment to act: the state afterwards is read once it settled (a
  // process that a signal ends may take longer than 300 ms on a busy host)
  if (cmd.name.startsWith("kill") && r.status === 0) {
    await sleep(300);
    const pid = existsSync(t.pidFile) ? Number(readFileSync(t.pidFile, "utf8")) : 0;
    if (pid > 0 && /^kill( KILL| 9| --all KILL)?$/.test(cmd.name)) await waitGone(pid, 2000);
  }
  if (cmd.out === "report" && cmd.pidFile) {
    // a detached exec writes into our stdout file after the runtime returned
    const pf = cmd.pidFile(t, rt);
    if (existsSync(pf)) await waitGone(Number(readFileSync(pf, "utf8")), 5000);
    r.stdout = readFileSync(out, "utf8");
  }
  if (t.release) await t.release();
  const cell: Record<string, unknown> = {
    status: r.status,
    stdout: normaliseOut(cmd.out, r, h, rt),
    stderr: (() => {
      const c = classifyStderr(r.stderr, r.status);
      return { empty: c.empty, keywords: c.keywords };
    })(),
    log: logSummary(existsSync(log) ? readFileSync(log, "utf8") : ""),
    stateAfter: s === "missing" && !cmd.name.startsWith("create") ? undefined : await stateAfter(rt, t.id),
  };
  if (cmd.pidFile) cell.pidFile = pidFileFormat(cmd.pidFile(t, rt));
  await rt.exec(["delete", "--force", t.id]);
  return cell;
}

/** Cells that are not a command in a state: spec, features, create's flags and failures. */
async function extraCells(h: Harness, rt: Runtime): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  const ctx = h.norm(rt);
  const simple = (r: RunResult) => ({ status: r.status, stderr: classifyStderr(r.stderr, r.status).keywords, stdoutEmpty: r.stdout === "" });

  // spec: a fresh dir, an existing config.json, --rootless
  const sdir = join(rt.work, "spec");
  mkdirSync(sdir, { recursive: true });
  rmSync(join(sdir, "config.json"), { force: true });
  const sp = await rt.exec(["spec"], { cwd: sdir, noRoot: true });
  out["spec (fresh dir)"] = { ...simple(sp), config: existsSync(join(sdir, "config.json")) ? JSON.parse(readFileSync(join(sdir, "config.json"), "utf8")) : null };
  out["spec (config.json exists)"] = simple(await rt.exec(["spec"], { cwd: sdir, noRoot: true }));
  const rdir = join(rt.work, "spec-rootless");
  mkdirSync(rdir, { recursive: true });
  rmSync(join(rdir, "config.json"), { force: true });
  const rl = await rt.exec(["spec", "--rootless"], { cwd: rdir, noRoot: true });
  out["spec --rootless"] = { ...simple(rl), config: existsSync(join(rdir, "config.json")) ? JSON.parse(readFileSync(join(rdir, "config.json"), "utf8")) : null };
  out["spec --bundle missing-dir"] = simple(await rt.exec(["spec", "--bundle", join(rt.work, "no-such-dir")], { noRoot: true }));
  const f = await rt.exec(["features"], { noRoot: true });
  let feat: unknown = f.stdout;
  try {
    feat = JSON.parse(f.stdout);
  } catch {
    /* compared as text */
  }
  out["features"] = { ...simple(f), features: feat };

  // create: pid file format, unwritable pid file, missing bundle, bad ids, console socket without terminal
  const c = stateConfig(h, ["/bin/probe", "sleep", "inf"]);
  for (const [name, extra, idOverride] of [
    ["create --pid-file F", (id: string) => ["--pid-file", join(rt.work, "io", `${id}.pf`)], null],
    ["create --pid-file (relative path)", () => ["--pid-file", "relative.pid"], null],
    ["create --pid-file in a missing dir", () => ["--pid-file", join(rt.work, "no-such-dir", "pid")], null],
    ["create --bundle missing", () => [], null],
    ["create --console-socket S without terminal", () => ["--console-socket", join(rt.work, "no-such.sock")], null],
    ["create id with slash", () => [], "a/b"],
    ["create id ..", () => [], ".."],
    ["create empty id", () => [], ""],
  ] as const) {
    const id = idOverride ?? h.newId(rt, "cx");
    const bundle = name === "create --bundle missing" ? join(rt.work, "no-bundle") : writeBundle(rt, h.newId(rt, "cxb"), c, { rootfs: h.corpusEnv.rootfs });
    const stdoutFile = join(rt.work, "io", `cx-${Math.random().toString(36).slice(2)}.out`);
    const r = await rt.exec(["create", "--bundle", bundle, ...extra(id), id], { stdoutFile, stderrFile: stdoutFile, cwd: rt.work });
    const cell: Record<string, unknown> = { ...simple(r), stateAfter: idOverride === null ? await stateAfter(rt, id) : undefined };
    if (name === "create --pid-file F") {
      const pf = join(rt.work, "io", `${id}.pf`);
      cell.pidFile = pidFileFormat(pf);
      const st = await rt.exec(["state", id]);
      try {
        cell.pidFileMatchesState = Number(readFileSync(pf, "utf8")) === JSON.parse(st.stdout).pid;
      } catch {
        cell.pidFileMatchesState = false;
      }
    }
    if (name === "create --pid-file (relative path)") cell.pidFile = pidFileFormat(join(rt.work, "relative.pid"));
    out[name] = normaliseDeep(cell, ctx);
    if (idOverride === null) await rt.exec(["delete", "--force", id]);
  }
  // global flags: --log text format, unknown command, no command
  const tl = join(rt.work, "io", "text.log");
  const txt = await rt.exec(["--log", tl, "--log-format", "text", "state", "ocidiff-missing"]);
  out["--log-format text (state of a missing id)"] = { ...simple(txt), log: existsSync(tl) ? normaliseString(readFileSync(tl, "utf8"), ctx).replace(/time="[^"]*"/g, 'time="<TIME>"').trim() : null };
  out["unknown command"] = simple(await rt.exec(["ocidiff-nosuch"]));
  out["--root relative"] = simple(await rt.exec(["--root", "relative-root", "list"], { noRoot: true, cwd: rt.work }));
  rmSync(join(rt.work, "relative-root"), { recursive: true, force: true });
  return out;
}

export async function cliCategory(h: Harness, t: Tally, args: { quick: boolean; filter: string | null; jobs?: number }): Promise<void> {
  let cmds = commands();
  if (args.filter) cmds = cmds.filter((c) => c.name.includes(args.filter!) || "cli".includes(args.filter!));
  const cells: { cmd: Cmd; s: State }[] = [];
  for (const cmd of cmds) for (const s of cmd.states) if (!args.quick || s !== "creating" || cmd.name === "state") cells.push({ cmd, s });
  // runc and ocirt side by side, jobs cells at a time; list cells alone (they see every container)
  const alone = cells.filter((c) => c.cmd.name.startsWith("list"));
  const cell = async ({ cmd, s }: { cmd: Cmd; s: State }) => {
    const [a, b] = await Promise.all([runCell(h, h.runc, cmd, s).catch((e: Error) => ({ error: e.message })), runCell(h, h.ocirt, cmd, s).catch((e: Error) => ({ error: e.message }))]);
    t.cells("cli", `${cmd.name} [${s}]`, a, b);
  };
  await pool(cells.filter((c) => !alone.includes(c)), args.jobs ?? 2, cell);
  for (const c of alone) await cell(c);
  const [ea, eb] = await Promise.all([extraCells(h, h.runc), extraCells(h, h.ocirt)]);
  for (const k of Object.keys(ea)) t.cells("cli", k, ea[k]!, eb[k] ?? {});
}
