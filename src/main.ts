import { stdout, stderr } from "./io";
// The entry: parse argv, configure logging, load only the module of the command
// that runs, and map whatever it throws to one line and an exit code.
import { describe, exitCodeOf, ExitStatus, NotImplementedError, OcirtError } from "./errors";
import { configureLog, log } from "./log";
import { parseArgv } from "./cli/parse";
import type { Context } from "./context";
import { VERSION, COMMIT, SPEC_VERSION } from "./version";

type CommandModule = { default: (ctx: Context) => Promise<void> | void };

// Static import() strings so the bundler sees every command; each is evaluated
// only when its command runs.
const LOADERS: Record<string, () => Promise<CommandModule>> = {
  create: () => import("./commands/create"),
  start: () => import("./commands/start"),
  state: () => import("./commands/state"),
  kill: () => import("./commands/kill"),
  delete: () => import("./commands/delete"),
  run: () => import("./commands/run"),
  list: () => import("./commands/list"),
  spec: () => import("./commands/spec"),
  validate: () => import("./commands/validate"),
  features: () => import("./commands/features"),
  ps: () => import("./commands/ps"),
  pause: () => import("./commands/pause"),
  resume: () => import("./commands/resume"),
  update: () => import("./commands/update"),
  events: () => import("./commands/events"),
  exec: () => import("./commands/exec"),
};

export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes("--debug") || argv.includes("-debug");
  try {
    const parsed = parseArgv(argv);
    debug = parsed.globals.debug;
    configureLog({ file: parsed.globals.log, format: parsed.globals.logFormat, debug });
    if (parsed.kind === "version") {
      stdout(`ocirt version ${VERSION}\ncommit: ${COMMIT}\nspec: ${SPEC_VERSION}\n`);
      return 0;
    }
    if (parsed.kind === "help") {
      const { printHelp } = loadHelp();
      printHelp(parsed.command);
      return 0;
    }
    const load = LOADERS[parsed.command.name];
    if (!load) throw new NotImplementedError(parsed.command.name);
    const mod = await load();
    log.debug(`running ${parsed.command.name}`, { args: parsed.args });
    await mod.default({ globals: parsed.globals, flags: parsed.flags, args: parsed.args });
    return 0;
  } catch (err) {
    if (err instanceof ExitStatus) return err.code;
    const line = describe(err);
    try {
      log.error(line);
    } catch {
      /* the log file itself may be the problem; stderr still gets the line */
    }
    stderr(debug && err instanceof Error && !(err instanceof OcirtError) ? `${err.stack}\n` : `${line}\n`);
    if (debug && err instanceof OcirtError && err.cause instanceof Error) stderr(`caused by: ${err.cause.stack}\n`);
    return exitCodeOf(err);
  }
}

/** help.ts is bundled separately (dist/help.js); from sources it is imported as is. */
function loadHelp(): typeof import("./cli/help") {
  const bundled = require("node:path").join(__dirname, "help.js");
  const source = "./cli/help"; // a variable, so the bundler leaves it out of ocirt.js
  return require(require("node:fs").existsSync(bundled) ? bundled : source);
}
