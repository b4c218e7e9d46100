// checkpoint and restore through criu. Where criu cannot work (its own `criu check`
// fails: Debian's criu 3.17 on this project's 6.18 hosts), the tests that need it are
// recorded as skipped with criu's reason; they run in the VM lane
// (`npm run test:vm -- '^checkpoint\.test\.ts$'`). The refusals that come before criu
// runs are tested everywhere.
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { Socket } from "node:net";
import { closeSync, existsSync, mkdirSync, openSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { release } from "node:os";
import { OCIRT, REPO, isRoot, sandbox, uniqueId, waitFor, type Sandbox } from "./harness";
import { ensureBusyboxRootfs } from "../../conformance/rootfs";
import type { OciConfig } from "../../src/spec/types";
import { native } from "../../src/native";
import { imageTar } from "./oci-image";

/** Why criu cannot checkpoint here, or null: `criu check` is criu's own verdict on the kernel. */
function criuProblem(): string | null {
  if (!isRoot) return "needs root";
  const r = spawnSync("criu", ["check"], { encoding: "utf8", timeout: 180_000 });
  if (r.error) return `criu is not installed (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status === 0) return null;
  const why = `${r.stdout}${r.stderr}`.split("\n").find((l) => /Error/.test(l))?.replace(/^.*?Error \([^)]*\):\s*/, "") ?? `exit status ${r.status}`;
  const version = /Version:\s*(\S+)/.exec(spawnSync("criu", ["--version"], { encoding: "utf8" }).stdout ?? "")?.[1] ?? "?";
  return `criu ${version} cannot work on kernel ${release()} (criu check: ${why}); the VM lane's guest kernels run these tests`;
}

const CRIU = criuProblem();
/** criu is slow in the VM lane (TCG): its first call in a boot probes the kernel for seconds. */
const SLOW = 600_000;

/** counts five times a second in memory; /data/stop makes it exit 3 */
const COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /data/cnt; echo tick $i; [ -e /data/stop ] && exit 3; sleep 0.2; done";

/** A busybox container counting in memory, writing each value to /data/cnt (a bind mount of a host dir). */
function counterBundle(sb: Sandbox, patch?: (c: OciConfig) => void): { bundle: string; data: string } {
  const data = join(sb.dir, `data-${uniqueId("d")}`);
  mkdirSync(data);
  const bundle = sb.bundle((c) => {
    c.process!.args = ["/bin/sh", "-c", COUNTER];
    c.mounts!.push({ destination: "/data", type: "bind", source: data, options: ["rbind", "rw"] });
    patch?.(c);
  }, { busybox: true });
  return { bundle, data };
}

function counter(data: string): number {
  try {
    return Number(readFileSync(join(data, "cnt"), "utf8").trim()) || 0;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(100);
  }
  return cond();
}

/**
 * ocirt with anonymous pipes for stdio (as containerd's shim gives them: criu dumps
 * pipes, but neither files of the host nor the socketpairs node's own "pipe" stdio
 * is made of): the container keeps them, so this waits for ocirt's exit, not for
 * the pipes to close, and hands back what comes out of them.
 */
function startWithPipes(sb: Sandbox, args: string[]): { exited: Promise<number>; output(): string; close(): void } {
  const n = native();
  const [inR, inW] = n.pipe();
  const [outR, outW] = n.pipe();
  let child;
  try {
    child = spawn(OCIRT, ["--root", sb.root, ...args], { stdio: [inR, outW, outW] });
  } finally {
    for (const fd of [inR, inW, outW]) n.close(fd);
  }
  let out = "";
  const reader = new Socket({ fd: outR, readable: true, writable: false });
  reader.on("data", (d: Buffer) => (out += d.toString()));
  reader.on("error", () => {});
  const exited = new Promise<number>((res) => child.on("exit", (code, sig) => res(code ?? 128 + (sig ? 9 : 0))));
  return { exited: exited.then(async (c) => (await sleep(50), c)), output: () => out, close: () => void reader.destroy() };
}

async function withPipes(sb: Sandbox, args: string[]): Promise<{ status: number; output(): string; close(): void }> {
  const p = startWithPipes(sb, args);
  return { status: await p.exited, output: p.output, close: p.close };
}

const ck = (sb: Sandbox, args: string[]) => sb.ocirt(args, { timeout: SLOW });

function state(sb: Sandbox, id: string): { status: string; pid: number; created: string; annotations?: Record<string, string> } | undefined {
  const r = sb.ocirt(["state", id]);
  return r.status === 0 ? JSON.parse(r.stdout) : undefined;
}

// ------------------------------------------------- refusals (no criu needed) ----
const pre = hostSuite<{ sb: Sandbox }>("checkpoint: refusals before criu");
pre.before((ctx) => {
  ctx.sb = sandbox("ckpt-pre");
});
pre.after((ctx) => ctx.sb.cleanup());

pre("a created container is not checkpointed; bad flags are refused on one line", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"]));
  assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
  const img = join(sb.dir, `img-${id}`);
  let r = sb.ocirt(["checkpoint", "--image-path", img, id]);
  assert.is(r.status, 1);
  assert.is(r.stderr.trim(), "container cannot be checkpointed in created state");
  assert.is(state(sb, id)?.status, "created", "the container is untouched");
  r = sb.ocirt(["checkpoint", "--manage-cgroups-mode", "bogus", "--image-path", img, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^--manage-cgroups-mode: invalid --manage-cgroups-mode value "bogus"/);
  r = sb.ocirt(["checkpoint", "--empty-ns", "pid", "--image-path", img, id]);
  assert.match(r.stderr, /^--empty-ns: namespace "pid" is not supported/);
  r = sb.ocirt(["checkpoint", "--page-server", "nohostport", "--image-path", img, id]);
  assert.match(r.stderr, /^--page-server: use --page-server ADDRESS:PORT/);
  // a running one: --parent-path is checked next, before criu runs
  assert.is(sb.ocirt(["start", id]).status, 0);
  r = sb.ocirt(["checkpoint", "--parent-path", "/abs", "--image-path", img, id]);
  assert.match(r.stderr, /^--parent-path: --parent-path must be relative/);
  r = sb.ocirt(["checkpoint", "--parent-path", "../nosuch", "--image-path", img, id]);
  assert.match(r.stderr, /^--parent-path: invalid --parent-path: ".*nosuch": no such file or directory/);
  assert.is(state(sb, id)?.status, "running");
  r = sb.ocirt(["checkpoint", "--image-path", img, "nosuch"]);
  assert.match(r.stderr, /container "nosuch" does not exist/);
  assert.is(r.stderr.trim().split("\n").length, 1);
});

pre("restore from a directory that holds no checkpoint leaves nothing behind", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle();
  const img = join(sb.dir, `empty-${id}`);
  mkdirSync(img);
  let r = sb.ocirt(["restore", "-d", "--image-path", img, "-b", b, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^--image-path: ".*descriptors\.json": no such file or directory/);
  assert.is(r.stderr.trim().split("\n").length, 1);
  r = sb.ocirt(["restore", "-d", "--image-path", join(sb.dir, "nosuch"), "-b", b, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^--image-path: ".*nosuch": no such file or directory\n$/);
  assert.is(state(sb, id), undefined, "no state");
  // an id that exists is refused before anything happens to it
  writeFileSync(join(img, "descriptors.json"), JSON.stringify(["/dev/null", "/dev/null", "/dev/null"]));
  const other = uniqueId();
  sb.ids.push(other);
  assert.is(sb.ocirt(["create", "-b", sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"])), other]).status, 0);
  r = sb.ocirt(["restore", "-d", "--image-path", img, "-b", b, other]);
  assert.is(r.status, 1);
  assert.is(r.stderr.trim(), `container with given ID already exists: ${other}`);
  assert.is(state(sb, other)?.status, "created");
});

// ------------------------------------------------------------- with criu ----
const t = hostSuite<{ sb: Sandbox }>("checkpoint", CRIU);
t.before((ctx) => {
  ctx.sb = sandbox("ckpt");
});
t.after((ctx) => ctx.sb.cleanup());

t("checkpoint, then restore: the counter goes on from its value, with hooks, pid file, lo up, exec", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const hookLog = join(sb.dir, `${id}.hooks`);
  const hook = (name: string) => ({ path: "/bin/sh", args: ["sh", "-c", `echo "${name} $(cat)" >> ${hookLog}`] });
  const { bundle, data } = counterBundle(sb, (c) => {
    c.hooks = { prestart: [hook("prestart")], createRuntime: [hook("createRuntime")] };
    c.annotations = { "org.example/kept": "yes" };
  });
  const run = await withPipes(sb, ["run", "-d", "-b", bundle, id]);
  assert.is(run.status, 0, run.output());
  try {
    assert.ok(await until(() => counter(data) >= 3, 60_000), "the container counts");
    const before = state(sb, id)!;
    const img = join(sb.dir, `img-${id}`), work = join(sb.dir, `work-${id}`);
    const r = ck(sb, ["checkpoint", "--image-path", img, "--work-path", work, id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(state(sb, id), undefined, "after the checkpoint the container is gone (runc destroys it)");
    const dumped = counter(data);
    await sleep(1000);
    assert.is(counter(data), dumped, "nothing counts while it is checkpointed");
    assert.ok(existsSync(join(work, "dump.log")), "criu's log is in --work-path");
    const fds = JSON.parse(readFileSync(join(img, "descriptors.json"), "utf8")) as string[];
    assert.is(fds.length, 3);
    assert.ok(fds.every((f) => f.startsWith("pipe:")), fds.join(" "));

    const pidFile = join(sb.dir, `${id}.pid`);
    const rs = await withPipes(sb, ["restore", "-d", "--image-path", img, "--work-path", work, "--pid-file", pidFile, "-b", bundle, id]);
    try {
      assert.is(rs.status, 0, rs.output());
      const st = state(sb, id)!;
      assert.is(st.status, "running");
      assert.is(readFileSync(pidFile, "utf8"), String(st.pid), "--pid-file names the restored init");
      assert.ok(Date.parse(st.created) > Date.parse(before.created), "created is the time of the restore");
      assert.equal(st.annotations, { "org.example/kept": "yes" });
      assert.ok(await until(() => counter(data) > dumped, 60_000), "it counts again");
      const first = counter(data);
      assert.ok(first <= dumped + 25, `it goes on from ${dumped} (memory restored), not from 1: ${first}`);
      assert.ok(await until(() => /tick \d+/.test(rs.output()), 30_000), "its stdout is restore's stdout now");
      const ticks = [...rs.output().matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
      assert.ok(ticks[0]! > dumped, `ticks go on: ${ticks[0]}`);
      // the hooks ran with the restored init's pid, prestart before createRuntime
      const lines = readFileSync(hookLog, "utf8").trim().split("\n");
      const last = lines.slice(-2);
      assert.match(last[0]!, /^prestart /);
      assert.match(last[1]!, /^createRuntime /);
      const hs = JSON.parse(last[1]!.slice("createRuntime ".length));
      assert.is(hs.pid, st.pid);
      assert.is(hs.id, id);
      // lo is up again (criu restored an empty network namespace)
      const ex = sb.ocirt(["exec", id, "cat", "/sys/class/net/lo/flags", "/data/cnt"], { timeout: SLOW });
      assert.is(ex.status, 0, ex.stderr);
      assert.is(Number(ex.stdout.split("\n")[0]) & 1, 1, `lo flags ${ex.stdout}`);
      assert.is(readlinkSync(`/proc/${st.pid}/ns/net`) === readlinkSync("/proc/self/ns/net"), false, "in a network namespace of its own");
      // restored into the container's cgroup: ps lists it, pause freezes it
      const ps = sb.ocirt(["ps", "--format", "json", id]);
      assert.ok((JSON.parse(ps.stdout) as number[]).includes(st.pid), `ps: ${ps.stdout} ${ps.stderr}`);
      assert.is(sb.ocirt(["pause", id]).status, 0);
      assert.is(state(sb, id)?.status, "paused");
      const frozen = counter(data);
      await sleep(1000);
      assert.is(counter(data), frozen, "paused: it does not count");
      assert.is(sb.ocirt(["resume", id]).status, 0);
      assert.ok(await until(() => counter(data) > frozen, 30_000), "resumed: it counts");
      assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
    } finally {
      rs.close();
    }
  } finally {
    run.close();
  }
});

t("--leave-running: the container goes on, and the image restores after it is gone", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const { bundle, data } = counterBundle(sb);
  const run = await withPipes(sb, ["run", "-d", "-b", bundle, id]);
  assert.is(run.status, 0, run.output());
  try {
    assert.ok(await until(() => counter(data) >= 3, 60_000));
    const img = join(sb.dir, `img-${id}`);
    const r = ck(sb, ["checkpoint", "--leave-running", "--image-path", img, id]);
    assert.is(r.status, 0, r.stderr);
    const dumped = counter(data);
    assert.is(state(sb, id)?.status, "running");
    assert.ok(await until(() => counter(data) > dumped + 5, 60_000), "it goes on counting");
    assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
    const killedAt = counter(data);
    // under another id, so in another cgroup than the one criu saw
    const id2 = `${id}-again`;
    sb.ids.push(id2);
    const rs = await withPipes(sb, ["restore", "-d", "--image-path", img, "-b", bundle, id2]);
    try {
      assert.is(rs.status, 0, rs.output());
      assert.ok(await until(() => counter(data) !== killedAt, 60_000), "the restored container counts");
      const v = counter(data);
      assert.ok(v > dumped - 5 && v < killedAt, `it goes on from the checkpoint (~${dumped}), not from where it was killed (${killedAt}): ${v}`);
      const pid = state(sb, id2)!.pid;
      const ps = sb.ocirt(["ps", "--format", "json", id2]);
      assert.ok((JSON.parse(ps.stdout) as number[]).includes(pid), `in the new container's cgroup: ps ${ps.stdout}; ${readFileSync(`/proc/${pid}/cgroup`, "utf8")}`);
      assert.is(sb.ocirt(["delete", "-f", id2]).status, 0);
    } finally {
      rs.close();
    }
  } finally {
    run.close();
  }
});

t("two --pre-dumps and a final dump with --parent-path restore the container", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const { bundle, data } = counterBundle(sb);
  const run = await withPipes(sb, ["run", "-d", "-b", bundle, id]);
  assert.is(run.status, 0, run.output());
  try {
    assert.ok(await until(() => counter(data) >= 3, 60_000));
    const dir = join(sb.dir, `iter-${id}`);
    let r = ck(sb, ["checkpoint", "--pre-dump", "--image-path", join(dir, "pd1"), id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(state(sb, id)?.status, "running", "a pre-dump leaves it running");
    assert.not.ok(existsSync(join(dir, "pd1", "descriptors.json")), "a pre-dump has only memory");
    r = ck(sb, ["checkpoint", "--pre-dump", "--parent-path", "../pd1", "--image-path", join(dir, "pd2"), id]);
    assert.is(r.status, 0, r.stderr);
    r = ck(sb, ["checkpoint", "--parent-path", "../pd2", "--image-path", join(dir, "final"), id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(readlinkSync(join(dir, "final", "parent")), "../pd2", "the final dump names its parent");
    assert.is(state(sb, id), undefined);
    const dumped = counter(data);
    // in the foreground: restore waits for the container and exits with its status
    const rs = startWithPipes(sb, ["restore", "--image-path", join(dir, "final"), "-b", bundle, id]);
    try {
      assert.ok(await until(() => counter(data) > dumped, 120_000), `it counts again: ${rs.output()}`);
      assert.ok(counter(data) <= dumped + 25, "from where it was");
      assert.is(state(sb, id)?.status, "running");
      writeFileSync(join(data, "stop"), "");
      assert.is(await rs.exited, 3, rs.output());
      assert.is(state(sb, id), undefined, "a foreground restore deletes the container after it exited");
    } finally {
      rs.close();
    }
  } finally {
    run.close();
  }
});

t("a network namespace given by path is criu's external one: restore puts the container back into it", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const ns = `ocitest-${process.pid}-net`;
  const add = spawnSync("ip", ["netns", "add", ns], { encoding: "utf8" });
  assert.is(add.status, 0, `ip netns add: ${add.stderr}`);
  try {
    const path = `/run/netns/${ns}`;
    const want = `net:[${statSync(path).ino}]`;
    const { bundle, data } = counterBundle(sb, (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path } : n));
    });
    const run = await withPipes(sb, ["run", "-d", "-b", bundle, id]);
    assert.is(run.status, 0, run.output());
    try {
      assert.ok(await until(() => counter(data) >= 3, 60_000));
      assert.is(readlinkSync(`/proc/${state(sb, id)!.pid}/ns/net`), want);
      const img = join(sb.dir, `img-${id}`);
      const r = ck(sb, ["checkpoint", "--image-path", img, id]);
      assert.is(r.status, 0, r.stderr);
      const dumped = counter(data);
      const rs = await withPipes(sb, ["restore", "-d", "--image-path", img, "-b", bundle, id]);
      try {
        assert.is(rs.status, 0, rs.output());
        assert.ok(await until(() => counter(data) > dumped, 60_000), "it counts again");
        assert.is(readlinkSync(`/proc/${state(sb, id)!.pid}/ns/net`), want, "back in the namespace it was given");
        assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
      } finally {
        rs.close();
      }
    } finally {
      run.close();
    }
  } finally {
    spawnSync("ip", ["netns", "del", ns]);
  }
});

t("a container with a terminal: --shell-job, and restore hands the new pty master to --console-socket", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const receiver = join(__dirname, "fixtures", "console-receiver.py");
  const listen = (tag: string) => {
    const sock = join(sb.dir, `${id}-${tag}.sock`), out = join(sb.dir, `${id}-${tag}.out`);
    const p = spawn("python3", [receiver, sock, out], { stdio: "ignore" });
    return { sock, out, exited: new Promise<void>((res) => p.on("exit", () => res())), ready: () => existsSync(`${out}.ready`) };
  };
  const { bundle, data } = counterBundle(sb, (c) => (c.process!.terminal = true));
  const first = listen("a");
  assert.ok(await until(first.ready, 30_000), "receiver listening");
  const run = sb.ocirt(["run", "-d", "--console-socket", first.sock, "-b", bundle, id], { timeout: SLOW });
  assert.is(run.status, 0, run.stderr);
  assert.ok(await until(() => counter(data) >= 3, 60_000));
  const img = join(sb.dir, `img-${id}`);
  const r = ck(sb, ["checkpoint", "--shell-job", "--image-path", img, id]);
  assert.is(r.status, 0, r.stderr);
  await first.exited; // the pty's other end is gone with the container
  const dumped = counter(data);
  const second = listen("b");
  assert.ok(await until(second.ready, 30_000), "receiver listening");
  const rs = sb.ocirt(["restore", "-d", "--shell-job", "--console-socket", second.sock, "--image-path", img, "-b", bundle, id], { timeout: SLOW });
  assert.is(rs.status, 0, rs.stderr);
  assert.is(readFileSync(`${second.out}.name`, "utf8"), "orphan-pts-master", "criu's new master, under runc's name");
  assert.ok(await until(() => /tick \d+/.test(readFileSync(second.out, "utf8")), 60_000), "the container writes on the new terminal");
  const ticks = [...readFileSync(second.out, "utf8").matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
  assert.ok(ticks[0]! > dumped && ticks[0]! <= dumped + 25, `from where it was (${dumped}): ${ticks[0]}`);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  await second.exited;
});

t("a dump criu refuses: one line naming criu's reason and log; the container runs on", async ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const { bundle, data } = counterBundle(sb);
  // a preserved fd of a host file on a mount the container does not have: criu cannot dump it
  // (the init's stdio that is /dev/null becomes the container's own, runc's reOpenDevNull)
  const host = join(sb.dir, `host-file-${id}`);
  writeFileSync(host, "x");
  const hostFd = openSync(host, "r");
  let r0;
  try {
    r0 = sb.ocirt(["run", "-d", "--preserve-fds", "1", "-b", bundle, id], { stdio: ["ignore", "ignore", "ignore", hostFd] });
  } finally {
    closeSync(hostFd);
  }
  assert.is(r0.status, 0, r0.stderr);
  assert.ok(await until(() => counter(data) >= 2, 60_000));
  const work = join(sb.dir, `work-${id}`);
  const r = ck(sb, ["checkpoint", "--image-path", join(sb.dir, `img-${id}`), "--work-path", work, id]);
  assert.is(r.status, 1);
  const lines = r.stderr.trim().split("\n");
  const last = lines[lines.length - 1]!;
  assert.match(last, /^checkpoint: criu failed \(DUMP\): .+; log file: .*dump\.log$/);
  // criu's first real reason, not its "Dump files (pid: N) failed" that follows
  assert.match(last, /Can't lookup mount=\d+ for fd=\d+ path=/);
  assert.ok(existsSync(join(work, "dump.log")));
  assert.is(state(sb, id)?.status, "running", "a failed dump leaves the container running");
  const c = counter(data);
  assert.ok(await until(() => counter(data) > c, 30_000), "still counting");
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

// ------------------------------------------------------------ containerd ----
// `ctr containers checkpoint --task` of a running task, then `ctr containers
// restore --live` of the checkpoint as a new container: through containerd's runc
// shim with ocirt as its runtime binary, and through ocirt's own shim.
const CONTAINERD = ["/usr/bin/containerd", "/usr/local/bin/containerd"].find((p) => existsSync(p));
const IMAGE = "docker.io/library/ocitest-ckpt:latest";
interface CtdCtx { dir: string; ns: string; daemon?: ChildProcess; runDirExisted: boolean }
const k = hostSuite<CtdCtx>("checkpoint: containerd", CRIU ?? (CONTAINERD ? null : "no containerd on this host (.ci/run installs Debian's)"));

function ctr(ctx: CtdCtx, args: string[], timeout = SLOW) {
  const r = spawnSync("ctr", ["-a", join(ctx.dir, "containerd.sock"), "-n", ctx.ns, ...args], { encoding: "utf8", timeout, input: "" });
  return { status: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}


k.before((ctx) => {
  ctx.dir = mkdtempSync("/tmp/ocitest-ckpt-ctd-");
  ctx.ns = `ocitest-ckpt-${process.pid}`;
  ctx.runDirExisted = existsSync("/run/containerd");
  mkdirSync(join(ctx.dir, "bin"));
  symlinkSync(join(REPO, "bin", "containerd-shim-ocirt-v2"), join(ctx.dir, "bin", "containerd-shim-ocirt-v2"));
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
  ].join("\n"));
  ctx.daemon = spawn(CONTAINERD!, ["--config", join(ctx.dir, "config.toml")], {
    stdio: ["ignore", "ignore", "ignore"],
    env: { ...process.env, PATH: `${join(ctx.dir, "bin")}:${process.env["PATH"]}`, OCIRT_SHIM_NO_SPARE: "1" },
  });
  assert.ok(waitFor(() => existsSync(join(ctx.dir, "containerd.sock")) && ctr(ctx, ["version"]).status === 0, 60_000), "containerd started");
  const imp = ctr(ctx, ["images", "import", "--all-platforms", imageTar(ctx.dir, ensureBusyboxRootfs(), IMAGE, { Env: ["PATH=/bin"], Cmd: ["/bin/sh"] })]);
  assert.is(imp.status, 0, imp.out);
});

k.after(async (ctx) => {
  if (ctx.daemon) {
    for (const id of ctr(ctx, ["tasks", "ls", "-q"]).out.split("\n").filter(Boolean)) ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", id]);
    for (const id of ctr(ctx, ["containers", "ls", "-q"]).out.split("\n").filter(Boolean)) {
      ctr(ctx, ["tasks", "delete", "-f", id]);
      ctr(ctx, ["containers", "delete", id]);
    }
    ctx.daemon.kill("SIGTERM");
    await new Promise<void>((res) => (ctx.daemon!.exitCode !== null ? res() : ctx.daemon!.on("exit", () => res())));
  }
  const problems: string[] = [];
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(ctx.dir));
  for (const m of mounts.reverse()) spawnSync("umount", ["-l", m.split(" ")[4]!]);
  if (mounts.length) problems.push(`mounts left: ${mounts.length}`);
  for (const root of ["/run/containerd/runc", "/run/containerd/ocirt"]) {
    const stateRoot = join(root, ctx.ns);
    if (!existsSync(stateRoot)) continue;
    const left = readdirSync(stateRoot);
    if (left.length) problems.push(`ocirt state left in ${stateRoot}: ${left.join(", ")}`);
    rmSync(stateRoot, { recursive: true, force: true });
  }
  for (const h of ["", "memory", "pids", "cpu", "freezer", "unified"]) {
    const d = join("/sys/fs/cgroup", h, ctx.ns);
    if (!existsSync(d)) continue;
    const left = spawnSync("find", [d, "-mindepth", "1", "-type", "d"], { encoding: "utf8" }).stdout.trim();
    spawnSync("rmdir", [d]);
    if (left) problems.push(`cgroups left under ${d}: ${left}`);
  }
  if (!ctx.runDirExisted) rmSync("/run/containerd", { recursive: true, force: true });
  rmSync(ctx.dir, { recursive: true, force: true });
  assert.equal(problems, [], "nothing left behind");
});

for (const [name, runtime] of [["containerd's runc shim running ocirt", ["--runc-binary", OCIRT]], ["ocirt's own shim", ["--runtime", "io.containerd.ocirt.v2"]]] as const) {
  k(`ctr: checkpoint of a running task, restore as a new container (${name})`, async (ctx) => {
    const tag = runtime[0] === "--runtime" ? "own" : "runc";
    const data = join(ctx.dir, `data-${tag}`);
    mkdirSync(data);
    const [a, b, ref] = [`ck-${tag}-a`, `ck-${tag}-b`, `ocitest/ckpt-${tag}:1`];
    let r = ctr(ctx, ["run", "-d", ...runtime, "--mount", `type=bind,src=${data},dst=/data,options=rbind:rw`, IMAGE, a, "/bin/sh", "-c", COUNTER]);
    assert.is(r.status, 0, r.out);
    assert.ok(await until(() => counter(data) >= 3, 120_000), "it counts");
    // paused by ctr for the dump, left running after it
    r = ctr(ctx, ["containers", "checkpoint", "--task", "--image", "--rw", a, ref]);
    assert.is(r.status, 0, r.out);
    const dumped = counter(data);
    assert.match(ctr(ctx, ["tasks", "ls"]).out, new RegExp(`^${a}\\s+\\d+\\s+RUNNING`, "m"));
    assert.ok(await until(() => counter(data) > dumped + 5, 60_000), "the task goes on after its checkpoint");
    r = ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", a]);
    assert.is(r.status, 0, r.out);
    assert.ok(await until(() => /STOPPED/.test(ctr(ctx, ["tasks", "ls"]).out), 60_000));
    assert.is(ctr(ctx, ["tasks", "delete", a]).status, 0);
    assert.is(ctr(ctx, ["containers", "delete", a]).status, 0);
    const killedAt = counter(data);
    r = ctr(ctx, ["containers", "restore", "--live", "--rw", b, ref]);
    assert.is(r.status, 0, r.out);
    assert.ok(await until(() => counter(data) !== killedAt, 120_000), "the restored task counts");
    const v = counter(data);
    assert.ok(v > dumped - 5 && v < killedAt, `it goes on from the checkpoint (~${dumped}), not from where it was killed (${killedAt}): ${v}`);
    assert.match(ctr(ctx, ["tasks", "ls"]).out, new RegExp(`^${b}\\s+\\d+\\s+RUNNING`, "m"));
    assert.is(ctr(ctx, ["tasks", "kill", "-s", "SIGKILL", b]).status, 0);
    assert.ok(await until(() => /STOPPED/.test(ctr(ctx, ["tasks", "ls"]).out), 60_000));
    assert.is(ctr(ctx, ["tasks", "delete", b]).status, 0);
    assert.is(ctr(ctx, ["containers", "delete", b]).status, 0);
    assert.is(ctr(ctx, ["images", "rm", ref]).status, 0);
  });
}

pre.run();
t.run();
k.run();
