// `containerd-shim-ocirt-v2 ... -id ID start`, run by containerd in the bundle
// directory: find or start the shim for this container's group and print its
// socket address. The socket is bound here, before the long-lived shim exists, so
// containerd's connection waits in the backlog while that process starts; it gets
// the listening socket as fd 3, its own session (setsid), and the bundle's `log`
// fifo as stderr.
import { spawn } from "node:child_process";
import { chmodSync, closeSync, constants as fsc, existsSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { groupOf, socketAddress, socketPath, type ShimFlags } from "./flags";

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(path, () => resolve(s));
  });
}

function canConnect(path: string, timeoutMs = 100): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    const t = setTimeout(() => (c.destroy(), resolve(false)), timeoutMs);
    c.once("connect", () => (clearTimeout(t), c.destroy(), resolve(true)));
    c.once("error", () => (clearTimeout(t), resolve(false)));
  });
}

/** The `address` file containerd reads back when it restarts (written atomically). */
function writeAddress(dir: string, address: string): void {
  const tmp = join(dir, ".address");
  writeFileSync(tmp, address);
  renameSync(tmp, join(dir, "address"));
}

function annotations(dir: string): Record<string, string> | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { annotations?: Record<string, string> }).annotations;
  } catch (err) {
    throw new Error(`reading the bundle's config.json: ${(err as Error).message}`);
  }
}

export async function startShim(f: ShimFlags, launcher: string): Promise<string> {
  if (!f.id) throw new Error("start: -id is required");
  const cwd = process.cwd();
  const address = socketAddress(f.address, f.namespace, groupOf(f.id, annotations(cwd)));
  const path = socketPath(address);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let server: Server;
  try {
    server = await listen(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw new Error(`create new shim socket: ${(err as Error).message}`);
    // a shim of this group runs already (a pod's next container): use it
    if (await canConnect(path)) {
      writeAddress(cwd, address);
      return address;
    }
    unlinkSync(path); // left by a shim that died
    server = await listen(path);
  }
  let child: ReturnType<typeof spawn> | undefined;
  try {
    chmodSync(path, 0o600);
    writeAddress(cwd, address);
    const options = readStdin();
    let log: number | "ignore" = "ignore";
    try {
      // containerd has the read end open: lines written here show up in its log
      log = openSync(join(cwd, "log"), fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch { /* no reader: the shim logs nowhere */ }
    const args = [...shimNodeFlags(), launcher, "-namespace", f.namespace, "-id", f.id, "-address", f.address, "-publish-binary", f.publishBinary, ...(f.debug ? ["-debug"] : [])];
    // the listening socket itself becomes the child's fd 3
    const listenFd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (listenFd === undefined || listenFd < 0) throw new Error("the shim socket has no fd");
    child = spawn(process.execPath, args, {
      cwd,
      detached: true,
      stdio: ["ignore", "ignore", log, listenFd],
      // a stdin FIFO's open waits on a worker thread until the client's end opens
      env: { ...process.env, OCIRT_SHIM_ADDRESS: address, UV_THREADPOOL_SIZE: process.env["UV_THREADPOOL_SIZE"] ?? "16" },
    });
    const c = child;
    await new Promise<void>((resolve, reject) => {
      c.once("spawn", resolve);
      c.once("error", reject);
    });
    if (typeof log === "number") closeSync(log);
    c.unref();
    const pid = c.pid!;
    adjustOomScore(pid);
    if (options.length) await joinShimCgroup(options, pid);
  } catch (err) {
    if (child?.pid) {
      try { process.kill(child.pid, "SIGKILL"); } catch { /* gone */ }
    }
    try { unlinkSync(path); } catch { /* gone */ }
    throw err;
  }
  return address;
}

/** V8 flags for the long-lived shim: none that would change V8's flag hash (the code caches made at build time would be rejected). */
export function shimNodeFlags(): string[] {
  return ["--stack-size=984"];
}

function readStdin(): Buffer {
  try {
    return readFileSync(0);
  } catch {
    return Buffer.alloc(0); // closed or a terminal: no options
  }
}

/** containerd keeps a lower OOM score than its shims: theirs is its own + 1. */
function adjustOomScore(pid: number): void {
  try {
    const parent = Number(readFileSync(`/proc/${process.ppid}/oom_score_adj`, "utf8").trim());
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(Math.min(parent + 1, 1000)));
  } catch { /* best effort, as a lower score is only a preference */ }
}

/** runc's ShimCgroup option: the shim process in that cgroup (every hierarchy that has it). */
async function joinShimCgroup(optionsAny: Buffer, pid: number): Promise<void> {
  const { Any } = await import("./gen/google/protobuf/any");
  const { Options } = await import("./gen/runc_options");
  const any = Any.decode(optionsAny);
  if (!any.typeUrl.endsWith("containerd.runc.v1.Options")) return;
  const cg = Options.decode(any.value).shimCgroup;
  if (!cg) return;
  const root = "/sys/fs/cgroup";
  const dirs = existsSync(join(root, "cgroup.controllers")) ? [root] : readdirs(root).map((h) => join(root, h));
  let joined = false;
  for (const d of dirs) {
    const procs = join(d, cg, "cgroup.procs");
    if (!existsSync(procs)) continue;
    writeFileSync(procs, String(pid));
    joined = true;
  }
  if (!joined) throw new Error(`failed to join cgroup ${cg}: no hierarchy has it`);
}

function readdirs(dir: string): string[] {
  try {
    return (require("node:fs") as typeof import("node:fs")).readdirSync(dir);
  } catch {
    return [];
  }
}
