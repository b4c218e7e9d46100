// startContainer's read of exec.fifo against an init that writes its byte right
// after start found the fifo empty, then runs a program that ends at once: that is
// a start, not "exited before it could be started". Deterministic: the init's
// liveness check is where the byte gets written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closeSync, constants as fsc, existsSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { native } from "../../src/native";
import { startContainer } from "../../src/lifecycle/start";
import type { ContainerHandle, ContainerRecord } from "../../src/state";

/** start must not remove anything in these tests (no poststart hook fails) */
const noRemover = () => (): Promise<void> => { throw new Error("start removed the container"); };

test("a byte written between start's empty read and its liveness check is a start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ocirt-start-"));
  const fifo = join(dir, "exec.fifo");
  native().mkfifo(fifo, 0o600);
  // a writer that does not block (O_RDWR on a fifo): the "init", not yet written
  const init = openSync(fifo, fsc.O_RDWR);
  let checks = 0;
  const h = {
    fifoPath: fifo,
    status: () => "created",
    initAlive: () => {
      checks++;
      writeSync(init, "0"); // the init writes, execs, and its program ends
      return false;
    },
  } as unknown as ContainerHandle;
  const rec = { id: "c", pid: 1, ociVersion: "1.0.2", bundle: dir } as unknown as ContainerRecord;
  try {
    await startContainer(h, rec, noRemover);
    assert.is(checks, 1);
    assert.not.ok(existsSync(fifo), "the fifo is gone: started");
  } finally {
    closeSync(init);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
