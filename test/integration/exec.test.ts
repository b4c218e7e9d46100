// `ocirt exec`: a process joining a running container, as runc's exec.
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync, writeSync } from "node:fs";
import { native } from "../../src/native";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { sandbox, statePid, uniqueId, waitFor, type Sandbox } from "./harness";
import { ocirtPiped, seqText } from "./util";
import { parseProbeReport } from "../../conformance/probe/report";

const t = hostSuite<{ sb: Sandbox; id: string }>("exec");
t.before((ctx) => {
  ctx.sb = sandbox("exec");
  ctx.id = uniqueId();
  ctx.sb.ids.push(ctx.id);
  const b = ctx.sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    c.process!.env = [...(c.process!.env ?? []), "FROM_CONFIG=1"];
  }, { busybox: true });
  assert.is(ctx.sb.ocirt(["run", "-d", "-b", b, ctx.id]).status, 0);
});
t.after((ctx) => ctx.sb.cleanup());

const ns = (pid: number | string, kind: string) => require("node:fs").readlinkSync(`/proc/${pid}/ns/${kind}`);

t("joins every namespace and the cgroup of the container; exit status passes through", ({ sb, id }) => {
  const r = sb.ocirt(["exec", id, "/bin/probe", "report"]);
  assert.is(r.status, 0, r.stderr);
  const rep = parseProbeReport(r.stdout);
  const init = statePid(sb, id);
  for (const k of ["mnt", "pid", "net", "ipc", "uts"] as const) assert.is(rep.namespaces[k], ns(init, k), k);
  // the same cgroup as the init, both as seen from inside (a cgroup namespace shows "/")
  const initView = sb.ocirt(["exec", id, "/bin/probe", "cat", "/proc/1/cgroup"]);
  assert.is(initView.status, 0, initView.stderr);
  assert.equal(rep.cgroup, initView.stdout.split("\n").filter(Boolean));
  assert.is(rep.hostname, "ocitest");
  assert.ok(rep.pid > 1, "a new pid in the container's pid namespace");
  assert.ok(rep.env.includes("FROM_CONFIG=1"), "the container's env");
  assert.is(rep.capabilities.CapEff, readFileSync(`/proc/${init}/status`, "utf8").match(/CapEff:\s*(\w+)/)![1]);
  assert.equal(rep.fds!.map((f) => f.fd), [0, 1, 2], "nothing but stdio");
  const x = sb.ocirt(["exec", id, "/bin/probe", "exit", "7"]);
  assert.is(x.status, 7, `stdout: ${x.stdout} stderr: ${x.stderr}`);
  // the status also when the program outlives every other thing ocirt waits for
  assert.is(sb.ocirt(["exec", id, "/bin/sh", "-c", "exec 0<&- 1>&- 2>&-; sleep 2; exit 9"]).status, 9);
});

t("--user, --env, --cwd, --additional-gids as runc's", ({ sb, id }) => {
  const r = sb.ocirt(["exec", "-u", "1000:1000", "-e", "X=y", "--cwd", "/tmp", "-g", "10", id, "/bin/probe", "report"]);
  assert.is(r.status, 0, r.stderr);
  const rep = parseProbeReport(r.stdout);
  assert.is(rep.uid, 1000);
  assert.is(rep.gid, 1000);
  assert.equal(rep.groups, [10]);
  assert.is(rep.cwd, "/tmp");
  assert.ok(rep.env.includes("X=y"));
});

t("--process FILE, --detach and --pid-file", ({ sb, id }) => {
  const pf = join(sb.dir, "exec-process.json");
  writeFileSync(pf, JSON.stringify({ args: ["/bin/probe", "sleep", "inf"], cwd: "/", env: ["PATH=/bin"], user: { uid: 0, gid: 0 } }));
  const pidFile = join(sb.dir, "exec.pid");
  const r = sb.ocirt(["exec", "-d", "--pid-file", pidFile, "-p", pf, id]);
  assert.is(r.status, 0, r.stderr);
  const pid = Number(readFileSync(pidFile, "utf8"));
  assert.ok(pid > 0);
  assert.is(ns(pid, "pid"), ns(statePid(sb, id), "pid"));
  assert.match(readFileSync(`/proc/${pid}/cmdline`, "utf8"), /probe\0sleep\0inf/);
  assert.ok(JSON.parse(sb.ocirt(["ps", "-f", "json", id]).stdout).includes(pid), "in the container's cgroup");
  // a process.json without capabilities gets the container's, not every one (runc's rule)
  const caps = (p: number) => /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${p}/status`, "utf8"))![1];
  assert.is(caps(pid), caps(statePid(sb, id)));
});

t("errors exit 255 (runc's, apart from the program's own statuses), \"exec failed: \" and the field; a stopped container refuses", ({ sb, id }) => {
  const r = sb.ocirt(["exec", id, "/nonexistent"]);
  assert.is(r.status, 255);
  assert.match(r.stderr, /^exec failed: process\.args\[0\] \(\/nonexistent\): .*no such file/m);
  const missing = sb.ocirt(["exec", "nosuch", "/bin/probe"]);
  assert.is(missing.status, 255);
  assert.match(missing.stderr, /^exec failed: container "nosuch" does not exist\n$/);
  const pf = sb.ocirt(["exec", "--pid-file", "/nonexistent-dir/x.pid", id, "/bin/probe", "exit", "0"]);
  assert.is(pf.status, 255);
  assert.match(pf.stderr, /^exec failed: --pid-file: writing \/nonexistent-dir\/x\.pid: no such file or directory \(ENOENT\)\n$/);
  const id2 = uniqueId();
  sb.ids.push(id2);
  assert.is(sb.ocirt(["run", "-b", sb.bundle((c) => (c.process!.args = ["/bin/probe", "exit", "0"])), "--keep", id2]).status, 0);
  const s = sb.ocirt(["exec", id2, "/bin/probe", "exit", "0"]);
  assert.is(s.status, 255);
  assert.match(s.stderr, /cannot exec in a stopped container/);
});

const V1 = existsSync("/sys/fs/cgroup/memory/cgroup.procs");

testIf(t, V1 ? null : "a cgroup v2 host (the v2 form is the next test)", "--cgroup joins an existing sub-cgroup in the named hierarchies only (v1)", ({ sb, id }) => {
  const init = statePid(sb, id);
  const own = (h: string) => readFileSync(`/proc/${init}/cgroup`, "utf8").split("\n").find((l) => l.split(":")[1] === h)!.split(":")[2]!;
  const memDir = `/sys/fs/cgroup/memory${own("memory")}/sub`;
  mkdirSync(memDir);
  try {
    const r = sb.ocirt(["exec", "--cgroup", "memory:sub", id, "/bin/probe", "report"]);
    assert.is(r.status, 0, r.stderr);
    const cg = parseProbeReport(r.stdout).cgroup!;
    assert.ok(cg.some((l) => l.split(":")[1] === "memory" && l.endsWith(`${own("memory")}/sub`)), cg.join(" "));
    assert.ok(cg.some((l) => l.split(":")[1] === "pids" && l.endsWith(own("pids"))), "other hierarchies: the container's cgroup");
    const bad = sb.ocirt(["exec", "--cgroup", "pids:nosuch", id, "/bin/probe", "exit", "0"]);
    assert.is(bad.status, 255);
    assert.match(bad.stderr, /does not exist \(exec joins existing sub-cgroups only\)/);
  } finally {
    rmdirSync(memDir);
  }
});

testIf(t, V1 ? "a cgroup v1/hybrid host (the v1 form is the test before)" : null, "--cgroup on cgroup v2: the process starts in the sub-cgroup; controllers and missing paths are refused", ({ sb, id }) => {
  const init = statePid(sb, id);
  const own = readFileSync(`/proc/${init}/cgroup`, "utf8").trim().replace(/^0::/, "");
  const sub = `/sys/fs/cgroup${own}/sub`;
  mkdirSync(sub);
  try {
    const pidFile = join(sb.dir, "sub.pid");
    const r = sb.ocirt(["exec", "-d", "--pid-file", pidFile, "--cgroup", "sub", id, "/bin/probe", "sleep", "inf"]);
    assert.is(r.status, 0, r.stderr);
    const pid = Number(readFileSync(pidFile, "utf8"));
    assert.is(readFileSync(`/proc/${pid}/cgroup`, "utf8").trim(), `0::${own}/sub`);
    process.kill(pid, "SIGKILL");
    const ctrl = sb.ocirt(["exec", "--cgroup", "memory:sub", id, "/bin/probe", "exit", "0"]);
    assert.is(ctrl.status, 255);
    assert.match(ctrl.stderr, /the container has no memory cgroup/);
    const missing = sb.ocirt(["exec", "--cgroup", "nosuch", id, "/bin/probe", "exit", "0"]);
    assert.is(missing.status, 255);
    assert.match(missing.stderr, /does not exist \(exec joins existing sub-cgroups only\)/);
    assert.ok(waitFor(() => readFileSync(`${sub}/cgroup.procs`, "utf8").trim() === "", 15_000), "the killed process leaves the sub-cgroup");
  } finally {
    // the killed process may take a moment to be released (slow guests): an rmdir that
    // fails must not hide the assertion that failed first
    const gone = waitFor(() => {
      try {
        rmdirSync(sub);
        return true;
      } catch {
        return false;
      }
    }, 15_000);
    if (!gone) console.error(`exec.test.ts: ${sub} could not be removed`);
  }
});

// runc's setupProcessPipes: a foreground exec without a terminal never hands the
// process ocirt's own stdio, but pipes that ocirt copies; -d hands ocirt's over
t("foreground exec: stdio are pipes of the process's own, owned by its user (root's group), as runc; -d gives the caller's", ({ sb, id }) => {
  const r = sb.ocirt(["exec", id, "/bin/probe", "report"]);
  assert.is(r.status, 0, r.stderr);
  const fds = parseProbeReport(r.stdout).fds!;
  const targets = fds.slice(0, 3).map((f) => f.target ?? "");
  for (const tg of targets) assert.match(tg, /^pipe:\[\d+\]$/, targets.join(" "));
  assert.is(new Set(targets).size, 3, "three pipes");
  const own = ocirtPiped(sb, ["exec", "-u", "1000:1000", id, "sh", "-c", "stat -L -c '%u %g %a' /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; readlink /proc/self/fd/0"]);
  assert.is(own.status, 0, own.stderr.toString());
  const lines = own.stdout.toString().split("\n");
  assert.equal(lines.slice(0, 3), ["1000 0 600", "1000 0 600", "1000 0 600"]);
  assert.match(lines[3]!, /^pipe:/);
  // -d: the caller's own (here: /dev/null and sb.ocirt's files)
  const pidFile = join(sb.dir, "exec-fds.pid");
  const d = sb.ocirt(["exec", "-d", "--pid-file", pidFile, id, "sh", "-c", "for f in 0 1 2; do echo $(readlink /proc/$$/fd/$f) >&2; done"]);
  assert.is(d.status, 0, d.stderr);
  const pid = Number(readFileSync(pidFile, "utf8"));
  assert.ok(waitFor(() => !existsSync(`/proc/${pid}`)), "the detached process ends");
  const err = readFileSync(join(sb.dir, `err-${process.pid}`), "utf8").split("\n");
  assert.is(err[0], "/dev/null");
  assert.is(err[1], join(sb.dir, `out-${process.pid}`));
  assert.is(err[2], join(sb.dir, `err-${process.pid}`));
});

t("foreground exec: megabytes of stdout arrive complete and in order, stderr apart, even from a process still writing after the command exited", ({ sb, id }) => {
  const r = ocirtPiped(sb, ["exec", id, "sh", "-c", "seq 1 200000 >&2 & seq 1 700000; exit 3"]);
  assert.is(r.status, 3, r.stderr.toString().slice(0, 200));
  assert.ok(r.stdout.length > 4_000_000, `${r.stdout.length} bytes`);
  assert.ok(r.stdout.toString() === seqText(700000), "stdout complete and in order");
  assert.ok(r.stderr.toString() === seqText(200000), "stderr complete and in order, not mixed with stdout");
});

t("foreground exec: stdin reaches the process whole, then EOF (from a pipe and from a file); signals and exit statuses pass", ({ sb, id }) => {
  const data = randomBytes(3 << 20);
  let r = ocirtPiped(sb, ["exec", id, "sh", "-c", "cat; echo EOF-seen"], { input: data });
  assert.is(r.status, 0, r.stderr.toString());
  assert.ok(r.stdout.subarray(0, data.length).equals(data), "stdin delivered whole");
  assert.is(r.stdout.subarray(data.length).toString(), "EOF-seen\n");
  const file = join(sb.dir, "stdin.bin");
  writeFileSync(file, data);
  const fd = openSync(file, "r");
  try {
    r = ocirtPiped(sb, ["exec", id, "sh", "-c", "md5sum; echo EOF-seen >&2"], { stdin: fd });
  } finally {
    closeSync(fd);
  }
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString().split(" ")[0], require("node:crypto").createHash("md5").update(data).digest("hex"));
  assert.is(r.stderr.toString(), "EOF-seen\n");
  // a pipe of ours as ocirt's stdin: delivered, then EOF; its file description's
  // flags are left alone (it is the caller's)
  const n = native();
  const [pr, pw] = n.pipe();
  writeSync(pw, "piped\n");
  n.close(pw);
  try {
    r = ocirtPiped(sb, ["exec", id, "sh", "-c", "cat; echo EOF-seen"], { stdin: pr });
    const flags = parseInt(/^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${pr}`, "utf8"))![1]!, 8);
    assert.is(flags & 0o4000, 0, "stdin's file description stays blocking (no O_NONBLOCK)");
  } finally {
    n.close(pr);
  }
  assert.is(r.stdout.toString(), "piped\nEOF-seen\n");
  // a process that never reads its stdin: ocirt does not wait for it to
  r = ocirtPiped(sb, ["exec", id, "sh", "-c", "exit 42"], { input: data.subarray(0, 16384) });
  assert.is(r.status, 42);
  r = ocirtPiped(sb, ["exec", id, "sh", "-c", "kill -9 $$"]);
  assert.is(r.status, 137);
});

t("foreground exec waits for the output of a process left in the background (runc's tty.Close)", ({ sb, id }) => {
  const r = ocirtPiped(sb, ["exec", id, "sh", "-c", "(sleep 1; echo late) & echo early"]);
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), "early\nlate\n");
  assert.ok(r.ms >= 900, `${r.ms} ms`);
});

t.run();
