// Generated build artefacts (the config validator, the syscall tables) are large
// and only some commands need them, so they stay out of the main bundle: the
// bundle finds them beside itself in dist/, the sources in build/gen/.
// A .js artefact in dist/ loads through its own V8 code cache, written at build
// time (compiling the validator alone costs ~7 ms per create otherwise).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function loadGenerated<T>(name: string): T {
  const bundled = join(__dirname, name);
  if (!existsSync(bundled)) return require(join(__dirname, "..", "build", "gen", name)) as T;
  if (!name.endsWith(".js")) return require(bundled) as T;
  if (process.versions["bun"]) {
    // Bun has no use for V8's code cache: it loads the twin the build made with its
    // JavaScriptCore bytecode (scripts/bun-bytecode.mjs), or else parses the bundle
    const twin = bundled.replace(/\.js$/, ".bun.js");
    return require(existsSync(twin) ? twin : bundled) as T;
  }
  const vm = require("node:vm") as typeof import("node:vm");
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(bundled + ".cache");
  } catch { /* no cache: V8 compiles as usual */ }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundled, "utf8")}\n})`, { filename: bundled, cachedData });
  const mod = { exports: {} as unknown };
  script.runInThisContext()(mod.exports, require, mod, bundled, __dirname);
  if (process.env["OCIRT_WRITE_CODE_CACHE"] === "1") {
    // after running, so the cache holds the functions that ran too
    process.once("exit", () => writeFileSync(bundled + ".cache", script.createCachedData()));
  }
  return mod.exports as T;
}
