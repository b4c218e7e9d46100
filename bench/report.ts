// Pure: benchmark results -> the text table printed at the end and the Markdown
// table for bench/README.md.
import { pairedRatioMedian, summarize, type Summary } from "./stats";

export interface ScenarioResult {
  name: string;
  unit: "ms" | "kB";
  what: string;
  subjects: string[];
  iterations: number;
  skipped?: string;
  notes: string[];
  /** samples[subject][metric][iteration] */
  samples: Record<string, Record<string, number[]>>;
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

/** One row per metric: the first subject (ocirt) against the second (runc). */
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
  const lines = [
    `| scenario | measurement | unit | ${names[0]} median (p10–p90) | ${names[1]} median (p10–p90) | ${names[0]}/${names[1]} (medians) | paired ratio |`,
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of rows(results)) {
    lines.push(`| ${r.scenario} | ${r.metric} | ${r.unit} | ${cell(r.a, r.unit)} | ${cell(r.b, r.unit)} | **${r.ratio.toFixed(2)}** | ${r.paired.toFixed(2)} |`);
  }
  const base = baselineRows(results);
  if (base.length) {
    lines.push("", `| scenario | baseline | median (p10–p90) ms | ${names[0]} minus baseline (medians) |`, "|---|---|---|---|");
    for (const b of base) lines.push(`| ${b.scenario} | ${b.subject} | ${cell(b.s, "ms")} | ${b.vsFirst.toFixed(1)} ms |`);
  }
  const skipped = results.filter((r) => r.skipped);
  if (skipped.length) lines.push("", ...skipped.map((r) => `- ${r.name}: skipped (${r.skipped})`));
  return lines.join("\n");
}
