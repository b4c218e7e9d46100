// Reads the container's /etc/passwd for HOME, as runc does (groups are numeric:
// process.user.additionalGids, never /etc/group). The file is opened without
// following a symlink at the last component and only under a real directory, and
// read only when it is a regular file of sane size, so a rootfs can neither point
// ocirt at a host file nor make it read a device or a fifo.
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

const MAX_PASSWD = 16 << 20;

function readInRootfs(rootfs: string, rel: string): string | undefined {
  try {
    if (!lstatSync(join(rootfs, "etc")).isDirectory()) return undefined;
    const fd = openSync(join(rootfs, rel), fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > MAX_PASSWD) return undefined;
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
