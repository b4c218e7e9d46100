import type { Context } from "../context";
import { StateStore } from "../state";
import { resumeContainer } from "../lifecycle/pause";

export default function resume(ctx: Context): void {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!);
  resumeContainer(h, h.read());
}
