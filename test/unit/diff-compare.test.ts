// The differential harness's comparison and stderr classification (pure).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { classifyStderr, diffValues, isEqual, stderrMessages } from "../../conformance/diff/compare";
import { Tally, groupDifferences, renderMatrix } from "../../conformance/diff/tally";

test("equal values give no leaves; scalars differ at their path", () => {
  assert.equal(diffValues({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }), []);
  assert.equal(diffValues({ a: { b: 1 } }, { a: { b: 2 } }), [{ path: "a.b", runc: 1, ocirt: 2 }]);
  assert.equal(diffValues({ a: 1 }, {}), [{ path: "a", runc: 1, ocirt: undefined }]);
  assert.ok(isEqual(null, null));
  assert.not.ok(isEqual(0, null));
});

test("arrays of primitives: what only one side has, then order", () => {
  assert.equal(diffValues(["x", "y", "z"], ["y", "x", "w"], "env"), [{ path: "env", runc: ["z"], ocirt: ["w"] }]);
  assert.equal(diffValues(["a", "b"], ["b", "a"], "groups"), [{ path: "groups(order)", runc: ["a", "b"], ocirt: ["b", "a"] }]);
  assert.equal(diffValues(["a", "a"], ["a"], "dup"), [{ path: "dup", runc: ["a"], ocirt: [] }]);
});

test("arrays of objects with a key are matched by it (mounts by mount point)", () => {
  const m = (p: string, o: string[]) => ({ mount_point: p, options: o });
  const a = [m("/", ["ro"]), m("/proc", ["rw"]), m("/sys", ["ro"])];
  const b = [m("/", ["ro"]), m("/sys", ["ro"]), m("/proc", ["rw", "nosuid"])];
  assert.equal(diffValues(a, b, "mounts"), [{ path: "mounts[/proc].options", runc: [], ocirt: ["nosuid"] }]);
  // a mount missing on one side is one leaf, not a cascade of shifted indexes
  const c = [m("/", ["ro"]), m("/sys", ["ro"])];
  const d = diffValues(a, c, "mounts");
  assert.is(d.length, 1);
  assert.is(d[0]!.path, "mounts[/proc]");
  assert.is(d[0]!.ocirt, undefined);
  // same elements in another order
  assert.equal(diffValues([m("/a", []), m("/b", [])], [m("/b", []), m("/a", [])], "mounts").map((l) => l.path), ["mounts(order)"]);
  // a mount point mounted twice is matched by occurrence
  assert.equal(diffValues([m("/x", ["a"]), m("/x", ["b"])], [m("/x", ["a"]), m("/x", ["c"])], "mounts").map((l) => l.path), ["mounts[/x#2].options"]);
});

test("stderr: runc's logrus message is what counts; key words engines match", () => {
  const runc = 'time="2024-01-01T00:00:00Z" level=error msg="container does not exist"\n';
  assert.equal(stderrMessages(runc), ["container does not exist"]);
  const c = classifyStderr(runc, 1);
  assert.ok(c.error);
  assert.not.ok(c.empty);
  assert.ok(c.keywords.includes("does not exist"));
  const o = classifyStderr('container "x" does not exist\n', 1);
  assert.ok(o.keywords.includes("does not exist"));
  assert.equal(classifyStderr("", 0), { empty: true, error: false, keywords: [] });
  assert.ok(classifyStderr("cannot kill: container not running", 1).keywords.includes("not running"));
  assert.not.ok(classifyStderr("warning: something", 0).error);
});

test("tally: cells, counts and grouped differences", () => {
  const t = new Tally();
  t.cells("inside", "cfg1", { a: 1, b: 2 }, { a: 1, b: 3 });
  t.cells("inside", "cfg2", { a: 1, b: 2 }, { a: 1, b: 3 });
  t.cell("cli", "state [missing]", "status", 1, 1);
  t.cell("cli", "x", "gone", "v", undefined);
  assert.equal(t.counts.get("inside"), { compared: 4, equal: 2, different: 2 });
  assert.equal(t.counts.get("cli"), { compared: 2, equal: 1, different: 1 });
  assert.is(t.differences.length, 3);
  assert.is(t.differences[2]!.ocirt, "(absent)", "undefined survives JSON as a marker");
  const g = groupDifferences(t.differences);
  assert.is(g.length, 2);
  const b = g.find((x) => x.field === "b")!;
  assert.equal(b.subjects, ["cfg1", "cfg2"]);
  const text = renderMatrix(t);
  assert.match(text, /inside\s+4\s+2\s+2/);
  assert.match(text, /total\s+6\s+3\s+3/);
  assert.match(text, /\[inside\] b: runc 2 \| ocirt 3 {2}— cfg1; cfg2/);
  const j = JSON.parse(JSON.stringify(t.toJSON()));
  assert.is(j.differences.length, 3);
});

test.run();
