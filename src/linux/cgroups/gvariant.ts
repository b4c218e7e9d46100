// The GVariant text format, as far as `org.systemd.property.*` annotations use
// it. runc parses those values with godbus' ParseVariant (no expected type), and
// this follows its rules so an annotation means the same to both runtimes:
//
//   42, -1, 0x1f, 010      a number: int32 ("i") unless typed; 1.5, 1e3: double
//   uint64 42, @t 42       typed: byte int16 uint16 int32 uint32 int64 uint64
//                          double, or @ followed by a basic type's signature
//   true, false            boolean
//   'text', "text"         string (escapes \n \t \\ \' \uXXXX ...); "objectpath"
//                          and "signature" (or @o, @g) retype it
//   [1, 2], ['a', 'b']     arrays, the element type inferred or given: @at [1, 2],
//                          [uint64 1, 2]; an empty array needs a type: @as []
//   <uint64 5>             a variant
//
// Not supported (an error naming the form): dictionaries {k: v} and byte
// strings b'...'. Unlike godbus, "double" means "d" (godbus maps it to an invalid
// "f" and fails). Like godbus, anything after the first complete value is ignored.
import { Variant, isSingleType, type DBusValue } from "./dbus-wire";

export class GVariantError extends Error {}

type Tok =
  | { t: "num" | "str" | "bool" | "type" | "["  | "]" | "<" | ">" | "," | "{" | "}" | ":" | "bytes"; v: string }
  | { t: "eof"; v: "" }
  | { t: "error"; v: string };

const TYPE_WORDS: Record<string, string> = {
  boolean: "b",
  byte: "y",
  int16: "n",
  uint16: "q",
  int32: "i",
  uint32: "u",
  int64: "x",
  uint64: "t",
  double: "d",
  string: "s",
  objectpath: "o",
  signature: "g",
};

/** Tokens up to the first lexical error, which becomes an error token (reached only if parsed). */
function lex(input: string): Tok[] {
  const out: Tok[] = [];
  try {
    lexInto(input, out);
  } catch (err) {
    if (!(err instanceof GVariantError)) throw err;
    out.push({ t: "error", v: err.message });
  }
  return out;
}

function lexInto(input: string, out: Tok[]): void {
  let i = 0;
  const quoted = (start: number): number => {
    const q = input[start];
    let j = start + 1;
    for (;;) {
      const c = input[j];
      if (c === undefined) throw new GVariantError("unterminated string");
      if (c === "\\") {
        if (input[j + 1] === undefined) throw new GVariantError("unterminated string");
        j += 2;
        continue;
      }
      j++;
      if (c === q) return j;
    }
  };
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ("[]{}<>:,".includes(c)) {
      out.push({ t: c as "[", v: c });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = quoted(i);
      out.push({ t: "str", v: input.slice(i, end) });
      i = end;
      continue;
    }
    if (/[0-9+-]/.test(c)) {
      const m = /^[+-]?(0[xX][0-9a-fA-F]*|[0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]*)?/.exec(input.slice(i))!;
      const end = i + m[0].length;
      if (/[A-Za-z]/.test(input[end] ?? "")) throw new GVariantError(`bad number syntax: ${JSON.stringify(input.slice(i, end + 1))}`);
      out.push({ t: "num", v: m[0] });
      i = end;
      continue;
    }
    if (c === "b" && (input[i + 1] === "'" || input[i + 1] === '"')) {
      const end = quoted(i + 1);
      out.push({ t: "bytes", v: input.slice(i, end) });
      i = end;
      continue;
    }
    if (input.startsWith("true", i)) {
      out.push({ t: "bool", v: "true" });
      i += 4;
      continue;
    }
    if (input.startsWith("false", i)) {
      out.push({ t: "bool", v: "false" });
      i += 5;
      continue;
    }
    let j = i;
    while (j < input.length && !/\s/.test(input[j]!)) j++;
    const word = input.slice(i, j);
    if (word.startsWith("@")) {
      if (!isSingleType(word.slice(1))) throw new GVariantError(`invalid type annotation ${JSON.stringify(word)}`);
    } else if (!(word in TYPE_WORDS)) {
      throw new GVariantError(`unrecognized type ${JSON.stringify(word)}`);
    }
    out.push({ t: "type", v: word });
    i = j;
  }
  out.push({ t: "eof", v: "" });
}

// ------------------------------------------------------------------ nodes ----
type Node =
  | { k: "num"; str: string; sig?: string; val?: DBusValue }
  | { k: "str"; str: string; sig?: string }
  | { k: "bool"; v: boolean }
  | { k: "array"; set: Set<string>; children: Node[] }
  | { k: "variant"; n: Node };

const NUMERIC = ["y", "n", "q", "i", "u", "x", "t", "d"];
const STRINGY = ["s", "g", "o"];

function isFloat(s: string): boolean {
  return /[.eE]/.test(s) && !/^[+-]?0[xX]/.test(s);
}

function sigs(n: Node): Set<string> {
  switch (n.k) {
    case "num":
      if (n.sig) return new Set([n.sig]);
      return new Set(isFloat(n.str) ? ["d"] : NUMERIC);
    case "str":
      return new Set(n.sig ? [n.sig] : STRINGY);
    case "bool":
      return new Set(["b"]);
    case "array":
      return n.set;
    case "variant":
      return new Set(["v"]);
  }
}

function infer(n: Node): string {
  const s = sigs(n);
  if (s.size === 1) return [...s][0]!;
  switch (n.k) {
    case "num":
      return isFloat(n.str) ? "d" : "i";
    case "str":
      return "s";
    case "array":
      for (const c of n.children) {
        try {
          return "a" + infer(c);
        } catch {
          /* try the next element */
        }
      }
      throw new GVariantError("can't infer the type of an empty array (give one, e.g. @as [])");
    default:
      return [...s][0]!;
  }
}

const INT_BITS: Record<string, [bits: number, signed: boolean]> = {
  y: [8, false],
  n: [16, true],
  q: [16, false],
  i: [32, true],
  u: [32, false],
  x: [64, true],
  t: [64, false],
};

/** godbus' varNumAs: the number text as the given type. */
function numAs(text: string, sig: string): DBusValue {
  if (sig === "d") {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new GVariantError(`invalid double ${JSON.stringify(text)}`);
    return Number(text);
  }
  const spec = INT_BITS[sig];
  if (!spec) throw new GVariantError(`can't parse ${JSON.stringify(text)} as type ${JSON.stringify(sig)}`);
  const [bits, signed] = spec;
  let s = text;
  let base = 10;
  if (s.startsWith("0x")) {
    base = 16;
    s = s.slice(2);
  }
  if (s.startsWith("0") && s.length !== 1) {
    base = 8;
    s = s.slice(1);
  }
  const digits = base === 16 ? "[0-9a-fA-F]" : base === 8 ? "[0-7]" : "[0-9]";
  const re = new RegExp(`^${signed ? "[+-]?" : ""}${digits}+$`);
  if (!re.test(s)) throw new GVariantError(`invalid ${signed ? "integer" : "unsigned integer"} ${JSON.stringify(text)}`);
  const neg = s.startsWith("-");
  const body = s.replace(/^[+-]/, "");
  const prefix = base === 16 ? "0x" : base === 8 ? "0o" : "";
  let v = BigInt(prefix + body);
  if (neg) v = -v;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (v < min || v > max) throw new GVariantError(`${JSON.stringify(text)} is out of range for type ${sig}`);
  return bits === 64 ? v : Number(v);
}

/** Quoted string token -> its text (godbus' varParseString). */
function unquote(tok: string): string {
  const s = tok.slice(1, -1);
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = s[++i]!;
    const simple: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", "\n": "" };
    if (e in simple) out += simple[e];
    else if (e === "u" || e === "U") {
      const n = e === "u" ? 4 : 8;
      const hex = s.slice(i + 1, i + 1 + n);
      if (hex.length < n || !/^[0-9a-fA-F]+$/.test(hex)) throw new GVariantError("short unicode escape");
      out += String.fromCodePoint(parseInt(hex, 16));
      i += n;
    } else out += e;
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  next(): Tok {
    return this.toks[this.i < this.toks.length ? this.i++ : this.toks.length - 1]!;
  }

  backup(): void {
    this.i--;
  }

  node(): Node {
    let sig = "";
    for (;;) {
      const t = this.next();
      switch (t.t) {
        case "eof":
          throw new GVariantError("unexpected end of value");
        case "error":
          throw new GVariantError(t.v);
        case "num":
          return sig ? { k: "num", str: t.v, sig, val: numAs(t.v, sig) } : { k: "num", str: t.v };
        case "str":
          if (sig && !STRINGY.includes(sig)) throw new GVariantError(`invalid type ${JSON.stringify(sig)} for string`);
          return sig ? { k: "str", str: unquote(t.v), sig } : { k: "str", str: unquote(t.v) };
        case "bool":
          if (sig && sig !== "b") throw new GVariantError(`can't parse ${t.v} as type ${JSON.stringify(sig)}`);
          return { k: "bool", v: t.v === "true" };
        case "[":
          return this.array(sig);
        case "<":
          return this.variant(sig);
        case "type":
          if (sig) throw new GVariantError("unexpected type annotation");
          sig = t.v.startsWith("@") ? t.v.slice(1) : TYPE_WORDS[t.v]!;
          continue;
        case "{":
          throw new GVariantError("dictionaries are not supported in systemd property annotations");
        case "bytes":
          throw new GVariantError("byte strings are not supported in systemd property annotations (use an array: @ay [1, 2])");
        default:
          throw new GVariantError(`unexpected ${JSON.stringify(t.v)}`);
      }
    }
  }

  private array(sig: string): Node {
    if (sig && !sig.startsWith("a")) throw new GVariantError(`can't parse an array as type ${JSON.stringify(sig)}`);
    const n: Node = { k: "array", set: new Set(sig ? [sig] : []), children: [] };
    if (this.next().t === "]") return n;
    this.backup();
    for (;;) {
      const child = this.node();
      const cs = new Set([...sigs(child)].map((s) => "a" + s));
      if (cs.size) {
        n.set = n.set.size === 0 ? cs : new Set([...cs].filter((s) => n.set.has(s)));
        if (n.set.size === 0) throw new GVariantError("array elements of different types");
      }
      n.children.push(child);
      const t = this.next();
      if (t.t === "]") return n;
      if (t.t === "error") throw new GVariantError(t.v);
      if (t.t !== ",") throw new GVariantError(t.t === "eof" ? "unterminated array" : `unexpected ${JSON.stringify(t.v)} in an array`);
    }
  }

  private variant(sig: string): Node {
    if (sig && sig !== "v") throw new GVariantError(`can't parse a variant as type ${JSON.stringify(sig)}`);
    const inner = this.node();
    if (this.next().t !== ">") throw new GVariantError("unterminated variant");
    return { k: "variant", n: inner };
  }
}

function valueOf(n: Node, sig: string): DBusValue {
  switch (n.k) {
    case "num":
      if (n.sig && n.sig !== sig) throw new GVariantError(`can't parse ${n.str} as type ${JSON.stringify(sig)}`);
      return n.val !== undefined ? n.val : numAs(n.str, sig);
    case "str":
      if ((n.sig && n.sig !== sig) || !STRINGY.includes(sig)) throw new GVariantError(`can't parse ${JSON.stringify(n.str)} as type ${JSON.stringify(sig)}`);
      if (sig === "g" && !isSingleType(n.str) && n.str !== "") throw new GVariantError(`${JSON.stringify(n.str)} is not a signature`);
      if (sig === "o" && !/^\/$|^(\/[A-Za-z0-9_]+)+$/.test(n.str)) throw new GVariantError(`${JSON.stringify(n.str)} is not an object path`);
      return n.str;
    case "bool":
      if (sig !== "b") throw new GVariantError(`can't parse ${n.v} as type ${JSON.stringify(sig)}`);
      return n.v;
    case "array":
      if (n.set.size === 0) return [];
      if (!n.set.has(sig)) throw new GVariantError(`can't parse an array as type ${JSON.stringify(sig)}`);
      return n.children.map((c) => valueOf(c, sig.slice(1)));
    case "variant": {
      if (sig !== "v") throw new GVariantError(`can't parse a variant as type ${JSON.stringify(sig)}`);
      const inner = infer(n.n);
      return new Variant(inner, valueOf(n.n, inner));
    }
  }
}

/** godbus' ParseVariant(text, no signature): the value with its inferred type. */
export function parseGVariant(text: string): Variant {
  const p = new Parser(lex(text));
  const n = p.node();
  const sig = infer(n);
  return new Variant(sig, valueOf(n, sig));
}
