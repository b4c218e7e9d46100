import { stdout } from "../io";
import type { Context } from "../context";
import { StateStore, type StateOutput } from "../state";
import { statusOf } from "../lifecycle/status";
import { UsageError } from "../errors";

export default function list(ctx: Context): void {
  const format = String(ctx.flags["format"] ?? "table");
  if (format !== "table" && format !== "json") throw new UsageError(`--format: invalid format "${format}": must be table or json`);
  const store = new StateStore(ctx.globals.root);
  const states: StateOutput[] = [];
  for (const id of store.ids()) {
    try {
      const h = store.open(id, { lock: false });
      const rec = h.read();
      states.push(h.output(rec, statusOf(h, rec)));
    } catch {
      // a create in progress or a removed container: not listed, as runc does
    }
  }
  if (ctx.flags["quiet"]) {
    for (const s of states) stdout(s.id + "\n");
    return;
  }
  if (format === "json") {
    // runc marshals a nil slice: "null" when there is no container
    stdout((states.length ? JSON.stringify(states) : "null") + "\n");
    return;
  }
  const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
  stdout(table(rows));
}

/** Go's tabwriter as runc's list configures it: min width 12, padding 3, space-padded. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(12, ...rows.map((r) => (r[i] ?? "").length + 3)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("").trimEnd() + "\n").join("");
}
