// What engines and operators read from ocirt's CLI, as runc 1.1.5 prints it: the
// differences the differential harness (conformance/diff) found, one test each.
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, uniqueId, type Sandbox } from "./harness";

const t = hostSuite<{ sb: Sandbox }>("cli-parity");
t.before((ctx) => {
  ctx.sb = sandbox("cliparity");
});
t.after((ctx) => ctx.sb.cleanup());

function sleeper(sb: Sandbox, patch?: Parameters<Sandbox["bundle"]>[0]): { id: string; bundle: string } {
  const id = uniqueId();
  sb.ids.push(id);
  const bundle = sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    patch?.(c);
  });
  const r = sb.ocirt(["create", "-b", bundle, id]);
  assert.is(r.status, 0, r.stderr);
  return { id, bundle };
}

t("state: owner \"\" and no newline after the JSON, as `runc state`; list names the owner, runc's column padding", ({ sb }) => {
  const { id, bundle } = sleeper(sb);
  const st = sb.ocirt(["state", id]);
  assert.is(st.status, 0, st.stderr);
  assert.ok(st.stdout.endsWith("}"), JSON.stringify(st.stdout.slice(-5)));
  assert.is(JSON.parse(st.stdout).owner, "");
  assert.is(JSON.parse(sb.ocirt(["list", "-f", "json"]).stdout)[0].owner, "root");
  // Go's tabwriter(minwidth 12, padding 3): each column is its widest cell plus 3
  const lines = sb.ocirt(["list"]).stdout.split("\n");
  const created = JSON.parse(st.stdout).created as string;
  assert.is(lines[1]!.indexOf(created), lines[0]!.indexOf("CREATED"));
  assert.is(lines[0]!.indexOf("CREATED") - lines[0]!.indexOf("BUNDLE"), Math.max(12, bundle.length + 3));
  assert.is(lines[0]!.indexOf("OWNER") - lines[0]!.indexOf("CREATED"), Math.max(12, created.length + 3));
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("create: an id in use says \"already exists\"; a missing bundle \"no such file or directory\" (the words engines match)", ({ sb }) => {
  const { id, bundle } = sleeper(sb);
  const log = join(sb.dir, `${id}.log`);
  const dup = sb.ocirt(["--log", log, "--log-format", "json", "create", "-b", bundle, id]);
  assert.is(dup.status, 1);
  assert.match(dup.stderr, /container with given ID already exists/);
  const line = JSON.parse(readFileSync(log, "utf8").trim().split("\n").at(-1)!);
  assert.is(line.level, "error");
  assert.match(line.msg, /already exists/);
  // logrus's time: RFC 3339 in whole seconds
  assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  const other = uniqueId();
  const missing = sb.ocirt(["create", "-b", join(sb.dir, "no-such-bundle"), other]);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /no such file or directory/);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("an unknown command exits 3, as runc (urfave/cli)", ({ sb }) => {
  const r = sb.ocirt(["ocirt-no-such-command"]);
  assert.is(r.status, 3);
  assert.match(r.stderr, /unknown command/);
});

t("exec: no command and an unreadable --process are the runtime's failures: 255, \"exec failed: ...\" with runc's words", ({ sb }) => {
  const { id } = sleeper(sb);
  assert.is(sb.ocirt(["start", id]).status, 0);
  const none = sb.ocirt(["exec", id]);
  assert.is(none.status, 255);
  assert.match(none.stderr, /^exec failed: .*process args cannot be empty/);
  const bad = join(sb.dir, `${id}.process.json`);
  writeFileSync(bad, "{bad");
  const r = sb.ocirt(["exec", "--process", bad, id]);
  assert.is(r.status, 255);
  assert.match(r.stderr, /^exec failed: .*invalid/);
  const gone = sb.ocirt(["exec", "--process", join(sb.dir, "no-such.json"), id]);
  assert.is(gone.status, 255);
  assert.match(gone.stderr, /no such file or directory/);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("uid/gid mappings without a user namespace are ignored, as runc ignores them", ({ sb }) => {
  const { id } = sleeper(sb, (c) => {
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  assert.is(JSON.parse(sb.ocirt(["state", id]).stdout).status, "created");
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("a detached container's stdio is given to its user (runc's fixStdioPermissions); /dev/null and a foreground run's are not", ({ sb }) => {
  const out = join(sb.dir, `stdio-${uniqueId("o")}`);
  writeFileSync(out, "");
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "exit", "0"];
    c.process!.user = { uid: 1000, gid: 1000 };
  });
  const fd = openSync(out, "a");
  try {
    const r = sb.ocirt(["create", "-b", b, id], { stdio: ["ignore", fd, fd] });
    assert.is(r.status, 0, r.stderr);
  } finally {
    closeSync(fd);
  }
  const st = statSync(out);
  assert.equal([st.uid, st.gid], [1000, 0], "owner changed, group kept");
  assert.is(statSync("/dev/null").uid, 0, "/dev/null (stdin here) untouched");
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  // exec -d does the same for the exec'd process's user
  const { id: id2 } = sleeper(sb);
  assert.is(sb.ocirt(["start", id2]).status, 0);
  const out2 = join(sb.dir, `stdio-exec-${uniqueId("o")}`);
  writeFileSync(out2, "");
  const fd2 = openSync(out2, "a");
  try {
    const r = sb.ocirt(["exec", "-d", "--user", "1234:1234", id2, "/bin/probe", "exit", "0"], { stdio: ["ignore", fd2, fd2] });
    assert.is(r.status, 0, r.stderr);
  } finally {
    closeSync(fd2);
  }
  assert.is(statSync(out2).uid, 1234);
  // a foreground run hands over the caller's own stdio: left alone
  const out3 = join(sb.dir, `stdio-run-${uniqueId("o")}`);
  writeFileSync(out3, "");
  const id3 = uniqueId();
  sb.ids.push(id3);
  const fd3 = openSync(out3, "a");
  try {
    const r = sb.ocirt(["run", "-b", b, id3], { stdio: ["ignore", fd3, fd3] });
    assert.is(r.status, 0);
  } finally {
    closeSync(fd3);
  }
  assert.is(statSync(out3).uid, 0);
  assert.ok(existsSync(out3));
  assert.is(sb.ocirt(["delete", "-f", id2]).status, 0);
});

t.run();
