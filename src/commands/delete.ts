import type { Context } from "../context";
import { StateStore } from "../state";
import { deleteContainer } from "../lifecycle/delete";

export default function del(ctx: Context): void {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!);
  deleteContainer(h, h.read(), ctx.flags["force"] === true);
}
