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

function rfc3339(d = new Date()): string {
  return d.toISOString();
}

function emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < ORDER[config.debug ? "debug" : "info"]) return;
  let line: string;
  if (config.format === "json") {
    line = JSON.stringify({ level, msg, ...fields, time: rfc3339() }) + "\n";
  } else {
    const extra = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join("") : "";
    line = `time="${rfc3339()}" level=${level} msg=${JSON.stringify(msg)}${extra}\n`;
  }
  if (fd !== undefined) appendFileSync(fd, line);
  else if (level !== "error") stderr(line); // errors to stderr are printed plainly by main
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
