// Encodes a list of ops into the one buffer the init helper reads (format in
// addon/plan.h). Pure: the tests decode what it writes.
import type { PlanOp } from "./ops";

export const PLAN_MAGIC = 0x4c50434f;
export const PLAN_VERSION = 1;

function pad8(n: number): number {
  return (n + 7) & ~7;
}

function blobBytes(b: string | Buffer): Buffer {
  return typeof b === "string" ? Buffer.from(b + "\0") : b;
}

export function encodePlan(ops: PlanOp[]): Buffer {
  // two passes over one buffer: sizes first, then the bytes (one allocation, not one per op)
  const blobsOf = ops.map((op) => (op.blobs ?? []).map(blobBytes));
  const sizes = ops.map((op, i) => {
    let size = 16 + (op.ints?.length ?? 0) * 8;
    for (const b of blobsOf[i]!) size = pad8(size + 4 + b.length);
    return pad8(size);
  });
  const total = sizes.reduce((a, n) => a + n, 16);
  const buf = Buffer.alloc(total); // zeroed: the padding is zero
  buf.writeUInt32LE(PLAN_MAGIC, 0);
  buf.writeUInt32LE(PLAN_VERSION, 4);
  buf.writeUInt32LE(ops.length, 8);
  buf.writeUInt32LE(total, 12);
  let at = 16;
  ops.forEach((op, i) => {
    const ints = op.ints ?? [];
    const blobs = blobsOf[i]!;
    buf.writeUInt16LE(op.code, at);
    buf.writeUInt16LE(op.flags ?? 0, at + 2);
    buf.writeUInt32LE(sizes[i]!, at + 4);
    buf.writeUInt32LE(ints.length, at + 8);
    buf.writeUInt32LE(blobs.length, at + 12);
    let off = at + 16;
    for (const v of ints) {
      buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), off);
      off += 8;
    }
    for (const b of blobs) {
      buf.writeUInt32LE(b.length, off);
      b.copy(buf, off + 4);
      off = pad8(off + 4 + b.length);
    }
    at += sizes[i]!;
  });
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
