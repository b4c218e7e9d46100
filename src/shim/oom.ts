// OOM notifications for a container's cgroup, without polling: on cgroup v1 (and
// hybrid) an eventfd registered for memory.oom_control through cgroup.event_control,
// which the kernel signals on every OOM (and once more when the cgroup is removed);
// on cgroup v2 an inotify watch on memory.events, whose oom_kill counter is compared
// with the last value seen.
import { closeSync, constants as fsc, existsSync, openSync, readSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { sys, type TaskCgroup } from "./runtime";
import { shimLog } from "./log";

export interface OomWatch {
  stop(): void;
}

export function watchOom(cg: TaskCgroup, onOom: () => void): OomWatch | undefined {
  if (cg.mode === "v2") return watchV2(cg, onOom);
  const dir = cg.paths["memory"];
  if (!dir) return undefined;
  return watchV1(dir, onOom);
}

function watchV1(dir: string, onOom: () => void): OomWatch | undefined {
  const n = sys();
  let efd = -1;
  let ctl = -1;
  try {
    efd = n.eventfd(0, 0);
    ctl = openSync(join(dir, "memory.oom_control"), fsc.O_RDONLY);
    writeFileSync(join(dir, "cgroup.event_control"), `${efd} ${ctl}`);
  } catch (err) {
    shimLog.warn("cannot watch for OOM events", { cgroup: dir, error: (err as Error).message });
    if (efd >= 0) closeSync(efd);
    if (ctl >= 0) closeSync(ctl);
    return undefined;
  }
  const buf = Buffer.alloc(8);
  let stopWatching: (() => void) | undefined;
  const stop = () => {
    stopWatching?.();
    stopWatching = undefined;
    if (efd >= 0) closeSync(efd);
    if (ctl >= 0) closeSync(ctl);
    efd = ctl = -1;
  };
  stopWatching = n.watchReadable(efd, () => {
    try {
      readSync(efd, buf, 0, 8, null);
    } catch {
      return; // EAGAIN: spurious wakeup
    }
    // the kernel also signals when the cgroup goes away: that is no OOM
    if (!existsSync(join(dir, "memory.oom_control"))) {
      stop();
      return;
    }
    onOom();
  });
  return { stop };
}

function watchV2(cg: TaskCgroup, onOom: () => void): OomWatch | undefined {
  const dir = cg.paths[""];
  if (!dir) return undefined;
  let last: bigint;
  try {
    last = cg.oomKillCount();
  } catch {
    return undefined;
  }
  let w: FSWatcher;
  try {
    w = watch(join(dir, "memory.events"), { persistent: false });
  } catch (err) {
    shimLog.warn("cannot watch for OOM events", { cgroup: dir, error: (err as Error).message });
    return undefined;
  }
  w.on("change", () => {
    let now: bigint;
    try {
      now = cg.oomKillCount();
    } catch {
      return;
    }
    if (now > last) {
      last = now;
      onOom();
    }
  });
  w.on("error", () => w.close());
  return { stop: () => w.close() };
}
