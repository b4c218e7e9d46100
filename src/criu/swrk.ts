// One conversation with `criu swrk <fd>`, as runc has it: criu gets one end of a
// SOCK_SEQPACKET socketpair as its fd 3 (and the files it inherits at 4, 5, ...),
// reads one request, and answers with notifications (each acknowledged) and then
// one response. Asynchronous, so a shim serving other requests is not blocked for
// the seconds a dump takes.
import { spawn, type ChildProcess } from "node:child_process";
import { native } from "../native";
import { SetupError } from "../errors";
import { Request, Response, ReqType } from "./gen/criu_rpc";
import { notifyAck } from "./request";

/** criu's messages are small; a response above this is refused, not cut. */
const MAX_MESSAGE = 1 << 20;

export interface Notification {
  script: string;
  pid: number;
  /** an fd that came with it (orphan-pts-master), owned by the handler */
  fd: number;
}

export interface SwrkOptions {
  criu: string;
  /** criu's own 0, 1, 2: fds, or "ignore" (/dev/null) */
  stdio?: [number | "ignore", number | "ignore", number | "ignore"] | undefined;
  /** fds criu inherits at 4, 5, ... */
  extraFds?: number[] | undefined;
  /** before the request goes out: criu runs (e.g. to place it in the container's cgroup) */
  spawned?(pid: number, req: Request): void | Promise<void>;
  /** each notification; a throw is answered with a failure and rethrown after criu's response */
  notify?(n: Notification): void | Promise<void>;
  /** a caller that reaps children itself (the shim's reaper) takes the process over */
  adopt?(child: ChildProcess): void;
  /** for error messages: "checkpoint", "restore" */
  step: string;
}

export interface SwrkResult {
  response: Response;
  /** criu's exit: code, or the signal that ended it (both null when someone else reaped it) */
  exit: { code: number | null; signal: NodeJS.Signals | null };
}

/** Sends one request and follows the conversation to its response. */
export async function swrk(req: Request, o: SwrkOptions): Promise<SwrkResult> {
  const n = native();
  const [ours, theirs] = n.seqpacketPair();
  let child: ChildProcess;
  try {
    child = spawn(o.criu, ["swrk", "3"], {
      stdio: [...(o.stdio ?? ["ignore", "ignore", "ignore"]), theirs, ...(o.extraFds ?? [])],
      env: process.env,
    });
  } catch (err) {
    n.close(ours);
    n.close(theirs);
    throw new SetupError(`cannot run ${o.criu}: ${(err as Error).message}`, undefined, { where: o.step });
  }
  // criu holds its end now; ours alone lets its exit read as EOF
  n.close(theirs);
  const exited = new Promise<SwrkResult["exit"]>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: null, signal: null }));
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  o.adopt?.(child);
  let watching: (() => void) | undefined;
  try {
    if (!child.pid) {
      const e = await spawnError;
      throw new SetupError(`cannot run ${o.criu}: ${e.message}`, undefined, { where: o.step });
    }
    await o.spawned?.(child.pid, req);
    n.sendPacket(ours, Buffer.from(Request.encode(req).finish()));
    let failure: unknown;
    const inbox = messages(ours, (stop) => (watching = stop));
    for (;;) {
      const msg = await inbox.next();
      if (msg.done) {
        const exit = await exited;
        throw new SetupError(`criu exited before it answered (${exitText(exit)})${crashHint(exit)}`, undefined, { where: o.step });
      }
      const { data, fd } = msg.value;
      let resp: Response;
      try {
        resp = Response.decode(data);
      } catch (err) {
        if (fd >= 0) n.close(fd);
        throw new SetupError(`criu's answer cannot be read: ${(err as Error).message}`, undefined, { where: o.step });
      }
      if (resp.type === ReqType.REQ_NOTIFY && resp.success) {
        let ok = true;
        try {
          await o.notify?.({ script: resp.notify?.script ?? "", pid: resp.notify?.pid ?? 0, fd });
        } catch (err) {
          ok = false;
          failure ??= err;
        }
        n.sendPacket(ours, Buffer.from(Request.encode(notifyAck(ok)).finish()));
        continue;
      }
      if (fd >= 0) n.close(fd);
      watching?.();
      n.close(ours);
      const exit = await exited;
      if (failure !== undefined) throw failure;
      return { response: resp, exit };
    }
  } catch (err) {
    watching?.();
    try { n.close(ours); } catch { /* closed above */ }
    // without its socket criu gives up; it must not outlive the command
    if (child.exitCode === null && child.signalCode === null) {
      const t = setTimeout(() => { try { child.kill("SIGKILL"); } catch { /* gone */ } }, 10_000);
      await exited;
      clearTimeout(t);
    }
    throw err;
  }
}

/** The messages of a non-blocking seqpacket socket as they come; done at EOF. */
async function* messages(fd: number, onWatch: (stop: () => void) => void): AsyncGenerator<{ data: Buffer; fd: number }> {
  const n = native();
  let wake: (() => void) | undefined;
  let readable = true;
  const stop = n.watchReadable(fd, () => {
    readable = true;
    wake?.();
  });
  onWatch(stop);
  try {
    for (;;) {
      if (!readable) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      const m = n.recvPacket(fd, MAX_MESSAGE);
      if (m === null) {
        readable = false;
        continue;
      }
      if (m.data.length === 0) return;
      yield m;
    }
  } finally {
    stop();
  }
}

function exitText(e: SwrkResult["exit"]): string {
  if (e.signal) return `killed by ${e.signal}`;
  if (e.code !== null) return `exit status ${e.code}`;
  return "exit status unknown";
}

/** criu 3.17 dies of SIGSEGV on `network-lock` in the config file an RPC request names (fixed by checkpoint-restore/criu#3051). */
function crashHint(e: SwrkResult["exit"]): string {
  return e.signal === "SIGSEGV" ? "; criu 3.17 crashes so when a config file it reads over RPC (e.g. /etc/criu/runc.conf) sets network-lock: remove that line (ocirt sets the lock method in the request)" : "";
}

/** `criu swrk` for a VERSION request: criu's version, e.g. 31701 for 3.17.1. */
export async function criuVersion(criu: string): Promise<Response["version"]> {
  const r = await swrk({ type: ReqType.REQ_VERSION }, { criu, step: "criu version" });
  if (!r.response.success || !r.response.version) throw new SetupError("criu did not report its version", undefined, { where: "criu version" });
  return r.response.version;
}
