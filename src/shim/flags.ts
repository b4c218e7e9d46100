// The shim's command line, as containerd's runtime v2 passes it (Go's flag package:
// `-name value`, `-name=value`, `--name value`, bools without a value), then the
// action: `start`, `delete`, or none (the long-lived shim itself).
import { join } from "node:path";

export interface ShimFlags {
  namespace: string;
  id: string;
  address: string;
  publishBinary: string;
  bundle: string;
  socket: string;
  debug: boolean;
  version: boolean;
  /** wait as a spare shim for a container to serve (started by a running shim) */
  spare: boolean;
  action: string;
}

const STRING = new Set(["namespace", "id", "address", "publish-binary", "bundle", "socket"]);
const BOOL = new Set(["debug", "v", "spare"]);

export class FlagError extends Error {}

export function parseFlags(argv: readonly string[]): ShimFlags {
  const f: ShimFlags = { namespace: "", id: "", address: "", publishBinary: "containerd", bundle: "", socket: "", debug: false, version: false, spare: false, action: "" };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    if (BOOL.has(name)) {
      const v = eq < 0 ? "true" : body.slice(eq + 1);
      if (!/^(1|0|t|f|true|false|TRUE|FALSE|True|False)$/.test(v)) throw new FlagError(`invalid boolean value ${JSON.stringify(v)} for -${name}`);
      const on = /^(1|t|true|TRUE|True)$/.test(v);
      if (name === "debug") f.debug = on;
      else if (name === "spare") f.spare = on;
      else f.version = on;
      continue;
    }
    if (!STRING.has(name)) throw new FlagError(`flag provided but not defined: -${name}`);
    let v: string;
    if (eq >= 0) v = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      v = argv[++i]!;
    }
    if (name === "publish-binary") f.publishBinary = v;
    else (f as unknown as Record<string, string>)[name] = v;
  }
  f.action = argv[i] ?? "";
  return f;
}

/** Where containerd keeps shim sockets, whatever its own state dir is. */
export const SOCKET_DIR = "/run/containerd/s";

/**
 * The shim's socket address for a group (the container id, or the pod's sandbox
 * id): unix:///run/containerd/s/<sha256 of containerd's address/namespace/group>,
 * the form containerd's own shims use, so a second container of the group finds
 * the running shim.
 */
export function socketAddress(containerdAddress: string, namespace: string, group: string): string {
  const d = sha256Hex(Buffer.from(join(containerdAddress, namespace, group)));
  return `unix://${SOCKET_DIR}/${d}`;
}

/**
 * Where a spare shim of one containerd waits to be handed its next container (one
 * per containerd address and ttrpc address: the spare was started with that
 * containerd's environment). The C launcher computes the same path.
 */
export function sparePath(containerdAddress: string, ttrpcAddress: string): string {
  return `${SOCKET_DIR}/ocirt-spare-${sha256Hex(Buffer.from(`${containerdAddress}\n${ttrpcAddress}`)).slice(0, 32)}`;
}

export function socketPath(address: string): string {
  return address.replace(/^unix:\/\//, "");
}

/** Annotations that put containers into one shim (the CRI plugin's sandbox id first). */
export const GROUP_ANNOTATIONS = ["io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id"];

export function groupOf(id: string, annotations: Record<string, string> | undefined): string {
  for (const a of GROUP_ANNOTATIONS) {
    const v = annotations?.[a];
    if (v) return v;
  }
  return id;
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * SHA-256 (FIPS 180-4) of a short input, in plain JS: `start` runs once per
 * container, and loading node:crypto would cost it more than the hash itself.
 */
export function sha256Hex(data: Uint8Array): string {
  const bitLen = data.length * 8;
  const total = Math.ceil((data.length + 9) / 64) * 64;
  const msg = new Uint8Array(total);
  msg.set(data);
  msg[data.length] = 0x80;
  const dv = new DataView(msg.buffer);
  dv.setUint32(total - 8, Math.floor(bitLen / 0x100000000));
  dv.setUint32(total - 4, bitLen >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < total; off += 64) {
    for (let t = 0; t < 16; t++) w[t] = dv.getUint32(off + t * 4);
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15]!, b = w[t - 2]!;
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as number[];
    for (let t = 0; t < 64; t++) {
      const S1 = rotr(e!, 6) ^ rotr(e!, 11) ^ rotr(e!, 25);
      const ch = (e! & f!) ^ (~e! & g!);
      const t1 = (hh! + S1 + ch + K[t]! + w[t]!) >>> 0;
      const S0 = rotr(a!, 2) ^ rotr(a!, 13) ^ rotr(a!, 22);
      const maj = (a! & b!) ^ (a! & c!) ^ (b! & c!);
      const t2 = (S0 + maj) >>> 0;
      hh = g; g = f; f = e; e = (d! + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] = (h[0]! + a!) >>> 0; h[1] = (h[1]! + b!) >>> 0; h[2] = (h[2]! + c!) >>> 0; h[3] = (h[3]! + d!) >>> 0;
    h[4] = (h[4]! + e!) >>> 0; h[5] = (h[5]! + f!) >>> 0; h[6] = (h[6]! + g!) >>> 0; h[7] = (h[7]! + hh!) >>> 0;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, "0")).join("");
}
