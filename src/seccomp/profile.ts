// OCI linux.seccomp -> the per-architecture rule sets the compiler turns into BPF.
// Pure: tables and the native architecture come in as options (defaults: the
// generated tables and this host).
//
// Semantics follow runc (libcontainer/seccomp) on top of libseccomp:
//  - no defaultAction and no syscalls: seccomp is off;
//  - the native architecture is always filtered, listed ones are added; any other
//    architecture gets the bad-arch action (KILL_THREAD, libseccomp's default);
//  - a rule whose action equals the default action is dropped (runc: redundant);
//  - a name unknown on every architecture is skipped with a debug log; a name is
//    used on each architecture that has it;
//  - several args on distinct indexes are ANDed in one rule; when an index repeats,
//    each arg becomes a rule of its own (runc's "old behavior"), i.e. they are ORed;
//  - an unconditional rule for a syscall wins over its conditional ones whatever the
//    order, and the first unconditional one wins over later ones (libseccomp's
//    db_rule_add); conditional rules are tried in order, the first match decides;
//  - on 32-bit ABIs (x86, arm, x32) arguments are compared on their low 32 bits;
//  - on x86 the socket and SysV IPC calls are also filtered as socketcall(2)/ipc(2)
//    with the sub-call number in arg 0 (libseccomp's multiplexing);
//  - runc's -ENOSYS stub: unless the default action is ALLOW, LOG or TRACE, numbers
//    above the highest syscall the profile names (per ABI) return ENOSYS, so that
//    programs fall back from syscalls newer than the profile.
import { ConfigError } from "../errors";
import {
  ACTIONS,
  ENOSYS,
  FLAGS,
  KNOWN_ARCHES,
  OPERATORS,
  SECCOMP_FILTER_FLAG,
  SECCOMP_RET,
  actionValue,
  isActionName,
  isFlagName,
  isOperatorName,
} from "./constants";
import { nativeArch as hostArch, syscallTables, type ArchTable, type SyscallTables } from "./tables";
import {
  SECTION_KIND,
  type DebugLog,
  type NormalCond,
  type NormalFilter,
  type NormalRule,
  type NormalSection,
  type NormalSyscall,
  type SeccompProfile,
  type U64Input,
} from "./types";

export interface NormalizeOptions {
  /** Default: this host's. */
  nativeArch?: string;
  /** Default: build/gen/syscalls.json. */
  tables?: SyscallTables;
  debug?: DebugLog;
}

const AT = "linux.seccomp";
const U64_MAX = (1n << 64n) - 1n;
const U32_MASK = 0xffffffffn;
const MAX_ARGS = 6;

/** One profile name with its action and rules, before resolution to numbers. */
interface Call {
  name: string;
  action: number;
  /** Each inner array is one rule (ANDed args); empty outer array: unconditional. */
  rules: RawCond[][];
}
interface RawCond {
  index: number;
  op: number;
  value: bigint;
  valueTwo: bigint;
}

function bad(where: string, message: string): never {
  throw new ConfigError(message, [], { where });
}

function u64(v: U64Input | undefined, where: string): bigint {
  if (v === undefined) return 0n;
  let b: bigint;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number" && Number.isInteger(v)) {
    b = BigInt(v);
    // JSON.parse turns 18446744073709551615 into 2^64.
    if (b === 1n << 64n) b = U64_MAX;
  } else if (typeof v === "string" && /^[0-9]+$/.test(v)) b = BigInt(v);
  else bad(where, `must be an unsigned 64-bit integer, got ${JSON.stringify(String(v))}`);
  if (b < 0n || b > U64_MAX) bad(where, `must be an unsigned 64-bit integer, got ${b}`);
  return b;
}

function errnoOf(v: number | undefined, where: string): number | undefined {
  if (v == null) return undefined;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) bad(where, `must be an unsigned integer, got ${v}`);
  return v;
}

function action(name: string, errnoRet: number | undefined, where: string): number {
  if (!isActionName(name)) bad(where, `unknown seccomp action ${JSON.stringify(name)}`);
  return actionValue(name, errnoRet);
}

/** Expands the profile's entries into one Call per name, in profile order. */
function expandCalls(profile: SeccompProfile): { calls: Call[]; notify: boolean } {
  const calls: Call[] = [];
  let notify = false;
  (profile.syscalls ?? []).forEach((entry, i) => {
    const at = `${AT}.syscalls[${i}]`;
    if (!Array.isArray(entry.names)) bad(`${at}.names`, "must be an array of syscall names");
    const act = action(entry.action, errnoOf(entry.errnoRet, `${at}.errnoRet`), `${at}.action`);
    const conds: RawCond[] = (entry.args ?? []).map((arg, j) => {
      const aat = `${at}.args[${j}]`;
      if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index >= MAX_ARGS) bad(`${aat}.index`, `must be 0 to ${MAX_ARGS - 1}, got ${arg.index}`);
      if (!isOperatorName(arg.op)) bad(`${aat}.op`, `unknown seccomp operator ${JSON.stringify(arg.op)}`);
      return { index: arg.index, op: OPERATORS[arg.op], value: u64(arg.value, `${aat}.value`), valueTwo: u64(arg.valueTwo, `${aat}.valueTwo`) };
    });
    const indexes = new Set(conds.map((c) => c.index));
    // runc: when an index repeats, each condition is a rule of its own.
    const rules = conds.length === 0 ? [] : indexes.size === conds.length ? [conds] : conds.map((c) => [c]);
    entry.names.forEach((name, k) => {
      if (typeof name !== "string" || name === "") bad(`${at}.names[${k}]`, "empty string is not a valid syscall");
      if (entry.action === "SCMP_ACT_NOTIFY") {
        // The helper writes the listener fd to its parent after loading the filter.
        if (name === "write") bad(`${at}.names[${k}]`, "SCMP_ACT_NOTIFY cannot be used for the write syscall");
        notify = true;
      }
      calls.push({ name, action: act, rules });
    });
  });
  return { calls, notify };
}

function filterFlags(profile: SeccompProfile, notify: boolean): number {
  let flags = 0;
  if (profile.flags == null) {
    flags |= SECCOMP_FILTER_FLAG.SPEC_ALLOW; // runc's default when the field is absent
  } else {
    profile.flags.forEach((f, i) => {
      if (!isFlagName(f)) bad(`${AT}.flags[${i}]`, `seccomp flag ${JSON.stringify(f)} is not known`);
      flags |= FLAGS[f];
    });
  }
  if (notify) flags |= SECCOMP_FILTER_FLAG.NEW_LISTENER;
  else if (flags & SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV) {
    bad(`${AT}.flags`, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with SCMP_ACT_NOTIFY (the kernel refuses it without a listener)");
  }
  return flags;
}

/** The architectures to filter, native first, and the tables of those we have. */
function architectures(profile: SeccompProfile, native: string, tables: SyscallTables, debug: DebugLog): string[] {
  const out: string[] = [];
  for (const [i, a] of [native, ...(profile.architectures ?? [])].entries()) {
    if (!(KNOWN_ARCHES as readonly string[]).includes(a)) bad(`${AT}.architectures[${i - 1}]`, `unknown seccomp architecture ${JSON.stringify(a)}`);
    if (out.includes(a)) continue;
    if (!tables.arches[a]) {
      // Such a process cannot run on this host (the tables cover the host's
      // architectures and their compat ABIs); it meets the bad-arch action.
      debug(`seccomp: no syscall table for ${a} in this build; its syscalls get the bad-arch action`);
      continue;
    }
    out.push(a);
  }
  return out;
}

interface Entry {
  names: string[];
  action: number | undefined;
  rules: NormalRule[];
}

/** The conditions of one rule on one ABI: values cut to the ABI's width, no-ops dropped. */
function abiConds(raw: RawCond[], wide: boolean): NormalCond[] {
  const out: NormalCond[] = [];
  for (const c of raw) {
    const width = wide ? U64_MAX : U32_MASK;
    const a = c.value & width;
    if (c.op === OPERATORS.SCMP_CMP_MASKED_EQ) {
      if (a === 0n) continue; // (x & 0) == (d & 0): always true (libseccomp drops it too)
      out.push({ index: c.index, op: c.op, a, b: c.valueTwo & a });
    } else {
      out.push({ index: c.index, op: c.op, a, b: 0n });
    }
  }
  return out.sort((x, y) => x.index - y.index); // libseccomp orders a rule's args by index
}

function addRule(entries: Map<number, Entry>, nr: number, name: string, act: number, conds: NormalCond[]): void {
  let e = entries.get(nr);
  if (!e) entries.set(nr, (e = { names: [name], action: undefined, rules: [] }));
  else if (!e.names.includes(name)) e.names.push(name);
  if (e.action !== undefined) return; // an unconditional rule already decides
  if (conds.length === 0) {
    e.action = act;
    e.rules = [];
  } else {
    e.rules.push({ action: act, conds });
  }
}

function abiEntries(table: ArchTable, calls: Call[], defaultAction: number): Map<number, Entry> {
  const entries = new Map<number, Entry>();
  const wide = table.bits === 64;
  const muxes = table.multiplexed ? [table.multiplexed.socketcall, table.multiplexed.ipc] : [];
  for (const call of calls) {
    if (call.action === defaultAction) continue;
    const rules = call.rules.length === 0 ? [[]] : call.rules;
    const nr = table.syscalls[call.name];
    if (nr !== undefined) for (const r of rules) addRule(entries, nr, call.name, call.action, abiConds(r, wide));
    for (const mux of muxes) {
      const sub = mux.calls[call.name];
      if (sub === undefined) continue;
      // The sub-call number replaces whatever the rule said about arg 0.
      for (const r of rules) {
        const conds = [{ index: 0, op: OPERATORS.SCMP_CMP_EQ, value: BigInt(sub), valueTwo: 0n }, ...r.filter((c) => c.index !== 0)];
        addRule(entries, mux.nr, call.name, call.action, abiConds(conds, wide));
      }
    }
  }
  return entries;
}

/** runc's findLastSyscalls: the highest number (of a direct syscall) the profile names. */
function lastSyscall(table: ArchTable, calls: Call[]): number {
  let max = 0;
  for (const c of calls) {
    const nr = table.syscalls[c.name];
    if (nr !== undefined && nr > max) max = nr;
  }
  return max;
}

function toSyscalls(entries: Map<number, Entry>, wide: boolean): NormalSyscall[] {
  return [...entries].map(([nr, e]) => ({ nr, names: e.names, wide, action: e.action, rules: e.rules }));
}

/** null: the profile turns seccomp off (no defaultAction and no syscalls, as runc). */
export function normalizeSeccomp(profile: SeccompProfile | null | undefined, opts: NormalizeOptions = {}): NormalFilter | null {
  if (!profile) return null;
  if (!profile.defaultAction && (profile.syscalls ?? []).length === 0) return null;
  const debug = opts.debug ?? (() => {});
  const tables = opts.tables ?? syscallTables();
  const native = opts.nativeArch ?? hostArch();
  if (!tables.arches[native]) throw new ConfigError(`seccomp: no syscall table for the native architecture ${native}`);

  if (profile.defaultAction === "SCMP_ACT_NOTIFY") bad(`${AT}.defaultAction`, "SCMP_ACT_NOTIFY cannot be used as default action");
  const defaultAction = action(profile.defaultAction, errnoOf(profile.defaultErrnoRet, `${AT}.defaultErrnoRet`), `${AT}.defaultAction`);
  const { calls, notify } = expandCalls(profile);
  if (notify && !profile.listenerPath) bad(`${AT}.listenerPath`, "must be set when a rule uses SCMP_ACT_NOTIFY");
  const flags = filterFlags(profile, notify);

  const arches = architectures(profile, native, tables, debug);
  for (const name of new Set(calls.map((c) => c.name))) {
    const known = arches.some((a) => {
      const t = tables.arches[a]!;
      return t.syscalls[name] !== undefined || (t.multiplexed && (t.multiplexed.socketcall.calls[name] ?? t.multiplexed.ipc.calls[name]) !== undefined);
    });
    if (!known) debug(`unknown seccomp syscall ${JSON.stringify(name)} ignored`);
  }

  const base = (defaultAction & 0xffff0000) >>> 0;
  const permissive = base === SECCOMP_RET.ALLOW || base === SECCOMP_RET.LOG || base === SECCOMP_RET.TRACE;
  const enosysAction = actionValue("SCMP_ACT_ERRNO", ENOSYS);
  // The stub changes nothing when the default action already is ERRNO(ENOSYS).
  const enosys = !permissive && defaultAction !== enosysAction;

  const sections: NormalSection[] = [];
  const done = new Set<string>();
  for (const a of arches) {
    if (done.has(a)) continue;
    const t = tables.arches[a]!;
    const group = arches.filter((b) => tables.arches[b]!.auditArch === t.auditArch);
    group.forEach((b) => done.add(b));
    const hasX86_64 = group.includes("SCMP_ARCH_X86_64");
    const hasX32 = group.includes("SCMP_ARCH_X32");
    if (group.length > 1 && !(hasX86_64 && hasX32 && group.length === 2)) {
      throw new ConfigError(`seccomp: architectures ${group.join(", ")} share an audit arch value`);
    }
    const kind = hasX86_64 && hasX32 ? SECTION_KIND.X86_64_AND_X32 : hasX86_64 ? SECTION_KIND.X86_64_ONLY : hasX32 ? SECTION_KIND.X32_ONLY : SECTION_KIND.PLAIN;
    const syscalls: NormalSyscall[] = [];
    let maxA = 0;
    let maxB = 0;
    for (const b of group) {
      const tb = tables.arches[b]!;
      syscalls.push(...toSyscalls(abiEntries(tb, calls, defaultAction), tb.bits === 64));
      if (kind === SECTION_KIND.X86_64_AND_X32 && b === "SCMP_ARCH_X32") maxB = lastSyscall(tb, calls);
      else maxA = lastSyscall(tb, calls);
    }
    syscalls.sort((x, y) => x.nr - y.nr);
    sections.push({ arches: group, auditArch: t.auditArch, kind, bigEndian: t.endian === "big", enosys, maxA, maxB, syscalls });
  }

  return {
    defaultAction,
    badArchAction: ACTIONS.SCMP_ACT_KILL,
    enosysAction,
    sections,
    flags,
    notify,
    listenerPath: profile.listenerPath || undefined,
    listenerMetadata: profile.listenerMetadata || undefined,
  };
}
