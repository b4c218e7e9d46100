import { test } from "uvu";
import * as assert from "uvu/assert";
import { findJsonSyntaxError, findUnsafeIntegers } from "../../src/spec/json";
import { childPath, formatPath, pointerToSegments } from "../../src/spec/path";
import { sysctlDotted } from "../../src/spec/semantic";

test("valid JSON has no syntax error, whatever JSON.parse accepts", () => {
  for (const t of ['{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]}', "  []  ", '"s"', "0", '{"":{}}'])
    assert.is(findJsonSyntaxError(t), undefined, t);
});

test("syntax errors are located by line and column", () => {
  assert.equal(findJsonSyntaxError('{\n  "a": 1,\n}'), { reason: "unexpected '}', expected a double-quoted property name", line: 3, column: 1 });
  assert.equal(findJsonSyntaxError('{"a" 1}'), { reason: "unexpected '1', expected ':' after a property name", line: 1, column: 6 });
  assert.equal(findJsonSyntaxError('{"a": tru}'), { reason: "unexpected 't', expected a value", line: 1, column: 7 });
  assert.equal(findJsonSyntaxError('{"a": "x'), { reason: "unterminated string", line: 1, column: 7 });
  assert.equal(findJsonSyntaxError("[1 2]"), { reason: "unexpected '2', expected ',' or ']' after an array element", line: 1, column: 4 });
  assert.equal(findJsonSyntaxError("{}}"), { reason: "unexpected data after the end of the top-level value", line: 1, column: 3 });
  assert.equal(findJsonSyntaxError("[01]"), { reason: "unexpected '1', expected ',' or ']' after an array element", line: 1, column: 3 });
  assert.equal(findJsonSyntaxError('["a\tb"]')?.reason, "unexpected control character U+0009, control characters must be escaped in strings");
  assert.equal(findJsonSyntaxError("\uFEFF{}")?.reason, "unexpected byte order mark, expected a value");
  assert.equal(findJsonSyntaxError("")?.reason, "unexpected end of input, expected a value");
});

test("unsafe integers are found by path; safe ones and fractions are not", () => {
  const t = '{"process": {"rlimits": [{"soft": 18446744073709551615, "hard": 9007199254740991}]}, "a.b": {"x": -9223372036854775808, "y": 1.8446744073709552e19}}';
  assert.equal(
    [...findUnsafeIntegers(t)],
    [
      ["process.rlimits[0].soft", 18446744073709551615n],
      ['["a.b"].x', -9223372036854775808n],
    ],
  );
});

test("very long number literals are read whole", () => {
  const huge = "1" + "0".repeat(500);
  assert.is(findJsonSyntaxError(`[${huge}, 1]`), undefined);
  assert.equal([...findUnsafeIntegers(`{"n": ${huge}}`)], [["n", BigInt(huge)]]);
});

test("a duplicated key keeps the last value, as JSON.parse does", () => {
  assert.equal([...findUnsafeIntegers('{"v": 18446744073709551615, "v": 1}')], []);
  assert.equal([...findUnsafeIntegers('{"v": 1, "v": 18446744073709551615}')], [["v", 18446744073709551615n]]);
});

test("paths", () => {
  assert.is(formatPath([]), "");
  assert.is(formatPath(["process", "rlimits", 1, "type"]), "process.rlimits[1].type");
  assert.is(formatPath(["linux", "sysctl", "net.ipv4.ip_forward"]), 'linux.sysctl["net.ipv4.ip_forward"]');
  assert.is(formatPath([0]), "[0]");
  assert.is(childPath("linux.sysctl", "kernel.sem"), 'linux.sysctl["kernel.sem"]');
  assert.is(childPath("mounts", 3, "source"), "mounts[3].source");
  assert.is(childPath("", "hostname"), "hostname");
  const data = { annotations: { "0": "x", "a/b~c": "y" }, mounts: [{}] };
  assert.equal(pointerToSegments("/annotations/0", data), ["annotations", "0"]);
  assert.equal(pointerToSegments("/annotations/a~1b~0c", data), ["annotations", "a/b~c"]);
  assert.equal(pointerToSegments("/mounts/0", data), ["mounts", 0]);
});

test("sysctl keys with slashes are read as sysctl.d(5) says", () => {
  assert.is(sysctlDotted("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
  assert.is(sysctlDotted("net/ipv4/conf/eno2.100/rp_filter"), "net.ipv4.conf.eno2/100.rp_filter");
  assert.is(sysctlDotted("kernel/shmmax"), "kernel.shmmax");
});

test.run();
