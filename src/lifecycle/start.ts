// Releases a created container's init: it is blocked opening exec.fifo for
// writing; opening it for reading lets it write one byte and execve.
import { closeSync, constants as fsc, openSync, readSync, unlinkSync } from "node:fs";
import { StatusError, SetupError } from "../errors";
import type { ContainerHandle, ContainerRecord } from "../state";
import { log } from "../log";
import { statusOf } from "./status";
import { runHooks, savedHooks, stateOf } from "./hooks";
import { deleteContainer } from "./delete";

export function startContainer(h: ContainerHandle, rec: ContainerRecord): void {
  const status = statusOf(h, rec);
  if (status === "stopped") throw new StatusError("cannot start a container that has stopped");
  if (status !== "created") throw new StatusError(`cannot start an already ${status} container`);
  const fd = openSync(h.fifoPath, fsc.O_RDONLY | fsc.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const readByte = () => {
      try {
        return readSync(fd, buf, 0, 1, null) === 1;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        return false;
      }
    };
    for (let waited = 0; ; waited++) {
      if (readByte()) break;
      // EOF before the byte: no writer yet (it is about to open), or the init died;
      // it may have written its byte, run and exited in between: read once more
      if (!h.initAlive(rec)) {
        if (readByte()) break;
        throw new SetupError("the container's init exited before it could be started", undefined, { where: "start" });
      }
      if (waited > 30000) throw new SetupError("the container's init did not take the start signal within 30 s", undefined, { where: "start" });
      Atomics.wait(sleeper, 0, 0, 1);
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(h.fifoPath);
  // after the program started, before start returns (config.md "Poststart"); from the
  // bundle, as runc runs them. A failure is an error: the container is stopped and
  // destroyed, poststop hooks run (runtime.md "Lifecycle" step 9 of spec 1.3; runc
  // does the same, but during create)
  try {
    runHooks("poststart", savedHooks(rec, "poststart"), stateOf(rec, "running"), { cwd: rec.bundle });
  } catch (err) {
    try {
      deleteContainer(h, rec, true, { cwd: rec.bundle });
    } catch (cleanup) {
      log.warn(`removing container ${h.id} after its poststart hook failed: ${(cleanup as Error).message}`);
    }
    throw err;
  }
}
