// A spare shim: a shim process started ahead of need, already past the JavaScript
// engine's start and the bundle's load, waiting on a socket of its own. The
// launcher's `start` hands it the next container's listening socket and log FIFO
// (SCM_RIGHTS) with what the command line would have said; it then becomes that
// container's shim, and the shim it becomes starts the next spare. So a container's
// start waits for no engine start at all. A spare exits when its containerd goes
// away (its ttrpc socket closes) or after SPARE_IDLE_MS unused.
import { closeSync, unlinkSync, writeSync } from "node:fs";
import { connect } from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { sparePath, type ShimFlags } from "./flags";
import { sys, warmUp } from "./runtime";

export const SPARE_IDLE_MS = 10 * 60_000;

export interface Handoff {
  flags: ShimFlags;
  listenFd: number;
  cwd: string;
  shimAddress: string;
}

/** key\0value\0... as the launcher sends it */
export function parseHandoff(payload: Buffer): Record<string, string> {
  const parts = payload.toString("utf8").split("\0");
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

/** Waits for a container; calls become() with it, or exits when not needed any more. */
export function waitAsSpare(f: ShimFlags, become: (h: Handoff) => void): void {
  const ttrpc = process.env["TTRPC_ADDRESS"] ?? "";
  const path = sparePath(f.address, ttrpc);
  const n = sys();
  let fd: number;
  try {
    fd = n.listenUnix(path);
  } catch (err) {
    if ((err as { errno?: number }).errno !== 98 /* EADDRINUSE */) process.exit(1);
    // another spare may be waiting there already; a dead one's socket is replaced
    const probe = connect(path);
    probe.once("connect", () => process.exit(0));
    probe.once("error", () => {
      try { unlinkSync(path); } catch { /* gone */ }
      try {
        waitOn(n.listenUnix(path));
      } catch {
        process.exit(1);
      }
    });
    return;
  }
  waitOn(fd);

  function waitOn(listenFd: number): void {
    // the first create's lazy loads, done while nobody waits
    setImmediate(() => {
      try { warmUp(); } catch { /* the create will say what is wrong */ }
    });
    const quit = () => {
      try { unlinkSync(path); } catch { /* gone */ }
      process.exit(0);
    };
    const idle = setTimeout(quit, SPARE_IDLE_MS);
    // containerd's going away ends us too
    const watch = ttrpc ? connect(ttrpc.replace(/^unix:\/\//, "")) : undefined;
    watch?.on("error", () => {});
    watch?.on("close", quit);
    const stop = n.watchReadable(listenFd, () => {
      const h = n.recvHandoff(listenFd);
      if (!h) return;
      const kv = parseHandoff(h.payload);
      if (!kv["namespace"] || h.fds.length < 2) {
        for (const x of [h.conn, ...h.fds]) closeSync(x);
        return;
      }
      stop();
      clearTimeout(idle);
      watch?.removeAllListeners("close");
      watch?.destroy();
      closeSync(listenFd);
      try { unlinkSync(path); } catch { /* replaced meanwhile */ }
      // fds[1] is the bundle's log FIFO (or /dev/null): our stderr from now on
      n.dup2(h.fds[1]!, 2);
      closeSync(h.fds[1]!);
      for (const k of ["TTRPC_ADDRESS"]) if (kv[k] !== undefined) process.env[k] = kv[k];
      process.chdir(kv["cwd"] ?? "/");
      const flags: ShimFlags = {
        ...f, spare: false, namespace: kv["namespace"]!, id: kv["id"] ?? "", address: kv["address"] ?? f.address,
        publishBinary: kv["publish-binary"] ?? f.publishBinary, debug: kv["debug"] === "1", action: "",
      };
      // the launcher waits for this byte before it answers containerd
      try {
        writeSync(h.conn, "1");
      } finally {
        closeSync(h.conn);
      }
      become({ flags, listenFd: h.fds[0]!, cwd: kv["cwd"] ?? "/", shimAddress: kv["shim-address"] ?? "" });
    });
  }
}

/** Starts the next spare (detached, its own session), a while after this shim got busy. */
export function startSpare(f: ShimFlags, adopt: (c: ChildProcess) => void): void {
  const launcher = process.argv[1];
  if (!launcher || process.env["OCIRT_SHIM_NO_SPARE"] === "1") return;
  const env = { ...process.env };
  delete env["OCIRT_SHIM_ADDRESS"];
  const child = spawn(process.execPath, [...process.execArgv, launcher, "-spare", "-namespace", "spare", "-address", f.address, "-publish-binary", f.publishBinary], {
    detached: true, stdio: "ignore", env, cwd: "/",
  });
  child.on("error", () => {});
  adopt(child);
}
