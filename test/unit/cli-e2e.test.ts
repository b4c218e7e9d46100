// The built CLI (bin/ocirt -> dist/ocirt.js) end to end, for what needs no root:
// errors, exit codes, output formats, spec/validate, logging. Build first
// (`npm run build`); the file is skipped with a note when dist/ocirt.js is missing.
import { test } from "uvu";
import { hostTest } from "../skip";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SPEC_VERSION } from "../../src/version";
import { COMMANDS } from "../../src/cli/table";

const repo = join(__dirname, "../..");
const bin = process.env["OCIRT_BIN"] ?? join(repo, "bin/ocirt");
const built = existsSync(join(repo, "dist/ocirt.js"));
const tmp = mkdtempSync(join(tmpdir(), "ocirt-e2e-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const root = join(tmp, "root");
let n = 0;
const fresh = (name: string) => {
  const d = join(tmp, `${name}${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

function ocirt(args: string[], opts: { cwd?: string } = {}): Result {
  const env = { ...process.env };
  delete env["NODE_OPTIONS"]; // the tests' tsx loader must not leak into the CLI
  const r = spawnSync(bin, args, { cwd: opts.cwd ?? tmp, encoding: "utf8", env, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.split("\n").filter((l) => l !== "") };
}

/** exit 1, exactly one line on stderr (no stack), nothing on stdout */
function failsWith(r: Result, re: RegExp, status = 1): void {
  assert.is(r.status, status, `exit status; stderr: ${r.stderr}`);
  assert.is(r.stdout, "");
  assert.is(r.lines.length, 1, `one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.lines[0]!, re);
  assert.not.match(r.stderr, /\n\s+at /, "no stack trace");
}

const t = hostTest(built ? null : "ocirt is not built (dist/ocirt.js is missing: npm run build)");
if (!built) console.log("cli-e2e: dist/ocirt.js is missing (run 'npm run build'): skipped");

t("--version: version, commit, spec", () => {
  for (const flag of ["--version", "-v"]) {
    const r = ocirt([flag]);
    assert.is(r.status, 0);
    const lines = r.stdout.split("\n");
    assert.is(lines.length, 4, JSON.stringify(r.stdout));
    assert.match(lines[0]!, /^ocirt version \d+\.\d+\.\d+/);
    assert.match(lines[1]!, /^commit: \S+$/);
    assert.is(lines[2], `spec: ${SPEC_VERSION}`);
    assert.is(lines[3], "");
    assert.is(r.stderr, "");
  }
});

t("--help and help <command> print usage and exit 0", () => {
  const top = ocirt(["--help"]);
  assert.is(top.status, 0, top.stderr);
  for (const c of ["create", "start", "state", "kill", "delete", "run", "exec", "list", "spec", "checkpoint", "restore", "features"]) assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
  const one = ocirt(["help", "create"]);
  assert.is(one.status, 0);
  assert.match(one.stdout, /--pid-file/);
  assert.match(one.stdout, /--root/);
  assert.match(ocirt(["kill", "--help"]).stdout, /--all/);
  assert.not.match(ocirt(["update", "--help"]).stdout, /kernel-memory/, "hidden flags stay hidden");
  for (const c of COMMANDS) {
    const r = ocirt([c.name, "--help"]);
    assert.is(r.status, 0, `${c.name} --help: ${r.stderr}`);
    assert.ok(r.stdout.includes(`ocirt ${c.name}`), `${c.name} --help names it`);
    for (const f of c.flags.filter((x) => !x.hidden)) assert.ok(r.stdout.includes(`--${f.name}`), `${c.name} --help shows --${f.name}`);
  }
});

t("state of a missing container: one line, exit 1", () => {
  failsWith(ocirt(["--root", root, "state", "nosuch"]), /^container "nosuch" does not exist$/);
  failsWith(ocirt(["state", "nosuch", "--root", root]), /^container "nosuch" does not exist$/);
});

t("delete and kill of a missing container: likewise", () => {
  failsWith(ocirt(["--root", root, "delete", "nosuch"]), /^container "nosuch" does not exist$/);
  // runc: --force of a container that does not exist succeeds, silently
  const forced = ocirt(["--root", root, "delete", "--force", "nosuch"]);
  assert.equal([forced.status, forced.stdout, forced.stderr], [0, "", ""]);
  failsWith(ocirt(["--root", root, "kill", "nosuch", "KILL"]), /does not exist|nosuch/);
  failsWith(ocirt(["--root", root, "start", "nosuch"]), /^container "nosuch" does not exist$/);
});

t("a boolean flag does not swallow the id: delete -f true", () => {
  failsWith(ocirt(["--root", root, "delete", "true"]), /^container "true" does not exist$/);
  const forced = ocirt(["--root", root, "delete", "-f", "true"]);
  assert.equal([forced.status, forced.stderr], [0, ""], "-f took no value: the id is still \"true\"");
  failsWith(ocirt(["--root", root, "state", "123"]), /^container "123" does not exist$/);
});

t("an invalid id is refused", () => {
  failsWith(ocirt(["--root", root, "state", "../x"]), /invalid id/);
});

t("list: the header for an empty root, null as json, nothing with -q", () => {
  for (const r of [fresh("emptyroot"), join(tmp, "absent-root")]) {
    const table = ocirt(["--root", r, "list"]);
    assert.is(table.status, 0, table.stderr);
    assert.is(table.stdout, "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
    const json = ocirt(["--root", r, "list", "-f", "json"]);
    assert.is(json.status, 0);
    assert.is(json.stdout, "null\n");
    assert.is(ocirt(["--root", r, "list", "--format=json"]).stdout, "null\n");
    const quiet = ocirt(["--root", r, "list", "-q"]);
    assert.is(quiet.status, 0);
    assert.is(quiet.stdout, "");
  }
  failsWith(ocirt(["--root", root, "list", "-f", "yaml"]), /format.*yaml/);
});

t("spec writes a config.json that validate accepts; it refuses to overwrite", () => {
  const b = fresh("bundle");
  const r = ocirt(["spec", "-b", b]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "");
  const path = join(b, "config.json");
  const doc = JSON.parse(readFileSync(path, "utf8"));
  assert.is(doc.ociVersion, SPEC_VERSION);
  assert.equal(doc.process.args, ["sh"]);
  mkdirSync(join(b, "rootfs"));
  const v = ocirt(["validate", "-b", b]);
  assert.is(v.status, 0, v.stderr);
  assert.is(v.stdout, "valid\n");
  // from the bundle as the working directory too
  assert.is(ocirt(["validate"], { cwd: b }).stdout, "valid\n");

  const before = readFileSync(path, "utf8");
  const mtime = statSync(path).mtimeMs;
  failsWith(ocirt(["spec", "-b", b]), /exists/);
  assert.is(readFileSync(path, "utf8"), before);
  assert.is(statSync(path).mtimeMs, mtime);
  // in the working directory
  const here = fresh("here");
  assert.is(ocirt(["spec"], { cwd: here }).status, 0);
  assert.ok(existsSync(join(here, "config.json")));
  failsWith(ocirt(["spec"], { cwd: here }), /exists/);
});

t("spec --rootless validates", () => {
  const b = fresh("rootless");
  assert.is(ocirt(["spec", "--rootless", "-b", b]).status, 0);
  const doc = JSON.parse(readFileSync(join(b, "config.json"), "utf8"));
  assert.ok(doc.linux.namespaces.some((x: { type: string }) => x.type === "user"));
  mkdirSync(join(b, "rootfs"));
  assert.is(ocirt(["validate", "-b", b]).stdout, "valid\n");
});

t("validate on a bad config prints every error with its path, exit 1", () => {
  const b = fresh("bad");
  writeFileSync(join(b, "config.json"), JSON.stringify({ ociVersion: "1.0.0", process: { cwd: "/", args: [], user: { uid: "root" } }, root: { path: 5 } }));
  const r = ocirt(["validate", "-b", b]);
  assert.is(r.status, 1);
  const out = r.stdout.split("\n").filter(Boolean);
  assert.ok(out.length >= 3, r.stdout);
  assert.ok(out.some((l) => l.startsWith("root.path: ")), r.stdout);
  assert.ok(out.some((l) => l.startsWith("process.args: ")), r.stdout);
  assert.ok(out.some((l) => l.startsWith("process.user.uid: ")), r.stdout);
  for (const l of out) assert.match(l, /^[A-Za-z][\w.[\]"-]*: /, "each line starts with its path");
  assert.is(r.lines.length, 1, r.stderr);
  assert.match(r.lines[0]!, new RegExp(`config\\.json has ${out.length} errors`));

  const missing = fresh("nocfg");
  failsWith(ocirt(["validate", "-b", missing]), /config\.json/);
  const broken = fresh("broken");
  writeFileSync(join(broken, "config.json"), "{ not json");
  assert.is(ocirt(["validate", "-b", broken]).status, 1);
});

t("--log FILE --log-format json: the error is appended as a json line", () => {
  const file = join(fresh("log"), "log.json");
  writeFileSync(file, '{"level":"info","msg":"before","time":"2020-01-01T00:00:00Z"}\n');
  const r = ocirt(["--log", file, "--log-format", "json", "--root", root, "state", "nosuch"]);
  failsWith(r, /^container "nosuch" does not exist$/);
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  assert.is(lines.length, 2);
  assert.is(lines[0], '{"level":"info","msg":"before","time":"2020-01-01T00:00:00Z"}');
  const last = JSON.parse(lines[1]!);
  assert.equal(Object.keys(last), ["level", "msg", "time"]);
  assert.is(last.level, "error");
  assert.is(last.msg, 'container "nosuch" does not exist');
  assert.match(last.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  // go-runc spelling, globals after the command
  const file2 = join(fresh("log"), "log.json");
  failsWith(ocirt(["-log", file2, "-log-format=json", "delete", "nosuch", "--root", root]), /does not exist/);
  assert.is(JSON.parse(readFileSync(file2, "utf8").trim()).msg, 'container "nosuch" does not exist');
});

t("--log FILE in text format: a logrus line", () => {
  const file = join(fresh("log"), "log.txt");
  failsWith(ocirt(["--log", file, "--root", root, "state", "nosuch"]), /does not exist/);
  assert.match(readFileSync(file, "utf8"), /^time="[^"]+" level=error msg="container \\"nosuch\\" does not exist"\n$/);
});

t("unknown commands and flags: one line, exit 1 (an unknown command 3, as runc), no stack", () => {
  failsWith(ocirt(["nosuch"]), /unknown command "nosuch"/, 3);
  failsWith(ocirt(["state", "--bogus", "x"]), /flag provided but not defined.*--bogus/);
  failsWith(ocirt(["--bogus", "state", "x"]), /--bogus/);
  failsWith(ocirt(["state"]), /requires exactly 1 argument.*usage: ocirt state/);
  failsWith(ocirt(["--log-format", "xml", "state", "x"]), /xml/);
});

t("-debug shows more", () => {
  const plain = ocirt(["--root", root, "state", "nosuch"]);
  const debug = ocirt(["-debug", "--root", root, "state", "nosuch"]);
  assert.is(debug.status, 1);
  assert.ok(debug.stderr.length > plain.stderr.length, debug.stderr);
  assert.match(debug.stderr, /level=debug/);
  assert.match(debug.stderr, /container "nosuch" does not exist/);
  assert.match(ocirt(["--root", root, "state", "nosuch", "--debug"]).stderr, /level=debug/, "also after the command");
});

t("features: checkpoint/restore are announced as runc announces them", () => {
  const r = ocirt(["features"]);
  assert.is(r.status, 0, r.stderr);
  const f = JSON.parse(r.stdout) as { annotations?: Record<string, string> };
  assert.is(f.annotations?.["org.opencontainers.ocirt.checkpoint.enabled"], "true");
});

t("exec, checkpoint and restore without their container or bundle fail on one line", () => {
  const e = ocirt(["--root", root, "exec", "x", "sh"]);
  assert.equal([e.status, e.stderr], [255, 'exec failed: container "x" does not exist\n']);
  failsWith(ocirt(["--root", root, "checkpoint", "x"]), /^container "x" does not exist$/);
  failsWith(ocirt(["--root", root, "restore", "-b", "/nonexistent", "x"]), /^bundle: "\/nonexistent": no such file or directory$/);
});

test.run();
