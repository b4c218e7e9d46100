import { existsSync, readFileSync } from "node:fs";
import type { Context } from "../context";
import { StateStore } from "../state";
import { ConfigError, HostError, UsageError } from "../errors";
import { parseResourcesJson } from "../lifecycle/update-resources";
import { resourcesFromFlags } from "../cli/update-flags";
import { updateContainer } from "../lifecycle/update";

export default async function update(ctx: Context): Promise<void> {
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!);
  const rec = h.read();
  const file = ctx.flags["resources"];
  // as runc: with --resources every other flag is ignored
  const upd = typeof file === "string" && file !== "" ? parseResourcesJson(readInput(file)) : resourcesFromFlags(ctx.flags);
  checkIntelRdt(ctx);
  await updateContainer(h, rec, upd);
}

function readInput(file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read ${file === "-" ? "the standard input" : file}: ${(err as Error).message}`, [], { where: "--resources" });
  }
}

/** ocirt keeps no Intel RDT group; runc's messages for the two schema flags. */
function checkIntelRdt(ctx: Context): void {
  const l3 = ctx.flags["l3-cache-schema"];
  const mb = ctx.flags["mem-bw-schema"];
  if (l3 && !existsSync("/sys/fs/resctrl/info/L3")) throw new HostError("Intel RDT/CAT: l3 cache schema is not enabled");
  if (mb && !existsSync("/sys/fs/resctrl/info/MB")) throw new HostError("Intel RDT/MBA: memory bandwidth schema is not enabled");
  if (l3 || mb) throw new UsageError("updating a non-existent Intel RDT configuration is not supported");
}
