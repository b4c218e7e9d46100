// process.*, hostname, domainname, linux.sysctl, --preserve-fds and stdio: what
// the probe sees in a real container against what config.json asked for.
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { OCIRT, sandbox, uniqueId, waitFor, type Sandbox } from "./harness";
import { copyRootfs, createFails, ocirtPiped, probeEnv, run, runReport, seqText } from "./util";
import { randomBytes } from "node:crypto";
import type { OciConfig } from "../../src/spec/types";
import { capBits, parseProbeReport } from "../../conformance/probe/report";
import { PROBE_USERS } from "../../conformance/rootfs";
import { capNumber } from "../../src/capabilities/names";

const t = hostSuite<{ sb: Sandbox }>("process");
t.before((ctx) => {
  ctx.sb = sandbox("process");
});
t.after((ctx) => ctx.sb.cleanup());

const mask = (names: string[]) => names.reduce((m, n) => m | (1n << BigInt(capNumber(n)!)), 0n);
const hostStatus = () => readFileSync("/proc/self/status", "utf8");
const hostBounding = () => BigInt("0x" + /^CapBnd:\s*([0-9a-f]+)$/m.exec(hostStatus())![1]);
const CAP_SYS_RESOURCE = capNumber("CAP_SYS_RESOURCE")!;
const hostHasSysResource = () => (hostBounding() & (1n << BigInt(CAP_SYS_RESOURCE))) !== 0n;

t("args reach the program as given; args[0] is looked up in the container's PATH", ({ sb }) => {
  let r = runReport(sb, (c) => (c.process!.args = ["/bin/probe", "report", "two words", "", "--x=1", "ünï"]));
  assert.equal(r.argv, ["/bin/probe", "report", "two words", "", "--x=1", "ünï"]);
  r = runReport(sb, (c) => (c.process!.args = ["probe", "report"]));
  assert.equal(r.argv, ["probe", "report"]);
  assert.is(r.exe, "/bin/probe");
});

t("env is passed in order; HOME comes from the container's /etc/passwd when absent", ({ sb }) => {
  let r = runReport(sb, (c) => (c.process!.env = ["PATH=/bin", "A=1", "B=x=y", "EMPTY="]));
  assert.equal(r.env, ["PATH=/bin", "A=1", "B=x=y", "EMPTY=", "HOME=/root"]);
  r = runReport(sb, (c) => {
    c.process!.env = ["PATH=/bin"];
    c.process!.user = { uid: PROBE_USERS.probeuser.uid, gid: PROBE_USERS.probeuser.gid };
  });
  assert.equal(r.env, ["PATH=/bin", `HOME=${PROBE_USERS.probeuser.home}`]);
  // a uid without a passwd entry: "/", as runc
  r = runReport(sb, (c) => {
    c.process!.env = ["PATH=/bin"];
    c.process!.user = { uid: 4242, gid: 4242 };
  });
  assert.equal(r.env, ["PATH=/bin", "HOME=/"]);
  // a HOME of the config is kept, and not doubled
  r = runReport(sb, (c) => (c.process!.env = ["HOME=/somewhere", "PATH=/bin"]));
  assert.equal(r.env, ["HOME=/somewhere", "PATH=/bin"]);
});

t("env: a repeated name stays where it first appears with its last value; an empty HOME is filled in place (runc 1.1)", ({ sb }) => {
  let r = runReport(sb, (c) => (c.process!.env = ["PATH=/bin", "A=1", "HOME=", "A=2"]));
  assert.equal(r.env, ["PATH=/bin", "A=2", "HOME=/root"]);
  r = runReport(sb, (c) => (c.process!.env = ["A=1", "PATH=/bin", "B=2", "HOME=", "A=3", "C=4"]));
  assert.equal(r.env, ["A=3", "PATH=/bin", "B=2", "HOME=/root", "C=4"]);
});

t("env: HOME is \"/\" when /etc/passwd is masked (runc looks the user up inside, after the masks)", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.process!.env = ["PATH=/bin"];
    c.linux!.maskedPaths = [...(c.linux!.maskedPaths ?? []), "/etc/passwd"];
  });
  assert.equal(r.env, ["PATH=/bin", "HOME=/"]);
});

t("cwd: set, and created (0755) when missing", ({ sb }) => {
  let r = runReport(sb, (c) => (c.process!.cwd = "/tmp"));
  assert.is(r.cwd, "/tmp");
  const rootfs = copyRootfs(sb);
  r = runReport(sb, (c) => {
    c.root!.path = rootfs;
    c.process!.cwd = "/new/deep/dir";
  });
  assert.is(r.cwd, "/new/deep/dir");
  const st = statSync(join(rootfs, "new/deep/dir"));
  assert.ok(st.isDirectory());
  assert.is(st.mode & 0o777, 0o755);
});

t("cwd: .. and symlinks cannot lead outside the container", ({ sb }) => {
  const rootfs = copyRootfs(sb);
  const outside = join(sb.dir, `outside-${uniqueId("o")}`);
  mkdirSync(outside);
  // links that, followed on the host, would name a directory outside the rootfs;
  // in the rootfs they name its own copy of that path
  mkdirSync(join(rootfs, outside), { recursive: true });
  symlinkSync(`../../../../../../../../..${outside}`, join(rootfs, "escape"));
  symlinkSync(outside, join(rootfs, "escape-abs"));
  let r = runReport(sb, (c) => {
    c.root!.path = rootfs;
    c.process!.cwd = "/escape/made";
  });
  assert.not.ok(existsSync(join(outside, "made")), "nothing was created outside the rootfs");
  assert.ok(existsSync(join(rootfs, outside, "made")), "the directory was made inside the rootfs");
  assert.is(r.cwd, `${outside}/made`);
  r = runReport(sb, (c) => {
    c.root!.path = rootfs;
    c.process!.cwd = "/escape-abs/made2";
  });
  assert.not.ok(existsSync(join(outside, "made2")), "nothing was created outside the rootfs");
  assert.ok(existsSync(join(rootfs, outside, "made2")));
  assert.is(r.cwd, `${outside}/made2`);
  r = runReport(sb, (c) => {
    c.root!.path = rootfs;
    c.process!.cwd = "/../../../../../../up";
  });
  assert.is(r.cwd, "/up");
  assert.ok(existsSync(join(rootfs, "up")));
});

t("user: uid, gid and additionalGids, groups exactly as listed (runc does not read /etc/group)", ({ sb }) => {
  const u = PROBE_USERS.probeuser;
  let r = runReport(sb, (c) => (c.process!.user = { uid: u.uid, gid: u.gid, additionalGids: [5, 4242] }));
  assert.equal([r.uid, r.euid, r.suid], [u.uid, u.uid, u.uid]);
  assert.equal([r.gid, r.egid, r.sgid], [u.gid, u.gid, u.gid]);
  assert.equal(r.groups, [5, 4242]);
  r = runReport(sb, (c) => (c.process!.user = { uid: u.uid, gid: u.gid }));
  assert.equal(r.groups, [], "no /etc/group membership is added");
  r = runReport(sb, (c) => (c.process!.user = { uid: 0, gid: 0, additionalGids: [10, 29] }));
  assert.equal([r.uid, r.gid], [0, 0]);
  assert.equal(r.groups, [10, 29]);
  r = runReport(sb, (c) => (c.process!.user = { uid: 0, gid: 0 }));
  assert.equal(r.groups, []);
});

t("umask: as configured; 0022 when absent", ({ sb }) => {
  let r = runReport(sb, (c) => (c.process!.user = { uid: 0, gid: 0, umask: 0o027 }));
  assert.is(r.umask_octal, "0027");
  r = runReport(sb, (c) => (c.process!.user = { uid: 0, gid: 0, umask: 0 }));
  assert.is(r.umask_octal, "0000");
  r = runReport(sb, (c) => (c.process!.user = { uid: 0, gid: 0 }));
  assert.is(r.umask_octal, "0022");
});

t("hostname and domainname", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.hostname = "probe-host";
    c.domainname = "probe.example";
  });
  assert.is(r.hostname, "probe-host");
  assert.is(r.domainname, "probe.example");
});

t("capabilities: all five sets, root", ({ sb }) => {
  const caps = {
    bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP", "CAP_NET_RAW"],
    effective: ["CAP_CHOWN", "CAP_KILL"],
    permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    inheritable: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    ambient: ["CAP_KILL"],
  };
  for (const nnp of [true, false]) {
    const r = runReport(sb, (c) => {
      c.process!.capabilities = caps;
      c.process!.noNewPrivileges = nnp;
    });
    assert.is(capBits(r.capabilities.CapBnd), mask(caps.bounding));
    assert.is(capBits(r.capabilities.CapInh), mask(caps.inheritable));
    assert.is(capBits(r.capabilities.CapAmb), mask(caps.ambient));
    // execve as uid 0 grants root the bounding set (plus inheritable), and makes
    // them all effective; no_new_privs keeps it to what it had (as with runc)
    const prm = nnp ? mask(caps.permitted) : mask(caps.bounding) | mask(caps.inheritable);
    assert.is(capBits(r.capabilities.CapPrm), prm, `permitted, noNewPrivileges ${nnp}`);
    assert.is(capBits(r.capabilities.CapEff), prm, `effective, noNewPrivileges ${nnp}`);
  }
});

t("capabilities: none in the config means none at all, bounding set included, as runc", ({ sb }) => {
  const r = runReport(sb, (c) => delete c.process!.capabilities);
  for (const set of ["CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"] as const) assert.is(capBits(r.capabilities[set]), 0n, set);
});

t("capabilities: all five sets, non-root user (what survives execve is the ambient set)", ({ sb }) => {
  const caps = {
    bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP"],
    effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    inheritable: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    ambient: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
  };
  const r = runReport(sb, (c) => {
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.capabilities = caps;
  });
  assert.is(r.uid, 1000);
  assert.is(capBits(r.capabilities.CapBnd), mask(caps.bounding));
  assert.is(capBits(r.capabilities.CapInh), mask(caps.inheritable));
  assert.is(capBits(r.capabilities.CapAmb), mask(caps.ambient));
  assert.is(capBits(r.capabilities.CapPrm), mask(caps.ambient));
  assert.is(capBits(r.capabilities.CapEff), mask(caps.ambient));
  // without ambient capabilities a non-root user has none left
  const r2 = runReport(sb, (c) => {
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.capabilities = { ...caps, ambient: [] };
  });
  assert.is(capBits(r2.capabilities.CapPrm), 0n);
  assert.is(capBits(r2.capabilities.CapEff), 0n);
  assert.is(capBits(r2.capabilities.CapBnd), mask(caps.bounding));
});

const missingCaps = ["CAP_SYS_RESOURCE", "CAP_SYS_MODULE", "CAP_SYS_TIME"].filter((n) => (hostBounding() & (1n << BigInt(capNumber(n)!))) === 0n);
testIf(t, missingCaps.length ? null : "the host's bounding set has every capability", "capabilities the host's bounding set lacks are dropped with a warning", ({ sb }) => {
  const missing = missingCaps;
  const caps = ["CAP_CHOWN", missing[0]!];
  const res = run(sb, (c) => (c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps }));
  assert.is(res.status, 0, res.stderr);
  const r = parseProbeReport(res.stdout);
  assert.is(capBits(r.capabilities.CapBnd), mask(["CAP_CHOWN"]));
  assert.match(res.stderr, missing[0]!);
});

t("rlimits: soft and hard as configured (at or below ocirt's own hard limits)", ({ sb }) => {
  const r = runReport(sb, (c) => {
    c.process!.rlimits = [
      { type: "RLIMIT_NOFILE", soft: 512, hard: 1000 },
      { type: "RLIMIT_CORE", soft: 0, hard: 0 },
      { type: "RLIMIT_NPROC", soft: 300, hard: 400 },
      { type: "RLIMIT_MSGQUEUE", soft: 1000, hard: 2000 },
    ];
  });
  assert.equal(r.rlimits["RLIMIT_NOFILE"], { soft: 512, hard: 1000 });
  assert.equal(r.rlimits["RLIMIT_CORE"], { soft: 0, hard: 0 });
  assert.equal(r.rlimits["RLIMIT_NPROC"], { soft: 300, hard: 400 });
  assert.equal(r.rlimits["RLIMIT_MSGQUEUE"], { soft: 1000, hard: 2000 });
});

const ownNofile = Number(spawnSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).stdout.trim());
testIf(t, Number.isFinite(ownNofile) ? null : "RLIMIT_NOFILE is unlimited here", "rlimits: a hard limit above ocirt's own needs CAP_SYS_RESOURCE; without it create fails naming process.rlimits[i]", ({ sb }) => {
  const own = ownNofile;
  const patch = (c: import("../../src/spec/types").OciConfig) => {
    c.process!.rlimits = [
      { type: "RLIMIT_CORE", soft: 0, hard: 0 },
      { type: "RLIMIT_NOFILE", soft: own + 1, hard: own + 1 },
    ];
  };
  if (hostHasSysResource()) {
    const r = runReport(sb, patch);
    assert.equal(r.rlimits["RLIMIT_NOFILE"], { soft: own + 1, hard: own + 1 });
    return;
  }
  const line = createFails(sb, patch);
  assert.match(line, /^process\.rlimits\[1\] \(RLIMIT_NOFILE\): .*(EPERM|not permitted)/);
});

t("noNewPrivileges", ({ sb }) => {
  assert.is(runReport(sb, (c) => (c.process!.noNewPrivileges = true)).no_new_privs, 1);
  assert.is(runReport(sb, (c) => (c.process!.noNewPrivileges = false)).no_new_privs, 0);
});

t("oomScoreAdj (raising it; lowering below the current value needs CAP_SYS_RESOURCE)", ({ sb }) => {
  assert.is(runReport(sb, (c) => (c.process!.oomScoreAdj = 500)).oom_score_adj, 500);
  assert.is(runReport(sb, (c) => (c.process!.oomScoreAdj = 1000)).oom_score_adj, 1000);
  const own = Number(readFileSync("/proc/self/oom_score_adj", "utf8"));
  assert.is(runReport(sb, (c) => delete c.process!.oomScoreAdj).oom_score_adj, own, "inherited when absent");
});

t("sysctl: net.* in a new network namespace, kernel.domainname and kernel.shm* in new uts/ipc ones", ({ sb }) => {
  const hostForward = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim();
  const want = hostForward === "1" ? "0" : "1";
  const r = runReport(sb, (c) => {
    c.linux!.sysctl = {
      "net.ipv4.ip_forward": want,
      "net.ipv4.ping_group_range": "0 2147483647",
      "kernel.domainname": "sysctl.example",
      "kernel.shmmni": "1234",
      "net/ipv4/conf/lo/forwarding": want, // sysctl.d's slash form
    };
    probeEnv(c, { sysctls: ["net.ipv4.ip_forward", "net.ipv4.ping_group_range", "kernel.domainname", "kernel.shmmni", "net.ipv4.conf.lo.forwarding"] });
  });
  assert.equal(r.sysctls["net.ipv4.ip_forward"], { value: want });
  assert.equal(r.sysctls["net.ipv4.ping_group_range"], { value: "0\t2147483647" });
  assert.equal(r.sysctls["kernel.domainname"], { value: "sysctl.example" });
  assert.is(r.domainname, "sysctl.example");
  assert.equal(r.sysctls["kernel.shmmni"], { value: "1234" });
  assert.equal(r.sysctls["net.ipv4.conf.lo.forwarding"], { value: want });
  assert.is(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim(), hostForward, "the host's value is untouched");
});

t("sysctl of a namespace the container does not have is refused (it would change the host)", ({ sb }) => {
  const hostForward = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim();
  // the host's own value, so that even a runtime that writes it changes nothing
  const line = createFails(sb, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "network");
    c.linux!.sysctl = { "net.ipv4.ip_forward": hostForward };
  });
  assert.match(line, 'linux.sysctl["net.ipv4.ip_forward"]: ');
  const line2 = createFails(sb, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "uts");
    delete c.hostname;
    c.linux!.sysctl = { "kernel.domainname": readFileSync("/proc/sys/kernel/domainname", "utf8").trim() };
  });
  assert.match(line2, 'linux.sysctl["kernel.domainname"]: ');
});

t("sysctl that does not exist fails naming the key", ({ sb }) => {
  const line = createFails(sb, (c) => (c.linux!.sysctl = { "net.ipv4.no_such_knob": "1" }));
  assert.match(line, /^linux\.sysctl\["net\.ipv4\.no_such_knob"\]: .*ENOENT/);
});

/** Runs `ocirt run` with fds 3.. open on files; returns the probe's fd list and env. */
function runWithFds(sb: Sandbox, nfds: number, flags: string[], envPrefix = ""): { fds: { fd: number; target: string | null }[]; env: string[]; files: string[] } {
  const id = uniqueId("fd");
  sb.ids.push(id);
  const b = sb.bundle();
  const files = Array.from({ length: nfds }, (_, i) => join(sb.dir, `${id}-fd${3 + i}`));
  const extra = files.map((f) => openSync(f, "w"));
  const out = join(sb.dir, `${id}.out`), err = join(sb.dir, `${id}.err`);
  const fo = openSync(out, "w"), fe = openSync(err, "w");
  try {
    const cmd = `${envPrefix}exec ${OCIRT} --root ${sb.root} run ${flags.join(" ")} -b ${b} ${id}`;
    const r = spawnSync("sh", ["-c", cmd], { stdio: ["ignore", fo, fe, ...extra], timeout: 60_000 });
    assert.is(r.status, 0, readFileSync(err, "utf8"));
  } finally {
    [fo, fe, ...extra].forEach((fd) => closeSync(fd));
  }
  const rep = parseProbeReport(readFileSync(out, "utf8"));
  return { fds: rep.fds!, env: rep.env, files };
}

t("stdio of a foreground run are pipes of the process's own (runc's setupProcessPipes); only --preserve-fds N fds (3..N+2) reach the container", ({ sb }) => {
  let r = runWithFds(sb, 2, []);
  assert.equal(r.fds.map((f) => f.fd), [0, 1, 2], "without --preserve-fds nothing but stdio");
  const targets = r.fds.map((f) => f.target ?? "");
  for (const tg of targets) assert.match(tg, /^pipe:\[\d+\]$/, `not ocirt's /dev/null and files: ${targets.join(" ")}`);
  assert.is(new Set(targets).size, 3);
  r = runWithFds(sb, 2, ["--preserve-fds", "2"]);
  assert.equal(r.fds.map((f) => f.fd), [0, 1, 2, 3, 4]);
  assert.is(r.fds[3]!.target, r.files[0]);
  assert.is(r.fds[4]!.target, r.files[1]);
  r = runWithFds(sb, 3, ["--preserve-fds", "1"]);
  assert.equal(r.fds.map((f) => f.fd), [0, 1, 2, 3], "fds above 3+N are not passed");
});

t("LISTEN_FDS (with LISTEN_PID of ocirt) passes fds 3.. and tells the container LISTEN_FDS/LISTEN_PID=1", ({ sb }) => {
  let r = runWithFds(sb, 3, ["--preserve-fds", "1"], "LISTEN_PID=$$ LISTEN_FDS=2 ");
  assert.equal(r.fds.map((f) => f.fd), [0, 1, 2, 3, 4, 5], "2 listen fds, then 1 preserved");
  assert.equal(r.fds.slice(3).map((f) => f.target), r.files);
  assert.ok(r.env.includes("LISTEN_FDS=2"), r.env.join(" "));
  assert.ok(r.env.includes("LISTEN_PID=1"), r.env.join(" "));
  // LISTEN_FDS meant for another process is not ours
  r = runWithFds(sb, 2, [], "LISTEN_PID=1 LISTEN_FDS=2 ");
  assert.equal(r.fds.map((f) => f.fd), [0, 1, 2]);
  assert.not.ok(r.env.some((e) => e.startsWith("LISTEN_FDS=")));
});

t("a session keyring of the container's own, as runc; --no-new-keyring keeps the caller's", ({ sb }) => {
  const r = runReport(sb, () => {});
  assert.match(r.session_keyring ?? "", /^keyring;0;0;[0-9a-f]+;_ses\.ocitest-/, String(r.session_keyring));
  const kept = runReport(sb, () => {}, { args: ["--no-new-keyring"] });
  assert.not.match(kept.session_keyring ?? "", /_ses\.ocitest-/, "the caller's keyring");
});

t("run -d hands the caller's stdio over unchanged (runc's inheritStdio)", ({ sb }) => {
  const id = uniqueId("d");
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["sh", "-c", "for f in 0 1 2; do echo $(readlink /proc/$$/fd/$f) >&2; done"]), { busybox: true });
  const pidFile = join(sb.dir, `${id}.pid`);
  assert.is(sb.ocirt(["run", "-d", "--pid-file", pidFile, "-b", b, id]).status, 0);
  const pid = Number(readFileSync(pidFile, "utf8"));
  // (no other ocirt call meanwhile: each one truncates the files)
  assert.ok(waitFor(() => !existsSync(`/proc/${pid}`)), "the process ends");
  const err = readFileSync(join(sb.dir, `err-${process.pid}`), "utf8").split("\n");
  assert.equal(err.slice(0, 3), ["/dev/null", join(sb.dir, `out-${process.pid}`), join(sb.dir, `err-${process.pid}`)]);
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t("foreground run: stdin whole then EOF, megabytes of stdout complete and in order, stderr apart, the exit status", ({ sb }) => {
  const id = uniqueId("io");
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["sh", "-c", "cat; seq 1 600000 >&2; exit 5"]), { busybox: true });
  const data = randomBytes(2 << 20);
  const r = ocirtPiped(sb, ["run", "-b", b, id], { input: data });
  assert.is(r.status, 5, r.stderr.toString().slice(0, 300));
  assert.ok(r.stdout.equals(data), `stdout ${r.stdout.length} bytes of ${data.length}`);
  assert.ok(r.stderr.toString() === seqText(600000), "stderr complete and in order");
});

t("foreground run without a pid namespace: a process left holding stdout is killed with the container, not waited for; with --keep it is waited for (as runc)", ({ sb }) => {
  const noPid = (c: OciConfig) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "pid"));
  let id = uniqueId("bg");
  sb.ids.push(id);
  let b = sb.bundle((c) => {
    noPid(c);
    c.process!.args = ["sh", "-c", "(sleep 30; echo late) & echo early"];
  }, { busybox: true });
  let r = ocirtPiped(sb, ["run", "-b", b, id]);
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), "early\n");
  assert.ok(r.ms < 20_000, `${r.ms} ms`);
  id = uniqueId("bg");
  sb.ids.push(id);
  b = sb.bundle((c) => {
    noPid(c);
    c.process!.args = ["sh", "-c", "(sleep 1; echo late) & echo early"];
  }, { busybox: true });
  r = ocirtPiped(sb, ["run", "--keep", "-b", b, id]);
  assert.is(r.status, 0, r.stderr.toString());
  assert.is(r.stdout.toString(), "early\nlate\n");
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t.run();
