// The names of the OCI seccomp profile and the kernel values they stand for
// (linux/seccomp.h), plus helpers to show a filter's return values to a person.
import { SECCOMP_ARCHES } from "../spec/types";

/** SECCOMP_RET_* action bases; the low 16 bits carry data (errno, ptrace msg). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** seccomp(2) SECCOMP_SET_MODE_FILTER flags. */
export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
} as const;

const EPERM = 1;
export const ENOSYS = 38; // the same on every architecture with a syscall table here

/** Actions as libseccomp names them; SCMP_ACT_KILL is KILL_THREAD (libseccomp's SCMP_ACT_KILL). */
export const ACTIONS = {
  SCMP_ACT_KILL: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET.KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET.TRAP,
  SCMP_ACT_ERRNO: SECCOMP_RET.ERRNO,
  SCMP_ACT_TRACE: SECCOMP_RET.TRACE,
  SCMP_ACT_ALLOW: SECCOMP_RET.ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET.LOG,
  SCMP_ACT_NOTIFY: SECCOMP_RET.USER_NOTIF,
} as const;
export type ActionName = keyof typeof ACTIONS;

/** Operators, numbered as libseccomp's enum scmp_compare (the compiler's input uses these). */
export const OPERATORS = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
} as const;
export type OperatorName = keyof typeof OPERATORS;

/**
 * Filter flags of the spec -> bits for seccomp(2). TSYNC is accepted and not passed,
 * as runc does: the helper is single-threaded when it loads the filter, and TSYNC
 * with NEW_LISTENER makes the kernel refuse the filter.
 */
export const FLAGS = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
} as const;
export type FlagName = keyof typeof FLAGS;

/** Every architecture the spec names (runc accepts them; tables exist for some). */
export const KNOWN_ARCHES = SECCOMP_ARCHES;

/** For `ocirt features` (linux.seccomp), sorted as runc prints them. */
export const KNOWN_ACTIONS: readonly string[] = Object.keys(ACTIONS).sort();
export const KNOWN_OPERATORS: readonly string[] = Object.keys(OPERATORS).sort();
export const KNOWN_FLAGS: readonly string[] = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

export function isActionName(s: string): s is ActionName {
  return Object.hasOwn(ACTIONS, s);
}
export function isOperatorName(s: string): s is OperatorName {
  return Object.hasOwn(OPERATORS, s);
}
export function isFlagName(s: string): s is FlagName {
  return Object.hasOwn(FLAGS, s);
}

/**
 * The filter return value of an action. ERRNO and TRACE carry errnoRet in their
 * data, EPERM when absent (runc), truncated to 16 bits as libseccomp does.
 */
export function actionValue(name: ActionName, errnoRet?: number): number {
  const base = ACTIONS[name];
  if (base === SECCOMP_RET.ERRNO || base === SECCOMP_RET.TRACE) return (base | ((errnoRet ?? EPERM) & SECCOMP_RET_DATA)) >>> 0;
  return base;
}

/** A filter return value as libseccomp would write it, e.g. "SCMP_ACT_ERRNO(1)". */
export function describeAction(value: number): string {
  const v = value >>> 0;
  const data = v & SECCOMP_RET_DATA;
  switch ((v & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET.KILL_PROCESS:
      return "SCMP_ACT_KILL_PROCESS";
    case SECCOMP_RET.KILL_THREAD:
      return "SCMP_ACT_KILL_THREAD";
    case SECCOMP_RET.TRAP:
      return "SCMP_ACT_TRAP";
    case SECCOMP_RET.ERRNO:
      return `SCMP_ACT_ERRNO(${data})`;
    case SECCOMP_RET.USER_NOTIF:
      return "SCMP_ACT_NOTIFY";
    case SECCOMP_RET.TRACE:
      return `SCMP_ACT_TRACE(${data})`;
    case SECCOMP_RET.LOG:
      return "SCMP_ACT_LOG";
    case SECCOMP_RET.ALLOW:
      return "SCMP_ACT_ALLOW";
    default:
      return `0x${v.toString(16).padStart(8, "0")}`;
  }
}

/** The names of the bits of a seccomp(2) flags word, e.g. for a debug log. */
export function describeFlags(flags: number): string[] {
  const out: string[] = [];
  for (const [name, bit] of Object.entries(SECCOMP_FILTER_FLAG)) if (flags & bit) out.push(`SECCOMP_FILTER_FLAG_${name}`);
  return out;
}
