// containerd with the systemd cgroup driver, in the systemd guest of the VM lane
// (`npm run test:vm -- --systemd '^containerd\.test\.ts$'`): what kubeadm sets up
// (`SystemdCgroup = true`), here through ctr against a private containerd (own
// root, state and sockets under a temp dir). Each container is a transient scope
// `ctr-<name>.scope` in system.slice, made by the runtime over the system bus.
//   - runc's shim (`io.containerd.runc.v2`) with `BinaryName` = Debian's runc: the
//     reference, whose observations the ocirt runs must equal;
//   - runc's shim with `BinaryName` = bin/ocirt (`--runc-binary`, `--runc-systemd-cgroup`);
//   - ocirt's own shim (`io.containerd.ocirt.v2`); ctr refuses `--runc-systemd-cgroup`
//     for any runtime but runc's, so `SystemdCgroup = true` reaches it the way the CRI
//     plugin's config_path does: `--runtime-config-path` (runtimeoptions.v1.Options).
// Each flavour: `ctr run --rm` prints the output and passes the exit status, from
// inside the scope; a detached task with `--memory-limit` is in the scope (init and
// exec), the limit is the unit's MemoryMax and the cgroup's memory.max, pause
// freezes the scope's cgroup; kill + delete leave no unit, cgroup or state.
import { hostSuite, skip as recordSkip } from "../skip";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBusyboxRootfs } from "../../conformance/rootfs";
import { isRoot, OCIRT, REPO, waitFor } from "../integration/harness";
import { imageTar } from "../integration/oci-image";
import { show } from "../integration/v2-side";

const CONTAINERD = ["/usr/bin/containerd", "/usr/local/bin/containerd"].find((p) => existsSync(p));
const CTR = ["/usr/bin/ctr", "/usr/local/bin/ctr"].find((p) => existsSync(p));
const RUNC = ["/usr/sbin/runc", "/usr/bin/runc"].find((p) => existsSync(p));
const SHIM = join(REPO, "bin", "containerd-shim-ocirt-v2");
const IMAGE = "docker.io/library/ocitest-bb:latest";
const MEM = 64 * 1024 * 1024;

/** Why this suite cannot run here, or null. */
function missing(): string | null {
  if (!isRoot) return "needs root";
  if (!existsSync("/run/systemd/system") || readFileSync("/proc/1/comm", "utf8").trim() !== "systemd") {
    return "systemd is not PID 1 here (run it in the systemd guest: npm run test:vm -- --systemd)";
  }
  if (!existsSync("/sys/fs/cgroup/cgroup.controllers")) return "not a pure cgroup v2 host";
  if (!CONTAINERD || !CTR) return "no containerd/ctr on this host (.ci/run installs Debian's)";
  const help = spawnSync(CTR, ["run", "--help"], { encoding: "utf8" });
  if (!/--runc-systemd-cgroup/.test(`${help.stdout}${help.stderr}`)) return "this ctr has no --runc-systemd-cgroup";
  return null;
}

interface Obs {
  [k: string]: unknown;
}
interface Ctx {
  dir: string;
  ns: string;
  daemon?: ChildProcess;
  /** every unit name used: stopped and reset at the end whatever happened */
  units: string[];
  /** runc's observations (the reference), once its test ran */
  ref?: Obs;
}

const MISSING = missing();
const t = hostSuite<Ctx>("systemd containerd", MISSING);

const sock = (ctx: Ctx) => join(ctx.dir, "containerd.sock");

function ctr(ctx: Ctx, args: string[], timeout = 120_000) {
  const r = spawnSync(CTR!, ["-a", sock(ctx), "-n", ctx.ns, ...args], { encoding: "utf8", timeout, input: "" });
  return { status: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, stdout: r.stdout ?? "" };
}

/** Units of the suite still listed by systemd (`systemctl list-units --all`). */
function listed(unit: string): boolean {
  const r = spawnSync("systemctl", ["list-units", "--all", "--no-legend", "--plain", unit], { encoding: "utf8" });
  return r.stdout.split("\n").some((l) => l.trim().startsWith(unit));
}

const UNIT_PROPS = ["LoadState", "ActiveState", "Transient", "Slice", "ControlGroup", "Delegate", "MemoryMax", "TasksMax", "DefaultDependencies", "Description"];

interface Flavour {
  label: string;
  runtime: string;
  /** the ctr flags that select the runtime binary and the systemd driver */
  flags: (ctx: Ctx) => string[];
  /** the state root of the namespace's containers (the runtime's --root) */
  stateRoot: (ctx: Ctx) => string;
}

const RUNC_SHIM = "io.containerd.runc.v2";
const viaRuncShim = (label: string, binary: string): Flavour => ({
  label,
  runtime: RUNC_SHIM,
  flags: () => ["--runc-binary", binary, "--runc-systemd-cgroup"],
  stateRoot: (ctx) => join("/run/containerd/runc", ctx.ns),
});
const OCIRT_SHIM: Flavour = {
  label: "oshim",
  runtime: "io.containerd.ocirt.v2",
  flags: (ctx) => ["--runtime-config-path", join(ctx.dir, "ocirt-systemd.toml")],
  stateRoot: (ctx) => join("/run/containerd/ocirt", ctx.ns),
};

/**
 * Runs the whole flow with one flavour, asserting what must hold for any runtime,
 * and returns what it saw with the container names replaced by <name> (for the
 * comparison with runc).
 */
function flow(ctx: Ctx, f: Flavour): Obs {
  const obs: Obs = {};
  const norm = (s: string, name: string) => s.split(name).join("<name>");
  const run = (name: string, extra: string[], args: string[]) => {
    ctx.units.push(`ctr-${name}.scope`);
    return ctr(ctx, ["run", "--runtime", f.runtime, ...f.flags(ctx), "--cgroup", `system.slice:ctr:${name}`, ...extra, IMAGE, name, ...args]);
  };

  // 1. run --rm: output and exit status, the process in its scope
  const once = `${f.label}-once`;
  let r = run(once, ["--rm"], ["/bin/sh", "-c", "echo hello from a scope; cat /proc/self/cgroup; exit 7"]);
  assert.is(r.status, 7, `ctr run --rm passes the exit status: ${r.out}`);
  assert.match(r.out, /hello from a scope/);
  assert.match(r.out, new RegExp(`^0::/system\\.slice/ctr-${once}\\.scope$`, "m"), "the process runs in the scope ctr-<name>.scope");
  obs["run --rm /proc/self/cgroup"] = norm(/^0::.*$/m.exec(r.out)?.[0] ?? "", once);
  assert.ok(waitFor(() => !listed(`ctr-${once}.scope`), 20_000), `ctr-${once}.scope is gone after run --rm`);
  assert.not.ok(existsSync(`/sys/fs/cgroup/system.slice/ctr-${once}.scope`), "its cgroup is gone");
  assert.not.ok(existsSync(join(f.stateRoot(ctx), once)), "its runtime state is gone");

  // 2. a detached task with a memory limit
  const name = `${f.label}-long`;
  const unit = `ctr-${name}.scope`;
  const cg = `/sys/fs/cgroup/system.slice/${unit}`;
  r = run(name, ["-d", "--memory-limit", String(MEM)], ["/bin/sleep", "300"]);
  assert.is(r.status, 0, `ctr run -d: ${r.out}`);
  const pid = Number(new RegExp(`^${name}\\s+(\\d+)`, "m").exec(ctr(ctx, ["tasks", "ls"]).out)?.[1]);
  assert.ok(pid > 0, "the task has a pid");
  const own = readFileSync(`/proc/${pid}/cgroup`, "utf8").trim();
  assert.is(own, `0::/system.slice/${unit}`, "the init is in the scope");
  obs["init /proc/pid/cgroup"] = norm(own, name);
  const p = show(unit, UNIT_PROPS);
  assert.equal(
    { load: p["LoadState"], active: p["ActiveState"], transient: p["Transient"], slice: p["Slice"], cg: p["ControlGroup"], mem: p["MemoryMax"] },
    { load: "loaded", active: "active", transient: "yes", slice: "system.slice", cg: `/system.slice/${unit}`, mem: String(MEM) },
    `systemctl show ${unit}`,
  );
  obs["unit"] = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, norm(v, name)]));
  const status = spawnSync("systemctl", ["status", "--no-pager", unit], { encoding: "utf8" }).stdout;
  assert.match(status, new RegExp(`${pid}\\s+/bin/sleep 300`), `systemctl status lists the init:\n${status}`);
  assert.is(readFileSync(join(cg, "memory.max"), "utf8").trim(), String(MEM), "memory.max");
  obs["memory.max"] = readFileSync(join(cg, "memory.max"), "utf8").trim();
  obs["pids.max"] = readFileSync(join(cg, "pids.max"), "utf8").trim();
  obs["cgroup.subtree_control"] = readFileSync(join(cg, "cgroup.subtree_control"), "utf8").trim();
  obs["cgroup.procs"] = readFileSync(join(cg, "cgroup.procs"), "utf8").trim() === String(pid) ? "the init only" : "other";

  r = ctr(ctx, ["tasks", "exec", "--exec-id", "e1", name, "/bin/cat", "/proc/self/cgroup"]);
  assert.is(r.status, 0, `exec: ${r.out}`);
  assert.is(r.stdout.trim(), `0::/system.slice/${unit}`, "an exec'd process joins the scope");
  obs["exec /proc/self/cgroup"] = norm(r.stdout.trim(), name);

  assert.is(ctr(ctx, ["tasks", "pause", name]).status, 0);
  assert.match(ctr(ctx, ["tasks", "ls"]).out, new RegExp(`${name}\\s+\\d+\\s+PAUSED`));
  assert.match(readFileSync(join(cg, "cgroup.events"), "utf8"), /^frozen 1$/m, "the scope's cgroup is frozen");
  assert.is(ctr(ctx, ["tasks", "resume", name]).status, 0);
  assert.match(ctr(ctx, ["tasks", "ls"]).out, new RegExp(`${name}\\s+\\d+\\s+RUNNING`));
  assert.match(readFileSync(join(cg, "cgroup.events"), "utf8"), /^frozen 0$/m);

  const state = join(f.stateRoot(ctx), name);
  assert.ok(existsSync(state), `the runtime's state is at ${state}`);
  assert.is(ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", name]).status, 0);
  assert.ok(waitFor(() => new RegExp(`${name}\\s+\\d+\\s+STOPPED`).test(ctr(ctx, ["tasks", "ls"]).out), 20_000), "the task stopped");
  r = ctr(ctx, ["tasks", "delete", name]);
  assert.is(r.status, 0, r.out);
  assert.is(ctr(ctx, ["containers", "delete", name]).status, 0);
  assert.ok(waitFor(() => !listed(unit), 20_000), `${unit} is not in systemctl list-units --all after delete`);
  obs["after delete: LoadState"] = show(unit, ["LoadState"])["LoadState"];
  assert.not.ok(existsSync(cg), "the scope's cgroup is removed");
  // when `ctr tasks delete` has returned, not some time later
  assert.not.ok(existsSync(state), "the runtime's state is removed");
  return obs;
}

t.before((ctx) => {
  ctx.dir = mkdtempSync("/tmp/ocitest-sdctr-");
  ctx.ns = `ocitest-sd-${process.pid}`;
  ctx.units = [];
  mkdirSync(join(ctx.dir, "bin"));
  symlinkSync(SHIM, join(ctx.dir, "bin", "containerd-shim-ocirt-v2"));
  writeFileSync(join(ctx.dir, "ocirt-systemd.toml"), "SystemdCgroup = true\n");
  writeFileSync(join(ctx.dir, "config.toml"), [
    "version = 2",
    // this suite drives tasks through ctr only
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    `root = "${ctx.dir}/root"`,
    `state = "${ctx.dir}/state"`,
    "[grpc]",
    `  address = "${sock(ctx)}"`,
    "[ttrpc]",
    `  address = "${sock(ctx)}.ttrpc"`,
    "[debug]",
    `  address = "${ctx.dir}/debug.sock"`,
  ].join("\n"));
  ctx.daemon = spawn(CONTAINERD!, ["--config", join(ctx.dir, "config.toml")], {
    stdio: ["ignore", "ignore", "ignore"],
    // the ocirt shim is found on containerd's PATH; no spare shim (nothing to wait for at the end)
    env: { ...process.env, PATH: `${join(ctx.dir, "bin")}:${process.env["PATH"]}`, OCIRT_SHIM_NO_SPARE: "1" },
  });
  assert.ok(waitFor(() => existsSync(sock(ctx)) && ctr(ctx, ["version"]).status === 0, 60_000), "containerd started");
  const bb = imageTar(ctx.dir, ensureBusyboxRootfs(), IMAGE, { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] });
  const imp = ctr(ctx, ["images", "import", "--all-platforms", bb]);
  assert.is(imp.status, 0, imp.out);
});

t.after(async (ctx) => {
  const problems: string[] = [];
  if (ctx.daemon) {
    for (const id of ctr(ctx, ["tasks", "ls", "-q"]).stdout.split("\n").filter(Boolean)) {
      problems.push(`task left: ${id}`);
      ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", id]);
    }
    for (const id of ctr(ctx, ["containers", "ls", "-q"]).stdout.split("\n").filter(Boolean)) {
      problems.push(`container left: ${id}`);
      ctr(ctx, ["tasks", "delete", "-f", id]);
      ctr(ctx, ["containers", "delete", id]);
    }
    ctx.daemon.kill("SIGTERM");
    await new Promise<void>((res) => (ctx.daemon!.exitCode !== null || ctx.daemon!.signalCode !== null ? res() : ctx.daemon!.on("exit", () => res())));
  }
  for (const unit of ctx.units) {
    if (listed(unit)) {
      problems.push(`unit left: ${unit}`);
      spawnSync("systemctl", ["stop", unit]);
    }
    spawnSync("systemctl", ["reset-failed", unit], { stdio: "ignore" });
    const cg = `/sys/fs/cgroup/system.slice/${unit}`;
    if (existsSync(cg)) {
      problems.push(`cgroup left: ${cg}`);
      spawnSync("rmdir", [cg]);
    }
  }
  for (const root of ["/run/containerd/runc", "/run/containerd/ocirt"]) {
    const d = join(root, ctx.ns ?? "none");
    if (!existsSync(d)) continue;
    const left = readdirSync(d);
    if (left.length) problems.push(`state left under ${d}: ${left.join(" ")}`);
    rmSync(d, { recursive: true, force: true });
  }
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => ctx.dir && l.includes(ctx.dir));
  for (const m of mounts.reverse()) spawnSync("umount", ["-l", m.split(" ")[4]!]);
  if (mounts.length) problems.push(`mounts left: ${mounts.length}`);
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
  if (problems.length) process.stderr.write(`left behind:\n  ${problems.join("\n  ")}\n`);
  assert.equal(problems, [], "the suite left nothing behind");
});

/** A test whose failure is also printed at once (uvu stops reporting when the after hook fails). */
function test(name: string, fn: (ctx: Ctx) => unknown): void {
  t(name, async (ctx) => {
    try {
      await fn(ctx);
    } catch (err) {
      process.stderr.write(`FAIL ${name}: ${(err as Error).message}\n`);
      throw err;
    }
  });
}

function compare(ctx: Ctx, obs: Obs): void {
  if (ctx.ref) assert.equal(obs, ctx.ref, "what ocirt's run shows equals runc's");
}

if (MISSING === null && !RUNC) recordSkip(t, "runc's shim + runc --systemd-cgroup (the reference)", "no runc on this host (Debian's runc)");
else {
  test("runc's shim + runc --systemd-cgroup (the reference): run --rm, a detached task's scope and limit, delete", (ctx) => {
    ctx.ref = flow(ctx, viaRuncShim("runc", RUNC ?? "runc"));
  });
}

test("runc's shim + BinaryName=ocirt, SystemdCgroup: run --rm, a detached task's scope and limit, delete; as runc", (ctx) => {
  compare(ctx, flow(ctx, viaRuncShim("ocirt", OCIRT)));
});

test("ocirt's shim (io.containerd.ocirt.v2) with SystemdCgroup = true: the same, as runc", (ctx) => {
  compare(ctx, flow(ctx, OCIRT_SHIM));
});

test("ctr refuses --runc-systemd-cgroup for the ocirt shim (why the flavour above uses --runtime-config-path)", (ctx) => {
  const r = ctr(ctx, ["run", "--rm", "--runtime", OCIRT_SHIM.runtime, "--runc-systemd-cgroup", "--cgroup", "system.slice:ctr:refused", IMAGE, "refused", "/bin/true"]);
  assert.is.not(r.status, 0, r.out);
  assert.match(r.out, /only supported for "io\.containerd\.runc\.v2"/);
});

t.run();
