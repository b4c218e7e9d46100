import type { Flags, Globals } from "./cli/parse";
import type { CgroupKiller } from "./lifecycle/kill";
import type { CgroupRemoval } from "./lifecycle/delete";

/** What a light command may need from dist/ocirt-cgroup.js (src/commands/cgroup-bundle.ts) on its rarer paths. */
export interface CommandsBundle {
  cgroupKiller: CgroupKiller;
  cgroupRemoval: CgroupRemoval;
}

/** What every command receives: parsed globals, its own flags, its positionals. */
export interface Context {
  globals: Globals;
  flags: Flags;
  args: string[];
  /** the commands bundle, loaded on the first call (main.ts) */
  commandsBundle: () => CommandsBundle;
}

export function str(ctx: Context, name: string): string | undefined {
  const v = ctx.flags[name];
  return v === undefined || v === "" ? undefined : String(v);
}

export function bool(ctx: Context, name: string): boolean {
  return ctx.flags[name] === true;
}
