// Compiled programs loaded into the real kernel (no root: a child process sets
// no_new_privs and calls seccomp(2) through koffi), then probed with syscalls whose
// outcome tells the filter's verdict apart from the syscall's own. This checks what
// the interpreter in seccomp.test.ts cannot: that the kernel's verifier accepts the
// programs and that argument words, flags and actions mean what we think.
import { sharedFixture } from "../fixtures/shared";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileSeccomp, decodeProgram, syscallTables, type CompiledSeccomp, type SeccompProfile } from "../../src/seccomp";

const ROOT = join(__dirname, "..", "..");
if (!existsSync(join(ROOT, "build", "gen", "syscalls.json"))) {
  execFileSync(process.execPath, [join(ROOT, "scripts", "gen-syscalls.mjs")], { stdio: "ignore" });
}
const scratch = mkdtempSync(join(tmpdir(), "ocirt-seccomp-kernel-"));
const quiet = () => {};

// Only x86_64 hosts: the probes below use x86_64 syscall numbers and argument registers.
const X64 = process.arch === "x64";
const T = syscallTables().arches.SCMP_ARCH_X86_64!.syscalls;

interface Probe {
  nr: number;
  args: bigint[];
}
interface Outcome {
  ret: string;
  errno: number;
}

const CHILD = `
const koffi = require(process.env.KOFFI);
const fs = require("fs");
const libc = koffi.load("libc.so.6");
const prctl = libc.func("int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)");
const syscall = libc.func("long syscall(long, ...)");
const errnoLoc = libc.func("int *__errno_location(void)");
const errno = () => koffi.decode(errnoLoc(), "int");
const prog = fs.readFileSync(process.env.PROG);
const probes = JSON.parse(fs.readFileSync(process.env.PROBES, "utf8"));
const fprog = Buffer.alloc(16);
fprog.writeUInt16LE(prog.length / 8, 0);
fprog.writeBigUInt64LE(BigInt(koffi.address(prog)), 8);
if (prctl(38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0) !== 0) { process.stdout.write(JSON.stringify({ nnp: errno() })); process.exit(0); }
const r = syscall(317 /* seccomp */, "unsigned int", 1 /* SET_MODE_FILTER */, "unsigned int", Number(process.env.FLAGS), "void *", fprog);
if (r < 0) { process.stdout.write(JSON.stringify({ load: errno() })); process.exit(0); }
const out = probes.map((p) => {
  const args = [];
  for (const a of p.args) args.push("int64_t", BigInt.asIntN(64, BigInt(a)));
  const ret = syscall(p.nr, ...args);
  return { ret: String(ret), errno: ret === -1 || ret === -1n ? errno() : 0 };
});
fs.writeSync(1, JSON.stringify({ out }));
`;

function inKernel(c: CompiledSeccomp, probes: Probe[]): Outcome[] | string {
  const prog = join(scratch, "prog.bpf");
  const probesFile = join(scratch, "probes.json");
  writeFileSync(prog, c.program);
  writeFileSync(probesFile, JSON.stringify(probes.map((p) => ({ nr: p.nr, args: p.args.map(String) }))));
  const r = spawnSync(process.execPath, ["-e", CHILD], {
    encoding: "utf8",
    env: { KOFFI: require.resolve("koffi"), PROG: prog, PROBES: probesFile, FLAGS: String(c.flags), PATH: process.env.PATH ?? "" },
  });
  const res = JSON.parse(r.stdout || "{}") as { out?: Outcome[]; nnp?: number; load?: number };
  if (res.load !== undefined) return `seccomp(2) refused the program: errno ${res.load}`;
  if (!res.out) return `child failed: status ${r.status} ${r.stderr}`;
  return res.out;
}

/** Whether seccomp can be used here at all (a sandbox might forbid it). */
function available(): boolean {
  if (!X64) return false;
  const c = compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", flags: [] }, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!;
  return Array.isArray(inKernel(c, []));
}
const ON = available();
const skip = (what: string) => console.log(`  (skipped: ${what}: seccomp filters cannot be loaded here or the host is not x86_64)`);

/** The interpreter's expectation, as an outcome class. */
function verdict(c: CompiledSeccomp, p: Probe): number {
  const prog = decodeProgram(c.program);
  let a = 0;
  let pc = 0;
  const word = (k: number) => {
    if (k === 0) return p.nr;
    if (k === 4) return 0xc000003e;
    const arg = p.args[(k - 16) >> 3] ?? 0n;
    return Number((k & 4) === 0 ? arg & 0xffffffffn : arg >> 32n);
  };
  for (;;) {
    const i = prog[pc]!;
    if (i.code === 0x06) return i.k >>> 0;
    if (i.code === 0x20) (a = word(i.k)), pc++;
    else if (i.code === 0x54) (a = (a & i.k) >>> 0), pc++;
    else if (i.code === 0x05) pc += 1 + i.k;
    else if (i.code === 0x15) pc += 1 + (a === i.k ? i.jt : i.jf);
    else if (i.code === 0x25) pc += 1 + (a > i.k ? i.jt : i.jf);
    else if (i.code === 0x35) pc += 1 + (a >= i.k ? i.jt : i.jf);
    else throw new Error(`opcode ${i.code}`);
  }
}

test("64-bit argument comparisons, every operator, in the kernel", () => {
  if (!ON) return skip("operators");
  const values = [0n, 1n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 0x1000003e7n, 0xffffffff00000000n, 0x8000000000000000n, (1n << 64n) - 1n];
  const ops = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];
  let checked = 0;
  for (const [k, op] of ops.entries()) {
    // getpriority(which, who): harmless with any arguments; errnos >= 100 can only
    // come from the filter, so each rule's errno says which rule decided.
    const syscalls = values.map((value, i) => ({
      names: ["getpriority"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 100 + i,
      args: [{ index: 0, op, value: op === "SCMP_CMP_MASKED_EQ" ? 0xffffffff00000001n : value, valueTwo: value }],
    }));
    const c = compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", flags: [], syscalls }, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!;
    const probes = values.flatMap((v) => [v, (v + 1n) & ((1n << 64n) - 1n), v ^ (1n << 32n)]).map((v) => ({ nr: T.getpriority!, args: [v, 0n] }));
    const got = inKernel(c, probes);
    if (typeof got === "string") throw new Error(got);
    probes.forEach((p, i) => {
      const want = verdict(c, p);
      const kernel = got[i]!;
      const wantErrno = (want & 0xffff0000) >>> 0 === 0x00050000 ? want & 0xffff : undefined;
      if (wantErrno !== undefined) assert.is(kernel.errno, wantErrno, `${op} rule ${k}: arg 0x${p.args[0]!.toString(16)}`);
      else assert.ok(kernel.errno < 100, `${op}: arg 0x${p.args[0]!.toString(16)} should pass the filter, got errno ${kernel.errno}`);
      checked++;
    });
  }
  assert.ok(checked > 150);
});

test("Docker's default profile loads with its flags and behaves", () => {
  const file = sharedFixture("docker-default-seccomp.json") ?? "../shared/fixtures/docker-default-seccomp.json";
  if (!ON || !existsSync(file)) return skip("docker profile");
  const p = JSON.parse(readFileSync(file, "utf8")) as SeccompProfile;
  const c = compileSeccomp(p, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!;
  const probes: Probe[] = [
    { nr: T.personality!, args: [0xffffffffn] }, // allowed: query
    { nr: T.personality!, args: [0x1ffffffffn] }, // EPERM: the high word counts
    { nr: T.clone3!, args: [0n, 0n] }, // ENOSYS (the profile's errnoRet)
    { nr: T.unshare!, args: [0x10000000n] }, // EPERM from the filter (EINVAL otherwise)
    { nr: T.getpid!, args: [] },
  ];
  const got = inKernel(c, probes);
  if (typeof got === "string") throw new Error(got);
  assert.is(got[0]!.errno, 0);
  assert.is(got[1]!.errno, 1);
  assert.is(got[2]!.errno, 38);
  assert.is(got[3]!.errno, 1);
  assert.is(got[4]!.errno, 0);
});

test("a program near the 4096-instruction limit (long jumps) is accepted", () => {
  if (!ON) return skip("long program");
  const syscalls = Array.from({ length: 900 }, (_, i) => ({ names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 100 + (i % 50), args: [{ index: 1, op: "SCMP_CMP_EQ", value: i * 3 }] }));
  const c = compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", flags: [], syscalls }, { nativeArch: "SCMP_ARCH_X86_64", debug: quiet })!;
  assert.ok(c.length > 3000, `${c.length} instructions`);
  const probes = [0, 3, 4, 1500, 2697, 2698, 2699].map((v) => ({ nr: T.ioctl!, args: [BigInt(-1) & ((1n << 64n) - 1n), BigInt(v)] }));
  const got = inKernel(c, probes);
  if (typeof got === "string") throw new Error(got);
  assert.equal(
    got.map((o) => o.errno),
    [100, 101, 9 /* EBADF: passed */, 100, 149, 9, 9],
  );
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
