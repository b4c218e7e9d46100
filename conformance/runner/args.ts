// Command line of the conformance runner. Pure: argv and cwd in, options out,
// so that the rules (label=command, relative paths, --only lists) are testable.
import { parseArgs } from "node:util";
import * as path from "node:path";
import { UsageError } from "../../src/errors";

export interface RuntimeSpec {
  /** Column heading and JSON key. */
  label: string;
  /** Value given to the validation files as RUNTIME: a command name or an absolute path. */
  command: string;
}

export interface RunnerOptions {
  tree: string;
  runtimes: RuntimeSpec[];
  /** Validation names to run (without ".t"); undefined means all. */
  only?: string[];
  exclude: string[];
  json?: string;
  timeoutSeconds: number;
  /** Delete containers, mounts, cgroups and bundles a file left behind. */
  cleanup: boolean;
  help: boolean;
}

export const DEFAULT_TIMEOUT_SECONDS = 60;

export const USAGE = `usage: npx tsx conformance/runner/main.ts --tree DIR --runtime CMD [--runtime CMD ...]
                 [--only NAME,...] [--exclude NAME,...] [--json FILE] [--timeout SECONDS] [--no-cleanup]

  --tree DIR         runtime-tools source tree with runtimetest and validation/*/*.t built
  --runtime CMD      runtime to test: a command name on PATH or a path; LABEL=CMD sets the
                     column heading (default: the command's base name). Repeat to compare.
  --only NAMES       comma-separated validation names to run (e.g. create,start,default)
  --exclude NAMES    comma-separated validation names to leave out
  --json FILE        write every result (per file, per assertion, diagnostics) to FILE
  --timeout SECONDS  per-file time limit (default ${DEFAULT_TIMEOUT_SECONDS})
  --no-cleanup       leave behind whatever a file left (containers, mounts, cgroups, bundles)
`;

export function parseRunnerArgs(argv: readonly string[], cwd: string): RunnerOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        tree: { type: "string" },
        runtime: { type: "string", multiple: true },
        only: { type: "string", multiple: true },
        exclude: { type: "string", multiple: true },
        json: { type: "string" },
        timeout: { type: "string" },
        "no-cleanup": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  const v = parsed.values;
  const help = v.help === true;
  if (help) return { tree: "", runtimes: [], exclude: [], timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, cleanup: true, help };

  if (!v.tree) throw new UsageError("--tree is required", { where: "--tree" });
  const runtimes = (v.runtime ?? []).map((r) => parseRuntime(r, cwd));
  if (runtimes.length === 0) throw new UsageError("at least one --runtime is required", { where: "--runtime" });
  disambiguateLabels(runtimes);

  let timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
  if (v.timeout !== undefined) {
    timeoutSeconds = Number(v.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
      throw new UsageError(`must be a positive number of seconds, got ${JSON.stringify(v.timeout)}`, { where: "--timeout" });
    }
  }

  const opts: RunnerOptions = {
    tree: path.resolve(cwd, v.tree),
    runtimes,
    exclude: nameList(v.exclude),
    timeoutSeconds,
    cleanup: v["no-cleanup"] !== true,
    help,
  };
  if (v.only !== undefined) opts.only = nameList(v.only);
  if (v.json !== undefined) opts.json = path.resolve(cwd, v.json);
  return opts;
}

function parseRuntime(arg: string, cwd: string): RuntimeSpec {
  // "label=command", unless the '=' is part of a path ("./a=b/runc").
  const eq = arg.indexOf("=");
  let label: string | undefined;
  let command = arg;
  if (eq > 0 && !arg.slice(0, eq).includes("/")) {
    label = arg.slice(0, eq);
    command = arg.slice(eq + 1);
  }
  if (command === "") throw new UsageError(`empty runtime command in ${JSON.stringify(arg)}`, { where: "--runtime" });
  // The validation files run with the tree as cwd, so a relative path would
  // point somewhere else there; bare names are left for PATH lookup.
  if (command.includes("/")) command = path.resolve(cwd, command);
  return { label: label || path.basename(command), command };
}

function disambiguateLabels(list: RuntimeSpec[]): void {
  const seen = new Map<string, number>();
  for (const r of list) {
    const n = (seen.get(r.label) ?? 0) + 1;
    seen.set(r.label, n);
    if (n > 1) r.label = `${r.label}#${n}`;
  }
}

/** "a,b" "c.t" -> ["a", "b", "c"]. */
export function nameList(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    for (const part of v.split(",")) {
      const name = part.trim().replace(/\.t$/, "");
      if (name && !out.includes(name)) out.push(name);
    }
  }
  return out;
}
