import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodePlan, encodePlan, PLAN_MAGIC, PLAN_VERSION } from "../../src/plan/encode";
import { Op, Sync, mountInts, type PlanOp } from "../../src/plan/ops";

const repo = join(__dirname, "../..");
const header = readFileSync(join(repo, "addon/plan.h"), "utf8");
const opsTs = readFileSync(join(repo, "src/plan/ops.ts"), "utf8");

/** NAME = number members of one enum in a C header or a TypeScript file. */
function enumMembers(text: string, open: RegExp, strip = ""): Map<string, number> {
  const m = open.exec(text);
  assert.ok(m, `enum ${open} found`);
  const body = text.slice(m!.index + m![0].length, text.indexOf("}", m!.index));
  const out = new Map<string, number>();
  for (const line of body.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "").split(/[,\n]/)) {
    const e = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(0x[0-9a-fA-F]+|\d+)u?\s*$/.exec(line);
    if (e) out.set(e[1]!.slice(strip.length), Number(e[2]));
  }
  return out;
}

test("op codes equal enum plan_op in addon/plan.h, member for member", () => {
  const c = enumMembers(header, /enum plan_op\s*\{/, "OP_");
  const ts = enumMembers(opsTs, /export const enum Op\s*\{/);
  assert.ok(c.size >= 36, `parsed ${c.size} ops from plan.h`);
  assert.equal([...ts.entries()].sort(), [...c.entries()].sort());
  // spot checks through the enum itself (inlined constants)
  assert.is(Op.SETNS, c.get("SETNS"));
  assert.is(Op.EXEC, c.get("EXEC"));
  assert.is(Op.PARENT_PRIVATE, c.get("PARENT_PRIVATE"));
});

test("sync messages equal enum sync_type in addon/plan.h", () => {
  const c = enumMembers(header, /enum sync_type\s*\{/, "SYNC_");
  const ts = enumMembers(opsTs, /export const enum Sync\s*\{/);
  assert.ok(c.size >= 9);
  assert.equal([...ts.entries()].sort(), [...c.entries()].sort());
  assert.is(Sync.USERMAP_PLS, c.get("USERMAP_PLS"));
  assert.is(Sync.ACK, c.get("ACK"));
});

test("magic and version equal plan.h's", () => {
  assert.is(PLAN_MAGIC, Number(/#define PLAN_MAGIC (0x[0-9a-f]+)u/.exec(header)![1]));
  assert.is(PLAN_VERSION, Number(/#define PLAN_VERSION (\d+)u/.exec(header)![1]));
  // 'OCPL' in memory order
  assert.is(encodePlan([]).subarray(0, 4).toString("latin1"), "OCPL");
});

test("MOUNT_I_* positions equal the TypeScript MountI, and mountInts() puts each field there", () => {
  const c = enumMembers(header, /enum \{\s*(?=MOUNT_I_FLAGS)/, "MOUNT_I_");
  const ts = enumMembers(opsTs, /export const enum MountI\s*\{/);
  assert.ok(c.size >= 8, `parsed ${c.size} MOUNT_I_ from plan.h`);
  assert.equal([...ts.entries()].sort(), [...c.entries()].sort());
  // each field with a value of its own, read back at the header's position for it
  const ints = mountInts({ flags: 11, propagation: 12, attrSet: 13, attrClr: 14, create: 3, sourceInRoot: 2, targetHost: 1, tmpcopyup: 1, idmap: 5 });
  assert.is(ints.length, c.get("COUNT"));
  const at = (name: string) => ints[c.get(name)!];
  assert.equal([at("FLAGS"), at("PROPAGATION"), at("ATTR_SET"), at("ATTR_CLR"), at("CREATE"), at("SOURCE_IN_ROOT"), at("TARGET_HOST"), at("TMPCOPYUP"), at("IDMAP")], [11, 12, 13, 14, 3, 2, 1, 1, 5]);
  assert.equal(mountInts({}), [0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test("empty plan: just the header", () => {
  const b = encodePlan([]);
  assert.is(b.length, 16);
  assert.is(b.readUInt32LE(0), PLAN_MAGIC);
  assert.is(b.readUInt32LE(4), PLAN_VERSION);
  assert.is(b.readUInt32LE(8), 0);
  assert.is(b.readUInt32LE(12), 16);
  assert.equal(decodePlan(b), []);
});

const sample: PlanOp[] = [
  { code: Op.SYNC, ints: [Sync.CGROUP_PLS], what: "a" },
  { code: Op.SETID_ROOT, what: "no ints, no blobs" },
  { code: Op.MOUNT, ints: [0x4000 | 0x1000, 0, 1, 2, 3, 0, 1], blobs: ["proc", "/proc", "proc", ""], what: "m" },
  { code: Op.SYMLINK, blobs: ["/proc/self/fd", "/dev/fd"], what: "l" },
  { code: Op.SETRLIMIT, ints: [7, 18446744073709551615n, 1024n], what: "r" },
  { code: Op.CAPS, flags: 2, ints: [(1n << 40n) | 1n, 0n, 0xffffffffffn, 0, 0], what: "c" },
  { code: Op.OOM_SCORE_ADJ, ints: [-1000], what: "o" },
  { code: Op.EXEC, ints: [2, -1, 0, 0], blobs: ["sh", "-c", "PATH=/bin", Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9])], what: "e" },
  { code: Op.WRITE_FILE, ints: [0], blobs: ["/proc/sys/kernel/ünïcode", "x".repeat(1000)], what: "w" },
];

test("round trip: codes, flags, ints as uint64, blobs", () => {
  const ops = decodePlan(encodePlan(sample));
  assert.is(ops.length, sample.length);
  sample.forEach((op, i) => {
    const d = ops[i]!;
    assert.is(d.code, op.code);
    assert.is(d.flags, op.flags ?? 0);
    assert.equal(d.ints, (op.ints ?? []).map((v) => BigInt.asUintN(64, BigInt(v))));
    assert.equal(
      d.blobs.map((b) => Buffer.from(b)),
      (op.blobs ?? []).map((b) => (typeof b === "string" ? Buffer.from(b + "\0") : b)),
    );
  });
});

test("negative numbers and bigints are written as two's-complement uint64", () => {
  const b = encodePlan([{ code: Op.EXEC, ints: [-1, -1000, 2n ** 64n - 1n, 2n ** 63n, 0xdeadbeef], what: "x" }]);
  const ints = decodePlan(b)[0]!.ints;
  assert.equal(ints, [0xffffffffffffffffn, 0xfffffffffffffc18n, 0xffffffffffffffffn, 0x8000000000000000n, 0xdeadbeefn]);
  assert.is(BigInt.asIntN(64, ints[1]!), -1000n);
  // little-endian on the wire
  assert.equal([...b.subarray(32, 40)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.equal([...b.subarray(56, 64)], [0, 0, 0, 0, 0, 0, 0, 0x80]);
});

test("every op starts and ends on 8 bytes; sizes add up to the header's total", () => {
  const b = encodePlan(sample);
  assert.is(b.readUInt32LE(8), sample.length);
  assert.is(b.readUInt32LE(12), b.length);
  assert.is(b.length % 8, 0);
  let off = 16;
  for (let i = 0; i < sample.length; i++) {
    assert.is(off % 8, 0, `op ${i} offset`);
    const size = b.readUInt32LE(off + 4);
    assert.is(size % 8, 0, `op ${i} size`);
    // every blob's length word is 8-aligned too, and padding is zeros
    const nints = b.readUInt32LE(off + 8), nblobs = b.readUInt32LE(off + 12);
    let p = off + 16 + nints * 8;
    for (let k = 0; k < nblobs; k++) {
      assert.is(p % 8, 0, `op ${i} blob ${k}`);
      const len = b.readUInt32LE(p);
      const end = p + 4 + len;
      p = (end + 7) & ~7;
      assert.ok(b.subarray(end, p).every((x) => x === 0), "zero padding");
    }
    assert.is(p, off + size, `op ${i}: size covers exactly its blobs`);
    off += size;
  }
  assert.is(off, b.length);
});

test("op layout: header fields and blob lengths include a string's trailing NUL", () => {
  const b = encodePlan([{ code: Op.CHDIR, blobs: ["/"], what: "x" }]);
  // op header: code, flags, size, nints, nblobs
  assert.is(b.readUInt16LE(16), Op.CHDIR);
  assert.is(b.readUInt16LE(18), 0);
  assert.is(b.readUInt32LE(20), 24); // 16 + 4 + 2 -> 22 -> 24
  assert.is(b.readUInt32LE(24), 0);
  assert.is(b.readUInt32LE(28), 1);
  assert.is(b.readUInt32LE(32), 2, '"/" + NUL');
  assert.equal([...b.subarray(36, 38)], [0x2f, 0]);
  const e = decodePlan(encodePlan([{ code: Op.SETHOSTNAME, blobs: [""], what: "x" }]))[0]!;
  assert.equal([...e.blobs[0]!], [0], "an empty string is one NUL");
  const u = decodePlan(encodePlan([{ code: Op.SETHOSTNAME, blobs: ["é"], what: "x" }]))[0]!;
  assert.is(u.blobs[0]!.length, 3, "UTF-8 bytes + NUL");
  const raw = decodePlan(encodePlan([{ code: Op.SECCOMP, blobs: [Buffer.alloc(16, 7)], what: "x" }]))[0]!;
  assert.is(raw.blobs[0]!.length, 16, "a Buffer gets no NUL");
});

test("sizes for blob lengths around the 8-byte boundary", () => {
  for (let len = 0; len <= 20; len++) {
    const b = encodePlan([{ code: Op.MASK, blobs: [Buffer.alloc(len, 1)], what: "x" }]);
    assert.is(b.readUInt32LE(20), 16 + ((4 + len + 7) & ~7), `len ${len}`);
    assert.equal(decodePlan(b)[0]!.blobs[0]!.length, len);
  }
});

test("flags are u16", () => {
  const d = decodePlan(encodePlan([{ code: Op.CAPS, flags: 0xffff, what: "x" }]))[0]!;
  assert.is(d.flags, 0xffff);
  assert.is(d.code, Op.CAPS);
});

test.run();
