// The probe and the test rootfs, exercised on the host (no container, no root).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildProbe, probeIsStale } from "../../conformance/probe/build";
import { PROBE_REPORT_KEYS, capBits, parseProbeReport, probeReportEnv } from "../../conformance/probe/report";
import {
  BUSYBOX_APPLETS,
  PROBE_USERS,
  busyboxApplets,
  busyboxAvailable,
  ensureBusyboxRootfs,
  ensureProbeRootfs,
  isStaticElf,
  planProbeRootfs,
  probeBinary,
} from "../../conformance/rootfs";

const probe = buildProbe();
const scratch = mkdtempSync(join(tmpdir(), "ocirt-probe-test-"));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(probe, args, { encoding: "utf8", env: { PATH: "/usr/bin:/bin", ...env }, cwd: scratch });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("probe is a static binary and is not rebuilt when fresh", () => {
  assert.ok(isStaticElf(probe));
  assert.not.ok(probeIsStale());
  assert.is(probeBinary(), probe);
  assert.not.ok(isStaticElf("/proc/self/exe"), "node itself is dynamic: the check can say no");
});

test("report has every key and reads the host correctly", () => {
  const env = Object.fromEntries(
    probeReportEnv({
      sysctls: ["kernel.hostname", "kernel.probe_does_not_exist"],
      files: ["/dev/null", "/proc/self", "/probe/missing"],
      writable: [scratch, join(scratch, "new-file"), join(scratch, "existing"), "/probe/missing/x"],
    }).map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  writeFileSync(join(scratch, "existing"), "keep");
  const r = run(["report", "x y", "quote\"back\\slash", "tab\tnl\n"], { ...env, WEIRD: "\u00e9\u2603\x01" });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.split("\n").filter(Boolean).length, 1, "one JSON line");
  const rep = parseProbeReport(r.stdout);
  assert.equal(Object.keys(rep), [...PROBE_REPORT_KEYS]);

  assert.is(rep.uid, process.getuid!());
  assert.is(rep.euid, process.geteuid!());
  assert.is(rep.gid, process.getgid!());
  assert.is(rep.ppid, process.pid);
  assert.is(rep.cwd, scratch);
  assert.equal(rep.argv.slice(1), ["report", "x y", "quote\"back\\slash", "tab\tnl\n"]);
  assert.ok(rep.env.includes("WEIRD=\u00e9\u2603\x01"));
  assert.is(rep.exe, probe);
  assert.is(rep.umask, process.umask());

  for (const k of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] as const) {
    assert.match(rep.capabilities[k] ?? "", /^[0-9a-f]{16}$/);
  }
  assert.ok(capBits(rep.capabilities.CapBnd) > 0n);
  assert.is(Object.keys(rep.rlimits).length, 16);
  assert.ok(rep.rlimits.RLIMIT_NOFILE!.soft > 0);
  assert.ok(typeof rep.rlimits.RLIMIT_AS!.hard === "number");

  const root = rep.mounts!.find((m) => m.mount_point === "/");
  assert.ok(root, "/ is mounted");
  assert.ok(Array.isArray(root!.options) && Array.isArray(root!.propagation) && Array.isArray(root!.super_options));
  const proc = rep.mounts!.find((m) => m.fstype === "proc");
  assert.ok(proc, "a proc mount is listed");

  for (const ns of ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"] as const) {
    assert.match(rep.namespaces[ns] ?? "", new RegExp(`^${ns}:\\[\\d+\\]$`));
  }
  assert.is(rep.namespaces.pid_for_children, rep.namespaces.pid);

  assert.ok(rep.no_new_privs === 0 || rep.no_new_privs === 1);
  assert.type(rep.oom_score_adj, "number");
  assert.ok([0, 1, 2].includes(rep.seccomp!));
  const fds = rep.fds!.map((f) => f.fd);
  assert.ok(fds.includes(0) && fds.includes(1) && fds.includes(2));
  assert.equal(fds, [...fds].sort((a, b) => a - b));
  assert.ok(rep.cgroup!.length > 0);
  assert.is(rep.personality, 0);
  assert.is(rep.scheduler.policy, "SCHED_OTHER");
  assert.match(String(rep.ioprio!.class), /^IOPRIO_CLASS_/);
  assert.ok(rep.cpu_affinity!.length > 0);
  assert.is(rep.tty.stdout, false);

  assert.is((rep.sysctls["kernel.hostname"] as { value: string }).value, rep.hostname);
  assert.equal(rep.sysctls["kernel.probe_does_not_exist"], { error: "ENOENT" });
  const devnull = rep.files["/dev/null"] as { type: string; major: number; minor: number; mode_octal: string };
  assert.is(devnull.type, "char");
  assert.is(devnull.major, 1);
  assert.is(devnull.minor, 3);
  assert.is((rep.files["/proc/self"] as { type: string; target: string }).type, "symlink");
  assert.equal(rep.files["/probe/missing"], { error: "ENOENT" });
  assert.equal(rep.writable[scratch], { ok: true, error: null });
  assert.equal(rep.writable[join(scratch, "new-file")], { ok: true, error: null });
  assert.not.ok(existsSync(join(scratch, "new-file")), "test file removed again");
  assert.equal(rep.writable[join(scratch, "existing")], { ok: true, error: null });
  assert.is(readFileSync(join(scratch, "existing"), "utf8"), "keep", "existing file left as it was");
  assert.equal(rep.writable["/probe/missing/x"], { ok: false, error: "ENOENT" });
});

test("invalid UTF-8 still yields valid JSON", () => {
  const r = spawnSync(probe, ["report", Buffer.from([0x61, 0xff, 0xc3]).toString("latin1")], { encoding: "buffer" });
  assert.is(r.status, 0);
  const rep = JSON.parse(r.stdout.toString("utf8"));
  assert.ok(typeof rep.argv[1] === "string");
});

test("exit, write, cat, exec", () => {
  assert.is(run(["exit", "7"]).status, 7);
  assert.is(run(["exit", "0"]).status, 0);
  const bad = run(["exit", "nope"]);
  assert.is(bad.status, 100);
  assert.match(bad.stderr, /^probe: /);

  const file = join(scratch, "written");
  assert.is(run(["write", file, "hello\nworld"]).status, 0);
  assert.is(readFileSync(file, "utf8"), "hello\nworld");
  const cat = run(["cat", file]);
  assert.is(cat.status, 0);
  assert.is(cat.stdout, "hello\nworld");
  const missing = run(["cat", join(scratch, "missing")]);
  assert.is(missing.status, 101);
  assert.match(missing.stderr, /probe: cat .*: ENOENT/);
  assert.is(run(["write", join(scratch, "no/such/dir"), "x"]).status, 101);

  const ex = run(["exec", probe, "exit", "3"]);
  assert.is(ex.status, 3);
  assert.is(run(["exec", join(scratch, "missing")]).status, 102);
  assert.is(run(["no-such-command"]).status, 100);
});

test("syscall reports errno names", () => {
  assert.is(run(["syscall", "getpid"]).stdout, "0\n");
  assert.is(run(["syscall", "kill"]).stdout, "0\n");
  assert.is(run(["syscall", "unshare"]).stdout, "0\n");
  // Bad magic: EINVAL with CAP_SYS_BOOT, EPERM without. Never reboots.
  assert.match(run(["syscall", "reboot"]).stdout, /^(EINVAL|EPERM)\n$/);
  assert.is(run(["syscall", "mkdir", join(scratch, "d")]).stdout, "0\n");
  assert.ok(statSync(join(scratch, "d")).isDirectory());
  assert.is(run(["syscall", "mkdir", join(scratch, "d")]).stdout, "EEXIST\n");
  assert.is(run(["syscall", "no_such_call"]).status, 100);
});

test("sleep, report-then-sleep, fork-sleep", () => {
  const t0 = Date.now();
  assert.is(run(["sleep", "0.2"]).status, 0);
  assert.ok(Date.now() - t0 >= 190);
  const rs = run(["report-then-sleep", "0.1"]);
  assert.is(rs.status, 0);
  assert.is(parseProbeReport(rs.stdout).argv[1], "report-then-sleep");
  const fs = run(["fork-sleep", "0.2", "3"]);
  assert.is(fs.status, 0);
  assert.is(fs.stdout.match(/^child \d+$/gm)?.length, 3);
  assert.is(run(["sleep", "-1"]).status, 100);
});

test("sleep inf ends on SIGTERM with 143-style status", async () => {
  const child = spawn(probe, ["sleep", "inf"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 100));
  child.kill("SIGTERM");
  const [code, sig] = await new Promise<[number | null, string | null]>((r) => child.on("exit", (c, s) => r([c, s])));
  assert.ok(sig === "SIGTERM" || code === 143, `code=${code} sig=${sig}`);
});

test("signal-wait prints each signal and exits 0 on SIGTERM", async () => {
  const child = spawn(probe, ["signal-wait"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const waitFor = (s: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for ${s}; got ${JSON.stringify(out)}`)), 5000);
      const check = () => {
        if (out.includes(s)) {
          clearTimeout(timer);
          child.stdout!.off("data", check);
          resolve();
        }
      };
      child.stdout!.on("data", check);
      check();
    });
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => (out += d));
  await waitFor("ready\n");
  child.kill("SIGUSR1");
  await waitFor("SIGUSR1\n");
  child.kill("SIGHUP");
  await waitFor("SIGHUP\n");
  const exit = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  child.kill("SIGTERM");
  assert.is(await exit, 0);
  assert.is(out, "ready\nSIGUSR1\nSIGHUP\nSIGTERM\n");
});

test("probe rootfs layout", () => {
  const dir = ensureProbeRootfs();
  assert.ok(dir.endsWith(join("build", "probe-rootfs")));
  assert.equal(readFileSync(join(dir, "bin/probe")), readFileSync(probe));
  assert.ok(statSync(join(dir, "bin/probe")).mode & 0o111);
  for (const d of ["proc", "sys", "dev", "tmp", "etc", "root", "run"]) {
    assert.ok(statSync(join(dir, d)).isDirectory(), d);
  }
  assert.is(statSync(join(dir, "tmp")).mode & 0o7777, 0o1777);
  assert.is(readFileSync(join(dir, "etc/hostname"), "utf8"), "probe\n");
  const passwd = readFileSync(join(dir, "etc/passwd"), "utf8");
  assert.match(passwd, /^root:x:0:0:/m);
  assert.match(passwd, /^probeuser:x:1000:1000:/m);
  const group = readFileSync(join(dir, "etc/group"), "utf8");
  for (const gid of PROBE_USERS.probeuser.additionalGids) {
    assert.match(group, new RegExp(`^[a-z]+:x:${gid}:(.*,)?probeuser(,|$)`, "m"));
  }
  // Cached: a second call keeps the same tree.
  const ino = statSync(join(dir, "bin/probe")).ino;
  assert.is(ensureProbeRootfs(), dir);
  assert.is(statSync(join(dir, "bin/probe")).ino, ino);
  // The plan is pure data.
  assert.equal(planProbeRootfs("/x"), planProbeRootfs("/x"));
});

test("busybox rootfs (when busybox-static is installed)", () => {
  if (!busyboxAvailable()) {
    console.warn("  skipped: busybox-static not installed");
    return;
  }
  const dir = ensureBusyboxRootfs();
  assert.ok(isStaticElf(join(dir, "bin/busybox")));
  assert.ok(existsSync(join(dir, "bin/probe")));
  assert.ok(lstatSync(join(dir, "bin/sh")).isSymbolicLink());
  assert.is(readlinkSync(join(dir, "bin/sh")), "busybox");
  const have = new Set(busyboxApplets());
  assert.equal(BUSYBOX_APPLETS.filter((a) => !have.has(a)), []);
  const r = spawnSync(join(dir, "bin/busybox"), ["sh", "-c", "echo hi; exit 4"], { encoding: "utf8" });
  assert.is(r.stdout, "hi\n");
  assert.is(r.status, 4);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
