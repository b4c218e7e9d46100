// The eBPF device program, checked two ways: instruction for instruction
// against runc's golden programs (opencontainers/cgroups devicefilter_test.go),
// and by running it in a small eBPF interpreter (with the checks of the
// kernel's verifier that matter here) against what cgroup v1 decides for the
// same rules, the devices emulator's state read with the kernel's matching.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError } from "../../src/errors";
import { DEFAULT_DEVICE_RULES, DeviceEmulator, defaultDeviceCgroups, parseDeviceRules } from "../../src/linux/cgroups/devices";
import {
  BPF_DEVCG_ACC_MKNOD,
  BPF_DEVCG_ACC_READ,
  BPF_DEVCG_ACC_WRITE,
  BPF_DEVCG_DEV_BLOCK,
  BPF_DEVCG_DEV_CHAR,
  compileDeviceFilter,
  decodeBpf,
  deviceFilterProgram,
  encodeBpf,
  type BpfInsn,
} from "../../src/linux/cgroups/devices-bpf";
import type { DeviceRule } from "../../src/linux/cgroups/types";

const rule = (s: string, allow = true): DeviceRule => {
  const [type, mm, access] = s.split(" ") as ["a" | "b" | "c", string, string];
  const [a, b] = mm.split(":");
  const n = (x: string | undefined) => (x === "*" ? -1 : Number(x));
  return { type, major: n(a), minor: n(b), access, allow };
};

// ------------------------------------------------------------ interpreter ----
class VerifierError extends Error {}

/** Runs a CGROUP_DEVICE program on one request; returns r0. */
function run(prog: readonly BpfInsn[], ctx: { type: number; access: number; major: number; minor: number }): number {
  const ctxBytes = Buffer.alloc(12);
  ctxBytes.writeUInt32LE(((ctx.access << 16) | ctx.type) >>> 0, 0);
  ctxBytes.writeUInt32LE(ctx.major >>> 0, 4);
  ctxBytes.writeUInt32LE(ctx.minor >>> 0, 8);
  // A register is a 64-bit scalar or the context pointer; undefined = never written.
  const regs: ({ ctx: true } | { ctx: false; v: bigint } | undefined)[] = new Array(11).fill(undefined);
  regs[1] = { ctx: true };
  const M64 = (1n << 64n) - 1n, M32 = (1n << 32n) - 1n;
  const scalar = (r: number, pc: number): bigint => {
    const x = regs[r];
    if (!x) throw new VerifierError(`${pc}: R${r} !read_ok`);
    if (x.ctx) throw new VerifierError(`${pc}: R${r} is the context pointer, not a scalar`);
    return x.v;
  };
  const sext = (imm: number) => BigInt.asUintN(64, BigInt(imm));
  let steps = 0;
  for (let pc = 0; ; ) {
    if (pc < 0 || pc >= prog.length) throw new VerifierError(`jump out of range to ${pc}`);
    if (++steps > 10000) throw new VerifierError("loop");
    const x = prog[pc]!;
    const cls = x.code & 0x07;
    if (x.dst > 10 || x.src > 10 || x.dst === 10) throw new VerifierError(`${pc}: bad register`);
    if (cls === 0x01) {
      // LDX: only 32-bit fields of bpf_cgroup_dev_ctx
      if (x.code !== 0x61) throw new VerifierError(`${pc}: unsupported load 0x${x.code.toString(16)}`);
      if (!regs[x.src]?.ctx) throw new VerifierError(`${pc}: load through a non-context register`);
      if (![0, 4, 8].includes(x.off)) throw new VerifierError(`${pc}: invalid bpf_context access off=${x.off}`);
      regs[x.dst] = { ctx: false, v: BigInt(ctxBytes.readUInt32LE(x.off)) };
      pc++;
      continue;
    }
    if (cls === 0x04 || cls === 0x07) {
      const is32 = cls === 0x04;
      const op = x.code & 0xf0;
      const useReg = (x.code & 0x08) !== 0;
      let b = useReg ? scalar(x.src, pc) : sext(x.imm);
      let a = op === 0xb0 ? 0n : scalar(x.dst, pc);
      if (is32) (a &= M32), (b &= M32);
      let r: bigint;
      switch (op) {
        case 0x00: r = a + b; break;
        case 0x10: r = a - b; break;
        case 0x40: r = a | b; break;
        case 0x50: r = a & b; break;
        case 0x60: r = a << (b & (is32 ? 31n : 63n)); break;
        case 0x70: r = a >> (b & (is32 ? 31n : 63n)); break;
        case 0xa0: r = a ^ b; break;
        case 0xb0: r = b; break;
        default: throw new VerifierError(`${pc}: unsupported alu op 0x${op.toString(16)}`);
      }
      regs[x.dst] = { ctx: false, v: is32 ? r & M32 : r & M64 };
      pc++;
      continue;
    }
    if (cls === 0x05 || cls === 0x06) {
      const op = x.code & 0xf0;
      if (op === 0x90) {
        const r0 = scalar(0, pc);
        if (r0 !== 0n && r0 !== 1n) throw new VerifierError(`${pc}: At program exit R0 has value ${r0}, should be 0 or 1`);
        return Number(r0);
      }
      if (x.off < 0) throw new VerifierError(`${pc}: back-edge`);
      if (op === 0x00) {
        pc += 1 + x.off;
        continue;
      }
      const is32 = cls === 0x06;
      let a = scalar(x.dst, pc);
      let b = x.code & 0x08 ? scalar(x.src, pc) : sext(x.imm);
      if (is32) (a &= M32), (b &= M32);
      let taken: boolean;
      switch (op) {
        case 0x10: taken = a === b; break;
        case 0x50: taken = a !== b; break;
        case 0x20: taken = a > b; break;
        case 0x30: taken = a >= b; break;
        case 0x40: taken = (a & b) !== 0n; break;
        default: throw new VerifierError(`${pc}: unsupported jump op 0x${op.toString(16)}`);
      }
      pc += 1 + (taken ? x.off : 0);
      continue;
    }
    throw new VerifierError(`${pc}: unsupported instruction class ${cls}`);
  }
}

// ------------------------------------------------------ cgroup v1 reference ----
const EMU_BITS: Record<string, number> = { r: 1, w: 2, m: 4 };
const emuBits = (access: string) => [...access].reduce((s, c) => s | EMU_BITS[c]!, 0);

/**
 * What the v1 devices cgroup answers for the emulator's state: an allow list
 * needs one exception that grants every requested bit (match_exception); a deny
 * list refuses when one exception shares any bit (match_exception_partial).
 */
function v1Allows(emu: DeviceEmulator, type: "b" | "c", major: number, minor: number, access: string): boolean {
  const want = emuBits(access);
  const matching = [...emu.rules.entries()].filter(([meta]) => {
    const [t, a, b] = meta.split(" ");
    return t === type && (Number(a) === -1 || Number(a) === major) && (Number(b) === -1 || Number(b) === minor);
  });
  if (emu.isBlacklist()) return !matching.some(([, perms]) => (perms & want) !== 0);
  return matching.some(([, perms]) => (want & ~perms) === 0);
}

const bpfAccess = (access: string) =>
  (access.includes("r") ? BPF_DEVCG_ACC_READ : 0) | (access.includes("w") ? BPF_DEVCG_ACC_WRITE : 0) | (access.includes("m") ? BPF_DEVCG_ACC_MKNOD : 0);

const ACCESSES = ["r", "w", "m", "rw", "rm", "wm", "rwm"];
const NUMBERS = [0, 1, 3, 5, 8, 136, 1048575];

/** Every (type, major, minor, access) in the grid: the program must answer as v1. */
function checkAgainstV1(rules: readonly DeviceRule[], label: string): number {
  const prog = decodeBpf(compileDeviceFilter(rules)); // through the bytes the kernel gets
  const emu = DeviceEmulator.fromRules(rules);
  let n = 0;
  for (const type of ["b", "c"] as const) {
    for (const major of NUMBERS) {
      for (const minor of NUMBERS) {
        for (const access of ACCESSES) {
          const want = v1Allows(emu, type, major, minor, access);
          const got = run(prog, { type: type === "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, access: bpfAccess(access), major, minor });
          if ((got === 1) !== want) {
            assert.unreachable(`${label}: ${type} ${major}:${minor} ${access}: program says ${got ? "allow" : "deny"}, v1 says ${want ? "allow" : "deny"}`);
          }
          n++;
        }
      }
    }
  }
  return n;
}

// --------------------------------------------------- runc's golden programs ----
function disasm(prog: readonly BpfInsn[]): string[] {
  return prog.map((x, i) => {
    const target = x.off !== 0 ? ` -> ${i + 1 + x.off}` : "";
    switch (x.code) {
      case 0x61: return `LdXMemW dst: r${x.dst} src: r${x.src} off: ${x.off} imm: ${x.imm}`;
      case 0x54: return `AndImm32 dst: r${x.dst} imm: ${x.imm}`;
      case 0x74: return `RShImm32 dst: r${x.dst} imm: ${x.imm}`;
      case 0xb4: return `MovImm32 dst: r${x.dst} imm: ${x.imm}`;
      case 0xbc: return `MovReg32 dst: r${x.dst} src: r${x.src}`;
      case 0x55: return `JNEImm dst: r${x.dst} imm: ${x.imm}${target}`;
      case 0x5d: return `JNEReg dst: r${x.dst} src: r${x.src}${target}`;
      case 0x15: return `JEqImm dst: r${x.dst} imm: ${x.imm}${target}`;
      case 0x95: return "Exit";
      default: return `?? 0x${x.code.toString(16)}`;
    }
  });
}

const PROLOGUE = [
  "LdXMemW dst: r2 src: r1 off: 0 imm: 0",
  "AndImm32 dst: r2 imm: 65535",
  "LdXMemW dst: r3 src: r1 off: 0 imm: 0",
  "RShImm32 dst: r3 imm: 16",
  "LdXMemW dst: r4 src: r1 off: 4 imm: 0",
  "LdXMemW dst: r5 src: r1 off: 8 imm: 0",
];

test("no rules: deny everything (runc TestDeviceFilter_Nil)", () => {
  assert.equal(disasm(deviceFilterProgram([])), [...PROLOGUE, "MovImm32 dst: r0 imm: 0", "Exit"]);
});

test("runc's built-in allow list compiles to runc's program, block for block", () => {
  const rules = DEFAULT_DEVICE_RULES.map(({ path: _p, ...r }) => r);
  // [type, major, minor] of each block, then whether the access is checked (not rwm)
  const blocks: [number, number, number, boolean][] = [
    [1, -1, -1, true],
    [2, -1, -1, true],
    [2, 1, 3, false],
    [2, 1, 5, false],
    [2, 1, 7, false],
    [2, 1, 8, false],
    [2, 1, 9, false],
    [2, 5, 0, false],
    [2, 5, 2, false],
    [2, 10, 200, false],
    [2, 136, -1, false],
  ];
  const want = [...PROLOGUE];
  for (const [type, major, minor, checkAccess] of blocks) {
    const block = [`JNEImm dst: r2 imm: ${type}`];
    if (checkAccess) block.push("MovReg32 dst: r1 src: r3", "AndImm32 dst: r1 imm: 1", "JNEReg dst: r1 src: r3");
    if (major !== -1) block.push(`JNEImm dst: r4 imm: ${major}`);
    if (minor !== -1) block.push(`JNEImm dst: r5 imm: ${minor}`);
    block.push("MovImm32 dst: r0 imm: 1", "Exit");
    const end = want.length + block.length;
    want.push(...block.map((s) => (s.startsWith("J") ? `${s} -> ${end}` : s)));
  }
  want.push("MovImm32 dst: r0 imm: 0", "Exit");
  assert.equal(disasm(deviceFilterProgram(rules)), want);
  assert.is(want.length, 64, "runc's program has 64 instructions");
});

test("privileged (a *:* rwm) and runc's Weird / PrivilegedExceptSingleDevice cases", () => {
  assert.equal(disasm(deviceFilterProgram([rule("a *:* rwm")])), [...PROLOGUE, "MovImm32 dst: r0 imm: 1", "Exit"]);
  const single = [...PROLOGUE, "JNEImm dst: r2 imm: 1 -> 11", "JNEImm dst: r4 imm: 8 -> 11", "JNEImm dst: r5 imm: 0 -> 11", "MovImm32 dst: r0 imm: 0", "Exit", "MovImm32 dst: r0 imm: 1", "Exit"];
  assert.equal(disasm(deviceFilterProgram([rule("a *:* rwm"), rule("b 8:0 rwm", false)])), single);
  // A deny before the switch to allow-all is forgotten, as v1 forgets it.
  const weird = deviceFilterProgram([rule("b 8:1 rwm", false), rule("a *:* rwm"), rule("b 8:2 rwm", false)]);
  assert.equal(disasm(weird), single.map((s) => s.replace("imm: 0 -> 11", "imm: 2 -> 11")));
  const req = (minor: number) => run(weird, { type: BPF_DEVCG_DEV_BLOCK, access: BPF_DEVCG_ACC_READ, major: 8, minor });
  assert.is(req(1), 1);
  assert.is(req(2), 0);
});

test("the spec's usual list: deny all, then the defaults", () => {
  const rules = [rule("a *:* rwm", false), ...parseDeviceRules(defaultDeviceCgroups())];
  const prog = deviceFilterProgram(rules);
  const ask = (type: "b" | "c", major: number, minor: number, access: string) =>
    run(prog, { type: type === "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, access: bpfAccess(access), major, minor }) === 1;
  assert.ok(ask("c", 1, 3, "rw"), "/dev/null rw");
  assert.ok(ask("c", 1, 3, "m"), "/dev/null mknod");
  assert.ok(ask("c", 136, 4, "rw"), "/dev/pts/4");
  assert.ok(ask("c", 10, 200, "rw"), "/dev/net/tun");
  assert.ok(ask("c", 4, 1, "m"), "mknod of any char device");
  assert.ok(ask("b", 8, 0, "m"), "mknod of any block device");
  assert.not.ok(ask("b", 8, 0, "r"), "reading a disk");
  assert.not.ok(ask("c", 1, 1, "r"), "/dev/mem");
  assert.not.ok(ask("c", 10, 229, "rw"), "/dev/fuse");
  assert.not.ok(ask("c", 4, 1, "rm"), "read+mknod needs one rule granting both");
  checkAgainstV1(rules, "defaults");
});

test("deny rules in allow-all mode match on any shared access bit (as v1; runc does not)", () => {
  const rules = [rule("a *:* rwm"), rule("c 1:3 w", false)];
  const prog = deviceFilterProgram(rules);
  const open = (access: number) => run(prog, { type: BPF_DEVCG_DEV_CHAR, access, major: 1, minor: 3 });
  assert.is(open(BPF_DEVCG_ACC_READ), 1);
  assert.is(open(BPF_DEVCG_ACC_WRITE), 0);
  assert.is(open(BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE), 0, "O_RDWR asks for both in one call");
  assert.ok(disasm(prog).includes("JEqImm dst: r1 imm: 0 -> 14"));
  checkAgainstV1(rules, "blacklist");
});

test("majors and minors of 2^31 and above compare as u32", () => {
  const rules = [rule("c 4294967295:2147483648 rw")];
  const prog = deviceFilterProgram(rules);
  assert.ok(disasm(prog).some((s) => s === "MovImm32 dst: r1 imm: -1"));
  const ask = (major: number, minor: number) => run(prog, { type: BPF_DEVCG_DEV_CHAR, access: BPF_DEVCG_ACC_READ, major, minor });
  assert.is(ask(0xffffffff, 0x80000000), 1);
  assert.is(ask(0xffffffff, 0x7fffffff), 0);
  assert.is(ask(0x7fffffff, 0x80000000), 0);
  assert.throws(() => deviceFilterProgram([rule("c 4294967296:1 r")]), (e: unknown) => e instanceof ConfigError && /invalid device major/.test((e as Error).message));
  assert.throws(() => deviceFilterProgram([rule("c 1:-5 r")]), (e: unknown) => e instanceof ConfigError && /invalid device minor/.test((e as Error).message));
});

test("rules v1 refuses are refused (a hole in a wildcard rule)", () => {
  assert.throws(() => compileDeviceFilter([rule("a *:* rwm"), rule("c *:* rwm", false), rule("c 1:3 r")]), (e: unknown) => e instanceof ConfigError);
});

test("encoding: 8 little-endian bytes per instruction, registers in one byte", () => {
  const buf = encodeBpf([{ code: 0x61, dst: 2, src: 1, off: 4, imm: -2 }]);
  assert.equal([...buf], [0x61, 0x12, 4, 0, 0xfe, 0xff, 0xff, 0xff]);
  const prog = deviceFilterProgram([rule("a *:* rwm", false), rule("c 1:3 rwm")]);
  assert.equal(decodeBpf(encodeBpf(prog)), prog);
});

// Random rule lists over a small alphabet, so they collide, overlap and
// switch modes often; each is checked on the whole request grid.
test("random rule lists: the program answers as the v1 devices cgroup on every request", () => {
  let seed = 0x9e3779b9;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const MM = [-1, 1, 3, 5, 136];
  let lists = 0, refused = 0, requests = 0;
  for (let i = 0; i < 400; i++) {
    const rules: DeviceRule[] = [];
    if (rnd(2)) rules.push(rule("a *:* rwm", rnd(2) === 0));
    for (let k = 1 + rnd(8); k > 0; k--) {
      const type = (["a", "b", "c", "c"] as const)[rnd(4)]!;
      rules.push({ type, major: type === "a" ? -1 : MM[rnd(MM.length)]!, minor: type === "a" ? -1 : MM[rnd(MM.length)]!, access: ACCESSES[rnd(ACCESSES.length)]!, allow: rnd(3) !== 0 });
    }
    let emuOk = true;
    try {
      DeviceEmulator.fromRules(rules);
    } catch (e) {
      assert.instance(e, ConfigError);
      emuOk = false;
    }
    if (!emuOk) {
      assert.throws(() => compileDeviceFilter(rules), (e: unknown) => e instanceof ConfigError, "the compiler refuses what the emulator refuses");
      refused++;
      continue;
    }
    requests += checkAgainstV1(rules, `list ${i}`);
    lists++;
  }
  assert.ok(lists > 200, `${lists} lists checked`);
  assert.ok(refused > 0, "some lists punch holes");
  assert.ok(requests > 200 * 600);
});

test("the interpreter itself rejects what the verifier would", () => {
  assert.throws(() => run([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }], { type: 2, access: 2, major: 1, minor: 3 }), (e: unknown) => e instanceof VerifierError && /R0 !read_ok/.test(String(e)));
  assert.throws(() => run([{ code: 0x61, dst: 2, src: 1, off: 12, imm: 0 }], { type: 2, access: 2, major: 1, minor: 3 }), (e: unknown) => e instanceof VerifierError);
  assert.throws(() => run([{ code: 0xb4, dst: 0, src: 0, off: 0, imm: 2 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }], { type: 2, access: 2, major: 1, minor: 3 }), (e: unknown) => e instanceof VerifierError && /should be 0 or 1/.test(String(e)));
});

test.run();
