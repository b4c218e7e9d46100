// containerd's path, side by side: `ctr run --rm` of a trivial container through
// ocirt's shim (containerd-shim-ocirt-v2, ocirt in-process) and through runc's
// (containerd-shim-runc-v2 + runc), on one private containerd (own root, state,
// sockets) started for these scenarios and stopped after them; a pod's life through
// its CRI plugin (crictl runp, stopp, rmp, each runtime a handler); and the memory of
// the long-lived shim that each container costs.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureProbeRootfs } from "../conformance/rootfs";
import { imageTar } from "../test/integration/oci-image";
import { BenchError, sleepMs } from "./exec";
import { procMemory } from "./memory";
import type { Ctx, Sample, Scenario } from "./scenarios";
import type { Subject } from "./subjects";

const REPO = resolve(__dirname, "..");
const IMAGE = "docker.io/library/ocibench-probe:latest";
/** The pods' sandbox image: the probe, sleeping (the CRI plugin runs its command as the pause process). */
const PAUSE_IMAGE = "docker.io/library/ocibench-pause:latest";
const CONTAINERD = ["/usr/bin/containerd", "/usr/local/bin/containerd"].find((p) => existsSync(p));
/** crictl, built outside the tree (cri-tools' vendored source); the CRI scenario is skipped without it. */
const CRICTL = [process.env["CRICTL"], "/work/tools/bin/crictl", "/usr/local/bin/crictl", "/usr/bin/crictl"].find((p): p is string => !!p && existsSync(p));

interface Daemon {
  dir: string;
  ns: string;
  proc: ChildProcess;
  ocirt: Subject;
  runc: Subject;
}

let daemon: Daemon | undefined;

function ctrArgv(d: { dir: string; ns: string }, args: readonly string[]): string[] {
  return ["ctr", "-a", join(d.dir, "containerd.sock"), "-n", d.ns, ...args];
}

function ctr(d: { dir: string; ns: string }, args: readonly string[]): { status: number; out: string } {
  const [cmd, ...rest] = ctrArgv(d, args);
  const r = spawnSync(cmd!, rest, { encoding: "utf8", timeout: 60_000 });
  return { status: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** The static probe rootfs as an OCI image layout tarball for `ctr images import`. */
function probeImage(dir: string, name = IMAGE, cmd = ["/bin/probe", "exit", "0"]): string {
  return imageTar(dir, ensureProbeRootfs(), name, { Cmd: cmd });
}

/** The private containerd, started on first use. */
function ensureDaemon(ctx: Ctx): Daemon {
  if (daemon) return daemon;
  if (!CONTAINERD) throw new BenchError("no containerd");
  const dir = mkdtempSync(join(ctx.dir, "containerd-"));
  const ns = `ocibench-${process.pid}`;
  mkdirSync(join(dir, "bin"));
  symlinkSync(join(REPO, "bin", "containerd-shim-ocirt-v2"), join(dir, "bin", "containerd-shim-ocirt-v2"));
  writeFileSync(join(dir, "config.toml"), [
    "version = 2", `root = "${dir}/root"`, `state = "${dir}/state"`,
    "[grpc]", `  address = "${dir}/containerd.sock"`,
    "[ttrpc]", `  address = "${dir}/containerd.sock.ttrpc"`,
    "[debug]", `  address = "${dir}/debug.sock"`,
    '[plugins."io.containerd.grpc.v1.cri"]', "  disable_tcp_service = true",
    '  stream_server_address = "127.0.0.1"', `  sandbox_image = "${PAUSE_IMAGE}"`,
    // this host's bounding set lacks CAP_SYS_RESOURCE: no runtime may lower the sandbox's oom_score_adj
    "  restrict_oom_score_adj = true",
    '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ocirt]', '    runtime_type = "io.containerd.ocirt.v2"',
    '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]', '    runtime_type = "io.containerd.runc.v2"',
  ].join("\n"));
  const proc = spawn(CONTAINERD, ["--config", join(dir, "config.toml")], {
    stdio: ["ignore", "ignore", "ignore"],
    env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env["PATH"]}` },
  });
  const d0 = { dir, ns };
  for (let i = 0; i < 200 && !(existsSync(join(dir, "containerd.sock")) && ctr(d0, ["version"]).status === 0); i++) sleepMs(100);
  const tar = probeImage(dir);
  const pause = probeImage(dir, PAUSE_IMAGE, ["/bin/probe", "sleep", "inf"]);
  for (const [n, t] of [[ns, tar], ["k8s.io", pause]] as const) {
    const imp = ctr({ dir, ns: n }, ["images", "import", "--all-platforms", t]);
    if (imp.status !== 0) {
      proc.kill("SIGKILL");
      throw new BenchError(`ctr images import: ${imp.out}`);
    }
  }
  const subject = (name: string, runtime: string): Subject => ({ name, argv: (args) => ctrArgv(d0, ["run", "--runtime", runtime, ...args]) });
  daemon = { dir, ns, proc, ocirt: subject("ocirt-shim", "io.containerd.ocirt.v2"), runc: subject("runc-shim", "io.containerd.runc.v2") };
  return daemon;
}

/** The private containerd's directory and socket (started on first use), for the dockerd of bench/docker.ts. */
export function containerdDir(ctx: Ctx): string {
  return ensureDaemon(ctx).dir;
}

export function containerdSocket(ctx: Ctx): string {
  return join(ensureDaemon(ctx).dir, "containerd.sock");
}

/** Lazily unmounts every mount under `dir` (a daemon's snapshots), innermost first. */
export function unmountUnder(dir: string): void {
  for (const m of readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(dir)).reverse()) spawnSync("umount", ["-l", m.split(" ")[4]!]);
}

/** Stops the private containerd after removing every container left in its namespace. */
export function stopContainerd(): void {
  const d = daemon;
  if (!d) return;
  daemon = undefined;
  for (const id of ctr(d, ["tasks", "ls", "-q"]).out.split("\n").filter(Boolean)) ctr(d, ["tasks", "kill", "-s", "SIGKILL", id]);
  for (const id of ctr(d, ["containers", "ls", "-q"]).out.split("\n").filter(Boolean)) {
    ctr(d, ["tasks", "delete", "-f", id]);
    ctr(d, ["containers", "delete", id]);
  }
  // pods the CRI scenario left (a failed sample): removed as the kubelet would
  if (CRICTL) for (const id of crictl(d, ["pods", "-q"]).out.split("\n").filter(Boolean)) crictl(d, ["rmp", "-f", id]);
  d.proc.kill("SIGTERM");
  for (let i = 0; i < 100 && d.proc.exitCode === null && d.proc.signalCode === null; i++) sleepMs(50);
  unmountUnder(d.dir);
  for (const h of ["memory", "pids", "cpu", "cpuacct", "freezer", "blkio", "devices", "cpuset", "systemd", "unified"]) {
    spawnSync("rmdir", [join("/sys/fs/cgroup", h, d.ns)], { stdio: "ignore" });
  }
  rmSync(join("/run/containerd/ocirt", d.ns), { recursive: true, force: true });
  rmSync(join("/run/containerd/runc", d.ns), { recursive: true, force: true });
  rmSync(d.dir, { recursive: true, force: true });
}

function skipReason(ctx: Ctx): string | null {
  if (!CONTAINERD) return "no containerd on this host";
  if (!existsSync(join(REPO, "build", "Release", "containerd-shim-ocirt-v2")) || !existsSync(join(REPO, "dist", "containerd-shim-ocirt-v2.js"))) return "the shim is not built (npm run build)";
  ensureDaemon(ctx);
  return null;
}

function crictlArgv(d: { dir: string }, args: readonly string[]): string[] {
  const ep = `unix://${join(d.dir, "containerd.sock")}`;
  return [CRICTL!, "--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s", ...args];
}

function crictl(d: { dir: string }, args: readonly string[]): { status: number; out: string } {
  const [cmd, ...rest] = crictlArgv(d, args);
  const r = spawnSync(cmd!, rest, { encoding: "utf8", timeout: 90_000 });
  return { status: r.status ?? -1, out: `${(r.stdout ?? "").trim()}${r.status ? r.stderr : ""}` };
}

/** The long-lived shim serving a task: the parent of its init. */
function shimOf(taskPid: number): number {
  const ppid = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${taskPid}/status`, "utf8"))?.[1];
  if (!ppid) throw new BenchError(`no parent of task ${taskPid}`);
  return Number(ppid);
}

export const CONTAINERD_SCENARIOS: Scenario[] = [
  {
    name: "ctr-run",
    unit: "ms",
    what: "`ctr run --rm` of `/bin/probe exit 0` on a private containerd 1.6: ocirt's shim (ocirt in-process) vs runc's shim + runc",
    subjects: (ctx) => {
      const d = ensureDaemon(ctx);
      return [d.ocirt, d.runc];
    },
    skip: skipReason,
    sample(ctx, s): Sample {
      const id = ctx.newId(s, "ctr");
      const r = ctx.runner.ok(s.argv(["--rm", IMAGE, id]), { cwd: ctx.dir });
      ctx.forget(s, id);
      return { values: { "ctr run --rm": r.ms } };
    },
  },
  {
    name: "cri-pod",
    unit: "ms",
    what: "a pod's life through containerd's CRI plugin (`crictl runp`, `stopp`, `rmp`; host network, the probe as its pause process): runtime handler `ocirt` (ocirt's shim) vs `runc` (runc's shim + runc); pods per second = 1000 / the total",
    subjects: (ctx) => {
      const d = ensureDaemon(ctx);
      return [{ ...d.ocirt, name: "ocirt-shim" }, { ...d.runc, name: "runc-shim" }];
    },
    skip: (ctx) => (CRICTL ? skipReason(ctx) : "no crictl (looked in $CRICTL, /work/tools/bin, /usr/local/bin, /usr/bin; build it from cri-tools outside the tree)"),
    sample(ctx, s): Sample {
      const d = ensureDaemon(ctx);
      const handler = s.name === "ocirt-shim" ? "ocirt" : "runc";
      const name = ctx.newId(s, "pod");
      ctx.forget(s, name); // not a container of either runtime's --root: removed here, or by stopContainerd
      const pod = join(d.dir, `${name}.pod.json`);
      writeFileSync(pod, JSON.stringify({
        metadata: { name, namespace: "ocibench", uid: `uid-${name}`, attempt: 0 },
        log_directory: join(d.dir, "pod-logs", name),
        linux: { security_context: { namespace_options: { network: 2 } } }, // host network: no CNI needed
      }));
      const argv = (args: string[]) => crictlArgv(d, args);
      const runp = ctx.runner.ok(argv(["runp", "--runtime", handler, pod]), { cwd: ctx.dir });
      const id = runp.stdout.trim();
      if (!/^[0-9a-f]{64}$/.test(id)) throw new BenchError(`crictl runp: no pod id in ${JSON.stringify(runp.stdout.slice(0, 200))}`);
      const stopp = ctx.runner.ok(argv(["stopp", id]), { cwd: ctx.dir });
      const rmp = ctx.runner.ok(argv(["rmp", id]), { cwd: ctx.dir });
      rmSync(pod, { force: true });
      return { values: { "runp": runp.ms, "stopp": stopp.ms, "rmp": rmp.ms, "pod total": runp.ms + stopp.ms + rmp.ms } };
    },
  },
  {
    name: "shim-memory",
    unit: "kB",
    what: "the long-lived shim of one running container (`ctr run -d`, a sleeping probe): VmRSS, Pss, Anonymous",
    subjects: (ctx) => {
      const d = ensureDaemon(ctx);
      return [d.ocirt, d.runc];
    },
    iterations: (n) => Math.min(n, 10),
    skip: skipReason,
    sample(ctx, s): Sample {
      const d = ensureDaemon(ctx);
      const id = ctx.newId(s, "mem");
      ctx.runner.ok(s.argv(["-d", IMAGE, id, "/bin/probe", "sleep", "60"]), { cwd: ctx.dir });
      try {
        const pid = Number(/\s(\d+)\s+RUNNING/.exec(ctr(d, ["tasks", "ls"]).out.split("\n").find((l) => l.startsWith(id)) ?? "")?.[1]);
        if (!(pid > 0)) throw new BenchError(`no running task ${id}`);
        sleepMs(200); // what the shim allocates right after start has settled
        const m = procMemory(shimOf(pid));
        return { values: { "shim VmRSS": m.vmRssKb, "shim Pss": m.pssKb, "shim Anonymous": m.anonKb } };
      } finally {
        ctr(d, ["tasks", "kill", "-s", "SIGKILL", id]);
        for (let i = 0; i < 100 && ctr(d, ["tasks", "delete", id]).status !== 0; i++) sleepMs(50);
        ctr(d, ["containers", "delete", id]);
        ctx.forget(s, id);
      }
    },
  },
];
