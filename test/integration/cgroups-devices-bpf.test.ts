// The eBPF device filter on a real cgroup2 hierarchy (root only). The CI hosts
// are hybrid: their cgroup2 at /sys/fs/cgroup/unified has no controllers, but
// device control on cgroup2 is BPF only and needs none, so programs attached
// there take effect for the processes in those cgroups.
import { hostTest } from "../skip";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { native } from "../../src/native";
import { compileDeviceFilter, createCgroup, destroyCgroup, parseCgroupHost, planCgroup, type Cgroup, type DeviceRule } from "../../src/linux/cgroups";
import { SetupError } from "../../src/errors";

const CGROUP2_SUPER_MAGIC = 0x63677270;
const isCgroup2 = (p: string) => {
  try {
    return fs.statfsSync(p).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
};
// the hybrid layout's empty cgroup2, or a pure v2 host's hierarchy
const UNIFIED = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"].find(isCgroup2) ?? "/sys/fs/cgroup/unified";
const isRoot = process.getuid?.() === 0;
const haveUnified = isCgroup2(UNIFIED);
const enabled = isRoot && haveUnified;
const test = hostTest(!isRoot ? "needs root" : !haveUnified ? `needs a cgroup2 hierarchy at ${UNIFIED}` : null);
const PREFIX = `ocirt-test-${process.pid}`;
let seq = 0;
const made: string[] = [];
const cgroups: Cgroup[] = [];
let tmp = "";

const rule = (s: string, allow = true): DeviceRule => {
  const [type, mm, access] = s.split(" ") as ["a" | "b" | "c", string, string];
  const [a, b] = mm.split(":");
  const n = (x: string | undefined) => (x === "*" ? -1 : Number(x));
  return { type, major: n(a), minor: n(b), access, allow };
};

function mkCgroup(): string {
  const dir = path.join(UNIFIED, `${PREFIX}-${++seq}`);
  fs.mkdirSync(dir);
  made.push(dir);
  return dir;
}

function withDirFd<T>(dir: string, f: (fd: number) => T): T {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    return f(fd);
  } finally {
    fs.closeSync(fd);
  }
}

type Probe = Record<string, string>;

/**
 * A node child that moves itself into the cgroup, then opens devices and makes
 * device nodes, and reports "ok" or the error code of each attempt.
 */
function probe(dir: string): Probe {
  const script = `
    const fs = require("fs"), cp = require("child_process");
    fs.writeFileSync(${JSON.stringify(path.join(dir, "cgroup.procs"))}, String(process.pid));
    const open = (p, flags) => { try { fs.closeSync(fs.openSync(p, flags)); return "ok"; } catch (e) { return e.code; } };
    const mknod = (name, maj, min) => {
      const r = cp.spawnSync("mknod", [${JSON.stringify(tmp)} + "/" + name, "c", maj, min], { stdio: ["pipe", "pipe", "pipe"] });
      return r.status === 0 ? "ok" : /Operation not permitted/.test(String(r.stderr)) ? "EPERM" : "status " + r.status + ": " + r.stderr;
    };
    console.log(JSON.stringify({
      nullRW: open("/dev/null", "r+"),
      zeroR: open("/dev/zero", "r"),
      zeroW: open("/dev/zero", "w"),
      zeroRW: open("/dev/zero", "r+"),
      fullR: open("/dev/full", "r"),
      fullW: open("/dev/full", "w"),
      randomR: open("/dev/urandom", "r"),
      mknodNull: mknod("null-" + process.pid, "1", "3"),
      mknodFull: mknod("full-" + process.pid, "1", "7"),
      cgroup: fs.readFileSync("/proc/self/cgroup", "utf8").split("\\n").find((l) => l.startsWith("0::")),
    }));
  `;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`probe failed (${r.status}): ${r.stderr}`);
  for (const f of fs.readdirSync(tmp)) fs.rmSync(path.join(tmp, f));
  return JSON.parse(r.stdout) as Probe;
}

function bpfProgFds(): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:bpf-prog") out.push(fd);
    } catch {
      /* the fd of readdir itself */
    }
  }
  return out;
}

function leftovers(): string[] {
  return fs.readdirSync(UNIFIED).filter((n) => n.startsWith(PREFIX));
}

test.before(() => {
  if (enabled) tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ocirt-test-devbpf-"));
});

test.after(() => {
  if (!enabled) return;
  for (const cg of cgroups) {
    try {
      destroyCgroup(cg, { killProcesses: true });
    } catch {
      /* the assertion below reports it */
    }
  }
  for (const dir of made.reverse()) {
    try {
      fs.rmdirSync(dir);
    } catch {
      /* ditto */
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.equal(leftovers(), [], "nothing left under /sys/fs/cgroup/unified");
});

test("the addon: only /dev/null and reading /dev/zero, for a process in the cgroup", () => {
  const dir = mkCgroup();
  const before = bpfProgFds().length;
  const res = withDirFd(dir, (fd) => native().loadDeviceFilter(fd, compileDeviceFilter([rule("a *:* rwm", false), rule("c 1:3 rwm"), rule("c 1:5 r")])));
  assert.is(res.replaced, 0);
  // close-on-exec, so a container spawned later cannot inherit it
  const flags = /flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${res.progFd}`, "utf8"))![1]!;
  assert.ok(parseInt(flags, 8) & 0o2000000, "O_CLOEXEC");
  native().close(res.progFd);
  assert.is(bpfProgFds().length, before);

  const p = probe(dir);
  assert.is(p["cgroup"], `0::/${path.basename(dir)}`);
  assert.is(p["nullRW"], "ok");
  assert.is(p["zeroR"], "ok");
  assert.is(p["zeroW"], "EPERM");
  assert.is(p["zeroRW"], "EPERM", "read+write needs one rule granting both");
  assert.is(p["fullR"], "EPERM");
  assert.is(p["fullW"], "EPERM");
  assert.is(p["randomR"], "EPERM");
  assert.is(p["mknodNull"], "ok");
  assert.is(p["mknodFull"], "EPERM");

  // Outside the cgroup nothing changed.
  fs.closeSync(fs.openSync("/dev/full", "r"));
});

test("the addon: a new program replaces the old one; detach removes it; the verifier's reason is reported", () => {
  const dir = mkCgroup();
  withDirFd(dir, (fd) => {
    const first = native().loadDeviceFilter(fd, compileDeviceFilter([rule("a *:* rwm", false), rule("c 1:3 rwm")]));
    native().close(first.progFd);
    const ids = native().queryDeviceFilters(fd);
    assert.is(ids.length, 1);
    const second = native().loadDeviceFilter(fd, compileDeviceFilter([rule("a *:* rwm", false), rule("c 1:3 rwm"), rule("c 1:7 rw")]));
    native().close(second.progFd);
    assert.is(second.replaced, 1);
    const now = native().queryDeviceFilters(fd);
    assert.is(now.length, 1);
    assert.is.not(now[0], ids[0]);
    const p = probe(dir);
    assert.is(p["fullW"], "ok");
    assert.is(p["zeroR"], "EPERM");

    // exit without setting r0: the verifier refuses, and says so
    try {
      native().loadDeviceFilter(fd, Buffer.from([0x95, 0, 0, 0, 0, 0, 0, 0]));
      assert.unreachable("loaded a program the verifier must refuse");
    } catch (err) {
      const e = err as Error & { errno?: number };
      assert.match(e.message, /^bpf\(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE\): Permission denied: verifier: .*R0 !read_ok/);
      assert.is(e.errno, os.constants.errno.EACCES);
    }
    assert.equal(native().queryDeviceFilters(fd), now, "a failed load leaves the old program in place");

    assert.is(native().detachDeviceFilters(fd), 1);
    assert.equal(native().queryDeviceFilters(fd), []);
    assert.is(probe(dir)["zeroR"], "ok");
  });
  assert.throws(() => native().loadDeviceFilter(-1, compileDeviceFilter([])), (e: unknown) => (e as { errno?: number }).errno === os.constants.errno.EBADF);
});

test("createCgroup on a cgroup v2 host: the spec's rules plus runc's defaults, applied as a program", () => {
  // This host's view restricted to its cgroup2: a pure v2 host for the planner.
  const mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => / - cgroup2 /.test(l) && l.includes(` ${UNIFIED} `)).join("\n");
  const host = parseCgroupHost(mountinfo, "0::/\n");
  assert.is(host.mode, "v2");
  const cgroupsPath = `/${PREFIX}-${++seq}`;
  const plan = planCgroup(
    {
      linux: {
        cgroupsPath,
        // /dev/full is listed as a device of the container, so its default rule gives way to the spec's (none here).
        devices: [{ path: "/dev/full" }],
        resources: { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 7, access: "r" }] },
      },
    },
    "ctr",
    { host },
  );
  assert.ok((plan.resources.devices ?? []).length > 5, "the spec's rules and runc's defaults");
  const before = bpfProgFds().length;
  const cg = createCgroup(plan);
  cgroups.push(cg);
  const dir = cg.paths[""]!;
  assert.is(dir, UNIFIED + cgroupsPath);
  assert.is(bpfProgFds().length, before, "no program fd left open in the runtime");
  assert.is(withDirFd(dir, (fd) => native().queryDeviceFilters(fd)).length, 1);

  const p = probe(dir);
  assert.is(p["nullRW"], "ok");
  assert.is(p["zeroRW"], "ok");
  assert.is(p["randomR"], "ok");
  assert.is(p["fullR"], "ok");
  assert.is(p["fullW"], "EPERM");
  assert.is(p["mknodFull"], "ok", "runc's defaults allow mknod of any char device");

  // A later apply (update) replaces the program rather than stacking another.
  cg.applyResources({ devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }] });
  assert.is(withDirFd(dir, (fd) => native().queryDeviceFilters(fd)).length, 1);
  const q = probe(dir);
  assert.is(q["nullRW"], "ok");
  assert.is(q["zeroR"], "EPERM");
  assert.is(q["mknodFull"], "EPERM");

  // The kernel's refusal names the field (here: the cgroup is gone).
  const gone = createCgroup(planCgroup({ linux: { cgroupsPath: `/${PREFIX}-${++seq}` } }, "ctr2", { host }));
  destroyCgroup(gone);
  assert.throws(() => gone.applyResources({ devices: [{ allow: false, access: "rwm" }] }), (e: unknown) => e instanceof SetupError && /^linux\.resources\.devices: attach the eBPF device filter to .*: No such file or directory$/.test(e.line()));

  destroyCgroup(cg, { killProcesses: true });
  cgroups.pop();
  assert.not.ok(fs.existsSync(dir));
});

test.run();
