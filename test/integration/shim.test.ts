// containerd-shim-ocirt-v2 under real clients: a private containerd (own root,
// state, sockets) with the shim on its PATH, driven by ctr with
// `--runtime io.containerd.ocirt.v2` and, where crictl is at hand, by the CRI
// plugin with a runtime handler of that type. Every test ends with nothing left:
// no shim process, socket, ocirt state, mount or cgroup of its containers.
import { hostSuite, skip as recordSkip } from "../skip";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBusyboxRootfs } from "../../conformance/rootfs";
import { REPO, waitFor } from "./harness";
import { imageTar } from "./oci-image";
import { socketAddress, socketPath } from "../../src/shim/flags";

const CONTAINERD = ["/usr/bin/containerd", "/usr/local/bin/containerd"].find((p) => existsSync(p));
const CRICTL = [process.env["CRICTL"], "/work/tools/bin/crictl", "/usr/local/bin/crictl", "/usr/bin/crictl"].find((p): p is string => !!p && existsSync(p));
const SHIM = join(REPO, "bin", "containerd-shim-ocirt-v2");
const RUNTIME = "io.containerd.ocirt.v2";
const IMAGE = "docker.io/library/ocitest-bb:latest";
const PAUSE_IMAGE = "registry.k8s.io/pause:3.6";

interface Ctx {
  dir: string;
  ns: string;
  daemon?: ChildProcess;
  runDirExisted: boolean;
  /** what the shared CRI namespace k8s.io held before (state and cgroups of other runs: not this run's to judge) */
  before: Set<string>;
  /** shim groups (container or sandbox ids) used, per containerd namespace: their sockets must be gone */
  groups: [string, string][];
  cri: boolean;
}

const t = hostSuite<Ctx>("shim");
const skip = (name: string, reason: string) => recordSkip(t, name, reason);

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

const sock = (ctx: Ctx) => join(ctx.dir, "containerd.sock");

function ctr(ctx: Ctx, args: string[], opts: { input?: string; ns?: string; timeout?: number } = {}) {
  const r = spawnSync("ctr", ["-a", sock(ctx), "-n", opts.ns ?? ctx.ns, ...args], { encoding: "utf8", timeout: opts.timeout ?? 60_000, input: opts.input ?? "", maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, stdout: r.stdout ?? "" };
}

function crictl(ctx: Ctx, args: string[], timeout = 60_000) {
  const ep = `unix://${sock(ctx)}`;
  const r = spawnSync(CRICTL!, ["--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s", ...args], { encoding: "utf8", timeout });
  return { status: r.status ?? -1, out: r.stdout.trim(), err: r.stderr ?? "" };
}

/** Our own pause program (test/integration/fixtures/pause.c), static, as the sandbox image. */
function pauseImage(dir: string): string {
  const rootfs = join(dir, "pause-rootfs");
  mkdirSync(rootfs, { recursive: true });
  const cc = spawnSync("cc", ["-static", "-O2", "-o", join(rootfs, "pause"), join(__dirname, "fixtures", "pause.c")], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`building pause: ${cc.stderr}`);
  return imageTar(dir, rootfs, PAUSE_IMAGE, { Entrypoint: ["/pause"] });
}

/** `ctr events` in the background: what it printed so far, and how to stop it. */
async function watchEvents(ctx: Ctx): Promise<{ seen(): string; stop(): void }> {
  const ev = spawn("ctr", ["-a", sock(ctx), "events"], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  ev.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  // its subscription is in place once it has connected; there is no sign of that but time
  await new Promise((r) => setTimeout(r, 1000));
  return { seen: () => out, stop: () => void ev.kill() };
}

/** waitFor that lets the event loop run (the events watcher reads meanwhile). */
async function eventually(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/**
 * Shim processes of this suite's containerd (their command line names its socket):
 * those serving containers, or the spare waiting for the next one.
 */
function shimPids(ctx: Ctx, which: "serving" | "spare" | "all" = "serving"): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      const a = cmd.indexOf("-address");
      if (!cmd.some((c) => c.endsWith("containerd-shim-ocirt-v2.js")) || a < 0 || cmd[a + 1] !== sock(ctx)) continue;
      // a spare keeps its command line after it was handed a container: ask it what it serves
      const spare = cmd.includes("-spare") && !servesSomething(Number(p));
      if (which === "all" || (which === "spare") === spare) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** A spare that was handed a container works in that container's bundle; a waiting one in "/". */
function servesSomething(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/cwd`).includes("config.json");
  } catch {
    return false;
  }
}

/** The shim serving a task: its init's parent, which must be a shim of ours. */
function shimOfTask(ctx: Ctx, id: string): number | undefined {
  const pid = Number(new RegExp(`^${id}\\s+(\\d+)`, "m").exec(ctr(ctx, ["tasks", "ls"]).out)?.[1]);
  if (!(pid > 0)) return undefined;
  const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return shimPids(ctx, "all").includes(ppid) ? ppid : undefined;
}

t.before(async (ctx) => {
  ctx.dir = mkdtempSync("/tmp/ocitest-shim-");
  ctx.ns = `ocitest-shim-${process.pid}`;
  ctx.groups = [];
  ctx.cri = false;
  ctx.runDirExisted = existsSync("/run/containerd");
  ctx.before = new Set(k8sLeft());
  if (!CONTAINERD) return;
  mkdirSync(join(ctx.dir, "bin"));
  symlinkSync(SHIM, join(ctx.dir, "bin", "containerd-shim-ocirt-v2"));
  writeFileSync(join(ctx.dir, "config.toml"), [
    "version = 2",
    `root = "${ctx.dir}/root"`,
    `state = "${ctx.dir}/state"`,
    "[grpc]",
    `  address = "${ctx.dir}/containerd.sock"`,
    "[ttrpc]",
    `  address = "${ctx.dir}/containerd.sock.ttrpc"`,
    "[debug]",
    `  address = "${ctx.dir}/debug.sock"`,
    '[plugins."io.containerd.grpc.v1.cri"]',
    "  disable_tcp_service = true",
    '  stream_server_address = "127.0.0.1"',
    `  sandbox_image = "${PAUSE_IMAGE}"`,
    // this host's bounding set lacks CAP_SYS_RESOURCE: no process may lower its
    // oom_score_adj (runc fails on the sandbox's -998 just the same)
    "  restrict_oom_score_adj = true",
    '  [plugins."io.containerd.grpc.v1.cri".containerd]',
    '    default_runtime_name = "ocirt"',
    '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ocirt]',
    `    runtime_type = "${RUNTIME}"`,
  ].join("\n"));
  ctx.daemon = spawn(CONTAINERD, ["--config", join(ctx.dir, "config.toml")], {
    stdio: ["ignore", "ignore", "ignore"],
    env: { ...process.env, PATH: `${join(ctx.dir, "bin")}:${process.env["PATH"]}` },
  });
  assert.ok(waitFor(() => existsSync(sock(ctx)) && ctr(ctx, ["version"]).status === 0, 20_000), "containerd started");
  const bb = imageTar(ctx.dir, ensureBusyboxRootfs(), IMAGE, { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] });
  const imp = ctr(ctx, ["images", "import", "--all-platforms", bb]);
  assert.is(imp.status, 0, imp.out);
  if (CRICTL) {
    for (const tar of [bb, pauseImage(ctx.dir)]) {
      const r = ctr(ctx, ["images", "import", "--all-platforms", tar], { ns: "k8s.io" });
      assert.is(r.status, 0, r.out);
    }
    ctx.cri = crictl(ctx, ["version"]).status === 0;
  }
});

t.after(async (ctx) => {
  if (ctx.daemon && ctx.cri) {
    // pods a failed CRI test left: removed the way the kubelet would (their shm mounts are CRI's)
    for (const id of crictl(ctx, ["pods", "-q"]).out.split("\n").filter(Boolean)) {
      crictl(ctx, ["stopp", id]);
      crictl(ctx, ["rmp", "-f", id]);
    }
  }
  if (ctx.daemon) {
    for (const ns of [ctx.ns, "k8s.io"]) {
      for (const id of ctr(ctx, ["tasks", "ls", "-q"], { ns }).stdout.split("\n").filter(Boolean)) ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", id], { ns });
      for (const id of ctr(ctx, ["containers", "ls", "-q"], { ns }).stdout.split("\n").filter(Boolean)) {
        ctr(ctx, ["tasks", "delete", "-f", id], { ns });
        ctr(ctx, ["containers", "delete", id], { ns });
      }
    }
    ctx.daemon.kill("SIGTERM");
    await new Promise<void>((res) => (ctx.daemon!.exitCode !== null ? res() : ctx.daemon!.on("exit", () => res())));
  }
  const problems: string[] = [];
  // a spare shim goes with its containerd
  await eventually(() => shimPids(ctx, "all").length === 0, 10_000);
  const shims = shimPids(ctx, "all");
  for (const p of shims) {
    try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
  }
  if (shims.length) problems.push(`shim processes left: ${shims.join(", ")}`);
  for (const [ns, group] of ctx.groups) {
    const path = socketPath(socketAddress(sock(ctx), ns, group));
    if (existsSync(path)) {
      problems.push(`shim socket left: ${path} (${ns}/${group})`);
      rmSync(path, { force: true });
    }
  }
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(ctx.dir));
  for (const m of mounts.reverse()) spawnSync("umount", ["-l", m.split(" ")[4]!]);
  if (mounts.length) problems.push(`mounts left: ${mounts.length}`);
  const fresh = (paths: string[]) => paths.filter((p) => !ctx.before.has(p));
  for (const ns of [ctx.ns, "k8s.io"]) {
    const stateRoot = join("/run/containerd/ocirt", ns);
    if (existsSync(stateRoot)) {
      const left = fresh(stateDirs(stateRoot));
      if (left.length) problems.push(`ocirt state left: ${left.join(", ")}`);
      for (const p of left) rmSync(p, { recursive: true, force: true });
      if (readdirSync(stateRoot).length === 0) rmSync(stateRoot, { recursive: true, force: true });
    }
    for (const h of CGROUP_HIERARCHIES) {
      const d = join("/sys/fs/cgroup", h, ns);
      if (!existsSync(d)) continue;
      const left = fresh(cgroupsUnder(d));
      for (const p of left.reverse()) spawnSync("rmdir", [p]);
      spawnSync("rmdir", [d]);
      if (left.length) problems.push(`cgroups left under ${d}: ${left.join(" ")}`);
    }
  }
  if (!ctx.runDirExisted) rmSync("/run/containerd", { recursive: true, force: true });
  rmSync(ctx.dir, { recursive: true, force: true });
  if (problems.length) console.error(`left behind:\n  ${problems.join("\n  ")}`);
  assert.equal(problems, [], "the shim left nothing behind");
});

/** ocirt state and cgroup directories under the CRI namespace k8s.io (shared by every run on the host) */
function k8sLeft(): string[] {
  const root = "/run/containerd/ocirt/k8s.io";
  return [...stateDirs(root), ...CGROUP_HIERARCHIES.flatMap((h) => cgroupsUnder(join("/sys/fs/cgroup", h, "k8s.io")))];
}

const CGROUP_HIERARCHIES = ["memory", "pids", "cpu", "freezer", "unified"];

/** The containers' state dirs under an ocirt state root (none when it does not exist). */
function stateDirs(root: string): string[] {
  return existsSync(root) ? readdirSync(root).map((id) => join(root, id)) : [];
}

/** Every cgroup below d, parents first (none when d does not exist). */
function cgroupsUnder(d: string): string[] {
  if (!existsSync(d)) return [];
  return spawnSync("find", [d, "-mindepth", "1", "-type", "d"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
}

const used = (ctx: Ctx, id: string, ns = ctx.ns) => (ctx.groups.push([ns, id]), id);
const run = (ctx: Ctx, id: string, args: string[], extra: string[] = [], input = "") =>
  ctr(ctx, ["run", "--rm", "--runtime", RUNTIME, ...extra, IMAGE, used(ctx, id), ...args], { input });

if (!CONTAINERD) skip("ctr with the ocirt shim", "no containerd on this host (.ci/run installs Debian's)");
else {
  test("ctr run --rm: output and exit status come back through the shim, events reach containerd", async (ctx) => {
    const events = await watchEvents(ctx);
    try {
      const r = run(ctx, "hello", ["/bin/sh", "-c", "echo hello via the ocirt shim; cat /proc/self/cgroup"]);
      assert.is(r.status, 0, r.out);
      assert.match(r.out, /hello via the ocirt shim/);
      // v1/hybrid: the pids line; pure v2: the one unified line
      assert.match(r.out, new RegExp(`(pids|^0):(:)?/${ctx.ns}/hello`, "m"));
      assert.is(run(ctx, "exit7", ["/bin/sh", "-c", "exit 7"]).status, 7);
      assert.ok(await eventually(() => /\/tasks\/delete \{"container_id":"exit7".*"exit_status":7/.test(events.seen()), 5000), events.seen());
      for (const topic of ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]) {
        assert.ok(new RegExp(`${topic} \\{"container_id":"hello"`).test(events.seen()), `${topic} for hello in:\n${events.seen()}`);
      }
    } finally {
      events.stop();
    }
  });

  test("a detached task: exec (exit codes), pause/resume, ps, metrics, kill, delete; the init is the shim's child", async (ctx) => {
    const events = await watchEvents(ctx);
    try {
      // the shims of the containers before left a spare, ready for this one
      assert.ok(await eventually(() => shimPids(ctx, "spare").length === 1, 10_000), "one spare shim waits");
      const spare = shimPids(ctx, "spare")[0];
      let r = ctr(ctx, ["run", "-d", "--runtime", RUNTIME, IMAGE, used(ctx, "long"), "/bin/sleep", "300"]);
      assert.is(r.status, 0, r.out);
      const pid = Number(/long\s+(\d+)/.exec(ctr(ctx, ["tasks", "ls"]).out)?.[1]);
      const shim = shimOfTask(ctx, "long");
      assert.ok(shim, "the container's init is a child of an ocirt shim (no runtime process in between)");
      assert.is(shim, spare, "the spare shim took the container");
      r = ctr(ctx, ["tasks", "exec", "--exec-id", "e1", "long", "/bin/sh", "-c", "echo from-exec; ps"]);
      assert.is(r.status, 0, r.out);
      assert.match(r.out, /from-exec/);
      assert.match(r.out, /1 root +\/bin\/sleep 300/);
      assert.is(ctr(ctx, ["tasks", "exec", "--exec-id", "e2", "long", "/bin/sh", "-c", "exit 5"]).status, 5);
      r = ctr(ctx, ["tasks", "exec", "--exec-id", "e3", "long", "/bin/cat"], { input: "to the exec's stdin\n" });
      assert.is(r.status, 0, r.out);
      assert.match(r.out, /to the exec's stdin/);
      // the exec's delete waits (up to 2 s, as runc's shim) for its output to reach the FIFO:
      // a large output arrives whole (and see e3c below)
      r = ctr(ctx, ["tasks", "exec", "--exec-id", "e3b", "long", "/bin/sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo END"]);
      assert.is(r.status, 0, r.out.slice(-200));
      assert.is(r.stdout.length, 3000000 + 5, `stdout: ${r.stdout.length} bytes, ends ${JSON.stringify(r.stdout.slice(-20))}`);
      assert.is(ctr(ctx, ["tasks", "pause", "long"]).status, 0);
      assert.match(ctr(ctx, ["tasks", "ls"]).out, /long\s+\d+\s+PAUSED/);
      assert.is(ctr(ctx, ["tasks", "resume", "long"]).status, 0);
      assert.match(ctr(ctx, ["tasks", "ls"]).out, /long\s+\d+\s+RUNNING/);
      assert.match(ctr(ctx, ["tasks", "ps", "long"]).out, new RegExp(`^${pid}\\s`, "m"));
      r = ctr(ctx, ["tasks", "metrics", "long"]);
      assert.is(r.status, 0, r.out);
      assert.match(r.out, /memory\.usage_in_bytes|memory\.usage/);
      assert.match(r.out, /pids\.current\s+1/);
      // through criu: it works where criu does (checkpoint.test.ts tests that), else criu's failure is the answer
      r = ctr(ctx, ["tasks", "checkpoint", "long"], { timeout: 600_000 });
      if (r.status !== 0) assert.match(r.out, /criu failed|criu's feature check failed/);
      assert.match(ctr(ctx, ["tasks", "ls"]).out, /long\s+\d+\s+RUNNING/, "running on after the checkpoint");
      // what a child still holding stdout writes after the exec'd process exited arrives too
      // (last: the orphan is left a zombie of the container's init, sleep)
      r = ctr(ctx, ["tasks", "exec", "--exec-id", "e3c", "long", "/bin/sh", "-c", "(sleep 0.5; echo late) & echo early"]);
      assert.is(r.status, 0, r.out);
      assert.is(r.stdout, "early\nlate\n");
      assert.is(ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", "long"]).status, 0);
      assert.ok(waitFor(() => /long\s+\d+\s+STOPPED/.test(ctr(ctx, ["tasks", "ls"]).out), 10_000));
      r = ctr(ctx, ["tasks", "delete", "long"]);
      assert.is(r.status, 0, r.out);
      assert.match(r.out, /exit code 137/, "killed by SIGKILL: 128+9");
      assert.is(ctr(ctx, ["containers", "delete", "long"]).status, 0);
      assert.ok(waitFor(() => !existsSync(`/proc/${shim}`), 10_000), "the shim exits after its last container");
      await eventually(() => /\/tasks\/delete \{"container_id":"long"/.test(events.seen()), 5000);
      for (const topic of ["/tasks/exec-added", "/tasks/exec-started", "/tasks/paused", "/tasks/resumed", "/tasks/exit", "/tasks/delete"]) {
        assert.ok(new RegExp(`${topic} \\{"container_id":"long"`).test(events.seen()), `${topic} for long in:\n${events.seen()}`);
      }
    } finally {
      events.stop();
      // a failure above leaves the container and its shim: gone before the next test counts shims
      if (ctr(ctx, ["containers", "ls", "-q"]).stdout.split("\n").includes("long")) {
        ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", "long"]);
        ctr(ctx, ["tasks", "delete", "-f", "long"]);
        ctr(ctx, ["containers", "delete", "long"]);
        await eventually(() => shimPids(ctx).length === 0, 10_000);
      }
    }
  });

  test("stdin reaches the process, and its end is the process's EOF", (ctx) => {
    const r = run(ctx, "stdin", ["/bin/sh", "-c", "cat; echo after-eof"], [], "line one\nline two\n");
    assert.is(r.status, 0, r.out);
    assert.match(r.out, /line one\nline two\nafter-eof/);
  });

  test("a terminal: the shim relays the pty (run -t, exec -t)", (ctx) => {
    // ctr -t needs a terminal of its own: script(1) gives it one
    const sh = (cmd: string) => spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", timeout: 60_000, input: "" });
    let r = sh(`ctr -a ${sock(ctx)} -n ${ctx.ns} run --rm -t --runtime ${RUNTIME} ${IMAGE} ${used(ctx, "tty1")} /bin/sh -c 'tty; echo tty-ok; exit 3'`);
    assert.is(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /tty-ok/);
    assert.is(ctr(ctx, ["run", "-d", "--runtime", RUNTIME, IMAGE, used(ctx, "tty2"), "/bin/sleep", "300"]).status, 0);
    r = sh(`ctr -a ${sock(ctx)} -n ${ctx.ns} tasks exec -t --exec-id t1 tty2 /bin/sh -c 'tty; echo exec-tty-ok'`);
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+[\s\S]*exec-tty-ok/);
    ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", "tty2"]);
    assert.ok(waitFor(() => ctr(ctx, ["tasks", "delete", "tty2"]).status === 0, 10_000));
    assert.is(ctr(ctx, ["containers", "delete", "tty2"]).status, 0);
  });

  test("log URIs: file:// and binary:// (a logging program started by the shim)", (ctx) => {
    const file = join(ctx.dir, "logs", "file.log");
    let r = ctr(ctx, ["run", "--rm", "--runtime", RUNTIME, "--log-uri", `file://${file}`, IMAGE, used(ctx, "logfile"), "/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2"]);
    assert.is(r.status, 0, r.out);
    assert.match(readFileSync(file, "utf8"), /to-stdout/);
    assert.match(readFileSync(file, "utf8"), /to-stderr/);
    // containerd's logging-binary protocol: stdout on fd 3, stderr on fd 4, closing fd 5 says "ready"
    const logger = join(ctx.dir, "logger.sh");
    const out = join(ctx.dir, "logs", "binary.log");
    writeFileSync(logger, `#!/bin/sh\nexec 5>&-\necho "id=$CONTAINER_ID ns=$CONTAINER_NAMESPACE args=$*" > "$2"\ncat <&3 >> "$2" &\ncat <&4 >> "$2"\nwait\n`);
    chmodSync(logger, 0o755);
    r = ctr(ctx, ["run", "--rm", "--runtime", RUNTIME, "--log-uri", `binary://${logger}?out=${out}`, IMAGE, used(ctx, "logbin"), "/bin/sh", "-c", "echo bin-stdout; echo bin-stderr >&2"]);
    assert.is(r.status, 0, r.out);
    assert.ok(waitFor(() => existsSync(out) && /bin-stderr/.test(readFileSync(out, "utf8")) && /bin-stdout/.test(readFileSync(out, "utf8")), 10_000), existsSync(out) ? readFileSync(out, "utf8") : "no log");
    assert.match(readFileSync(out, "utf8"), new RegExp(`id=logbin ns=${ctx.ns} args=out ${out}`));
  });

  test("OOM: the kill is reported as a /tasks/oom event and exit status 137", async (ctx) => {
    const events = await watchEvents(ctx);
    try {
      // a shell variable that grows past the limit; swap is not counted on this host (no memsw)
      const r = run(ctx, "oom", ["/bin/sh", "-c", "x=a; while :; do x=$x$x$x$x; done"], ["--memory-limit", String(16 << 20)]);
      assert.is(r.status, 137, r.out);
      assert.ok(await eventually(() => /\/tasks\/oom \{"container_id":"oom"\}/.test(events.seen()), 5000), `no /tasks/oom event in:\n${events.seen()}`);
    } finally {
      events.stop();
    }
  });

  test("a shim killed with SIGKILL: containerd's `delete` cleans up from what is on disk", (ctx) => {
    assert.is(ctr(ctx, ["run", "-d", "--runtime", RUNTIME, IMAGE, used(ctx, "orphan"), "/bin/sleep", "300"]).status, 0);
    const pid = Number(/orphan\s+(\d+)/.exec(ctr(ctx, ["tasks", "ls"]).out)?.[1]);
    const shim = shimOfTask(ctx, "orphan");
    assert.ok(pid > 0 && shim, "task and shim");
    process.kill(shim!, "SIGKILL");
    // containerd notices the closed connection and runs `containerd-shim-ocirt-v2 delete`
    assert.ok(waitFor(() => !existsSync(`/proc/${pid}`), 15_000), "the container's init was killed");
    assert.ok(waitFor(() => !/orphan/.test(ctr(ctx, ["tasks", "ls"]).out), 15_000), "the task is gone");
    assert.is(ctr(ctx, ["containers", "delete", "orphan"]).status, 0);
    assert.not.ok(existsSync(join("/run/containerd/ocirt", ctx.ns, "orphan")), "its ocirt state is gone");
  });
}

const POD = (name: string, dir: string) => ({
  metadata: { name, namespace: "ocitest", uid: `uid-${name}`, attempt: 0 },
  log_directory: join(dir, "pod-logs", name),
  linux: { security_context: { namespace_options: { network: 2 } } }, // host network: no CNI needed
});
const CONTAINER = { metadata: { name: "c" }, image: { image: IMAGE }, command: ["/bin/sleep", "300"], log_path: "c.log", linux: {} };

if (!CONTAINERD) skip("CRI with the ocirt runtime handler", "no containerd on this host");
else if (!CRICTL) skip("CRI with the ocirt runtime handler", "no crictl (looked in $CRICTL, /work/tools/bin, /usr/local/bin, /usr/bin)");
else {
  test("CRI: a pod with host network and a container in it, one shim for the pod", (ctx) => {
    assert.ok(ctx.cri, "crictl reaches the CRI plugin");
    const pod = join(ctx.dir, "solo.pod.json");
    writeFileSync(pod, JSON.stringify(POD("solo", ctx.dir)));
    const ctn = join(ctx.dir, "solo.ctr.json");
    writeFileSync(ctn, JSON.stringify(CONTAINER));
    const p = crictl(ctx, ["runp", "--runtime", "ocirt", pod]);
    assert.is(p.status, 0, p.err);
    ctx.groups.push(["k8s.io", p.out]);
    const c = crictl(ctx, ["create", p.out, ctn, pod]);
    assert.is(c.status, 0, c.err);
    assert.is(crictl(ctx, ["start", c.out]).status, 0);
    assert.equal(shimPids(ctx).length, 1, "the sandbox and its container share one shim");
    const r = crictl(ctx, ["exec", "-s", c.out, "/bin/echo", "hello from a pod"]);
    assert.is(r.status, 0, r.err);
    assert.is(r.out, "hello from a pod");
    assert.match(crictl(ctx, ["ps", "-a"]).out, /Running/);
    for (const args of [["stop", "-t", "2", c.out], ["rm", c.out], ["stopp", p.out], ["rmp", p.out]]) {
      const x = crictl(ctx, args);
      assert.is(x.status, 0, `${args[0]}: ${x.err}`);
    }
    assert.ok(waitFor(() => shimPids(ctx).length === 0, 10_000), "the pod's shim exits with the pod");
  });

  // In the VM lane's guest (TCG, every process ~15x slower) 20 pods at once outlast
  // crictl's timeouts now and then; the guest runs fewer, the host the full 20.
  const PODS = process.env["OCIRT_VM"] ? 6 : 20;
  test(`CRI: ${PODS} pods in parallel all succeed`, async (ctx) => {
    // each pod's whole lifecycle is one shell pipeline of crictl calls, all at once
    const names = Array.from({ length: PODS }, (_, i) => `par${i}`);
    const ep = `unix://${sock(ctx)}`;
    const cmd = (name: string) => {
      const pod = join(ctx.dir, `${name}.pod.json`);
      const ctn = join(ctx.dir, `${name}.ctr.json`);
      writeFileSync(pod, JSON.stringify(POD(name, ctx.dir)));
      writeFileSync(ctn, JSON.stringify(CONTAINER));
      const c = `${CRICTL} --runtime-endpoint ${ep} --image-endpoint ${ep} --timeout 120s`;
      return `set -e; P=$(${c} runp --runtime ocirt ${pod} 2>/dev/null); echo "pod $P"; C=$(${c} create $P ${ctn} ${pod} 2>/dev/null); ${c} start $C >/dev/null 2>&1; ` +
        `out=$(${c} exec -s --timeout 30 $C /bin/echo ok-${name} 2>/dev/null); [ "$out" = "ok-${name}" ]; ${c} stop -t 2 $C >/dev/null 2>&1; ${c} rm $C >/dev/null 2>&1; ` +
        `${c} stopp $P >/dev/null 2>&1; ${c} rmp $P >/dev/null 2>&1; echo done`;
    };
    const outcomes = await Promise.all(names.map((name) => new Promise<{ name: string; code: number; out: string }>((resolve) => {
      const ch = spawn("timeout", ["180", "sh", "-c", cmd(name)], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      ch.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      ch.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      ch.on("close", (code) => resolve({ name, code: code ?? -1, out })); // close: after the last output
    })));
    for (const o of outcomes) {
      const id = /pod (\w+)/.exec(o.out)?.[1];
      if (id) ctx.groups.push(["k8s.io", id]);
    }
    const failed = outcomes.filter((o) => o.code !== 0 || !o.out.includes("done"));
    assert.ok(failed.length === 0, `every pod ran, exec'd and was removed; not: ${failed.map((f) => `${f.name}: exit ${f.code}: ${f.out.trim()}`).join(" | ")}`);
    assert.ok(waitFor(() => shimPids(ctx).length === 0, 20_000), "every pod's shim exited");
  });
}

t.run();
