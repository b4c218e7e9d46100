// Runs in the systemd guest of the VM lane (`npm run test:vm -- --systemd`): rootless
// ocirt as systemd hosts give it to users. A user made here (useradd, subuid ranges)
// with lingering gets its user manager (user@UID.service, Delegate=yes); commands run
// in a transient service of that manager (`systemd-run --user`), so ocirt starts in
// the user's delegated cgroup v2 subtree and makes the container's cgroup there, with
// its limits: by hand (`ocirt spec --rootless` + run) and under rootless Podman; and
// with --systemd-cgroup the user's manager makes the scope over the user's bus.
import { hostTest, testIf } from "../skip";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBusyboxRootfs } from "../../conformance/rootfs";
import { OCIRT, waitFor } from "../integration/harness";

const test = hostTest(existsSync("/run/systemd/system") ? undefined : "systemd does not run here (the VM lane's systemd guest: npm run test:vm -- --systemd)");

const NAME = `ocsd${process.pid}`.slice(0, 31);
let uid = -1;
let dir = "";

/** A command's output through files (a created container's init would hold a pipe open). */
function sh(cmd: string, args: string[]) {
  const d = mkdtempSync("/tmp/ocitest-sh-");
  const fo = openSync(join(d, "out"), "w"), fe = openSync(join(d, "err"), "w");
  try {
    const r = spawnSync(cmd, args, { stdio: ["ignore", fo, fe], timeout: 600_000 });
    return { status: r.status ?? -1, stdout: readFileSync(join(d, "out"), "utf8"), stderr: readFileSync(join(d, "err"), "utf8") };
  } finally {
    closeSync(fo);
    closeSync(fe);
    rmSync(d, { recursive: true, force: true });
  }
}

/** Runs a shell script as the user, in a transient service of its systemd user manager. */
function inUserManager(script: string) {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, `set -e\n${script}\n`);
  chmodSync(file, 0o755);
  return sh("runuser", ["-u", NAME, "--", "env", `XDG_RUNTIME_DIR=/run/user/${uid}`, "systemd-run", "--user", "--wait", "--pipe", "--collect", "--quiet", "-p", "Delegate=yes", "/bin/sh", file]);
}

const managerCgroup = () => `/user.slice/user-${uid}.slice/user@${uid}.service`;

test.before(() => {
  dir = mkdtempSync("/tmp/ocitest-sdrootless-");
  chmodSync(dir, 0o755);
  const r = sh("useradd", ["-m", "-s", "/bin/sh", NAME]);
  assert.is(r.status, 0, r.stderr);
  uid = Number(sh("id", ["-u", NAME]).stdout.trim());
  assert.is(sh("loginctl", ["enable-linger", NAME]).status, 0);
  assert.ok(waitFor(() => sh("systemctl", ["is-active", "-q", `user@${uid}.service`]).status === 0, 30_000), "the user's manager started");
});

test.after(() => {
  sh("loginctl", ["disable-linger", NAME]);
  sh("systemctl", ["stop", `user@${uid}.service`]);
  // anything of the user's still running (podman's pause process): ended by pid
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m && Number(m[1]) === uid) process.kill(Number(p), "SIGKILL");
    } catch { /* gone */ }
  }
  sh("userdel", ["-r", "-f", NAME]);
  rmSync(dir, { recursive: true, force: true });
});

test("a lingering user's manager delegates it a cgroup v2 subtree", () => {
  const r = inUserManager("cat /proc/self/cgroup; stat -c %U /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/..");
  assert.is(r.status, 0, r.stderr);
  const [own, owner] = r.stdout.trim().split("\n");
  assert.match(own!, new RegExp(`^0::${managerCgroup()}/app\\.slice/run-[^/]+\\.service$`));
  assert.is(owner, NAME, "app.slice belongs to the user");
});

test("ocirt spec --rootless + run as the user: the container's cgroup is made in the delegated subtree, with its limits", () => {
  const b = join(dir, "bundle");
  mkdirSync(b);
  chownSync(b, uid, uid);
  const patch = JSON.stringify({ root: { path: ensureBusyboxRootfs(), readonly: true }, terminal: false, resources: { pids: { limit: 77 }, memory: { limit: 64 << 20 } } });
  const r = inUserManager(`
cd ${b}
${OCIRT} spec --rootless
node -e 'const fs=require("fs"),p=${patch};const c=JSON.parse(fs.readFileSync("config.json"));c.root=p.root;c.process.terminal=false;c.linux.resources=p.resources;c.process.args=["/bin/sh","-c","cat /proc/self/cgroup /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max"];fs.writeFileSync("config.json",JSON.stringify(c))'
${OCIRT} run c1
${OCIRT} create c2
pid=$(${OCIRT} state c2 | sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p')
cat /proc/$pid/cgroup
${OCIRT} delete -f c2
test ! -e /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/../c2 && echo removed`);
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim().split("\n"), ["0::/", "77", String(64 << 20), `0::${managerCgroup()}/app.slice/c2`, "removed"]);
});

test("ocirt --systemd-cgroup as the user: its systemd manager makes the scope (user.slice, as runc), with the limits; update and delete on the same bus", () => {
  const b = join(dir, "bundle-sd");
  mkdirSync(b);
  chownSync(b, uid, uid);
  const patch = JSON.stringify({ root: { path: ensureBusyboxRootfs(), readonly: true }, resources: { pids: { limit: 66 } } });
  const r = inUserManager(`
cd ${b}
${OCIRT} spec --rootless
node -e 'const fs=require("fs"),p=${patch};const c=JSON.parse(fs.readFileSync("config.json"));c.root=p.root;c.process.terminal=false;c.linux.resources=p.resources;c.process.args=["/bin/sleep","1000"];fs.writeFileSync("config.json",JSON.stringify(c))'
${OCIRT} --systemd-cgroup create s1
pid=$(${OCIRT} state s1 | sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p')
cat /proc/$pid/cgroup
systemctl --user show runc-s1.scope -p ActiveState -p Delegate -p TasksMax
${OCIRT} --systemd-cgroup update --pids-limit 77 s1
systemctl --user show runc-s1.scope -p TasksMax
cat /sys/fs/cgroup$(cut -d: -f3 /proc/$pid/cgroup)/pids.max
${OCIRT} --systemd-cgroup delete -f s1
systemctl --user show runc-s1.scope -p LoadState`);
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
  const [cg, ...props] = r.stdout.trim().split("\n");
  assert.is(cg, `0::${managerCgroup()}/user.slice/runc-s1.scope`);
  assert.equal(props.slice(0, 3).sort(), ["ActiveState=active", "Delegate=yes", "TasksMax=66"]);
  assert.equal(props.slice(3, 5), ["TasksMax=77", "77"], "update: the unit's property (on the user's bus) and the file");
  assert.is(props[5], "LoadState=not-found", "gone after delete");
});

testIf(test, existsSync("/usr/bin/podman") ? null : "podman is not installed", "rootless Podman with its default systemd cgroup manager: ocirt --systemd-cgroup on the user's bus", () => {
  const tar = join(dir, "busybox-sd.tar");
  assert.is(sh("tar", ["-C", ensureBusyboxRootfs(), "-cf", tar, "."]).status, 0);
  chmodSync(tar, 0o644);
  const P = `podman --cgroup-manager=systemd --events-backend=file --runtime ${OCIRT}`;
  const r = inUserManager(`
${P} import ${tar} localhost/ocitest-busybox-sd >/dev/null
${P} run -d --name q1 --network none --pids-limit 44 localhost/ocitest-busybox-sd /bin/sleep 1000 >/dev/null
${P} exec q1 /bin/sh -c 'cat /sys/fs/cgroup/pids.max'
cat /proc/$(${P} inspect --format '{{.State.Pid}}' q1)/cgroup | sed "s/$(${P} inspect --format '{{.Id}}' q1)/ID/"
${P} stop -t 1 q1 >/dev/null 2>&1
${P} rm q1 >/dev/null`);
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim().split("\n"), ["44", `0::${managerCgroup()}/user.slice/libpod-ID.scope`]);
});

testIf(test, existsSync("/usr/bin/podman") ? null : "podman is not installed", "rootless Podman (cgroupfs manager) with ocirt: run with a pids limit, exec, stop, in the user's delegated subtree", () => {
  const tar = join(dir, "busybox.tar");
  assert.is(sh("tar", ["-C", ensureBusyboxRootfs(), "-cf", tar, "."]).status, 0);
  chmodSync(tar, 0o644);
  const P = `podman --cgroup-manager=cgroupfs --events-backend=file --runtime ${OCIRT}`;
  const r = inUserManager(`
${P} import ${tar} localhost/ocitest-busybox >/dev/null
${P} run --rm --network none --pids-limit 55 localhost/ocitest-busybox /bin/sh -c 'cat /sys/fs/cgroup/pids.max'
${P} run -d --name p1 --network none localhost/ocitest-busybox /bin/sleep 1000 >/dev/null
${P} exec p1 /bin/sh -c 'echo exec-ok'
cat /proc/$(${P} inspect --format '{{.State.Pid}}' p1)/cgroup | sed "s/$(${P} inspect --format '{{.Id}}' p1)/ID/"
${P} stop -t 1 p1 >/dev/null 2>&1
${P} inspect --format '{{.State.Status}}' p1
${P} rm p1 >/dev/null`);
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim().split("\n"), ["55", "exec-ok", `0::${managerCgroup()}/app.slice/ID`, "exited"]);
});

test.run();
