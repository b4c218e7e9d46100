import { stderr } from "./io";
// Logging as runc does it: text or JSON lines appended to --log (default stderr).
// containerd's shim reads the last "error" line of the log file to report why a
// command failed, so the final error is always logged there as well as printed.
import { appendFileSync, openSync, closeSync } from "node:fs";

export type Level = "debug" | "info" | "warning" | "error";
const ORDER: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };

interface LogConfig {
  file?: string | undefined;
  format: "text" | "json";
  debug: boolean;
}

let config: LogConfig = { format: "text", debug: false };
let fd: number | undefined;

export function configureLog(c: LogConfig): void {
  config = c;
  if (fd !== undefined) closeSync(fd);
  fd = undefined;
  if (c.file) fd = openSync(c.file, "a", 0o644);
}

/** Go's time.RFC3339 as logrus formats it: local time, whole seconds, "Z" or "+hh:mm". */
export function rfc3339(d = new Date()): string {
  const off = -d.getTimezoneOffset();
  const p = (n: number) => String(Math.abs(n)).padStart(2, "0");
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return date + (off === 0 ? "Z" : `${off < 0 ? "-" : "+"}${p(Math.trunc(off / 60))}:${p(off % 60)}`);
}

const FIXED = ["time", "level", "msg"];
const bigints = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** logrus moves a field that clashes with its own keys to "fields.<key>". */
function extraFields(fields: Record<string, unknown> | undefined): [string, unknown][] {
  if (!fields) return [];
  return Object.entries(fields)
    .map(([k, v]): [string, unknown] => [FIXED.includes(k) ? `fields.${k}` : k, v])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** logrus's TextFormatter quotes a value only when it holds more than [A-Za-z0-9-._/@^+]. */
function textValue(v: unknown): string {
  const s = typeof v === "string" ? v : v instanceof Error ? v.message : JSON.stringify(v, bigints) ?? String(v);
  return /^[A-Za-z0-9\-._/@^+]*$/.test(s) ? s : goQuote(s);
}

/** Go's %q for the characters a log line meets. */
function goQuote(s: string): string {
  const esc: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };
  let out = '"';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (esc[c]) out += esc[c];
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += c;
  }
  return out + '"';
}

function emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < ORDER[config.debug ? "debug" : "info"]) return;
  // errors without a log file are printed plainly by main: nothing to format
  if (fd === undefined && level === "error") return;
  const extra = extraFields(fields);
  const time = rfc3339();
  let line: string;
  if (config.format === "json") {
    // logrus's JSONFormatter marshals a map: keys in sorted order
    const entries: [string, unknown][] = [["level", level], ["msg", msg], ["time", time], ...extra];
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    line = JSON.stringify(Object.fromEntries(entries), bigints) + "\n";
  } else {
    line = `time=${textValue(time)} level=${level} msg=${textValue(msg)}${extra.map(([k, v]) => ` ${k}=${textValue(v)}`).join("")}\n`;
  }
  if (fd !== undefined) appendFileSync(fd, line);
  else stderr(line);
}

export const log = {
  debug: (msg: string, f?: Record<string, unknown>) => emit("debug", msg, f),
  info: (msg: string, f?: Record<string, unknown>) => emit("info", msg, f),
  warn: (msg: string, f?: Record<string, unknown>) => emit("warning", msg, f),
  error: (msg: string, f?: Record<string, unknown>) => emit("error", msg, f),
  get toFile(): boolean {
    return fd !== undefined;
  },
};
