// The shim's log: logrus text lines on fd 2, which `start` points at the bundle's
// `log` fifo (containerd copies it into its own log). A full or closed fifo never
// blocks or breaks the shim: such a line is dropped.
import { writeSync } from "node:fs";

let debugOn = false;
let fields = "";

export function configureShimLog(o: { debug: boolean; id?: string; namespace?: string }): void {
  debugOn = o.debug;
  fields = `${o.namespace ? ` namespace=${quote(o.namespace)}` : ""}${o.id ? ` id=${quote(o.id)}` : ""} pid=${process.pid} runtime=io.containerd.ocirt.v2`;
}

function quote(s: string): string {
  return /^[A-Za-z0-9\-._/@^+]*$/.test(s) ? s : JSON.stringify(s);
}

function emit(level: string, msg: string, extra?: Record<string, unknown>): void {
  const kv = extra ? Object.entries(extra).map(([k, v]) => ` ${k}=${quote(typeof v === "string" ? v : String(v))}`).join("") : "";
  const line = `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}${kv}${fields}\n`;
  try {
    writeSync(2, line);
  } catch { /* EAGAIN, EPIPE, EBADF: the line is lost, the shim goes on */ }
}

export const shimLog = {
  debug: (msg: string, extra?: Record<string, unknown>) => debugOn && emit("debug", msg, extra),
  info: (msg: string, extra?: Record<string, unknown>) => emit("info", msg, extra),
  warn: (msg: string, extra?: Record<string, unknown>) => emit("warning", msg, extra),
  error: (msg: string, extra?: Record<string, unknown>) => emit("error", msg, extra),
};
