// First-use set-up of the VM lane, all of it cached under build/vm/:
// Debian packages on the host, the guest kernel from <codename>-backports
// (apt-get download + dpkg-deb -x + depmod, through a private sources list so
// the host's apt configuration is not touched) and the stage-1 initramfs.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { isStaticElf } from "../conformance/rootfs";
import {
  backportsSourcesList, cpioNewc, kernelPackageFromShow, kernelVersionFromBoot, moduleBaseName, modulesFromShowDepends,
  parentDirs, pickArchiveUri, privateAptOptions, S_IFCHR, S_IFDIR, S_IFREG, type CpioEntry, type Mode, type Scratch,
} from "./plan";

export const REPO = join(__dirname, "..");
/** Kernels, initramfs, apt lists and run dirs; OCIRT_VM_DIR moves them (`node-gyp rebuild` empties build/). */
export const VM_DIR = process.env["OCIRT_VM_DIR"] || join(REPO, "build", "vm");
export const KERNELS = join(VM_DIR, "kernel");
export const DEFAULT_KERNEL = join(KERNELS, "default");
const APT_DIR = join(VM_DIR, "apt");
const INITRDS = join(VM_DIR, "initrd");
const GUEST = join(__dirname, "guest");

export class VmSetupError extends Error {}

function log(msg: string): void {
  process.stderr.write(`vm: ${msg}\n`);
}

function run(cmd: string, args: string[], opts: { cwd?: string; quiet?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new VmSetupError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ""}${r.stdout ?? ""}`.trim().split("\n").slice(-5).join(" | ");
    throw new VmSetupError(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}): ${tail}`);
  }
  return r.stdout;
}

// --- host packages ---

/** Debian packages the lane needs on the host, and the command each provides. */
export function hostPackages(mode: Mode, scratch: Scratch): { pkg: string; cmd: string }[] {
  const p = [
    { pkg: "qemu-system-x86", cmd: "/usr/bin/qemu-system-x86_64" },
    { pkg: "busybox-static", cmd: "/bin/busybox" }, // the initramfs' only program
    { pkg: "kmod", cmd: "/sbin/depmod" }, // depmod for the guest kernel, modprobe --show-depends
  ];
  if (scratch === "ext4") p.push({ pkg: "e2fsprogs", cmd: "/sbin/mkfs.ext4" });
  // the systemd guest boots the host's own systemd and D-Bus
  if (mode === "systemd") p.push({ pkg: "systemd", cmd: "/lib/systemd/systemd" }, { pkg: "dbus", cmd: "/usr/bin/dbus-daemon" });
  return p;
}

function installed(pkg: string): boolean {
  const r = spawnSync("dpkg-query", ["-W", "-f", "${Status}", pkg], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes("install ok installed");
}

export function ensureHostPackages(mode: Mode, scratch: Scratch): void {
  const missing = hostPackages(mode, scratch).filter((p) => !installed(p.pkg)).map((p) => p.pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new VmSetupError(`missing Debian packages (run as root to install them): ${missing.join(" ")}`);
  log(`installing ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const lock = ["-o", "DPkg::Lock::Timeout=600"];
  spawnSync("apt-get", [...lock, "update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
  const r = spawnSync("apt-get", [...lock, "install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: ["ignore", "ignore", "inherit"], env });
  if (r.status !== 0) throw new VmSetupError(`apt-get install ${missing.join(" ")} failed`);
}

// --- a lock for the first-use steps (several lanes may start at once) ---

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs fn holding build/vm/<name>.lock (a directory with the holder's pid; a dead holder's lock is taken over). */
export function withLock<T>(name: string, fn: () => T): T {
  mkdirSync(VM_DIR, { recursive: true });
  const dir = join(VM_DIR, `${name}.lock`);
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "pid"), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let holder = 0;
      try {
        holder = Number(readFileSync(join(dir, "pid"), "utf8"));
      } catch { /* being written or removed */ }
      if (holder && !pidAlive(holder)) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new VmSetupError(`${dir} held by pid ${holder} for too long`);
      sleepMs(500);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- the guest kernel ---

function hostCodename(): string {
  const osr = readFileSync("/etc/os-release", "utf8");
  const c = /^VERSION_CODENAME=(\S+)/m.exec(osr)?.[1];
  if (!c) throw new VmSetupError("no VERSION_CODENAME in /etc/os-release: the lane needs a Debian host");
  return c.replace(/"/g, "");
}

const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** apt-get update of the private backports list in build/vm/apt; returns the apt options to use it. */
function privateApt(): string[] {
  const codename = hostCodename();
  const targets = run("apt-get", ["indextargets", "--format", "$(REPO_URI) $(RELEASE) $(COMPONENT)", "Identifier: Packages"]);
  const uri = pickArchiveUri(targets, codename);
  if (!uri) throw new VmSetupError(`the host's apt sources have no "${codename} main" to take the archive address from`);
  if (!existsSync(KEYRING)) throw new VmSetupError(`${KEYRING} is missing (apt-get install debian-archive-keyring)`);
  for (const d of ["lists/partial", "cache/archives/partial", "sources.list.d", "dl"]) mkdirSync(join(APT_DIR, d), { recursive: true });
  writeFileSync(join(APT_DIR, "sources.list"), backportsSourcesList(uri, codename, KEYRING));
  const opts = privateAptOptions(APT_DIR);
  log(`apt-get update (${codename}-backports, private list in build/vm/apt)`);
  run("apt-get", [...opts, "update", "-qq"]);
  return opts;
}

/** The kernel tree's version (from boot/vmlinuz-<kver>). */
export function kernelVersion(kdir: string): string {
  let names: string[] = [];
  try {
    names = readdirSync(join(kdir, "boot"));
  } catch { /* reported below */ }
  const kver = kernelVersionFromBoot(names);
  if (!kver) throw new VmSetupError(`no boot/vmlinuz-* in ${kdir}`);
  if (!existsSync(join(kdir, "lib", "modules", kver))) throw new VmSetupError(`no lib/modules/${kver} in ${kdir}`);
  return kver;
}

function ensureDepmod(kdir: string, kver: string): void {
  if (!existsSync(join(kdir, "lib", "modules", kver, "modules.dep.bin"))) run("/sbin/depmod", ["-b", kdir, kver]);
}

/** Downloads and unpacks a linux-image package into build/vm/kernel/<pkg>; the newest backports one by default. */
export function installKernel(pkgWanted?: string): string {
  return withLock("kernel", () => {
    const opts = privateApt();
    let pkg = pkgWanted;
    if (!pkg) {
      pkg = kernelPackageFromShow(run("apt-cache", [...opts, "show", "linux-image-amd64"])) ?? undefined;
      if (!pkg) throw new VmSetupError("linux-image-amd64 in backports names no linux-image-*-amd64 package");
    }
    const dest = join(KERNELS, pkg);
    if (!existsSync(dest)) {
      const dl = join(APT_DIR, "dl");
      for (const f of readdirSync(dl)) if (f.startsWith(`${pkg}_`)) rmSync(join(dl, f));
      log(`apt-get download ${pkg}`);
      run("apt-get", [...opts, "download", pkg], { cwd: dl });
      const deb = readdirSync(dl).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
      if (!deb) throw new VmSetupError(`apt-get download ${pkg} left no .deb in ${dl}`);
      const tmp = join(KERNELS, `.tmp-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      run("dpkg-deb", ["-x", join(dl, deb), tmp]);
      const kver = kernelVersion(tmp);
      run("/sbin/depmod", ["-b", tmp, kver]);
      renameSync(tmp, dest);
      rmSync(join(dl, deb)); // 100 MB; the unpacked tree is what is used
      log(`kernel ${kver} in ${dest}`);
    }
    if (!existsSync(DEFAULT_KERNEL)) {
      const link = `${DEFAULT_KERNEL}.tmp-${process.pid}`;
      rmSync(link, { force: true });
      symlinkSync(pkg, link);
      renameSync(link, DEFAULT_KERNEL);
    }
    return dest;
  });
}

/** The kernel tree to boot: --kernel, or build/vm/kernel/default (installed on first use). */
export function resolveKernel(kernel?: string): { dir: string; kver: string; vmlinuz: string } {
  let dir = kernel;
  if (!dir) {
    if (!existsSync(DEFAULT_KERNEL)) installKernel();
    dir = DEFAULT_KERNEL;
  }
  if (!existsSync(dir)) throw new VmSetupError(`no kernel tree at ${dir}`);
  dir = realpathSync(dir);
  const kver = kernelVersion(dir);
  ensureDepmod(dir, kver);
  return { dir, kver, vmlinuz: join(dir, "boot", `vmlinuz-${kver}`) };
}

// --- the initramfs ---

/** Modules stage 1 loads: virtio 9p and overlay always, the virtio disk and ext4 for an ext4 scratch. */
export function initrdModules(scratch: Scratch): string[] {
  const m = ["virtio_pci", "9pnet_virtio", "9p", "overlay"];
  if (scratch === "ext4") m.push("virtio_blk", "ext4");
  return m;
}

function decompressModule(path: string, busybox: string): Buffer {
  if (path.endsWith(".xz")) return execFileSync(busybox, ["xz", "-dc", path], { maxBuffer: 256 * 1024 * 1024 });
  if (path.endsWith(".gz")) return gunzipSync(readFileSync(path));
  if (path.endsWith(".zst")) return execFileSync("zstd", ["-dc", path], { maxBuffer: 256 * 1024 * 1024 });
  return readFileSync(path);
}

/** build/vm/initrd/initrd-<kver>-<hash>.cpio.gz, built once per kernel, init script, busybox and module set. */
export function ensureInitrd(kdir: string, kver: string, scratch: Scratch): string {
  const busybox = "/bin/busybox";
  if (!isStaticElf(busybox)) throw new VmSetupError(`${busybox} is not a static binary (apt-get install busybox-static)`);
  const init = readFileSync(join(GUEST, "init.sh"));
  const wanted = initrdModules(scratch);
  const st = statSync(busybox);
  const key = createHash("sha256")
    .update(init).update(kdir).update(kver).update(wanted.join(",")).update(`${st.size}:${st.mtimeMs}`)
    .digest("hex").slice(0, 16);
  const out = join(INITRDS, `initrd-${kver}-${key}.cpio.gz`);
  if (existsSync(out)) return out;
  const depends = wanted.map((m) => run("/sbin/modprobe", ["-d", kdir, "-S", kver, "--show-depends", m]));
  const mods = modulesFromShowDepends(depends);
  const files: CpioEntry[] = [
    { path: "bin/busybox", mode: S_IFREG | 0o755, data: readFileSync(busybox) },
    { path: "init", mode: S_IFREG | 0o755, data: init },
    { path: "dev/console", mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
    ...mods.map((m): CpioEntry => ({ path: `modules/${moduleBaseName(m)}`, mode: S_IFREG | 0o644, data: decompressModule(m, busybox) })),
    { path: "modules/order", mode: S_IFREG | 0o644, data: Buffer.from(mods.map((m) => moduleBaseName(m) + "\n").join("")) },
  ];
  const dirs = new Set([...parentDirs(files.map((f) => f.path)), "proc", "sys"]);
  const entries = [...[...dirs].map((d): CpioEntry => ({ path: d, mode: S_IFDIR | 0o755 })), ...files];
  mkdirSync(INITRDS, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, gzipSync(cpioNewc(entries), { level: 1 }));
  renameSync(tmp, out);
  return out;
}
