// Rootless ocirt: a user made by this test (useradd, with /etc/subuid and /etc/subgid
// ranges; removed at the end) runs ocirt itself (`ocirt spec --rootless` + `ocirt
// run` of busybox, a range mapped through newuidmap/newgidmap, exec, kill, delete),
// and rootless Podman with ocirt as its runtime. The refused cases each say why on
// one line. Needs root to make the user; skips are recorded through test/skip.ts.
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OCIRT, assertNothingLeft, uniqueId, waitFor } from "./harness";
import { commandExists } from "./util";
import { ensureBusyboxRootfs } from "../../conformance/rootfs";
import type { OciConfig } from "../../src/spec/types";

const isRoot = process.getuid?.() === 0;
const maxUserns = (() => {
  try {
    return Number(readFileSync("/proc/sys/user/max_user_namespaces", "utf8"));
  } catch {
    return 0;
  }
})();
const usernsClone = (() => {
  try {
    return readFileSync("/proc/sys/kernel/unprivileged_userns_clone", "utf8").trim() !== "0";
  } catch {
    return true; // upstream kernels have no such switch
  }
})();
const REASON = !isRoot
  ? "needs root (the test makes its own user with useradd)"
  : !commandExists("useradd")
    ? "no useradd on this host (Debian package passwd)"
    : maxUserns === 0 || !usernsClone
      ? "unprivileged user namespaces are disabled on this host (user.max_user_namespaces / kernel.unprivileged_userns_clone)"
      : null;

interface User {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** $XDG_RUNTIME_DIR of the user (0700, the user's) */
  xdg: string;
  /** the default --root: $XDG_RUNTIME_DIR/ocirt */
  root: string;
  subuid: number;
  subgid: number;
  dir: string;
}

interface Ctx {
  u: User;
  ids: string[];
}

const t = hostSuite<Ctx>("rootless", REASON);

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.stdout || r.status}`);
  return r.stdout;
}

function subRange(file: string, name: string): number | undefined {
  const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  return line ? Number(line.split(":")[1]) : undefined;
}

t.before((ctx) => {
  const dir = mkdtempSync("/tmp/ocitest-rootless-");
  spawnSync("chmod", ["0711", dir]);
  const name = `ocirl${process.pid}`.slice(0, 31);
  const home = join(dir, "home");
  sh("useradd", ["-m", "-d", home, "-s", "/bin/sh", name]);
  const uid = Number(sh("id", ["-u", name]).trim()), gid = Number(sh("id", ["-g", name]).trim());
  // Debian's useradd gives new users a range (SUB_UID_COUNT); make sure of one
  if (subRange("/etc/subuid", name) === undefined || subRange("/etc/subgid", name) === undefined) {
    const top = (f: string) => Math.max(100000, ...readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => Number(l.split(":")[1]) + Number(l.split(":")[2])));
    const base = Math.max(top("/etc/subuid"), top("/etc/subgid"));
    sh("usermod", ["--add-subuids", `${base}-${base + 65535}`, "--add-subgids", `${base}-${base + 65535}`, name]);
  }
  const xdg = join(dir, "run");
  mkdirSync(xdg, { mode: 0o700 });
  chownSync(xdg, uid, gid);
  ctx.u = { name, uid, gid, home, xdg, root: join(xdg, "ocirt"), subuid: subRange("/etc/subuid", name)!, subgid: subRange("/etc/subgid", name)!, dir };
  ctx.ids = [];
});

t.after((ctx) => {
  const u = ctx.u;
  if (!u) return;
  for (const id of ctx.ids) asUser(u, OCIRT, ["delete", "-f", id]);
  // what this user still runs (podman's pause process, a container left by a failure):
  // this test's own processes, ended by pid
  for (const pid of userPids(u.uid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  waitFor(() => userPids(u.uid).length === 0, 5000);
  try {
    assertNothingLeft(u.root, ctx.ids);
  } finally {
    spawnSync("userdel", ["-r", "-f", u.name], { encoding: "utf8" });
    rmSync(u.dir, { recursive: true, force: true });
  }
  assert.is(spawnSync("id", [u.name]).status, 1, "the test user is gone");
  assert.not.ok(readFileSync("/etc/subuid", "utf8").split("\n").some((l) => l.startsWith(`${u.name}:`)), "its subuid range is gone");
});

function userPids(uid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m && Number(m[1]) === uid) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** Runs cmd as the user (its uid and gid, no supplementary groups), output through files. */
function asUser(u: User, cmd: string, args: string[], opts: SpawnSyncOptions & { env?: Record<string, string> } = {}): { status: number; stdout: string; stderr: string } {
  const out = join(u.dir, `out-${process.pid}`), err = join(u.dir, `err-${process.pid}`);
  const fo = openSync(out, "w"), fe = openSync(err, "w");
  try {
    const r = spawnSync(cmd, args, {
      uid: u.uid, gid: u.gid, cwd: u.home, timeout: 120_000, stdio: ["ignore", fo, fe],
      ...opts,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", HOME: u.home, USER: u.name, LOGNAME: u.name, XDG_RUNTIME_DIR: u.xdg, ...opts.env },
    });
    if (r.error) throw r.error;
    return { status: r.status ?? 128 + 9, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
  } finally {
    closeSync(fo);
    closeSync(fe);
  }
}

/** A bundle owned by the user: `ocirt spec --rootless` run as the user, then patched. */
function rootlessBundle(u: User, patch?: (c: OciConfig) => void): string {
  const b = join(u.home, `bundle-${uniqueId("b")}`);
  mkdirSync(b);
  chownSync(b, u.uid, u.gid);
  const r = asUser(u, OCIRT, ["spec", "--rootless", "-b", b]);
  assert.is(r.status, 0, r.stderr);
  const cfg = JSON.parse(readFileSync(join(b, "config.json"), "utf8")) as OciConfig;
  cfg.root = { path: ensureBusyboxRootfs(), readonly: true };
  cfg.process!.terminal = false;
  patch?.(cfg);
  writeFileSync(join(b, "config.json"), JSON.stringify(cfg, null, 2));
  chownSync(join(b, "config.json"), u.uid, u.gid);
  return b;
}

function newId(ctx: Ctx): string {
  const id = uniqueId("rl");
  ctx.ids.push(id);
  return id;
}

/** `ocirt create` as the user fails with exit 1 and exactly one line, which is returned. */
function refused(ctx: Ctx, patch: (c: OciConfig) => void, globals: string[] = []): string {
  const id = newId(ctx);
  const r = asUser(ctx.u, OCIRT, [...globals, "create", "-b", rootlessBundle(ctx.u, patch), id]);
  assert.is(r.status, 1, `create should fail: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.split("\n").filter(Boolean);
  assert.is(lines.length, 1, `one line: ${r.stderr}`);
  assert.is(asUser(ctx.u, OCIRT, ["state", id]).status, 1, "no state is left");
  return lines[0]!;
}

t("ocirt spec --rootless + ocirt run as the user: busybox as root of a user namespace that maps only the user", (ctx) => {
  const { u } = ctx;
  const id = newId(ctx);
  const b = rootlessBundle(u, (c) => {
    c.process!.args = ["/bin/sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; grep -c ' /sys ' /proc/self/mountinfo"];
  });
  const r = asUser(u, OCIRT, ["run", "-b", b, id]);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
  assert.match(lines[0]!, /^uid=0\(root\) gid=0\(root\)/);
  assert.is(lines[1], `0 ${u.uid} 1`);
  assert.is(lines[2], `0 ${u.gid} 1`);
  assert.is(lines[3], "deny", "an unprivileged gid_map needs setgroups denied");
  assert.is(r.stderr, "", "nothing on stderr");
  // the state lives under $XDG_RUNTIME_DIR/ocirt, the user's only and sticky (runc's rule)
  const st = statSync(u.root);
  assert.is(st.uid, u.uid);
  assert.is(st.mode & 0o7777, 0o1700);
  assert.equal(readdirSync(u.root).filter((n) => !n.startsWith(".")), [], "run removed the container");
});

testIf(t, commandExists("runc") ? null : "runc is not installed", "ocirt spec --rootless is runc spec --rootless (but for ociVersion and runc 1.1's ambient set)", (ctx) => {
  const { u } = ctx;
  const ours = join(u.home, "spec-ocirt"), theirs = join(u.home, "spec-runc");
  for (const d of [ours, theirs]) {
    mkdirSync(d);
    chownSync(d, u.uid, u.gid);
  }
  assert.is(asUser(u, OCIRT, ["spec", "--rootless", "-b", ours]).status, 0);
  assert.is(asUser(u, "runc", ["spec", "--rootless", "-b", theirs]).status, 0);
  const a = JSON.parse(readFileSync(join(ours, "config.json"), "utf8")), b = JSON.parse(readFileSync(join(theirs, "config.json"), "utf8"));
  for (const c of [a, b]) {
    delete c.ociVersion;
    delete c.process.capabilities.ambient; // runc 1.1 lists it; current runc does not
  }
  assert.equal(a, b);
  assert.equal(a.linux.uidMappings, [{ containerID: 0, hostID: u.uid, size: 1 }]);
});

testIf(t, commandExists("newuidmap") && commandExists("newgidmap") ? null : "newuidmap/newgidmap are not installed (Debian package uidmap)",
  "a range of /etc/subuid through newuidmap/newgidmap: create, start, exec, kill, delete, as the user", (ctx) => {
    const { u } = ctx;
    const id = newId(ctx);
    const b = rootlessBundle(u, (c) => {
      c.linux!.uidMappings = [{ containerID: 0, hostID: u.uid, size: 1 }, { containerID: 1, hostID: u.subuid, size: 65536 }];
      c.linux!.gidMappings = [{ containerID: 0, hostID: u.gid, size: 1 }, { containerID: 1, hostID: u.subgid, size: 65536 }];
      c.process!.user = { uid: 1000, gid: 1000, additionalGids: [5] };
      c.process!.args = ["/bin/sleep", "1000"];
    });
    const cr = asUser(u, OCIRT, ["create", "-b", b, id]);
    assert.is(cr.status, 0, cr.stderr);
    assert.is(asUser(u, OCIRT, ["start", id]).status, 0);
    const state = JSON.parse(asUser(u, OCIRT, ["state", id]).stdout);
    assert.is(state.status, "running");
    // the init runs as the subordinate uid that container uid 1000 maps to
    const hostUid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${state.pid}/status`, "utf8"))![1]);
    assert.is(hostUid, u.subuid + 999);
    const ex = asUser(u, OCIRT, ["exec", id, "/bin/sh", "-c", "id; cat /proc/self/uid_map; cat /proc/self/setgroups"]);
    assert.is(ex.status, 0, ex.stderr);
    const lines = ex.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    assert.is(lines[0], "uid=1000(probeuser) gid=1000(probeuser) groups=5", "exactly additionalGids, as runc");
    assert.equal(lines.slice(1, 3), [`0 ${u.uid} 1`, `1 ${u.subuid} 65536`]);
    assert.is(lines[3], "allow", "newgidmap leaves setgroups allowed: the groups were set");
    assert.is(asUser(u, OCIRT, ["kill", id, "KILL"]).status, 0);
    assert.ok(waitFor(() => JSON.parse(asUser(u, OCIRT, ["state", id]).stdout).status === "stopped", 10_000));
    const del = asUser(u, OCIRT, ["delete", id]);
    assert.is(del.status, 0, del.stderr);
    assertNothingLeft(u.root, [id]);
  });

t("refused without root, each on one line saying why", (ctx) => {
  const noUserns = refused(ctx, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "user");
    delete c.linux!.uidMappings;
    delete c.linux!.gidMappings;
  });
  assert.match(noUserns, new RegExp(`^linux\\.namespaces: a rootless container needs a user namespace \\(ocirt runs as uid ${ctx.u.uid}\\)`));
  const ext4 = refused(ctx, (c) => c.mounts!.push({ destination: "/data", type: "ext4", source: "/dev/vda", options: ["rw"] }));
  assert.match(ext4, /^mounts\[\d+\] \(\/data\): a rootless container cannot mount a "ext4" file system/);
  const idmap = refused(ctx, (c) => c.mounts!.push({ destination: "/data", type: "bind", source: "/tmp", options: ["rbind", "idmap"] }));
  assert.match(idmap, /^mounts\[\d+\] \(\/data\): idmapped mounts need ocirt to run as root/);
  const groups = refused(ctx, (c) => (c.process!.user = { uid: 0, gid: 0, additionalGids: [5] }));
  assert.match(groups, /^process\.user\.additionalGids: cannot set additional groups in a rootless container whose gidMappings map only gid/);
  const uidOpt = refused(ctx, (c) => c.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["uid=1000"] }));
  assert.match(uidOpt, /^mounts\[\d+\] \(\/t\)\.options: uid=1000 is not mapped in linux\.uidMappings/);
});

const delegated = (() => {
  // the user's own cgroup would have to be in a delegated v2 subtree; the test user's never is
  return existsSync("/sys/fs/cgroup/cgroup.controllers") ? null : "the host is not cgroup v2 only (no delegated subtree to make)";
})();

t("no delegated cgroup: limits are refused in one line, --rootless false makes the cgroup error fatal, --systemd-cgroup without a user manager is refused", (ctx) => {
  const memory = refused(ctx, (c) => (c.linux!.resources = { memory: { limit: 64 << 20 } }));
  assert.match(memory, /^linux\.resources\.memory: cannot be applied without a cgroup of the container's own: .* is not writable.*: no cgroup is delegated here \(rootless, uid \d+\)/);
  const fatal = refused(ctx, () => {}, ["--rootless", "false"]);
  assert.match(fatal, /[Pp]ermission denied|EACCES/);
  const systemd = refused(ctx, () => {}, ["--systemd-cgroup"]);
  // the user's systemd manager makes the unit (test/systemd/rootless.test.ts); this user has none
  assert.match(systemd, existsSync("/run/systemd/system")
    ? /^--systemd-cgroup: (rootless: no session bus of uid \d+|a user's systemd manager delegates cgroups only on cgroup v2)/
    : /^systemd cgroup driver: systemd is not running on this host/);
});

testIf(t, delegated, "a delegated cgroup v2 subtree is used: the container gets a cgroup of its own there, with its limits", (ctx) => {
  const { u } = ctx;
  // what systemd's Delegate=yes does for user@UID.service: the subtree and its
  // cgroup.procs, cgroup.subtree_control and cgroup.threads belong to the user
  const D = join("/sys/fs/cgroup", `ocitest-deleg-${process.pid}`);
  mkdirSync(D);
  const leaf = join(D, "shell");
  try {
    mkdirSync(leaf);
    for (const p of [D, join(D, "cgroup.procs"), join(D, "cgroup.subtree_control"), join(D, "cgroup.threads"), leaf, join(leaf, "cgroup.procs")]) chownSync(p, u.uid, u.gid);
    // the controllers systemd enables from the root down (a bare guest has none enabled)
    const want = readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).filter((c) => ["pids", "memory"].includes(c)).map((c) => `+${c}`).join(" ");
    assert.match(want, /\+pids/, "the host has the pids controller");
    writeFileSync("/sys/fs/cgroup/cgroup.subtree_control", want);
    writeFileSync(join(D, "cgroup.subtree_control"), want);
    const id = newId(ctx);
    const b = rootlessBundle(u, (c) => {
      c.linux!.resources = { pids: { limit: 42 } };
      c.process!.args = ["/bin/sleep", "1000"];
    });
    // root moves the shell into the user's subtree; it becomes the user and runs ocirt
    const script = `echo $$ > ${leaf}/cgroup.procs && exec setpriv --reuid ${u.uid} --regid ${u.gid} --clear-groups ${OCIRT} create -b ${b} ${id}`;
    // output to a file: the created init inherits it and would hold a pipe open
    const errFile = join(u.dir, "deleg-err");
    const fe = openSync(errFile, "w");
    const r = spawnSync("/bin/sh", ["-c", script], { stdio: ["ignore", fe, fe], env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: u.home, XDG_RUNTIME_DIR: u.xdg } });
    closeSync(fe);
    assert.is(r.status, 0, readFileSync(errFile, "utf8"));
    const pid = JSON.parse(asUser(u, OCIRT, ["state", id]).stdout).pid as number;
    // made next to ocirt's own cgroup (v2's relative rule), with the config's limit
    assert.is(readFileSync(`/proc/${pid}/cgroup`, "utf8").trim(), `0::/ocitest-deleg-${process.pid}/${id}`);
    assert.is(readFileSync(join(D, id, "pids.max"), "utf8").trim(), "42");
    const del = asUser(u, OCIRT, ["delete", "-f", id]);
    assert.is(del.status, 0, del.stderr);
    assert.not.ok(existsSync(join(D, id)), "its cgroup is removed with it");
  } finally {
    for (const d of [leaf, D]) {
      try {
        rmdirSync(d);
      } catch { /* reported by the cgroup check of the suite's end */ }
    }
  }
});

const podmanReason = !commandExists("podman") ? "podman is not installed" : !commandExists("newuidmap") ? "newuidmap is not installed (rootless Podman needs it)" : null;

testIf(t, podmanReason, "rootless Podman with ocirt as its runtime: run, exec, stop", (ctx) => {
  const { u } = ctx;
  const tar = join(u.dir, "busybox.tar");
  sh("tar", ["-C", ensureBusyboxRootfs(), "-cf", tar, "."]);
  chownSync(tar, u.uid, u.gid);
  const podman = (...args: string[]) => asUser(u, "podman", ["--cgroup-manager=cgroupfs", "--events-backend=file", "--runtime", OCIRT, ...args]);
  const imp = podman("import", tar, "localhost/ocitest-busybox");
  assert.is(imp.status, 0, imp.stderr);
  const run = podman("run", "--rm", "--network", "none", "localhost/ocitest-busybox", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map");
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
  assert.is(lines[0], "0");
  assert.equal(lines.slice(1), [`0 ${u.uid} 1`, `1 ${u.subuid} 65536`], "podman's own user namespace, set up by newuidmap");
  // a detached container: exec into it, then stop it
  const name = `ocitest-${process.pid}`;
  const d = podman("run", "-d", "--name", name, "--network", "none", "localhost/ocitest-busybox", "/bin/sleep", "1000");
  assert.is(d.status, 0, d.stderr);
  const ex = podman("exec", name, "/bin/sh", "-c", "echo exec-ok; cat /proc/1/cmdline | tr '\\0' ' '");
  assert.is(ex.status, 0, ex.stderr);
  assert.match(ex.stdout, /^exec-ok\n\/bin\/sleep 1000 $/);
  // the runtime's state: podman runs ocirt as root of its user namespace, root under $XDG_RUNTIME_DIR/ocirt
  const cid = podman("inspect", "--format", "{{.Id}}", name).stdout.trim();
  assert.ok(existsSync(join(u.root, cid, "state.json")), "ocirt's state under $XDG_RUNTIME_DIR/ocirt");
  const stop = podman("stop", "-t", "1", name);
  assert.is(stop.status, 0, stop.stderr);
  const st = podman("inspect", "--format", "{{.State.Status}}", name);
  assert.is(st.stdout.trim(), "exited");
  assert.is(podman("rm", name).status, 0);
  assert.not.ok(existsSync(join(u.root, cid)), "podman rm deleted it through ocirt");
});

t.run();
