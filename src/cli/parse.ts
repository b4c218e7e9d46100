// Turns argv into {command, globals, flags, args} using yargs-parser (the parser
// inside yargs) driven by the command table. Full yargs is loaded only for help
// screens: it costs ~20 ms per start even from a code cache, which the startup
// budget of the hot commands (state, kill, start, delete) cannot afford.
import type parser from "yargs-parser";
import { UnknownCommandError, UsageError } from "../errors";
import { GLOBAL_FLAGS, type CommandSpec, type FlagSpec, findCommand } from "./table";
import { defaultStateRoot } from "../host";

export interface Globals {
  root: string;
  /** --root was not given and the default is under $XDG_RUNTIME_DIR (rootless) */
  xdgRoot?: boolean;
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

/**
 * Rewrites one stretch of argv into forms yargs-parser reads as Go's flag package
 * (urfave/cli, runc) does: long flags may have one dash (-no-subreaper, -pid-file=x);
 * a boolean never takes the next word as its value (`delete -f true` deletes "true");
 * a value-taking flag always takes the next word, even one starting with "-";
 * short groups (-qf json) are expanded. Every known flag comes out as --name=value.
 * With `halt`, the first positional and everything after it are left verbatim (the
 * process argv of exec and ps); `stop` is its index in argv, or -1.
 */
function normalise(argv: string[], flags: FlagSpec[], halt: boolean, context: string): { out: string[]; stop: number } {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byAlias = new Map(flags.filter((f) => f.alias).map((f) => [f.alias!, f]));
  const out: string[] = [];
  const valueOf = (f: FlagSpec, inline: string | undefined, i: number, shown: string): [string, number] => {
    if (inline !== undefined) return [inline, i];
    if (f.type === "boolean") return ["true", i];
    if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument${context}: ${shown}`);
    return [argv[i + 1]!, i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.push(...argv.slice(i));
      return { out, stop: halt && i + 1 < argv.length ? i + 1 : -1 };
    }
    if (a.length < 2 || a[0] !== "-") {
      if (halt) {
        out.push(...argv.slice(i));
        return { out, stop: i };
      }
      out.push(a);
      continue;
    }
    const body = a.startsWith("--") ? a.slice(2) : a.slice(1);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    // Go accepts one or two dashes for every name, aliases included (--b x)
    const long = a.startsWith("--") ? (byName.get(name) ?? byAlias.get(name)) : name.length > 1 ? byName.get(name) : undefined;
    if (long) {
      const [v, j] = valueOf(long, inline, i, a.split("=", 1)[0]!);
      out.push(`--${long.name}=${v}`);
      i = j;
      continue;
    }
    if (!a.startsWith("--") && [...name].some((c) => byAlias.has(c))) {
      // getopt-style group (-qf json, -td, -eA=1): booleans, then at most one flag
      // that takes the rest of the word, or else the next word, as its value
      const group: string[] = [];
      let k = 0;
      for (; k < body.length; k++) {
        const f = byAlias.get(body[k]!);
        if (!f) break;
        const rest = body.slice(k + 1);
        if (f.type === "boolean" && !rest.startsWith("=")) {
          group.push(`--${f.name}=true`);
          continue;
        }
        const [v, j] = valueOf(f, rest === "" ? undefined : rest.replace(/^=/, ""), i, `-${f.alias}`);
        group.push(`--${f.name}=${v}`);
        i = j;
        k = body.length;
      }
      if (k >= body.length) {
        out.push(...group);
        continue;
      }
    }
    throw new UsageError(`flag provided but not defined${context}: ${a.split("=", 1)[0]}`);
  }
  return { out, stop: -1 };
}

export function parserOptions(flags: FlagSpec[]): parser.Options {
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
      "duplicate-arguments-array": true, // lastWins() keeps the last of a repeated scalar
      "greedy-arrays": false,
      "short-option-groups": false, // normalise() expands groups itself
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
  const root = (raw["root"] as string | undefined) || defaultStateRoot();
  return {
    root,
    ...(!raw["root"] && root !== "/run/ocirt" ? { xdgRoot: true } : {}),
    log: (raw["log"] as string | undefined) || undefined,
    logFormat: fmt,
    debug: raw["debug"] === true,
    systemdCgroup: raw["systemd-cgroup"] === true,
    rootless: rootlessValue(raw["rootless"]),
    criu: (raw["criu"] as string | undefined) ?? "criu",
  };
}

/** runc's parseBoolOrAuto: "auto" (or empty), or one of Go's strconv.ParseBool spellings. */
function rootlessValue(v: unknown): "auto" | "true" | "false" {
  const s = v === undefined || v === true ? "auto" : String(v);
  if (s === "" || s === "auto") return "auto";
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return "true";
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return "false";
  throw new UsageError(`--rootless: invalid value "${s}": must be true, false or auto`);
}

/**
 * yargs-parser over the words, except when they are all in normalise()'s shape
 * (the usual case): then there is nothing left to parse. yargs-parser is loaded
 * (bundled, evaluated on first use) only when needed: loading and calling it costs
 * 1-3 ms of a start (docs/speed.md).
 */
function parseFlags(words: string[], flags: FlagSpec[]): parser.Arguments {
  if (!words.some((w) => w.startsWith("-"))) return { _: words.slice() } as parser.Arguments;
  const plain = parseNormalised(words, flags);
  if (plain) return plain;
  const yargsParser = require("yargs-parser") as typeof parser;
  return yargsParser(words, parserOptions(flags));
}

/**
 * What yargs-parser makes of normalise()'s output (with parserOptions' configuration),
 * without it: words that are "--name=value" of a known flag, positionals, and "--"
 * followed by positionals. A boolean's value must be "true" or "false" (repeated:
 * the last); a repeated string becomes an array (lastWins picks), an array flag
 * accumulates. Anything
 * else (undefined) goes to yargs-parser.
 */
export function parseNormalised(words: readonly string[], flags: FlagSpec[]): parser.Arguments | undefined {
  const out: Record<string, unknown> & { _: string[] } = { _: [] };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") {
      out._.push(...words.slice(i + 1));
      break;
    }
    if (w[0] !== "-") {
      out._.push(w);
      continue;
    }
    const eq = w.indexOf("=");
    if (!w.startsWith("--") || eq < 0) return undefined;
    const name = w.slice(2, eq);
    const f = flags.find((x) => x.name === name);
    if (!f) return undefined;
    const raw = w.slice(eq + 1);
    if (f.type === "boolean" && raw !== "true" && raw !== "false") return undefined;
    const v = f.type === "boolean" ? raw === "true" : raw;
    const prev = out[name];
    if (f.type === "array") out[name] = [...((prev as unknown[] | undefined) ?? []), v];
    else if (f.type === "boolean" || prev === undefined) out[name] = v;
    else out[name] = [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return out as parser.Arguments;
}

export function parseArgv(argv: string[]): Parsed {
  const preFlags = [...GLOBAL_FLAGS, helpFlag, versionFlag];
  const head = normalise(argv, preFlags, true, "");
  const ci = head.stop;
  const before = ci < 0 ? head.out : head.out.slice(0, head.out.length - (argv.length - ci));
  const pre = parseFlags(before, preFlags);
  checkUnknown(pre, preFlags, "");
  let globals = globalsFrom(lastWins(pre, preFlags));
  if (pre["version"]) return { kind: "version", globals };
  if (ci < 0 || pre["help"]) return { kind: "help", globals, command: ci < 0 ? undefined : argv[ci] };

  const name = argv[ci]!;
  if (name === "help" || name === "h") return { kind: "help", globals, command: argv[ci + 1] };
  const command = findCommand(name);
  if (!command) throw new UnknownCommandError(`unknown command "${name}": run 'ocirt --help' for the list`);

  // globals may also follow the command word (runc users write both orders); a
  // command flag of the same name (spec --rootless) shadows the global one
  const shadowed = new Set(command.flags.map((f) => f.name));
  const globalsAfter = GLOBAL_FLAGS.filter((g) => !shadowed.has(g.name));
  const all = [...command.flags, ...globalsAfter, helpFlag];
  const rest = argv.slice(ci + 1);
  const norm = normalise(rest, all, command.haltAtPositional === true, ` for "${name}"`);
  // the process argv of exec/ps is passed through untouched
  const tail = norm.stop < 0 ? [] : rest.slice(norm.stop);
  const flagPart = norm.stop < 0 ? norm.out : norm.out.slice(0, norm.out.length - tail.length);
  const res = lastWins(parseFlags(flagPart, all), all);
  if (res["help"]) return { kind: "help", globals, command: name };
  checkUnknown(res, all, ` for "${name}"`);

  globals = globalsFrom({ ...lastWins(pre, preFlags), ...pick(res, globalsAfter) });
  const flags: Flags = {};
  for (const f of command.flags) {
    let v = res[f.name] as Flags[string];
    if (v === undefined) v = f.default;
    if (f.type === "number" && v !== undefined) v = toInt(f, v);
    if (f.type === "array" && v !== undefined && !Array.isArray(v)) v = [String(v)];
    flags[f.name] = v;
  }
  const args = [...(res._ as (string | number)[]).map(String), ...tail];
  if (args.length < command.minArgs || args.length > command.maxArgs) {
    const want = command.minArgs === command.maxArgs ? `exactly ${command.minArgs}` : command.maxArgs === Infinity ? `at least ${command.minArgs}` : `${command.minArgs} to ${command.maxArgs}`;
    throw new UsageError(`"${name}" requires ${want} argument(s); usage: ocirt ${name} [command options] ${command.usage}`.trimEnd());
  }
  return { kind: "command", command, globals, flags, args };
}

/** A flag given twice: the last one counts, as with Go's flag package (arrays accumulate). */
function lastWins(res: parser.Arguments, flags: FlagSpec[]): parser.Arguments {
  for (const f of flags) {
    const v = res[f.name];
    if (f.type !== "array" && Array.isArray(v)) res[f.name] = v[v.length - 1];
  }
  return res;
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
