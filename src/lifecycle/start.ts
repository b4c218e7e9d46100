// Releases a created container's init: it is blocked opening exec.fifo for
// writing; opening it for reading lets it write one byte and execve.
import { closeSync, constants as fsc, openSync, readSync, unlinkSync } from "node:fs";
import { StatusError, SetupError } from "../errors";
import { native } from "../native";
import type { ContainerHandle, ContainerRecord } from "../state";
import { log } from "../log";
import { statusOf } from "./status";
import { runHooks, savedHooks, stateOf, type HookRunOptions } from "./hooks";
import { phase } from "../profile";

/** delete (delete.ts's deleter), given by the caller: what it needs is loaded only on the failure path. */
export type Remover = (h: ContainerHandle, rec: ContainerRecord, force: boolean, hooks?: HookRunOptions) => Promise<void>;

export async function startContainer(h: ContainerHandle, rec: ContainerRecord, remover: () => Remover): Promise<void> {
  const status = statusOf(h, rec);
  if (status === "stopped") throw new StatusError("cannot start a container that has stopped");
  if (status !== "created") throw new StatusError(`cannot start an already ${status} container`);
  phase("status");
  const fd = openSync(h.fifoPath, fsc.O_RDONLY | fsc.O_NONBLOCK);
  const n = native();
  // the init's pidfd, to learn of its death while waiting (opened after the fifo:
  // a pid recycled in between fails the start-time check below)
  let pidfd = -1;
  try {
    pidfd = n.pidfdOpen(rec.pid);
  } catch { /* gone already: initAlive says so below */ }
  try {
    const buf = Buffer.alloc(1);
    const readByte = () => {
      try {
        return readSync(fd, buf, 0, 1, null) === 1;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        return false;
      }
    };
    // The init, blocked opening the fifo for writing, wakes when we open it, writes
    // one byte and execs. poll() wakes us at that byte, or at the init's death (its
    // pidfd); no sleeping in between.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (readByte()) break;
      // EOF before the byte: no writer yet (it is about to open), or the init died;
      // it may have written its byte, run and exited in between: read once more
      if (pidfd < 0 || !h.initAlive(rec)) {
        if (readByte()) break;
        throw new SetupError("the container's init exited before it could be started", undefined, { where: "start" });
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new SetupError("the container's init did not take the start signal within 30 s", undefined, { where: "start" });
      const [fifoEv, pidEv] = n.pollIn([fd, pidfd], left);
      if (pidEv) {
        if (readByte()) break;
        throw new SetupError("the container's init exited before it could be started", undefined, { where: "start" });
      }
      // a writer that came and went without its byte leaves the fifo hung up: poll
      // would not wait any more; the pidfd tells whether the init still lives
      if (fifoEv && !readByte()) n.pollIn([pidfd], 1);
      else if (fifoEv) break;
    }
  } finally {
    closeSync(fd);
    if (pidfd >= 0) n.close(pidfd);
  }
  phase("exec.fifo: release the init");
  unlinkSync(h.fifoPath);
  phase("exec.fifo unlink");
  // after the program started, before start returns (config.md "Poststart"); from the
  // bundle, as runc runs them. A failure is an error: the container is stopped and
  // destroyed, poststop hooks run (runtime.md "Lifecycle" step 9 of spec 1.3; runc
  // does the same, but during create)
  try {
    runHooks("poststart", savedHooks(rec, "poststart"), stateOf(rec, "running"), { cwd: rec.bundle });
  } catch (err) {
    try {
      await remover()(h, rec, true, { cwd: rec.bundle });
    } catch (cleanup) {
      log.warn(`removing container ${h.id} after its poststart hook failed: ${(cleanup as Error).message}`);
    }
    throw err;
  }
  phase("poststart hooks");
}
