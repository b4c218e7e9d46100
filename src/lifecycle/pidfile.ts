// --pid-file: digits, no newline, written atomically (containerd reads it as soon
// as it appears), with an error that names the flag.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SetupError } from "../errors";
import { strerror } from "./errno";

export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${process.pid}.pid.tmp`);
  try {
    writeFileSync(tmp, String(pid));
    renameSync(tmp, abs);
  } catch (err) {
    try { rmSync(tmp, { force: true }); } catch { /* nothing was written */ }
    const e = err as NodeJS.ErrnoException;
    throw new SetupError(`writing ${abs}: ${e.errno ? strerror(-e.errno) : e.message}`, undefined, { where: "--pid-file" });
  }
}
