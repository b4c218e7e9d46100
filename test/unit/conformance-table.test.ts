import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatTable, totalsOf, type Row } from "../../conformance/runner/table";

const rows: Row[] = [
  {
    file: "create",
    cells: [
      { pass: true, ok: 4, failed: 0, skipped: 0, note: "" },
      { pass: false, ok: 1, failed: 3, skipped: 0, note: "exit 1" },
    ],
  },
  {
    file: "linux_cgroups_pids",
    cells: [{ pass: true, ok: 270, failed: 0, skipped: 39, note: "" }, undefined],
  },
];

test("totals count files passed and sum assertions per runtime", () => {
  assert.equal(totalsOf(rows, 0), { filesPassed: 2, files: 2, ok: 274, failed: 0, skipped: 39 });
  assert.equal(totalsOf(rows, 1), { filesPassed: 0, files: 1, ok: 1, failed: 3, skipped: 0 });
});

test("side-by-side table with aligned columns, missing cells and totals", () => {
  const out = formatTable(["runc", "ocirt"], rows);
  const expected = [
    "                    runc                  ocirt",
    "file                result  ok fail skip  result ok fail skip note",
    "--------------------------------------------------------------------",
    "create              PASS     4    0    0  FAIL    1    3    0 exit 1",
    "linux_cgroups_pids  PASS   270    0   39  -       -    -    -",
    "--------------------------------------------------------------------",
    "TOTAL               2/2    274    0   39  0/1     1    3    0",
    "",
    "runc   files passed 2/2  assertions ok 274, failed 0, skipped 39",
    "ocirt  files passed 0/1  assertions ok 1, failed 3, skipped 0",
    "",
  ].join("\n");
  assert.fixture(out, expected);
});

test("every data line has its cells at the same offsets as the heading", () => {
  const lines = formatTable(["runc", "ocirt"], rows).split("\n");
  const col = lines[1]!.indexOf("result", lines[1]!.indexOf("skip"));
  assert.ok(col > 0);
  for (const l of [lines[3]!, lines[4]!, lines[6]!]) {
    assert.ok(/\S/.test(l[col]!), `cell starts at column ${col}: ${JSON.stringify(l)}`);
    assert.is(l[col - 1], " ");
  }
});

test("long notes are clipped", () => {
  const out = formatTable(["x"], [{ file: "f", cells: [{ pass: false, ok: 0, failed: 0, skipped: 0, note: "not started: spawn /very/long/path/to/file ENOENT" }] }]);
  assert.ok(out.includes("not started: spawn /very/lo…"));
});

test.run();
