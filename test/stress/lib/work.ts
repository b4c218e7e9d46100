// The set-up the stress checks share: root or not, a work dir with a private
// --root, the probe rootfs, a console-socket listener, a sleeper in namespaces
// of its own, and the removal of all of it at the end.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { spawnedPids, sleep } from "./ocirt";

export const IS_ROOT = process.getuid?.() === 0;

/** Exits with a line saying why when not root (scripts/test.mjs records it as a skip). */
export function requireRoot(name: string): void {
  if (IS_ROOT) return;
  console.log(`skip: ${name}: needs root (real containers need namespaces, mounts and cgroups)`);
  console.log(`check ${name}: skipped`);
  process.exit(0);
}

/** A fresh dir under /tmp for one check (short, so mount lines and socket paths stay short). */
export function workDir(tag: string): string {
  const dir = mkdtempSync(`/tmp/${tag}-`);
  chmodSync(dir, 0o755); // a user namespace's root (a high host uid) must reach the rootfs
  return dir;
}

/** Every id of one check starts with this (letters and digits, unique to this process). */
export function idPrefix(tag: string): string {
  return `${tag}${process.pid}-`;
}

export interface Helper {
  child: ChildProcess;
  stop(): void;
}

function track(child: ChildProcess): Helper {
  const pid = child.pid ?? -1;
  spawnedPids.add(pid);
  child.once("exit", () => spawnedPids.delete(pid));
  return {
    child,
    stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    },
  };
}

/** The console-socket listener at `path` (python3, as containerd's shim would hold the pty). */
export async function consoleSink(path: string): Promise<Helper> {
  const h = track(spawn("python3", [join(__dirname, "console-sink.py"), path], { stdio: "ignore" }));
  for (let i = 0; i < 500 && !existsSync(`${path}.ready`); i++) await sleep(10);
  if (!existsSync(`${path}.ready`)) throw new Error(`the console listener at ${path} did not start`);
  return h;
}

/** A process in new net, uts, ipc and mount namespaces: paths a config may join. */
export async function nsSleeper(): Promise<{ helper: Helper; ns: Record<string, string> }> {
  const h = track(spawn("unshare", ["--net", "--uts", "--ipc", "--mount", "--propagation", "private", "sleep", "1000000"], { stdio: "ignore" }));
  const pid = h.child.pid!;
  // unshare execs sleep once its namespaces are made
  for (let i = 0; i < 500; i++) {
    try {
      if (require("node:fs").readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sleep")) break;
    } catch { /* not yet */ }
    await sleep(10);
  }
  const ns: Record<string, string> = { network: `/proc/${pid}/ns/net`, uts: `/proc/${pid}/ns/uts`, ipc: `/proc/${pid}/ns/ipc`, mount: `/proc/${pid}/ns/mnt` };
  return { helper: h, ns };
}

export function removeWorkDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
