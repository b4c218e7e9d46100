// criu's own log (dump.log, restore.log in the work directory): what to tell the
// user when criu fails. runc quotes every line with "Error" and the five before it
// as warnings; ocirt does the same and names the one line that most likely says why.
import { readFileSync } from "node:fs";

/** Lines that say "Error" in every healthy run too (criu probing for tools the host lacks). */
const NOISE = [
  /util\.c:\d+\): exited, status=\d+/, // the exit of a probe it ran (iptables -L)
  /execvp\("(ip6?tables|iptables-legacy)-(save|restore)"/, // ... which is not installed
  /tun: (Unable to create tun|Can't check tun support)/, // no /dev/net/tun
  /page-xfer: No parent image found/, // a task that is new since the pre-dump
  /(Dumping|Restoring) FAILED\./, // the verdict, not the reason
  /restore late stage hook for external plugin failed/,
];

/** runc's logCriuErrors: each "Error" line with up to five lines before it, gaps marked "...". */
export function quoteErrors(text: string, context = 5): string[] {
  const lines = text.split("\n");
  const out: string[] = [];
  let printed = -1;
  lines.forEach((l, i) => {
    if (!l.includes("Error")) return;
    const from = Math.max(printed + 1, i - context);
    if (printed >= 0 && from > printed + 1) out.push("...");
    for (let j = from; j <= i; j++) out.push(`${j + 1}:${lines[j]}`);
    printed = i;
  });
  return out;
}

/**
 * The error line that most likely says why criu failed: the first one that is no
 * known noise (what follows it is mostly criu giving up: "Dump files (pid: N)
 * failed with -1", "Dumping FAILED.").
 */
export function mainError(text: string): string | undefined {
  const errors = text.split("\n").filter((l) => /\bError\b/.test(l));
  const telling = errors.filter((l) => !NOISE.some((re) => re.test(l)));
  const pick = telling[0] ?? errors[errors.length - 1];
  return pick?.replace(/^\(\s*[\d.]+\)\s*/, "").trim();
}

export function readLog(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
