import { test } from "uvu";
import * as assert from "uvu/assert";
import { DeviceEmulator, defaultDeviceCgroups, deviceWritesV1, parseDeviceRules, DEFAULT_DEVICE_RULES } from "../../src/linux/cgroups/devices";
import { blkioWeightToIoWeight, cpuSharesToWeight, int64, memorySwapToV2 } from "../../src/linux/cgroups/convert";
import { ConfigError } from "../../src/errors";
import type { DeviceRule } from "../../src/linux/cgroups/types";

const is = (cls: abstract new (...a: never[]) => unknown, re?: RegExp) => (e: unknown) =>
  e instanceof cls && (!re || re.test((e as Error & { line?: () => string }).line?.() ?? String(e)));

const rule = (s: string, allow = true): DeviceRule => {
  const [type, mm, access] = s.split(" ") as ["a" | "b" | "c", string, string];
  const [a, b] = mm.split(":");
  const n = (x: string | undefined) => (x === "*" ? -1 : Number(x));
  return { type, major: n(a), minor: n(b), access, allow };
};

test("runc's default devices come after the spec's rules; spec device paths replace defaults", () => {
  const all = defaultDeviceCgroups();
  assert.is(all.length, DEFAULT_DEVICE_RULES.length);
  assert.equal(all[0], { allow: true, type: "c", major: null, minor: null, access: "m" });
  const without = defaultDeviceCgroups(["/dev/null", "/dev/tty"]);
  assert.is(without.length, DEFAULT_DEVICE_RULES.length - 2);
  assert.not.ok(without.some((d) => d.major === 1 && d.minor === 3));
  assert.not.ok(without.some((d) => d.major === 5 && d.minor === 0));
});

test("spec rules are validated with the field named", () => {
  assert.equal(parseDeviceRules([{ allow: false, access: "rwm" }]), [{ type: "a", major: -1, minor: -1, access: "rwm", allow: false }]);
  assert.equal(parseDeviceRules([{ allow: true, type: "c", major: 10, minor: 229, access: "rw" }]), [rule("c 10:229 rw")]);
  assert.throws(() => parseDeviceRules([{ allow: true, type: "x" as never, access: "r" }]), is(ConfigError, /devices\[0\]\.type/));
  assert.throws(() => parseDeviceRules([{ allow: true, type: "c", access: "" }]), is(ConfigError, /devices\[0\]\.access/));
  assert.throws(() => parseDeviceRules([{ allow: true, type: "c" }, { allow: true, access: "rwx" }]), is(ConfigError, /devices\[0\]\.access/));
  assert.throws(() => parseDeviceRules([{ allow: true, access: "rwm" }, { allow: true, access: "rwq" }]), is(ConfigError, /devices\[1\]\.access: invalid/));
});

test("fresh cgroup (allow-all): deny everything, then the allows in (major, minor, type) order", () => {
  const rules = [rule("a *:* rwm", false), ...parseDeviceRules(defaultDeviceCgroups())];
  assert.equal(deviceWritesV1("a *:* rwm\n", rules), [
    { file: "devices.deny", value: "a *:* rwm" },
    { file: "devices.allow", value: "b *:* m" },
    { file: "devices.allow", value: "c *:* m" },
    { file: "devices.allow", value: "c 1:3 rwm" },
    { file: "devices.allow", value: "c 1:5 rwm" },
    { file: "devices.allow", value: "c 1:7 rwm" },
    { file: "devices.allow", value: "c 1:8 rwm" },
    { file: "devices.allow", value: "c 1:9 rwm" },
    { file: "devices.allow", value: "c 5:0 rwm" },
    { file: "devices.allow", value: "c 5:2 rwm" },
    { file: "devices.allow", value: "c 10:200 rwm" },
    { file: "devices.allow", value: "c 136:* rwm" },
  ]);
});

test("update of a whitelist: only the difference is written, nothing disruptive", () => {
  const current = "c 1:3 rwm\nc 1:5 rwm\nc 10:200 rwm\n";
  const target = [rule("c 1:3 rwm"), rule("c 1:5 r"), rule("b 8:0 rw")];
  assert.equal(deviceWritesV1(current, target), [
    { file: "devices.deny", value: "c 1:5 wm" },
    { file: "devices.deny", value: "c 10:200 rwm" },
    { file: "devices.allow", value: "b 8:0 rw" },
  ]);
  assert.equal(deviceWritesV1("c 1:3 rwm\n", [rule("c 1:3 rwm")]), []);
});

test("a blacklist target: allow all, then the denies", () => {
  const target = [rule("a *:* rwm"), rule("c 1:3 w", false)];
  assert.equal(deviceWritesV1("c 1:3 rwm\n", target), [
    { file: "devices.allow", value: "a *:* rwm" },
    { file: "devices.deny", value: "c 1:3 w" },
  ]);
});

test("punching a hole in a wildcard rule is refused like runc", () => {
  assert.throws(() => DeviceEmulator.fromRules([rule("c *:* rwm"), rule("c 1:3 w", false)]), is(ConfigError, /wildcard/));
});

test("emulator round trip through devices.list", () => {
  const e = DeviceEmulator.fromList("c 1:3 rwm\nb *:* m\nc 136:* rw\n");
  assert.not.ok(e.isBlacklist());
  assert.ok(e.equals(DeviceEmulator.fromRules([rule("c 1:3 rwm"), rule("b *:* m"), rule("c 136:* rw")])));
  assert.ok(DeviceEmulator.fromList("a *:* rwm\n").isBlacklist());
  assert.throws(() => DeviceEmulator.fromList("q 1:2 rwm\n"));
});

test("cpu shares -> weight (runc's test vectors)", () => {
  const cases: [bigint, bigint][] = [
    [0n, 0n],
    [1n, 1n],
    [2n, 1n],
    [3n, 2n],
    [1024n, 100n],
    [262143n, 10000n],
    [262144n, 10000n],
    [262145n, 10000n],
  ];
  for (const [s, w] of cases) assert.is(cpuSharesToWeight(s), w, `shares ${s}`);
  assert.is(cpuSharesToWeight(512n), 59n);
});

test("blkio weight -> io.weight", () => {
  assert.is(blkioWeightToIoWeight(0n), 0n);
  assert.is(blkioWeightToIoWeight(10n), 1n);
  assert.is(blkioWeightToIoWeight(1000n), 10000n);
  assert.is(blkioWeightToIoWeight(500n), 4950n);
});

test("memory+swap -> v2 swap (runc's test vectors)", () => {
  const ok: [bigint, bigint, bigint][] = [
    [0n, 0n, 0n],
    [-1n, 0n, -1n],
    [300n, -1n, 300n],
    [-1n, -1n, -1n],
    [-1n, 1000n, -1n],
    [1000n, 1000n, 0n],
    [500n, 200n, 300n],
    [0n, -1n, -1n],
  ];
  for (const [swap, mem, want] of ok) assert.is(memorySwapToV2(swap, mem), want, `${swap} ${mem}`);
  for (const [swap, mem] of [
    [-2n, 0n],
    [300n, 400n],
    [300n, 0n],
    [300n, -300n],
  ] as [bigint, bigint][]) {
    assert.throws(() => memorySwapToV2(swap, mem), is(ConfigError), `${swap} ${mem}`);
  }
});

test("int64 clamps doubles that JSON rounded past 2^63-1", () => {
  assert.is(int64(9223372036854775807), 9223372036854775807n);
  assert.is(int64(9223372036854775807n), 9223372036854775807n);
  assert.is(int64(-1), -1n);
});

test.run();
