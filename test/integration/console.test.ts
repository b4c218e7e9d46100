// process.terminal: the pty goes to --console-socket as containerd's shim expects;
// without a socket, a foreground `run` relays it itself.
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, uniqueId, waitFor, type Sandbox } from "./harness";

const t = hostSuite<{ sb: Sandbox }>("console");
t.before((ctx) => {
  ctx.sb = sandbox("console");
});
t.after((ctx) => ctx.sb.cleanup());

const RECEIVER = join(__dirname, "fixtures", "console-receiver.py");

t("create --console-socket hands the pty master over; the process runs on that terminal", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const sock = join(sb.dir, `${id}.sock`);
  const out = join(sb.dir, `${id}.out`);
  const recv = spawn("python3", [RECEIVER, sock, out, "typed\n"], { stdio: "ignore" });
  assert.ok(waitFor(() => existsSync(out + ".ready")), "receiver listening");
  const b = sb.bundle((c) => {
    c.process!.terminal = true;
    c.process!.consoleSize = { height: 30, width: 100 };
    c.process!.args = ["/bin/sh", "-c", "read line; echo got=$line; tty; stty size; [ -t 0 ] && echo stdin-is-tty"];
  }, { busybox: true });
  const r = sb.ocirt(["create", "--console-socket", sock, "-b", b, id]);
  assert.is(r.status, 0, r.stderr);
  // the receiver writes the name once it has taken the fd: a moment after create returns
  assert.ok(waitFor(() => existsSync(out + ".name") && readFileSync(out + ".name", "utf8") !== ""), "the receiver got the pty");
  // the name sent with the fd is the master's, "/dev/ptmx", as runc (containerd/console) sends it
  assert.is(readFileSync(out + ".name", "utf8"), "/dev/ptmx");
  assert.is(sb.ocirt(["start", id]).status, 0);
  await new Promise<void>((res) => recv.on("exit", () => res()));
  const text = readFileSync(out, "utf8");
  assert.match(text, /got=typed/);
  assert.match(text, /\/dev\/pts\/\d+/);
  assert.match(text, /30 100/);
  assert.match(text, /stdin-is-tty/);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("a terminal without a console socket: refused for create, relayed by a foreground run", ({ sb }) => {
  const b = sb.bundle((c) => {
    c.process!.terminal = true;
    c.process!.args = ["/bin/sh", "-c", "tty; echo relayed"];
  }, { busybox: true });
  const id = uniqueId();
  sb.ids.push(id);
  const r = sb.ocirt(["create", "-b", b, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^process\.terminal: cannot allocate a terminal for a detached container without --console-socket/);
  const id2 = uniqueId();
  sb.ids.push(id2);
  const run = sb.ocirt(["run", "-b", b, id2]);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /\/dev\/pts\/\d+\r?\n/);
  assert.match(run.stdout, /relayed/);
});

t("--console-socket without a terminal is refused", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const r = sb.ocirt(["create", "--console-socket", "/nonexistent.sock", "-b", sb.bundle(), id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^process\.terminal: --console-socket is only for a container with a terminal/);
});

void spawnSync;
t("exec -t: relayed in the foreground, or sent to --console-socket", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  assert.is(sb.ocirt(["run", "-d", "-b", sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"]), { busybox: true }), id]).status, 0);
  const r = sb.ocirt(["exec", "-t", id, "/bin/sh", "-c", "tty; echo in-exec"]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+\r?\n/);
  assert.match(r.stdout, /in-exec/);
  const sock = join(sb.dir, `${id}-exec.sock`);
  const out = join(sb.dir, `${id}-exec.out`);
  const recv = spawn("python3", [RECEIVER, sock, out], { stdio: "ignore" });
  assert.ok(waitFor(() => existsSync(out + ".ready")));
  const d = sb.ocirt(["exec", "-t", "-d", "--console-socket", sock, id, "/bin/sh", "-c", "echo via-socket"]);
  assert.is(d.status, 0, d.stderr);
  await new Promise<void>((res) => recv.on("exit", () => res()));
  assert.match(readFileSync(out, "utf8"), /via-socket/);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t.run();
