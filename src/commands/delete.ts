import type { Context } from "../context";
import { StateStore } from "../state";
import { NotFoundError } from "../errors";
import { deleter } from "../lifecycle/delete";
import { phase } from "../profile";

export default async function del(ctx: Context): Promise<void> {
  const force = ctx.flags["force"] === true;
  let h;
  try {
    h = new StateStore(ctx.globals.root).open(ctx.args[0]!);
  } catch (err) {
    // as runc: --force of a container that does not exist (engines' clean-up paths
    // call it twice) succeeds silently
    if (force && err instanceof NotFoundError) return;
    throw err;
  }
  const rec = h.read();
  phase("state lock + read");
  // the cgroup library (dist/ocirt-cgroup.js) only when the cgroup is not simply empty
  await deleter(() => ctx.commandsBundle().cgroupRemoval)(h, rec, force);
}
