// containerd-shim-ocirt-v2: containerd's runtime v2 shim for ocirt (runtime type
// io.containerd.ocirt.v2). `start` and `delete` are short commands containerd runs;
// without an action this is the long-lived shim that drives the containers.
import { writeSync } from "node:fs";
import { FlagError, parseFlags } from "./flags";

function out(fd: number, s: string | Uint8Array): void {
  const buf = typeof s === "string" ? Buffer.from(s) : Buffer.from(s.buffer, s.byteOffset, s.byteLength);
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
}

export async function main(argv: string[], launcher: string): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    out(2, `${(err as FlagError).message}\n`);
    return 2;
  }
  if (flags.version) {
    const { VERSION, COMMIT } = await import("./runtime");
    out(1, `containerd-shim-ocirt-v2:\n  Version:  ${VERSION}\n  Revision: ${COMMIT}\n  Runtime:  ocirt (in-process)\n\n`);
    return 0;
  }
  try {
    if (!flags.namespace) throw new Error("shim namespace cannot be empty");
    switch (flags.action) {
      case "start": {
        const { startShim } = await import("./start");
        out(1, await startShim(flags, launcher));
        return 0;
      }
      case "delete": {
        const { cleanup } = await import("./delete");
        out(1, await cleanup(flags, (m) => out(2, `${m}\n`)));
        return 0;
      }
      case "": {
        const { serve } = await import("./serve");
        serve(flags);
        return -1; // keeps running
      }
      default:
        throw new Error(`unknown action ${JSON.stringify(flags.action)}`);
    }
  } catch (err) {
    out(2, `containerd-shim-ocirt-v2: ${(err as Error).message}\n`);
    return 1;
  }
}
