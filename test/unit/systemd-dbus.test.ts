// The D-Bus wire format (marshalling, messages) and the GVariant text parser
// of the systemd driver: byte for byte, without a bus.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MessageType, Variant, WireError, decodeMessage, encodeMessage, marshal, messageLength, splitSignature, unmarshal } from "../../src/linux/cgroups/dbus-wire";
import { GVariantError, parseGVariant } from "../../src/linux/cgroups/gvariant";
import { authLines, systemBusPath } from "../../src/linux/cgroups/dbus-conn";

const hex = (b: Buffer) => b.toString("hex");
const isA = (c: abstract new (...a: never[]) => unknown) => (e: unknown) => e instanceof c;

// -------------------------------------------------------------- signatures ----
test("signatures: split into complete types; invalid ones refused", () => {
  assert.equal(splitSignature("ssa(sv)a(sa(sv))"), ["s", "s", "a(sv)", "a(sa(sv))"]);
  assert.equal(splitSignature("uoss"), ["u", "o", "s", "s"]);
  assert.equal(splitSignature("a{sv}at"), ["a{sv}", "at"]);
  assert.equal(splitSignature(""), []);
  for (const bad of ["a", "(", "()", "(s", "a{vs}", "a{s}", "a{sss}", "z", "s)"]) assert.throws(() => splitSignature(bad), isA(WireError), bad);
});

// ------------------------------------------------------------- marshalling ----
test("marshal: strings, alignment and padding as the spec lays them out", () => {
  assert.is(hex(marshal("s", ["abc"])), "03000000" + "61626300");
  // a byte, then a string aligned to 4
  assert.is(hex(marshal("ys", [1, "a"])), "01000000" + "01000000" + "6100");
  // uint64 aligned to 8
  assert.is(hex(marshal("yt", [1, 5n])), "0100000000000000" + "0500000000000000");
  // an empty array still pads to its element's alignment; the length excludes that padding
  assert.is(hex(marshal("a(ss)", [[]])), "00000000" + "00000000");
  // signature: one length byte
  assert.is(hex(marshal("g", ["a(sv)"])), "05" + Buffer.from("a(sv)").toString("hex") + "00");
  assert.is(hex(marshal("b", [true])), "01000000");
  assert.is(hex(marshal("n", [-2])), "feff");
  assert.is(hex(marshal("x", [-1n])), "ffffffffffffffff");
  assert.is(hex(marshal("d", [1])), "000000000000f03f");
  assert.is(hex(marshal("ay", [Buffer.from([1, 2, 3])])), "03000000010203");
  assert.is(hex(marshal("ay", [[1, 2]])), "020000000102");
});

test("marshal: a(sv) with a variant, the shape of a unit property", () => {
  const b = marshal("a(sv)", [[["Delegate", new Variant("b", true)]]]);
  // length 20; struct at 8: "Delegate" (4+9), variant signature "b" at 21 (3 bytes), bool at 24
  assert.is(hex(b), "14000000" + "00000000" + "08000000" + Buffer.from("Delegate\0").toString("hex") + "016200" + "01000000");
});

test("marshal: values out of range or of the wrong kind are refused", () => {
  assert.throws(() => marshal("y", [256]), isA(WireError));
  assert.throws(() => marshal("u", [-1]), isA(WireError));
  assert.throws(() => marshal("u", [1.5]), isA(WireError));
  assert.throws(() => marshal("t", [-1n]), isA(WireError));
  assert.throws(() => marshal("t", [1n << 64n]), isA(WireError));
  assert.throws(() => marshal("i", [2 ** 31]), isA(WireError));
  assert.throws(() => marshal("s", [5]), isA(WireError));
  assert.throws(() => marshal("s", ["a\0b"]), /NUL/);
  assert.throws(() => marshal("o", ["not/a/path"]), /object path/);
  assert.throws(() => marshal("o", ["/trailing/"]), /object path/);
  assert.throws(() => marshal("v", ["x"]), /Variant/);
  assert.throws(() => marshal("v", [new Variant("ss", "x")]), /one complete type/);
  assert.throws(() => marshal("(su)", [["a"]]), /needs 2 values/);
  assert.throws(() => marshal("ss", ["a"]), /takes 2 values/);
  assert.throws(() => marshal("b", [1]), /boolean/);
});

test("unmarshal: every type round-trips", () => {
  const sig = "ybnqiuxtdsogvasa(sv)a{su}ay(ib)";
  const vals = [
    255, true, -32768, 65535, -2147483648, 4294967295, -(1n << 63n), (1n << 64n) - 1n, 0.5,
    "héllo", "/org/freedesktop/systemd1", "a(sv)", new Variant("at", [1n, 2n]),
    ["a", "", "c"], [["MemoryMax", new Variant("t", 67108864n)], ["Slice", new Variant("s", "system.slice")]],
    [["k", 7]], Buffer.from([9, 8, 7]), [-5, false],
  ];
  const back = unmarshal(sig, marshal(sig, vals));
  assert.equal(back, vals);
});

test("unmarshal: big-endian bodies; truncation, overrun and junk are errors", () => {
  assert.equal(unmarshal("u", Buffer.from([0, 0, 0, 5]), false), [5]);
  assert.equal(unmarshal("s", Buffer.from([0, 0, 0, 2, 0x68, 0x69, 0]), false), ["hi"]);
  assert.throws(() => unmarshal("u", Buffer.from([1, 0])), /truncated/);
  assert.throws(() => unmarshal("s", Buffer.from([3, 0, 0, 0, 0x61, 0x62, 0x63, 0x64])), /NUL/);
  assert.throws(() => unmarshal("b", Buffer.from([2, 0, 0, 0])), /boolean/);
  assert.throws(() => unmarshal("y", Buffer.from([1, 2])), /after the body/);
  // array length past the end
  assert.throws(() => unmarshal("au", Buffer.from([8, 0, 0, 0, 1, 0, 0, 0])), /truncated/);
});

// ---------------------------------------------------------------- messages ----
test("messages: encode/decode round trip, header fields, body signature", () => {
  const m = {
    type: MessageType.MethodCall,
    serial: 7,
    destination: "org.freedesktop.systemd1",
    path: "/org/freedesktop/systemd1",
    interface: "org.freedesktop.systemd1.Manager",
    member: "StartTransientUnit",
    signature: "ssa(sv)a(sa(sv))",
    body: ["runc-x.scope", "replace", [["PIDs", new Variant("au", [1234])], ["Delegate", new Variant("b", true)]], []],
  };
  const bytes = encodeMessage(m);
  assert.is(bytes[0], 0x6c);
  assert.is(bytes[1], 1);
  assert.is(bytes[3], 1);
  assert.is(messageLength(bytes), bytes.length);
  assert.is(messageLength(bytes.subarray(0, 15)), undefined);
  const back = decodeMessage(bytes);
  assert.equal({ ...back, flags: undefined }, { ...m, flags: undefined });
  // the body starts 8-aligned after the header fields
  assert.is((bytes.length - marshal(m.signature, m.body).length) % 8, 0);
});

test("messages: a signal and an error reply decode as systemd sends them", () => {
  const sig = encodeMessage({ type: MessageType.Signal, serial: 3, path: "/org/freedesktop/systemd1", interface: "org.freedesktop.systemd1.Manager", member: "JobRemoved", sender: ":1.0", signature: "uoss", body: [42, "/org/freedesktop/systemd1/job/42", "runc-x.scope", "done"] });
  const s = decodeMessage(sig);
  assert.is(s.type, MessageType.Signal);
  assert.equal(s.body, [42, "/org/freedesktop/systemd1/job/42", "runc-x.scope", "done"]);
  assert.is(s.sender, ":1.0");
  const err = decodeMessage(encodeMessage({ type: MessageType.Error, serial: 4, replySerial: 9, errorName: "org.freedesktop.systemd1.NoSuchUnit", signature: "s", body: ["Unit x.scope not loaded."] }));
  assert.is(err.replySerial, 9);
  assert.is(err.errorName, "org.freedesktop.systemd1.NoSuchUnit");
  assert.equal(err.body, ["Unit x.scope not loaded."]);
  // no body: no signature field
  const hello = decodeMessage(encodeMessage({ type: MessageType.MethodCall, serial: 1, path: "/org/freedesktop/DBus", member: "Hello" }));
  assert.is(hello.signature, undefined);
  assert.equal(hello.body, []);
});

test("messages: bad headers are refused", () => {
  const ok = encodeMessage({ type: MessageType.MethodCall, serial: 1, path: "/", member: "Ping" });
  const badEndian = Buffer.from(ok);
  badEndian[0] = 0x41;
  assert.throws(() => messageLength(badEndian), /endianness/);
  const badVersion = Buffer.from(ok);
  badVersion[3] = 2;
  assert.throws(() => messageLength(badVersion), /version/);
  const huge = Buffer.from(ok);
  huge.writeUInt32LE(0x10000000, 4);
  assert.throws(() => messageLength(huge), /128 MiB/);
  assert.throws(() => decodeMessage(ok.subarray(0, ok.length - 1)), /truncated/);
});

test("connection helpers: AUTH EXTERNAL line, DBUS_SYSTEM_BUS_ADDRESS", () => {
  assert.is(authLines(0), "\0AUTH EXTERNAL 30\r\nBEGIN\r\n");
  assert.is(authLines(1000), "\0AUTH EXTERNAL 31303030\r\nBEGIN\r\n");
  assert.is(systemBusPath({}), "/run/dbus/system_bus_socket");
  assert.is(systemBusPath({ DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/var/run/dbus/system_bus_socket" }), "/var/run/dbus/system_bus_socket");
  assert.is(systemBusPath({ DBUS_SYSTEM_BUS_ADDRESS: "tcp:host=x,port=1;unix:path=/tmp/a%20b,guid=1" }), "/tmp/a b");
  assert.is(systemBusPath({ DBUS_SYSTEM_BUS_ADDRESS: "unix:abstract=bus" }), "\0bus");
});

// ----------------------------------------------------------------- GVariant ----
const gv = (s: string) => {
  const v = parseGVariant(s);
  return [v.signature, v.value];
};

test("gvariant: numbers infer int32 or double; typed numbers; godbus' bases", () => {
  assert.equal(gv("42"), ["i", 42]);
  assert.equal(gv("-7"), ["i", -7]);
  assert.equal(gv("1.5"), ["d", 1.5]);
  assert.equal(gv("1e3"), ["d", 1000]);
  assert.equal(gv("uint64 100"), ["t", 100n]);
  assert.equal(gv("uint64 18446744073709551615"), ["t", (1n << 64n) - 1n]);
  assert.equal(gv("@t 5"), ["t", 5n]);
  assert.equal(gv("int64 -5"), ["x", -5n]);
  assert.equal(gv("uint32 7"), ["u", 7]);
  assert.equal(gv("byte 255"), ["y", 255]);
  assert.equal(gv("int16 -3"), ["n", -3]);
  assert.equal(gv("uint16 3"), ["q", 3]);
  assert.equal(gv("double 2"), ["d", 2]);
  assert.equal(gv("0x1f"), ["i", 31]);
  assert.equal(gv("010"), ["i", 8]);
  assert.equal(gv("  uint64   9  "), ["t", 9n]);
  assert.throws(() => parseGVariant("2147483648"), isA(GVariantError)); // int32 overflows, as in runc
  assert.throws(() => parseGVariant("uint64 -1"), isA(GVariantError));
  assert.throws(() => parseGVariant("byte 256"), isA(GVariantError));
  assert.throws(() => parseGVariant("12abc"), /bad number syntax/);
});

test("gvariant: booleans, strings with escapes, retyped strings", () => {
  assert.equal(gv("true"), ["b", true]);
  assert.equal(gv("false"), ["b", false]);
  assert.equal(gv("'inactive-or-failed'"), ["s", "inactive-or-failed"]);
  assert.equal(gv('"a\\tb\\\\c\\u00e9"'), ["s", "a\tb\\cé"]);
  assert.equal(gv("objectpath '/a/b'"), ["o", "/a/b"]);
  assert.equal(gv("@g 'as'"), ["g", "as"]);
  assert.throws(() => parseGVariant("uint64 'x'"), /invalid type/);
  assert.throws(() => parseGVariant("'unterminated"), /unterminated/);
  assert.throws(() => parseGVariant("objectpath 'no'"), /object path/);
  assert.throws(() => parseGVariant("bogus"), /unrecognized type/);
});

test("gvariant: arrays (inferred, typed, empty), variants; unsupported forms", () => {
  assert.equal(gv("[1, 2]"), ["ai", [1, 2]]);
  assert.equal(gv("['a', 'b']"), ["as", ["a", "b"]]);
  assert.equal(gv("[uint64 1, 2]"), ["at", [1n, 2n]]);
  assert.equal(gv("@at [1, 2]"), ["at", [1n, 2n]]);
  assert.equal(gv("@ay [3, 255]"), ["ay", [3, 255]]);
  assert.equal(gv("@as []"), ["as", []]);
  assert.equal(gv("[[1], [2, 3]]"), ["aai", [[1], [2, 3]]]);
  const v = parseGVariant("<uint64 5>");
  assert.is(v.signature, "v");
  assert.equal(v.value, new Variant("t", 5n));
  assert.throws(() => parseGVariant("[]"), /empty array/);
  assert.throws(() => parseGVariant("[1, 'a']"), /different types/);
  assert.throws(() => parseGVariant("[1, 2"), /unterminated/);
  assert.throws(() => parseGVariant("{'a': 1}"), /dictionaries are not supported/);
  assert.throws(() => parseGVariant("b'abc'"), /byte strings are not supported/);
  assert.throws(() => parseGVariant(""), /unexpected end/);
  // as godbus: what follows the first value is not looked at
  assert.equal(gv("5 6"), ["i", 5]);
});

test.run();
