// The syscall tables generated from the kernel headers at build time
// (scripts/gen-syscalls.mjs -> build/gen/syscalls.json; read at run time through
// loadGenerated, outside the main bundle).
import { loadGenerated } from "../generated";
import { HostError } from "../errors";

export interface Multiplexer {
  /** The multiplexing syscall's own number (socketcall, ipc). */
  nr: number;
  /** Sub-call name -> the number passed as its first argument. */
  calls: Record<string, number>;
}

export interface ArchTable {
  auditArch: number;
  bits: 32 | 64;
  endian: "little" | "big";
  syscalls: Record<string, number>;
  /** i386: the socket and SysV IPC calls are also reachable through socketcall(2) / ipc(2). */
  multiplexed?: { socketcall: Multiplexer; ipc: Multiplexer };
}

export interface SyscallTables {
  linux: string;
  x32SyscallBit: number;
  arches: Record<string, ArchTable>;
}

let tables: SyscallTables | undefined;

export function syscallTables(): SyscallTables {
  if (tables) return tables;
  try {
    tables = loadGenerated<SyscallTables>("syscalls.json");
  } catch (err) {
    throw new HostError(`seccomp: the syscall tables are missing (run 'node scripts/gen-syscalls.mjs'): ${(err as Error).message}`);
  }
  return tables;
}

/** node's process.arch -> the seccomp architecture of processes it runs. */
const NATIVE: Record<string, string> = {
  x64: "SCMP_ARCH_X86_64",
  ia32: "SCMP_ARCH_X86",
  arm64: "SCMP_ARCH_AARCH64",
  arm: "SCMP_ARCH_ARM",
  ppc64: "SCMP_ARCH_PPC64LE",
  s390x: "SCMP_ARCH_S390X",
  riscv64: "SCMP_ARCH_RISCV64",
  loong64: "SCMP_ARCH_LOONGARCH64",
  mips: "SCMP_ARCH_MIPS",
  mipsel: "SCMP_ARCH_MIPSEL",
};

export function nativeArch(): string {
  const a = NATIVE[process.arch];
  if (!a) throw new HostError(`seccomp: unsupported host architecture ${process.arch}`);
  return a;
}
