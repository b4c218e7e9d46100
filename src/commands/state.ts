import { stdout } from "../io";
import type { Context } from "../context";
import { StateStore } from "../state";
import { statusOf } from "../lifecycle/status";
import { phase } from "../profile";

export default function state(ctx: Context): void {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!, { lock: false });
  const rec = h.read();
  phase("state.json read");
  const status = statusOf(h, rec);
  phase("status");
  // as `runc state`: owner "" (only `list` names the owner), no newline after the JSON
  stdout(JSON.stringify(h.output(rec, status, ""), null, 2));
  phase("output");
}
