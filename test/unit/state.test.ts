import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ContainerHandle,
  StateStore,
  processStartTime,
  rfc3339Nano,
  statStartTime,
  validateId,
  type ContainerRecord,
} from "../../src/state";
import { ExistsError, NotFoundError, StateError } from "../../src/errors";

const tmp = mkdtempSync(join(tmpdir(), "ocirt-state-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshRoot = () => join(tmp, `root${n++}`);

function record(over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    ociVersion: "1.3.0",
    id: "c1",
    pid: process.pid,
    bundle: "/b",
    rootfs: "/b/rootfs",
    created: "2024-01-02T03:04:05.123456789Z",
    owner: "root",
    initStartTime: processStartTime(process.pid)!,
    phase: "created",
    ...over,
  };
}

function stateError(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, StateError);
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable("should throw");
}

// ---- validateId ------------------------------------------------------------

test("validateId accepts runc's characters", () => {
  for (const id of ["a", "A", "0", "123", "my-container_1.2+3", "...x", "a..b", "x.", "-", "_", "+", "a".repeat(1024)]) validateId(id);
});

test("validateId rejects everything else", () => {
  stateError(() => validateId(""), /empty/);
  for (const id of [".", "..", "a/b", "/a", "a b", "a,b", "a:b", "a\n", "ä", "a*", "a\0b", "../x", "x/..", "id$"]) {
    stateError(() => validateId(id), /invalid id format/);
  }
});

// ---- rfc3339Nano -----------------------------------------------------------

test("rfc3339Nano is Go's RFC3339Nano in UTC", () => {
  const s = 1704164645n; // 2024-01-02T03:04:05Z
  assert.is(rfc3339Nano(s * 1000000000n), "2024-01-02T03:04:05Z");
  assert.is(rfc3339Nano(s * 1000000000n + 123456789n), "2024-01-02T03:04:05.123456789Z");
  assert.is(rfc3339Nano(s * 1000000000n + 120000000n), "2024-01-02T03:04:05.12Z");
  assert.is(rfc3339Nano(s * 1000000000n + 100n), "2024-01-02T03:04:05.0000001Z");
  assert.is(rfc3339Nano(s * 1000000000n + 1n), "2024-01-02T03:04:05.000000001Z");
  assert.is(rfc3339Nano(s * 1000000000n + 999999999n), "2024-01-02T03:04:05.999999999Z");
  assert.is(rfc3339Nano(0n), "1970-01-01T00:00:00Z");
  // the shape Go parses back
  assert.match(rfc3339Nano(BigInt(Date.now()) * 1000000n + 7n), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
});

// ---- /proc/<pid>/stat ------------------------------------------------------

function statText(comm: string, state = "S", start = "172766"): string {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime ...
  return `4242 (${comm}) ${state} 1 4242 4242 0 -1 4194560 99 0 0 0 0 0 0 0 20 0 1 0 ${start} 3133440 378 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n`;
}

test("statStartTime reads field 22 whatever the comm holds", () => {
  assert.is(statStartTime(statText("cat")), "172766");
  assert.is(statStartTime(statText("my prog")), "172766");
  assert.is(statStartTime(statText("a) b (c")), "172766");
  assert.is(statStartTime(statText(") R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 99")), "172766");
  assert.is(statStartTime(statText("))", "R", "5")), "5");
  assert.is(statStartTime(statText("x", "Z")), undefined, "a zombie is not alive");
  assert.is(statStartTime(statText("x", "X")), undefined);
  assert.is(statStartTime(""), undefined);
  assert.is(statStartTime("garbage"), undefined);
  assert.is(statStartTime("1 (x) S 1 2"), undefined, "truncated");
});

test("processStartTime of live and dead processes", () => {
  const mine = processStartTime(process.pid);
  assert.match(mine ?? "", /^\d+$/);
  assert.is(processStartTime(process.pid), mine, "stable");
  const r = spawnSync("true");
  assert.is(processStartTime(r.pid!), undefined);
  assert.is(processStartTime(0x3fffffff), undefined);
});

// ---- the store -------------------------------------------------------------

test("create makes <root>/<id> with its state.json already in it, and validates the id", () => {
  const root = freshRoot();
  const s = new StateStore(root);
  const h = s.create("c1", record({ id: "c1", phase: "creating" }));
  assert.ok(statSync(join(root, "c1")).isDirectory());
  assert.is(h.dir, join(root, "c1"));
  assert.is(h.exists(), true);
  assert.is(h.read().phase, "creating");
  assert.equal(readdirSync(root), ["c1"], "no temporary directory left");
  assert.is(statSync(h.dir).mode & 0o777, 0o711);
  assert.ok(h.isBusy(), "locked by its creator");
  h.unlock();
  stateError(() => s.create("../x", record({ id: "../x" })), /invalid id/);
  stateError(() => s.create("", record({ id: "" })), /empty/);
  assert.not.ok(existsSync(join(root, "..", "x")));
});

test("create is exclusive: a duplicate is ExistsError and touches nothing", () => {
  const root = freshRoot();
  const s = new StateStore(root);
  const h = s.create("dup", record({ id: "dup" }));
  h.write(record({ id: "dup" }));
  h.unlock();
  const before = readFileSync(h.statePath, "utf8");
  const mtime = statSync(h.dir).mtimeMs;
  try {
    s.create("dup", record({ id: "dup" }));
    assert.unreachable("duplicate create");
  } catch (err) {
    assert.instance(err, ExistsError);
    assert.match((err as Error).message, /container with given ID already exists: dup/);
  }
  assert.is(readFileSync(h.statePath, "utf8"), before);
  assert.equal(readdirSync(h.dir), ["state.json"]);
  assert.is(statSync(h.dir).mtimeMs, mtime);
  // nor for a create still in progress
  const h2 = s.create("half", record({ id: "half", phase: "creating" }));
  try {
    s.create("half", record({ id: "half" }));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ExistsError);
  }
  h2.unlock();
});

test("create: an empty <root>/<id> (an older crash's) is replaced; a dead create's temporary directory is swept", () => {
  const root = freshRoot();
  const s = new StateStore(root);
  mkdirSync(join(root, "old"), { recursive: true });
  mkdirSync(join(root, ".creating-deadbeef"));
  writeFileSync(join(root, ".creating-deadbeef", "state.json"), "{}");
  const h = s.create("old", record({ id: "old" }));
  assert.is(h.read().id, "old");
  h.unlock();
  assert.equal(readdirSync(root).sort(), ["old"]);
});

test("create: another create's temporary directory, made but not locked yet, is not swept (concurrent creates); nor listed", async () => {
  const root = freshRoot();
  const s = new StateStore(root);
  mkdirSync(root, { recursive: true });
  const t = join(root, ".creating-racer");
  // another create, as StateStore.create runs it: the root shared-locked while its
  // temporary dir exists unlocked, then that dir locked and the root released
  const script = `exec 8<"$1"; flock -s 8; mkdir "$2"; sleep 0.4; exec 9<"$2"; flock -x 9; exec 8<&-; sleep 0.6; [ -d "$2" ] && echo kept || echo gone`;
  const other = spawn("sh", ["-c", script, "sh", root, t], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  other.stdout.on("data", (b) => (out += b));
  const exited = new Promise((res) => other.on("exit", res));
  const end = Date.now() + 5000;
  while (!existsSync(t) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(existsSync(t), "the other create made its directory");
  const h = s.create("mine", record({ id: "mine" }));
  assert.equal(s.ids(), ["mine"], "a temporary directory is no container");
  h.unlock();
  await exited;
  assert.is(out.trim(), "kept");
});

test("create: parallel creates in one root never sweep each other's temporary directory", async () => {
  // a create sweeps the temporary dirs of dead creates; it must not take one that
  // another create has just made and not locked yet (the soak's 50 parallel
  // lifecycles saw "cannot create state directory ...: no such file or directory")
  const root = freshRoot();
  mkdirSync(root);
  const worker = join(tmp, "parallel-create.js");
  writeFileSync(worker, `
    const { StateStore } = require(${JSON.stringify(join(__dirname, "..", "..", "src", "state.ts"))});
    const [root, tag, count] = process.argv.slice(2);
    const s = new StateStore(root);
    const bad = [];
    for (let i = 0; i < Number(count); i++) {
      const id = tag + "-" + i;
      try {
        s.create(id, { ociVersion: "1.3.0", id, pid: 0, bundle: "/b", rootfs: "/r", created: "x", owner: "root", initStartTime: "", phase: "creating" }).remove();
      } catch (e) { bad.push(e.message); }
    }
    process.stdout.write(JSON.stringify(bad));
  `);
  const run = (tag: string) => new Promise<string[]>((resolve, reject) => {
    const c = spawn(process.execPath, ["-r", "tsx/cjs", worker, root, tag, "250"], { cwd: join(__dirname, "..", ".."), stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("error", reject);
    c.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`worker ${tag} exited ${code}`))));
  });
  const bad = (await Promise.all(["a", "b", "c", "d"].map(run))).flat();
  assert.equal(bad.slice(0, 3), [], `${bad.length} creates failed`);
  assert.equal(readdirSync(root), []);
});

test("open of a missing id to change it (delete --force) removes the temporary dirs of dead creates, not of live ones", () => {
  // a create SIGKILLed between making its temporary dir and renaming it to <root>/<id>
  // leaves only that dir: delete --force of the id must not leave it behind
  const root = freshRoot();
  const s = new StateStore(root);
  mkdirSync(join(root, ".creating-dead1"), { recursive: true });
  mkdirSync(join(root, ".creating-dead2"));
  writeFileSync(join(root, ".creating-dead2", "state.json"), "{}");
  mkdirSync(join(root, ".creating-live"));
  const busy = new ContainerHandle(s, "", join(root, ".creating-live"));
  busy.lock();
  assert.throws(() => s.open("missing", { lock: false }), (e: unknown) => e instanceof NotFoundError);
  assert.equal(readdirSync(root).sort(), [".creating-dead1", ".creating-dead2", ".creating-live"], "a read-only open changes nothing");
  assert.throws(() => s.open("missing"), (e: unknown) => e instanceof NotFoundError);
  assert.equal(readdirSync(root), [".creating-live"], "the live create's dir is kept");
  busy.unlock();
});

test("create: a root that cannot be made is one line naming --root", () => {
  const file = join(freshRoot() + "-file");
  writeFileSync(file, "");
  stateError(() => new StateStore(join(file, "sub")).create("x", record({ id: "x" })), /^cannot create the state root .*: .*\(ENOTDIR\)$/);
});

test("write is atomic: a temp file renamed over state.json, none left", () => {
  const root = freshRoot();
  const h = new StateStore(root).create("w", record({ id: "w" }));
  const rec = record({ id: "w" });
  h.write(rec);
  assert.equal(JSON.parse(readFileSync(h.statePath, "utf8")), rec);
  assert.equal(readdirSync(h.dir), ["state.json"]);
  assert.is(statSync(h.statePath).mode & 0o777, 0o600);
  // a reader holding the old file keeps seeing a whole document (rename, not truncate)
  const ino = statSync(h.statePath).ino;
  h.write({ ...rec, pid: 1 });
  assert.is.not(statSync(h.statePath).ino, ino, "a new inode replaced the old one");
  assert.is(JSON.parse(readFileSync(h.statePath, "utf8")).pid, 1);
  assert.equal(readdirSync(h.dir), ["state.json"]);
  h.unlock();
});

test("write: the record this handle wrote last is not written again, until the lock was given up", () => {
  const root = freshRoot();
  const rec = record({ id: "same" });
  const h = new StateStore(root).create("same", rec);
  const ino = statSync(h.statePath).ino;
  h.write({ ...rec });
  assert.is(statSync(h.statePath).ino, ino, "the same record again: no new file");
  h.write({ ...rec, pid: 1 });
  const changed = statSync(h.statePath).ino;
  assert.is.not(changed, ino, "a changed record is written");
  // another command may write state.json between our locks: then ours is written again
  h.unlock();
  writeFileSync(h.statePath, JSON.stringify({ ...rec, pid: 2 }));
  h.lock();
  h.write({ ...rec, pid: 1 });
  assert.is(JSON.parse(readFileSync(h.statePath, "utf8")).pid, 1, "written after a new lock");
  h.unlock();
});

test("open: missing, half-created and corrupt containers", () => {
  const root = freshRoot();
  const s = new StateStore(root);
  try {
    s.open("nosuch");
    assert.unreachable();
  } catch (err) {
    assert.instance(err, NotFoundError);
    assert.is((err as Error).message, 'container "nosuch" does not exist');
  }
  // a directory without state.json (only an older ocirt left those): not a container,
  // and removed once nobody holds it
  mkdirSync(join(root, "half"), { recursive: true });
  try {
    s.open("half", { lock: false });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, NotFoundError);
  }
  assert.not.ok(existsSync(join(root, "half")));
  s.create("half", record({ id: "half" })).unlock();
  writeFileSync(join(root, "half", "state.json"), "{not json");
  stateError(() => s.open("half", { lock: false }).read(), /corrupt/);
  stateError(() => s.open("a/b"), /invalid id/);
});

test("ids lists container directories, sorted; an absent root is empty", () => {
  assert.equal(new StateStore(join(tmp, "absent")).ids(), []);
  const root = freshRoot();
  const s = new StateStore(root);
  for (const id of ["b", "a", "10"]) s.create(id, record({ id })).unlock();
  writeFileSync(join(root, "file"), "");
  mkdirSync(join(root, "bad name"));
  assert.equal(s.ids(), ["10", "a", "b"]);
});

// ---- status ----------------------------------------------------------------

test("status: creating while the creator holds the lock, then stopped", () => {
  const s = new StateStore(freshRoot());
  const h = s.create("c", record({ id: "c" }));
  h.write(record({ id: "c", phase: "creating" }));
  assert.is(h.status(), "creating");
  h.unlock();
  assert.is(h.status(), "stopped", "a create that died");
});

test("status: created while exec.fifo exists, running after, paused when the freezer says so", () => {
  const s = new StateStore(freshRoot());
  const h = s.create("c", record({ id: "c" }));
  const rec = record({ id: "c" });
  h.write(rec);
  writeFileSync(h.fifoPath, "");
  assert.is(h.status(rec), "created");
  rmSync(h.fifoPath);
  assert.is(h.status(rec), "running");
  assert.is(h.status(rec, () => true), "paused");
  assert.is(h.status(rec, () => false), "running");
  h.unlock();
});

test("status: stopped when the pid is dead, 0, or recycled (other start time)", async () => {
  const s = new StateStore(freshRoot());
  const h = s.create("c", record({ id: "c" }));
  const dead = spawnSync("true").pid!;
  assert.is(h.status(record({ id: "c", pid: dead })), "stopped");
  assert.is(h.status(record({ id: "c", pid: 0 })), "stopped");
  const recycled = record({ id: "c", initStartTime: String(Number(processStartTime(process.pid)) + 1) });
  assert.is(h.status(recycled), "stopped");
  assert.is(h.initAlive(recycled), false);
  // the phase is stopped even if a process with that pid lives
  writeFileSync(h.fifoPath, "");
  assert.is(h.status(record({ id: "c", phase: "stopped", pid: 0 })), "stopped");
  h.unlock();
});

test("status: an exited init nobody reaped yet (a zombie) is stopped", async () => {
  const s = new StateStore(freshRoot());
  const h = s.create("z", record({ id: "z" }));
  // the shell execs into sleep, which never reaps its backgrounded child: a zombie for a while
  const parent = spawn("sh", ["-c", "sleep 0.1 & echo $!; exec sleep 5"], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const pid = await new Promise<number>((resolve) => parent.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
    const start = processStartTime(pid);
    assert.ok(start, "alive at first");
    const rec = record({ id: "z", pid, initStartTime: start! });
    assert.is(h.status(rec), "running");
    let state = "";
    for (let i = 0; i < 100 && state !== "Z"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = readFileSync(`/proc/${pid}/stat`, "latin1").replace(/^.*\) /s, "")[0]!;
    }
    assert.is(state, "Z", "the child became a zombie");
    assert.is(h.status(rec), "stopped");
    assert.is(h.output(rec).pid, 0);
  } finally {
    parent.kill("SIGKILL");
    h.unlock();
  }
});

// ---- output ----------------------------------------------------------------

test("output: runc's field order (annotations before owner), pid 0 when stopped, annotations only when set", () => {
  const s = new StateStore(freshRoot());
  const h = s.create("c1", record({ id: "c1" }));
  const rec = record({ annotations: { a: "b" }, runtime: { secret: 1 } });
  h.write(rec);
  const running = h.output(rec, "running");
  assert.equal(Object.keys(running), ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"]);
  assert.is(running.pid, process.pid);
  assert.is(running.status, "running");
  assert.equal(running.annotations, { a: "b" });
  const stopped = h.output(rec, "stopped");
  assert.is(stopped.pid, 0);
  for (const ann of [undefined, {}]) {
    const out = h.output({ ...rec, annotations: ann }, "created");
    assert.equal(Object.keys(out), ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"]);
  }
  // derived status when none is given
  writeFileSync(h.fifoPath, "");
  assert.is(h.output(rec).status, "created");
  assert.is(
    JSON.stringify(h.output(rec, "created")),
    `{"ociVersion":"1.3.0","id":"c1","pid":${process.pid},"status":"created","bundle":"/b","rootfs":"/b/rootfs","created":"2024-01-02T03:04:05.123456789Z","annotations":{"a":"b"},"owner":"root"}`,
  );
  // `runc state` leaves owner empty; `runc list` names the user
  assert.is(h.output(rec, "created", "").owner, "");
  h.unlock();
});

test("remove deletes the state directory", () => {
  const s = new StateStore(freshRoot());
  const h = s.create("gone", record({ id: "gone" }));
  h.write(record({ id: "gone" }));
  h.remove();
  assert.not.ok(existsSync(h.dir));
  assert.equal(s.ids(), []);
});

test.run();
