// Generated build artefacts (the config validator, the syscall tables) are large
// and only some commands need them, so they stay out of the main bundle: the
// bundle finds them beside itself in dist/, the sources in build/gen/.
import { existsSync } from "node:fs";
import { join } from "node:path";

export function loadGenerated<T>(name: string): T {
  const bundled = join(__dirname, name);
  const path = existsSync(bundled) ? bundled : join(__dirname, "..", "build", "gen", name);
  return require(path) as T;
}
