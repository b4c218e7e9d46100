// /dev inside the container: the spec's default devices, linux.devices, and the
// standard links. Pure.
import type { SpecDevice } from "../spec/normalise";
import { Op, type PlanOp } from "../plan/ops";

const S_IFCHR = 0o020000, S_IFBLK = 0o060000, S_IFIFO = 0o010000;

/**
 * runtime-spec "Default Devices" (config-linux.md), in runc's order (its
 * AllowedDevices): in a user namespace they are bind mounts, and the container sees
 * their order in its mount table.
 */
export const DEFAULT_DEVICES: SpecDevice[] = [
  { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
];

function typeBits(t: SpecDevice["type"]): number {
  return t === "b" ? S_IFBLK : t === "p" ? S_IFIFO : S_IFCHR;
}

/**
 * @param ownDev the config mounts something at /dev (runc then creates the nodes in it)
 * @param inUserns mknod is not allowed: bind the host's nodes instead
 */
export function planDevices(devices: SpecDevice[], opts: { inUserns: boolean; hasProcKcore: boolean }): PlanOp[] {
  const ops: PlanOp[] = [];
  // as runc's createDevices: the defaults the config does not name, then the config's
  // own entries in order (one replacing a default comes after the other defaults)
  const byPath = new Map<string, SpecDevice>();
  const named = new Set(devices.map((d) => d.path));
  for (const d of DEFAULT_DEVICES) if (!named.has(d.path)) byPath.set(d.path, d);
  devices.forEach((d) => byPath.set(d.path, d)); // a path given twice: the last entry, in the first's place
  for (const d of byPath.values()) {
    const idx = devices.indexOf(d);
    const what = idx >= 0 ? `linux.devices[${idx}] (${d.path})` : `linux.devices (default ${d.path})`;
    const mode = typeBits(d.type) | (d.fileMode ?? 0o666);
    ops.push({ code: Op.MKNOD, ints: [mode, d.major, d.minor, d.uid ?? 0, d.gid ?? 0, opts.inUserns ? 1 : 0], blobs: [d.path], what });
  }
  const links: [string, string][] = [
    ["/proc/self/fd", "/dev/fd"],
    ["/proc/self/fd/0", "/dev/stdin"],
    ["/proc/self/fd/1", "/dev/stdout"],
    ["/proc/self/fd/2", "/dev/stderr"],
  ];
  if (opts.hasProcKcore) links.push(["/proc/kcore", "/dev/core"]);
  // always, as runc: with no devpts mounted the link dangles, as it does there
  links.push(["pts/ptmx", "/dev/ptmx"]);
  for (const [target, link] of links) ops.push({ code: Op.SYMLINK, blobs: [target, link], what: `linux.devices (default link ${link} -> ${target})` });
  return ops;
}
