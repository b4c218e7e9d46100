// linux.seccomp in real containers (root): every action, errno values, argument
// rules, Docker's default profile, the filter with and without no_new_privs, and
// SCMP_ACT_NOTIFY reaching an agent at listenerPath (a small C program the test
// compiles). The probe's `probe syscall NAME [ARG]` prints the errno name (or 0).
import { sharedFixture } from "../fixtures/shared";
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, waitFor, REPO, type Sandbox } from "./harness";
import { run, runReport } from "./util";
import { defaultSpec } from "../../src/spec/default";
import type { OciConfig } from "../../src/spec/types";

const DOCKER_PROFILE = sharedFixture("docker-default-seccomp.json") ?? "../shared/fixtures/docker-default-seccomp.json";
const ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];
const SIGSYS = 31;

type Seccomp = NonNullable<NonNullable<OciConfig["linux"]>["seccomp"]>;
type Rule = Seccomp["syscalls"] extends (infer R)[] | undefined ? R : never;

const allow = (syscalls: Rule[], extra: Partial<Seccomp> = {}): Seccomp => ({ defaultAction: "SCMP_ACT_ALLOW", architectures: ARCHES as never, syscalls, ...extra });

/** Everything a static probe needs to start, run one syscall, print and exit. */
const PROBE_NEEDS = [
  "execve", "execveat", "close", "close_range", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq",
  "prlimit64", "mprotect", "mmap", "munmap", "readlink", "readlinkat", "getrandom", "uname", "newfstatat", "fstat",
  "write", "writev", "exit", "exit_group", "ioctl", "fcntl", "futex", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
  "getpid", "gettid", "read", "openat", "lseek",
];

const ALL_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
  "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_PTRACE",
];
const withCaps = (c: OciConfig, caps: string[]) => {
  c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
};

/** `probe syscall NAME [ARG]` under the profile: exit status and the errno name it printed. */
function sys(sb: Sandbox, seccomp: Seccomp | undefined, call: string[], patch?: (c: OciConfig) => void): { status: number; out: string; stderr: string } {
  const r = run(sb, (c) => {
    if (seccomp) c.linux!.seccomp = seccomp;
    c.process!.args = ["/bin/probe", "syscall", ...call];
    patch?.(c);
  });
  return { status: r.status, out: r.stdout.trim(), stderr: r.stderr };
}

const t = hostSuite<{ sb: Sandbox }>("seccomp");
t.before((ctx) => {
  ctx.sb = sandbox("seccomp");
});
t.after((ctx) => ctx.sb.cleanup());

t("a profile that names none of openat2, faccessat2, close_range (EPERM for them): the init's own steps after the filter use the older calls, as runc 1.1's, with and without no_new_privs", ({ sb }) => {
  // runtime-tools' default profile is such a one: default ERRNO, an allow list without them
  for (const nnp of [false, true]) {
    const r = run(sb, (c) => {
      c.process!.noNewPrivileges = nnp;
      c.process!.args = ["/bin/probe", "exit", "0"];
      c.linux!.seccomp = allow([{ names: ["openat2", "faccessat2", "close_range"], action: "SCMP_ACT_ERRNO" }]);
    });
    assert.is(r.status, 0, `noNewPrivileges ${nnp}: ${r.stderr}`);
    assert.is(r.stderr, "");
  }
});

t("SCMP_ACT_ERRNO returns errnoRet, EPERM without one; other syscalls are untouched", ({ sb }) => {
  assert.equal(sys(sb, allow([{ names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }]), ["kill"]), { status: 0, out: "EACCES", stderr: "" });
  assert.is(sys(sb, allow([{ names: ["kill"], action: "SCMP_ACT_ERRNO" }]), ["kill"]).out, "EPERM");
  assert.is(sys(sb, allow([{ names: ["kill"], action: "SCMP_ACT_ERRNO" }]), ["getcwd"]).out, "0");
  assert.is(sys(sb, undefined, ["kill"]).out, "0", "without a profile kill(self, 0) works");
});

t("defaultAction SCMP_ACT_ERRNO returns defaultErrnoRet for what is not allowed", ({ sb }) => {
  const profile: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 95,
    architectures: ARCHES as never,
    syscalls: [
      { names: PROBE_NEEDS, action: "SCMP_ACT_ALLOW" },
      { names: ["getcwd"], action: "SCMP_ACT_ERRNO" }, // errnoRet defaults to EPERM, not defaultErrnoRet
    ],
  };
  const r = sys(sb, profile, ["kill"]);
  assert.equal(r, { status: 0, out: "ENOTSUP", stderr: "" });
  assert.is(sys(sb, profile, ["getcwd"]).out, "EPERM");
  assert.is(sys(sb, profile, ["getpid"]).out, "0");
});

for (const action of ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"] as const) {
  t(`${action} kills the process with SIGSYS: ocirt run exits ${128 + SIGSYS}`, ({ sb }) => {
    const r = sys(sb, allow([{ names: ["kill"], action }]), ["kill"]);
    assert.is(r.status, 128 + SIGSYS, `stdout ${r.out} stderr ${r.stderr}`);
    assert.is(r.out, "", "the probe never got to print");
    assert.is(sys(sb, allow([{ names: ["kill"], action }]), ["getpid"]).status, 0, "other syscalls pass");
  });
}

t("SCMP_ACT_LOG allows the syscall (and logs it)", ({ sb }) => {
  assert.equal(sys(sb, allow([{ names: ["kill"], action: "SCMP_ACT_LOG" }]), ["kill"]), { status: 0, out: "0", stderr: "" });
  const logged = readFileSync("/proc/sys/kernel/seccomp/actions_logged", "utf8");
  assert.match(logged, /\blog\b/, "the kernel logs SECCOMP_RET_LOG actions on this host");
});

t("argument rules: personality(0xffffffff) only; socket(AF_INET) only; masked and two-argument rules", ({ sb }) => {
  const pers = allow([{ names: ["personality"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 0xffffffff, op: "SCMP_CMP_EQ" }] }]);
  assert.is(sys(sb, pers, ["personality"]).out, "EPERM", "personality(0xffffffff) is blocked");
  assert.is(sys(sb, pers, ["personality", "0"]).out, "0", "personality(0) is not");
  assert.is(sys(sb, pers, ["personality", "0x8"]).out, "0");

  const inet = allow([{ names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [{ index: 0, value: 2, op: "SCMP_CMP_EQ" }] }]);
  assert.is(sys(sb, inet, ["socket", "inet"]).out, "EAFNOSUPPORT");
  assert.is(sys(sb, inet, ["socket", "unix"]).out, "0");
  assert.is(sys(sb, inet, ["socket", "inet6"]).out, "0");

  // both conditions must hold: AF_UNIX and (type & 0xf) == SOCK_DGRAM (the probe adds SOCK_CLOEXEC)
  const both = allow([{
    names: ["socket"], action: "SCMP_ACT_ERRNO",
    args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }, { index: 1, value: 0xf, valueTwo: 2, op: "SCMP_CMP_MASKED_EQ" }],
  }]);
  assert.is(sys(sb, both, ["socket", "unix"]).out, "EPERM");
  assert.is(sys(sb, both, ["socket", "inet"]).out, "0");

  // 64-bit comparisons: the upper half counts
  const gt = allow([{ names: ["personality"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 0x100000000, op: "SCMP_CMP_GE" }] }]);
  assert.is(sys(sb, gt, ["personality"]).out, "0", "0xffffffff < 0x100000000");
});

const docker = existsSync(DOCKER_PROFILE) ? (JSON.parse(readFileSync(DOCKER_PROFILE, "utf8")) as Seccomp) : undefined;
testIf(t, docker ? null : `${DOCKER_PROFILE} is absent`, "Docker's default profile: a normal process works; reboot, mount, unshare get EPERM even with the capabilities", ({ sb }) => {
  const rep = runReport(sb, (c) => (c.linux!.seccomp = docker));
  assert.is(rep.seccomp, 2, "filter mode");
  assert.is(rep.hostname, "ocitest");
  const full = (c: OciConfig) => withCaps(c, ALL_CAPS);
  // without the profile the same calls get past the kernel's permission checks
  assert.is(sys(sb, undefined, ["reboot"], full).out, "EINVAL", "reboot(0, 0, 0): bad magic when allowed");
  assert.is.not(sys(sb, undefined, ["mount"], full).out, "EPERM");
  assert.is(sys(sb, undefined, ["unshare", "0x20000"], full).out, "0");
  for (const call of [["reboot"], ["mount"], ["unshare", "0x20000"], ["unshare", "0"]]) {
    const r = sys(sb, docker, call, full);
    assert.equal({ status: r.status, out: r.out }, { status: 0, out: "EPERM" }, call.join(" "));
  }
  assert.is(sys(sb, docker, ["socket", "inet"]).out, "0");
});

testIf(t, docker ? null : `${DOCKER_PROFILE} is absent`, "Docker's default profile without no_new_privs, as a non-root user: loaded while the init still may", ({ sb }) => {
  const rep = runReport(sb, (c) => {
    c.linux!.seccomp = docker;
    c.process!.noNewPrivileges = false;
    c.process!.user = { uid: 1000, gid: 1000 };
  });
  assert.is(rep.seccomp, 2);
  assert.is(rep.no_new_privs, 0);
  assert.is(rep.uid, 1000);
  assert.is(rep.capabilities.CapEff, "0000000000000000");
});

t("noNewPrivileges true and false: the filter is in force either way", ({ sb }) => {
  for (const nnp of [true, false]) {
    for (const user of [{ uid: 0, gid: 0 }, { uid: 1000, gid: 1000 }]) {
      const what = `noNewPrivileges ${nnp}, uid ${user.uid}`;
      const patch = (c: OciConfig) => {
        c.linux!.seccomp = allow([{ names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }]);
        c.process!.noNewPrivileges = nnp;
        c.process!.user = user;
      };
      const r = sys(sb, undefined, ["kill"], patch);
      assert.equal({ status: r.status, out: r.out }, { status: 0, out: "EACCES" }, what);
      const rep = runReport(sb, patch);
      assert.is(rep.no_new_privs, nnp ? 1 : 0, what);
      assert.is(rep.seccomp, 2, what);
      assert.is(rep.seccomp_filters, 1, `${what}: exactly one filter`);
    }
  }
});

// ---- SCMP_ACT_NOTIFY ----

let agentBin: string | undefined;
function buildAgent(sb: Sandbox): string {
  if (agentBin) return agentBin;
  const out = join(sb.dir, "seccomp-agent");
  execFileSync("gcc", ["-O2", "-Wall", "-o", out, join(REPO, "test", "integration", "fixtures", "seccomp-agent.c")], { stdio: "pipe" });
  return (agentBin = out);
}

function startAgent(sb: Sandbox, tag: string): { sock: string; dir: string; proc: ChildProcess; stop(): Promise<void> } {
  const bin = buildAgent(sb);
  const dir = join(sb.dir, `agent-${tag}`);
  mkdirSync(dir);
  const sock = join(dir, "agent.sock");
  const proc = spawn(bin, [sock, dir], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((res) => proc.on("exit", () => res()));
  assert.ok(waitFor(() => existsSync(join(dir, "ready"))), "agent listens");
  return {
    sock, dir, proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

for (const nnp of [true, false]) {
  t(`SCMP_ACT_NOTIFY (noNewPrivileges ${nnp}): the agent at listenerPath gets the fd and the state, and answers`, async ({ sb }) => {
    const agent = startAgent(sb, `nnp-${nnp}`);
    try {
      const profile = allow([{ names: ["reboot", "sethostname", "getppid"], action: "SCMP_ACT_NOTIFY" }], { listenerPath: agent.sock, listenerMetadata: "ocitest-metadata" });
      const r = run(sb, (c) => {
        c.linux!.seccomp = profile;
        c.process!.noNewPrivileges = nnp;
        c.process!.args = ["/bin/probe", "syscall", "reboot"];
        c.annotations = { "org.ocitest.seccomp": "notify" };
      });
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout.trim(), "0", "reboot: the agent's fake success (EPERM without it, as the container has no CAP_SYS_BOOT)");
      assert.ok(waitFor(() => existsSync(join(agent.dir, "done"))), "the agent sees the filter go away when the container exits");
      const state = JSON.parse(readFileSync(join(agent.dir, "state.json"), "utf8"));
      assert.is(readFileSync(join(agent.dir, "fds"), "utf8"), "1", "one fd: the listener");
      assert.is(state.ociVersion, defaultSpec({ rootless: false }).ociVersion);
      assert.equal(state.fds, ["seccompFd"]);
      assert.is(typeof state.pid, "number");
      assert.ok(state.pid > 0);
      assert.is(state.metadata, "ocitest-metadata");
      assert.is(state.state.id, r.id);
      assert.is(state.state.pid, state.pid);
      assert.match(state.state.status, /^(creating|created)$/);
      assert.is(state.state.annotations?.["org.ocitest.seccomp"], "notify");
      const log = readFileSync(join(agent.dir, "log"), "utf8").trim().split("\n");
      assert.is(log.length, 1, "one notification: reboot");
      if (process.arch === "x64") assert.equal(log, ["169"]);
    } finally {
      await agent.stop();
    }
  });
}

t("SCMP_ACT_NOTIFY: errors and pass-through from the agent; a missing listener fails create", async ({ sb }) => {
  for (const [call, want] of [["sethostname", "ENOTSUP"], ["getppid", "0"]] as const) {
    const agent = startAgent(sb, `answer-${call}`);
    try {
      const profile = allow([{ names: ["reboot", "sethostname", "getppid"], action: "SCMP_ACT_NOTIFY" }], { listenerPath: agent.sock });
      const r = sys(sb, profile, [call], (c) => withCaps(c, ALL_CAPS));
      assert.equal({ status: r.status, out: r.out }, { status: 0, out: want }, call);
    } finally {
      await agent.stop();
    }
  }
  const r = sys(sb, allow([{ names: ["reboot"], action: "SCMP_ACT_NOTIFY" }], { listenerPath: join(sb.dir, "nobody-listens.sock") }), ["reboot"]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /listenerPath/);
  assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
});

t.run();
