import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ConfigError, OcirtError, exitCodeOf, ExitStatus, describe } from "../../src/errors";

test("errors carry where and map to exit codes in one place", () => {
  const e = new ConfigError("must be a string", [], { where: "process.cwd" });
  assert.ok(e instanceof OcirtError);
  assert.is(e.line(), "process.cwd: must be a string");
  assert.is(exitCodeOf(e), 1);
  assert.is(exitCodeOf(new ExitStatus(137)), 137);
  assert.is(describe(new Error("boom")), "internal error: boom");
});

test("describe does not rely on a method named line: Bun gives every Error own line/column numbers", () => {
  const e = new ConfigError("must be a string", [], { where: "process.cwd" });
  // what JavaScriptCore does to every Error it constructs
  Object.defineProperty(e, "line", { value: 4, writable: true, configurable: true });
  assert.is(describe(e), "process.cwd: must be a string");
});

test("every error class keeps its name in a minified bundle (the build's keepNames is off)", () => {
  const { buildSync } = require("esbuild") as typeof import("esbuild");
  const out = buildSync({ entryPoints: [join(__dirname, "../../src/errors.ts")], bundle: true, format: "cjs", platform: "node", minify: true, keepNames: false, write: false });
  const mod = { exports: {} as Record<string, unknown> };
  new Function("module", "exports", "require", out.outputFiles[0]!.text)(mod, mod.exports, require);
  const classes = Object.entries(mod.exports).filter(([, v]) => typeof v === "function" && /^class\b/.test(Function.prototype.toString.call(v)));
  assert.ok(classes.length >= 13, `${classes.length} classes`);
  for (const [name, cls] of classes) {
    assert.is((cls as { name: string }).name, name);
    if (name !== "ExitStatus" && name !== "CommandFailed" && name !== "NotImplementedError") {
      assert.is(new (cls as new (m: string) => Error)("m").name, name);
    }
  }
});

test.run();
