import type { Flags, Globals } from "./cli/parse";

/** What every command receives: parsed globals, its own flags, its positionals. */
export interface Context {
  globals: Globals;
  flags: Flags;
  args: string[];
}

export function str(ctx: Context, name: string): string | undefined {
  const v = ctx.flags[name];
  return v === undefined || v === "" ? undefined : String(v);
}

export function bool(ctx: Context, name: string): boolean {
  return ctx.flags[name] === true;
}
