// linux.seccomp -> a BPF program for the init helper to load:
// normalize (names -> numbers per architecture, runc's rule semantics, pure)
// -> encode (compact input) -> the addon's compiler, with this process's cache in
// front keyed by that input.
import { ConfigError } from "../errors";
import { log } from "../log";
import { seccompAddon, type SeccompAddon } from "./addon";
import { memoryGet, memorySet } from "./cache";
import { encodeFilter } from "./encode";
import { normalizeSeccomp, type NormalizeOptions } from "./profile";
import type { CompiledSeccomp, SeccompProfile } from "./types";

export interface CompileOptions extends NormalizeOptions {
  /** Default: the built addon. */
  addon?: SeccompAddon;
}

/**
 * Compiles linux.seccomp. null when the profile turns seccomp off (no defaultAction
 * and no syscalls, as runc). Throws ConfigError for an invalid profile or a program
 * over the kernel's 4096 instructions.
 */
export function compileSeccomp(profile: SeccompProfile | null | undefined, opts: CompileOptions = {}): CompiledSeccomp | null {
  const debug = opts.debug ?? log.debug;
  const filter = normalizeSeccomp(profile, { ...opts, debug });
  if (!filter) return null;
  const input = encodeFilter(filter);
  const addon = opts.addon ?? seccompAddon();
  const key = input.toString("latin1");
  let source: CompiledSeccomp["source"] = "memory";
  let program = memoryGet(key);
  if (!program) {
    source = "compiled";
    try {
      program = addon.compileSeccomp(input);
    } catch (err) {
      const msg = (err as Error).message;
      // The only failure a profile can cause; anything else is a bug and stays one.
      if (/^seccomp: program has \d+ instructions/.test(msg)) throw new ConfigError(msg, [], { cause: err });
      throw err;
    }
  }
  memorySet(key, program);
  return {
    program,
    length: program.length / 8,
    flags: filter.flags,
    notify: filter.notify,
    listenerPath: filter.listenerPath,
    listenerMetadata: filter.listenerMetadata,
    source,
  };
}

export { normalizeSeccomp, type NormalizeOptions } from "./profile";
export { encodeFilter } from "./encode";
export { decodeProgram, disassemble, type SockFilter } from "./bpf";
export {
  ACTIONS,
  FLAGS,
  KNOWN_ACTIONS,
  KNOWN_ARCHES,
  KNOWN_FLAGS,
  KNOWN_OPERATORS,
  OPERATORS,
  SECCOMP_FILTER_FLAG,
  SECCOMP_RET,
  actionValue,
  describeAction,
  describeFlags,
} from "./constants";
export { nativeArch, syscallTables, type ArchTable, type SyscallTables } from "./tables";
export type * from "./types";
export { SECTION_KIND } from "./types";
