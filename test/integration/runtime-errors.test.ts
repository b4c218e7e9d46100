// What engines and operators see when something is wrong: exit codes, one-line
// errors that name the field or step, and nothing left behind. Each test guards a
// fix (issue "Hardening" and "Parity with runc").
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { assertNothingLeft, OCIRT, sandbox, uniqueId, waitFor, type Sandbox } from "./harness";
import { createFails } from "./util";

const t = hostSuite<{ sb: Sandbox }>("runtime-errors");
t.before((ctx) => {
  ctx.sb = sandbox("errors");
});
t.after((ctx) => ctx.sb.cleanup());

t("delete --force of a container that does not exist succeeds silently; without --force it is an error", ({ sb }) => {
  const f = sb.ocirt(["delete", "--force", "nosuch"]);
  assert.equal([f.status, f.stdout, f.stderr], [0, "", ""]);
  const n = sb.ocirt(["delete", "nosuch"]);
  assert.is(n.status, 1);
  assert.is(n.stderr, 'container "nosuch" does not exist\n');
});

t("kill ID 0 checks the container is alive: 0 while it runs, 'container not running' after", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  assert.is(sb.ocirt(["run", "-d", "-b", sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"])), id]).status, 0);
  const k = sb.ocirt(["kill", id, "0"]);
  assert.equal([k.status, k.stderr], [0, ""]);
  assert.is(JSON.parse(sb.ocirt(["state", id]).stdout).status, "running", "signal 0 does nothing");
  const bad = sb.ocirt(["kill", id, "99"]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /^kill: unable to signal init: invalid argument \(EINVAL\)\n$/);
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 0);
  assert.ok(waitFor(() => JSON.parse(sb.ocirt(["state", id]).stdout).status === "stopped"));
  const after = sb.ocirt(["kill", id, "0"]);
  assert.is(after.status, 1);
  assert.match(after.stderr, /container not running/);
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t("config.json that is a device or a fifo: one line, at once, nothing made", ({ sb }) => {
  for (const [name, make] of [["zero", (p: string) => symlinkSync("/dev/zero", p)], ["fifo", (p: string) => execFileSync("mkfifo", [p])]] as const) {
    const b = join(sb.dir, `bundle-${name}`);
    mkdirSync(b);
    make(join(b, "config.json"));
    const id = uniqueId(name);
    const r = sb.ocirt(["create", "-b", b, id], { timeout: 20_000 });
    assert.is(r.status, 1, `${name}: ${r.stderr}`);
    assert.is(r.stderr, `config.json: is not a regular file in bundle "${b}"\n`);
    assertNothingLeft(sb.root, [id]);
  }
});

t("JSON nested deeper than Go's decoder allows is refused in one line; deep nesting inside it is ignored like any unknown property", ({ sb }) => {
  const base = JSON.parse(readFileSync(join(sb.bundle(), "config.json"), "utf8"));
  const write = (depth: number) => {
    const b = join(sb.dir, `deep-${depth}`);
    mkdirSync(b);
    const text = JSON.stringify(base).slice(0, -1) + `,"x-unknown":${"[".repeat(depth)}${"]".repeat(depth)},"y-unknown":{"n":99999999999999999999999}}`;
    writeFileSync(join(b, "config.json"), text);
    return b;
  };
  const ok = sb.ocirt(["validate", "-b", write(3000)]);
  assert.equal([ok.status, ok.stdout, ok.stderr], [0, "valid\n", ""]);
  const deep = sb.ocirt(["validate", "-b", write(10001)]);
  assert.is(deep.status, 1);
  assert.is(deep.stderr, "config.json: invalid JSON: exceeded max depth (10000)\n");
  // and a container made from it still runs (its state.json keeps only what ocirt knows)
  const id = uniqueId("deep");
  sb.ids.push(id);
  const r = sb.ocirt(["run", "-b", write(2999), id]);
  assert.is(r.status, 0, r.stderr);
});

t("a NUL byte in a path or argument names the field", ({ sb }) => {
  for (const [patch, field] of [
    [(c: import("../../src/spec/types").OciConfig) => (c.root!.path = c.root!.path + "\0x"), "root.path"],
    [(c: import("../../src/spec/types").OciConfig) => (c.process!.args = ["/bin/probe", "a\0b"]), "process.args[1]"],
    [(c: import("../../src/spec/types").OciConfig) => (c.hostname = "a\0b"), "hostname"],
  ] as const) {
    assert.is(createFails(sb, patch), `${field}: contains a NUL byte`);
  }
});

t("--root that cannot be made: one line naming --root", ({ sb }) => {
  const file = join(sb.dir, "a-file");
  writeFileSync(file, "");
  const r = spawnSync(OCIRT, ["--root", join(file, "state"), "create", "-b", sb.bundle(), uniqueId("root")], { encoding: "utf8" });
  assert.is(r.status, 1);
  assert.match(r.stderr, /^--root: cannot create the state root .*\/a-file\/state: .*\(ENOTDIR\)\n$/);
});

t("a pre-existing frozen cgroup is refused at once, not waited on for ever", ({ sb }) => {
  const id = uniqueId("frozen");
  const dir = `/sys/fs/cgroup/freezer/${id}`;
  if (!existsSync("/sys/fs/cgroup/freezer")) {
    // pure v2: freeze through cgroup.freeze instead
    mkdirSync(`/sys/fs/cgroup/${id}`);
    writeFileSync(`/sys/fs/cgroup/${id}/cgroup.freeze`, "1");
  } else {
    mkdirSync(dir);
    writeFileSync(`${dir}/freezer.state`, "FROZEN");
  }
  try {
    const r = sb.ocirt(["create", "-b", sb.bundle((c) => (c.linux!.cgroupsPath = `/${id}`)), id], { timeout: 30_000 });
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stderr, "linux.cgroupsPath: container's cgroup unexpectedly frozen\n");
    assert.is(sb.ocirt(["state", id]).status, 1);
  } finally {
    for (const d of [dir, `/sys/fs/cgroup/${id}`]) {
      try {
        if (existsSync(d)) {
          writeFileSync(existsSync(`${d}/freezer.state`) ? `${d}/freezer.state` : `${d}/cgroup.freeze`, existsSync(`${d}/freezer.state`) ? "THAWED" : "0");
          execFileSync("rmdir", [d]);
        }
      } catch { /* reported by the suite's leak check */ }
    }
  }
});

t("a prestart hook that never reads its stdin (with a 200 kB annotation) does not fail create; hooks without env get the runtime's", ({ sb }) => {
  const id = uniqueId("epipe");
  sb.ids.push(id);
  const out = join(sb.dir, `${id}.env`);
  const b = sb.bundle((c) => {
    c.annotations = { big: "x".repeat(200_000) };
    c.hooks = { prestart: [{ path: "/bin/true" }, { path: "/bin/sh", args: ["sh", "-c", `env > ${out}`] }] };
  });
  // the output to a file: the created container's init keeps its stdio open
  const log = join(sb.dir, `${id}.log`);
  const r = spawnSync("sh", ["-c", `OCIRT_TEST_MARK=inherited ${OCIRT} --root ${sb.root} create -b ${b} ${id} >${log} 2>&1`]);
  assert.is(r.status, 0, readFileSync(log, "utf8"));
  assert.match(readFileSync(out, "utf8"), /^OCIRT_TEST_MARK=inherited$/m);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("SIGKILL of create at moments spread over its run: delete --force leaves nothing, the id is reusable", async ({ sb }) => {
  const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "exit", "0"]));
  for (let i = 0; i < 12; i++) {
    const id = uniqueId("kill");
    const child = spawn(OCIRT, ["--root", sb.root, "create", "-b", b, id], { stdio: "ignore" });
    await new Promise((res) => setTimeout(res, 8 * i));
    child.kill("SIGKILL");
    await new Promise<void>((res) => (child.exitCode !== null || child.signalCode !== null ? res() : child.on("exit", () => res())));
    const d = sb.ocirt(["delete", "--force", id]);
    assert.is(d.status, 0, `after ${8 * i} ms: ${d.stderr}`);
    assertNothingLeft(sb.root, [id]);
    // the id is free again
    assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
    assert.is(sb.ocirt(["delete", "--force", id]).status, 0);
    assertNothingLeft(sb.root, [id]);
  }
});

t.run();
