// A small strict JSON scanner that does the two things JSON.parse cannot do on Node 20:
//  - say where a syntax error is (V8's messages sometimes carry no position at all, and
//    sometimes quote the whole input), so that ocirt can print "(line N)";
//  - recover the exact value of integer literals beyond 2^53. config.json carries uint64
//    values (rlimits of 18446744073709551615 = RLIM_INFINITY, seccomp argument masks)
//    that JSON.parse rounds; the kernel must get them exactly.
// JSON.parse still builds the value; this scanner only reads the text alongside it.

import { formatPath, type Segment } from "./path";

export interface JsonSyntaxProblem {
  reason: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

class ScanError extends Error {
  constructor(
    readonly reason: string,
    readonly pos: number,
  ) {
    super(reason);
  }
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

type NumberSink = (path: readonly Segment[], literal: string) => void;

class Scanner {
  private pos = 0;
  private readonly path: Segment[] = [];
  constructor(
    private readonly text: string,
    private readonly onNumber: NumberSink | undefined,
  ) {}

  run(): void {
    this.ws();
    this.value();
    this.ws();
    if (this.pos < this.text.length) throw new ScanError("unexpected data after the end of the top-level value", this.pos);
  }

  private ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private unexpected(what: string): never {
    if (this.pos >= this.text.length) throw new ScanError(`unexpected end of input, ${what}`, this.pos);
    const ch = this.text[this.pos]!;
    const shown = ch === "\uFEFF" ? "byte order mark" : /[\x00-\x1f]/.test(ch) ? `control character U+${ch.charCodeAt(0).toString(16).padStart(4, "0")}` : `'${ch}'`;
    throw new ScanError(`unexpected ${shown}, ${what}`, this.pos);
  }

  private value(): void {
    const c = this.text[this.pos];
    switch (c) {
      case "{":
        return this.object();
      case "[":
        return this.array();
      case '"':
        this.string();
        return;
      case "t":
        return this.literal("true");
      case "f":
        return this.literal("false");
      case "n":
        return this.literal("null");
      default:
        if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
        this.unexpected("expected a value");
    }
  }

  private literal(word: string): void {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return;
    }
    this.unexpected("expected a value");
  }

  private object(): void {
    this.pos++; // {
    this.ws();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.unexpected("expected a double-quoted property name");
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ":") this.unexpected("expected ':' after a property name");
      this.pos++;
      this.ws();
      this.path.push(key);
      this.value();
      this.path.pop();
      this.ws();
      const c = this.text[this.pos];
      if (c === ",") {
        this.pos++;
        continue;
      }
      if (c === "}") {
        this.pos++;
        return;
      }
      this.unexpected("expected ',' or '}' after a property value");
    }
  }

  private array(): void {
    this.pos++; // [
    this.ws();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      this.ws();
      this.path.push(i);
      this.value();
      this.path.pop();
      this.ws();
      const c = this.text[this.pos];
      if (c === ",") {
        this.pos++;
        continue;
      }
      if (c === "]") {
        this.pos++;
        return;
      }
      this.unexpected("expected ',' or ']' after an array element");
    }
  }

  /** Returns the decoded string; only property names need decoding. */
  private string(): string {
    const t = this.text;
    const start = this.pos;
    this.pos++; // opening quote
    let simple = true;
    for (;;) {
      if (this.pos >= t.length) throw new ScanError("unterminated string", start);
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        break;
      }
      if (c < 0x20) this.unexpected("control characters must be escaped in strings");
      if (c === 0x5c) {
        simple = false;
        const e = t[this.pos + 1];
        if (e === "u") {
          if (!/^[0-9A-Fa-f]{4}$/.test(t.slice(this.pos + 2, this.pos + 6))) throw new ScanError("bad \\u escape in string", this.pos);
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new ScanError("bad escape in string", this.pos);
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    const raw = t.slice(start, this.pos);
    return simple ? raw.slice(1, -1) : (JSON.parse(raw) as string);
  }

  private number(): void {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m || m[0] === "-") {
      if (this.text[this.pos] === "-") this.pos++;
      this.unexpected("expected a digit");
    }
    this.pos += m[0].length;
    this.onNumber?.(this.path, m[0]);
  }
}

function lineAndColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}

/** Where and why `text` is not valid JSON; undefined if it is. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  try {
    new Scanner(text, undefined).run();
    return undefined;
  } catch (err) {
    if (err instanceof ScanError) return { reason: err.reason, ...lineAndColumn(text, err.pos) };
    if (err instanceof RangeError) return { reason: "nested too deeply", line: 1, column: 1 };
    throw err;
  }
}

/**
 * Integer literals in `text` whose exact value JSON.parse cannot hold, by path
 * (formatPath form). `text` must be valid JSON. A duplicated key keeps the last value,
 * as JSON.parse does.
 */
export function findUnsafeIntegers(text: string): Map<string, bigint> {
  const found = new Map<string, bigint>();
  // Fast path: a safe integer has at most 16 digits.
  if (!/[0-9]{16}/.test(text)) return found;
  try {
    new Scanner(text, (path, literal) => {
      const key = formatPath(path);
      if (/^-?[0-9]+$/.test(literal) && !Number.isSafeInteger(Number(literal))) found.set(key, BigInt(literal));
      else found.delete(key);
    }).run();
  } catch (err) {
    // JSON.parse accepted the text, so only absurd nesting (RangeError) gets here; the
    // rounded values JSON.parse made are then all there is.
    if (!(err instanceof RangeError) && !(err instanceof ScanError)) throw err;
  }
  return found;
}
