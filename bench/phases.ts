// Pure: the phase profile ocirt prints on stderr with OCIRT_PROFILE=1 (src/profile.ts)
// -> {phase: ms}, and the samples of many runs -> one table of medians per command.
import { summarize } from "./stats";

/**
 * The phases of the last "ocirt profile:" block in a command's stderr (a `run` may
 * print the container's own output around it). Repeated names (a phase passed twice)
 * add up. Empty when there is no profile.
 */
export function parseProfile(stderr: string): Record<string, number> {
  const start = stderr.lastIndexOf("ocirt profile: ");
  if (start < 0) return {};
  const out: Record<string, number> = {};
  for (const line of stderr.slice(start).split("\n").slice(1)) {
    const m = /^ {2}(.+?) +(-?\d+(?:\.\d+)?) ms(?: +cpu +-?\d+(?:\.\d+)? ms)?$/.exec(line);
    if (!m) break;
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

export interface PhaseRow {
  scenario: string;
  command: string;
  phase: string;
  median: number;
  p10: number;
  p90: number;
}

/**
 * samples[command][phase] = ms per iteration -> rows in the order the phases came,
 * dropping phases whose median is below `floor` ms (folded into "other phases") so
 * that the table stays short; "total" stays last.
 */
export function phaseRows(scenario: string, samples: Record<string, Record<string, number[]>>, floor = 0.3): PhaseRow[] {
  const out: PhaseRow[] = [];
  for (const [command, phases] of Object.entries(samples)) {
    const n = Math.max(0, ...Object.values(phases).map((s) => s.length));
    const small = new Array<number>(n).fill(0);
    let anySmall = false;
    const rowsOf: PhaseRow[] = [];
    for (const [phase, s] of Object.entries(phases)) {
      if (phase === "total") continue;
      const sum = summarize(s);
      if (sum.median < floor) {
        s.forEach((v, i) => (small[i]! += v));
        anySmall = true;
        continue;
      }
      rowsOf.push({ scenario, command, phase, median: sum.median, p10: sum.p10, p90: sum.p90 });
    }
    if (anySmall) {
      const sum = summarize(small);
      rowsOf.push({ scenario, command, phase: `other phases (each < ${floor} ms)`, median: sum.median, p10: sum.p10, p90: sum.p90 });
    }
    if (phases["total"]) {
      const sum = summarize(phases["total"]);
      rowsOf.push({ scenario, command, phase: "total", median: sum.median, p10: sum.p10, p90: sum.p90 });
    }
    out.push(...rowsOf);
  }
  return out;
}
