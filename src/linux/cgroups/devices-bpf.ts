// cgroup v2 has no devices.allow/deny: device access is decided by eBPF
// programs of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This
// turns device rules into such a program (pure; the addon loads it).
//
// As runc (libcontainer/cgroups/devices/devicefilter.go, after crun's ebpf.c),
// the rules first go through the v1 emulator: it refuses what v1 refuses
// (punching a hole in a wildcard rule) and leaves a clean list in which every
// rule has the same action, the opposite of the default. The order of the
// blocks then does not matter: the first match decides, the rest cannot
// disagree.
//
// One deliberate difference from runc: in allow-all ("blacklist") mode a deny
// rule matches when the request shares ANY access bit with it, as v1's
// match_exception_partial does. runc's program requires the request to be a
// subset of the rule there too, so a deny of `c 1:3 w` lets open(O_RDWR) of
// /dev/null through (the kernel asks for read|write in one call).
import { ConfigError } from "../../errors";
import { DeviceEmulator, ruleString } from "./devices";
import type { DeviceRule } from "./types";

// include/uapi/linux/bpf.h
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;

/** struct bpf_insn; src/dst are register numbers 0..10. */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Opcode parts (class | op | source).
const BPF_LDX = 0x01, BPF_ALU = 0x04, BPF_JMP = 0x05;
const BPF_W = 0x00, BPF_MEM = 0x60;
const BPF_K = 0x00, BPF_X = 0x08;
const BPF_AND = 0x50, BPF_RSH = 0x70, BPF_MOV = 0xb0;
const BPF_JEQ = 0x10, BPF_JNE = 0x50, BPF_EXIT = 0x90;

const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;
const ALL_ACCESS = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
const NEXT = 0x7fff; // placeholder offset of "go to the next block"

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm: imm | 0 });
const ldxW = (dst: number, src: number, off: number) => insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
const alu32K = (op: number, dst: number, imm: number) => insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
const mov32X = (dst: number, src: number) => insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
const jmpK = (op: number, dst: number, imm: number) => insn(BPF_JMP | op | BPF_K, dst, 0, NEXT, imm);
const jmpX = (op: number, dst: number, src: number) => insn(BPF_JMP | op | BPF_X, dst, src, NEXT, 0);
const exit = () => insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

function accessBits(access: string): number {
  let a = 0;
  for (const c of access) a |= c === "r" ? BPF_DEVCG_ACC_READ : c === "w" ? BPF_DEVCG_ACC_WRITE : c === "m" ? BPF_DEVCG_ACC_MKNOD : 0;
  return a;
}

function checkNumber(n: number, what: string, r: DeviceRule): void {
  if (n === -1) return;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new ConfigError(`invalid device ${what} ${n} in rule ${ruleString(r)}`, [], { where: "linux.resources.devices" });
  }
}

/** `if (reg != value) goto next`, for any u32 value (the imm of a 64-bit compare is sign-extended). */
function jumpUnlessEqual(reg: number, value: number): BpfInsn[] {
  if (value <= 0x7fffffff) return [jmpK(BPF_JNE, reg, value)];
  return [alu32K(BPF_MOV, R1, value), jmpX(BPF_JNE, reg, R1)];
}

/** One rule: falls through to `return allow` when it matches, jumps past itself otherwise. */
function ruleBlock(r: DeviceRule, denyMode: boolean): BpfInsn[] {
  const out: BpfInsn[] = [jmpK(BPF_JNE, R2, r.type === "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR)];
  const bits = accessBits(r.access);
  if (bits !== ALL_ACCESS) {
    out.push(mov32X(R1, R3), alu32K(BPF_AND, R1, bits));
    // allow: every requested bit must be granted; deny: one shared bit suffices
    out.push(denyMode ? jmpK(BPF_JEQ, R1, 0) : jmpX(BPF_JNE, R1, R3));
  }
  if (r.major !== -1) out.push(...jumpUnlessEqual(R4, r.major));
  if (r.minor !== -1) out.push(...jumpUnlessEqual(R5, r.minor));
  out.push(alu32K(BPF_MOV, R0, r.allow ? 1 : 0), exit());
  // Resolve "next" to the instruction after this block.
  return out.map((x, i) => (x.off === NEXT ? { ...x, off: out.length - (i + 1) } : x));
}

/**
 * The program for a complete rule list (the spec's rules plus the defaults,
 * in spec order). Throws ConfigError for rules v1 would refuse.
 */
export function deviceFilterProgram(rules: readonly DeviceRule[]): BpfInsn[] {
  for (const r of rules) {
    checkNumber(r.major, "major", r);
    checkNumber(r.minor, "minor", r);
  }
  const target = DeviceEmulator.fromRules(rules);
  const defaultAllow = target.isBlacklist();
  const clean = new DeviceEmulator().transition(target);

  // struct bpf_cgroup_dev_ctx { u32 access_type /* type | access << 16 */; u32 major; u32 minor; }
  const prog: BpfInsn[] = [
    ldxW(R2, R1, 0),
    alu32K(BPF_AND, R2, 0xffff),
    ldxW(R3, R1, 0),
    alu32K(BPF_RSH, R3, 16),
    ldxW(R4, R1, 4),
    ldxW(R5, R1, 8),
  ];
  clean.forEach((r, i) => {
    if (r.type === "a") {
      // Only the leading switch to allow-all mode may be a wildcard.
      if (i !== 0 || r.allow !== defaultAllow) throw new Error(`internal: unexpected wildcard device rule at ${i} (${ruleString(r)})`);
      return;
    }
    if (r.allow === defaultAllow) throw new Error(`internal: no-op device rule at ${i} (${ruleString(r)})`);
    prog.push(...ruleBlock(r, defaultAllow));
  });
  prog.push(alu32K(BPF_MOV, R0, defaultAllow ? 1 : 0), exit());
  return prog;
}

/** struct bpf_insn[] as the kernel reads it (little endian, the hosts ocirt supports). */
export function encodeBpf(prog: readonly BpfInsn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((x, i) => {
    buf.writeUInt8(x.code, i * 8);
    buf.writeUInt8((x.dst & 0x0f) | ((x.src & 0x0f) << 4), i * 8 + 1);
    buf.writeInt16LE(x.off, i * 8 + 2);
    buf.writeInt32LE(x.imm, i * 8 + 4);
  });
  return buf;
}

export function decodeBpf(buf: Buffer): BpfInsn[] {
  const out: BpfInsn[] = [];
  for (let i = 0; i + 8 <= buf.length; i += 8) {
    const regs = buf.readUInt8(i + 1);
    out.push({ code: buf.readUInt8(i), dst: regs & 0x0f, src: regs >> 4, off: buf.readInt16LE(i + 2), imm: buf.readInt32LE(i + 4) });
  }
  return out;
}

/** The bytes to hand to loadDeviceFilter. */
export function compileDeviceFilter(rules: readonly DeviceRule[]): Buffer {
  return encodeBpf(deviceFilterProgram(rules));
}
