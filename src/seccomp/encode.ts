// NormalFilter -> the compiler's input (addon/seccomp/compiler.h, Parse): u32 words,
// little-endian. The same bytes are hashed for the program cache, so everything
// that changes the program is in them and nothing else is.
import type { NormalFilter } from "./types";

export const INPUT_MAGIC = 0x4643534f; // "OSCF"
export const INPUT_VERSION = 1;

class Words {
  // DataView rather than Buffer.writeUInt32LE: several times faster before the JIT
  // warms up, which is all a one-shot `ocirt create` ever sees.
  private view = new DataView(new ArrayBuffer(4096));
  private len = 0;
  u32(v: number): void {
    if (this.len + 4 > this.view.byteLength) {
      const next = new Uint8Array(this.view.byteLength * 2);
      next.set(new Uint8Array(this.view.buffer, 0, this.len));
      this.view = new DataView(next.buffer);
    }
    this.view.setUint32(this.len, v >>> 0, true);
    this.len += 4;
  }
  u64(v: bigint): void {
    this.u32(Number(v & 0xffffffffn));
    this.u32(Number(v >> 32n));
  }
  bytes(): Buffer {
    return Buffer.from(this.view.buffer, 0, this.len);
  }
}

export function encodeFilter(f: NormalFilter): Buffer {
  const w = new Words();
  w.u32(INPUT_MAGIC);
  w.u32(INPUT_VERSION);
  w.u32(f.defaultAction);
  w.u32(f.badArchAction);
  w.u32(f.enosysAction);
  w.u32(f.sections.length);
  for (const s of f.sections) {
    w.u32(s.auditArch);
    w.u32(s.kind);
    w.u32(s.bigEndian ? 1 : 0);
    w.u32(s.enosys ? 1 : 0);
    w.u32(s.maxA);
    w.u32(s.maxB);
    w.u32(s.syscalls.length);
    for (const sc of s.syscalls) {
      w.u32(sc.nr);
      w.u32((sc.wide ? 1 : 0) | (sc.action !== undefined ? 2 : 0));
      w.u32(sc.action ?? 0);
      w.u32(sc.action !== undefined ? 0 : sc.rules.length);
      if (sc.action !== undefined) continue;
      for (const r of sc.rules) {
        w.u32(r.action);
        w.u32(r.conds.length);
        for (const c of r.conds) {
          w.u32(c.index);
          w.u32(c.op);
          w.u64(c.a);
          w.u64(c.b);
        }
      }
    }
  }
  return w.bytes();
}
