import type { Context } from "../context";
import { StateStore } from "../state";
import { startContainer } from "../lifecycle/start";

export default function start(ctx: Context): void {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!);
  startContainer(h, h.read());
}
