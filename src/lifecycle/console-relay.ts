// `run -t` / `exec -t` without --console-socket: ocirt itself relays between its own
// stdio and the container's pty, with the caller's terminal in raw mode, as runc does.
import { closeSync, createReadStream, writeSync } from "node:fs";
import { native } from "../native";
import { stdout } from "../io";

export interface Relay {
  /** Waits (briefly) for the last output, then restores the terminal. */
  finish(): Promise<void>;
}

export function relayConsole(master: number): Relay {
  const tty = require("node:tty") as typeof import("node:tty");
  const n = native();
  const sizeFromStdout = () => {
    if (tty.isatty(1)) {
      const { rows, columns } = process.stdout as import("node:tty").WriteStream;
      if (rows && columns) n.setWinsize(master, rows, columns);
    }
  };
  sizeFromStdout();
  if (tty.isatty(1)) process.stdout.on("resize", sizeFromStdout);
  let input: import("node:tty").ReadStream | NodeJS.ReadableStream | undefined;
  if (tty.isatty(0)) {
    const ins = new tty.ReadStream(0);
    ins.setRawMode(true);
    input = ins;
  } else {
    input = createReadStream("", { fd: 0, autoClose: false });
  }
  input.on("data", (d: Buffer) => {
    try {
      writeSync(master, d);
    } catch { /* the container is gone */ }
  });
  const out = createReadStream("", { fd: master, autoClose: false, highWaterMark: 16384 });
  const ended = new Promise<void>((res) => {
    out.on("data", (d) => stdout(d as Buffer));
    out.on("error", () => res()); // EIO once the last holder of the pty's other side exits
    out.on("end", () => res());
  });
  return {
    async finish() {
      await Promise.race([ended, new Promise((r) => setTimeout(r, 500))]);
      if (input && "setRawMode" in input) (input as import("node:tty").ReadStream).setRawMode(false);
      (input as unknown as { destroy?: () => void })?.destroy?.();
      out.destroy();
      try { closeSync(master); } catch { /* closed */ }
    },
  };
}
