// The Task service's checkpoint and restore, as containerd's runc shim does them:
// Checkpoint dumps the task into the directory containerd names (its options, a
// containerd.runc.v1.CheckpointOptions, say whether the task goes on); a Create that
// names a checkpoint makes nothing yet, and its Start restores the task from it.
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import type { Any } from "./gen/google/protobuf/any";
import { CheckpointOptions } from "./gen/runc_checkpoint_options";
import * as rt from "./runtime";
import type { ShimOptions } from "./options";
import { shimLog } from "./log";

export const CHECKPOINT_OPTIONS_URL = "containerd.runc.v1.CheckpointOptions";

export function decodeCheckpointOptions(any: Any | undefined): CheckpointOptions {
  if (!any || !any.typeUrl) return CheckpointOptions.decode(new Uint8Array());
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  if (name !== CHECKPOINT_OPTIONS_URL) throw new Error(`unsupported checkpoint options type ${any.typeUrl} (ocirt's shim takes ${CHECKPOINT_OPTIONS_URL})`);
  return CheckpointOptions.decode(any.value);
}

/** The flags `ocirt checkpoint` would get from containerd's runc shim for these options. */
export function checkpointFlags(o: CheckpointOptions, imagePath: string, workPath: string): rt.CriuFlags {
  return {
    ...rt.defaultCriuFlags(imagePath),
    workPath,
    leaveRunning: !o.exit,
    tcpEstablished: o.openTcp,
    extUnixSk: o.externalUnixSockets,
    shellJob: o.terminal,
    fileLocks: o.fileLocks,
    emptyNs: rt.parseEmptyNs(o.emptyNamespaces),
    manageCgroupsMode: rt.parseCgroupMode(o.cgroupsMode || undefined),
  };
}

/**
 * Dumps the task into `path` (containerd's). criu's work files go to the options'
 * work path, or to <bundle>/criu-work, removed afterwards; when criu fails its
 * log is kept as <bundle>/criu-dump.log, as containerd's runc shim keeps it.
 */
export async function checkpointTask(c: { id: string; bundle: string; opts: ShimOptions }, path: string, options: Any | undefined, adopt: (child: ChildProcess) => void): Promise<void> {
  const o = decodeCheckpointOptions(options);
  const work = o.workPath || join(c.bundle, "criu-work");
  try {
    await rt.checkpointTask(c.opts.root, c.id, checkpointFlags(o, o.imagePath || path, work), c.opts.criuPath, adopt);
  } catch (err) {
    if (rt.classify(err).kind !== "other") throw err; // refused before criu ran
    const kept = join(c.bundle, "criu-dump.log");
    try {
      copyFileSync(join(work, "dump.log"), kept);
    } catch (e) {
      shimLog.warn("keeping criu's dump.log", { error: (e as Error).message });
    }
    throw new Error(`${rt.classify(err).message} path= ${kept}`);
  } finally {
    if (!o.workPath) rmSync(work, { recursive: true, force: true });
  }
}
