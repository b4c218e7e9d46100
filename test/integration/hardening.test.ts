// The "Hardening" issue, attacked and checked in real containers (root): a
// symlinked /proc into a volume (D1), the old root under --no-pivot (D2), the
// seccomp filter around startContainer hooks (D3), the waiting init's fds and
// dumpability (D4, D5), counts without a fixed limit (D6), hook state and hooks
// that do not read it (D7), signals to a created container (D8), and the runc
// parity items of the init helper (E). Each test was run against the helper
// without its fix and failed there (the comment says what it guards).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { isRoot, sandbox, statePid, uniqueId, waitFor, type Sandbox } from "./harness";
import { copyRootfs, createFails, run } from "./util";
import type { OciConfig } from "../../src/spec/types";

const t = suite<{ sb: Sandbox }>("hardening");
t.before((ctx) => {
  ctx.sb = sandbox("hardening");
});
t.after((ctx) => ctx.sb.cleanup());

if (!isRoot) t.skip("needs root", () => {});

/** Docker's default capabilities: enough to unshare a user namespace and write its maps. */
const DOCKER_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
];
const sh = (script: string) => ["/bin/sh", "-c", script];
const userns = (c: OciConfig, base: number) => {
  c.linux!.namespaces!.push({ type: "user" });
  c.linux!.uidMappings = [{ containerID: 0, hostID: base, size: 65536 }];
  c.linux!.gidMappings = [{ containerID: 0, hostID: base, size: 65536 }];
};
const stateOf = (sb: Sandbox, id: string) => JSON.parse(sb.ocirt(["state", id]).stdout || "{}").status as string | undefined;

// ---- D1: a symlinked /proc ----

/** A busybox rootfs whose /proc (or /sys) is a symlink into /vol, and a volume with a fake tree there. */
function symlinkedPseudo(sb: Sandbox, which: "proc" | "sys"): { rootfs: string; vol: string; file: string } {
  const rootfs = copyRootfs(sb, { busybox: true });
  rmSync(join(rootfs, which), { recursive: true, force: true });
  symlinkSync(`/vol/${which}`, join(rootfs, which));
  mkdirSync(join(rootfs, "vol"), { recursive: true });
  const vol = mkdtempSync(join(sb.dir, "vol-"));
  mkdirSync(join(vol, which, "sys", "kernel"), { recursive: true });
  mkdirSync(join(vol, which, "firmware"), { recursive: true });
  const file = join(vol, which, "sys", "kernel", "shm_rmid_forced");
  writeFileSync(file, "0\n");
  return { rootfs, vol, file };
}

// Guards: rootfs.c pseudo_mount_point (proc only on an ordinary directory).
t("D1: an image with /proc -> /vol/proc and a volume on /vol: create refuses the proc mount on one line; the volume is untouched", ({ sb }) => {
  const { rootfs, vol, file } = symlinkedPseudo(sb, "proc");
  const line = createFails(sb, (c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts!.push({ destination: "/vol", type: "bind", source: vol, options: ["rbind", "rw"] });
    c.linux!.sysctl = { "kernel.shm_rmid_forced": "1" };
  });
  assert.is(line, 'mounts[0] (/proc): filesystem "proc" must be mounted on ordinary directory (/proc is a symlink)');
  assert.is(readFileSync(file, "utf8"), "0\n", "the sysctl did not land in the volume");
});

t("D1: the same for sysfs at /sys -> /vol/sys", ({ sb }) => {
  const { rootfs, vol } = symlinkedPseudo(sb, "sys");
  const line = createFails(sb, (c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts!.push({ destination: "/vol", type: "bind", source: vol, options: ["rbind", "rw"] });
  });
  assert.match(line, /^mounts\[\d+\] \(\/sys\): filesystem "sysfs" must be mounted on ordinary directory \(\/sys is a symlink\)$/);
});

// Guards: procfs.c (every /proc write through a verified procfs root). Without a
// proc mount the sysctl would follow the image's link into the volume.
t("D1: no proc mount at all and /proc -> /vol/proc: a sysctl is refused, not written into the volume", ({ sb }) => {
  const { rootfs, vol, file } = symlinkedPseudo(sb, "proc");
  const line = createFails(sb, (c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts = c.mounts!.filter((m) => m.type !== "proc");
    c.mounts!.push({ destination: "/vol", type: "bind", source: vol, options: ["rbind", "rw"] });
    c.linux!.maskedPaths = [];
    c.linux!.readonlyPaths = [];
    c.linux!.sysctl = { "kernel.shm_rmid_forced": "1" };
  });
  assert.match(line, /^linux\.sysctl\["kernel\.shm_rmid_forced"\]: \/proc is a symlink: refusing to reach \/proc\/sys\/kernel\/shm_rmid_forced through it$/, line);
  assert.is(readFileSync(file, "utf8"), "0\n");
});

// Guards: rootfs.c refuse_pseudo_target (a volume mounted over the procfs through a symlink).
t("D1: a volume whose destination resolves into /proc through a symlink is refused", ({ sb }) => {
  const rootfs = copyRootfs(sb, { busybox: true });
  symlinkSync("/proc", join(rootfs, "x"));
  const vol = mkdtempSync(join(sb.dir, "vol-"));
  const line = createFails(sb, (c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts!.push({ destination: "/x/sys", type: "bind", source: vol, options: ["rbind", "rw"] });
  });
  assert.match(line, /^mounts\[\d+\] \(\/x\/sys\): mount destination \/x\/sys resolves into \/proc \(through a symlink\): refused$/);
});

t("D1: with an ordinary /proc, sysctls, masks and readonly paths still apply", ({ sb }) => {
  const r = run(sb, (c) => {
    c.process!.args = sh("cat /proc/sys/kernel/shm_rmid_forced; ls /sys/firmware | wc -l; grep -c ' /proc/sys ro,' /proc/self/mountinfo");
    c.linux!.sysctl = { "kernel.shm_rmid_forced": "1" };
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "1\n0\n1\n");
});

// ---- D2: --no-pivot ----

// Guards: rootfs.c move_root (runc's msMoveRoot). Without it the host's /proc stays
// in the mount namespace below the chroot, and this mount succeeds.
t("D2: --no-pivot: a process in a new user namespace cannot mount a fresh procfs (the host's is gone from the namespace)", ({ sb }) => {
  const patch = (c: OciConfig) => {
    c.process!.capabilities = { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS };
    delete c.linux!.seccomp;
    c.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid"] });
    c.process!.args = sh("mkdir /tmp/p; unshare -mrpf sh -c 'mount -t proc proc /tmp/p 2>/dev/null && echo MOUNTED || echo REFUSED'; grep -c . /proc/self/mountinfo >/dev/null");
  };
  const pivoted = run(sb, patch, { busybox: true });
  assert.is(pivoted.status, 0, pivoted.stderr);
  assert.is(pivoted.stdout, "REFUSED\n", "pivot_root: refused");
  const noPivot = run(sb, patch, { busybox: true, args: ["--no-pivot"] });
  assert.is(noPivot.status, 0, noPivot.stderr);
  assert.is(noPivot.stdout, "REFUSED\n", "--no-pivot: refused as well (runc: refused)");
});

t("D2: --no-pivot still gives the container its own /proc and /sys, masked", ({ sb }) => {
  const r = run(sb, (c) => {
    c.process!.args = sh("cat /proc/1/comm; ls /sys/firmware | wc -l; ls /proc/sys/kernel/hostname");
  }, { busybox: true, args: ["--no-pivot"] });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "sh\n0\n/proc/sys/kernel/hostname\n");
});

// ---- D3: seccomp before the startContainer hooks ----

// Guards: exec.c op_exec loading the no_new_privs filter in the first half.
t("D3: with noNewPrivileges, startContainer hooks run under the seccomp filter (as runc)", ({ sb }) => {
  const results = mkdtempSync(join(sb.dir, "results-"));
  const r = run(sb, (c) => {
    c.process!.noNewPrivileges = true;
    c.process!.args = ["/bin/true"];
    c.mounts!.push({ destination: "/results", type: "bind", source: results, options: ["rbind", "rw"] });
    c.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] as never,
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
    };
    c.hooks = { startContainer: [{ path: "/bin/sh", args: ["sh", "-c", "mkdir /results/d 2>/dev/null && echo allowed > /results/r || echo denied > /results/r"] }] };
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(readFileSync(join(results, "r"), "utf8"), "denied\n");
  assert.not.ok(existsSync(join(results, "d")));
});

// ---- D4, D5: the waiting init's fds and dumpability ----

// Guards: init.c (the plan's fd closed after mapping), exec.c (the sync socket
// closed after READY) and rootfs.c (the host's fd directory given up after pivot_root).
t("D4: a created container's init holds neither the plan memfd nor the sync socket", ({ sb }) => {
  const id = uniqueId("fds");
  sb.ids.push(id);
  assert.is(sb.ocirt(["create", "-b", sb.bundle(), id]).status, 0);
  const pid = statePid(sb, id);
  const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return "?";
    }
  });
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  assert.not.ok(fds.some((l) => l.includes("ocirt-plan")), `plan memfd: ${fds.join(", ")}`);
  assert.not.ok(fds.some((l) => l.startsWith("socket:")), `sync socket: ${fds.join(", ")}`);
  // the host's procfs is detached below the container's root: its path shows as /<host pid>/fd
  assert.not.ok(fds.some((l) => l === `/proc/${pid}/fd` || l === `/${pid}/fd`), `no directory of the host's procfs: ${fds.join(", ")}`);
});

// Guards: init.c PR_SET_DUMPABLE 0. Container B shares A's pid namespace with the
// same uid and capabilities as A's waiting init has after its set-up: without the
// fix, B can open /proc/1/fd of it, and through the fd directory the helper keeps
// of the host's procfs, reach the host (CVE-2016-9962).
t("D5: from a container in the same pid namespace, the waiting init's /proc/1/fd, environ and mem are closed", ({ sb }) => {
  const a = uniqueId("dumpA");
  const b = uniqueId("dumpB");
  sb.ids.push(a, b);
  try {
    const ca = sb.ocirt(["create", "-b", sb.bundle(), a]);
    assert.is(ca.status, 0, ca.stderr);
    const apid = statePid(sb, a);
    const r = run(sb, (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === "pid" ? { type: "pid", path: `/proc/${apid}/ns/pid` } : n));
      // listing /proc/1/fd is allowed (the directory is root's); following an entry is what matters
      c.process!.args = sh("cat /proc/1/comm; n=0; for f in /proc/1/fd/*; do readlink $f >/dev/null 2>&1 && n=$((n+1)); ls $f/ >/dev/null 2>&1 && echo escaped-through-$f; done; echo links-$n; cat /proc/1/environ >/dev/null 2>&1 && echo environ-open || echo environ-closed; head -c1 /proc/1/mem >/dev/null 2>&1 && echo mem-open || echo mem-closed");
    }, { busybox: true });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, "memfd:ocirt-ini\nlinks-0\nenviron-closed\nmem-closed\n");
    assert.is(stateOf(sb, a), "created");
  } finally {
    sb.ocirt(["delete", "-f", b]);
    sb.ocirt(["delete", "-f", a]);
  }
});

t("D5: in a user namespace the parent still writes the init's id maps (the init is not dumpable from the start)", ({ sb }) => {
  const r = run(sb, (c) => {
    userns(c, 500000);
    c.process!.args = sh("cat /proc/self/uid_map /proc/self/gid_map");
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\s+0\s+500000\s+65536\n\s+0\s+500000\s+65536\n$/);
});

t("D5: the user's program is dumpable again (execve), as under runc: its /proc files are its own", ({ sb }) => {
  // in a user namespace, a non-dumpable process's /proc files belong to host root (overflow uid)
  const r = run(sb, (c) => {
    userns(c, 700000);
    c.process!.args = sh("stat -c %u /proc/$$/environ; true");
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "0\n");
});

// ---- D6: no fixed limits ----

// Guards: init.c plan_decode (no 64-blob array) and process.c op_setgroups (no 1024).
t("D6: hundreds of env vars and args, and 3000 supplementary groups, reach the program whole", ({ sb }) => {
  const env = Array.from({ length: 600 }, (_, i) => `OCITEST_VAR_${i}=value-${i}`);
  const args = Array.from({ length: 200 }, (_, i) => `a${i}`);
  const gids = Array.from({ length: 3000 }, (_, i) => 10000 + i);
  const r = run(sb, (c) => {
    c.process!.env = [...c.process!.env!, ...env];
    c.process!.args = ["/bin/sh", "-c", 'echo "$OCITEST_VAR_599 $# ${200}"; env | grep -c ^OCITEST_VAR_; grep ^Groups: /proc/self/status | wc -w', "sh", ...args];
    c.process!.user = { uid: 0, gid: 0, additionalGids: gids };
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "value-599 200 a199\n600\n3001\n");
});

// ---- D7: hooks ----

// Guards: exec.c op_run_hook (no 8 KB state buffer; EPIPE ignored; fchdir to the rootfs)
// and src/lifecycle/hooks.ts (EPIPE ignored for the hooks ocirt runs).
t("D7: createContainer and startContainer hooks get all of a large state; a hook that never reads it is fine; createContainer starts in the rootfs", ({ sb }) => {
  const results = mkdtempSync(join(sb.dir, "results-"));
  const big = "y".repeat(1 << 20); // above any pipe buffer: a hook that does not read it sees EPIPE for sure
  const id = uniqueId("hooks");
  sb.ids.push(id);
  const rootfs = copyRootfs(sb, { busybox: true });
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.process!.args = ["/bin/true"];
    c.annotations = { "org.ocitest.big": big };
    c.mounts!.push({ destination: "/results", type: "bind", source: results, options: ["rbind", "rw"] });
    c.hooks = {
      // run by ocirt itself: a hook that exits without reading 1 MB of state (EPIPE) is fine too
      prestart: [{ path: "/bin/true" }],
      createRuntime: [{ path: "/bin/true" }],
      createContainer: [
        { path: "/bin/sh", args: ["sh", "-c", `cat > ${results}/create.json; pwd > ${results}/create.cwd`] },
        { path: "/bin/true" },
      ],
      startContainer: [
        { path: "/bin/sh", args: ["sh", "-c", "cat > /results/start.json"] },
        { path: "/bin/true" },
      ],
    };
  }, { busybox: true });
  const r = sb.ocirt(["run", "-b", b, id]);
  assert.is(r.status, 0, r.stderr);
  const create = JSON.parse(readFileSync(join(results, "create.json"), "utf8"));
  assert.is(create.annotations["org.ocitest.big"].length, big.length);
  assert.is(create.status, "creating");
  const start = JSON.parse(readFileSync(join(results, "start.json"), "utf8"));
  assert.is(start.annotations["org.ocitest.big"], big);
  assert.is(start.status, "created");
  assert.is(readFileSync(join(results, "create.cwd"), "utf8"), `${rootfs}\n`, "runc runs createContainer hooks in the rootfs");
});

// ---- D8: signals to a created container ----

// Guards: exec.c handle_terminating_signals. Without it the init, pid 1 of its pid
// namespace with no handler, drops them and stays "created". As runc's Go init:
// HUP, INT, TERM, QUIT end it; USR1 and the like are caught and do nothing.
t("D8: kill TERM, INT, HUP, QUIT of a created container ends it; USR1, ALRM leave it created (runc's Go init)", ({ sb }) => {
  for (const sig of ["USR1", "ALRM", "RTMIN"]) {
    const id = uniqueId(`keep${sig}`);
    sb.ids.push(id);
    assert.is(sb.ocirt(["create", "-b", sb.bundle(), id]).status, 0);
    assert.is(sb.ocirt(["kill", id, sig]).status, 0);
    assert.not.ok(waitFor(() => stateOf(sb, id) === "stopped", 500), `${sig} ended it`);
    assert.is(stateOf(sb, id), "created");
    assert.is(sb.ocirt(["start", id]).status, 0, `${sig}: still startable`);
    assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  }
  for (const sig of ["TERM", "INT", "HUP", "QUIT"]) {
    const id = uniqueId(`sig${sig}`);
    sb.ids.push(id);
    assert.is(sb.ocirt(["create", "-b", sb.bundle(), id]).status, 0);
    assert.is(sb.ocirt(["kill", id, sig]).status, 0);
    assert.ok(waitFor(() => stateOf(sb, id) === "stopped", 5000), `${sig}: state ${stateOf(sb, id)}`);
    assert.is(sb.ocirt(["delete", id]).status, 0);
  }
});

t("D8: the program starts with default dispositions and an empty signal mask", ({ sb }) => {
  const r = run(sb, (c) => (c.process!.args = ["/bin/grep", "-E", "^Sig(Blk|Ign|Cgt):", "/proc/self/status"]), { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n");
  // and a started container's program still gets a TERM of its own (it handles none here)
  const id = uniqueId("sigrun");
  sb.ids.push(id);
  assert.is(sb.ocirt(["run", "-d", "-b", sb.bundle((c) => (c.process!.args = ["/bin/sleep", "100"]), { busybox: true }), id]).status, 0);
  assert.is(sb.ocirt(["kill", id, "KILL"]).status, 0);
  assert.ok(waitFor(() => stateOf(sb, id) === "stopped", 5000));
  assert.is(sb.ocirt(["delete", id]).status, 0, "(later tests check that nothing is left)");
});

// ---- E: runc parity ----

// Guards: process.c op_console (fchown uid only).
t("E: the terminal keeps devpts's tty group (5), owned by the process's user", ({ sb }) => {
  const r = run(sb, (c) => {
    c.process!.terminal = true;
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.args = sh("stat -c '%u %g' $(tty)");
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^1000 5\r?\n$/);
});

// Guards: rootfs.c op_readonly (keeps nosuid, nodev, noexec as runc).
t("E: readonly paths keep the nosuid, nodev, noexec of their mount", ({ sb }) => {
  const r = run(sb, (c) => {
    c.mounts = c.mounts!.map((m) => (m.type === "proc" ? { ...m, options: ["nosuid", "noexec", "nodev"] } : m));
    c.process!.args = sh("grep ' /proc/sys ' /proc/self/mountinfo | cut -d' ' -f6");
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "ro,nosuid,nodev,noexec,relatime\n");
});

// Guards: OP_SESSION_KEYRING flag 1 from the exec planner.
t("E: exec into a container with a user namespace joins its session keyring", ({ sb }) => {
  const id = uniqueId("execus");
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    userns(c, 600000);
    c.process!.args = ["/bin/sleep", "100"];
  }, { busybox: true });
  const r = sb.ocirt(["run", "-d", "-b", b, id]);
  assert.is(r.status, 0, r.stderr);
  const e = sb.ocirt(["exec", id, "/bin/sh", "-c", "echo in-exec; cat /proc/1/comm"]);
  assert.is(e.status, 0, e.stderr);
  assert.is(e.stdout, "in-exec\nsleep\n");
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

// Guards: OP_SETSID from planProcessSetup.
t("E: init and exec are session and process-group leaders without a terminal (as runc)", ({ sb }) => {
  const ids = "echo $(cut -d' ' -f5,6 /proc/self/stat) $$";
  const r = run(sb, (c) => (c.process!.args = sh(ids)), { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "1 1 1\n");
  const id = uniqueId("sid");
  sb.ids.push(id);
  assert.is(sb.ocirt(["run", "-d", "-b", sb.bundle((c) => (c.process!.args = ["/bin/sleep", "100"]), { busybox: true }), id]).status, 0);
  const e = sb.ocirt(["exec", id, "/bin/sh", "-c", ids]);
  assert.is(e.status, 0, e.stderr);
  const [pgrp, sid, pid] = e.stdout.trim().split(" ");
  assert.is(pgrp, pid);
  assert.is(sid, pid);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

// Guards: OP_NET_LO_UP from the namespace planner.
t("E: a new network namespace has lo up (as runc)", ({ sb }) => {
  const r = run(sb, (c) => (c.process!.args = sh("cat /sys/class/net/lo/flags; ip link show lo | grep -c 'LOOPBACK,UP'")), { busybox: true });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "0x9\n1\n");
});

// Guards: rootfs.c op_reopen_dev_null (OP_REOPEN_DEV_NULL after pivot_root). Without
// it fd 0 is the caller's /dev/null, read-only, on a mount the container does not see.
t("E: stdio that is /dev/null is the container's own /dev/null, read-write (runc's reOpenDevNull)", ({ sb }) => {
  const id = uniqueId("null");
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    c.process!.args = sh("grep -E '^(flags|mnt_id):' /proc/self/fdinfo/0 | tr '\\t' ' '; stat -L -c '%t:%T' /proc/self/fd/0; grep -c \"^$(awk '/^mnt_id:/{print $2}' /proc/self/fdinfo/0) \" /proc/self/mountinfo");
  }, { busybox: true });
  // the sandbox runs ocirt with stdin "ignore": the host's /dev/null, opened read-only.
  // Detached, as engines run containers: the process gets ocirt's stdio (a foreground
  // run gives it pipes of its own, as runc)
  const pidFile = join(sb.dir, `${id}.pid`);
  const r = sb.ocirt(["run", "-d", "--pid-file", pidFile, "-b", b, id]);
  assert.is(r.status, 0, r.stderr);
  const pid = Number(readFileSync(pidFile, "utf8"));
  assert.ok(waitFor(() => !existsSync(`/proc/${pid}`)), "the process ends");
  const out = readFileSync(join(sb.dir, `out-${process.pid}`), "utf8");
  assert.is(sb.ocirt(["delete", id]).status, 0);
  const [flags, , dev, visible] = out.trim().split("\n");
  assert.is(Number.parseInt(flags!.split(" ")[1]!, 8) & 3, 2, `O_RDWR: ${out}`);
  assert.is(dev, "1:3");
  assert.is(visible, "1", "on a mount of the container (its /dev)");
});

// Guards: OP_CONSOLE flag 1 (process.c op_console, rootfs.c mount_console), planned
// right after pivot_root. Without it the container has no /dev/console.
t("E: a terminal is bound on /dev/console too, before the root is made read-only (runc's mountConsole)", ({ sb }) => {
  const r = run(sb, (c) => {
    c.root!.readonly = true;
    c.process!.terminal = true;
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.args = sh("stat -c '%t:%T %a %u %g' /dev/console $(tty); grep -c ' /dev/console ' /proc/self/mountinfo");
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  const [console, tty, mounts] = r.stdout.trim().split(/\r?\n/);
  assert.is(console, tty, "the same pty");
  assert.match(console!, /^88:\d+ 620 1000 5$/);
  assert.is(mounts, "1");
});

// Guards: rootfs.c op_mount (the tmpfs's root chmod-ed to the covered directory's
// mode, no mode= of its own in the data) and op_mask (no size=0k).
t("E: a tmpfs takes the mode of the directory it covers, over a mode= of the config; masks carry no data (as runc)", ({ sb }) => {
  const r = run(sb, (c) => {
    c.mounts!.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["mode=700"] });
    c.mounts!.push({ destination: "/dev/fresh", type: "tmpfs", source: "tmpfs", options: ["mode=700"] });
    c.process!.args = sh("stat -c %a /tmp /dev/fresh; for m in /tmp /proc/acpi; do grep \" $m \" /proc/self/mountinfo | sed 's/.* - //'; done");
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  // inode64: what some kernels (6.12) add to every tmpfs's options by themselves
  assert.is(r.stdout.replace(/,inode(64|32)\b/g, ""), "1777\n700\ntmpfs tmpfs rw,mode=700\ntmpfs tmpfs ro\n");
});

// Guards: exec.c op_exec (the container's /proc/self/fd required before READY when
// it has a mount namespace). Without it create succeeds and the host's fd directory
// serves.
t("E: no procfs on /proc: create fails, as runc's (\"error closing exec fds\")", ({ sb }) => {
  const line = createFails(sb, (c) => {
    c.mounts = c.mounts!.filter((m) => m.type !== "proc");
  }, { busybox: true });
  assert.match(line, /^process\.args\[0\] \(.*\): the container has no procfs on \/proc \(mounts\): error closing exec fds: open \/proc\/self\/fd: no such file or directory/);
});

// Guards: exec.c lookup (a directory is no program).
t("E: a directory as process.args[0] fails create: permission denied (runc's exec.LookPath)", ({ sb }) => {
  const line = createFails(sb, (c) => (c.process!.args = ["/bin"]), { busybox: true });
  assert.is(line, 'process.args[0] (/bin): exec: "/bin" is a directory: permission denied (EACCES)');
});

// Guards: exec.c op_run_hook (stdout and stderr captured, the failure's words).
t("E: hooks the init runs keep their output to themselves: a failing createContainer hook is create's one line", ({ sb }) => {
  const line = createFails(sb, (c) => (c.hooks = { createContainer: [{ path: "/bin/sh", args: ["sh", "-c", "echo out; echo noise >&2; echo bad hook >&2; exit 3"] }] }), { busybox: true });
  assert.is(line, "hooks.createContainer[0] (/bin/sh): exit status 3: bad hook");
  const missing = createFails(sb, (c) => (c.hooks = { createContainer: [{ path: "/nonexistent-hook" }] }), { busybox: true });
  assert.is(missing, "hooks.createContainer[0] (/nonexistent-hook): fork/exec /nonexistent-hook: no such file or directory");
});

// Guards: exec.c op_run_hook after READY. As runc 1.1.5: start succeeds (the init
// runs the hook after start read exec.fifo), the program never runs, the init exits
// 1 with the failure on the container's stderr; the hook's own output is not there.
t("E: a failing startContainer hook: start succeeds, the container stops without running the program; its stderr names the hook", ({ sb }) => {
  const id = uniqueId("starthook");
  sb.ids.push(id);
  const out = join(sb.dir, `${id}.out`), err = join(sb.dir, `${id}.err`);
  const b = sb.bundle((c) => {
    c.process!.args = sh("echo program ran");
    c.hooks = { startContainer: [{ path: "/bin/true" }, { path: "/bin/sh", args: ["sh", "-c", "echo hook-out; echo hook-err >&2; exit 3"] }] };
  }, { busybox: true });
  const o = openSync(out, "w"), e = openSync(err, "w");
  try {
    assert.is(sb.ocirt(["create", "-b", b, id], { stdio: ["ignore", o, e] }).status, 0);
  } finally {
    closeSync(o);
    closeSync(e);
  }
  const st = sb.ocirt(["start", id]);
  assert.is(st.status, 0, st.stderr);
  assert.ok(waitFor(() => stateOf(sb, id) === "stopped", 5000), "stopped");
  assert.is(readFileSync(out, "utf8"), "", "neither the program nor the hook wrote to the container's stdout");
  assert.is(readFileSync(err, "utf8"), "ocirt-init: hooks.startContainer[1] (/bin/sh): exit status 3: hook-err\n");
  assert.is(sb.ocirt(["delete", id]).status, 0);
});

t.run();
