// Reads the container's /etc/passwd and /etc/group for HOME and supplementary
// groups, as runc does. The files are opened without following a symlink at the
// last component and only under a real directory, so a rootfs cannot point ocirt
// at a host file.
import { closeSync, constants as fsc, lstatSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

function readInRootfs(rootfs: string, rel: string): string | undefined {
  try {
    if (!lstatSync(join(rootfs, "etc")).isDirectory()) return undefined;
    const fd = openSync(join(rootfs, rel), fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    try {
      return readFileSync(fd, "utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

export function userInfo(rootfs: string, uid: number): { name?: string; home?: string } {
  const text = readInRootfs(rootfs, "etc/passwd");
  for (const line of text?.split("\n") ?? []) {
    const f = line.split(":");
    if (f.length >= 7 && Number(f[2]) === uid && f[2] !== "") return { name: f[0]!, home: f[5]! };
  }
  return {};
}

export function memberGids(rootfs: string, name: string | undefined): number[] {
  if (!name) return [];
  const text = readInRootfs(rootfs, "etc/group");
  const out: number[] = [];
  for (const line of text?.split("\n") ?? []) {
    const f = line.split(":");
    if (f.length >= 4 && f[3]!.split(",").includes(name)) out.push(Number(f[2]));
  }
  return out;
}
