// containerd as a real client: containerd-shim-runc-v2 with BinaryName pointing at
// ocirt, driven through ctr. A private containerd (own root, state, socket and
// namespace) is started for the suite and stopped after it; skipped where the
// host has no containerd (.ci/run installs Debian's).
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBusyboxRootfs } from "../../conformance/rootfs";
import { OCIRT, waitFor } from "./harness";
import { notPureV2, systemdMissing } from "./v2-side";
import { imageTar } from "./oci-image";

const CONTAINERD = ["/usr/bin/containerd", "/usr/local/bin/containerd"].find((p) => existsSync(p));
const t = hostSuite<{ dir: string; daemon?: ChildProcess; ns: string; runDirExisted: boolean }>("containerd", process.getuid?.() !== 0 ? "needs root" : CONTAINERD ? null : "no containerd on this host (.ci/run installs Debian's)");

function ctr(ctx: { dir: string; ns: string }, args: string[], timeout = 60_000) {
  const r = spawnSync("ctr", ["-a", join(ctx.dir, "containerd.sock"), "-n", ctx.ns, ...args], { encoding: "utf8", timeout });
  return { status: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}


const IMAGE = "docker.io/library/ocitest-bb:latest";

t.before(async (ctx) => {
  ctx.dir = mkdtempSync("/tmp/ocitest-containerd-");
  ctx.ns = `ocitest-${process.pid}`;
  // the shim keeps sockets and fifos under /run/containerd whatever the config says
  ctx.runDirExisted = existsSync("/run/containerd");
  writeFileSync(join(ctx.dir, "config.toml"), [
    "version = 2",
    `root = "${ctx.dir}/root"`,
    `state = "${ctx.dir}/state"`,
    "[grpc]",
    `  address = "${ctx.dir}/containerd.sock"`,
    "[debug]",
    `  address = "${ctx.dir}/debug.sock"`,
    '[plugins."io.containerd.grpc.v1.cri"]',
    "  disable_tcp_service = true",
  ].join("\n"));
  ctx.daemon = spawn(CONTAINERD!, ["--config", join(ctx.dir, "config.toml")], { stdio: ["ignore", "ignore", "ignore"] });
  assert.ok(waitFor(() => existsSync(join(ctx.dir, "containerd.sock")) && ctr(ctx, ["version"]).status === 0, 20_000), "containerd started");
  const imp = ctr(ctx, ["images", "import", "--all-platforms", imageTar(ctx.dir, ensureBusyboxRootfs(), IMAGE, { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] })]);
  assert.is(imp.status, 0, imp.out);
});

t.after(async (ctx) => {
  if (ctx.daemon) {
    for (const line of ctr(ctx, ["tasks", "ls", "-q"]).out.split("\n").filter(Boolean)) ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", line]);
    for (const line of ctr(ctx, ["containers", "ls", "-q"]).out.split("\n").filter(Boolean)) {
      ctr(ctx, ["tasks", "delete", "-f", line]);
      ctr(ctx, ["containers", "delete", line]);
    }
    ctx.daemon.kill("SIGTERM");
    await new Promise<void>((res) => (ctx.daemon!.exitCode !== null ? res() : ctx.daemon!.on("exit", () => res())));
  }
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(ctx.dir));
  for (const m of mounts.reverse()) spawnSync("umount", ["-l", m.split(" ")[4]!]);
  rmSync(ctx.dir, { recursive: true, force: true });
  assert.equal(mounts, [], "containerd left no mounts");
  // the shim runs ocirt with --root /run/containerd/runc/<namespace>: no container may remain
  const stateRoot = join("/run/containerd/runc", ctx.ns);
  if (existsSync(stateRoot)) {
    const left = spawnSync("ls", ["-A", stateRoot], { encoding: "utf8" }).stdout.trim();
    rmSync(stateRoot, { recursive: true, force: true });
    assert.is(left, "", `ocirt state left in ${stateRoot}`);
  }
  if (!ctx.runDirExisted) rmSync("/run/containerd", { recursive: true, force: true });
  // containerd puts cgroups at /<namespace>/<id>; ocirt removes them at delete
  for (const h of ["memory", "pids", "cpu", "freezer", "unified", ""]) {
    const d = join("/sys/fs/cgroup", h, ctx.ns);
    if (existsSync(d)) {
      const left = spawnSync("find", [d, "-mindepth", "1", "-type", "d"], { encoding: "utf8" }).stdout.trim();
      spawnSync("rmdir", [d]);
      assert.is(left, "", `cgroups left under ${d}`);
    }
  }
});

const run = (ctx: { dir: string; ns: string }, id: string, args: string[], extra: string[] = []) =>
  ctr(ctx, ["run", "--rm", "--runc-binary", OCIRT, ...extra, IMAGE, id, ...args]);

t("ctr run: the container's output and exit status come back through the shim", (ctx) => {
  const r = run(ctx, "hello", ["/bin/sh", "-c", "echo hello via ocirt; cat /proc/self/cgroup"]);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /hello via ocirt/);
  // v1: the pids hierarchy's line; v2: the one unified line
  assert.match(r.out, new RegExp(`(pids|^0):(:)?/${ctx.ns}/hello`, "m"));
  assert.is(run(ctx, "exit7", ["/bin/sh", "-c", "exit 7"]).status, 7);
});

testIf(t, notPureV2(), "on cgroup v2: ctr's --memory-limit, --cpus and pause land in the container's memory.max, cpu.max and cgroup.freeze", (ctx) => {
  // read from the host side: ctr's spec (unlike CRI's) has no /sys/fs/cgroup mount
  let r = ctr(ctx, ["run", "-d", "--runc-binary", OCIRT, "--memory-limit", String(96 * 1024 * 1024), "--cpus", "0.5", IMAGE, "limits", "/bin/sleep", "300"]);
  assert.is(r.status, 0, r.out);
  const dir = join("/sys/fs/cgroup", ctx.ns, "limits");
  const file = (f: string) => readFileSync(join(dir, f), "utf8").trim();
  const pid = Number(/limits\s+(\d+)/.exec(ctr(ctx, ["tasks", "ls"]).out)?.[1]);
  assert.is(readFileSync(`/proc/${pid}/cgroup`, "utf8"), `0::/${ctx.ns}/limits\n`);
  assert.equal([file("memory.max"), file("cpu.max")], [String(96 * 1024 * 1024), "50000 100000"]);
  assert.is(ctr(ctx, ["tasks", "pause", "limits"]).status, 0);
  assert.is(file("cgroup.freeze"), "1");
  assert.is(ctr(ctx, ["tasks", "resume", "limits"]).status, 0);
  assert.is(file("cgroup.freeze"), "0");
  assert.is(ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", "limits"]).status, 0);
  assert.ok(waitFor(() => /limits\s+\d+\s+STOPPED/.test(ctr(ctx, ["tasks", "ls"]).out), 10_000));
  r = ctr(ctx, ["tasks", "delete", "limits"]);
  assert.is(r.status, 0, r.out);
  assert.is(ctr(ctx, ["containers", "delete", "limits"]).status, 0);
  assert.not.ok(existsSync(dir), "the container's cgroup is removed");
});

testIf(t, notPureV2() ?? systemdMissing(), "SystemdCgroup (ctr --runc-systemd-cgroup): a transient scope with the limits as unit properties; exec, pause, delete", (ctx) => {
  const unit = `ocitest-${ctx.ns}.scope`;
  const show = (props: string) => spawnSync("systemctl", ["show", unit, "-p", props], { encoding: "utf8" }).stdout.trim().split("\n").sort().join("\n");
  let r = ctr(ctx, ["run", "-d", "--runc-binary", OCIRT, "--runc-systemd-cgroup", "--cgroup", `system.slice:ocitest:${ctx.ns}`,
    "--memory-limit", String(96 * 1024 * 1024), "--cpus", "0.5", IMAGE, "sdlimits", "/bin/sleep", "300"]);
  assert.is(r.status, 0, r.out);
  const dir = join("/sys/fs/cgroup/system.slice", unit);
  const file = (f: string) => readFileSync(join(dir, f), "utf8").trim();
  const pid = Number(/sdlimits\s+(\d+)/.exec(ctr(ctx, ["tasks", "ls"]).out)?.[1]);
  assert.is(readFileSync(`/proc/${pid}/cgroup`, "utf8"), `0::/system.slice/${unit}\n`);
  assert.is(show("ActiveState,MemoryMax,CPUQuotaPerSecUSec"), "ActiveState=active\nCPUQuotaPerSecUSec=500ms\nMemoryMax=100663296");
  assert.equal([file("memory.max"), file("cpu.max")], [String(96 * 1024 * 1024), "50000 100000"]);
  r = ctr(ctx, ["tasks", "exec", "--exec-id", "e1", "sdlimits", "/bin/sh", "-c", "echo from-exec"]);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /from-exec/);
  assert.is(ctr(ctx, ["tasks", "pause", "sdlimits"]).status, 0);
  assert.is(file("cgroup.freeze"), "1");
  assert.is(ctr(ctx, ["tasks", "resume", "sdlimits"]).status, 0);
  assert.is(file("cgroup.freeze"), "0");
  assert.is(ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", "sdlimits"]).status, 0);
  assert.ok(waitFor(() => /sdlimits\s+\d+\s+STOPPED/.test(ctr(ctx, ["tasks", "ls"]).out), 10_000));
  r = ctr(ctx, ["tasks", "delete", "sdlimits"]);
  assert.is(r.status, 0, r.out);
  assert.is(ctr(ctx, ["containers", "delete", "sdlimits"]).status, 0);
  assert.ok(waitFor(() => /^LoadState=not-found$/.test(show("LoadState")), 10_000), `the scope is stopped and gone: ${show("LoadState,ActiveState")}`);
  assert.not.ok(existsSync(dir), "the scope's cgroup is removed");
});

t("a detached task: exec, pause/resume, ps, metrics, kill, delete", (ctx) => {
  let r = ctr(ctx, ["run", "-d", "--runc-binary", OCIRT, IMAGE, "long", "/bin/sleep", "300"]);
  assert.is(r.status, 0, r.out);
  // start returns once the init took the start signal; it execs sleep a moment later
  let n = 0;
  do r = ctr(ctx, ["tasks", "exec", "--exec-id", `e${++n}`, "long", "/bin/sh", "-c", "echo from-exec; ps"]);
  while (r.status === 0 && !/1 root +\/bin\/sleep 300/.test(r.out) && n < 20);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /from-exec/);
  assert.match(r.out, /1 root +\/bin\/sleep 300/, r.out);
  assert.is(ctr(ctx, ["tasks", "pause", "long"]).status, 0);
  assert.match(ctr(ctx, ["tasks", "ls"]).out, /long\s+\d+\s+PAUSED/);
  assert.is(ctr(ctx, ["tasks", "resume", "long"]).status, 0);
  assert.match(ctr(ctx, ["tasks", "ls"]).out, /long\s+\d+\s+RUNNING/);
  assert.match(ctr(ctx, ["tasks", "ps", "long"]).out, /^\d+/m);
  assert.match(ctr(ctx, ["tasks", "metrics", "long"]).out, /memory\.usage_in_bytes|memory\.usage/);
  assert.is(ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", "long"]).status, 0);
  assert.ok(waitFor(() => /long\s+\d+\s+STOPPED/.test(ctr(ctx, ["tasks", "ls"]).out), 10_000));
  assert.is(ctr(ctx, ["tasks", "delete", "long"]).status, 0);
  assert.is(ctr(ctx, ["containers", "delete", "long"]).status, 0);
});

t("a terminal through the shim's console socket", (ctx) => {
  // ctr -t needs a terminal of its own: script(1) gives it one
  const r = spawnSync("script", ["-qc", `ctr -a ${join(ctx.dir, "containerd.sock")} -n ${ctx.ns} run --rm -t --runc-binary ${OCIRT} ${IMAGE} tty1 /bin/sh -c 'tty; echo tty-ok'`, "/dev/null"], { encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
  assert.match(r.stdout, /tty-ok/);
});

void statSync;
t.run();
