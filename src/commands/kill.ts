import type { Context } from "../context";
import { StateStore } from "../state";
import { statusOf } from "../lifecycle/status";
import { parseSignal } from "../lifecycle/signal-names";
import { signalContainer } from "../lifecycle/kill";
import { phase } from "../profile";

export default function kill(ctx: Context): void {
  const sig = parseSignal(ctx.args[1] ?? "SIGTERM");
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!, { lock: false });
  const rec = h.read();
  phase("state.json read");
  const status = statusOf(h, rec);
  phase("status");
  signalContainer(h, rec, status, sig, ctx.flags["all"] === true, () => ctx.commandsBundle().cgroupKiller);
  phase("signal");
}
