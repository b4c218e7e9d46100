// Turns argv into {command, globals, flags, args} using yargs-parser (the parser
// inside yargs) driven by the command table. Full yargs is loaded only for help
// screens: it costs ~20 ms per start even from a code cache, which the startup
// budget of the hot commands (state, kill, start, delete) cannot afford.
import parser from "yargs-parser";
import { UsageError } from "../errors";
import { COMMANDS, GLOBAL_FLAGS, type CommandSpec, type FlagSpec, findCommand } from "./table";

export interface Globals {
  root: string;
  log?: string | undefined;
  logFormat: "text" | "json";
  debug: boolean;
  systemdCgroup: boolean;
  rootless: string;
  criu: string;
}

export type Flags = Record<string, string | number | boolean | string[] | undefined>;

export type Parsed =
  | { kind: "command"; command: CommandSpec; globals: Globals; flags: Flags; args: string[] }
  | { kind: "help"; command?: string | undefined; globals: Globals }
  | { kind: "version"; globals: Globals };

const LONG_NAMES = new Set<string>([
  ...GLOBAL_FLAGS.map((f) => f.name),
  ...COMMANDS.flatMap((c) => c.flags.map((f) => f.name)),
  "help",
  "version",
]);

/** go-runc and Go's flag package spell long flags with one dash (-no-subreaper, -pid-file=x). */
function normaliseDashes(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (a.length > 2 && a[0] === "-" && a[1] !== "-") {
      const name = a.slice(1).split("=", 1)[0]!;
      if (name.length > 1 && LONG_NAMES.has(name)) {
        out.push("-" + a);
        continue;
      }
    }
    out.push(a);
  }
  return out;
}

function parserOptions(flags: FlagSpec[]): parser.Options {
  const opts: Required<Pick<parser.Options, "string" | "boolean" | "array" | "alias" | "number">> & parser.Options = {
    string: [],
    boolean: [],
    array: [],
    number: [],
    alias: {},
    configuration: {
      "camel-case-expansion": false,
      "dot-notation": false,
      "parse-numbers": false,
      "parse-positional-numbers": false,
      "boolean-negation": false, // runc's --no-pivot is a flag of its own, not "pivot=false"
      "duplicate-arguments-array": false,
      "greedy-arrays": false,
      "short-option-groups": true,
      "strip-aliased": true,
    },
  };
  for (const f of flags) {
    // numbers are parsed as strings and checked below, to report a bad value by name
    const t = f.type === "number" ? "string" : f.type;
    (opts[t] as string[]).push(f.name);
    if (f.alias) opts.alias[f.name] = [f.alias];
  }
  return opts;
}

function globalsFrom(raw: Record<string, unknown>): Globals {
  const fmt = (raw["log-format"] as string | undefined) ?? "text";
  if (fmt !== "text" && fmt !== "json") throw new UsageError(`--log-format: invalid log format "${fmt}": must be text or json`);
  return {
    root: (raw["root"] as string | undefined) || "/run/ocirt",
    log: (raw["log"] as string | undefined) || undefined,
    logFormat: fmt,
    debug: raw["debug"] === true,
    systemdCgroup: raw["systemd-cgroup"] === true,
    rootless: (raw["rootless"] as string | undefined) ?? "auto",
    criu: (raw["criu"] as string | undefined) ?? "criu",
  };
}

const GLOBAL_OPTS = parserOptions(GLOBAL_FLAGS);

/** The index of the command word: the first positional not consumed by a global flag. */
function commandIndex(argv: string[]): number {
  const takesValue = new Set(GLOBAL_FLAGS.filter((f) => f.type !== "boolean").map((f) => "--" + f.name));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return i + 1 < argv.length ? i + 1 : -1;
    if (!a.startsWith("-") || a === "-") return i;
    if (takesValue.has(a)) i++;
  }
  return -1;
}

export function parseArgv(rawArgv: string[]): Parsed {
  const argv = normaliseDashes(rawArgv);
  const ci = commandIndex(argv);
  const before = ci < 0 ? argv : argv.slice(0, ci);
  const pre = parser(before, { ...GLOBAL_OPTS, boolean: [...(GLOBAL_OPTS.boolean ?? []), "help", "version"], alias: { ...GLOBAL_OPTS.alias, help: ["h"], version: ["v"] } });
  checkUnknown(pre, [...GLOBAL_FLAGS, helpFlag, versionFlag], "");
  let globals = globalsFrom(pre);
  if (pre["version"]) return { kind: "version", globals };
  if (ci < 0 || pre["help"]) return { kind: "help", globals, command: ci < 0 ? undefined : argv[ci] };

  const name = argv[ci]!;
  if (name === "help") return { kind: "help", globals, command: argv[ci + 1] };
  const command = findCommand(name);
  if (!command) throw new UsageError(`unknown command "${name}": run 'ocirt --help' for the list`);

  const all = [...command.flags, ...GLOBAL_FLAGS.filter((g) => !command.flags.some((f) => f.name === g.name))];
  const opts = parserOptions(all);
  opts.boolean!.push("help");
  opts.alias!["help"] = ["h"];
  if (command.haltAtPositional) opts.configuration = { ...opts.configuration, "halt-at-non-option": true };
  const rest = argv.slice(ci + 1);
  const res = parser(rest, opts);
  if (res["help"]) return { kind: "help", globals, command: name };
  checkUnknown(res, [...all, helpFlag], ` for "${name}"`);

  // globals may also follow the command word (runc users write both orders)
  globals = globalsFrom({ ...pre, ...pick(res, GLOBAL_FLAGS) });
  const flags: Flags = {};
  for (const f of command.flags) {
    let v = res[f.name] as Flags[string];
    if (v === undefined) v = f.default;
    if (f.type === "number" && v !== undefined) v = toInt(f, v);
    if (f.type === "array" && v !== undefined && !Array.isArray(v)) v = [String(v)];
    flags[f.name] = v;
  }
  const args = (res._ as (string | number)[]).map(String);
  if (res["--"]) args.push(...(res["--"] as string[]).map(String));
  if (args.length < command.minArgs || args.length > command.maxArgs) {
    const want = command.minArgs === command.maxArgs ? `exactly ${command.minArgs}` : command.maxArgs === Infinity ? `at least ${command.minArgs}` : `${command.minArgs} to ${command.maxArgs}`;
    throw new UsageError(`"${name}" requires ${want} argument(s); usage: ocirt ${name} [command options] ${command.usage}`.trimEnd());
  }
  return { kind: "command", command, globals, flags, args };
}

const helpFlag: FlagSpec = { name: "help", alias: "h", type: "boolean", describe: "show help" };
const versionFlag: FlagSpec = { name: "version", alias: "v", type: "boolean", describe: "print the version" };

function pick(res: Record<string, unknown>, flags: FlagSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of flags) if (res[f.name] !== undefined) out[f.name] = res[f.name];
  return out;
}

function checkUnknown(res: Record<string, unknown>, known: FlagSpec[], context: string): void {
  const names = new Set(known.flatMap((f) => (f.alias ? [f.name, f.alias] : [f.name])));
  for (const k of Object.keys(res)) {
    if (k === "_" || k === "--") continue;
    if (!names.has(k)) throw new UsageError(`flag provided but not defined${context}: -${k.length > 1 ? "-" : ""}${k}`);
  }
}

function toInt(f: FlagSpec, v: unknown): number {
  const s = String(v);
  if (!/^-?\d+$/.test(s)) throw new UsageError(`--${f.name}: invalid value "${s}": must be an integer`);
  return Number(s);
}
