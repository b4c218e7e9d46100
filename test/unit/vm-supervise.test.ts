// The VM lane's run supervision (vm/run.ts supervise) with a stand-in for QEMU:
// a shell script that plays the guest's part in the run's ctl directory. Covers
// streaming, the exit status, the timeout, a VM that dies, and QEMU being killed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { supervise, type Sinks } from "../../vm/run";

const tmp = mkdtempSync(join(tmpdir(), "ocirt-vm-sup-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** A run dir and a fake QEMU running `guest` (sh) with $CTL and $CONSOLE set; its pid goes to $CTL/../fake.pid. */
async function fake(guest: string, timeout = 30) {
  const runDir = join(tmp, `run${n++}`);
  const ctl = join(runDir, "ctl");
  mkdirSync(ctl, { recursive: true });
  for (const f of ["stdout", "stderr"]) writeFileSync(join(ctl, f), "");
  const script = join(runDir, "fake-qemu");
  writeFileSync(script, `#!/bin/sh\nCTL=$1 CONSOLE=$2\necho $$ > $CTL/../fake.pid\n${guest}\n`, { mode: 0o755 });
  const out: string[] = [], err: string[] = [];
  const sinks: Sinks = { stdout: (b) => out.push(b.toString()), stderr: (b) => err.push(b.toString()) };
  const consoleLog = join(runDir, "console.log");
  const t0 = Date.now();
  const r = await supervise({ qemu: script, args: [ctl, consoleLog], runDir, ctl, consoleLog, timeout, console: false }, sinks);
  const pid = Number(readFileSync(join(runDir, "fake.pid"), "utf8"));
  return { ...r, out: out.join(""), err: err.join(""), ms: Date.now() - t0, pid, runDir };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
};

test("the command's status and output; QEMU is killed as soon as rc is there", async () => {
  const r = await fake(`printf 'one\\n' >> $CTL/stdout; sleep 0.3; printf 'two\\n' >> $CTL/stdout; echo warn >> $CTL/stderr
echo 3 > $CTL/rc.tmp; mv $CTL/rc.tmp $CTL/rc; exec sleep 100`);
  assert.equal(r.outcome, { status: 3, problem: null });
  assert.is(r.out, "one\ntwo\n");
  assert.is(r.err, "warn\n");
  assert.ok(r.ms < 10_000, `did not wait for the 100 s sleep (${r.ms} ms)`);
  assert.not.ok(alive(r.pid), "the stand-in QEMU is gone");
});

test("output written right before QEMU exits by itself is not lost", async () => {
  const r = await fake(`i=0; while [ $i -lt 200 ]; do echo line$i >> $CTL/stdout; i=$((i+1)); done; echo 0 > $CTL/rc`);
  assert.is(r.outcome.status, 0);
  assert.is(r.out.split("\n").filter(Boolean).length, 200);
  assert.is(r.out.split("\n")[199], "line199");
});

test("a VM that stops before the command finished: 125, with what ended it", async () => {
  const r = await fake(`echo 'Kernel panic' >> $CONSOLE; exit 1`);
  assert.is(r.outcome.status, 125);
  assert.match(r.outcome.problem!, /stopped before the command finished \(QEMU exit status 1\)/);
  const i = await fake(`echo "cannot mount the host's root" > $CTL/init-error; exit 0`);
  assert.equal(i.outcome, { status: 125, problem: "the guest's stage-1 init failed: cannot mount the host's root" });
});

test("timeout: 124 and QEMU killed", async () => {
  const r = await fake(`echo started >> $CTL/stdout; exec sleep 100`, 1);
  assert.is(r.outcome.status, 124);
  assert.match(r.outcome.problem!, /within 1s/);
  assert.is(r.out, "started\n", "output up to the timeout is kept");
  assert.ok(r.ms >= 1000 && r.ms < 10_000, `${r.ms} ms`);
  assert.not.ok(alive(r.pid));
});

test("a QEMU that cannot be started: 125", async () => {
  const runDir = join(tmp, "nostart");
  mkdirSync(join(runDir, "ctl"), { recursive: true });
  const err: string[] = [];
  const r = await supervise({ qemu: join(runDir, "no-such-qemu"), args: [], runDir, ctl: join(runDir, "ctl"), consoleLog: join(runDir, "c"), timeout: 5, console: false }, {
    stdout: () => {},
    stderr: (b) => err.push(b.toString()),
  });
  assert.is(r.outcome.status, 125);
  assert.match(err.join(""), /cannot start .*no-such-qemu/);
  assert.ok(existsSync(join(runDir, "qemu.log")));
});

test.run();
