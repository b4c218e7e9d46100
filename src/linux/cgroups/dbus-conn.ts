// A minimal D-Bus client connection over a unix socket: SASL EXTERNAL, Hello,
// method calls with replies matched by serial, and signals handed to a callback.
// Everything is pipelined: the auth lines, BEGIN, Hello and any calls are
// written at once, so the bus daemon works while the caller does other things
// (ocirt opens the connection before it clones the container's init).
//
// Loaded only by the systemd cgroup driver (node:net is not touched otherwise).
import * as net from "node:net";
import { FLAG_NO_REPLY, MessageType, decodeMessage, encodeMessage, messageLength, type DBusValue, type Message } from "./dbus-wire";
import { unixPathOf } from "./dbus-address";

export const SYSTEM_BUS_DEFAULT = "/run/dbus/system_bus_socket";

/** A D-Bus error reply: `name` like org.freedesktop.systemd1.NoSuchUnit. */
export class DBusError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message ? `${errorName}: ${message}` : errorName);
  }
}

/** The transport failed (cannot connect, auth refused, connection lost, timeout). */
export class DBusTransportError extends Error {}

/**
 * The socket of the system bus: DBUS_SYSTEM_BUS_ADDRESS (its first unix:path=
 * or unix:abstract= entry) or the well-known path, as sd-bus and godbus do.
 */
export function systemBusPath(env: NodeJS.ProcessEnv = process.env): string {
  return unixPathOf(env["DBUS_SYSTEM_BUS_ADDRESS"]) ?? SYSTEM_BUS_DEFAULT;
}

/** The first line the client sends: AUTH EXTERNAL with our uid in hex-encoded ASCII. */
export function authLines(uid: number): string {
  return `\0AUTH EXTERNAL ${Buffer.from(String(uid), "ascii").toString("hex")}\r\nBEGIN\r\n`;
}

interface Pending {
  resolve(m: Message): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  what: string;
}

export interface CallOptions {
  destination?: string;
  path: string;
  interface?: string;
  member: string;
  signature?: string;
  body?: DBusValue[];
  /** Default 30 s. */
  timeoutMs?: number;
  noReply?: boolean;
}

export class DBusConnection {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private authed = false;
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;
  private signalHandler: ((m: Message) => void) | undefined;
  private callHandler: ((m: Message) => void) | undefined;
  /** Our unique name once Hello answered (bus connections only). */
  uniqueName: Promise<string> | undefined;

  private constructor(
    readonly address: string,
    hello: boolean,
    authUid: number,
  ) {
    this.sock = net.createConnection({ path: address });
    // Never keeps the process alive by itself: pending calls do (their timers).
    this.sock.unref();
    this.sock.on("data", (d: Buffer) => this.onData(d));
    this.sock.on("error", (err: NodeJS.ErrnoException) => this.fail(new DBusTransportError(`${this.label()}: ${err.code ?? err.message}`)));
    this.sock.on("close", () => this.fail(new DBusTransportError(`${this.label()}: connection closed`)));
    this.sock.write(authLines(authUid));
    if (hello) {
      this.uniqueName = this.call({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "Hello" }).then(
        (b) => String(b[0]),
      );
      // A failed Hello fails every call anyway; do not report it twice.
      this.uniqueName.catch(() => {});
    }
  }

  /**
   * Connects to a bus (Hello is sent first, as a bus requires). Returns at once; calls
   * queue. authUid: the uid the bus sees us as (root of a user namespace is the
   * user's uid to a bus outside it).
   */
  static bus(address: string, authUid: number = process.getuid?.() ?? 0): DBusConnection {
    return new DBusConnection(address, true, authUid);
  }

  private label(): string {
    return `D-Bus ${this.address.startsWith("\0") ? "@" + this.address.slice(1) : this.address}`;
  }

  onSignal(fn: (m: Message) => void): void {
    this.signalHandler = fn;
  }

  /** Method calls addressed to this connection (ocirt serves none; tests' fake services do). */
  onMethodCall(fn: (m: Message) => void): void {
    this.callHandler = fn;
  }

  /** Sends a reply, error or signal as is; the serial is this connection's next one. */
  send(m: Omit<Message, "serial">): void {
    if (this.failure) throw this.failure;
    this.sock.write(encodeMessage({ ...m, serial: ++this.serial }));
  }

  /** Sends a method call; resolves with the reply body, rejects with DBusError on an error reply. */
  call(o: CallOptions): Promise<DBusValue[]> {
    if (this.failure) return Promise.reject(this.failure);
    const serial = ++this.serial;
    const msg: Message = {
      type: MessageType.MethodCall,
      flags: o.noReply ? FLAG_NO_REPLY : 0,
      serial,
      path: o.path,
      member: o.member,
      ...(o.interface ? { interface: o.interface } : {}),
      ...(o.destination ? { destination: o.destination } : {}),
      ...(o.signature ? { signature: o.signature, body: o.body ?? [] } : {}),
    };
    const bytes = encodeMessage(msg);
    const what = `${o.interface ? o.interface + "." : ""}${o.member}`;
    if (o.noReply) {
      this.sock.write(bytes);
      return Promise.resolve([]);
    }
    return new Promise<DBusValue[]>((resolve, reject) => {
      const ms = o.timeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        reject(new DBusTransportError(`${this.label()}: no answer to ${what} within ${ms / 1000} s`));
      }, ms);
      this.pending.set(serial, {
        what,
        timer,
        resolve: (m) => resolve(m.body ?? []),
        reject,
      });
      this.sock.write(bytes);
    });
  }

  close(): void {
    this.fail(new DBusTransportError(`${this.label()}: connection closed by ocirt`));
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const [serial, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(serial);
      p.reject(this.failure);
    }
    this.sock.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    try {
      if (!this.authed) {
        const nl = this.buf.indexOf("\r\n");
        if (nl < 0) {
          if (this.buf.length > 16384) throw new DBusTransportError(`${this.label()}: authentication line too long`);
          return;
        }
        const line = this.buf.toString("ascii", 0, nl);
        this.buf = this.buf.subarray(nl + 2);
        if (!line.startsWith("OK ")) throw new DBusTransportError(`${this.label()}: authentication refused (${line.trim() || "no reason"})`);
        this.authed = true;
      }
      for (;;) {
        const n = messageLength(this.buf);
        if (n === undefined || this.buf.length < n) return;
        const m = decodeMessage(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        this.dispatch(m);
      }
    } catch (err) {
      this.fail(err instanceof DBusTransportError ? err : new DBusTransportError(`${this.label()}: ${(err as Error).message}`));
    }
  }

  private dispatch(m: Message): void {
    if (m.type === MessageType.Signal) {
      this.signalHandler?.(m);
      return;
    }
    if (m.type === MessageType.MethodCall) {
      this.callHandler?.(m);
      return;
    }
    if (m.type !== MessageType.MethodReturn && m.type !== MessageType.Error) return;
    const p = m.replySerial !== undefined ? this.pending.get(m.replySerial) : undefined;
    if (!p) return;
    this.pending.delete(m.replySerial!);
    clearTimeout(p.timer);
    if (m.type === MessageType.Error) {
      const text = typeof m.body?.[0] === "string" ? (m.body[0] as string) : "";
      p.reject(new DBusError(m.errorName ?? "org.freedesktop.DBus.Error.Failed", text));
    } else {
      p.resolve(m);
    }
  }
}
