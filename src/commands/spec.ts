import type { Context } from "../context";
import { bool, str } from "../context";
import { constants as fsc, openSync, writeSync, closeSync } from "node:fs";
import { join, resolve } from "node:path";
import { defaultSpec } from "../spec/default";
import { ExistsError, errnoOf, OcirtError } from "../errors";

/** Writes a default config.json, as runc spec does; an existing one is never overwritten. */
export default function spec(ctx: Context): void {
  const dir = resolve(str(ctx, "bundle") ?? process.cwd());
  const path = join(dir, "config.json");
  const cfg = defaultSpec({ rootless: bool(ctx, "rootless") });
  let fd: number;
  try {
    fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o666);
  } catch (err) {
    if (errnoOf(err) === "EEXIST") throw new ExistsError(`File ${path} exists. Remove it first`);
    throw new OcirtError(`writing ${path}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, JSON.stringify(cfg, null, "\t"));
  } finally {
    closeSync(fd);
  }
}
