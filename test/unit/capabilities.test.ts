import { test } from "uvu";
import * as assert from "uvu/assert";
import { CAPABILITIES, capName, capNumber } from "../../src/capabilities/names";
import { capMasks } from "../../src/capabilities/sets";

/** linux/capability.h */
const KERNEL: [string, number][] = [
  ["CAP_CHOWN", 0], ["CAP_DAC_OVERRIDE", 1], ["CAP_DAC_READ_SEARCH", 2], ["CAP_FOWNER", 3], ["CAP_FSETID", 4],
  ["CAP_KILL", 5], ["CAP_SETGID", 6], ["CAP_SETUID", 7], ["CAP_SETPCAP", 8], ["CAP_LINUX_IMMUTABLE", 9],
  ["CAP_NET_BIND_SERVICE", 10], ["CAP_NET_BROADCAST", 11], ["CAP_NET_ADMIN", 12], ["CAP_NET_RAW", 13],
  ["CAP_IPC_LOCK", 14], ["CAP_IPC_OWNER", 15], ["CAP_SYS_MODULE", 16], ["CAP_SYS_RAWIO", 17], ["CAP_SYS_CHROOT", 18],
  ["CAP_SYS_PTRACE", 19], ["CAP_SYS_PACCT", 20], ["CAP_SYS_ADMIN", 21], ["CAP_SYS_BOOT", 22], ["CAP_SYS_NICE", 23],
  ["CAP_SYS_RESOURCE", 24], ["CAP_SYS_TIME", 25], ["CAP_SYS_TTY_CONFIG", 26], ["CAP_MKNOD", 27], ["CAP_LEASE", 28],
  ["CAP_AUDIT_WRITE", 29], ["CAP_AUDIT_CONTROL", 30], ["CAP_SETFCAP", 31], ["CAP_MAC_OVERRIDE", 32],
  ["CAP_MAC_ADMIN", 33], ["CAP_SYSLOG", 34], ["CAP_WAKE_ALARM", 35], ["CAP_BLOCK_SUSPEND", 36], ["CAP_AUDIT_READ", 37],
  ["CAP_PERFMON", 38], ["CAP_BPF", 39], ["CAP_CHECKPOINT_RESTORE", 40],
];

test("all 41 capabilities: name <-> bit", () => {
  assert.is(CAPABILITIES.length, 41);
  for (const [name, bit] of KERNEL) {
    assert.is(capNumber(name), bit, name);
    assert.is(capName(bit), name);
    assert.is(CAPABILITIES[bit], name);
  }
});

test("capNumber: case and the CAP_ prefix are optional; unknown is undefined", () => {
  assert.is(capNumber("cap_kill"), 5);
  assert.is(capNumber("KILL"), 5);
  assert.is(capNumber("sys_admin"), 21);
  assert.is(capNumber("CAP_NOPE"), undefined);
  assert.is(capNumber(""), undefined);
  assert.is(capNumber("CAP_"), undefined);
  assert.is(capName(41), "CAP_41");
  assert.is(capName(63), "CAP_63");
});

const sets = (over: Partial<Record<"bounding" | "effective" | "inheritable" | "permitted" | "ambient", string[]>>) => ({
  bounding: [], effective: [], inheritable: [], permitted: [], ambient: [], ...over,
});

test("masks: one bit per name, per set", () => {
  const warn: string[] = [];
  const m = capMasks(
    sets({ bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_CHECKPOINT_RESTORE"], effective: ["CAP_KILL"], permitted: ["CAP_KILL", "CAP_SYS_ADMIN"], inheritable: ["CAP_NET_RAW"], ambient: ["CAP_BPF"] }),
    40,
    (w) => warn.push(w),
  );
  assert.equal(m, {
    bounding: (1n << 0n) | (1n << 5n) | (1n << 40n),
    effective: 1n << 5n,
    permitted: (1n << 5n) | (1n << 21n),
    inheritable: 1n << 13n,
    ambient: 1n << 39n,
  });
  assert.equal(warn, []);
  const all = capMasks(sets({ bounding: KERNEL.map(([n]) => n) }), 40, () => {});
  assert.is(all.bounding, (1n << 41n) - 1n);
  assert.equal(capMasks(sets({}), 40, () => {}), { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n });
  assert.is(capMasks(sets({ bounding: ["CAP_KILL", "CAP_KILL"] }), 40, () => {}).bounding, 1n << 5n, "duplicates are harmless");
});

test("unknown names are warned about, with the set, and ignored", () => {
  const warn: string[] = [];
  const m = capMasks(sets({ bounding: ["CAP_KILL", "CAP_FUTURE"], effective: ["CAP_FUTURE"] }), 40, (w) => warn.push(w));
  assert.is(m.bounding, 1n << 5n);
  assert.is(m.effective, 0n);
  assert.is(warn.length, 2);
  assert.match(warn[0]!, /^process\.capabilities\.bounding: .*"CAP_FUTURE"/);
  assert.match(warn[1]!, /^process\.capabilities\.effective: .*"CAP_FUTURE"/);
});

test("capabilities above the kernel's cap_last_cap are warned about and ignored", () => {
  const warn: string[] = [];
  const m = capMasks(sets({ bounding: ["CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_PERFMON"] }), 38, (w) => warn.push(w));
  assert.is(m.bounding, 1n << 38n);
  assert.is(warn.length, 2);
  assert.ok(warn.some((w) => w.includes("CAP_BPF")));
  assert.ok(warn.some((w) => w.includes("CAP_CHECKPOINT_RESTORE")));
});

test.run();
