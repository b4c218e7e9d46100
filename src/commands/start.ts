import type { Context } from "../context";
import { StateStore } from "../state";
import { startContainer } from "../lifecycle/start";
import { deleter } from "../lifecycle/delete";
import { phase } from "../profile";

export default async function start(ctx: Context): Promise<void> {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!);
  const rec = h.read();
  phase("state lock + read");
  await startContainer(h, rec, () => deleter(() => ctx.commandsBundle().cgroupRemoval));
}
