// ttrpc, the RPC containerd speaks with its shims (containerd/ttrpc PROTOCOL.md):
// over a unix stream socket, frames of a 10-byte header — data length (uint32 BE),
// stream id (uint32 BE, odd for client streams), message type (1 request,
// 2 response, 3 data), flags — followed by at most 4 MiB of data. A request frame
// carries a ttrpc.Request {service, method, payload, timeout, metadata}, its
// response frame (same stream id) a ttrpc.Response {status, payload}. Only unary
// calls are used between containerd and a task shim.
import { connect, type Server, type Socket } from "node:net";
import { Request, Response } from "./gen/ttrpc";

export const HEADER_LENGTH = 10;
export const MAX_DATA = 4 << 20;
export const MSG_REQUEST = 1;
export const MSG_RESPONSE = 2;
export const MSG_DATA = 3;

/** gRPC status codes, as ttrpc carries them in google.rpc.Status. */
export const Code = {
  OK: 0, Canceled: 1, Unknown: 2, InvalidArgument: 3, DeadlineExceeded: 4, NotFound: 5, AlreadyExists: 6,
  PermissionDenied: 7, ResourceExhausted: 8, FailedPrecondition: 9, Aborted: 10, OutOfRange: 11,
  Unimplemented: 12, Internal: 13, Unavailable: 14,
} as const;

/** An error with a gRPC code: what a handler throws to answer with that status. */
export class TtrpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = "TtrpcError";
  }
}

export interface Frame {
  streamId: number;
  type: number;
  flags: number;
  data: Buffer;
}

export function encodeFrame(streamId: number, type: number, flags: number, data: Uint8Array): Buffer {
  if (data.length > MAX_DATA) throw new TtrpcError(Code.ResourceExhausted, `message of ${data.length} bytes exceeds the ttrpc limit of ${MAX_DATA}`);
  const out = Buffer.allocUnsafe(HEADER_LENGTH + data.length);
  out.writeUInt32BE(data.length, 0);
  out.writeUInt32BE(streamId >>> 0, 4);
  out.writeUInt8(type, 8);
  out.writeUInt8(flags, 9);
  out.set(data, HEADER_LENGTH);
  return out;
}

/** Splits a byte stream into frames; throws on a frame longer than the protocol allows. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= HEADER_LENGTH) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_DATA) throw new TtrpcError(Code.ResourceExhausted, `frame of ${len} bytes exceeds the ttrpc limit of ${MAX_DATA}`);
      if (this.buf.length < HEADER_LENGTH + len) break;
      frames.push({
        streamId: this.buf.readUInt32BE(4),
        type: this.buf.readUInt8(8),
        flags: this.buf.readUInt8(9),
        data: this.buf.subarray(HEADER_LENGTH, HEADER_LENGTH + len),
      });
      this.buf = this.buf.subarray(HEADER_LENGTH + len);
    }
    if (!this.buf.length) this.buf = Buffer.alloc(0);
    return frames;
  }
}

export type Metadata = Record<string, string[]>;
export type Method = (payload: Uint8Array, md: Metadata) => Promise<Uint8Array> | Uint8Array;

/** Serves registered services on every connection of a listening net.Server. */
export class TtrpcServer {
  private services = new Map<string, Record<string, Method>>();
  private sockets = new Set<Socket>();
  onError: (what: string, err: unknown) => void = () => {};

  register(service: string, methods: Record<string, Method>): void {
    this.services.set(service, methods);
  }

  serve(server: Server): void {
    server.on("connection", (s) => this.handle(s));
  }

  /** One connection: requests are answered as their handlers finish, in any order. */
  handle(sock: Socket): void {
    this.sockets.add(sock);
    const dec = new FrameDecoder();
    sock.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = dec.push(chunk);
      } catch (err) {
        this.onError("reading a frame", err);
        sock.destroy();
        return;
      }
      for (const f of frames) void this.dispatch(sock, f);
    });
    sock.on("error", (err) => this.onError("connection", err));
    sock.on("close", () => this.sockets.delete(sock));
  }

  private async dispatch(sock: Socket, f: Frame): Promise<void> {
    if (f.type !== MSG_REQUEST) {
      // stream data on a unary service: nothing waits for it
      this.onError("frame", new Error(`unexpected message type ${f.type} on stream ${f.streamId}`));
      return;
    }
    let res: Response;
    try {
      const req = Request.decode(f.data);
      const md: Metadata = {};
      for (const kv of req.metadata) (md[kv.key] ??= []).push(kv.value);
      const svc = this.services.get(req.service);
      if (!svc) throw new TtrpcError(Code.Unimplemented, `service ${req.service}`);
      const m = Object.prototype.hasOwnProperty.call(svc, req.method) ? svc[req.method] : undefined;
      if (!m) throw new TtrpcError(Code.Unimplemented, `method ${req.method}`);
      const payload = await m(req.payload, md);
      res = { status: { code: Code.OK, message: "", details: [] }, payload };
    } catch (err) {
      const code = err instanceof TtrpcError ? err.code : Code.Unknown;
      res = { status: { code, message: (err as Error)?.message ?? String(err), details: [] }, payload: new Uint8Array(0) };
    }
    if (sock.destroyed) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(f.streamId, MSG_RESPONSE, 0, Response.encode(res).finish());
    } catch (err) {
      const code = err instanceof TtrpcError ? err.code : Code.Internal;
      frame = encodeFrame(f.streamId, MSG_RESPONSE, 0, Response.encode({ status: { code, message: (err as Error).message, details: [] }, payload: new Uint8Array(0) }).finish());
    }
    sock.write(frame);
  }

  /** Closes every connection (the shim is exiting). */
  closeAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A client on one connection, made when first needed and again after it broke
 * (containerd restarted). Calls are unary; stream ids are odd and increase.
 */
export class TtrpcClient {
  private sock: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(readonly path: string) {}

  private connect(): Promise<Socket> {
    if (this.sock && !this.sock.destroyed) return Promise.resolve(this.sock);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const s = connect(this.path);
      const dec = new FrameDecoder();
      s.once("connect", () => {
        this.sock = s;
        this.nextId = 1;
        this.connecting = undefined;
        resolve(s);
      });
      s.on("data", (chunk: Buffer) => {
        let frames: Frame[];
        try {
          frames = dec.push(chunk);
        } catch (err) {
          s.destroy(err as Error);
          return;
        }
        for (const f of frames) this.onFrame(f);
      });
      s.on("error", (err) => {
        if (this.connecting && !this.sock) {
          this.connecting = undefined;
          reject(err);
        }
      });
      s.on("close", () => {
        if (this.sock === s) this.sock = undefined;
        if (this.connecting && !this.sock) this.connecting = undefined;
        const err = new TtrpcError(Code.Unavailable, "ttrpc: connection closed");
        for (const [id, p] of this.pending) {
          if (p.timer) clearTimeout(p.timer);
          this.pending.delete(id);
          p.reject(err);
        }
      });
    });
    return this.connecting;
  }

  private onFrame(f: Frame): void {
    const p = this.pending.get(f.streamId);
    if (!p || f.type !== MSG_RESPONSE) return;
    this.pending.delete(f.streamId);
    if (p.timer) clearTimeout(p.timer);
    try {
      const res = Response.decode(f.data);
      if (res.status && res.status.code !== Code.OK) p.reject(new TtrpcError(res.status.code, res.status.message));
      else p.resolve(res.payload);
    } catch (err) {
      p.reject(err as Error);
    }
  }

  async call(service: string, method: string, payload: Uint8Array, timeoutMs = 5000, metadata: Record<string, string> = {}): Promise<Uint8Array> {
    const s = await this.connect();
    const id = this.nextId;
    this.nextId += 2;
    const req = Request.encode({
      service, method, payload,
      timeoutNano: BigInt(timeoutMs) * 1_000_000n,
      metadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    }).finish();
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => {
        this.pending.delete(id);
        reject(new TtrpcError(Code.DeadlineExceeded, `${service}/${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs) : undefined;
      this.pending.set(id, { resolve, reject, timer });
      s.write(encodeFrame(id, MSG_REQUEST, 0, req));
    });
  }

  close(): void {
    this.sock?.destroy();
    this.sock = undefined;
  }
}
