// How ocirt names a place in config.json in its messages: dotted for plain keys, brackets
// for array indexes and for keys that are not identifiers, e.g.
// `process.rlimits[1].type`, `linux.sysctl["net.ipv4.ip_forward"]`.

export type Segment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatPath(segments: readonly Segment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** `formatPath(base)` extended by more segments. */
export function childPath(base: string, ...more: Segment[]): string {
  const tail = formatPath(more);
  if (base === "") return tail;
  return tail.startsWith("[") ? base + tail : `${base}.${tail}`;
}

/**
 * Turns a JSON pointer (ajv's instancePath) into segments. A pointer does not say whether
 * "/0" is an array index or an object key named "0", so the data is walked alongside.
 */
export function pointerToSegments(pointer: string, data: unknown): Segment[] {
  if (pointer === "") return [];
  const out: Segment[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur) && /^(0|[1-9][0-9]*)$/.test(key)) {
      const i = Number(key);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(key);
      cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

/** The inverse of formatPath: `a.b[2]["c.d"]` -> ["a", "b", 2, "c.d"]. */
export function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === ".") i++;
    if (path[i] === "[") {
      if (path[i + 1] === '"') {
        // a JSON string: find its closing quote, skipping escapes
        let j = i + 2;
        while (j < path.length && path[j] !== '"') j += path[j] === "\\" ? 2 : 1;
        out.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        i = j + 2;
      } else {
        const j = path.indexOf("]", i);
        out.push(Number(path.slice(i + 1, j)));
        i = j + 1;
      }
    } else {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(path.slice(i));
      if (!m) throw new Error(`not a config path: ${path}`);
      out.push(m[0]);
      i += m[0].length;
    }
  }
  return out;
}
