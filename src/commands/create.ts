import type { Context } from "../context";
import { bool, str } from "../context";
import { createContainer, type CreateOptions } from "../lifecycle/create";
import { hostFacts, rootlessCgroups } from "../host";
import { chmodSync, mkdirSync } from "node:fs";

/** The options create and run share, from their (identical) flags. */
export function createOptions(ctx: Context): CreateOptions {
  if (ctx.globals.xdgRoot) xdgStateRoot(ctx.globals.root);
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
    rootless: rootlessCgroups(ctx.globals.rootless, hostFacts().user!),
  };
}

/**
 * The default root under $XDG_RUNTIME_DIR, as runc makes it: the user's only, and
 * sticky, which the XDG spec asks of what must survive its periodic clean-up.
 */
function xdgStateRoot(root: string): void {
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o1700);
  } catch { /* the state store reports what it cannot make */ }
}

export default async function create(ctx: Context): Promise<void> {
  await createContainer(createOptions(ctx));
}
