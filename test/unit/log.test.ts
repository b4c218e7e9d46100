import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configureLog, log, rfc3339 } from "../../src/log";

const tmp = mkdtempSync(join(tmpdir(), "ocirt-log-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
// logrus's time: Go's time.RFC3339 (whole seconds), as runc's log lines carry it
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/;

function withLog(format: "text" | "json", debug: boolean, body: () => void, existing?: string): string[] {
  const file = join(tmp, `log${n++}`);
  if (existing !== undefined) writeFileSync(file, existing);
  configureLog({ file, format, debug });
  try {
    body();
  } finally {
    configureLog({ format: "text", debug: false });
  }
  return readFileSync(file, "utf8").split("\n").slice(0, -1);
}

test("json: one {level,msg,time} object a line, appended", () => {
  const lines = withLog("json", false, () => {
    log.info("hello");
    log.warn("careful");
    log.error('container "x" does not exist');
  }, '{"level":"info","msg":"earlier","time":"2020-01-01T00:00:00Z"}\n');
  assert.is(lines.length, 4);
  assert.is(lines[0], '{"level":"info","msg":"earlier","time":"2020-01-01T00:00:00Z"}', "kept: appended");
  const objs = lines.slice(1).map((l) => JSON.parse(l));
  assert.equal(objs.map((o) => [o.level, o.msg]), [["info", "hello"], ["warning", "careful"], ["error", 'container "x" does not exist']]);
  for (const [i, o] of objs.entries()) {
    assert.equal(Object.keys(o), ["level", "msg", "time"], "logrus's key order (sorted)");
    assert.match(o.time, RFC3339);
    assert.ok(Math.abs(Date.parse(o.time) - Date.now()) < 60_000);
    assert.not.match(lines[i + 1]!, /\n/);
  }
});

test("json: extra fields are sorted in; clashing ones renamed as logrus does; bigints survive", () => {
  const [line] = withLog("json", false, () => log.info("m", { zeta: 1, args: ["a"], msg: "clash", big: 1n << 64n }));
  const o = JSON.parse(line!);
  assert.equal(Object.keys(o), ["args", "big", "fields.msg", "level", "msg", "time", "zeta"]);
  assert.is(o.msg, "m");
  assert.is(o["fields.msg"], "clash");
  assert.is(o.big, "18446744073709551616");
});

test("debug lines only with --debug", () => {
  const quiet = withLog("json", false, () => {
    log.debug("hidden");
    log.info("shown");
  });
  assert.equal(quiet.map((l) => JSON.parse(l).msg), ["shown"]);
  const loud = withLog("json", true, () => {
    log.debug("visible", { k: "v" });
    log.info("shown");
  });
  assert.equal(loud.map((l) => JSON.parse(l).level), ["debug", "info"]);
  assert.is(JSON.parse(loud[0]!).k, "v");
});

test("text: like logrus, time=\"...\" level=... msg=...", () => {
  const lines = withLog("text", true, () => {
    log.info("hello world");
    log.error('container "x" does not exist');
    log.debug("plain", { ops: 12, path: "/run/ocirt", args: ["a b"], note: "has space" });
    log.warn("tab\tand\nnewline");
  });
  const m = /^time="([^"]+)" level=info msg="hello world"$/.exec(lines[0]!);
  assert.ok(m, lines[0]);
  assert.match(m![1]!, RFC3339);
  assert.match(lines[1]!, /^time="[^"]+" level=error msg="container \\"x\\" does not exist"$/);
  // logrus quotes only values that need it; fields sorted after msg
  assert.match(lines[2]!, /^time="[^"]+" level=debug msg=plain args="\[\\"a b\\"\]" note="has space" ops=12 path=\/run\/ocirt$/);
  assert.match(lines[3]!, /^time="[^"]+" level=warning msg="tab\\tand\\nnewline"$/);
  assert.is(lines.length, 4, "one line each");
});

test("without --log: info and warnings to stderr, errors left to main", () => {
  const script = `
    const { configureLog, log } = require("./src/log.ts");
    configureLog({ format: process.argv[1], debug: false });
    log.debug("no"); log.info("to stderr"); log.warn("warned"); log.error("not here");`;
  for (const format of ["text", "json"]) {
    const r = spawnSync(process.execPath, ["-r", "tsx/cjs", "-e", script, format], { cwd: join(__dirname, "../.."), encoding: "utf8", timeout: 60_000 });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, "");
    const lines = r.stderr.split("\n").filter((l) => l && !l.startsWith("npm warn"));
    assert.is(lines.length, 2, r.stderr);
    if (format === "text") {
      assert.match(lines[0]!, /level=info msg="to stderr"$/);
      assert.match(lines[1]!, /level=warning msg=warned$/);
    } else {
      assert.equal(lines.map((l) => JSON.parse(l).msg), ["to stderr", "warned"]);
    }
  }
});


test("time: Go's RFC 3339 in local time, whole seconds (logrus, runc)", () => {
  const saved = process.env["TZ"];
  const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  try {
    process.env["TZ"] = "UTC";
    assert.is(rfc3339(at), "2024-01-02T03:04:05Z");
    process.env["TZ"] = "Asia/Kolkata";
    assert.is(rfc3339(at), "2024-01-02T08:34:05+05:30");
    process.env["TZ"] = "America/New_York";
    assert.is(rfc3339(at), "2024-01-01T22:04:05-05:00");
  } finally {
    if (saved === undefined) delete process.env["TZ"];
    else process.env["TZ"] = saved;
  }
});

test.run();
