// The config validator is a build product (scripts/gen-validator.mjs): the spec
// tests make it when this checkout has not been built, or its schema changed since.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

export const REPO = join(__dirname, "../..");

export function ensureValidator(): void {
  const gen = join(REPO, "build/gen/config-validator.js");
  const schema = join(REPO, "src/spec/schema.json");
  if (!existsSync(gen) || statSync(gen).mtimeMs < statSync(schema).mtimeMs)
    execFileSync(process.execPath, [join(REPO, "scripts/gen-validator.mjs")], { stdio: "ignore" });
}
