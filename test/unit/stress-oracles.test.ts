// The standing checks' oracles (test/stress/lib), without root: what counts as a
// proper rejection, and which failures are marked with a known cause.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { badRejection, internalError, type Result } from "../stress/lib/ocirt";
import { KNOWN } from "../stress/lib/report";

const r = (status: number, stderr: string, more: Partial<Result> = {}): Result => ({ status, signal: null, stdout: "", stderr, ms: 1, timedOut: false, ...more });

test("a rejection is exit 1 and one line on stderr; warnings aside", () => {
  assert.is(badRejection(r(0, "")), null);
  assert.is(badRejection(r(1, "process.cwd: must be an absolute path\n")), null);
  assert.is(badRejection(r(1, 'time="2024-01-01T00:00:00Z" level=warning msg="x"\nmounts[0]: bad\n')), null);
  assert.match(badRejection(r(1, "root.path: no such directory \"/a\nb\"\n"))!, /2 lines on stderr/);
  assert.match(badRejection(r(1, ""))!, /0 lines on stderr/);
  assert.match(badRejection(r(2, "x\n"))!, /exit status 2, not 1/);
  assert.match(badRejection(r(139, "", { signal: "SIGSEGV" }))!, /exit status 139 \(SIGSEGV\)/);
  assert.match(badRejection(r(137, "", { timedOut: true }))!, /did not finish/);
});

test("internal errors and stack traces are never a proper answer, even with exit 0", () => {
  assert.match(badRejection(r(1, "internal error: Cannot read properties of undefined (reading 'x')\n"))!, /internal error/);
  assert.match(badRejection(r(0, "TypeError: x is not a function\n    at f (/a/b.js:1:2)\n"))!, /stack trace/);
  assert.is(internalError("mounts[0] (/at x): refused"), null);
  assert.match(internalError("RangeError: Maximum call stack size exceeded")!, /uncaught/);
});

test("known causes: the helper's 64-entry ops, the 8 KB hook state", () => {
  const key = (s: string) => KNOWN.find((k) => k.match.test(s))?.key;
  assert.is(key("process.args[0] (/bin/probe): plan op 60 is malformed: invalid argument (EINVAL)"), "helper-argv-env-64");
  assert.is(key("hooks.createContainer[0] (/bin/true): hook /bin/true: state too large: argument list too long (E2BIG)"), "hook-state-8k");
  assert.is(key("mounts[1] (/x): no such file or directory (ENOENT)"), undefined);
});

test.run();
