// `containerd-shim-ocirt-v2 ... -id ID -bundle B delete`: containerd's cleanup
// after a shim died. Everything is found on disk: the state root the shim saved in
// the bundle, the container's ocirt state there, the rootfs mounts. Prints a
// DeleteResponse (the container counts as killed by SIGKILL, as with runc's shim).
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { DeleteResponse } from "./gen/task";
import { nowTimestamp } from "./reaper";
import { readSavedState, DEFAULT_ROOT } from "./options";
import { unmountAll } from "./rootfs";
import { deleteTask, taskPid } from "./runtime";
import { groupOf, socketAddress, socketPath, type ShimFlags } from "./flags";

export async function cleanup(f: ShimFlags, warn: (msg: string) => void): Promise<Uint8Array> {
  if (!f.id) throw new Error("delete: -id is required");
  const bundle = f.bundle || process.cwd();
  const saved = readSavedState(bundle);
  const root = saved?.root ?? join(DEFAULT_ROOT, f.namespace);
  let pid = taskPid(root, f.id);
  if (!pid) {
    try {
      pid = Number(readFileSync(join(bundle, "init.pid"), "utf8").trim()) || 0;
    } catch { /* never created */ }
  }
  try {
    await deleteTask(root, f.id, true);
  } catch (err) {
    warn(`deleting container ${f.id}: ${(err as Error).message}`);
  }
  try {
    unmountAll(join(bundle, "rootfs"));
  } catch (err) {
    warn(`unmounting ${join(bundle, "rootfs")}: ${(err as Error).message}`);
  }
  try {
    await removeDeadSocket(f, bundle);
  } catch (err) {
    warn((err as Error).message);
  }
  return DeleteResponse.encode({ pid, exitStatus: 128 + 9, exitedAt: nowTimestamp() }).finish();
}

/** The dead shim's socket file, unless a live shim (of the container's pod) still answers there. */
async function removeDeadSocket(f: ShimFlags, bundle: string): Promise<void> {
  let annotations: Record<string, string> | undefined;
  try {
    annotations = (JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as { annotations?: Record<string, string> }).annotations;
  } catch { /* the id is the group */ }
  const path = socketPath(socketAddress(f.address, f.namespace, groupOf(f.id, annotations)));
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    const t = setTimeout(() => (c.destroy(), resolve(false)), 200);
    c.once("connect", () => (clearTimeout(t), c.destroy(), resolve(true)));
    c.once("error", () => (clearTimeout(t), resolve(false)));
  });
  if (alive) return;
  try {
    unlinkSync(path);
  } catch (err) {
    throw new Error(`removing the dead shim's socket ${path}: ${(err as Error).message}`);
  }
}
