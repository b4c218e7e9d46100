// Validation of a parsed config.json: the ahead-of-time compiled schema validator
// (build/gen/config-validator.js, made by scripts/gen-validator.mjs from schema.json)
// followed by the semantic rules of semantic.ts. Every problem becomes one line that
// starts with the JSON path of the offending field, e.g.
//   process.rlimits[1].type: must be one of RLIMIT_AS, RLIMIT_CORE, ... (got "RLIMIT_FOO")

import { loadGenerated } from "../generated";
import type { ErrorObject } from "ajv";
import { checkSemantics, NEWEST_KNOWN_MINOR, type Problem } from "./semantic";
import { formatPath, parsePath, pointerToSegments, type Segment } from "./path";
import { describes } from "./known";
import type { OciConfig } from "./types";

export type { Problem } from "./semantic";

type SchemaValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

interface Generated {
  /** the whole config.json */
  config: SchemaValidator;
  /** linux.resources alone (`update --resources`) */
  resources: SchemaValidator;
}

let compiled: Generated | undefined;

function validators(): Generated {
  if (!compiled) {
    try {
      // A static string, so that esbuild bundles the generated file.
      compiled = loadGenerated<Generated>("config-validator.js");
    } catch (err) {
      // Not the user's fault: the build step did not run.
      throw new Error(`build/gen/config-validator.js is missing; run "node scripts/gen-validator.mjs" (${(err as Error).message})`);
    }
  }
  return compiled;
}

/** One line per problem: "<path>: <message>", or "config.json: <message>" for the document. */
export function problemLine(p: Problem): string {
  return `${p.path || "config.json"}: ${p.message}`;
}

export interface ValidationResult {
  /** The document with null-valued properties removed, the form that was checked. */
  config: unknown;
  problems: Problem[];
  warnings: Problem[];
}

const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * Checks a parsed config.json. Semantic rules run only once the schema passes (they rely
 * on its shapes), so a document with type errors reports those first.
 * `bigInts` (json.ts findUnsafeIntegers) lets the 64-bit range be checked exactly, which
 * the schema cannot do on rounded numbers.
 */
export function checkConfig(obj: unknown, opts: { bigInts?: ReadonlyMap<string, bigint> } = {}): ValidationResult {
  const config = stripNulls(obj);
  const validate = validators().config;
  if (!validate(config)) {
    return { config, problems: schemaProblems(validate.errors ?? [], config), warnings: [] };
  }
  const { problems, warnings } = checkSemantics(config as OciConfig);
  for (const [path, n] of opts.bigInts ?? []) {
    // unknown properties are ignored, whatever they hold
    if (!describes(parsePath(path))) continue;
    if (n > UINT64_MAX) problems.push({ path, message: `must be <= ${UINT64_MAX} (got ${n})` });
    else if (n < INT64_MIN) problems.push({ path, message: `must be >= ${INT64_MIN} (got ${n})` });
  }
  return { config, problems: onePerPath(problems), warnings };
}

/**
 * A LinuxResources document (`update --resources`), nulls read as absent (Go's
 * decoding): the schema's problems, with paths under "resources".
 */
export function checkResources(obj: unknown): { resources: unknown; problems: Problem[] } {
  const resources = stripNulls(obj);
  const validate = validators().resources;
  if (validate(resources)) return { resources, problems: [] };
  const problems = schemaProblems(validate.errors ?? [], resources).map((p) => ({ ...p, path: p.path ? `resources.${p.path}` : "resources" }));
  return { resources, problems };
}

/** All problems of a parsed config.json as lines; empty when it is valid. */
export function validateConfig(obj: unknown): string[] {
  return checkConfig(obj).problems.map(problemLine);
}

/**
 * Go's encoding/json, and so runc, treats `"field": null` like an absent field; ocirt does
 * the same so that a config runc accepts is not refused over a null. Array elements are
 * left alone (a null inside `args` is still an error).
 */
export function stripNulls(v: unknown): unknown {
  // iterative: an unknown property may nest as deep as Go's decoder allows (10000)
  const root = { v };
  const todo: { from: unknown; into: Record<string, unknown> | unknown[]; key: string | number }[] = [{ from: v, into: root as unknown as Record<string, unknown>, key: "v" }];
  while (todo.length) {
    const { from, into, key } = todo.pop()!;
    let copy: unknown = from;
    if (Array.isArray(from)) {
      const arr: unknown[] = new Array(from.length);
      from.forEach((x, i) => todo.push({ from: x, into: arr, key: i }));
      copy = arr;
    } else if (from !== null && typeof from === "object") {
      const obj: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(from as Record<string, unknown>)) {
        if (x === null) continue;
        // defineProperty for "__proto__", so that it stays data, as JSON.parse made it (only
        // there: a plain assignment is several times cheaper in a cold interpreter)
        if (k === "__proto__") Object.defineProperty(obj, k, { value: undefined, enumerable: true, writable: true, configurable: true });
        else obj[k] = undefined;
        todo.push({ from: x, into: obj, key: k });
      }
      copy = obj;
    }
    (into as Record<string | number, unknown>)[key] = copy;
  }
  return root.v;
}

// ---------------------------------------------------------------------------------
// ajv errors -> problems

function onePerPath(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const p of problems) {
    const line = problemLine(p);
    if (seen.has(p.path) || seen.has(line)) continue;
    seen.add(p.path);
    seen.add(line);
    out.push(p);
  }
  return out;
}

function schemaProblems(errors: ErrorObject[], data: unknown): Problem[] {
  // ajv reports an anyOf's failed alternatives right before the anyOf itself: claim them
  // first so that they come out as one line.
  const alternatives = new Map<ErrorObject, ErrorObject[]>();
  const claimed = new Set<ErrorObject>();
  errors.forEach((e, i) => {
    if (e.keyword !== "anyOf" && e.keyword !== "oneOf") return;
    const children = errors
      .slice(0, i)
      .filter(
        (c) =>
          !claimed.has(c) &&
          c.schemaPath.startsWith(`${e.schemaPath}/`) &&
          (c.instancePath === e.instancePath || c.instancePath.startsWith(`${e.instancePath}/`)),
      );
    children.forEach((c) => claimed.add(c));
    alternatives.set(e, children);
  });
  const out: Problem[] = [];
  for (const e of errors) {
    if (claimed.has(e)) continue;
    const children = alternatives.get(e);
    const p = children ? condenseAlternatives(e, children, data) : convert(e, data);
    if (p) out.push(p);
  }
  return onePerPath(out);
}

function condenseAlternatives(e: ErrorObject, children: ErrorObject[], data: unknown): Problem {
  const base = formatPath(pointerToSegments(e.instancePath, data));
  if (children.length > 0 && children.every((c) => c.keyword === "required" && c.instancePath === e.instancePath)) {
    const names = children.map((c) => (c.params as { missingProperty: string }).missingProperty);
    return { path: base, message: `needs ${[...new Set(names)].join(" or ")}` };
  }
  if (children.length > 0 && children.every((c) => c.keyword === "type" && c.instancePath === e.instancePath)) {
    const types = children.map((c) => withArticle(String((c.params as { type: string }).type)));
    return { path: base, message: `must be ${[...new Set(types)].join(" or ")} (got ${describeValue(valueAt(data, e.instancePath))})` };
  }
  const first = children.map((c) => convert(c, data)).find((p): p is Problem => p !== undefined);
  return first ?? { path: base, message: "does not match any of the allowed forms" };
}

function convert(e: ErrorObject, data: unknown): Problem | undefined {
  const segs = pointerToSegments(e.instancePath, data);
  const path = formatPath(segs);
  const got = () => describeValue(valueAt(data, e.instancePath));
  const params = e.params as Record<string, unknown>;

  // Errors about an object's keys (propertyNames) name the key itself.
  if (e.keyword === "propertyNames") return undefined;
  if (e.propertyName !== undefined) {
    const at = formatPath([...segs, e.propertyName]);
    if (e.keyword === "enum") return { path: at, message: `unknown key; must be one of ${listValues(params.allowedValues)}` };
    if (e.keyword === "minLength") return { path: at, message: "key must not be empty" };
    return { path: at, message: `key ${e.message ?? "is invalid"}` };
  }

  switch (e.keyword) {
    case "if":
      // The "then" branch's own errors say what is missing.
      return undefined;
    case "required": {
      const missing = String(params.missingProperty);
      return { path: formatPath([...segs, missing]), message: "required field is missing" };
    }
    case "dependencies": {
      return {
        path: formatPath([...segs, String(params.missingProperty)]),
        message: `required when ${String(params.property)} is given`,
      };
    }
    case "type": {
      const want = String(params.type);
      if (segs.length === 0) return { path: "", message: `must be a JSON object (got ${got()})` };
      return { path, message: `must be ${withArticle(want)} (got ${got()})` };
    }
    case "enum":
      return { path, message: `must be one of ${listValues(params.allowedValues)} (got ${shortValue(valueAt(data, e.instancePath))})` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { path, message: `must be ${String(params.comparison)} ${exactLimit(params.limit as number)} (got ${got()})` };
    case "minLength":
      if (params.limit === 1) return { path, message: "must not be empty" };
      return { path, message: `must have at least ${String(params.limit)} characters` };
    case "minItems":
      if (params.limit === 1) return { path, message: "must have at least one entry" };
      return { path, message: `must have at least ${String(params.limit)} entries` };
    case "pattern":
      return patternProblem(path, String(params.pattern), valueAt(data, e.instancePath));
    default:
      return { path, message: e.message ?? `fails the "${e.keyword}" rule` };
  }
}

const PATTERN_WORDS: Record<string, string> = {
  "^[0-9, -]*$": 'must be a list of numbers and ranges like "0-3,7"',
  "^[1-9][0-9]*[KMG]B$": 'must be a size like "64KB", "2MB" or "1GB"',
  "^MB:[^\\n]*$": 'must start with "MB:" and be a single line',
  "^[^\\n]*$": "must be a single line",
  "^[rwm]*$": 'must be made of the letters "r", "w" and "m"',
};

function patternProblem(path: string, pattern: string, value: unknown): Problem {
  if (path === "ociVersion") {
    const v = String(value);
    const semver = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+].*)?$/.exec(v);
    if (semver && semver[1] !== "1")
      return { path, message: `unsupported version ${JSON.stringify(v)}: ocirt supports 1.0.0 to 1.${NEWEST_KNOWN_MINOR}.x` };
    return { path, message: `invalid version ${JSON.stringify(v)}: must be a SemVer 2.0.0 version such as "1.2.0"` };
  }
  const words = PATTERN_WORDS[pattern] ?? `must match ${pattern}`;
  return { path, message: `${words} (got ${shortValue(value)})` };
}

/** Enum members as written in config.json, bare unless they need quotes (""). */
function listValues(values: unknown): string {
  return (values as unknown[]).map((v) => (typeof v === "string" && /^[A-Za-z0-9_.-]+$/.test(v) ? v : JSON.stringify(v))).join(", ");
}

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** JSON schema limits beyond 2^53 are rounded; say the numbers the spec means. */
function exactLimit(n: number): string {
  if (n === 2 ** 64) return "18446744073709551615";
  if (n === 2 ** 63) return "9223372036854775807";
  if (n === -(2 ** 63)) return "-9223372036854775808";
  return String(n);
}

function valueAt(data: unknown, pointer: string): unknown {
  let cur = data;
  for (const s of pointerToSegments(pointer, data)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[s as Segment];
  }
  return cur;
}

/** For values whose type is already known to be right: strings without the word "string". */
function shortValue(v: unknown): string {
  return typeof v === "string" ? describeValue(v).slice("string ".length) : describeValue(v);
}

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string": {
      const s = v.length > 60 ? `${v.slice(0, 57)}...` : v;
      return `string ${JSON.stringify(s)}`;
    }
    case "number":
    case "boolean":
      return String(v);
    case "object":
      return "an object";
    default:
      return typeof v;
  }
}
