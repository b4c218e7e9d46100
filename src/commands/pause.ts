import type { Context } from "../context";
import { StateStore } from "../state";
import { pauseContainer } from "../lifecycle/pause";

export default function pause(ctx: Context): void {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!);
  pauseContainer(h, h.read());
}
