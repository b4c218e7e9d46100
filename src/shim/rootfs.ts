// The container's root filesystem: containerd hands a v2 shim the snapshotter's
// mounts (an overlay, or a bind of a directory) and the shim mounts them, in order,
// on <bundle>/rootfs; delete (and the crash cleanup) unmounts whatever is there.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Mount } from "./gen/mount";
import { MS, parseMountOptions, sys } from "./runtime";

const MNT_DETACH = 2;
const EINVAL = 22;
const ENOENT = 2;

/** The mount(2) calls for one containerd mount: [source, fstype, flags, data] each. */
export function mountCalls(m: Mount): { source: string; type: string; flags: number; data: string }[] {
  const p = parseMountOptions(m.options);
  const type = m.type === "bind" ? "" : m.type;
  const calls = [{ source: m.source, type, flags: p.flags & ~MS.REMOUNT, data: p.data.join(",") }];
  // a bind mount takes most flags only on a remount (containerd does the same)
  if (p.flags & MS.BIND && p.flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME)) {
    calls.push({ source: "", type: "", flags: (p.flags & ~MS.REC) | MS.REMOUNT | MS.BIND, data: "" });
  }
  if (p.propagation) calls.push({ source: "", type: "", flags: p.propagation, data: "" });
  return calls;
}

export function mountRootfs(bundle: string, mounts: Mount[]): string {
  const target = join(bundle, "rootfs");
  mkdirSync(target, { recursive: true, mode: 0o711 });
  try {
    for (const m of mounts) {
      for (const c of mountCalls(m)) sys().mount(c.source, target, c.type, c.flags, c.data);
    }
  } catch (err) {
    unmountAll(target);
    throw new Error(`mounting the rootfs at ${target}: ${(err as Error).message}`);
  }
  return target;
}

function mountedAt(target: string): boolean {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === target);
  } catch {
    return false;
  }
}

/** Unmounts every mount stacked on target (the rootfs may have had several). */
export function unmountAll(target: string): void {
  if (!existsSync(target)) return;
  for (let i = 0; i < 64; i++) {
    try {
      sys().umount2(target, 0);
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno === EINVAL || errno === ENOENT) return; // nothing mounted there any more
      // busy: detach it instead, the last user lets it go
      try {
        sys().umount2(target, MNT_DETACH);
      } catch {
        if (!mountedAt(target)) return;
        throw err;
      }
    }
  }
}
