// Reads <bundle>/config.json, validates it and returns the normalised Spec. The only
// module of src/spec/ that touches the file system.

import { closeSync, constants as fsc, fstatSync, openSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, errnoOf } from "../errors";
import { findJsonSyntaxError, findUnsafeIntegers } from "./json";
import { normaliseConfig, rootfsPath, type Spec } from "./normalise";
import { checkConfig, problemLine } from "./validate";
import type { OciConfig } from "./types";
import { phase } from "../profile";

export type { Spec } from "./normalise";

export interface ParsedJson {
  value: unknown;
  /** Exact values of integer literals beyond 2^53, by path. */
  bigInts: Map<string, bigint>;
}

/** A path in an error line: quoted, with newlines and control characters escaped (the line stays one line). */
function q(s: string): string {
  return JSON.stringify(s);
}

function fail(where: string, message: string, cause?: unknown): never {
  throw new ConfigError(message, [`${where}: ${message}`], { where, cause });
}

/**
 * Parses JSON text; a syntax error becomes a ConfigError
 * "<name>: invalid JSON: <reason> (line N)". Also usable for other JSON inputs
 * (e.g. a resources file), named by `name`.
 */
export function parseConfigText(text: string, name = "config.json"): ParsedJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const where = findJsonSyntaxError(text);
    if (where) fail(name, `invalid JSON: ${where.reason} (line ${where.line})`, err);
    fail(name, `invalid JSON: ${(err as Error).message}`, err);
  }
  if (nestingAbove(text, MAX_DEPTH)) fail(name, `invalid JSON: exceeded max depth (${MAX_DEPTH})`);
  return { value, bigInts: findUnsafeIntegers(text) };
}

/** Go's encoding/json (runc's decoder) refuses documents nested deeper than this. */
const MAX_DEPTH = 10000;

/** Whether arrays/objects nest deeper than max (strings skipped); cheap when there are few brackets. */
function nestingAbove(text: string, max: number): boolean {
  let opens = 0;
  for (let i = text.indexOf("[") ; i >= 0 && opens <= max; i = text.indexOf("[", i + 1)) opens++;
  for (let i = text.indexOf("{"); i >= 0 && opens <= max; i = text.indexOf("{", i + 1)) opens++;
  if (opens <= max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Reads and parses `<bundle>/config.json` without validating it. `bundle` is used as
 * given (resolve it first); errors name it.
 */
export function readConfigFile(bundle: string): ParsedJson {
  const file = join(bundle, "config.json");
  let text: string;
  let fd = -1;
  try {
    // non-blocking, so that a fifo cannot hang us before fstat says what it is
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK);
    const st = fstatSync(fd);
    if (st.isDirectory()) fail("config.json", `is a directory in bundle ${q(bundle)}`);
    if (!st.isFile()) fail("config.json", `is not a regular file in bundle ${q(bundle)}`);
    if (st.size > MAX_CONFIG_BYTES) fail("config.json", `is ${st.size} bytes; the most ocirt reads is ${MAX_CONFIG_BYTES}`);
    text = readFileSync(fd, "utf8");
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = errnoOf(err);
    if (code === "ENOENT") fail("config.json", `no such file in bundle ${q(bundle)}`, err);
    fail("config.json", `cannot read ${q(file)}: ${code ?? (err as Error).message}`, err);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  return parseConfigText(text);
}

/** A bound on what config.json may hold (Kubernetes' largest objects are ~1.5 MB). */
const MAX_CONFIG_BYTES = 64 << 20;

/** The bundle directory, absolute and with symlinks resolved, as runc sees it from inside it. */
function resolveBundle(bundle: string): string {
  const abs = resolve(bundle);
  try {
    if (!statSync(abs).isDirectory()) fail("bundle", `${q(abs)} is not a directory`);
    return realpathSync(abs);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = errnoOf(err);
    // runc's wording ("chdir <bundle>: no such file or directory"): engines match it
    if (code === "ENOENT" || code === "ENOTDIR") fail("bundle", `${q(abs)}: ${code === "ENOENT" ? "no such file or directory" : "not a directory"}`, err);
    fail("bundle", `cannot use ${q(abs)}: ${code ?? (err as Error).message}`, err);
  }
}

/**
 * runc's rootfs rule: it must exist, be a directory, and its path must already be clean
 * and free of symlinks (so that what is checked is what gets mounted).
 */
function checkRootfs(path: string, given: string): void {
  let real: string;
  try {
    if (!statSync(path).isDirectory()) fail("root.path", `invalid rootfs ${q(path)}: not a directory`);
    real = realpathSync(path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = errnoOf(err);
    if (code === "ENOENT" || code === "ENOTDIR") fail("root.path", `invalid rootfs ${q(path)}: ${code === "ENOENT" ? "no such file or directory" : "not a directory"} (root.path is ${JSON.stringify(given)})`, err);
    fail("root.path", `invalid rootfs: cannot use ${q(path)}: ${code ?? (err as Error).message}`, err);
  }
  if (real !== path) fail("root.path", `invalid rootfs ${q(path)}: it goes through a symlink (it is ${q(real)}); give the real path`);
}

/**
 * Loads the bundle's config.json into a normalised Spec. Throws ConfigError: its `where`
 * is the first problem's path, its message the rest of that line, and `problems` holds
 * every problem as a full line ("<path>: <message>").
 */
export function loadSpec(bundle: string): Spec {
  const dir = resolveBundle(bundle);
  const { value, bigInts } = readConfigFile(dir);
  phase("config read + parse");
  const { config, problems, warnings } = checkConfig(value, { bigInts });
  phase("config validation");
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new ConfigError(first.message, problems.map(problemLine), { where: first.path || "config.json" });
  }
  const cfg = config as OciConfig;
  checkRootfs(rootfsPath(cfg, dir), cfg.root!.path);
  const spec = normaliseConfig(cfg, { bundle: dir, bigInts, warnings: warnings.map(problemLine) });
  phase("config normalisation");
  return spec;
}
