// What the schema describes. The spec requires unknown properties to be ignored, so
// nothing ocirt does may look inside them: an out-of-range integer or absurd nesting
// in an unknown property is no error, and the config kept in state.json (for exec)
// holds only what the schema knows.
import schema from "./schema.json";
import type { Segment } from "./path";

type Schema = { [k: string]: unknown };
const DEFS = (schema as Schema)["definitions"] as Record<string, Schema>;

function deref(s: Schema): Schema {
  for (let n = 0; typeof s["$ref"] === "string" && n < 32; n++) {
    const name = (s["$ref"] as string).replace(/^#\/definitions\//, "");
    s = DEFS[name] ?? {};
  }
  return s;
}

// The schema is fixed: each schema object's alternatives and children are looked up once
// (every property of a config asks; uncached, this walk was ~1 ms of every create)
const VARIANTS = new WeakMap<Schema, Schema[]>();
const CHILDREN = new WeakMap<Schema, Map<string | number, Schema | undefined>>();

/** The alternatives a value may match (the schema itself and its anyOf/oneOf/allOf/then parts). */
function variants(s: Schema): Schema[] {
  let out = VARIANTS.get(s);
  if (!out) VARIANTS.set(s, (out = findVariants(s)));
  return out;
}

function findVariants(s: Schema): Schema[] {
  const out: Schema[] = [];
  const todo = [deref(s)];
  while (todo.length) {
    const cur = todo.pop()!;
    out.push(cur);
    for (const k of ["anyOf", "oneOf", "allOf"]) for (const x of (cur[k] as Schema[] | undefined) ?? []) todo.push(deref(x));
    for (const k of ["then", "else"]) if (cur[k] && typeof cur[k] === "object") todo.push(deref(cur[k] as Schema));
  }
  return out;
}

/** The schema of one child (a property or an array element), or undefined when none describes it. */
function childOf(s: Schema, seg: Segment): Schema | undefined {
  // every array element has the same schema: one key for all indices
  const key = typeof seg === "number" ? 0 : `.${seg}`;
  let known = CHILDREN.get(s);
  if (!known) CHILDREN.set(s, (known = new Map()));
  if (known.has(key)) return known.get(key);
  const child = findChild(s, seg);
  known.set(key, child);
  return child;
}

function findChild(s: Schema, seg: Segment): Schema | undefined {
  for (const v of variants(s)) {
    if (typeof seg === "number") {
      if (v["items"] && typeof v["items"] === "object") return v["items"] as Schema;
      continue;
    }
    const props = v["properties"] as Record<string, Schema> | undefined;
    if (props && Object.prototype.hasOwnProperty.call(props, seg)) return props[seg];
    if (v["additionalProperties"] && typeof v["additionalProperties"] === "object") return v["additionalProperties"] as Schema;
  }
  return undefined;
}

/** Whether the schema describes the place at `segments` (from the document's root). */
export function describes(segments: readonly Segment[]): boolean {
  let s: Schema | undefined = schema as Schema;
  for (const seg of segments) {
    s = childOf(s, seg);
    if (!s) return false;
  }
  return true;
}

/** A copy of `value` with every property the schema does not describe left out. */
export function withoutUnknown(value: unknown, s: Schema = schema as Schema): unknown {
  if (Array.isArray(value)) {
    const item = childOf(s, 0);
    return item ? value.map((x) => withoutUnknown(x, item)) : value;
  }
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const c = childOf(s, k);
    if (!c) continue;
    // "__proto__" (data in JSON) must stay data: defineProperty there, plain assignment elsewhere
    if (k === "__proto__") Object.defineProperty(out, k, { value: withoutUnknown(v, c), enumerable: true, writable: true, configurable: true });
    else out[k] = withoutUnknown(v, c);
  }
  return out;
}
