// The known runtime escapes, each attacked in real containers (root) and kept closed:
// CVE-2019-5736 (overwriting the runtime through /proc/<pid>/exe), CVE-2024-21626
// (leaked fds as cwd or exec path), symlinks in the rootfs that point outside it,
// the default masked and read-only paths of /proc and /sys; and the LSM fields on a
// host without AppArmor or SELinux. Each attack was also run against a build with
// its protection taken out, and succeeded there: the comment above each test names
// the protection it guards.
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { sandbox, uniqueId, statePid, waitFor, OCIRT, REPO, type Sandbox } from "./harness";
import { copyRootfs, createFails, fileOf, run, runReport } from "./util";
import { parseProbeReport, probeReportEnv } from "../../conformance/probe/report";
import { probeLsm } from "../../src/host";
import { CAPABILITIES } from "../../src/capabilities/names";
import type { OciConfig } from "../../src/spec/types";

const HELPER = join(REPO, "build", "Release", "ocirt-init");
const FIXTURES = join(REPO, "test", "integration", "fixtures");

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const allCaps = (c: OciConfig) => {
  const caps = [...CAPABILITIES];
  c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
};

/**
 * `ocirt ARGS` with extra fds: fds[i] becomes fd 3+i of ocirt, high[n] becomes fd n
 * (inherited, not close-on-exec: Node marks the low inherited fds close-on-exec at
 * startup, but not the high ones, so a high fd reaches the cloned child as it is).
 */
function ocirtWithFds(sb: Sandbox, args: string[], fds: number[], high: Record<number, number> = {}): { status: number; stdout: string; stderr: string } {
  const out = join(sb.dir, `fdout-${process.pid}`), err = join(sb.dir, `fderr-${process.pid}`);
  const fo = openSync(out, "w"), fe = openSync(err, "w");
  const stdio: ("ignore" | number)[] = ["ignore", fo, fe, ...fds];
  for (const [n, fd] of Object.entries(high)) {
    while (stdio.length <= Number(n)) stdio.push("ignore");
    stdio[Number(n)] = fd;
  }
  try {
    const r = spawnSync(OCIRT, ["--root", sb.root, ...args], { timeout: 60_000, stdio });
    if (r.error) throw r.error;
    return { status: r.status ?? 128 + 9, stdout: readFileSync(out, "utf8"), stderr: readFileSync(err, "utf8") };
  } finally {
    closeSync(fo);
    closeSync(fe);
  }
}

/** Where ocirt holds fds of a host directory in the CVE-2024-21626 tests. */
const HIGH_FD = 200;
const LEAK_FDS = [...Array.from({ length: 13 }, (_, i) => 3 + i), HIGH_FD];

function readKv(path: string): Map<string, string> {
  const m = new Map<string, string>();
  if (!existsSync(path)) return m;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const sp = line.indexOf(" ");
    if (sp > 0) m.set(line.slice(0, sp), line.slice(sp + 1));
  }
  return m;
}

const t = hostSuite<{ sb: Sandbox }>("security");
t.before((ctx) => {
  ctx.sb = sandbox("security");
});
t.after((ctx) => ctx.sb.cleanup());

// ---- CVE-2019-5736 ----

// Guards: the init is the helper, exec'd right after clone (never node code in the
// container); the bytes it runs are a sealed copy.
t("CVE-2019-5736: an entrypoint of /proc/self/exe runs the sealed helper again, never node", ({ sb }) => {
  const before = [sha256(process.execPath), sha256(HELPER)];
  const r = run(sb, (c) => (c.process!.args = ["/proc/self/exe"]));
  assert.is(r.status, 2, `stdout ${r.stdout} stderr ${r.stderr}`);
  assert.match(r.stderr, "ocirt-init is started by ocirt, not by hand");
  assert.is(r.stdout, "");
  // what /proc/self/exe names while the init waits to be started
  const id = uniqueId("selfexe");
  sb.ids.push(id);
  assert.is(sb.ocirt(["create", "-b", sb.bundle((c) => (c.process!.args = ["/proc/self/exe"])), id]).status, 0);
  const exe = readlinkSync(`/proc/${statePid(sb, id)}/exe`);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  assert.match(exe, /^\/memfd:ocirt-init/);
  assert.equal([sha256(process.execPath), sha256(HELPER)], before, "node and the helper are unchanged");
});

// Guards: spawn.cc execs the helper from a sealed memfd copy. From its file, the
// attack below writes to build/Release/ocirt-init once the helper stops running.
t("CVE-2019-5736: from a container sharing its pid namespace, /proc/1/exe of a created container can be neither written nor reopened for writing", ({ sb }) => {
  const before = [sha256(process.execPath), sha256(HELPER)];
  const a = uniqueId("exeA");
  const b = uniqueId("exeB");
  sb.ids.push(a, b);
  try {
    assert.is(sb.ocirt(["create", "-b", sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"])), a]).status, 0);
    const apid = statePid(sb, a);
    const hostView = readlinkSync(`/proc/${apid}/exe`);

    const rootfs = copyRootfs(sb);
    execFileSync("gcc", ["-static", "-O2", "-o", join(rootfs, "bin", "exe-attack"), join(FIXTURES, "exe-attack.c")], { stdio: "pipe" });
    const results = mkdtempSync(join(sb.dir, "results-"));
    const out = join(results, "out");
    const bb = sb.bundle((c) => {
      c.root = { path: rootfs, readonly: true };
      c.process!.args = ["/bin/exe-attack", "/results/out"];
      allCaps(c); // CAP_SYS_PTRACE, CAP_DAC_OVERRIDE ...: only the runtime's own protection is left
      c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === "pid" ? { type: "pid", path: `/proc/${apid}/ns/pid` } : n));
      c.mounts!.push({ destination: "/results", type: "bind", source: results, options: ["rbind", "rw"] });
    });
    const rb = sb.ocirt(["run", "-d", "-b", bb, b]);
    assert.is(rb.status, 0, rb.stderr);
    assert.ok(waitFor(() => readKv(out).has("phase1"), 20_000), `attack phase 1: ${existsSync(out) ? readFileSync(out, "utf8") : "no output"}`);
    assert.is(sb.ocirt(["start", a]).status, 0);
    assert.ok(waitFor(() => readKv(out).has("done"), 40_000), `attack phase 2: ${readFileSync(out, "utf8")}`);
    const kv = readKv(out);
    const report = readFileSync(out, "utf8");
    for (const [k, v] of kv) {
      if (k.startsWith("write-")) assert.is.not(v, "ok", `${k}: the attack wrote to the init's executable:\n${report}`);
    }
    assert.match(kv.get("exe") ?? "", /^\/memfd:ocirt-init/, `inside, /proc/1/exe is the memfd too:\n${report}`);
    assert.is(kv.get("exe-after"), "/bin/probe", `then the container's program:\n${report}`);
    assert.ok([...kv.keys()].some((k) => k.startsWith("open-")), report);
    assert.match(hostView, /^\/memfd:ocirt-init/, "the created container's init runs from a memfd");
    assert.is.not(hostView, process.execPath);
  } finally {
    sb.ocirt(["delete", "-f", b]);
    sb.ocirt(["delete", "-f", a]);
  }
  assert.equal([sha256(process.execPath), sha256(HELPER)], before, "node and the helper are unchanged");
});

// ---- CVE-2024-21626 ----

// Guards: init.c marks the helper's own fds close-on-exec, op_exec's close_range marks
// everything above the preserved fds, spawn.cc's close_range drops ocirt's other fds
// (any one of the first two suffices for the helper's fds, the last two for ocirt's).
t("CVE-2024-21626: the process gets fds 0-2 and exactly the --preserve-fds ones, nothing of ocirt's or the helper's", ({ sb }) => {
  const files = [0, 1, 2].map((i) => join(sb.dir, `passed-${i}`));
  const fds = files.map((f) => openSync(f, "w"));
  const leakDir = mkdtempSync(join(sb.dir, "leak-"));
  const dirFd = openSync(leakDir, "r");
  try {
    for (const [preserve, want] of [[undefined, [0, 1, 2]], ["2", [0, 1, 2, 3, 4]], ["0", [0, 1, 2]]] as const) {
      const id = uniqueId("fds");
      sb.ids.push(id);
      const b = sb.bundle();
      const args = ["run", ...(preserve ? ["--preserve-fds", preserve] : []), "-b", b, id];
      const r = ocirtWithFds(sb, args, [...fds, dirFd], { [HIGH_FD]: dirFd });
      assert.is(r.status, 0, r.stderr);
      const rep = parseProbeReport(r.stdout);
      assert.equal(rep.fds!.map((f) => f.fd), [...want], `--preserve-fds ${preserve}: ${JSON.stringify(rep.fds)}`);
      if (preserve === "2") {
        assert.match(rep.fds![3]!.target!, /passed-0$/);
        assert.match(rep.fds![4]!.target!, /passed-1$/);
      }
      assert.ok(rep.fds!.every((f) => f.cloexec === false), "nothing half-closed either");
    }
  } finally {
    [...fds, dirFd].forEach((fd) => closeSync(fd));
  }
});

// Guards: open_in_root's RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (the cwd is created
// in the rootfs first) and the getcwd check after chdir; spawn.cc's close_range keeps
// the high fd out of the helper.
t("CVE-2024-21626: cwd /proc/self/fd/N never lands outside the container, not even with host directories at hand", ({ sb }) => {
  const hostDir = mkdtempSync(join(sb.dir, "hostdir-"));
  // ocirt holds fds of a host directory at 3..9 and at HIGH_FD (inherited, not
  // preserved); in the last rounds fd 3 is passed on purpose
  const dirFd = openSync(hostDir, "r");
  const low = Array.from({ length: 7 }, () => dirFd);
  try {
    const rounds: { n: number; preserve?: string }[] = LEAK_FDS.map((n) => ({ n }));
    rounds.push({ n: 3, preserve: "1" }, { n: 4, preserve: "2" });
    for (const { n, preserve } of rounds) {
      const what = `N=${n}${preserve ? ` (--preserve-fds ${preserve})` : ""}`;
      const id = uniqueId("cwd");
      sb.ids.push(id);
      const b = sb.bundle((c) => {
        c.process!.cwd = `/proc/self/fd/${n}`;
        c.process!.args = ["/bin/probe", "write", "ESCAPED", "x"];
      });
      const r = ocirtWithFds(sb, ["run", ...(preserve ? ["--preserve-fds", preserve] : []), "-b", b, id], low, { [HIGH_FD]: dirFd });
      assert.equal(readdirSync(hostDir), [], `${what}: the host directory is untouched`);
      if (r.status === 1 && /process\.cwd/.test(r.stderr)) {
        assert.is(r.stderr.trim().split("\n").length, 1, r.stderr); // create refused the cwd
      } else {
        // the process ran: then its cwd must be inside the container
        const rep = runReportWithFds(sb, `/proc/self/fd/${n}`, low, { [HIGH_FD]: dirFd }, preserve);
        assert.ok(rep.cwd?.startsWith("/") && !rep.cwd.includes(hostDir), `${what}: cwd ${rep.cwd} (${r.stderr})`);
      }
    }
  } finally {
    closeSync(dirFd);
  }
});

function runReportWithFds(sb: Sandbox, cwd: string, fds: number[], high: Record<number, number>, preserve?: string) {
  const id = uniqueId("cwdr");
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.cwd = cwd));
  const r = ocirtWithFds(sb, ["run", ...(preserve ? ["--preserve-fds", preserve] : []), "-b", b, id], fds, high);
  assert.is(r.status, 0, r.stderr);
  return parseProbeReport(r.stdout);
}

// Guards: spawn.cc's close_range (no fd of ocirt but the ones it passes reaches the
// helper, whose exec resolves process.args[0] while its own fds are still open).
t("CVE-2024-21626: args /proc/self/fd/N/../.. cannot execute a host binary", ({ sb }) => {
  const hostBin = mkdtempSync(join(sb.dir, "hostbin-"));
  const marker = join(hostBin, "escape-probe");
  copyFileSync(join(REPO, "build", "probe", "probe"), marker);
  const hostDir = mkdtempSync(join(sb.dir, "hostdir-"));
  const dirFd = openSync(hostDir, "r");
  const low = Array.from({ length: 7 }, () => dirFd);
  try {
    for (const n of LEAK_FDS) {
      const id = uniqueId("args");
      sb.ids.push(id);
      const path = `/proc/self/fd/${n}/${"../".repeat(24)}${marker.slice(1)}`;
      const b = sb.bundle((c) => (c.process!.args = [path, "exit", "42"]));
      const r = ocirtWithFds(sb, ["run", "-b", b, id], low, { [HIGH_FD]: dirFd });
      assert.is.not(r.status, 42, `N=${n}: the host's binary ran in the container`);
      assert.is(r.status, 1, `N=${n}: ${r.stderr}`);
      assert.match(r.stderr, /process\.args/);
    }
  } finally {
    closeSync(dirFd);
  }
});

// ---- symlinks in the rootfs ----

// Guards: open_in_root's RESOLVE_IN_ROOT for everything made before pivot_root
// (mount targets, device nodes, the cwd); after it, the root is the container's.
t("symlinks in the rootfs pointing outside it: mounts, devices, masked and readonly paths, cwd stay inside", ({ sb }) => {
  const rootfs = copyRootfs(sb);
  const hostDir = mkdtempSync(join(sb.dir, "outside-"));
  const tag = `ocitest-${process.pid}-${Date.now()}`;
  const hostEtc = [join("/etc", tag), join("/etc", `${tag}-dev`), join("/etc", `${tag}-cwd`)];
  const etcBefore = readdirSync("/etc").sort();
  const passwdBefore = sha256("/etc/passwd");
  symlinkSync(hostDir, join(rootfs, "evil"));
  symlinkSync(`${"../".repeat(12)}${hostDir.slice(1)}`, join(rootfs, "evilrel"));
  symlinkSync("/etc", join(rootfs, "etcevil"));
  symlinkSync(join(hostDir, "file"), join(rootfs, "evilfile"));
  mkdirSync(join(rootfs, "deep"));
  symlinkSync("../evil", join(rootfs, "deep", "up"));
  try {
    const rep = runReport(sb, (c) => {
      c.root = { path: rootfs, readonly: false };
      c.process!.cwd = "/evil/work";
      c.mounts!.push(
        { destination: "/evil/mnt", type: "tmpfs", source: "tmpfs", options: ["size=64k"] },
        { destination: "/evilrel/mnt2", type: "tmpfs", source: "tmpfs", options: ["size=64k"] },
        { destination: "/deep/up/mnt3", type: "tmpfs", source: "tmpfs", options: ["size=64k"] },
        { destination: `/etcevil/${tag}`, type: "tmpfs", source: "tmpfs", options: ["size=64k"] },
        { destination: "/evilfile", type: "bind", source: "/etc/hostname", options: ["rbind", "ro"] },
      );
      c.linux!.devices = [
        { path: "/evil/dev0", type: "c", major: 1, minor: 3, fileMode: 0o666 },
        { path: `/etcevil/${tag}-dev`, type: "c", major: 1, minor: 3, fileMode: 0o666 },
      ];
      c.linux!.maskedPaths = [...c.linux!.maskedPaths!, "/evil/masked-dir", "/etcevil/passwd", "/evilfile"];
      c.linux!.readonlyPaths = [...c.linux!.readonlyPaths!, "/evil", "/etcevil", "/evilrel"];
      c.process!.env = [...c.process!.env!, ...probeReportEnv({ files: ["/evil/dev0", "/etc/passwd"], writable: ["/evil/work"] })];
    });
    assert.is(rep.cwd, `${hostDir}/work`, "the cwd is the symlink's target inside the rootfs");
    assert.is(fileOf(rep, "/evil/dev0").type, "char");
    assert.is(fileOf(rep, "/etc/passwd").type, "char", "the container's /etc/passwd is masked (through /etcevil)");
    assert.is(rep.writable["/evil/work"]!.error, "EROFS", "readonly through the symlink");
    // what was made went into the rootfs
    for (const p of ["work", "mnt", "mnt2", "mnt3", "dev0"]) assert.ok(existsSync(join(rootfs, hostDir, p)), `${p} made inside the rootfs`);
    assert.ok(existsSync(join(rootfs, "etc", tag)));
  } finally {
    const leaked = [...readdirSync(hostDir).map((n) => join(hostDir, n)), ...hostEtc.filter((p) => existsSync(p))];
    for (const p of hostEtc) rmSync(p, { recursive: true, force: true });
    assert.equal(leaked, [], "nothing was made outside the rootfs");
  }
  assert.equal(readdirSync("/etc").sort(), etcBefore, "the host's /etc is untouched");
  assert.is(sha256("/etc/passwd"), passwdBefore);
  assert.not.match(readFileSync("/proc/self/mountinfo", "utf8"), hostDir);
});

// ---- /proc and /sys ----

// Guards: op_mask and op_readonly.
t("the default masked paths hide /proc and /sys files, readonly paths are read-only, even with every capability", ({ sb }) => {
  const masked = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"];
  const present = masked.filter((p) => existsSync(p));
  const firmwareEntry = existsSync("/sys/firmware") ? readdirSync("/sys/firmware")[0] : undefined;
  // files under the default readonly paths that root could otherwise open for writing
  // (opened for append, never written)
  const roFiles = ["/proc/sys/kernel/domainname", "/proc/irq/default_smp_affinity", "/proc/sysrq-trigger"].filter((p) => existsSync(p));
  const rep = runReport(sb, (c) => {
    allCaps(c);
    c.process!.env = [
      ...c.process!.env!,
      ...probeReportEnv({
        files: [...present, ...(firmwareEntry ? [`/sys/firmware/${firmwareEntry}`] : [])],
        writable: [...roFiles, ...present.filter(readdirSafe)],
      }),
    ];
  });
  for (const p of present) {
    const f = fileOf(rep, p);
    if (readdirSafe(p)) {
      assert.is(f.type, "dir", p);
      assert.ok(rep.writable[p] && !rep.writable[p]!.ok, `${p} (an empty read-only tmpfs) is not writable`);
    } else {
      assert.equal([f.type, f.major, f.minor], ["char", 1, 3], `${p} is /dev/null`);
    }
  }
  if (firmwareEntry) assert.is((rep.files[`/sys/firmware/${firmwareEntry}`] as { error?: string }).error, "ENOENT", "/sys/firmware is empty");
  for (const p of roFiles) assert.equal(rep.writable[p], { ok: false, error: "EROFS" }, p);

  for (const p of ["/proc/keys", "/proc/timer_list", "/proc/sched_debug"].filter((x) => existsSync(x))) {
    const r = run(sb, (c) => {
      allCaps(c);
      c.process!.args = ["/bin/probe", "cat", p];
    });
    assert.equal([r.status, r.stdout], [0, ""], `${p} reads empty`);
  }
  const w = run(sb, (c) => {
    allCaps(c);
    c.process!.args = ["/bin/probe", "write", "/proc/sys/kernel/domainname", "escaped"];
  });
  assert.is(w.status, 101, w.stderr);
  assert.match(w.stderr, /EROFS/);
});

function readdirSafe(p: string): boolean {
  try {
    readdirSync(p);
    return true;
  } catch {
    return false;
  }
}

// ---- LSM labels on a host without AppArmor or SELinux ----

const lsm = probeLsm();
testIf(t, lsm.apparmor && "this host has AppArmor (the test is for hosts without it)", "process.apparmorProfile on a host without AppArmor: create fails naming the field, nothing left", ({ sb }) => {
  const line = createFails(sb, (c) => (c.process!.apparmorProfile = "docker-default"));
  assert.match(line, "process.apparmorProfile");
  assert.match(line, "AppArmor");
});

const hasSelinux = lsm.selinux && "this host has SELinux (the test is for hosts without it)";
testIf(t, hasSelinux, "process.selinuxLabel on a host without SELinux: create fails naming the field, nothing left", ({ sb }) => {
  const line = createFails(sb, (c) => (c.process!.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"));
  assert.match(line, "process.selinuxLabel");
  assert.match(line, /SELinux/);
});

testIf(t, hasSelinux, "linux.mountLabel on a host without SELinux: create fails naming the field (as runc's mount does), nothing left", ({ sb }) => {
  const line = createFails(sb, (c) => (c.linux!.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"));
  assert.match(line, /^linux\.mountLabel: SELinux is disabled/);
});

t.run();
