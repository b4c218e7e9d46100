// Pure: benchmark results -> the Markdown tables printed at the end of a run
// (and pasted into bench/README.md).
import { mean, pairedRatioMedian, summarize, type Summary } from "./stats";
import { phaseRows } from "./phases";

export interface ScenarioResult {
  name: string;
  unit: "ms" | "kB";
  what: string;
  subjects: string[];
  iterations: number;
  skipped?: string;
  notes: string[];
  /** samples[subject][measurement][iteration] */
  samples: Record<string, Record<string, number[]>>;
  /** cpu[subject][measurement][iteration], ms; only the mean is meaningful (tick resolution) */
  cpu: Record<string, Record<string, number[]>>;
  /** phases[subject][measurement][phase][iteration], ms: ocirt's phase profile (OCIRT_PROFILE=1) */
  phases?: Record<string, Record<string, Record<string, number[]>>>;
  loadavg: { before: number[]; after: number[] };
}

export interface Row {
  scenario: string;
  metric: string;
  unit: string;
  a: Summary;
  b: Summary;
  ratio: number;
  paired: number;
}

/** One row per measurement: the first subject (ocirt) against the second (runc). */
export function rows(results: readonly ScenarioResult[]): Row[] {
  const out: Row[] = [];
  for (const r of results) {
    if (r.skipped || r.subjects.length < 2) continue;
    const [a, b] = r.subjects as [string, string];
    for (const metric of Object.keys(r.samples[a] ?? {})) {
      const sa = r.samples[a]![metric]!;
      const sb = r.samples[b]?.[metric] ?? [];
      const A = summarize(sa);
      const B = summarize(sb);
      out.push({ scenario: r.name, metric, unit: r.unit, a: A, b: B, ratio: A.median / B.median, paired: pairedRatioMedian(sa, sb) });
    }
  }
  return out;
}

export interface CpuRow {
  scenario: string;
  metric: string;
  /** mean CPU ms per subject, in the scenario's subject order */
  means: { subject: string; ms: number }[];
}

export function cpuRows(results: readonly ScenarioResult[]): CpuRow[] {
  const out: CpuRow[] = [];
  for (const r of results) {
    if (r.skipped) continue;
    const first = r.cpu[r.subjects[0]!] ?? {};
    for (const metric of Object.keys(first)) {
      out.push({ scenario: r.name, metric, means: r.subjects.filter((s) => r.cpu[s]?.[metric]).map((s) => ({ subject: s, ms: mean(r.cpu[s]![metric]!) })) });
    }
  }
  return out;
}

/** The extra subjects (baselines) of each scenario, against the first subject. */
export function baselineRows(results: readonly ScenarioResult[]): { scenario: string; subject: string; metric: string; s: Summary; vsFirst: number }[] {
  const out = [];
  for (const r of results) {
    if (r.skipped) continue;
    const first = r.subjects[0]!;
    for (const subject of r.subjects.slice(2)) {
      for (const [metric, samples] of Object.entries(r.samples[subject] ?? {})) {
        const s = summarize(samples);
        out.push({ scenario: r.name, subject, metric, s, vsFirst: summarize(r.samples[first]![metric]!).median - s.median });
      }
    }
  }
  return out;
}

const num = (x: number, unit: string) => (unit === "kB" ? x.toFixed(0) : x < 10 ? x.toFixed(2) : x.toFixed(1));
const cell = (s: Summary, unit: string) => `${num(s.median, unit)} (${num(s.p10, unit)}–${num(s.p90, unit)})`;

export function markdown(results: readonly ScenarioResult[], names: [string, string] = ["ocirt", "runc"]): string {
  const [A, B] = names;
  const all = rows(results);
  const lines: string[] = [];
  const table = (unit: string, title: string) => {
    const rs = all.filter((r) => r.unit === unit);
    if (!rs.length) return;
    lines.push(
      title,
      "",
      `| scenario | measurement | ${A} median (p10–p90) | ${B} median (p10–p90) | ${A}/${B} (medians) | paired ratio |`,
      "|---|---|---|---|---|---|",
      ...rs.map((r) => `| ${r.scenario} | ${r.metric} | ${cell(r.a, r.unit)} | ${cell(r.b, r.unit)} | **${r.ratio.toFixed(2)}** | ${r.paired.toFixed(2)} |`),
      "",
    );
  };
  table("ms", "Wall time, ms:");
  const cpu = cpuRows(results);
  if (cpu.length) {
    lines.push("CPU time (user + system of the command and what it reaped), mean ms:", "", `| scenario | command | ${A} | ${B} | ${A}/${B} | others |`, "|---|---|---|---|---|---|");
    for (const c of cpu) {
      const a = c.means.find((m) => m.subject === A)?.ms ?? NaN;
      const b = c.means.find((m) => m.subject === B)?.ms ?? NaN;
      const others = c.means.filter((m) => m.subject !== A && m.subject !== B).map((m) => `${m.subject}: ${m.ms.toFixed(1)}`).join("; ");
      lines.push(`| ${c.scenario} | ${c.metric} | ${a.toFixed(1)} | ${b.toFixed(1)} | **${(a / b).toFixed(2)}** | ${others} |`);
    }
    lines.push("");
  }
  table("kB", "Memory, kB (the created container's init; the containerd scenarios: the shim):");
  const base = baselineRows(results);
  if (base.length) {
    lines.push("Baselines, wall time (same interleaving):", "", `| scenario | baseline | median (p10–p90) ms | ${A} minus baseline (medians) |`, "|---|---|---|---|");
    for (const b of base) lines.push(`| ${b.scenario} | ${b.subject} | ${cell(b.s, "ms")} | ${b.vsFirst.toFixed(1)} ms |`);
    lines.push("");
  }
  const ph = results.flatMap((r) => (r.skipped ? [] : phaseRows(r.name, r.phases?.[A] ?? {})));
  if (ph.length) {
    lines.push(`${A}'s phases (OCIRT_PROFILE=1, from up to 10 runs per scenario of their own, after the timed ones), median ms (p10–p90):`, "", "| scenario | command | phase | median (p10–p90) |", "|---|---|---|---|");
    for (const p of ph) lines.push(`| ${p.scenario} | ${p.command} | ${p.phase === "total" ? "**total**" : p.phase} | ${num(p.median, "ms")} (${num(p.p10, "ms")}–${num(p.p90, "ms")}) |`);
    lines.push("");
  }
  const skipped = results.filter((r) => r.skipped);
  if (skipped.length) lines.push(...skipped.map((r) => `- ${r.name}: skipped (${r.skipped})`), "");
  return lines.join("\n");
}
