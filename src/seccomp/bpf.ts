// Reading compiled programs back: for debug logs and tests.
import { describeAction } from "./constants";

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// the host's byte order, without node:os (~0.4 ms of a start under Bun)
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** struct sock_filter[] in host byte order -> instructions. */
export function decodeProgram(program: Buffer): SockFilter[] {
  const out: SockFilter[] = [];
  for (let off = 0; off + 8 <= program.length; off += 8) {
    out.push({
      code: LE ? program.readUInt16LE(off) : program.readUInt16BE(off),
      jt: program[off + 2]!,
      jf: program[off + 3]!,
      k: LE ? program.readUInt32LE(off + 4) : program.readUInt32BE(off + 4),
    });
  }
  return out;
}

const SECCOMP_DATA: Record<number, string> = { 0: "nr", 4: "arch", 8: "ip_lo", 12: "ip_hi" };
function field(k: number): string {
  if (SECCOMP_DATA[k]) return SECCOMP_DATA[k]!;
  if (k >= 16 && k < 64) return `args[${(k - 16) >> 3}]${(k & 4) === 0 ? ".lo" : ".hi"}`; // little-endian layout
  return `[${k}]`;
}

const hex = (k: number) => `0x${k.toString(16)}`;

/** One line per instruction, jump targets as absolute positions. */
export function disassemble(program: Buffer): string[] {
  return decodeProgram(program).map((i, pc) => {
    const at = String(pc).padStart(4, "0");
    switch (i.code) {
      case 0x20:
        return `${at}: ld ${field(i.k)}`;
      case 0x54:
        return `${at}: and #${hex(i.k)}`;
      case 0x05:
        return `${at}: ja ${pc + 1 + i.k}`;
      case 0x15:
      case 0x25:
      case 0x35:
      case 0x45: {
        const op = ({ 0x15: "jeq", 0x25: "jgt", 0x35: "jge", 0x45: "jset" } as Record<number, string>)[i.code];
        return `${at}: ${op} #${hex(i.k)} jt ${pc + 1 + i.jt} jf ${pc + 1 + i.jf}`;
      }
      case 0x06:
        return `${at}: ret ${describeAction(i.k)}`;
      default:
        return `${at}: code=${hex(i.code)} jt=${i.jt} jf=${i.jf} k=${hex(i.k)}`;
    }
  });
}
