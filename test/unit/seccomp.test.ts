// The seccomp compiler, end to end: profiles -> compileSeccomp -> BPF, run in a small
// classic-BPF interpreter against many (arch, syscall, args) cases and compared with
// a reference evaluator written here from runc's and libseccomp's rules (it reads
// the profile directly, sharing no code with src/seccomp/normalize.ts).
import { sharedFixture } from "../fixtures/shared";
import { test } from "uvu";
import { testIf } from "../skip";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../src/errors";
import { compileSeccomp, decodeProgram, disassemble, syscallTables, type SeccompProfile, type SockFilter } from "../../src/seccomp";

const ROOT = join(__dirname, "..", "..");
if (!existsSync(join(ROOT, "build", "gen", "syscalls.json"))) {
  execFileSync(process.execPath, [join(ROOT, "scripts", "gen-syscalls.mjs")], { stdio: "ignore" });
}
const T = syscallTables();
const quiet = () => {};

// ---------------------------------------------------------------------------
// Kernel values, written out here rather than imported, so a wrong constant in
// src/ cannot hide itself.
const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
};
const AUDIT = { X86_64: 0xc000003e, I386: 0x40000003, AARCH64: 0xc00000b7, ARM: 0x40000028 };
const X32_BIT = 0x40000000;
const U64 = (1n << 64n) - 1n;
const EPERM = 1;
const ENOSYS = 38;

interface Call {
  arch: number;
  nr: number;
  args: bigint[];
}

// ---------------------------------------------------------------------------
// Classic BPF, the subset seccomp allows, plus the kernel's static checks.

function kernelCheck(prog: SockFilter[]): void {
  assert.ok(prog.length > 0 && prog.length <= 4096, `length ${prog.length}`);
  prog.forEach((i, pc) => {
    switch (i.code) {
      case 0x20: // ld [k]: inside struct seccomp_data, aligned
        assert.ok(i.k < 64 && i.k % 4 === 0, `pc ${pc}: load offset ${i.k}`);
        break;
      case 0x54:
      case 0x06:
        break;
      case 0x05:
        assert.ok(pc + 1 + i.k < prog.length, `pc ${pc}: ja out of range`);
        break;
      case 0x15:
      case 0x25:
      case 0x35:
      case 0x45:
        assert.ok(pc + 1 + Math.max(i.jt, i.jf) < prog.length, `pc ${pc}: jump out of range`);
        break;
      default:
        assert.unreachable(`pc ${pc}: opcode 0x${i.code.toString(16)}`);
    }
  });
  assert.is(prog[prog.length - 1]!.code, 0x06, "the last instruction returns");
}

function word(call: Call, k: number): number {
  if (k === 0) return call.nr >>> 0;
  if (k === 4) return call.arch >>> 0;
  if (k === 8 || k === 12) return 0; // instruction_pointer
  const arg = call.args[(k - 16) >> 3] ?? 0n;
  return Number((k & 4) === 0 ? arg & 0xffffffffn : arg >> 32n); // little-endian seccomp_data
}

function interpret(prog: SockFilter[], call: Call): number {
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps <= prog.length; steps++) {
    const i = prog[pc];
    if (!i) throw new Error(`pc ${pc} out of the program`);
    switch (i.code) {
      case 0x20:
        a = word(call, i.k);
        pc++;
        break;
      case 0x54:
        a = (a & i.k) >>> 0;
        pc++;
        break;
      case 0x05:
        pc += 1 + i.k;
        break;
      case 0x15:
        pc += 1 + (a === i.k ? i.jt : i.jf);
        break;
      case 0x25:
        pc += 1 + (a > i.k ? i.jt : i.jf);
        break;
      case 0x35:
        pc += 1 + (a >= i.k ? i.jt : i.jf);
        break;
      case 0x45:
        pc += 1 + ((a & i.k) !== 0 ? i.jt : i.jf);
        break;
      case 0x06:
        return i.k >>> 0;
      default:
        throw new Error(`opcode 0x${i.code.toString(16)}`);
    }
  }
  throw new Error("no return (a loop?)");
}

// ---------------------------------------------------------------------------
// Reference: what runc + libseccomp do with one call, straight from the profile.

function actionOf(name: string, errnoRet: number | undefined): number {
  const data = (errnoRet ?? EPERM) & 0xffff;
  switch (name) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return RET.KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return RET.KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return RET.TRAP;
    case "SCMP_ACT_ERRNO":
      return (RET.ERRNO | data) >>> 0;
    case "SCMP_ACT_TRACE":
      return (RET.TRACE | data) >>> 0;
    case "SCMP_ACT_LOG":
      return RET.LOG;
    case "SCMP_ACT_ALLOW":
      return RET.ALLOW;
    case "SCMP_ACT_NOTIFY":
      return RET.USER_NOTIF;
  }
  throw new Error(name);
}

const WIDE = new Set(["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"]);

interface RefArg {
  index: number;
  op: string;
  value: bigint;
  valueTwo: bigint;
}

/** undefined: a no-op condition on this ABI (MASKED_EQ with an empty mask). */
function holds(c: RefArg, args: bigint[], wide: boolean): boolean | undefined {
  const m = wide ? U64 : 0xffffffffn;
  const x = (args[c.index] ?? 0n) & m;
  const v = c.value & m;
  switch (c.op) {
    case "SCMP_CMP_EQ":
      return x === v;
    case "SCMP_CMP_NE":
      return x !== v;
    case "SCMP_CMP_LT":
      return x < v;
    case "SCMP_CMP_LE":
      return x <= v;
    case "SCMP_CMP_GT":
      return x > v;
    case "SCMP_CMP_GE":
      return x >= v;
    case "SCMP_CMP_MASKED_EQ":
      return v === 0n ? undefined : (x & v) === (c.valueTwo & v);
  }
  throw new Error(c.op);
}

function big(v: unknown): bigint {
  return typeof v === "bigint" ? v : BigInt(v as number);
}

function reference(p: SeccompProfile, native: string, call: Call): number {
  const def = actionOf(p.defaultAction, p.defaultErrnoRet);
  const arches = [...new Set([native, ...(p.architectures ?? [])])].filter((a) => T.arches[a]);
  const here = arches.filter((a) => T.arches[a]!.auditArch === call.arch >>> 0);
  if (here.length === 0) return RET.KILL_THREAD; // libseccomp's bad-arch action
  const nr = call.nr >>> 0;
  const x32 = (nr & X32_BIT) !== 0;
  const has64 = here.includes("SCMP_ARCH_X86_64");
  const has32 = here.includes("SCMP_ARCH_X32");
  const names = (p.syscalls ?? []).flatMap((s) => s.names);
  const last = (abi: string) => Math.max(0, ...names.map((n) => T.arches[abi]!.syscalls[n] ?? 0));

  // runc's -ENOSYS stub runs first.
  const base = (def & 0xffff0000) >>> 0;
  if (![RET.ALLOW, RET.LOG, RET.TRACE].includes(base) && def !== ((RET.ERRNO | ENOSYS) >>> 0)) {
    let max = 0;
    if (has64 && has32) max = x32 ? last("SCMP_ARCH_X32") : last("SCMP_ARCH_X86_64");
    else if (has64) max = x32 ? 0 : last("SCMP_ARCH_X86_64");
    else if (has32) max = x32 ? last("SCMP_ARCH_X32") : 0;
    else max = last(here[0]!);
    if (max > 0 && nr > max) return (RET.ERRNO | ENOSYS) >>> 0;
  }
  // libseccomp's ABI check on AUDIT_ARCH_X86_64.
  if (has64 && !has32 && nr >= X32_BIT && nr !== 0xffffffff) return RET.KILL_THREAD;
  if (has32 && !has64 && nr < X32_BIT) return RET.KILL_THREAD;
  const abi = has64 && has32 ? (x32 ? "SCMP_ARCH_X32" : "SCMP_ARCH_X86_64") : here[0]!;
  const table = T.arches[abi]!;
  const wide = WIDE.has(abi);

  let uncond: number | undefined;
  let cond: number | undefined;
  const consider = (act: number, rule: RefArg[]) => {
    const results = rule.map((c) => holds(c, call.args, wide)).filter((r) => r !== undefined);
    if (results.length === 0) uncond ??= act;
    else if (results.every(Boolean)) cond ??= act;
  };
  for (const s of p.syscalls ?? []) {
    const act = actionOf(s.action, s.errnoRet);
    if (act === def) continue; // runc drops rules with the default action
    const args: RefArg[] = (s.args ?? []).map((a) => ({ index: a.index, op: a.op, value: big(a.value), valueTwo: big(a.valueTwo ?? 0) }));
    const repeated = new Set(args.map((a) => a.index)).size !== args.length;
    const rules = args.length === 0 ? [[]] : repeated ? args.map((a) => [a]) : [args];
    for (const name of s.names) {
      if (table.syscalls[name] === nr) for (const r of rules) consider(act, r);
      for (const mux of table.multiplexed ? [table.multiplexed.socketcall, table.multiplexed.ipc] : []) {
        const sub = mux.calls[name];
        if (mux.nr !== nr || sub === undefined) continue;
        for (const r of rules) consider(act, [{ index: 0, op: "SCMP_CMP_EQ", value: BigInt(sub), valueTwo: 0n }, ...r.filter((c) => c.index !== 0)]);
      }
    }
  }
  return uncond ?? cond ?? def;
}

// ---------------------------------------------------------------------------
// Case generation.

function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick<X>(xs: readonly X[]): X {
      return xs[Math.floor(next() * xs.length)]!;
    },
  };
}

const VALUES: bigint[] = [
  0n, 1n, 2n, 7n, 8n, 0xffn, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1ffffffffn,
  0xffffffff00000000n, 0x7fffffffffffffffn, 0x8000000000000000n, U64 - 1n, U64, 0x123456789abcdefn, 0x7e020000n,
];
const MASKS: bigint[] = [0n, 1n, 0xffn, 0xff00n, 0x7e020000n, 0xffffffffn, 0xff00000000n, 0xffffffff00000000n, 0x8000000000000001n, U64];
const OPS = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];
const BOUNDARY_NRS = [0, 1, 0x3fffffff, X32_BIT, X32_BIT + 1, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000, 0xfffffffe, 0xffffffff];

/** Argument values near the profile's own values, plus the boundary set. */
function argPool(p: SeccompProfile): bigint[] {
  const pool = new Set(VALUES);
  for (const s of p.syscalls ?? [])
    for (const a of s.args ?? [])
      for (const v of [big(a.value), big(a.valueTwo ?? 0)]) {
        pool.add(v);
        pool.add((v + 1n) & U64);
        pool.add((v - 1n) & U64);
        pool.add(v ^ (1n << 32n));
      }
  return [...pool];
}

/** Calls on every audit arch (and an unknown one), around every number the profile names. */
function casesFor(p: SeccompProfile, r: ReturnType<typeof rng>, argsPerNr: number): Call[] {
  const pool = argPool(p);
  const names = (p.syscalls ?? []).flatMap((s) => s.names);
  const calls: Call[] = [];
  for (const [token, t] of Object.entries(T.arches)) {
    const nrs = new Set(BOUNDARY_NRS);
    for (const n of names) {
      const nr = t.syscalls[n];
      if (nr !== undefined) [nr - 1, nr, nr + 1].forEach((x) => nrs.add(x >>> 0));
    }
    const max = Math.max(0, ...Object.values(t.syscalls));
    [max, max + 1, r.int(max + 50)].forEach((x) => nrs.add(x));
    if (t.multiplexed) [t.multiplexed.socketcall.nr, t.multiplexed.ipc.nr].forEach((x) => nrs.add(x));
    for (const nr of nrs) {
      for (let k = 0; k < argsPerNr; k++) {
        const args = Array.from({ length: 6 }, () => r.pick(pool));
        if (t.multiplexed && nr === t.multiplexed.socketcall.nr) args[0] = BigInt(r.int(22));
        if (t.multiplexed && nr === t.multiplexed.ipc.nr) args[0] = BigInt(r.int(26));
        calls.push({ arch: t.auditArch, nr, args });
      }
    }
    void token;
  }
  calls.push({ arch: 0x12345678, nr: 0, args: [] }, { arch: AUDIT.AARCH64 ^ 0x80000000, nr: 63, args: [] });
  return calls;
}

let evaluated = 0;
function check(p: SeccompProfile, native: string, calls: Call[], label: string): { length: number } {
  const out = compileSeccomp(p, { nativeArch: native, debug: quiet })!;
  const prog = decodeProgram(out.program);
  kernelCheck(prog);
  assert.is(out.length, prog.length);
  evaluated += calls.length;
  for (const c of calls) {
    const want = reference(p, native, c);
    const got = interpret(prog, c);
    if (got !== want) {
      const msg = `${label}: arch 0x${c.arch.toString(16)} nr 0x${c.nr.toString(16)} args [${c.args.map((a) => "0x" + a.toString(16)).join(", ")}]: got 0x${got.toString(16)}, want 0x${want.toString(16)}`;
      if (process.env.SECCOMP_TEST_DUMP) console.error(disassemble(out.program).join("\n"));
      assert.unreachable(msg);
    }
  }
  return { length: prog.length };
}

// ---------------------------------------------------------------------------

test("every operator at 64-bit boundaries, on 64- and 32-bit ABIs", () => {
  const r = rng(1);
  let n = 0;
  for (const op of OPS) {
    for (const value of op === "SCMP_CMP_MASKED_EQ" ? MASKS : VALUES) {
      const valueTwo = op === "SCMP_CMP_MASKED_EQ" ? r.pick(VALUES) : 0n;
      const p: SeccompProfile = {
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        syscalls: [{ names: ["getpriority", "personality"], action: "SCMP_ACT_ERRNO", errnoRet: 99, args: [{ index: 1, op, value, valueTwo }] }],
      };
      const calls = casesFor(p, r, 4).filter((c) => c.nr < 1000 || c.nr >= X32_BIT);
      check(p, "SCMP_ARCH_X86_64", calls, `${op} ${value}`);
      n += calls.length;
    }
  }
  assert.ok(n > 1000, `${n} cases`);
});

test("several args are ANDed; a repeated index makes separate rules (ORed)", () => {
  const r = rng(2);
  const p: SeccompProfile = {
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [
      { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
      {
        names: ["mmap"],
        action: "SCMP_ACT_ALLOW",
        args: [
          { index: 0, op: "SCMP_CMP_EQ", value: 0 },
          { index: 2, op: "SCMP_CMP_MASKED_EQ", value: 4, valueTwo: 0 },
          { index: 3, op: "SCMP_CMP_GT", value: 0x100000000n },
        ],
      },
      {
        names: ["kill"],
        action: "SCMP_ACT_TRAP",
        args: [
          { index: 1, op: "SCMP_CMP_EQ", value: 9 },
          { index: 1, op: "SCMP_CMP_EQ", value: 15 },
        ],
      },
    ],
  };
  const calls = casesFor(p, r, 20);
  // Make sure the interesting combinations are there, not left to chance.
  for (const a0 of [0n, 1n]) for (const a2 of [0n, 4n, 3n]) for (const a3 of [0n, 0x100000000n, 0x100000001n]) calls.push({ arch: AUDIT.X86_64, nr: 9, args: [a0, 0n, a2, a3] });
  for (const sig of [9n, 15n, 2n, 0x100000009n]) calls.push({ arch: AUDIT.X86_64, nr: 62, args: [1n, sig] });
  check(p, "SCMP_ARCH_X86_64", calls, "and/or");
  const prog = decodeProgram(compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!.program);
  assert.is(interpret(prog, { arch: AUDIT.X86_64, nr: 9, args: [0n, 0n, 3n, 0x100000001n] }), RET.ALLOW);
  assert.is(interpret(prog, { arch: AUDIT.X86_64, nr: 9, args: [0n, 0n, 4n, 0x100000001n] }), (RET.ERRNO | EPERM) >>> 0);
  assert.is(interpret(prog, { arch: AUDIT.X86_64, nr: 9, args: [0n, 0n, 3n, 0x100000000n] }), (RET.ERRNO | EPERM) >>> 0);
  assert.is(interpret(prog, { arch: AUDIT.X86_64, nr: 62, args: [1n, 15n] }), RET.TRAP);
  assert.is(interpret(prog, { arch: AUDIT.X86_64, nr: 62, args: [1n, 0x10000000fn] }), (RET.ERRNO | EPERM) >>> 0);
});

test("several rules for one syscall: first match in order; an unconditional rule wins", () => {
  const r = rng(3);
  const p: SeccompProfile = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 10, args: [{ index: 1, op: "SCMP_CMP_GE", value: 0x5400 }] },
      { names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 11, args: [{ index: 1, op: "SCMP_CMP_LE", value: 0x5410 }] },
      { names: ["ioctl"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, op: "SCMP_CMP_EQ", value: 0x5401 }] }, // redundant: dropped
      { names: ["fcntl"], action: "SCMP_ACT_ERRNO", errnoRet: 12, args: [{ index: 1, op: "SCMP_CMP_EQ", value: 1 }] },
      { names: ["fcntl"], action: "SCMP_ACT_LOG" },
      { names: ["fcntl"], action: "SCMP_ACT_TRAP" },
    ],
  };
  check(p, "SCMP_ARCH_X86_64", casesFor(p, r, 30), "order");
  const prog = decodeProgram(compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!.program);
  const ioctl = (cmd: bigint) => interpret(prog, { arch: AUDIT.X86_64, nr: 16, args: [0n, cmd] });
  assert.is(ioctl(0x5401n), (RET.ERRNO | 10) >>> 0);
  assert.is(ioctl(0x53ffn), (RET.ERRNO | 11) >>> 0);
  assert.is(interpret(prog, { arch: AUDIT.X86_64, nr: 72, args: [0n, 1n] }), RET.LOG);
});

test("x32 and x86_64 told apart; -1 and the ENOSYS stub; unknown arch is killed", () => {
  const r = rng(4);
  for (const architectures of [[], ["SCMP_ARCH_X32"], ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"], ["SCMP_ARCH_X86"]]) {
    for (const defaultAction of ["SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW", "SCMP_ACT_KILL_PROCESS"]) {
      const p: SeccompProfile = {
        defaultAction,
        architectures,
        syscalls: [
          { names: ["read", "write", "rt_sigaction", "preadv"], action: "SCMP_ACT_LOG" },
          { names: ["uname"], action: "SCMP_ACT_ERRNO", errnoRet: 5, args: [{ index: 0, op: "SCMP_CMP_NE", value: 0 }] },
        ],
      };
      check(p, "SCMP_ARCH_X86_64", casesFor(p, r, 3), `${architectures} ${defaultAction}`);
    }
  }
  // Hand-checked expectations, independent of the reference.
  const p: SeccompProfile = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read", "write", "close"], action: "SCMP_ACT_ALLOW" }] };
  const prog = decodeProgram(compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!.program);
  const run = (arch: number, nr: number) => interpret(prog, { arch, nr, args: [] });
  assert.is(run(AUDIT.X86_64, 0), RET.ALLOW);
  assert.is(run(AUDIT.X86_64, 1), RET.ALLOW);
  assert.is(run(AUDIT.X86_64, 2), (RET.ERRNO | EPERM) >>> 0, "not listed: default");
  assert.is(run(AUDIT.X86_64, 3), RET.ALLOW);
  assert.is(run(AUDIT.X86_64, 4), (RET.ERRNO | ENOSYS) >>> 0, "past the last listed syscall: ENOSYS (runc)");
  assert.is(run(AUDIT.X86_64, X32_BIT), RET.KILL_THREAD, "x32 read on an x86_64-only filter: bad arch");
  assert.is(run(AUDIT.X86_64, 0xffffffff), (RET.ERRNO | EPERM) >>> 0, "-1 is let through to the default");
  assert.is(run(AUDIT.I386, 3), RET.KILL_THREAD, "i386 not in the filter");
  assert.is(run(AUDIT.AARCH64, 63), RET.KILL_THREAD);
});

test("every action's return value and errnoRet / defaultErrnoRet", () => {
  const names = ["read", "write", "open", "close", "stat", "fstat", "lstat", "poll", "lseek", "mmap", "mprotect"];
  const actions: [string, number | undefined, number][] = [
    ["SCMP_ACT_KILL", undefined, RET.KILL_THREAD],
    ["SCMP_ACT_KILL_THREAD", undefined, RET.KILL_THREAD],
    ["SCMP_ACT_KILL_PROCESS", undefined, RET.KILL_PROCESS],
    ["SCMP_ACT_TRAP", undefined, RET.TRAP],
    ["SCMP_ACT_ERRNO", undefined, (RET.ERRNO | EPERM) >>> 0],
    ["SCMP_ACT_ERRNO", 13, (RET.ERRNO | 13) >>> 0],
    ["SCMP_ACT_TRACE", undefined, (RET.TRACE | EPERM) >>> 0],
    ["SCMP_ACT_TRACE", 1234, (RET.TRACE | 1234) >>> 0],
    ["SCMP_ACT_LOG", undefined, RET.LOG],
    ["SCMP_ACT_NOTIFY", undefined, RET.USER_NOTIF],
    ["SCMP_ACT_ERRNO", 0x10005, (RET.ERRNO | 5) >>> 0], // 16 bits, as libseccomp
  ];
  const p: SeccompProfile = {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 77,
    listenerPath: "/run/agent.sock",
    syscalls: [...actions.map(([action, errnoRet], i) => ({ names: [names[i]!], action, errnoRet })), { names: ["getpid"], action: "SCMP_ACT_LOG" }],
  };
  const out = compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!;
  const prog = decodeProgram(out.program);
  const tbl = T.arches.SCMP_ARCH_X86_64!.syscalls;
  actions.forEach(([action, errnoRet, want], i) => {
    assert.is(interpret(prog, { arch: AUDIT.X86_64, nr: tbl[names[i]!]!, args: [] }), want, `${action} ${errnoRet}`);
  });
  assert.is(interpret(prog, { arch: AUDIT.X86_64, nr: tbl.munmap!, args: [] }), (RET.ERRNO | 77) >>> 0, "defaultErrnoRet");
  assert.ok(out.notify);
  check(p, "SCMP_ARCH_X86_64", casesFor(p, rng(5), 2), "actions");
});

test("x86 socketcall/ipc multiplexing, arm private calls, names unknown on some ABIs", () => {
  const r = rng(6);
  const p: SeccompProfile = {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"],
    syscalls: [
      { names: ["socket", "send", "semop"], action: "SCMP_ACT_ERRNO", errnoRet: 20 },
      { names: ["connect"], action: "SCMP_ACT_ERRNO", errnoRet: 21, args: [{ index: 2, op: "SCMP_CMP_LT", value: 16 }] },
      { names: ["cacheflush", "set_tls", "arm_fadvise64_64", "open", "no_such_call"], action: "SCMP_ACT_TRAP" },
    ],
  };
  for (const native of ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"]) check(p, native, casesFor(p, r, 8), `mux ${native}`);
  const prog = decodeProgram(compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!.program);
  const x86 = T.arches.SCMP_ARCH_X86!;
  const sc = x86.multiplexed!.socketcall;
  assert.is(interpret(prog, { arch: AUDIT.I386, nr: sc.nr, args: [1n] }), (RET.ERRNO | 20) >>> 0, "socketcall(SYS_SOCKET)");
  assert.is(interpret(prog, { arch: AUDIT.I386, nr: sc.nr, args: [9n] }), (RET.ERRNO | 20) >>> 0, "socketcall(SYS_SEND)");
  assert.is(interpret(prog, { arch: AUDIT.I386, nr: sc.nr, args: [2n] }), RET.ALLOW, "socketcall(SYS_BIND)");
  assert.is(interpret(prog, { arch: AUDIT.I386, nr: x86.syscalls.socket!, args: [] }), (RET.ERRNO | 20) >>> 0, "direct socket");
  assert.is(interpret(prog, { arch: AUDIT.I386, nr: x86.multiplexed!.ipc.nr, args: [1n] }), (RET.ERRNO | 20) >>> 0, "ipc(SEMOP)");
  assert.is(interpret(prog, { arch: AUDIT.ARM, nr: 0xf0002, args: [] }), RET.TRAP, "ARM cacheflush");
});

test("random profiles against the reference (thousands of cases)", () => {
  const r = rng(7);
  const pool = [
    "read", "write", "openat", "close", "mmap", "ioctl", "clone", "socket", "send", "recv", "socketcall", "ipc", "semop",
    "semget", "personality", "getpid", "kill", "fcntl", "fcntl64", "mmap2", "arch_prctl", "cacheflush", "set_tls",
    "rt_sigaction", "preadv", "io_uring_setup", "clone3", "no_such_call",
  ];
  const actions = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY"];
  const archPool = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_S390X"];
  let cases = 0;
  for (let round = 0; round < 60; round++) {
    const defaultAction = r.pick(actions.filter((a) => a !== "SCMP_ACT_NOTIFY"));
    const p: SeccompProfile = {
      defaultAction,
      defaultErrnoRet: ["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"].includes(defaultAction) && r.next() < 0.5 ? r.pick([1, 38, 95]) : undefined,
      architectures: r.next() < 0.2 ? undefined : archPool.filter(() => r.next() < 0.5),
      listenerPath: "/run/agent",
      syscalls: Array.from({ length: 1 + r.int(25) }, () => {
        const action = r.pick(actions);
        return {
          names: Array.from({ length: 1 + r.int(3) }, () => r.pick(pool)).filter((n) => !(action === "SCMP_ACT_NOTIFY" && n === "write")),
          action,
          errnoRet: ["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"].includes(action) && r.next() < 0.5 ? r.int(200) : undefined,
          args: r.next() < 0.4 ? undefined : Array.from({ length: r.int(4) }, () => {
            const op = r.pick(OPS);
            return { index: r.int(6), op, value: op === "SCMP_CMP_MASKED_EQ" ? r.pick(MASKS) : r.pick(VALUES), valueTwo: r.pick(VALUES) };
          }),
        };
      }),
    };
    const native = r.pick(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X86"]);
    const calls = casesFor(p, r, 3);
    check(p, native, calls, `round ${round} (native ${native})`);
    cases += calls.length;
  }
  assert.ok(cases > 10000, `${cases} cases`);
});

test("a large profile compiles to a binary search, not a chain", () => {
  const names = Object.keys(T.arches.SCMP_ARCH_X86_64!.syscalls);
  // Alternate actions so that no two neighbours merge into one range.
  const p: SeccompProfile = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: names.map((n, i) => ({ names: [n], action: i % 2 ? "SCMP_ACT_ALLOW" : "SCMP_ACT_LOG" })),
  };
  const { length } = check(p, "SCMP_ARCH_X86_64", casesFor(p, rng(8), 1), "large");
  assert.ok(length < names.length * 1.3, `${length} instructions for ${names.length} syscalls`);
  // Depth: the longest path is about log2(segments), far below a chain's length.
  const prog = decodeProgram(compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!.program);
  let deepest = 0;
  for (const nr of [0, 100, 200, 300, 334, 335, 400, 434, 451]) {
    let pc = 0;
    let steps = 0;
    const call = { arch: AUDIT.X86_64, nr, args: [] as bigint[] };
    for (;;) {
      const i = prog[pc]!;
      steps++;
      if (i.code === 0x06) break;
      if (i.code === 0x05) pc += 1 + i.k;
      else if (i.code === 0x35) pc += 1 + (word(call, 0) >= i.k ? i.jt : i.jf);
      else if (i.code === 0x15) pc += 1 + (word(call, i.k === AUDIT.X86_64 || i.k === AUDIT.I386 ? 4 : 0) === i.k ? i.jt : i.jf);
      else pc++;
    }
    deepest = Math.max(deepest, steps);
  }
  assert.ok(deepest < 24, `deepest path ${deepest} instructions`);
});

test("over 4096 instructions: a clear error, not a crash", () => {
  const p: SeccompProfile = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: Array.from({ length: 1500 }, (_, i) => ({ names: ["ioctl"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, op: "SCMP_CMP_EQ", value: i * 3 }] })),
  };
  try {
    compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet });
    assert.unreachable("compiled");
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, /^seccomp: program has \d+ instructions, over the kernel's limit of 4096$/);
  }
  // Long jumps (over 255 instructions) inside a program that does fit.
  const q: SeccompProfile = { ...p, syscalls: p.syscalls!.slice(0, 900) };
  check(q, "SCMP_ARCH_X86_64", [0n, 3n, 1500n, 2697n, 2698n, 2699n, 0x100000000n].map((v) => ({ arch: AUDIT.X86_64, nr: 16, args: [0n, v] })), "long jumps");
});

const DOCKER = sharedFixture("docker-default-seccomp.json") ?? "../shared/fixtures/docker-default-seccomp.json";
testIf(test, existsSync(DOCKER) ? null : `no Docker profile fixture (${DOCKER}; ../shared/fixtures beside the checkout)`, "Docker's default profile", () => {
  const p = JSON.parse(readFileSync(DOCKER, "utf8")) as SeccompProfile;
  const t0 = process.hrtime.bigint();
  const out = compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.is(out.flags, 4, "SPEC_ALLOW by default");
  assert.not.ok(out.notify);
  const { length } = check(p, "SCMP_ARCH_X86_64", casesFor(p, rng(9), 2), "docker");
  const prog = decodeProgram(out.program);
  const x64 = T.arches.SCMP_ARCH_X86_64!.syscalls;
  const run = (nr: number, args: bigint[] = []) => interpret(prog, { arch: AUDIT.X86_64, nr, args });
  assert.is(run(x64.read!), RET.ALLOW);
  assert.is(run(x64.personality!, [0xffffffffn]), RET.ALLOW);
  assert.is(run(x64.personality!, [0x1ffffffffn]), (RET.ERRNO | EPERM) >>> 0, "64-bit value, low word matches");
  assert.is(run(x64.clone!, [0x11n]), RET.ALLOW);
  assert.is(run(x64.clone!, [0x10000000n]), (RET.ERRNO | EPERM) >>> 0, "CLONE_NEWUSER");
  assert.is(run(x64.clone3!), (RET.ERRNO | ENOSYS) >>> 0);
  assert.is(run(x64.kexec_load!), (RET.ERRNO | EPERM) >>> 0);
  assert.is(run(1000), (RET.ERRNO | ENOSYS) >>> 0);
  console.log(`  Docker default profile: ${length} instructions, compiled in ${ms.toFixed(1)} ms (first call)`);
});

test.after(() => console.log(`  ${evaluated} (arch, syscall, args) cases checked against the reference`));
test.run();
