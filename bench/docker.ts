// Docker's path, side by side: `docker run --rm` of the probe through ocirt and through runc,
// each a runtime of one private dockerd (Docker 20.10, Debian's docker.io): ocirt as runc's
// drop-in (`--add-runtime ocirt=bin/ocirt`: containerd-shim-runc-v2 with ocirt as its binary),
// the way operators add it. The dockerd is the benchmark's own: its own data and exec roots and
// socket, on the private containerd of the containerd scenarios, no bridge, no iptables, no
// ip_forward change (the host's network is not touched), its containers' cgroups under a parent
// named with the benchmark's prefix (the leftover check sees them).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureProbeRootfs } from "../conformance/rootfs";
import { containerdDir, containerdSocket, unmountUnder } from "./containerd";
import { BenchError, sleepMs } from "./exec";
import type { Ctx, Sample, Scenario } from "./scenarios";
import type { Subject } from "./subjects";

const DOCKERD = ["/usr/sbin/dockerd", "/usr/bin/dockerd"].find((p) => existsSync(p));
/** The client of the dockerd's own version (a newer one elsewhere on the PATH may refuse its API). */
const DOCKER = ["/usr/bin/docker", "/usr/local/bin/docker"].find((p) => existsSync(p));
const IMAGE = "ocibench-probe:latest";
/** dockerd 20.10 writes its libtrust key there whatever its flags say. */
const TRUST_KEY = "/etc/docker/key.json";
const NOT_UP = "the private dockerd did not start";

interface Dockerd {
  dir: string;
  proc: ChildProcess;
  cgroupParent: string;
  madeKey: boolean;
  ocirt: Subject;
  runc: Subject;
}

let dockerd: Dockerd | undefined;

function dockerArgv(dir: string, args: readonly string[]): string[] {
  return [DOCKER!, "-H", `unix://${join(dir, "docker.sock")}`, ...args];
}

function docker(dir: string, args: readonly string[], input?: Buffer): { status: number; out: string } {
  const [cmd, ...rest] = dockerArgv(dir, args);
  const r = spawnSync(cmd!, rest, { encoding: "utf8", timeout: 60_000, input });
  return { status: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function ensureDockerd(ctx: Ctx): Dockerd {
  if (dockerd) return dockerd;
  if (!DOCKERD || !DOCKER) throw new BenchError("no dockerd");
  const dir = join(containerdDir(ctx), "docker");
  mkdirSync(dir);
  // a name the leftover check knows (the benchmark's prefix), not an id of either runtime
  const probeId = ctx.newId(ctx.runc, "docker");
  ctx.forget(ctx.runc, probeId);
  const cgroupParent = probeId.replace(/-runc-docker-\d+$/, "-dockerd");
  writeFileSync(join(dir, "daemon.json"), "{}\n");
  const madeKey = !existsSync(TRUST_KEY);
  const ocirtBin = ctx.ocirt.argv([])[0]!;
  const log = openSync(join(dir, "dockerd.log"), "w");
  const proc = spawn(DOCKERD, [
    "--data-root", join(dir, "data"), "--exec-root", join(dir, "exec"), "--pidfile", join(dir, "dockerd.pid"),
    "-H", `unix://${join(dir, "docker.sock")}`, "--config-file", join(dir, "daemon.json"),
    "--containerd", containerdSocket(ctx), "--containerd-namespace", `${cgroupParent}-ns`, "--containerd-plugins-namespace", `${cgroupParent}-plugins`,
    "--bridge", "none", "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false",
    // absolute: a relative parent lands under dockerd's own cgroup of each hierarchy
    "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", `/${cgroupParent}`,
    "--add-runtime", `ocirt=${ocirtBin}`, "--log-level", "error",
  ], { stdio: ["ignore", "ignore", log] });
  closeSync(log);
  const d: Dockerd = { dir, proc, cgroupParent, madeKey, ocirt: subject(dir, "ocirt"), runc: subject(dir, "runc") };
  dockerd = d; // stopDockerd() cleans up from here on, whatever happens below
  let up = false;
  for (let i = 0; i < 200 && !up && proc.exitCode === null; i++) {
    up = existsSync(join(dir, "docker.sock")) && docker(dir, ["version"]).status === 0;
    if (!up) sleepMs(100);
  }
  if (!up) throw new BenchError(`${NOT_UP}: ${readFileSync(join(dir, "dockerd.log"), "utf8").trim().split("\n").slice(-3).join(" | ")}`);
  const tar = spawnSync("tar", ["-C", ensureProbeRootfs(), "-c", "."], { maxBuffer: 256 << 20 });
  const imp = docker(dir, ["import", "-c", 'CMD ["/bin/probe", "exit", "0"]', "-", IMAGE], tar.stdout);
  if (tar.status !== 0 || imp.status !== 0) throw new BenchError(`docker import of the probe: ${imp.out || tar.stderr}`);
  return d;
}

function subject(dir: string, runtime: string): Subject {
  return { name: `${runtime}-docker`, argv: (args) => dockerArgv(dir, ["run", "--runtime", runtime, "--network", "none", ...args]) };
}

/** Stops the private dockerd (before its containerd), removing what it left. */
export function stopDockerd(): void {
  const d = dockerd;
  if (!d) return;
  dockerd = undefined;
  for (const id of docker(d.dir, ["ps", "-aq"]).out.split("\n").filter(Boolean)) docker(d.dir, ["rm", "-f", id]);
  d.proc.kill("SIGTERM");
  for (let i = 0; i < 200 && d.proc.exitCode === null && d.proc.signalCode === null; i++) sleepMs(50);
  if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill("SIGKILL");
  unmountUnder(d.dir);
  for (const h of readdirSync("/sys/fs/cgroup")) {
    try {
      rmdirSync(join("/sys/fs/cgroup", h, d.cgroupParent));
    } catch { /* not made in this hierarchy, or still busy: the leftover check reports it */ }
  }
  if (d.madeKey) rmSync(TRUST_KEY, { force: true });
  rmSync(d.dir, { recursive: true, force: true });
}

export const DOCKER_SCENARIOS: Scenario[] = [
  {
    name: "docker-run",
    unit: "ms",
    what: "`docker run --rm --network none` of `/bin/probe exit 0` on a private dockerd 20.10: runtime `ocirt` (`--add-runtime`, runc's shim running ocirt) vs `runc`",
    subjects: (ctx) => {
      const d = ensureDockerd(ctx);
      return [d.ocirt, d.runc];
    },
    skip: (ctx) => {
      if (!DOCKERD || !DOCKER) return "no dockerd on this host (Debian's docker.io)";
      try {
        ensureDockerd(ctx);
      } catch (err) {
        if (err instanceof BenchError && err.message === "no containerd") return "no containerd on this host (dockerd runs on the private one)";
        // the host's lack, not ocirt's: dockerd's own start involves no runtime
        if (err instanceof BenchError && err.message.startsWith(NOT_UP)) return err.message;
        throw err;
      }
      return null;
    },
    sample(ctx, s): Sample {
      const name = ctx.newId(s, "run");
      const r = ctx.runner.ok(s.argv(["--rm", "--name", name, IMAGE]), { cwd: ctx.dir });
      ctx.forget(s, name);
      return { values: { "docker run --rm": r.ms } };
    },
  },
];
