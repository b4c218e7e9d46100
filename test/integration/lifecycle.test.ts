import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, uniqueId, statePid, waitFor, type Sandbox } from "./harness";

const t = hostSuite<{ sb: Sandbox }>("lifecycle");
t.before((ctx) => {
  ctx.sb = sandbox("lifecycle");
});
t.after((ctx) => ctx.sb.cleanup());

t("create -> created, start -> running, kill -> stopped, delete -> gone", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"]));
  const pidFile = join(sb.dir, `${id}.pid`);
  let r = sb.ocirt(["create", "-b", b, "--pid-file", pidFile, id]);
  assert.is(r.status, 0, r.stderr);
  const pidText = readFileSync(pidFile, "utf8");
  assert.match(pidText, /^\d+$/, "pid file: digits, no newline");
  let st = JSON.parse(sb.ocirt(["state", id]).stdout);
  assert.is(st.status, "created");
  assert.is(st.pid, Number(pidText));
  assert.is(st.id, id);
  assert.is(st.bundle, b);
  assert.match(st.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  assert.equal(Object.keys(st), ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", ...(st.annotations ? ["annotations"] : []), "owner"]);
  r = sb.ocirt(["start", id]);
  assert.is(r.status, 0, r.stderr);
  st = JSON.parse(sb.ocirt(["state", id]).stdout);
  assert.is(st.status, "running");
  r = sb.ocirt(["start", id]);
  assert.is(r.status, 1, "start of a running container fails");
  r = sb.ocirt(["delete", id]);
  assert.is(r.status, 1, "delete of a running container without --force fails");
  assert.match(r.stderr, /not stopped/);
  r = sb.ocirt(["kill", id, "KILL"]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(waitFor(() => JSON.parse(sb.ocirt(["state", id]).stdout).status === "stopped"));
  r = sb.ocirt(["kill", id, "TERM"]);
  assert.is(r.status, 1, "kill of a stopped container fails");
  r = sb.ocirt(["delete", id]);
  assert.is(r.status, 0, r.stderr);
  r = sb.ocirt(["state", id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, `container "${id}" does not exist`);
});

t("kill accepts names with and without SIG, and numbers: the container receives that signal", ({ sb }) => {
  const cases: [string, string][] = [["SIGUSR1", "SIGUSR1"], ["USR2", "SIGUSR2"], ["10", "SIGUSR1"], ["hup", "SIGHUP"], ["RTMIN+2", "SIGRTMIN+2"]];
  for (const [sig, name] of cases) {
    const id = uniqueId();
    sb.ids.push(id);
    const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "signal-wait"]));
    // the container's output in a file of its own: the probe prints each signal it receives
    const out = join(sb.dir, `${id}.out`);
    const fd = openSync(out, "w");
    try {
      assert.is(sb.ocirt(["create", "-b", b, id], { stdio: ["ignore", fd, fd] }).status, 0);
    } finally {
      closeSync(fd);
    }
    assert.is(sb.ocirt(["start", id]).status, 0);
    assert.ok(waitFor(() => readFileSync(out, "utf8").includes("ready\n")), "the probe waits for signals");
    const r = sb.ocirt(["kill", id, sig]);
    assert.is(r.status, 0, `${sig}: ${r.stderr}`);
    assert.ok(waitFor(() => readFileSync(out, "utf8").split("\n").length > 2), `${sig}: nothing received`);
    assert.is(readFileSync(out, "utf8"), `ready\n${name}\n`, `kill ${sig}`);
    assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  }
  assert.is(sb.ocirt(["kill", "nosuch", "BOGUS"]).status, 1);
});

t("delete of a created container kills its init; delete --force of a running one", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"]));
  assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
  const pid = statePid(sb, id);
  assert.is(sb.ocirt(["delete", id]).status, 0);
  assert.not.ok(existsSync(`/proc/${pid}/stat`) && readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z");
  const id2 = uniqueId();
  sb.ids.push(id2);
  assert.is(sb.ocirt(["run", "-d", "-b", b, id2]).status, 0);
  assert.is(JSON.parse(sb.ocirt(["state", id2]).stdout).status, "running");
  assert.is(sb.ocirt(["delete", "--force", id2]).status, 0);
});

t("run passes the exit status through, 128+N for signal N", ({ sb }) => {
  for (const [args, want] of [[["/bin/probe", "exit", "3"], 3], [["/bin/probe", "exit", "0"], 0]] as const) {
    const id = uniqueId();
    sb.ids.push(id);
    const r = sb.ocirt(["run", "-b", sb.bundle((c) => (c.process!.args = [...args])), id]);
    assert.is(r.status, want, r.stderr);
    assert.is(sb.ocirt(["state", id]).status, 1, "run removes the container");
  }
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"]));
  const child = require("node:child_process").spawn(require("./harness").OCIRT, ["--root", sb.root, "run", "-b", b, id], { stdio: "ignore" });
  assert.ok(waitFor(() => sb.ocirt(["state", id]).stdout.includes('"running"')));
  sb.ocirt(["kill", id, "KILL"]);
  return new Promise<void>((res) => child.on("exit", (code: number) => {
    assert.is(code, 137);
    res();
  }));
});

t("a second create with the same id fails and leaves the first alone", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"]));
  assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
  const before = sb.ocirt(["state", id]).stdout;
  const r = sb.ocirt(["create", "-b", b, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, "exists");
  assert.is(sb.ocirt(["state", id]).stdout, before);
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t("list shows containers in table, json and quiet forms", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  assert.is(sb.ocirt(["create", "-b", sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"])), id]).status, 0);
  assert.match(sb.ocirt(["list"]).stdout, new RegExp(`^ID\\s+PID\\s+STATUS[\\s\\S]*${id}\\s+\\d+\\s+created`));
  assert.is(JSON.parse(sb.ocirt(["list", "-f", "json"]).stdout)[0].id, id);
  assert.is(sb.ocirt(["list", "-q"]).stdout, `${id}\n`);
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t("concurrent commands on one id serialise: one create wins, one delete wins", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"]));
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  const { OCIRT } = require("./harness") as typeof import("./harness");
  const many = (args: string[], count: number) =>
    Promise.all(Array.from({ length: count }, () => new Promise<number>((res) => spawn(OCIRT, ["--root", sb.root, ...args], { stdio: "ignore" }).on("exit", (c) => res(c ?? -1)))));
  const creates = await many(["create", "-b", b, id], 6);
  assert.equal(creates.filter((c) => c === 0).length, 1, `create exit codes: ${creates}`);
  assert.is(JSON.parse(sb.ocirt(["state", id]).stdout).status, "created");
  // (not --force: a forced delete of a container that is gone succeeds, as runc's)
  const deletes = await many(["delete", id], 6);
  assert.equal(deletes.filter((c) => c === 0).length, 1, `delete exit codes: ${deletes}`);
  assert.is(sb.ocirt(["state", id]).status, 1);
});

t.run();
