// JSON values as the fuzzer builds them, and their text: besides plain values, a
// Raw node is written verbatim (integers beyond 2^53, deep nesting, -0, 1e400) and
// an Entries node is an object whose keys may repeat (JSON allows it; Go and
// JSON.parse keep the last one).

export class Raw {
  constructor(readonly text: string) {}
}

export class Entries {
  constructor(readonly list: [string, Json][]) {}
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json } | Raw | Entries;

export function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Raw) && !(v instanceof Entries);
}

/** The document's text; compact, except that `pretty` indents (reproducer files). */
export function toText(v: Json, pretty = false): string {
  const out: string[] = [];
  const nl = (depth: number) => (pretty ? "\n" + "  ".repeat(depth) : "");
  const write = (x: Json, depth: number): void => {
    if (x instanceof Raw) out.push(x.text);
    else if (x === null) out.push("null");
    else if (typeof x === "number") out.push(Number.isFinite(x) ? JSON.stringify(x) : "null");
    else if (typeof x === "string" || typeof x === "boolean") out.push(JSON.stringify(x));
    else if (Array.isArray(x)) {
      if (!x.length) return void out.push("[]");
      out.push("[");
      x.forEach((e, i) => {
        if (i) out.push(",");
        out.push(nl(depth + 1));
        write(e, depth + 1);
      });
      out.push(nl(depth), "]");
    } else {
      const list = x instanceof Entries ? x.list : Object.entries(x);
      if (!list.length) return void out.push("{}");
      out.push("{");
      list.forEach(([k, e], i) => {
        if (i) out.push(",");
        out.push(nl(depth + 1), JSON.stringify(k), pretty ? ": " : ":");
        write(e, depth + 1);
      });
      out.push(nl(depth), "}");
    }
  };
  write(v, 0);
  return out.join("");
}

/** A deep copy (Raw nodes are immutable and shared). */
export function clone(v: Json): Json {
  if (v === null || typeof v !== "object" || v instanceof Raw) return v;
  if (Array.isArray(v)) return v.map(clone);
  if (v instanceof Entries) return new Entries(v.list.map(([k, e]) => [k, clone(e)]));
  const o: { [k: string]: Json } = {};
  for (const [k, e] of Object.entries(v)) setKey(o, k, clone(e));
  return o;
}

/** o[k] = v, also for "__proto__" (an own property, as JSON.parse makes it). */
export function setKey(o: { [k: string]: Json }, k: string, v: Json): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}
