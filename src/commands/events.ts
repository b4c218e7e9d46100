import { stdout } from "../io";
import type { Context } from "../context";
import { StateStore } from "../state";
import { StatusError } from "../errors";
import { statusOf } from "../lifecycle/status";
import { requireCgroup } from "../lifecycle/container-cgroup";
import { intervalMs, statsEvent, streamEvents } from "../lifecycle/events";

export default async function events(ctx: Context): Promise<void> {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!, { lock: false });
  const rec = h.read();
  const interval = intervalMs(String(ctx.flags["interval"] ?? "5s"));
  if (statusOf(h, rec) === "stopped") throw new StatusError(`container with id ${rec.id} is not running`);
  const cg = requireCgroup(rec, "events");
  if (ctx.flags["stats"] === true) {
    stdout(statsEvent(rec.id, cg.stats()) + "\n");
    return;
  }
  await streamEvents({ id: rec.id, cg, intervalMs: interval, write: stdout });
}
