// Encodes a list of ops into the one buffer the init helper reads (format in
// addon/plan.h). Pure: the tests decode what it writes.
import type { PlanOp } from "./ops";

export const PLAN_MAGIC = 0x4c50434f;
export const PLAN_VERSION = 1;

function pad8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Two passes over one buffer: sizes first (strings encoded once), then the bytes. Written
 * through a DataView: each command runs this once, cold, where Buffer's write methods
 * cost about twice as much (~1 ms for a plan of 150 ops under Bun).
 */
export function encodePlan(ops: PlanOp[]): Buffer {
  const utf8 = new TextEncoder();
  const blobs: Uint8Array[] = []; // every op's, in order; a string's NUL is added below
  let total = 16;
  for (const op of ops) {
    let size = 16 + (op.ints?.length ?? 0) * 8;
    for (const b of op.blobs ?? []) {
      const bytes = typeof b === "string" ? utf8.encode(b) : b;
      blobs.push(bytes);
      size = pad8(size + 4 + bytes.length + (typeof b === "string" ? 1 : 0));
    }
    total += pad8(size);
  }
  const buf = Buffer.alloc(total); // zeroed: the padding and the strings' NULs are zero
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, PLAN_MAGIC, true);
  dv.setUint32(4, PLAN_VERSION, true);
  dv.setUint32(8, ops.length, true);
  dv.setUint32(12, total, true);
  let at = 16;
  let next = 0;
  for (const op of ops) {
    const ints = op.ints ?? [];
    const opBlobs = op.blobs ?? [];
    let off = at + 16;
    for (const v of ints) {
      dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
      off += 8;
    }
    for (const b of opBlobs) {
      const bytes = blobs[next++]!;
      const n = bytes.length + (typeof b === "string" ? 1 : 0);
      dv.setUint32(off, n, true);
      buf.set(bytes, off + 4);
      off = pad8(off + 4 + n);
    }
    const size = pad8(off - at);
    dv.setUint16(at, op.code, true);
    dv.setUint16(at + 2, op.flags ?? 0, true);
    dv.setUint32(at + 4, size, true);
    dv.setUint32(at + 8, ints.length, true);
    dv.setUint32(at + 12, opBlobs.length, true);
    at += size;
  }
  return buf;
}

export interface DecodedOp {
  code: number;
  flags: number;
  ints: bigint[];
  blobs: Buffer[];
}

/** The inverse, for tests and `--debug` dumps. */
export function decodePlan(buf: Buffer): DecodedOp[] {
  if (buf.readUInt32LE(0) !== PLAN_MAGIC) throw new Error("not a plan");
  const n = buf.readUInt32LE(8);
  const ops: DecodedOp[] = [];
  let off = 16;
  for (let i = 0; i < n; i++) {
    const size = buf.readUInt32LE(off + 4);
    const nints = buf.readUInt32LE(off + 8);
    const nblobs = buf.readUInt32LE(off + 12);
    let p = off + 16;
    const ints: bigint[] = [];
    for (let k = 0; k < nints; k++, p += 8) ints.push(buf.readBigUInt64LE(p));
    const blobs: Buffer[] = [];
    for (let k = 0; k < nblobs; k++) {
      const len = buf.readUInt32LE(p);
      blobs.push(buf.subarray(p + 4, p + 4 + len));
      p = pad8(p + 4 + len);
    }
    ops.push({ code: buf.readUInt16LE(off), flags: buf.readUInt16LE(off + 2), ints, blobs });
    off += size;
  }
  return ops;
}
