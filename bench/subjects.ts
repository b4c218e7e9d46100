// What gets measured: the two runtimes (each with its own --root) and the plain
// `node` baselines the state scenario compares ocirt's startup with.
import { join } from "node:path";

export interface Subject {
  name: string;
  /** The full argv for a command of this subject. */
  argv(args: readonly string[]): string[];
  /** A runtime's --root; baselines have none. */
  root?: string;
  /** An environment other than the benchmark's clean one. */
  env?: NodeJS.ProcessEnv;
}

export function runtime(name: string, bin: string, root: string, env?: NodeJS.ProcessEnv): Subject {
  return { name, root, argv: (args) => [bin, "--root", root, ...args], ...(env ? { env } : {}) };
}

/** `node -e 0`: what any Node program pays before its first line runs. */
export function nodeBaseline(name: string, env?: NodeJS.ProcessEnv): Subject {
  return { name, argv: () => [process.execPath, "-e", "0"], ...(env ? { env } : {}) };
}

export function rootsUnder(dir: string): { ocirt: string; runc: string } {
  return { ocirt: join(dir, "root-ocirt"), runc: join(dir, "root-runc") };
}
