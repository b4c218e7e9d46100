import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseTap, planSatisfied } from "../../conformance/runner/tap";
import { judge, shortReason, type ProcessOutcome } from "../../conformance/runner/verdict";

const exit0: ProcessOutcome = { exitCode: 0, signal: null, timedOut: false };

test("plan first, results, counts", () => {
  const r = parseTap("TAP version 13\n1..3\nok 1 - first\nnot ok 2 - second\nok 3 - third\n");
  assert.is(r.version, 13);
  assert.equal(r.plan, { count: 3, line: 2 });
  assert.equal(
    r.assertions.map((a) => [a.id, a.ok, a.description]),
    [
      [1, true, "first"],
      [2, false, "second"],
      [3, true, "third"],
    ],
  );
  assert.equal(r.counts, { ok: 2, failed: 1, skipped: 0, todo: 0, todoPassed: 0, total: 3 });
  assert.ok(planSatisfied(r));
  assert.equal(r.problems, []);
});

test("plan at the end (tap-go AutoPlan) and results without numbers or dash", () => {
  const r = parseTap("TAP version 13\nok first\nok\nnot ok third one\n1..3\n");
  assert.equal(
    r.assertions.map((a) => [a.id, a.description]),
    [
      [1, "first"],
      [2, ""],
      [3, "third one"],
    ],
  );
  assert.ok(planSatisfied(r));
});

test("SKIP and TODO directives in tap-go and classic form", () => {
  const r = parseTap(
    [
      "1..5",
      "ok 1 # SKIP linux.uidMappings not set",
      "ok 2 - has thing # skip not on this kernel",
      "not ok 3 # TODO not done yet",
      "ok 4 - bonus # TODO later",
      "ok 5 - plain",
    ].join("\n"),
  );
  const [a1, a2, a3, a4] = r.assertions;
  assert.is(a1!.directive, "SKIP");
  assert.is(a1!.reason, "linux.uidMappings not set");
  assert.is(a1!.description, "linux.uidMappings not set");
  assert.is(a2!.directive, "SKIP");
  assert.is(a2!.description, "has thing");
  assert.is(a2!.reason, "not on this kernel");
  assert.is(a3!.directive, "TODO");
  assert.is(a3!.ok, false);
  assert.is(a4!.directive, "TODO");
  assert.equal(r.counts, { ok: 1, failed: 0, skipped: 2, todo: 2, todoPassed: 1, total: 5 });
  assert.ok(judge(exit0, r).pass, "a failing TODO does not fail the file");
});

test("a hash that is not a directive stays in the description; escaped hash is unescaped", () => {
  const r = parseTap("1..2\nok 1 - fixes issue #12\nok 2 - literal \\# SKIP not a directive\n");
  assert.is(r.assertions[0]!.description, "fixes issue #12");
  assert.is(r.assertions[0]!.directive, undefined);
  assert.is(r.assertions[1]!.description, "literal # SKIP not a directive");
  assert.is(r.assertions[1]!.directive, undefined);
});

test("YAML blocks after results: JSON (tap-go) and flat YAML", () => {
  const text = [
    "TAP version 13",
    "not ok 1 - has expected hostname",
    "  ---",
    "  {",
    '    "actual": "a",',
    '    "expected": "b"',
    "  }",
    "  ...",
    "not ok 2 - other",
    "  ---",
    "  message: bad value",
    "  severity: fail",
    "  count: 3",
    "  ...",
    "1..2",
  ].join("\n");
  const r = parseTap(text);
  assert.equal(r.assertions[0]!.diagnostic!.data, { actual: "a", expected: "b" });
  assert.equal(r.assertions[1]!.diagnostic!.data, { message: "bad value", severity: "fail", count: 3 });
  assert.is(r.diagnosticPlacement, "after");
  assert.equal(r.orphanDiagnostics, []);
  assert.equal(r.extra, []);
});

test("YAML blocks printed before their result are attached to the next result", () => {
  // validation/hostname: RuntimeInsideValidate prints YAML, then "ok", then SpecErrorOK-less "ok".
  const text = ["TAP version 13", "  ---", '  {"stdout": "one"}', "  ...", "ok 1 - check a", "ok 2 - a set", "  ---", '  {"stdout": "two"}', "  ...", "not ok 3 - check b", "ok 4 - b set", "1..4"].join("\n");
  const r = parseTap(text);
  assert.is(r.diagnosticPlacement, "before");
  assert.equal(r.assertions[0]!.diagnostic!.data, { stdout: "one" });
  assert.is(r.assertions[1]!.diagnostic, undefined);
  assert.equal(r.assertions[2]!.diagnostic!.data, { stdout: "two" });
  assert.equal(r.orphanDiagnostics, []);
});

test("a YAML block with no result is an orphan and fails the file when it carries an error", () => {
  // validation/poststart: the violation is reported only as YAML, then "1..0".
  const r = parseTap('TAP version 13\n  ---\n  {\n    "error": "The post-start hooks MUST be called"\n  }\n  ...\n1..0\n');
  assert.is(r.orphanDiagnostics.length, 1);
  assert.ok(planSatisfied(r));
  const v = judge(exit0, r);
  assert.is(v.pass, false);
  assert.equal(v.reasons, ["error diagnostic"]);
  const clean = judge(exit0, parseTap("TAP version 13\n1..0\n"));
  assert.ok(clean.pass);
  assert.equal(clean.warnings, ["no results"]);
});

test("unterminated YAML block is kept and flagged", () => {
  const r = parseTap("1..1\nnot ok 1 - x\n  ---\n  {\"a\": 1}\n");
  assert.equal(r.assertions[0]!.diagnostic!.data, { a: 1 });
  assert.is(r.assertions[0]!.diagnostic!.unterminated, true);
  assert.ok(r.problems.some((p) => p.includes("not terminated")));
});

test("bail out stops the plan from being satisfied", () => {
  const r = parseTap("1..3\nok 1 - a\nBail out! no cgroup v1\n");
  assert.is(r.bailOut, "no cgroup v1");
  assert.not.ok(planSatisfied(r));
  const v = judge(exit0, r);
  assert.is(v.pass, false);
  assert.is(shortReason(v), "bail");
});

test("skip-all plan", () => {
  const r = parseTap("1..0 # SKIP no hugetlb\n");
  assert.equal(r.plan, { count: 0, line: 1, skipAll: "no hugetlb" });
  const v = judge(exit0, r);
  assert.ok(v.pass);
  assert.is(shortReason(v), "skipped");
});

test("structural problems: second plan, numbering, plan mismatch", () => {
  const r = parseTap("1..3\nok 1\nok 3\n1..2\n");
  assert.ok(r.problems.some((p) => p.includes("second plan")));
  assert.ok(r.problems.some((p) => p.includes("out of sequence")));
  assert.not.ok(planSatisfied(r));
  assert.equal(judge(exit0, r).reasons, ["plan 2/3"]);
});

test("non-TAP lines are kept as extra, comments separately", () => {
  const r = parseTap("TAP version 13\n# a comment\npanic: runtime error\n\tgoroutine 1\nok 1 - a\n");
  assert.equal(r.comments, ["a comment"]);
  assert.equal(r.extra, ["panic: runtime error", "\tgoroutine 1"]);
  assert.equal(judge({ exitCode: 2, signal: null, timedOut: false }, r).reasons, ["no plan", "exit 2"]);
});

test("verdict: exit status, timeout, signal and not ok each fail the file", () => {
  const good = parseTap("1..1\nok 1 - a\n");
  assert.ok(judge(exit0, good).pass);
  assert.equal(judge({ exitCode: 1, signal: null, timedOut: false }, good).reasons, ["exit 1"]);
  assert.equal(judge({ exitCode: null, signal: "SIGTERM", timedOut: true }, good).reasons, ["timeout"]);
  assert.equal(judge({ exitCode: null, signal: "SIGSEGV", timedOut: false }, good).reasons, ["signal SIGSEGV"]);
  assert.equal(judge(exit0, parseTap("1..2\nok 1\nnot ok 2\n")).reasons, ["1 not ok"]);
  assert.equal(judge({ exitCode: null, signal: null, timedOut: false, spawnError: "ENOENT" }, parseTap("")).reasons[0], "not started: ENOENT");
});

test("verdict: empty stdout with exit 0 is runtime-tools' expected-error pass; with exit 1 it fails", () => {
  const v = judge(exit0, parseTap(""));
  assert.ok(v.pass);
  assert.is(shortReason(v), "no output");
  assert.equal(judge({ exitCode: 1, signal: null, timedOut: false }, parseTap("")).reasons, ["no plan", "exit 1"]);
});

test("CRLF line endings", () => {
  const r = parseTap("1..1\r\nok 1 - a\r\n");
  assert.ok(planSatisfied(r));
  assert.is(r.assertions[0]!.description, "a");
});

test.run();
