// Output through fs.writeSync: touching process.stdout/stderr loads node's stream
// machinery, ~3 ms of every start, for what is a handful of lines.
import { writeSync } from "node:fs";

function writeAll(fd: number, s: string | Buffer): void {
  let buf = typeof s === "string" ? Buffer.from(s) : s;
  while (buf.length) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (err) {
      // an inherited non-blocking pipe: wait for room rather than drop output
      if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      if ((err as NodeJS.ErrnoException).code === "EPIPE") return;
      throw err;
    }
  }
}

export const stdout = (s: string | Buffer): void => writeAll(1, s);
export const stderr = (s: string): void => writeAll(2, s);
