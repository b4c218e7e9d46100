// src/engine.ts: what survives the hand-off from Bun to another engine (OCIRT_ENGINE).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { passedFds } from "../../src/engine";

test("the fds a command passes on: --preserve-fds, and LISTEN_FDS meant for this process (not for exec)", () => {
  assert.is(passedFds(["run", "-b", "/b", "id"]), 0);
  assert.is(passedFds(["--root", "/r", "run", "--preserve-fds", "2", "-b", "/b", "id"]), 2);
  assert.is(passedFds(["create", "-preserve-fds=3", "-b", "/b", "id"]), 3);
  const saved = { LISTEN_FDS: process.env["LISTEN_FDS"], LISTEN_PID: process.env["LISTEN_PID"] };
  try {
    process.env["LISTEN_FDS"] = "2";
    process.env["LISTEN_PID"] = String(process.pid);
    assert.is(passedFds(["run", "--preserve-fds", "1", "-b", "/b", "id"]), 3);
    assert.is(passedFds(["exec", "--preserve-fds", "1", "id", "sh"]), 1);
    process.env["LISTEN_PID"] = "1";
    assert.is(passedFds(["run", "-b", "/b", "id"]), 0, "LISTEN_FDS for another process");
  } finally {
    // one key at a time: a plain object in place of process.env would cut it off from the C runtime (TZ)
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.is(passedFds(["state"]), 0, "a usage error: none");
  assert.is(passedFds(["--version"]), 0);
});

test.run();
