import { spawnSync } from "node:child_process";
import { stdout } from "../io";
import type { Context } from "../context";
import { StateStore } from "../state";
import { SetupError, UsageError } from "../errors";
import { cgroupPids } from "../lifecycle/cgroup-state";
import { filterPsOutput } from "../lifecycle/ps";

export default function ps(ctx: Context): void {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!, { lock: false });
  const pids = cgroupPids(h.read());
  const format = String(ctx.flags["format"] ?? "table");
  if (format === "json") {
    // runc encodes a nil slice when the cgroup is empty
    stdout(`${pids.length ? JSON.stringify(pids) : "null"}\n`);
    return;
  }
  if (format !== "table") throw new UsageError("invalid format option");
  const args = ctx.args.slice(1);
  const r = spawnSync("ps", args.length ? args : ["-ef"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 << 20 });
  if (r.error) throw new SetupError(`running ps: ${r.error.message}`, undefined, { where: "ps" });
  const output = `${r.stdout}${r.stderr}`;
  // one line, as runc's log shows it: Go's "exit status N" and the output with its newlines escaped
  if (r.status !== 0) throw new SetupError(`${r.signal ? `signal: ${r.signal}` : `exit status ${r.status}`}: ${output.trimEnd().replace(/\n/g, "\\n")}`, undefined, { where: "ps" });
  stdout(filterPsOutput(output, pids));
}
