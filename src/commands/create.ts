import type { Context } from "../context";
import { bool, str } from "../context";
import { createContainer } from "../lifecycle/create";

export default async function create(ctx: Context): Promise<void> {
  await createContainer({
    root: ctx.globals.root,
    id: ctx.args[0]!,
    bundle: str(ctx, "bundle") ?? process.cwd(),
    pidFile: str(ctx, "pid-file"),
    noPivot: bool(ctx, "no-pivot"),
    preserveFds: Number(ctx.flags["preserve-fds"] ?? 0),
    consoleSocket: str(ctx, "console-socket"),
    systemdCgroup: ctx.globals.systemdCgroup,
  });
}
