// The differential harness's allow list (conformance/diff/allow.ts) and the one the
// project keeps, docs/DIFFERENCES.json (pure).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { allowedBy, classify, compileAllowList, loadAllowList } from "../../conformance/diff/allow";
import type { Difference } from "../../conformance/diff/tally";

const d = (category: string, subject: string, field: string, runc: unknown, ocirt: unknown): Difference => ({ category, subject, field, runc, ocirt });

const LIST = {
  entries: [
    { id: "lo", kind: "bug", category: "inside:.*|cli", field: "(stdout\\.)?net\\[lo\\]\\.flags", reason: "the helper brings lo up (owned by the helper)" },
    { id: "poststart-status", kind: "spec", category: "hooks", field: "state\\.status", subject: ".*poststart.*", runc: "created", ocirt: "running", reason: "poststart at start", ref: "runtime.md Lifecycle 7-9" },
  ],
};

test("an entry covers a difference by anchored category, field and subject patterns, and by both values when given", () => {
  const list = compileAllowList(LIST);
  assert.is(allowedBy(d("inside:single", "x", "net[lo].flags", ["UP"], []), list)?.id, "lo");
  assert.is(allowedBy(d("cli", "exec", "stdout.net[lo].flags", ["UP"], []), list)?.id, "lo");
  assert.is(allowedBy(d("inside:single", "x", "net[lo].flags.extra", ["UP"], []), list), undefined, "anchored at the end");
  assert.is(allowedBy(d("console", "x", "net[lo].flags", ["UP"], []), list), undefined, "another category");
  assert.is(allowedBy(d("hooks", "every stage / poststart#env", "state.status", "created", "running"), list)?.id, "poststart-status");
  assert.is(allowedBy(d("hooks", "every stage / prestart#env", "state.status", "created", "running"), list), undefined, "subject differs");
  assert.is(allowedBy(d("hooks", "every stage / poststart#env", "state.status", "created", "stopped"), list), undefined, "values differ");
});

test("classify: counts per entry, the unexpected ones, entries that covered nothing", () => {
  const list = compileAllowList(LIST);
  const c = classify([d("inside:pair", "a", "net[lo].flags", 1, 2), d("inside:pair", "b", "net[lo].flags", 1, 2), d("cli", "kill", "status", 1, 0)], list);
  assert.equal([...c.allowed], [["lo", 2]]);
  assert.equal(c.unexpected.map((x) => x.subject), ["kill"]);
  assert.equal(c.unused.map((e) => e.id), ["poststart-status"]);
});

test("a malformed list is refused naming the entry", () => {
  assert.throws(() => compileAllowList({}), /no "entries" array/);
  assert.throws(() => compileAllowList({ entries: [{ ...LIST.entries[0], reason: "" }] }), /entries\[0\] \(lo\): "reason"/);
  assert.throws(() => compileAllowList({ entries: [{ ...LIST.entries[0], kind: "because" }] }), /"kind" must be one of/);
  assert.throws(() => compileAllowList({ entries: [{ ...LIST.entries[1], ref: undefined }] }), /needs "ref"/);
  assert.throws(() => compileAllowList({ entries: [LIST.entries[0], LIST.entries[0]] }), /duplicate id/);
  assert.throws(() => compileAllowList({ entries: [{ ...LIST.entries[0], field: "(" }] }), /field: not a regular expression/);
});

test("docs/DIFFERENCES.json compiles, and every entry says why", () => {
  const list = loadAllowList(join(__dirname, "..", "..", "docs", "DIFFERENCES.json"));
  assert.ok(list.length > 10);
  for (const { entry } of list) assert.ok(entry.reason.length > 15, `${entry.id}: a reason a reader can check`);
});

test.run();
