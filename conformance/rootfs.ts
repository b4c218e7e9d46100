// Root filesystems for integration tests, built once and cached under build/.
// The layout is planned as data (planProbeRootfs / planBusyboxRootfs, pure) and
// written by materialize(); the plan's hash plus the hashes of the copied
// binaries is the cache key, so editing probe.c or the layout rebuilds.
//
// Containers share these directories: a test that writes into its rootfs must
// use a readonly root plus tmpfs mounts, or copy the tree first.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  lchownSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { HostError, SetupError } from "../src/errors";
import { buildProbe, repoRoot } from "./probe/build";

export type RootfsEntry =
  | { kind: "dir"; path: string; mode: number; uid?: number; gid?: number }
  | { kind: "file"; path: string; mode: number; content: string; uid?: number; gid?: number }
  | { kind: "copy"; path: string; mode: number; from: string }
  | { kind: "symlink"; path: string; target: string };

export interface ProbeUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Supplementary groups /etc/group lists the user in (not its primary gid). */
  additionalGids: number[];
}

/** Users in the test rootfs's /etc/passwd; tests use these ids in process.user. */
export const PROBE_USERS: Readonly<Record<"root" | "daemon" | "probeuser" | "probeother" | "nobody", ProbeUser>> = {
  root: { name: "root", uid: 0, gid: 0, home: "/root", additionalGids: [] },
  daemon: { name: "daemon", uid: 1, gid: 1, home: "/", additionalGids: [] },
  probeuser: { name: "probeuser", uid: 1000, gid: 1000, home: "/home/probeuser", additionalGids: [10, 29, 1001] },
  probeother: { name: "probeother", uid: 1001, gid: 1001, home: "/home/probeother", additionalGids: [] },
  nobody: { name: "nobody", uid: 65534, gid: 65534, home: "/nonexistent", additionalGids: [] },
};

export const PROBE_GROUPS: readonly { name: string; gid: number }[] = [
  { name: "root", gid: 0 },
  { name: "daemon", gid: 1 },
  { name: "wheel", gid: 10 },
  { name: "audio", gid: 29 },
  { name: "probeuser", gid: 1000 },
  { name: "probeother", gid: 1001 },
  { name: "nogroup", gid: 65534 },
];

export const PROBE_HOSTNAME = "probe";

/** Applets linked in the busybox rootfs's /bin (all present in Debian's busybox-static 1.35). */
export const BUSYBOX_APPLETS: readonly string[] = [
  "sh", "ash", "cat", "echo", "sleep", "id", "true", "false", "ls", "mount", "umount", "ps", "kill",
  "env", "pwd", "mkdir", "rmdir", "rm", "touch", "grep", "head", "tail", "wc", "test", "[", "printf",
  "hostname", "stat", "readlink", "ln", "cp", "mv", "chmod", "chown", "sync", "tty", "stty", "uname",
  "whoami", "nproc", "sed", "awk", "cut", "tr", "sort", "uniq", "dd", "find", "xargs", "timeout",
  "nsenter", "unshare", "setsid", "sysctl", "ip", "mknod", "mkfifo", "yes", "seq", "date", "df", "free",
  "top", "pidof", "renice", "ionice", "taskset", "chroot", "basename", "dirname", "realpath",
  "tee", "sha256sum", "md5sum", "od", "hexdump", "xxd", "vi", "less", "more", "wget", "nc", "ping",
];

function baseLayout(): RootfsEntry[] {
  const passwd = [
    "root:x:0:0:root:/root:/bin/sh",
    "daemon:x:1:1:daemon:/:/bin/false",
    "probeuser:x:1000:1000:probe user:/home/probeuser:/bin/sh",
    "probeother:x:1001:1001:other probe user:/home/probeother:/bin/sh",
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  ];
  const members = (gid: number) =>
    Object.values(PROBE_USERS)
      .filter((u) => u.additionalGids.includes(gid))
      .map((u) => u.name)
      .join(",");
  const group = PROBE_GROUPS.map((g) => `${g.name}:x:${g.gid}:${members(g.gid)}`);
  return [
    { kind: "dir", path: "bin", mode: 0o755 },
    { kind: "dir", path: "dev", mode: 0o755 },
    { kind: "dir", path: "etc", mode: 0o755 },
    { kind: "dir", path: "home", mode: 0o755 },
    { kind: "dir", path: "home/probeuser", mode: 0o755, uid: 1000, gid: 1000 },
    { kind: "dir", path: "home/probeother", mode: 0o755, uid: 1001, gid: 1001 },
    { kind: "dir", path: "mnt", mode: 0o755 },
    { kind: "dir", path: "proc", mode: 0o555 },
    { kind: "dir", path: "root", mode: 0o700 },
    { kind: "dir", path: "run", mode: 0o755 },
    { kind: "dir", path: "sys", mode: 0o555 },
    { kind: "dir", path: "tmp", mode: 0o1777 },
    { kind: "file", path: "etc/passwd", mode: 0o644, content: passwd.join("\n") + "\n" },
    { kind: "file", path: "etc/group", mode: 0o644, content: group.join("\n") + "\n" },
    { kind: "file", path: "etc/hostname", mode: 0o644, content: `${PROBE_HOSTNAME}\n` },
    // Empty targets for the bind mounts higher-level tools put here.
    { kind: "file", path: "etc/hosts", mode: 0o644, content: `127.0.0.1\tlocalhost ${PROBE_HOSTNAME}\n` },
    { kind: "file", path: "etc/resolv.conf", mode: 0o644, content: "" },
  ];
}

/** Pure: the probe rootfs for a given probe binary. */
export function planProbeRootfs(probe: string): RootfsEntry[] {
  return [...baseLayout(), { kind: "copy", path: "bin/probe", mode: 0o755, from: probe }];
}

/** Pure: the busybox rootfs: the probe rootfs plus busybox and its applet links. */
export function planBusyboxRootfs(probe: string, busybox: string): RootfsEntry[] {
  return [
    ...planProbeRootfs(probe),
    { kind: "copy", path: "bin/busybox", mode: 0o755, from: busybox },
    ...BUSYBOX_APPLETS.map((a): RootfsEntry => ({ kind: "symlink", path: `bin/${a}`, target: "busybox" })),
  ];
}

/** Cache key: the plan, the copied files' contents, and whether ownership could be applied. */
export function planHash(plan: readonly RootfsEntry[], owned: boolean): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ plan, owned }));
  for (const e of plan) if (e.kind === "copy") h.update(readFileSync(e.from));
  return h.digest("hex");
}

function materialize(plan: readonly RootfsEntry[], dir: string, owned: boolean): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  for (const e of plan) {
    const p = join(dir, e.path);
    mkdirSync(dirname(p), { recursive: true });
    switch (e.kind) {
      case "dir":
        mkdirSync(p, { recursive: true });
        chmodSync(p, e.mode); // mkdir's mode is filtered by the umask
        if (owned) chownSync(p, e.uid ?? 0, e.gid ?? 0);
        break;
      case "file":
        writeFileSync(p, e.content);
        chmodSync(p, e.mode);
        if (owned) chownSync(p, e.uid ?? 0, e.gid ?? 0);
        break;
      case "copy":
        copyFileSync(e.from, p);
        chmodSync(p, e.mode);
        if (owned) chownSync(p, 0, 0);
        break;
      case "symlink":
        symlinkSync(e.target, p);
        if (owned) lchownSync(p, 0, 0);
        break;
    }
  }
}

/**
 * Makes dir hold exactly plan, reusing it when its stamp matches. Builds next
 * to it and renames into place, so a concurrent user never sees a half tree.
 */
function ensureTree(dir: string, plan: readonly RootfsEntry[]): string {
  // Only root can give files to uid 1000 etc.; a tree built without that is
  // rebuilt when root asks for it.
  const owned = process.getuid?.() === 0;
  const stampFile = `${dir}.stamp`;
  const stamp = planHash(plan, owned);
  // A tree root built (with owners) serves a non-root user just as well.
  const accepted = owned ? [stamp] : [stamp, planHash(plan, true)];
  if (existsSync(dir) && existsSync(stampFile) && accepted.includes(readFileSync(stampFile, "utf8").trim())) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    materialize(plan, tmp, owned);
    rmSync(old, { recursive: true, force: true });
    if (existsSync(dir)) renameSync(dir, old);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another test process put the same tree in place between our two renames.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === "ENOTEMPTY" || code === "EEXIST") && existsSync(dir)) {
        rmSync(tmp, { recursive: true, force: true });
        return dir;
      }
      throw err;
    }
    writeFileSync(`${stampFile}.tmp-${process.pid}`, `${stamp}\n`);
    renameSync(`${stampFile}.tmp-${process.pid}`, stampFile);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new SetupError(`building ${dir}: ${(err as Error).message}`, (err as NodeJS.ErrnoException).errno, {
      where: "test rootfs",
      cause: err,
    });
  } finally {
    rmSync(old, { recursive: true, force: true });
  }
  return dir;
}

/** Path of the static probe binary, compiled first if probe.c changed. */
export function probeBinary(): string {
  return buildProbe();
}

/** build/probe-rootfs: /bin/probe, /etc/{passwd,group,hostname,hosts,resolv.conf}, empty mount points. */
export function ensureProbeRootfs(): string {
  return ensureTree(join(repoRoot(), "build", "probe-rootfs"), planProbeRootfs(probeBinary()));
}

/** True for an ELF file with no PT_INTERP program header (needs no dynamic loader). */
export function isStaticElf(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    const hdr = Buffer.alloc(64);
    if (readSync(fd, hdr, 0, 64, 0) < 64 || hdr.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = hdr[4] === 2;
    const le = hdr[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? hdr.readBigUInt64LE(0x20) : hdr.readBigUInt64BE(0x20)) : u32(hdr, 0x1c);
    const phentsize = u16(hdr, is64 ? 0x36 : 0x2a);
    const phnum = u16(hdr, is64 ? 0x38 : 0x2c);
    const ph = Buffer.alloc(phentsize * phnum);
    if (readSync(fd, ph, 0, ph.length, phoff) < ph.length) return false;
    for (let i = 0; i < phnum; i++) if (u32(ph, i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

const BUSYBOX_CANDIDATES = ["/usr/bin/busybox", "/bin/busybox"];

/** The host's static busybox (Debian: busybox-static), or null. */
export function findStaticBusybox(): string | null {
  return BUSYBOX_CANDIDATES.find((p) => isStaticElf(p)) ?? null;
}

export function busyboxAvailable(): boolean {
  return findStaticBusybox() !== null;
}

/** The applets the host busybox actually has (a subset check for BUSYBOX_APPLETS). */
export function busyboxApplets(busybox = findStaticBusybox()): string[] {
  if (!busybox) return [];
  return execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
}

/** build/busybox-rootfs: the probe rootfs plus /bin/busybox and /bin/{sh,ls,cat,...} links to it. */
export function ensureBusyboxRootfs(): string {
  const busybox = findStaticBusybox();
  if (!busybox) {
    throw new HostError("no static busybox on the host: apt-get install -y busybox-static", { where: "test rootfs" });
  }
  return ensureTree(join(repoRoot(), "build", "busybox-rootfs"), planBusyboxRootfs(probeBinary(), busybox));
}
