// The TypeScript half of seccomp: generated tables, profile checks and flags,
// normalisation details, the program cache, and the helpers that describe actions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../src/errors";
import {
  KNOWN_ACTIONS,
  KNOWN_OPERATORS,
  SECTION_KIND,
  actionValue,
  compileSeccomp,
  describeAction,
  describeFlags,
  disassemble,
  encodeFilter,
  normalizeSeccomp,
  syscallTables,
  type SeccompProfile,
} from "../../src/seccomp";
import { memoryClear } from "../../src/seccomp/cache";

const ROOT = join(__dirname, "..", "..");
if (!existsSync(join(ROOT, "build", "gen", "syscalls.json"))) {
  execFileSync(process.execPath, [join(ROOT, "scripts", "gen-syscalls.mjs")], { stdio: "ignore" });
}
const T = syscallTables();
const quiet = () => {};
const X64 = { nativeArch: "SCMP_ARCH_X86_64", debug: quiet };

function configError(f: () => unknown, where: string | undefined, message: RegExp): void {
  try {
    f();
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as ConfigError).where, where);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable("no error");
}

test("tables generated from the kernel headers", () => {
  const a = T.arches;
  assert.equal(Object.keys(a).sort(), ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"]);
  assert.is(a.SCMP_ARCH_X86_64!.auditArch, 0xc000003e);
  assert.is(a.SCMP_ARCH_X32!.auditArch, 0xc000003e);
  assert.is(a.SCMP_ARCH_X86!.auditArch, 0x40000003);
  assert.is(a.SCMP_ARCH_AARCH64!.auditArch, 0xc00000b7);
  assert.is(a.SCMP_ARCH_ARM!.auditArch, 0x40000028);
  assert.is(a.SCMP_ARCH_X86_64!.syscalls.read, 0);
  assert.is(a.SCMP_ARCH_X86_64!.syscalls.clone3, 435);
  assert.is(a.SCMP_ARCH_X32!.syscalls.read, 0x40000000);
  assert.is(a.SCMP_ARCH_X32!.syscalls.rt_sigaction, 0x40000000 + 512, "x32's own compat numbers");
  assert.ok(Object.values(a.SCMP_ARCH_X32!.syscalls).every((n) => n >= 0x40000000));
  assert.is(a.SCMP_ARCH_X86!.syscalls.socketcall, 102);
  assert.is(a.SCMP_ARCH_X86!.multiplexed!.socketcall.calls.socket, 1);
  assert.is(a.SCMP_ARCH_X86!.multiplexed!.ipc.calls.shmctl, 24);
  assert.is(a.SCMP_ARCH_AARCH64!.syscalls.openat, 56);
  assert.is(a.SCMP_ARCH_AARCH64!.syscalls.open, undefined, "asm-generic has no open(2)");
  assert.is(a.SCMP_ARCH_AARCH64!.syscalls.fstat, 80, "__NR3264 indirection resolved");
  assert.is(a.SCMP_ARCH_ARM!.syscalls.cacheflush, 0xf0002);
  assert.is(a.SCMP_ARCH_ARM!.syscalls.read, 3, "EABI numbering");
  assert.is(a.SCMP_ARCH_ARM!.syscalls.syscalls, undefined, "__NR_syscalls is not a syscall");
  for (const [name, t] of Object.entries(a)) {
    assert.ok(Object.keys(t.syscalls).length > 250, name);
    assert.is(t.bits, name === "SCMP_ARCH_X86_64" || name === "SCMP_ARCH_AARCH64" ? 64 : 32, name);
  }
});

test("seccomp off: no profile, or no defaultAction and no syscalls (runc)", () => {
  assert.is(compileSeccomp(undefined, X64), null);
  assert.is(compileSeccomp({ defaultAction: "" }, X64), null);
  assert.is(normalizeSeccomp({ defaultAction: "", syscalls: [] }, X64), null);
});

test("flags: runc's default, TSYNC ignored, NEW_LISTENER with notify", () => {
  const flags = (p: Partial<SeccompProfile>) => compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", ...p }, X64)!.flags;
  assert.is(flags({}), 4, "absent: SPEC_ALLOW");
  assert.is(flags({ flags: [] }), 0, "[]: none");
  assert.is(flags({ flags: ["SECCOMP_FILTER_FLAG_TSYNC"] }), 0);
  assert.is(flags({ flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"] }), 6);
  const notify = compileSeccomp(
    {
      defaultAction: "SCMP_ACT_ALLOW",
      listenerPath: "/run/agent.sock",
      listenerMetadata: "meta",
      flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
      syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }],
    },
    X64,
  )!;
  assert.is(notify.flags, 40, "WAIT_KILLABLE_RECV | NEW_LISTENER, as runc's test expects");
  assert.ok(notify.notify);
  assert.is(notify.listenerPath, "/run/agent.sock");
  assert.is(notify.listenerMetadata, "meta");
  assert.equal(describeFlags(notify.flags), ["SECCOMP_FILTER_FLAG_NEW_LISTENER", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]);
});

test("invalid profiles: ConfigError naming the field", () => {
  const base: SeccompProfile = { defaultAction: "SCMP_ACT_ALLOW" };
  const compile = (p: Partial<SeccompProfile>) => () => compileSeccomp({ ...base, ...p }, X64);
  configError(compile({ defaultAction: "SCMP_ACT_NOPE" }), "linux.seccomp.defaultAction", /unknown seccomp action/);
  configError(compile({ defaultAction: "SCMP_ACT_NOTIFY" }), "linux.seccomp.defaultAction", /cannot be used as default action/);
  configError(compile({ architectures: ["SCMP_ARCH_VAX"] }), "linux.seccomp.architectures[0]", /unknown seccomp architecture/);
  configError(compile({ flags: ["SECCOMP_FILTER_FLAG_NOPE"] }), "linux.seccomp.flags[0]", /not known/);
  configError(compile({ flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] }), "linux.seccomp.flags", /needs a rule with SCMP_ACT_NOTIFY/);
  configError(compile({ syscalls: [{ names: ["read"], action: "SCMP_ACT_NOPE" }] }), "linux.seccomp.syscalls[0].action", /unknown/);
  configError(compile({ syscalls: [{ names: [""], action: "SCMP_ACT_ERRNO" }] }), "linux.seccomp.syscalls[0].names[0]", /empty string/);
  configError(
    compile({ listenerPath: "/x", syscalls: [{ names: ["read", "write"], action: "SCMP_ACT_NOTIFY" }] }),
    "linux.seccomp.syscalls[0].names[1]",
    /SCMP_ACT_NOTIFY cannot be used for the write syscall/,
  );
  configError(compile({ syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] }), "linux.seccomp.listenerPath", /must be set/);
  const arg = (a: object) => compile({ syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, op: "SCMP_CMP_EQ", value: 0, ...a }] }] });
  configError(arg({ index: 6 }), "linux.seccomp.syscalls[0].args[0].index", /0 to 5/);
  configError(arg({ op: "SCMP_CMP_XX" }), "linux.seccomp.syscalls[0].args[0].op", /unknown seccomp operator/);
  configError(arg({ value: -1 }), "linux.seccomp.syscalls[0].args[0].value", /unsigned 64-bit/);
  configError(arg({ value: 1n << 64n }), "linux.seccomp.syscalls[0].args[0].value", /unsigned 64-bit/);
  configError(arg({ valueTwo: 1.5 }), "linux.seccomp.syscalls[0].args[0].valueTwo", /unsigned 64-bit/);
  configError(compile({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: -1 }), "linux.seccomp.defaultErrnoRet", /unsigned/);
});

test("uint64 values: bigint, decimal strings, and JSON's rounded 2^64-1", () => {
  const cond = (value: unknown) =>
    normalizeSeccomp(
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, op: "SCMP_CMP_EQ", value: value as number }] }] },
      X64,
    )!.sections[0]!.syscalls[0]!.rules[0]!.conds[0]!.a;
  assert.is(cond(18446744073709551615n), (1n << 64n) - 1n);
  assert.is(cond("18446744073709551615"), (1n << 64n) - 1n);
  assert.is(cond(JSON.parse("18446744073709551615")), (1n << 64n) - 1n);
  assert.is(cond(4294967296), 4294967296n);
});

test("unknown names are skipped with a debug line; known-elsewhere names are silent", () => {
  const lines: string[] = [];
  const f = normalizeSeccomp(
    { defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86", "SCMP_ARCH_S390X"], syscalls: [{ names: ["read", "no_such_call", "socketcall", "open"], action: "SCMP_ACT_ALLOW" }] },
    { nativeArch: "SCMP_ARCH_AARCH64", debug: (m) => lines.push(m) },
  )!;
  assert.equal(lines.filter((l) => l.includes("no_such_call")), ['unknown seccomp syscall "no_such_call" ignored']);
  assert.ok(lines.some((l) => l.includes("SCMP_ARCH_S390X")), "untabled architecture noted");
  assert.not.ok(lines.some((l) => l.includes('"socketcall"') || l.includes('"open"')));
  assert.equal(f.sections.map((s) => s.arches), [["SCMP_ARCH_AARCH64"], ["SCMP_ARCH_X86"]], "native first, always present");
  const aarch64 = f.sections[0]!.syscalls.map((s) => s.names).flat();
  assert.equal(aarch64, ["read"], "aarch64 has neither socketcall nor open");
});

test("normal form: sections, x86_64+x32 merged, redundant rules dropped, unconditional wins", () => {
  const f = normalizeSeccomp(
    {
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X32", "SCMP_ARCH_X86"],
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ERRNO" }, // same as the default: dropped
        { names: ["write"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, op: "SCMP_CMP_EQ", value: 1 }] },
        { names: ["write"], action: "SCMP_ACT_LOG" },
        { names: ["write"], action: "SCMP_ACT_TRAP" },
        { names: ["close"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, op: "SCMP_CMP_MASKED_EQ", value: 0xffffffff00000000n, valueTwo: 5 }] },
      ],
    },
    X64,
  )!;
  assert.is(f.sections.length, 2);
  const [x86_64, x86] = f.sections;
  assert.equal(x86_64!.arches, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"]);
  assert.is(x86_64!.kind, SECTION_KIND.X86_64_AND_X32);
  assert.is(x86!.kind, SECTION_KIND.PLAIN);
  assert.ok(x86_64!.enosys);
  assert.is(x86_64!.maxA, 3);
  assert.is(x86_64!.maxB, 0x40000003);
  const nrs = x86_64!.syscalls.map((s) => s.nr);
  assert.equal(nrs, [...nrs].sort((a, b) => a - b));
  assert.not.ok(nrs.includes(0), "read: redundant");
  const write = x86_64!.syscalls.find((s) => s.nr === 1)!;
  assert.is(write.action, actionValue("SCMP_ACT_LOG"), "first unconditional rule wins over the conditional one");
  assert.equal(write.rules, []);
  // MASKED_EQ whose mask has no low bits is a no-op on 32-bit ABIs: close is unconditional there.
  assert.is(x86_64!.syscalls.find((s) => s.nr === 3)!.rules.length, 1);
  assert.is(x86_64!.syscalls.find((s) => s.nr === 0x40000003)!.action, actionValue("SCMP_ACT_ALLOW"));
  assert.is(x86!.syscalls.find((s) => s.nr === 6)!.action, actionValue("SCMP_ACT_ALLOW"));
  // The stub is off for permissive defaults and for ERRNO(ENOSYS).
  assert.not.ok(normalizeSeccomp({ defaultAction: "SCMP_ACT_LOG", syscalls: [{ names: ["read"], action: "SCMP_ACT_KILL" }] }, X64)!.sections[0]!.enosys);
  assert.not.ok(normalizeSeccomp({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38 }, X64)!.sections[0]!.enosys);
  assert.ok(normalizeSeccomp({ defaultAction: "SCMP_ACT_KILL_PROCESS" }, X64)!.sections[0]!.enosys);
});

test("cache: one compile per compiler input in a process", () => {
  const p: SeccompProfile = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read", "write", "exit_group"], action: "SCMP_ACT_ALLOW" }] };
  memoryClear();
  const a = compileSeccomp(p, X64)!;
  assert.is(a.source, "compiled");
  const again = compileSeccomp(JSON.parse(JSON.stringify(p)), X64)!;
  assert.is(again.source, "memory");
  assert.ok(again.program.equals(a.program));
  // Another profile, another key; the same profile on another native arch too.
  assert.is(compileSeccomp({ ...p, defaultAction: "SCMP_ACT_KILL" }, X64)!.source, "compiled");
  assert.is(compileSeccomp(p, { nativeArch: "SCMP_ARCH_AARCH64", debug: quiet })!.source, "compiled");
  memoryClear();
  assert.is(compileSeccomp(p, X64)!.source, "compiled");
});

test("compiler input is deterministic and rejected by the addon when corrupt", () => {
  const p: SeccompProfile = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, op: "SCMP_CMP_GT", value: 5 }] }] };
  const a = encodeFilter(normalizeSeccomp(p, X64)!);
  const b = encodeFilter(normalizeSeccomp(JSON.parse(JSON.stringify(p)), X64)!);
  assert.ok(a.equals(b));
  const addon = require(join(ROOT, "build", "Release", "ocirt_native.node")) as { compileSeccomp(b: unknown): Buffer };
  assert.throws(() => addon.compileSeccomp(a.subarray(0, a.length - 4)), /^seccomp: invalid compiler input: (truncated input|count larger than the input) at byte \d+$/);
  assert.throws(() => addon.compileSeccomp(Buffer.concat([a, Buffer.alloc(4)])), /trailing bytes/);
  assert.throws(() => addon.compileSeccomp(Buffer.from("nope nope nope nope")), /bad magic/);
  assert.throws(() => addon.compileSeccomp({}), /expected the Buffer/);
  const huge = Buffer.from(a);
  huge.writeUInt32LE(0xffffffff, 20); // section count
  assert.throws(() => addon.compileSeccomp(huge), /count larger than the input/);
});

test("describing actions and programs", () => {
  assert.is(describeAction(0x50001), "SCMP_ACT_ERRNO(1)");
  assert.is(describeAction(0x7ff00005), "SCMP_ACT_TRACE(5)");
  assert.is(describeAction(0), "SCMP_ACT_KILL_THREAD");
  assert.is(describeAction(0x80000000), "SCMP_ACT_KILL_PROCESS");
  assert.is(describeAction(0x7fc00000), "SCMP_ACT_NOTIFY");
  assert.is(describeAction(0x7fff0000), "SCMP_ACT_ALLOW");
  assert.is(actionValue("SCMP_ACT_KILL"), 0);
  assert.is(actionValue("SCMP_ACT_ERRNO"), 0x50001, "EPERM when errnoRet is absent");
  assert.ok(KNOWN_ACTIONS.includes("SCMP_ACT_KILL_PROCESS") && KNOWN_ACTIONS.length === 9);
  assert.is(KNOWN_OPERATORS.length, 7);
  const lines = disassemble(compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }] }, X64)!.program);
  assert.is(lines[0], "0000: ld arch");
  assert.ok(lines.some((l) => /ret SCMP_ACT_ALLOW$/.test(l)));
});

test.run();
