import { stdout } from "../io";
// Help screens, rendered by full yargs from the same table the fast parser uses.
// Loaded only for --help / help, so its start-up cost is paid only there.
import yargs from "yargs/yargs";
import { COMMANDS, GLOBAL_FLAGS, findCommand, type FlagSpec } from "./table";
import { VERSION } from "../version";

function options(flags: FlagSpec[]) {
  const o: Record<string, { alias?: string; type: "string" | "boolean" | "number" | "array"; describe: string; default?: unknown; hidden?: boolean }> = {};
  for (const f of flags) o[f.name] = { type: f.type, describe: f.describe, ...(f.alias ? { alias: f.alias } : {}), ...(f.default !== undefined ? { default: f.default } : {}), ...(f.hidden ? { hidden: true } : {}) };
  return o;
}

export function printHelp(command?: string): void {
  const y = yargs([]).scriptName("ocirt").version(VERSION).wrap(Math.min(120, process.stdout.columns || 100)).options(options(GLOBAL_FLAGS));
  const c = command ? findCommand(command) : undefined;
  if (c) {
    y.usage(`ocirt ${c.name} [command options] ${c.usage}\n\n${c.describe}`).options(options(c.flags)).group(c.flags.map((f) => f.name), "Command options:").group(GLOBAL_FLAGS.map((f) => f.name), "Global options:");
  } else {
    y.usage("ocirt [global options] <command> [command options] [arguments...]\n\nocirt is an OCI container runtime, a drop-in replacement for runc.");
    for (const cmd of COMMANDS) y.command(`${cmd.name} ${cmd.usage}`.trim(), cmd.describe);
  }
  y.showHelp((s: string) => stdout(s + "\n"));
}
