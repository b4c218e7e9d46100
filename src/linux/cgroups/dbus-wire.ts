// The D-Bus wire format (the parts ocirt needs to talk to systemd): type
// signatures, marshalling of values in little-endian order, and whole messages.
// Pure: no I/O, so every byte is unit-tested without a bus.
//
// Values in JS:
//   y n q i u h -> number      x t -> bigint        d -> number
//   s o g       -> string      b   -> boolean       v -> Variant
//   a<T>        -> array (ay may also be a Buffer; decoded as a Buffer)
//   (...)       -> array with one element per member
//   {KV}        -> [key, value] (a dict is an array of them)

export class Variant {
  constructor(
    readonly signature: string,
    readonly value: DBusValue,
  ) {}
}

export type DBusValue = number | bigint | string | boolean | Buffer | Variant | DBusValue[];

export const enum MessageType {
  MethodCall = 1,
  MethodReturn = 2,
  Error = 3,
  Signal = 4,
}

/** NO_REPLY_EXPECTED */
export const FLAG_NO_REPLY = 1;

export interface Message {
  type: MessageType;
  flags?: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  /** Body signature ("" or absent: no body). */
  signature?: string;
  body?: DBusValue[];
}

/** The spec's limits: 128 MiB per message, 64 MiB per array, 255 for a signature. */
export const MAX_MESSAGE = 1 << 27;
const MAX_ARRAY = 1 << 26;
const MAX_SIGNATURE = 255;

export class WireError extends Error {}

// ------------------------------------------------------------- signatures ----
const BASIC = "ynqiuxtdsogbh";

/** Index just past the complete type that starts at sig[i]. */
function typeEnd(sig: string, i: number, depth = 0): number {
  if (depth > 64) throw new WireError(`signature ${JSON.stringify(sig)} nests too deeply`);
  const c = sig[i];
  if (c === undefined) throw new WireError(`signature ${JSON.stringify(sig)} ends inside a type`);
  if (BASIC.includes(c) || c === "v") return i + 1;
  if (c === "a") {
    if (sig[i + 1] === "{") {
      const k = sig[i + 2];
      if (k === undefined || !BASIC.includes(k)) throw new WireError(`signature ${JSON.stringify(sig)}: a dict key must be a basic type`);
      const v = typeEnd(sig, i + 3, depth + 1);
      if (sig[v] !== "}") throw new WireError(`signature ${JSON.stringify(sig)}: a dict entry has exactly two types`);
      return v + 1;
    }
    return typeEnd(sig, i + 1, depth + 1);
  }
  if (c === "(") {
    let j = i + 1;
    if (sig[j] === ")") throw new WireError(`signature ${JSON.stringify(sig)}: empty struct`);
    while (sig[j] !== ")") j = typeEnd(sig, j, depth + 1);
    return j + 1;
  }
  throw new WireError(`signature ${JSON.stringify(sig)}: unexpected ${JSON.stringify(c)}`);
}

/** "sa(sv)" -> ["s", "a(sv)"]; throws on anything that is not a valid signature. */
export function splitSignature(sig: string): string[] {
  if (sig.length > MAX_SIGNATURE) throw new WireError("signature longer than 255 characters");
  const out: string[] = [];
  for (let i = 0; i < sig.length; ) {
    const end = typeEnd(sig, i);
    out.push(sig.slice(i, end));
    i = end;
  }
  return out;
}

/** A single complete type (what a variant may carry). */
export function isSingleType(sig: string): boolean {
  try {
    return splitSignature(sig).length === 1;
  } catch {
    return false;
  }
}

function alignment(c: string): number {
  switch (c) {
    case "y":
    case "g":
    case "v":
      return 1;
    case "n":
    case "q":
      return 2;
    case "x":
    case "t":
    case "d":
    case "(":
    case "{":
      return 8;
    default:
      return 4;
  }
}

const OBJECT_PATH = /^\/$|^(\/[A-Za-z0-9_]+)+$/;

// ----------------------------------------------------------------- writer ----
class Writer {
  private buf = Buffer.alloc(512);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  align(n: number): void {
    const pad = (n - (this.len % n)) % n;
    this.ensure(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.len);
    this.len += 1;
  }

  u32At(at: number, v: number): void {
    this.buf.writeUInt32LE(v, at);
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  fixed(c: string, v: DBusValue): void {
    const size = alignment(c);
    this.align(size);
    this.ensure(size);
    const at = this.len;
    this.len += size;
    const int = (min: number, max: number): number => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new WireError(`${String(v)} is not a valid D-Bus ${c}`);
      return v;
    };
    const big = (min: bigint, max: bigint): bigint => {
      const b = typeof v === "bigint" ? v : typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : undefined;
      if (b === undefined || b < min || b > max) throw new WireError(`${String(v)} is not a valid D-Bus ${c}`);
      return b;
    };
    switch (c) {
      case "y":
        this.buf.writeUInt8(int(0, 0xff), at);
        break;
      case "b":
        if (typeof v !== "boolean") throw new WireError(`${String(v)} is not a boolean`);
        this.buf.writeUInt32LE(v ? 1 : 0, at);
        break;
      case "n":
        this.buf.writeInt16LE(int(-0x8000, 0x7fff), at);
        break;
      case "q":
        this.buf.writeUInt16LE(int(0, 0xffff), at);
        break;
      case "i":
        this.buf.writeInt32LE(int(-0x80000000, 0x7fffffff), at);
        break;
      case "u":
      case "h":
        this.buf.writeUInt32LE(int(0, 0xffffffff), at);
        break;
      case "x":
        this.buf.writeBigInt64LE(big(-(1n << 63n), (1n << 63n) - 1n), at);
        break;
      case "t":
        this.buf.writeBigUInt64LE(big(0n, (1n << 64n) - 1n), at);
        break;
      case "d":
        if (typeof v !== "number") throw new WireError(`${String(v)} is not a double`);
        this.buf.writeDoubleLE(v, at);
        break;
      default:
        throw new WireError(`internal: ${c} is not a fixed-size type`);
    }
  }

  string(c: string, v: DBusValue): void {
    if (typeof v !== "string") throw new WireError(`${String(v)} is not a string (${c})`);
    const b = Buffer.from(v, "utf8");
    if (b.includes(0)) throw new WireError("a D-Bus string cannot hold a NUL byte");
    if (c === "o" && !OBJECT_PATH.test(v)) throw new WireError(`${JSON.stringify(v)} is not a valid object path`);
    if (c === "g") {
      splitSignature(v);
      this.u8(b.length);
    } else {
      this.align(4);
      this.ensure(4);
      this.buf.writeUInt32LE(b.length, this.len);
      this.len += 4;
    }
    this.bytes(b);
    this.u8(0);
  }

  value(sig: string, v: DBusValue): void {
    const c = sig[0]!;
    switch (c) {
      case "s":
      case "o":
      case "g":
        return this.string(c, v);
      case "v": {
        if (!(v instanceof Variant)) throw new WireError("a variant value must be a Variant");
        if (!isSingleType(v.signature)) throw new WireError(`variant signature ${JSON.stringify(v.signature)} is not one complete type`);
        this.string("g", v.signature);
        return this.value(v.signature, v.value);
      }
      case "a": {
        const elem = sig.slice(1);
        this.align(4);
        const lenAt = this.len;
        this.ensure(4);
        this.len += 4;
        this.align(alignment(elem[0]!));
        const start = this.len;
        if (elem === "y" && Buffer.isBuffer(v)) this.bytes(v);
        else {
          if (!Array.isArray(v)) throw new WireError(`an array (${sig}) needs a JS array`);
          for (const e of v) this.value(elem, e);
        }
        const n = this.len - start;
        if (n > MAX_ARRAY) throw new WireError("array longer than 64 MiB");
        this.u32At(lenAt, n);
        return;
      }
      case "(":
      case "{": {
        const members = splitSignature(sig.slice(1, -1));
        if (!Array.isArray(v) || v.length !== members.length) throw new WireError(`${sig} needs ${members.length} values`);
        this.align(8);
        members.forEach((m, i) => this.value(m, v[i]!));
        return;
      }
      default:
        return this.fixed(c, v);
    }
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** Marshals values of the (multi-type) signature as a message body starting at offset 0. */
export function marshal(signature: string, values: readonly DBusValue[]): Buffer {
  const types = splitSignature(signature);
  if (types.length !== values.length) throw new WireError(`signature ${JSON.stringify(signature)} takes ${types.length} values, got ${values.length}`);
  const w = new Writer();
  types.forEach((t, i) => w.value(t, values[i]!));
  return Buffer.from(w.finish());
}

// ----------------------------------------------------------------- reader ----
class Reader {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly little: boolean,
    private readonly end = buf.length,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw new WireError("message truncated");
  }

  align(n: number): void {
    const pad = (n - (this.pos % n)) % n;
    this.need(pad);
    this.pos += pad;
  }

  u32(): number {
    this.align(4);
    this.need(4);
    const v = this.little ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  fixed(c: string): DBusValue {
    const size = alignment(c);
    this.align(size);
    this.need(size);
    const at = this.pos;
    this.pos += size;
    const b = this.buf;
    const L = this.little;
    switch (c) {
      case "y":
        return b.readUInt8(at);
      case "b": {
        const v = L ? b.readUInt32LE(at) : b.readUInt32BE(at);
        if (v > 1) throw new WireError(`boolean value ${v}`);
        return v === 1;
      }
      case "n":
        return L ? b.readInt16LE(at) : b.readInt16BE(at);
      case "q":
        return L ? b.readUInt16LE(at) : b.readUInt16BE(at);
      case "i":
        return L ? b.readInt32LE(at) : b.readInt32BE(at);
      case "u":
      case "h":
        return L ? b.readUInt32LE(at) : b.readUInt32BE(at);
      case "x":
        return L ? b.readBigInt64LE(at) : b.readBigInt64BE(at);
      case "t":
        return L ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at);
      case "d":
        return L ? b.readDoubleLE(at) : b.readDoubleBE(at);
      default:
        throw new WireError(`internal: ${c} is not a fixed-size type`);
    }
  }

  string(c: string): string {
    let n: number;
    if (c === "g") {
      this.need(1);
      n = this.buf.readUInt8(this.pos);
      this.pos += 1;
    } else {
      n = this.u32();
    }
    this.need(n + 1);
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    if (this.buf[this.pos + n] !== 0) throw new WireError("string not NUL-terminated");
    this.pos += n + 1;
    return s;
  }

  value(sig: string, depth = 0): DBusValue {
    if (depth > 64) throw new WireError("value nests too deeply");
    const c = sig[0]!;
    switch (c) {
      case "s":
      case "o":
      case "g":
        return this.string(c);
      case "v": {
        const inner = this.string("g");
        if (!isSingleType(inner)) throw new WireError(`variant signature ${JSON.stringify(inner)}`);
        return new Variant(inner, this.value(inner, depth + 1));
      }
      case "a": {
        const n = this.u32();
        if (n > MAX_ARRAY) throw new WireError("array longer than 64 MiB");
        const elem = sig.slice(1);
        this.align(alignment(elem[0]!));
        this.need(n);
        const end = this.pos + n;
        if (elem === "y") {
          const out = Buffer.from(this.buf.subarray(this.pos, end));
          this.pos = end;
          return out;
        }
        const out: DBusValue[] = [];
        while (this.pos < end) out.push(this.value(elem, depth + 1));
        if (this.pos !== end) throw new WireError("array elements overrun the array length");
        return out;
      }
      case "(":
      case "{": {
        this.align(8);
        return splitSignature(sig.slice(1, -1)).map((m) => this.value(m, depth + 1));
      }
      default:
        return this.fixed(c);
    }
  }
}

/** Unmarshals a body (offset 0 is 8-aligned in the message). */
export function unmarshal(signature: string, buf: Buffer, littleEndian = true): DBusValue[] {
  const r = new Reader(buf, littleEndian);
  const out = splitSignature(signature).map((t) => r.value(t));
  if (r.pos !== buf.length) throw new WireError(`${buf.length - r.pos} bytes after the body`);
  return out;
}

// --------------------------------------------------------------- messages ----
const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8, unixFds: 9 } as const;
const FIELD_SIG: Record<number, string> = { 1: "o", 2: "s", 3: "s", 4: "s", 5: "u", 6: "s", 7: "s", 8: "g", 9: "u" };

export function encodeMessage(m: Message): Buffer {
  const sig = m.signature ?? "";
  const body = sig ? marshal(sig, m.body ?? []) : Buffer.alloc(0);
  if (!sig && m.body && m.body.length) throw new WireError("a body needs a signature");
  const fields: DBusValue[] = [];
  const add = (code: number, v: string | number | undefined) => {
    if (v !== undefined) fields.push([code, new Variant(FIELD_SIG[code]!, v)]);
  };
  add(FIELD.path, m.path);
  add(FIELD.interface, m.interface);
  add(FIELD.member, m.member);
  add(FIELD.errorName, m.errorName);
  add(FIELD.replySerial, m.replySerial);
  add(FIELD.destination, m.destination);
  add(FIELD.sender, m.sender);
  if (sig) add(FIELD.signature, sig);
  const w = new Writer();
  w.u8(0x6c); // 'l'
  w.u8(m.type);
  w.u8(m.flags ?? 0);
  w.u8(1);
  w.value("u", body.length);
  w.value("u", m.serial);
  w.value("a(yv)", fields);
  w.align(8);
  const head = w.finish();
  const total = head.length + body.length;
  if (total > MAX_MESSAGE) throw new WireError("message larger than 128 MiB");
  return Buffer.concat([head, body], total);
}

/**
 * The total length of the message at the start of buf, once its first 16
 * bytes are there (undefined before). Throws on a header no peer should send.
 */
export function messageLength(buf: Buffer): number | undefined {
  if (buf.length < 16) return undefined;
  const e = buf[0];
  if (e !== 0x6c && e !== 0x42) throw new WireError(`bad endianness byte ${e}`);
  const little = e === 0x6c;
  if (buf[3] !== 1) throw new WireError(`unsupported protocol version ${buf[3]}`);
  const bodyLen = little ? buf.readUInt32LE(4) : buf.readUInt32BE(4);
  const fieldsLen = little ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  const head = 16 + fieldsLen + ((8 - ((16 + fieldsLen) % 8)) % 8);
  const total = head + bodyLen;
  if (fieldsLen > MAX_ARRAY || total > MAX_MESSAGE) throw new WireError("message larger than 128 MiB");
  return total;
}

export function decodeMessage(buf: Buffer): Message {
  const total = messageLength(buf);
  if (total === undefined || buf.length < total) throw new WireError("message truncated");
  const little = buf[0] === 0x6c;
  const r = new Reader(buf, little, total);
  r.pos = 4;
  const bodyLen = r.u32();
  const serial = r.u32();
  const fields = r.value("a(yv)") as [number, Variant][];
  r.align(8);
  const m: Message = { type: buf[1] as MessageType, flags: buf[2]!, serial };
  for (const [code, v] of fields) {
    if (FIELD_SIG[code] !== undefined && v.signature !== FIELD_SIG[code]) throw new WireError(`header field ${code} has type ${v.signature}`);
    switch (code) {
      case FIELD.path: m.path = v.value as string; break;
      case FIELD.interface: m.interface = v.value as string; break;
      case FIELD.member: m.member = v.value as string; break;
      case FIELD.errorName: m.errorName = v.value as string; break;
      case FIELD.replySerial: m.replySerial = v.value as number; break;
      case FIELD.destination: m.destination = v.value as string; break;
      case FIELD.sender: m.sender = v.value as string; break;
      case FIELD.signature: m.signature = v.value as string; break;
      default: break; // unknown fields are ignored, as the spec says
    }
  }
  const body = buf.subarray(r.pos, r.pos + bodyLen);
  if (r.pos + bodyLen !== total) throw new WireError("body length disagrees with the header");
  m.body = m.signature ? unmarshal(m.signature, Buffer.from(body), little) : [];
  return m;
}
