// The differential harness: the same bundles, commands and hooks under runc and under
// ocirt, everything observable compared. As root:
//
//   npx tsx conformance/diff/main.ts [--quick] [--filter X] [--json out.json]
//        [--seed N] [--random N] [--jobs N] [--only inside,cli,hooks,console] [--runc PATH]
//        [--allow FILE] [--ci]
//
// Prints per category the cells compared / equal / different, then every difference
// (grouped when the same one shows for many configs). Exit 0 when the run completed and
// left nothing behind (differences are findings, not failures; --strict makes them
// exit 1), 2 on a harness error or leftovers. --allow FILE (docs/DIFFERENCES.json)
// sorts the differences into allowed (by which entry) and unexpected; --ci is
// --quick --allow docs/DIFFERENCES.json, prints only the unexpected ones and exits 1
// when there are any.

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../probe/build";
import type { OciConfig } from "../../src/spec/types";
import { cliCategory } from "./cli";
import { consoleCategory } from "./console";
import { baseConfig, engineEntries, finish, pairEntries, singleEntries, type CorpusEntry } from "./corpus";
import { collectCgroupLeftovers, leftovers, makeHarness, removeParentCgroups } from "./env";
import { hooksCategory } from "./hooks";
import { compareEntry } from "./inside";
import { randomConfigs } from "./random";
import { pool } from "./runtime";
import { Tally, groupDifferences, renderMatrix, short, type Difference } from "./tally";
import { classify, loadAllowList, type Classified } from "./allow";

export interface Args {
  quick: boolean;
  filter: string | null;
  json: string | null;
  seed: number;
  random: number;
  jobs: number;
  only: string[] | null;
  strict: boolean;
  runc: string;
  keep: boolean;
  /** docs/DIFFERENCES.json or another allow list */
  allow: string | null;
  ci: boolean;
}

export function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, filter: null, json: null, seed: 20240601, random: -1, jobs: 3, only: null, strict: false, runc: "/usr/bin/runc", keep: false, allow: null, ci: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === "--quick") a.quick = true;
    else if (k === "--strict") a.strict = true;
    else if (k === "--keep") a.keep = true;
    else if (k === "--filter") a.filter = val();
    else if (k === "--json") a.json = val();
    else if (k === "--seed") a.seed = Number(val());
    else if (k === "--random") a.random = Number(val());
    else if (k === "--jobs") a.jobs = Number(val());
    else if (k === "--only") a.only = val().split(",");
    else if (k === "--runc") a.runc = val();
    else if (k === "--allow") a.allow = val();
    else if (k === "--ci") a.ci = true;
    else if (k === "--help" || k === "-h") {
      process.stdout.write("usage: main.ts [--quick] [--filter X] [--json out.json] [--seed N] [--random N] [--jobs N] [--only inside,cli,hooks,console] [--strict] [--runc PATH] [--allow FILE] [--ci]\n");
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  if (a.ci) {
    a.quick = true;
    a.allow ??= join(repoRoot(), "docs", "DIFFERENCES.json");
  }
  if (a.random < 0) a.random = a.quick ? 8 : 40;
  return a;
}

/** The allow list's verdict, printed under the matrix: per category and per entry. */
export function renderVerdict(diffs: readonly Difference[], c: Classified, opts: { listUnexpected: boolean }): string {
  const lines: string[] = [];
  const per = new Map<string, { allowed: number; unexpected: number }>();
  for (const d of diffs) per.set(d.category, per.get(d.category) ?? { allowed: 0, unexpected: 0 });
  for (const d of c.unexpected) per.get(d.category)!.unexpected++;
  for (const [cat, n] of per) n.allowed = diffs.filter((d) => d.category === cat).length - n.unexpected;
  const w = Math.max(8, ...[...per.keys()].map((k) => k.length));
  lines.push(`${"category".padEnd(w)}  allowed  unexpected`);
  for (const [cat, n] of [...per].sort(([a], [b]) => a.localeCompare(b))) lines.push(`${cat.padEnd(w)}  ${String(n.allowed).padStart(7)}  ${String(n.unexpected).padStart(10)}`);
  lines.push(`allowed: ${diffs.length - c.unexpected.length} differences by ${c.allowed.size} entries of the allow list; unexpected: ${c.unexpected.length}`);
  if (opts.listUnexpected && c.unexpected.length) {
    const groups = groupDifferences(c.unexpected);
    lines.push("", `unexpected differences (${groups.length} distinct): fix them, or add an entry with its reason to docs/DIFFERENCES.json`);
    for (const g of groups) {
      const subj = g.subjects.slice(0, 3).join("; ") + (g.subjects.length > 3 ? `; … (${g.subjects.length} in all)` : "");
      lines.push(`- [${g.category}] ${g.field}: runc ${short(g.runc)} | ocirt ${short(g.ocirt)}  — ${subj}`);
    }
  }
  return lines.join("\n");
}

function loadFixtures(): Record<string, OciConfig> {
  const dir = join(repoRoot(), "test", "fixtures", "configs", "good");
  const names = ["docker-cgroupfs-privileged", "docker-systemd", "containerd-cri-container", "containerd-cri-sandbox", "podman-rootless-keep-id", "hooks-all-kinds", "resources-everything", "sysctl-namespaced"];
  const out: Record<string, OciConfig> = {};
  for (const n of names) {
    const p = join(dir, `${n}.json`);
    if (existsSync(p)) out[n] = JSON.parse(readFileSync(p, "utf8"));
  }
  return out;
}

/** The inside corpus of a run: --quick takes every fourth single, a few pairs and engines. */
export function corpusFor(args: Pick<Args, "quick" | "filter" | "seed" | "random">, entries: { single: CorpusEntry[]; pair: CorpusEntry[]; engine: CorpusEntry[]; random: CorpusEntry[] }): CorpusEntry[] {
  let all = args.quick
    ? [...entries.single.filter((_, i) => i % 4 === 0), ...entries.pair.filter((_, i) => i % 25 === 0), ...entries.engine, ...entries.random]
    : [...entries.single, ...entries.pair, ...entries.engine, ...entries.random];
  if (args.filter) all = all.filter((e) => e.name.includes(args.filter!) || e.fields.some((f) => f.includes(args.filter!)));
  return all;
}

let stopping = false;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    process.stderr.write("ocidiff: needs root (real containers under runc and ocirt)\n");
    return 2;
  }
  if (!existsSync(args.runc)) {
    process.stderr.write(`ocidiff: no runc at ${args.runc} (apt-get install runc)\n`);
    return 2;
  }
  // a bad allow list is a harness error before anything runs
  const allowList = args.allow ? loadAllowList(args.allow) : null;
  const t0 = Date.now();
  const h = makeHarness({ runc: args.runc });
  const t = new Tally();
  const want = (c: string) => !stopping && (!args.only || args.only.includes(c));
  // ^C / SIGTERM: no new containers, clean up what is there, report what was compared
  const stop = () => {
    stopping = true;
    process.stderr.write("ocidiff: stopping, cleaning up\n");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const timing: Record<string, number> = {};
  try {
    if (want("inside")) {
      const s = Date.now();
      const env = h.corpusEnv;
      const schema = JSON.parse(readFileSync(join(repoRoot(), "src", "spec", "schema.json"), "utf8"));
      const random = randomConfigs(schema, () => baseConfig(env), args.random, args.seed).map(
        (r): CorpusEntry => ({ name: r.name, kind: "random", fields: r.fields, config: finish(r.config) }),
      );
      const entries = corpusFor(args, { single: singleEntries(env), pair: pairEntries(env), engine: engineEntries(loadFixtures(), env), random });
      process.stderr.write(`inside: ${entries.length} configs\n`);
      let done = 0;
      await pool(entries, args.jobs, async (e) => {
        if (stopping) return;
        try {
          await compareEntry(h, t, `inside:${e.kind}`, e);
        } catch (err) {
          t.error(`inside ${e.name}: ${(err as Error).message}`);
        }
        if (++done % 50 === 0) process.stderr.write(`  ${done}/${entries.length} (${((Date.now() - s) / 1000).toFixed(0)}s)\n`);
      });
      timing.inside = Date.now() - s;
    }
    for (const [name, fn] of [["cli", cliCategory], ["hooks", hooksCategory], ["console", consoleCategory]] as const) {
      if (!want(name)) continue;
      const s = Date.now();
      try {
        await fn(h, t, args);
      } catch (err) {
        t.error(`${name}: ${(err as Error).stack ?? err}`);
      }
      timing[name] = Date.now() - s;
    }
  } finally {
    // belt and braces: anything a failed step left
    for (const rt of [h.runc, h.ocirt]) {
      for (const id of existsSync(rt.root) ? readdirSync(rt.root).filter((n) => !n.startsWith(".")) : []) await rt.exec(["delete", "--force", id]);
    }
    // a runtime that leaves cgroups after delete: a difference (then removed), not a harness error
    const cg = collectCgroupLeftovers(h);
    for (const l of cg) t.cell("cleanup", l.subject, "cgroups left after delete", l.runtime === "runc" ? l.dirs : [], l.runtime === "ocirt" ? l.dirs : []);
    t.cell("cleanup", "all containers", "cgroup leftovers (containers)", cg.filter((l) => l.runtime === "runc").length, cg.filter((l) => l.runtime === "ocirt").length);
    removeParentCgroups();
  }
  const left = leftovers(h);
  for (const l of left) t.error(`left behind: ${l}`);
  if (!args.keep && left.length === 0) rmSync(h.dir, { recursive: true, force: true });
  const secs = (Date.now() - t0) / 1000;
  const verdict = allowList ? classify(t.differences, allowList) : null;
  // --ci: the matrix and what is unexpected; the allowed ones are in the JSON
  process.stdout.write(renderMatrix(t, { listDifferences: !args.ci }) + "\n");
  if (verdict) process.stdout.write(`\n${renderVerdict(t.differences, verdict, { listUnexpected: true })}\n`);
  process.stdout.write(`\ntime: ${secs.toFixed(1)}s (${Object.entries(timing).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(", ")})\n`);
  process.stdout.write(left.length ? `cleanup: ${left.length} things left (see harness errors)\n` : "cleanup: nothing left behind\n");
  const allowJSON = verdict && { allowed: Object.fromEntries(verdict.allowed), unexpected: verdict.unexpected, unused: verdict.unused.map((e) => e.id) };
  if (args.json) writeFileSync(args.json, JSON.stringify({ args, seconds: secs, timing, ...t.toJSON(), ...(allowJSON ? { allow: allowJSON } : {}) }, null, 1));
  if (t.errors.length) return 2;
  if (verdict && (args.ci || args.strict)) return verdict.unexpected.length ? 1 : 0;
  return args.strict && t.differences.length ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`ocidiff: ${(err as Error).stack ?? err}\n`);
      process.exit(2);
    },
  );
}
