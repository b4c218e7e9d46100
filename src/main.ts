import { stdout, stderr } from "./io";
// The entry: parse argv, configure logging, load only the module of the command
// that runs, and map whatever it throws to one line and an exit code.
import { describe, exitCodeOf, ExitStatus, NotImplementedError, OcirtError } from "./errors";
import { configureLog, log } from "./log";
import { parseArgv } from "./cli/parse";
import type { Context } from "./context";
import { VERSION, COMMIT, SPEC_VERSION } from "./version";
import { phase, profileCommand, profileRequested, startProfile } from "./profile";
import { attachHeadStart } from "./linux/cgroups/attach-head-start";

type CommandModule = { default: (ctx: Context) => Promise<void> | void };

// The light commands (`state`, `list`, `start`, `kill`, `delete`: what they need in the common case)
// live in this bundle; pause and resume in dist/ocirt-cgroup.js (src/commands/cgroup-bundle.ts, also
// the cgroup library kill, start and delete load on their rarer paths: Context.commandsBundle);
// create, run and exec in dist/ocirt-create.js (src/commands/create-bundle.ts); every other one in
// dist/ocirt-commands.js (src/commands/heavy.ts). Each is loaded only when it runs.
const LIGHT: Record<string, () => Promise<CommandModule>> = {
  state: () => import("./commands/state"),
  list: () => import("./commands/list"),
  start: () => import("./commands/start"),
  kill: () => import("./commands/kill"),
  delete: () => import("./commands/delete"),
};

/** A bundle of dist/, with its code cache; from sources (no dist/), the module itself. */
function loadBundle<T>(file: string, source: string): T {
  const { publishShared } = require("./shared") as typeof import("./shared");
  publishShared();
  const { join } = require("node:path") as typeof import("node:path");
  const mod = require("node:fs").existsSync(join(__dirname, file))
    ? (require("./generated") as typeof import("./generated")).loadGenerated<T>(file)
    : (require(source) as T);
  phase(`bundle ${file}`);
  return mod;
}

let cgroupModule: typeof import("./commands/cgroup-bundle") | undefined;

function commandsBundle(): typeof import("./commands/cgroup-bundle") {
  // a variable, so the bundler leaves the module out of ocirt.js
  const source = "./commands/cgroup-bundle";
  cgroupModule ??= loadBundle<typeof import("./commands/cgroup-bundle")>("ocirt-cgroup.js", source);
  return cgroupModule;
}

const ATTACHING = new Set(["create", "run", "exec"]);

const IN_CGROUP_BUNDLE = new Set(["pause", "resume"]);

function loader(name: string): (() => Promise<CommandModule>) | undefined {
  if (LIGHT[name]) return LIGHT[name];
  if (IN_CGROUP_BUNDLE.has(name)) return commandsBundle().CGROUP_COMMANDS[name];
  if (ATTACHING.has(name)) {
    const creating = "./commands/create-bundle";
    return (loadBundle("ocirt-create.js", creating) as typeof import("./commands/create-bundle")).CREATE[name];
  }
  const source = "./commands/heavy";
  return (loadBundle("ocirt-commands.js", source) as typeof import("./commands/heavy")).HEAVY[name];
}

export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes("--debug") || argv.includes("-debug");
  if (profileRequested(argv)) startProfile();
  try {
    const parsed = parseArgv(argv);
    if (parsed.kind === "command") profileCommand(parsed.command.name);
    phase("parse argv");
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
    // create, run and exec attach a process to cgroups: the grace period that waits for
    // starts now, while the command's bundle loads (linux/cgroups/attach-head-start.ts)
    if (ATTACHING.has(parsed.command.name)) attachHeadStart(parsed.globals.rootless);
    const load = loader(parsed.command.name);
    if (!load) throw new NotImplementedError(parsed.command.name);
    const mod = await load();
    phase("command load");
    log.debug(`running ${parsed.command.name}`, { args: parsed.args });
    await mod.default({ globals: parsed.globals, flags: parsed.flags, args: parsed.args, commandsBundle });
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
