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
  const parts: Buffer[] = [];
  let total = 16;
  for (const op of ops) {
    const ints = op.ints ?? [];
    const blobs = (op.blobs ?? []).map(blobBytes);
    let size = 16 + ints.length * 8;
    for (const b of blobs) size = pad8(size + 4 + b.length);
    size = pad8(size);
    const buf = Buffer.alloc(size);
    buf.writeUInt16LE(op.code, 0);
    buf.writeUInt16LE(op.flags ?? 0, 2);
    buf.writeUInt32LE(size, 4);
    buf.writeUInt32LE(ints.length, 8);
    buf.writeUInt32LE(blobs.length, 12);
    let off = 16;
    for (const v of ints) {
      buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), off);
      off += 8;
    }
    for (const b of blobs) {
      buf.writeUInt32LE(b.length, off);
      b.copy(buf, off + 4);
      off = pad8(off + 4 + b.length);
    }
    parts.push(buf);
    total += size;
  }
  const head = Buffer.alloc(16);
  head.writeUInt32LE(PLAN_MAGIC, 0);
  head.writeUInt32LE(PLAN_VERSION, 4);
  head.writeUInt32LE(ops.length, 8);
  head.writeUInt32LE(total, 12);
  return Buffer.concat([head, ...parts], total);
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
