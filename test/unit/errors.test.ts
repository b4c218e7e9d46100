import { test } from "uvu";
import * as assert from "uvu/assert";
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

test.run();
