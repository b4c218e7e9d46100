import type { Context } from "../context";
import { bool, str } from "../context";
import { createContainer, type CreateOptions } from "../lifecycle/create";

/** The options create and run share, from their (identical) flags. */
export function createOptions(ctx: Context): CreateOptions {
  return {
    root: ctx.globals.root,
    id: ctx.args[0]!,
    bundle: str(ctx, "bundle") ?? process.cwd(),
    pidFile: str(ctx, "pid-file"),
    noPivot: bool(ctx, "no-pivot"),
    noNewKeyring: bool(ctx, "no-new-keyring"),
    preserveFds: Number(ctx.flags["preserve-fds"] ?? 0),
    consoleSocket: str(ctx, "console-socket"),
    systemdCgroup: ctx.globals.systemdCgroup,
  };
}

export default async function create(ctx: Context): Promise<void> {
  await createContainer(createOptions(ctx));
}
