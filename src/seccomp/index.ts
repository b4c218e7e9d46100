// linux.seccomp -> a BPF program for the init helper to load:
// normalize (names -> numbers per architecture, runc's rule semantics, pure)
// -> encode (compact input) -> the addon's compiler, with a cache in front keyed by
// the sha256 of that input.
import { ConfigError } from "../errors";
import { log } from "../log";
import { seccompAddon, type SeccompAddon } from "./addon";
import { diskGet, diskSet, memoryGet, memorySet } from "./cache";
import { encodeFilter } from "./encode";
import { normalizeSeccomp, type NormalizeOptions } from "./normalize";
import type { CompiledSeccomp, SeccompProfile } from "./types";

export interface CompileOptions extends NormalizeOptions {
  /** Also keep compiled programs here (e.g. <root>/.seccomp-cache). Must be private to root. */
  cacheDir?: string;
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
  // loaded here, not at the top: node:crypto costs ~8 ms and most containers need no seccomp
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  const hash = createHash("sha256").update(`ocirt-seccomp/${addon.seccompCompilerVersion}\0`).update(input).digest("hex");

  let source: CompiledSeccomp["source"] = "memory";
  let program = memoryGet(hash);
  if (!program && opts.cacheDir) {
    program = diskGet(opts.cacheDir, hash, debug);
    source = "disk";
  }
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
    if (opts.cacheDir) diskSet(opts.cacheDir, hash, program, debug);
  }
  memorySet(hash, program);
  return {
    program,
    length: program.length / 8,
    flags: filter.flags,
    notify: filter.notify,
    listenerPath: filter.listenerPath,
    listenerMetadata: filter.listenerMetadata,
    hash,
    source,
  };
}

export { normalizeSeccomp, type NormalizeOptions } from "./normalize";
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
