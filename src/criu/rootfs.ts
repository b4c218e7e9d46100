// The container's file tree as seen from the host while nothing of it runs: the
// rootfs, with the config's bind mounts laid over it (their sources), walked the
// way the kernel would walk it inside the container. Symlinks are followed within
// that tree: an absolute link starts again at the container's root and ".." stops
// there, so nothing in the image leads a path outside the rootfs or the binds.
//
// checkpoint and restore use it to name mount points as criu sees them (a
// destination through a symlink in the image is mounted where the link leads), and
// restore to make the mount points criu needs but a fresh rootfs may lack.
import { lstatSync, mkdirSync, readlinkSync, statSync, writeFileSync, type Stats } from "node:fs";
import { posix } from "node:path";
import { isBind } from "../linux/mount-options";
import type { SpecMount } from "../spec/normalise";
import { SetupError } from "../errors";
import { cleanDest } from "./request";

/** The file system calls the walk makes (a fake in unit tests). */
export interface TreeFs {
  lstat(p: string): Stats | undefined;
  readlink(p: string): string;
  stat(p: string): Stats | undefined;
  mkdir(p: string): void;
  touch(p: string): void;
}

export const hostFs: TreeFs = {
  lstat: (p) => { try { return lstatSync(p); } catch { return undefined; } },
  readlink: (p) => readlinkSync(p),
  stat: (p) => { try { return statSync(p); } catch { return undefined; } },
  mkdir: (p) => mkdirSync(p, { mode: 0o755 }),
  touch: (p) => writeFileSync(p, "", { flag: "wx", mode: 0o644 }),
};

const MAX_LINKS = 255;

export class ContainerTree {
  /** binds in the order they were mounted; a later one over the same place wins */
  private readonly binds: { dest: string; source: string }[] = [];

  constructor(readonly rootfs: string, private readonly fs: TreeFs = hostFs) {}

  /** Lays a bind mount (host source) over a container path that is already resolved. */
  bind(dest: string, source: string): void {
    this.binds.push({ dest: cleanDest(dest), source });
  }

  /** Where a resolved container path lies on the host. */
  hostPath(p: string): string {
    let best: { dest: string; source: string } | undefined;
    for (const b of this.binds) {
      if ((p === b.dest || p.startsWith(b.dest === "/" ? "/" : `${b.dest}/`)) && (!best || b.dest.length >= best.dest.length)) best = b;
    }
    if (!best) return posix.join(this.rootfs, p);
    return posix.join(best.source, p.slice(best.dest.length));
  }

  /** The container path p really is: every symlink on the way followed within the tree; missing parts taken as they are. */
  resolve(p: string): string {
    const todo = p.split("/").filter((c) => c && c !== ".");
    const done: string[] = [];
    let links = 0;
    while (todo.length) {
      const c = todo.shift()!;
      if (c === "..") {
        done.pop();
        continue;
      }
      const next = `/${[...done, c].join("/")}`;
      const st = this.fs.lstat(this.hostPath(next));
      if (st?.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new SetupError(`too many levels of symbolic links in ${p}`, 40);
        const target = this.fs.readlink(this.hostPath(next));
        if (target.startsWith("/")) done.length = 0;
        todo.unshift(...target.split("/").filter((x) => x && x !== "."));
        continue;
      }
      done.push(c);
      if (!st) {
        // the rest does not exist: nothing more to follow
        for (const r of todo) {
          if (r === "..") done.pop();
          else if (r !== ".") done.push(r);
        }
        break;
      }
    }
    return `/${done.join("/")}`;
  }

  /**
   * Makes a missing mount point: directories on the way, and the last one a
   * directory or (kind "file") an empty file. Returns the resolved container path.
   */
  ensure(p: string, kind: "dir" | "file"): string {
    const at = this.resolve(p);
    const parts = at.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const cp = `/${parts.slice(0, i).join("/")}`;
      const hp = this.hostPath(cp);
      const st = this.fs.lstat(hp);
      const last = i === parts.length;
      if (st) {
        if (!last && !st.isDirectory()) throw new SetupError(`${cp} is not a directory`, 20);
        continue;
      }
      if (last && kind === "file") this.fs.touch(hp);
      else this.fs.mkdir(hp);
    }
    return at;
  }
}

/** A mount whose mount point restore makes, in config order. */
export interface Mountpoint {
  index: number;
  dest: string;
  kind: "dir" | "file";
  /** a bind mount: laid over the tree once its mount point exists, so later ones nested in it land in its source */
  bindSource?: string | undefined;
}

/**
 * runc's prepareCriuRestoreMounts: the mount points a restore needs in the rootfs.
 * Not the cgroup mounts (criu makes /sys/fs/cgroup's content), nor mounts inside an
 * earlier mount that is no bind (a tmpfs, whose content criu restores from the
 * images, or proc/sysfs/devpts/mqueue, which bring their own entries).
 */
export function restoreMountpoints(mounts: readonly SpecMount[], isDir: (source: string) => boolean): Mountpoint[] {
  const out: Mountpoint[] = [];
  const covered: string[] = [];
  mounts.forEach((m, index) => {
    const dest = cleanDest(m.destination);
    const bind = isBind(m.type, m.options);
    const inside = covered.some((c) => dest !== c && dest.startsWith(c === "/" ? "/" : `${c}/`));
    if (m.type === "cgroup" || m.type === "cgroup2" || inside) {
      if (!bind) covered.push(dest);
      return;
    }
    if (bind && m.source) out.push({ index, dest, kind: isDir(m.source) ? "dir" : "file", bindSource: m.source });
    else {
      out.push({ index, dest, kind: "dir" });
      covered.push(dest);
    }
  });
  return out;
}

/** Makes the mount points of restoreMountpoints in the tree, binds laid over as they come. */
export function makeMountpoints(tree: ContainerTree, points: readonly Mountpoint[]): void {
  for (const p of points) {
    let at: string;
    try {
      at = tree.ensure(p.dest, p.kind);
    } catch (err) {
      throw new SetupError(`making the mount point for restore: ${(err as Error).message}`, undefined, { where: `mounts[${p.index}] (${p.dest})` });
    }
    if (p.bindSource) tree.bind(at, p.bindSource);
  }
}
