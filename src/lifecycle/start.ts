// Releases a created container's init: it is blocked opening exec.fifo for
// writing; opening it for reading lets it write one byte and execve.
import { closeSync, constants as fsc, openSync, readSync, unlinkSync } from "node:fs";
import { StatusError, SetupError } from "../errors";
import type { ContainerHandle, ContainerRecord } from "../state";
import { statusOf } from "./status";
import { runHooksWarn, savedHooks, stateOf } from "./hooks";
import { phase } from "../profile";

export function startContainer(h: ContainerHandle, rec: ContainerRecord): void {
  const status = statusOf(h, rec);
  if (status === "stopped") throw new StatusError("cannot start a container that has stopped");
  if (status !== "created") throw new StatusError(`cannot start an already ${status} container`);
  phase("status");
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
  phase("exec.fifo: release the init");
  unlinkSync(h.fifoPath);
  phase("exec.fifo unlink");
  runHooksWarn("poststart", savedHooks(rec, "poststart"), stateOf(rec, "running"));
  phase("poststart hooks");
}
