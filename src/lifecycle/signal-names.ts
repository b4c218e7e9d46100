import { UsageError } from "../errors";
import { native } from "../native";

// the addon's table (node:os's is the same, but loading node:os costs ~0.4 ms of a start under Bun)
let byName: Record<string, number> | undefined;
const signals = (): Record<string, number> => (byName ??= { ...native().signals });

/**
 * "KILL", "SIGKILL", "kill", "9" -> 9, as runc's kill accepts them. A number is taken
 * as it is, 0 included (it only checks that the process exists); one the kernel does
 * not know fails when it is sent, as in runc.
 */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n <= 0x7fffffff) return n;
    throw new UsageError(`invalid signal: ${s}`);
  }
  const up = s.toUpperCase();
  const name = up.startsWith("SIG") ? up : "SIG" + up;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    // glibc's SIGRTMIN is 34 (32 and 33 belong to the threading library), SIGRTMAX 64
    const n = name.startsWith("SIGRTMIN") ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[1] ?? 0);
    if (n < 34 || n > 64) throw new UsageError(`invalid signal: ${s}: real-time signals are SIGRTMIN (34) to SIGRTMAX (64)`);
    return n;
  }
  const n = signals()[name];
  if (n === undefined) throw new UsageError(`unknown signal "${s}"`);
  return n;
}

export function signalName(n: number): string {
  for (const [k, v] of Object.entries(signals())) if (v === n) return k;
  return String(n);
}
