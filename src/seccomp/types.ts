// What the seccomp front takes and gives. The input is structural so that both
// config.json's linux.seccomp (numbers) and the normalised spec (exact bigints,
// src/spec/normalise.ts SpecSeccomp) fit.

/** An argument value: uint64. Numbers beyond 2^53 are inexact, so bigint (or a decimal string) is preferred. */
export type U64Input = number | bigint | string;

export interface SeccompArgInput {
  index: number;
  value: U64Input;
  valueTwo?: U64Input | undefined;
  op: string;
}

export interface SeccompSyscallInput {
  names: readonly string[];
  action: string;
  errnoRet?: number | undefined;
  args?: readonly SeccompArgInput[] | undefined;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number | undefined;
  /** The native architecture is always filtered too (libseccomp's filter always has it). */
  architectures?: readonly string[] | undefined;
  /** undefined: runc's default, SPEC_ALLOW; [] : no flags. */
  flags?: readonly string[] | undefined;
  listenerPath?: string | undefined;
  listenerMetadata?: string | undefined;
  syscalls?: readonly SeccompSyscallInput[] | undefined;
}

/** One argument condition, ready for the compiler. */
export interface NormalCond {
  index: number;
  /** OPERATORS value. */
  op: number;
  /** The value; the mask for MASKED_EQ. */
  a: bigint;
  /** MASKED_EQ's datum (already masked), else 0. */
  b: bigint;
}

export interface NormalRule {
  action: number;
  /** ANDed; never empty (a rule without conditions makes the syscall unconditional). */
  conds: NormalCond[];
}

export interface NormalSyscall {
  nr: number;
  /** The profile's names that led here, for debugging. */
  names: string[];
  /** Arguments compared on 64 bits (64-bit ABI) or on their low word. */
  wide: boolean;
  /** Set: this action whatever the arguments; rules is then empty. */
  action: number | undefined;
  /** In order; the first matching rule decides, else the default action. */
  rules: NormalRule[];
}

export const SECTION_KIND = { PLAIN: 0, X86_64_ONLY: 1, X32_ONLY: 2, X86_64_AND_X32: 3 } as const;

export interface NormalSection {
  /** The seccomp architectures this section filters (two for x86_64 + x32). */
  arches: string[];
  auditArch: number;
  kind: number;
  bigEndian: boolean;
  /** runc's -ENOSYS stub: numbers past the last syscall the profile names get ENOSYS. */
  enosys: boolean;
  /** Last syscall number the profile names (x86_64's in a mixed section), 0 = none. */
  maxA: number;
  /** Last x32 syscall number in a mixed section, 0 = none. */
  maxB: number;
  /** Ascending nr. */
  syscalls: NormalSyscall[];
}

export interface NormalFilter {
  defaultAction: number;
  badArchAction: number;
  enosysAction: number;
  sections: NormalSection[];
  /** seccomp(2) flags, NEW_LISTENER included when notify. */
  flags: number;
  notify: boolean;
  listenerPath: string | undefined;
  listenerMetadata: string | undefined;
}

export interface CompiledSeccomp {
  /** struct sock_filter[] in host byte order, 8 bytes each. */
  program: Buffer;
  /** Instructions in program. */
  length: number;
  /** Flags for seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog); includes NEW_LISTENER when notify. */
  flags: number;
  /** Some rule is SCMP_ACT_NOTIFY: load with NEW_LISTENER and hand the fd to listenerPath. */
  notify: boolean;
  listenerPath: string | undefined;
  listenerMetadata: string | undefined;
  /** Compiled now, or taken from this process's cache. */
  source: "compiled" | "memory";
}

export type DebugLog = (msg: string, fields?: Record<string, unknown>) => void;
