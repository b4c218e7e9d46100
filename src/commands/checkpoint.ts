import type { Context } from "../context";
import { bool, str } from "../context";
import { StateStore } from "../state";
import { checkpointContainer } from "../lifecycle/checkpoint";
import { parseCgroupMode, parseEmptyNs, parsePageServer, type CriuFlags } from "../criu/request";

/** The criu flags checkpoint and restore share, as runc's criuOptions reads them. */
export function criuFlags(ctx: Context): CriuFlags {
  const empty = ctx.flags["empty-ns"];
  return {
    imagePath: str(ctx, "image-path") ?? "",
    workPath: str(ctx, "work-path"),
    parentPath: str(ctx, "parent-path"),
    leaveRunning: bool(ctx, "leave-running"),
    tcpEstablished: bool(ctx, "tcp-established"),
    tcpSkipInFlight: bool(ctx, "tcp-skip-in-flight"),
    linkRemap: bool(ctx, "link-remap"),
    extUnixSk: bool(ctx, "ext-unix-sk"),
    shellJob: bool(ctx, "shell-job"),
    fileLocks: bool(ctx, "file-locks"),
    preDump: bool(ctx, "pre-dump"),
    autoDedup: bool(ctx, "auto-dedup"),
    lazyPages: bool(ctx, "lazy-pages"),
    statusFd: ctx.flags["status-fd"] === undefined ? -1 : Number(ctx.flags["status-fd"]),
    pageServer: parsePageServer(str(ctx, "page-server")),
    manageCgroupsMode: parseCgroupMode(str(ctx, "manage-cgroups-mode")),
    emptyNs: parseEmptyNs(Array.isArray(empty) ? empty : empty === undefined || empty === "" ? [] : [String(empty)]),
    lsmProfile: str(ctx, "lsm-profile"),
    lsmMountContext: str(ctx, "lsm-mount-context"),
  };
}

export default async function checkpoint(ctx: Context): Promise<void> {
  const flags = criuFlags(ctx);
  const h = new StateStore(ctx.globals.root).open(ctx.args[0]!, { lock: true });
  try {
    await checkpointContainer(h, h.read(), { flags, criu: ctx.globals.criu });
  } finally {
    h.unlock();
  }
}
