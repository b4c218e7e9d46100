// `start` against a stand-in for the waiting init: the exec.fifo hand-off.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closeSync, constants as fsc, existsSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { startContainer } from "../../src/lifecycle/start";
import type { ContainerHandle, ContainerRecord } from "../../src/state";

/** start must not remove anything in these tests (no poststart hook fails) */
const noRemover = () => (): Promise<void> => { throw new Error("start removed the container"); };

const rec = { id: "c", pid: 1, phase: "created" } as ContainerRecord;

function handle(fifo: string, initAlive: () => boolean): ContainerHandle {
  return { id: "c", fifoPath: fifo, status: () => "created", initAlive } as unknown as ContainerHandle;
}

test("an init that wrote its byte, ran and exited before start looked is started, not reported dead", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ocirt-start-"));
  try {
    const fifo = join(dir, "exec.fifo");
    spawnSync("mkfifo", [fifo]);
    // between start's first read (nothing yet) and its liveness check, the init
    // writes its byte and is gone
    const h = handle(fifo, () => {
      const w = openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
      writeSync(w, "0");
      closeSync(w);
      return false;
    });
    await startContainer(h, rec, noRemover);
    assert.not.ok(existsSync(fifo), "started: the fifo is gone");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an init that died without writing is reported, naming start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ocirt-start-"));
  try {
    const fifo = join(dir, "exec.fifo");
    spawnSync("mkfifo", [fifo]);
    let failed: Error | undefined;
    await startContainer(handle(fifo, () => false), rec, noRemover).catch((e: Error) => (failed = e));
    assert.match(failed?.message ?? "", /the container's init exited before it could be started/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
