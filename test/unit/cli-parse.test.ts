import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseArgv, parseNormalised, parserOptions, type Parsed } from "../../src/cli/parse";
import yargsParser from "yargs-parser";
import { COMMANDS, GLOBAL_FLAGS, findCommand } from "../../src/cli/table";
import { UsageError } from "../../src/errors";

type Cmd = Extract<Parsed, { kind: "command" }>;

function cmd(...argv: string[]): Cmd {
  const p = parseArgv(argv);
  if (p.kind !== "command") throw new Error(`expected a command, got ${p.kind} for ${argv.join(" ")}`);
  return p;
}

function usageError(argv: string[], match?: RegExp | string): UsageError {
  try {
    parseArgv(argv);
  } catch (err) {
    assert.instance(err, UsageError, `${argv.join(" ")}: ${String(err)}`);
    const msg = (err as Error).message;
    if (match instanceof RegExp) assert.match(msg, match);
    else if (match !== undefined) assert.ok(msg.includes(match), `${JSON.stringify(msg)} should contain ${JSON.stringify(match)}`);
    assert.not.match(msg, /\n/, "one line");
    return err as UsageError;
  }
  assert.unreachable(`${argv.join(" ")} should fail`);
  throw new Error("unreachable");
}

// ---- the table against runc ------------------------------------------------

/** Every command and flag of runc v1.1.0 (urfave/cli names "name, alias"), from its sources. */
const RUNC_1_1: Record<string, string[]> = {
  checkpoint: ["image-path", "work-path", "parent-path", "leave-running", "tcp-established", "ext-unix-sk", "shell-job", "lazy-pages", "status-fd", "page-server", "file-locks", "pre-dump", "manage-cgroups-mode", "empty-ns", "auto-dedup"],
  create: ["bundle, b", "console-socket", "pid-file", "no-pivot", "no-new-keyring", "preserve-fds"],
  delete: ["force, f"],
  events: ["interval", "stats"],
  exec: ["console-socket", "cwd", "env, e", "tty, t", "user, u", "additional-gids, g", "process, p", "detach, d", "pid-file", "process-label", "apparmor", "no-new-privs", "cap, c", "preserve-fds", "cgroup", "ignore-paused"],
  kill: ["all, a"],
  list: ["format, f", "quiet, q"],
  pause: [],
  ps: ["format, f"],
  restore: ["console-socket", "image-path", "work-path", "tcp-established", "ext-unix-sk", "shell-job", "file-locks", "manage-cgroups-mode", "bundle, b", "detach, d", "pid-file", "no-subreaper", "no-pivot", "empty-ns", "auto-dedup", "lazy-pages", "lsm-profile", "lsm-mount-context"],
  resume: [],
  run: ["bundle, b", "console-socket", "detach, d", "keep", "pid-file", "no-subreaper", "no-pivot", "no-new-keyring", "preserve-fds"],
  spec: ["bundle, b", "rootless"],
  start: [],
  state: [],
  update: ["resources, r", "blkio-weight", "cpu-period", "cpu-quota", "cpu-share", "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems", "kernel-memory", "kernel-memory-tcp", "memory", "memory-reservation", "memory-swap", "pids-limit", "l3-cache-schema", "mem-bw-schema"],
  features: [],
};

/** What runc 1.2 .. 1.5 added (pidfd-socket, cpu-burst, cpu-idle, checkpoint's tcp-skip-in-flight and link-remap). */
const RUNC_LATER: Record<string, string[]> = {
  create: ["pidfd-socket"],
  run: ["pidfd-socket"],
  exec: ["pidfd-socket"],
  update: ["cpu-burst", "cpu-idle"],
  checkpoint: ["tcp-skip-in-flight", "link-remap"],
};

const RUNC_GLOBALS = ["debug", "log", "log-format", "root", "criu", "systemd-cgroup", "rootless"];

test("every command of runc 1.1 is in the table, with every flag and alias", () => {
  for (const [name, flags] of Object.entries(RUNC_1_1)) {
    const c = findCommand(name);
    assert.ok(c, `command ${name} missing`);
    for (const spec of flags) {
      const [flag, alias] = spec.split(", ");
      const f = c!.flags.find((x) => x.name === flag);
      assert.ok(f, `${name} --${flag} missing`);
      assert.is(f!.alias, alias, `${name} --${flag} alias`);
    }
  }
});

test("runc 1.2+ additions are in the table", () => {
  for (const [name, flags] of Object.entries(RUNC_LATER))
    for (const flag of flags) assert.ok(findCommand(name)!.flags.some((f) => f.name === flag), `${name} --${flag} missing`);
});

test("every global flag of runc is in the table; only ocirt's own command is extra", () => {
  for (const g of RUNC_GLOBALS) assert.ok(GLOBAL_FLAGS.some((f) => f.name === g), `--${g}`);
  const extra = COMMANDS.map((c) => c.name).filter((n) => !(n in RUNC_1_1));
  assert.equal(extra, ["validate"]);
});

test("every command and every flag of the table parses", () => {
  for (const c of COMMANDS) {
    const ids = Array.from({ length: c.minArgs }, (_, i) => `id${i}`);
    assert.is(cmd(c.name, ...ids).command.name, c.name);
    for (const f of c.flags) {
      const value = f.type === "boolean" ? [] : f.type === "number" ? ["3"] : ["v"];
      const p = cmd(c.name, `--${f.name}`, ...value, ...ids);
      const want = f.type === "boolean" ? true : f.type === "number" ? 3 : f.type === "array" ? ["v"] : "v";
      assert.equal(p.flags[f.name], want, `${c.name} --${f.name}`);
      assert.equal(p.args, ids, `${c.name} --${f.name} args`);
    }
  }
});

test("defaults: globals and flags", () => {
  const p = cmd("create", "x");
  assert.equal(p.globals, { root: "/run/ocirt", log: undefined, logFormat: "text", debug: false, systemdCgroup: false, rootless: "auto", criu: "criu" });
  assert.is(p.flags["preserve-fds"], 0);
  assert.is(p.flags["bundle"], undefined);
  assert.is(cmd("list").flags["format"], "table");
  assert.is(cmd("events", "x").flags["interval"], "5s");
  assert.is(cmd("checkpoint", "x").flags["status-fd"], -1);
});

// ---- aliases ---------------------------------------------------------------

test("short aliases", () => {
  assert.is(cmd("run", "-b", "/b", "x").flags["bundle"], "/b");
  assert.is(cmd("create", "-b", "/b", "x").flags["bundle"], "/b");
  assert.is(cmd("spec", "-b", "/b").flags["bundle"], "/b");
  assert.is(cmd("run", "-d", "x").flags["detach"], true);
  assert.is(cmd("delete", "-f", "x").flags["force"], true);
  assert.is(cmd("list", "-f", "json").flags["format"], "json");
  assert.is(cmd("ps", "-f", "json", "x").flags["format"], "json");
  assert.is(cmd("kill", "-a", "x").flags["all"], true);
  assert.is(cmd("list", "-q").flags["quiet"], true);
  const e = cmd("exec", "-t", "-u", "1000:1000", "-e", "A=1", "-e", "B=2", "-p", "/p.json", "-c", "CAP_KILL", "-c", "CAP_CHOWN", "-g", "10", "-d", "x");
  assert.is(e.flags["tty"], true);
  assert.is(e.flags["user"], "1000:1000");
  assert.equal(e.flags["env"], ["A=1", "B=2"]);
  assert.is(e.flags["process"], "/p.json");
  assert.equal(e.flags["cap"], ["CAP_KILL", "CAP_CHOWN"]);
  assert.equal(e.flags["additional-gids"], ["10"]);
  assert.is(e.flags["detach"], true);
  assert.is(cmd("update", "-r", "-", "x").flags["resources"], "-");
});

test("short groups and attached values", () => {
  const l = cmd("list", "-qf", "json");
  assert.is(l.flags["quiet"], true);
  assert.is(l.flags["format"], "json");
  assert.is(cmd("list", "-f=json").flags["format"], "json");
  const e = cmd("exec", "-td", "x", "sh");
  assert.is(e.flags["tty"], true);
  assert.is(e.flags["detach"], true);
  assert.equal(cmd("exec", "-eA=1", "x", "sh").flags["env"], ["A=1"]);
  assert.is(cmd("list", "-qfjson").flags["format"], "json");
  assert.is(cmd("list", "-q=false").flags["quiet"], false);
});

test("aliases may also be written with two dashes, as Go allows", () => {
  assert.is(cmd("run", "--b", "/b", "x").flags["bundle"], "/b");
  assert.is(cmd("delete", "--f", "x").flags["force"], true);
});

// ---- go-runc spellings -----------------------------------------------------

test("single-dash long flags (go-runc, Go's flag package)", () => {
  const r = cmd("run", "-no-subreaper", "-pid-file=/x", "-detach", "-bundle", "/b", "x");
  assert.is(r.flags["no-subreaper"], true);
  assert.is(r.flags["pid-file"], "/x");
  assert.is(r.flags["detach"], true);
  assert.is(r.flags["bundle"], "/b");
  const g = cmd("-log-format", "json", "-log", "/l", "-root", "/r", "-systemd-cgroup", "state", "x");
  assert.is(g.globals.logFormat, "json");
  assert.is(g.globals.log, "/l");
  assert.is(g.globals.root, "/r");
  assert.is(g.globals.systemdCgroup, true);
  assert.is(cmd("-root=/r", "state", "x").globals.root, "/r");
  assert.is(cmd("create", "-preserve-fds", "2", "x").flags["preserve-fds"], 2);
  assert.is(cmd("-debug", "state", "x").globals.debug, true);
  // go-runc's argv for create, as containerd-shim-runc-v2 passes it
  const s = cmd("--root", "/run/containerd/runc/k8s.io", "--log", "/run/l.json", "--log-format", "json", "--systemd-cgroup", "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--console-socket", "/tmp/s", "id1");
  assert.is(s.globals.root, "/run/containerd/runc/k8s.io");
  assert.is(s.flags["console-socket"], "/tmp/s");
  assert.equal(s.args, ["id1"]);
});

test("a value-taking flag takes the next word even when it starts with a dash", () => {
  assert.is(cmd("exec", "--cwd", "-odd", "x", "sh").flags["cwd"], "-odd");
  assert.is(cmd("run", "--pid-file", "-p", "x").flags["pid-file"], "-p");
});

test("a boolean flag never takes the next word: ids \"true\" and \"false\"", () => {
  const d = cmd("delete", "-f", "true");
  assert.is(d.flags["force"], true);
  assert.equal(d.args, ["true"]);
  assert.equal(cmd("delete", "--force", "false").args, ["false"]);
  assert.equal(cmd("kill", "--all", "true", "KILL").args, ["true", "KILL"]);
  // an explicit value is still honoured
  assert.is(cmd("delete", "--force=false", "x").flags["force"], false);
});

test("a repeated scalar flag: the last one wins; arrays accumulate", () => {
  assert.is(cmd("--root", "/a", "--root", "/b", "state", "x").globals.root, "/b");
  assert.is(cmd("run", "--pid-file", "/a", "--pid-file", "/b", "x").flags["pid-file"], "/b");
  assert.equal(cmd("exec", "--env", "A=1", "-e", "B=2", "--env=C=3", "x", "sh").flags["env"], ["A=1", "B=2", "C=3"]);
  assert.equal(cmd("checkpoint", "--empty-ns", "network", "x").flags["empty-ns"], ["network"]);
});

test("a flag without its value", () => {
  usageError(["run", "x", "--pid-file"], /flag needs an argument for "run": --pid-file$/);
  usageError(["list", "-f"], /flag needs an argument for "list": -f$/);
  usageError(["--root"], /flag needs an argument: --root$/);
});

// ---- globals before and after the command ----------------------------------

test("globals before and after the command", () => {
  const a = cmd("--root", "/r", "--debug", "state", "x");
  const b = cmd("state", "x", "--root", "/r", "--debug");
  const c = cmd("state", "--root=/r", "x", "--debug");
  for (const p of [a, b, c]) {
    assert.is(p.globals.root, "/r");
    assert.is(p.globals.debug, true);
    assert.equal(p.args, ["x"]);
  }
  assert.is(cmd("--log-format", "text", "state", "x", "--log-format", "json").globals.logFormat, "json");
  assert.is(cmd("--root", "/a", "state", "x", "--root", "/b").globals.root, "/b");
});

test("a command flag shadows the global of the same name (spec --rootless)", () => {
  const p = cmd("spec", "--rootless");
  assert.is(p.flags["rootless"], true);
  assert.is(p.globals.rootless, "auto");
  assert.is(cmd("--rootless", "true", "spec").globals.rootless, "true");
  assert.is(cmd("--rootless", "false", "state", "x").globals.rootless, "false");
});

test("a global's value is not taken for the command word", () => {
  const p = cmd("--root", "state", "state", "x");
  assert.is(p.globals.root, "state");
  assert.is(p.command.name, "state");
  assert.equal(p.args, ["x"]);
  assert.is(cmd("--log", "/l", "kill", "x").command.name, "kill");
});

test("--log-format must be text or json", () => {
  usageError(["--log-format", "xml", "state", "x"], /log-format.*xml/);
});

// ---- positionals, -- and flag order ----------------------------------------

test("flags after positionals (runc reorders them)", () => {
  const d = cmd("delete", "x", "--force");
  assert.is(d.flags["force"], true);
  assert.equal(d.args, ["x"]);
  const r = cmd("run", "x", "-b", "/b", "-d");
  assert.is(r.flags["bundle"], "/b");
  assert.is(r.flags["detach"], true);
});

test("-- ends the flags", () => {
  assert.equal(cmd("state", "--", "-x").args, ["-x"]);
  assert.equal(cmd("kill", "--", "x", "-KILL").args, ["x", "-KILL"]);
  assert.equal(cmd("--", "state", "x").args, ["x"]);
  assert.is(cmd("--root", "/r", "--", "state", "x").globals.root, "/r");
  const e = cmd("exec", "-t", "--", "x", "ls", "-la");
  assert.is(e.flags["tty"], true);
  assert.equal(e.args, ["x", "ls", "-la"]);
});

test("exec and ps stop parsing at the first positional", () => {
  const e = cmd("exec", "--cwd", "/w", "-e", "A=1", "ID", "ls", "-la");
  assert.is(e.flags["cwd"], "/w");
  assert.equal(e.flags["env"], ["A=1"]);
  assert.equal(e.args, ["ID", "ls", "-la"]);
  // words after it that look like ocirt's own flags are the process's, untouched
  assert.equal(cmd("exec", "ID", "grep", "-cwd", "--debug", "-e", "x", "--root=/").args, ["ID", "grep", "-cwd", "--debug", "-e", "x", "--root=/"]);
  assert.is(cmd("exec", "ID", "sh", "--debug").globals.debug, false);
  // Go's flag package leaves a -- after the first positional in the args, as runc does
  assert.equal(cmd("exec", "ID", "--", "ls").args, ["ID", "--", "ls"]);
  assert.equal(cmd("exec", "ID", "sh", "-c", "echo -debug true").args, ["ID", "sh", "-c", "echo -debug true"]);
  const ps = cmd("ps", "-f", "json", "ID", "-ef");
  assert.is(ps.flags["format"], "json");
  assert.equal(ps.args, ["ID", "-ef"]);
  assert.equal(cmd("ps", "ID", "-f", "json").args, ["ID", "-f", "json"]);
});

test("numeric container ids and signals stay strings", () => {
  assert.equal(cmd("state", "123").args, ["123"]);
  assert.equal(cmd("kill", "007", "9").args, ["007", "9"]);
  assert.equal(cmd("exec", "123", "sleep", "10").args, ["123", "sleep", "10"]);
  assert.equal(cmd("create", "--bundle", "1", "0x10").args, ["0x10"]);
  assert.is(cmd("create", "--bundle", "1", "0x10").flags["bundle"], "1");
  assert.is(cmd("--root", "123", "state", "1e3").globals.root, "123");
  assert.equal(cmd("state", "1e3").args, ["1e3"]);
});

test("--no-pivot is a flag of its own, not a negation of --pivot", () => {
  const p = cmd("create", "--no-pivot", "x");
  assert.is(p.flags["no-pivot"], true);
  assert.not.ok("pivot" in p.flags);
  const r = cmd("run", "--no-subreaper", "--no-new-keyring", "x");
  assert.is(r.flags["no-subreaper"], true);
  assert.is(r.flags["no-new-keyring"], true);
  assert.is(cmd("run", "x").flags["no-pivot"], undefined);
});

test("--preserve-fds must be an integer", () => {
  assert.is(cmd("create", "--preserve-fds=3", "x").flags["preserve-fds"], 3);
  usageError(["create", "--preserve-fds", "abc", "x"], /preserve-fds.*abc/);
});

// ---- errors ----------------------------------------------------------------

test("an unknown flag is a UsageError naming it", () => {
  usageError(["state", "--bogus", "x"], /--bogus/);
  usageError(["state", "-x", "x"], /-x/);
  usageError(["--bogus", "state", "x"], /--bogus/);
  usageError(["-bogus=1", "state", "x"], /-bogus/);
  usageError(["list", "-qz"], /-qz/);
  usageError(["run", "--pivot", "x"], /--pivot/);
  // a flag of another command
  usageError(["state", "--force", "x"], /--force/);
  usageError(["kill", "x", "-9"], /-9/);
  assert.match(usageError(["state", "--bogus", "x"]).message, /flag provided but not defined/);
});

test("an unknown command is a UsageError naming it", () => {
  usageError(["nosuch", "x"], /"nosuch"/);
  usageError(["init"], /"init"/);
});

test("wrong number of arguments: UsageError with the usage", () => {
  usageError(["state"], /"state" requires exactly 1 argument.*usage: ocirt state \[command options\] <container-id>/);
  usageError(["state", "a", "b"], /exactly 1/);
  usageError(["kill"], /"kill" requires 1 to 2 argument.*<container-id> \[signal\]/);
  usageError(["kill", "a", "b", "c"], /1 to 2/);
  usageError(["exec"], /"exec" requires at least 1 argument/);
  usageError(["list", "x"], /"list" requires exactly 0 argument\(s\); usage: ocirt list \[command options\]$/);
  usageError(["spec", "x"], /usage: ocirt spec/);
  assert.equal(cmd("kill", "x").args, ["x"]);
  assert.equal(cmd("kill", "x", "KILL").args, ["x", "KILL"]);
});

// ---- help and version ------------------------------------------------------

test("--help, -h, help, h and no arguments", () => {
  assert.equal(parseArgv(["--help"]).kind, "help");
  assert.equal(parseArgv(["-h"]).kind, "help");
  assert.equal(parseArgv([]).kind, "help");
  for (const argv of [["help"], ["h"]]) {
    const p = parseArgv(argv);
    assert.is(p.kind, "help");
    assert.is((p as { command?: string }).command, undefined);
  }
  for (const argv of [["help", "run"], ["h", "run"], ["run", "--help"], ["run", "-h"], ["--help", "run"], ["run", "x", "--help"], ["--root", "/r", "run", "-help"]]) {
    const p = parseArgv(argv);
    assert.is(p.kind, "help", argv.join(" "));
    assert.is((p as { command?: string }).command, "run", argv.join(" "));
  }
  // --help with a missing argument still shows help rather than a usage error
  assert.is(parseArgv(["state", "--help"]).kind, "help");
});

test("--version and -v", () => {
  assert.is(parseArgv(["--version"]).kind, "version");
  assert.is(parseArgv(["-v"]).kind, "version");
  assert.is(parseArgv(["-version"]).kind, "version");
  assert.is(parseArgv(["--root", "/r", "--version"]).kind, "version");
});

test("the parser's fast path reads normalise()'s output exactly as yargs-parser does", () => {
  const exec = findCommand("exec")!;
  const all = [...exec.flags, ...GLOBAL_FLAGS];
  const cases: string[][] = [
    ["--root=/r", "--debug=true", "id"],
    ["--env=A=1", "--env=B=2", "--detach=true", "--detach=false", "--cwd=/x", "--cwd=/y", "id"],
    ["--user=0:0", "--preserve-fds=3", "id", "--", "-x", "--y=1"],
    ["--process=", "id"],
    ["--cap=CAP_A", "id", "sh"],
  ];
  for (const words of cases) {
    const fast = parseNormalised(words, all);
    assert.ok(fast, words.join(" "));
    assert.equal(fast, yargsParser(words, parserOptions(all)), words.join(" "));
  }
  // what it leaves to yargs-parser
  assert.is(parseNormalised(["--detach=yes", "id"], all), undefined);
  assert.is(parseNormalised(["-d", "id"], all), undefined);
  assert.is(parseNormalised(["--nosuch=1", "id"], all), undefined);
});

test.run();
