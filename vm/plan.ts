// Pure pieces of the VM lane: everything that turns options into text or argv
// (kernel command line, QEMU argv, the files the guest reads, the initramfs
// archive) lives here, so it is tested without booting anything.
import { dirname, isAbsolute, posix } from "node:path";

export type Mode = "plain" | "systemd";
export type Scratch = "tmpfs" | "ext4";

export interface VmOptions {
  mode: Mode;
  /** Kernel tree (a `dpkg-deb -x` of a linux-image package); undefined: build/vm/kernel/default. */
  kernel?: string;
  /** Seconds before the VM is killed (exit 124). */
  timeout: number;
  memMiB: number;
  smp: number;
  accel: string;
  cpu: string;
  /** The guest's /scratch (and so /tmp, /var/tmp, /var/lib/containerd). */
  scratch: Scratch;
  /** tmpfs size (tmpfs' own syntax, e.g. 50%) or ext4 image size in MiB. */
  scratchSize: string;
  /** Writable host directories, mounted at the same path in the guest. */
  shares: string[];
  env: string[];
  /** Extra kernel command line. */
  append: string[];
  /** systemd mode: units masked on top of DEFAULT_MASKS / taken off it. */
  mask: string[];
  unmask: string[];
  /** systemd mode: keep the units the host admin enabled in /etc/systemd/system. */
  keepUnits: boolean;
  /** Copy the guest console to stderr as it comes. */
  console: boolean;
  /** Keep the run directory (console log, control files) afterwards. */
  keep: boolean;
  /** Print boot and command timings to stderr. */
  time: boolean;
  /** Working directory of the command in the guest (default: the caller's). */
  cwd?: string;
  command: string[];
}

export const DEFAULTS: Omit<VmOptions, "command"> = {
  mode: "plain",
  timeout: 3600,
  memMiB: 3072,
  smp: 2,
  // nested KVM hangs on the project's machines; TCG works everywhere. One host thread
  // for both vCPUs: with multi-threaded TCG the guest kernel's live patching of its own
  // text (static keys: text_poke_bp's int3) raced on the other vCPU and panicked the
  // guest now and then ("Oops: int3" in __alloc_pages, seen twice in full-suite runs)
  accel: "tcg,thread=single",
  cpu: "max",
  scratch: "tmpfs",
  scratchSize: "",
  shares: [],
  env: [],
  append: [],
  mask: [],
  unmask: [],
  keepUnits: false,
  console: false,
  keep: false,
  time: false,
};

/** Default tmpfs share of guest RAM / ext4 image size (sparse) in MiB. */
export const DEFAULT_SCRATCH_SIZE: Record<Scratch, string> = { tmpfs: "60%", ext4: "8192" };

/**
 * Units masked in the systemd guest: ones that cannot work without a network,
 * a real disk or a terminal, or that only cost boot time under TCG.
 */
export const DEFAULT_MASKS: readonly string[] = [
  "getty.target", "serial-getty@ttyS0.service",
  "systemd-timesyncd.service", "systemd-networkd.service", "systemd-networkd-wait-online.service",
  "networking.service", "systemd-resolved.service",
  "systemd-remount-fs.service", "systemd-firstboot.service", "systemd-pstore.service",
  "systemd-binfmt.service", "proc-sys-fs-binfmt_misc.automount",
  "modprobe@drm.service", "modprobe@dm_mod.service",
  "systemd-update-utmp.service", "systemd-update-utmp-runlevel.service", "systemd-journal-flush.service",
  "apt-daily.timer", "apt-daily-upgrade.timer", "man-db.timer", "e2scrub_all.timer", "e2scrub_reap.service",
  "fstrim.timer", "dpkg-db-backup.timer", "logrotate.timer",
  // the host's docker.io (CI installs it for the benchmark, its service kept stopped there): in a
  // guest it would start at boot, with a bridge and iptables rules of its own
  "docker.service", "docker.socket",
  // udev only where the host has the udev package; masking a missing unit is harmless
  "systemd-udevd.service", "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
  "systemd-udev-trigger.service", "systemd-udev-settle.service",
];

export class UsageError extends Error {}

export const USAGE = `usage: tsx vm/vm.ts [options] [--] COMMAND...   run COMMAND as root in a throwaway VM
       tsx vm/vm.ts setup [--systemd] [--kernel-package PKG]
       tsx vm/vm.ts test [--systemd] [options] [FILE_PATTERN]

One COMMAND word is run by /bin/sh -c; several are executed as argv.
Exit status: the command's; 124 timeout; 125 the VM stopped before the command finished.
options:
  --systemd            systemd as PID 1 (multi-user.target, D-Bus, logind); the command
                       runs from a service once 'systemctl is-system-running --wait' returns
  --kernel DIR         kernel tree (dpkg-deb -x of a linux-image package; default build/vm/kernel/default)
  --timeout SEC        kill the VM after SEC seconds (default ${DEFAULTS.timeout})
  --mem MIB            guest memory (default ${DEFAULTS.memMiB})    --smp N   vCPUs (default ${DEFAULTS.smp})
  --scratch tmpfs|ext4 the guest's /scratch (/tmp, /var/tmp, /var/lib/containerd): tmpfs (default)
                       or an ext4 image on a virtio disk
  --scratch-size S     tmpfs size (default ${DEFAULT_SCRATCH_SIZE.tmpfs}) or ext4 image MiB (default ${DEFAULT_SCRATCH_SIZE.ext4}, sparse)
  --share DIR          writable host directory at the same path in the guest (repeatable)
  --env K=V            environment of the command (repeatable)
  --cwd DIR            working directory of the command (default: the current one)
  --append ARGS        extra kernel command line
  --mask UNIT / --unmask UNIT / --keep-units   systemd mode: unit masking
  --accel A            QEMU accelerator (default ${DEFAULTS.accel})   --cpu MODEL (default ${DEFAULTS.cpu})
  --console            copy the guest console to stderr      --time   timings to stderr
  --keep               keep the run directory (console.log) afterwards`;

function intArg(name: string, v: string | undefined, min: number): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name} needs a whole number >= ${min}, got ${v ?? "nothing"}`);
  return Number(v);
}

/**
 * Parses the options shared by `run` and `test`. Unknown options are an error;
 * the first non-option word (or everything after `--`) starts the command.
 */
export function parseVmArgs(argv: readonly string[]): VmOptions {
  const o: VmOptions = { ...DEFAULTS, shares: [], env: [], append: [], mask: [], unmask: [], command: [] };
  let i = 0;
  const val = (name: string) => {
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("--")) break;
    switch (a) {
      case "--systemd": o.mode = "systemd"; break;
      case "--kernel": o.kernel = val(a); break;
      case "--timeout": o.timeout = intArg(a, val(a), 1); break;
      case "--mem": o.memMiB = intArg(a, val(a), 256); break;
      case "--smp": o.smp = intArg(a, val(a), 1); break;
      case "--accel": o.accel = val(a); break;
      case "--cpu": o.cpu = val(a); break;
      case "--scratch": {
        const s = val(a);
        if (s !== "tmpfs" && s !== "ext4") throw new UsageError(`--scratch is tmpfs or ext4, got ${s}`);
        o.scratch = s;
        break;
      }
      case "--scratch-size": o.scratchSize = val(a); break;
      case "--share": o.shares.push(val(a)); break;
      case "--env": {
        const e = val(a);
        if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) throw new UsageError(`--env needs NAME=VALUE, got ${e}`);
        o.env.push(e);
        break;
      }
      case "--cwd": o.cwd = val(a); break;
      case "--append": o.append.push(val(a)); break;
      case "--mask": o.mask.push(val(a)); break;
      case "--unmask": o.unmask.push(val(a)); break;
      case "--keep-units": o.keepUnits = true; break;
      case "--console": o.console = true; break;
      case "--keep": o.keep = true; break;
      case "--time": o.time = true; break;
      default: throw new UsageError(`unknown option ${a}`);
    }
  }
  o.command = argv.slice(i);
  if (o.scratchSize === "") o.scratchSize = DEFAULT_SCRATCH_SIZE[o.scratch];
  if (o.scratch === "ext4") intArg("--scratch-size (ext4, MiB)", o.scratchSize, 64);
  else if (!/^\d+[kmgKMG%]?$/.test(o.scratchSize)) throw new UsageError(`--scratch-size for tmpfs is N, Nk, Nm, Ng or N%, got ${o.scratchSize}`);
  for (const s of o.shares) checkGuestPath("--share", s);
  if (o.cwd !== undefined) {
    if (!isAbsolute(o.cwd)) throw new UsageError(`--cwd needs an absolute path, got ${o.cwd}`);
    checkGuestCwd(o.cwd);
  }
  return o;
}

/** The guest's own mounts over the host's tree: a host path under one of them is not visible in the guest. */
export const GUEST_OWN_MOUNTS: readonly string[] = ["/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/var/lib/containerd", "/scratch"];

/** The guest mount that hides a host path, or null when the guest sees it. */
export function hiddenInGuest(p: string): string | null {
  const n = posix.normalize(p);
  return GUEST_OWN_MOUNTS.find((m) => n === m || n.startsWith(`${m}/`)) ?? null;
}

/** Paths that reach the guest's shell-read env file and QEMU's option syntax. */
export function checkGuestPath(what: string, p: string): void {
  if (!isAbsolute(p)) throw new UsageError(`${what} needs an absolute path, got ${p}`);
  if (/[\s,:'"\\$`]/.test(p)) throw new UsageError(`${what}: blanks, commas, colons, quotes, backslashes and $ are not supported in paths: ${p}`);
  const hidden = posix.normalize(p) === "/" ? "/" : hiddenInGuest(p);
  if (hidden) throw new UsageError(`${what}: ${p} would be hidden by the guest's own ${hidden}`);
}

/** The working directory must be one the guest sees (the host's /tmp is not: the guest has its own). */
export function checkGuestCwd(p: string): void {
  const hidden = hiddenInGuest(p);
  if (hidden) throw new UsageError(`the working directory ${p} is under ${hidden}, which the guest has of its own: run from (or --cwd to) a directory outside it`);
}

/** The kernel command line. The guest's own settings travel in the ctl share, not here. */
export function kernelCmdline(mode: Mode, append: readonly string[] = []): string {
  const base = [
    "console=ttyS0", "panic=-1", "oops=panic", "loglevel=4",
    // pure cgroup v2: no v1 controller can be mounted
    "cgroup_no_v1=all",
    "mitigations=off",
    // under TCG on a loaded host the timer interrupt can come too late for the
    // kernel's IO-APIC check, which then panics at boot ("IO-APIC + timer doesn't
    // work!"): seen booting these same kernels with this same QEMU set-up
    "no_timer_check",
  ];
  const sd = mode === "systemd"
    ? ["systemd.unified_cgroup_hierarchy=1", "systemd.unit=multi-user.target", "systemd.show_status=error", "systemd.log_level=notice"]
    : [];
  return [...base, ...sd, ...append].join(" ");
}

/** QEMU's option syntax: a comma inside a value is written twice. */
export function qemuValue(v: string): string {
  return v.replace(/,/g, ",,");
}

export interface QemuPaths {
  vmlinuz: string;
  initrd: string;
  console: string;
  ctl: string;
  /** ext4 scratch image, when the scratch is ext4 */
  scratchImage?: string;
}

/** 9p mount tags the stage-1 init knows: host (/ read-only), ctl (run dir), share0.. (--share). */
export function shareTag(i: number): string {
  return `share${i}`;
}

export function qemuArgs(o: VmOptions, p: QemuPaths): string[] {
  const args = [
    "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-monitor", "none",
    "-accel", o.accel, "-cpu", o.cpu, "-smp", String(o.smp), "-m", String(o.memMiB),
    "-kernel", p.vmlinuz, "-initrd", p.initrd, "-append", kernelCmdline(o.mode, o.append),
    "-serial", `file:${p.console}`,
  ];
  const fs9p = (tag: string, path: string, extra: string) =>
    ["-fsdev", `local,id=fs${tag},path=${qemuValue(path)},security_model=none${extra}`, "-device", `virtio-9p-pci,fsdev=fs${tag},mount_tag=${tag}`];
  // multidevs=remap: / spans several host filesystems; without it inode numbers
  // collide and the guest's 9p cache aliases files of different filesystems
  args.push(...fs9p("host", "/", ",readonly=on,multidevs=remap"));
  args.push(...fs9p("ctl", p.ctl, ""));
  o.shares.forEach((s, i) => args.push(...fs9p(shareTag(i), s, ",multidevs=remap")));
  if (o.scratch === "ext4") {
    if (!p.scratchImage) throw new Error("ext4 scratch needs an image path");
    // cache=unsafe: the image is thrown away with the run, flushes need not reach the disk
    args.push("-drive", `file=${qemuValue(p.scratchImage)},format=raw,if=virtio,cache=unsafe,discard=unmap`);
  }
  return args;
}

/** One word for a POSIX shell (single quotes; ' as '\''). */
export function shq(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The script the guest runs: env exports, then the command (one word: sh -c; several: exec argv). */
export function commandScript(command: readonly string[], env: readonly string[]): string {
  if (command.length === 0) throw new UsageError("no command given");
  const lines = env.map((e) => {
    const eq = e.indexOf("=");
    return `export ${e.slice(0, eq)}=${shq(e.slice(eq + 1))}`;
  });
  lines.push(command.length === 1 ? `exec /bin/sh -c ${shq(command[0]!)}` : `exec ${command.map(shq).join(" ")}`);
  return lines.join("\n") + "\n";
}

export interface GuestEnv {
  mode: Mode;
  kernelDir: string;
  cwd: string;
  scratch: Scratch;
  scratchSize: string;
  shares: readonly string[];
  masks: readonly string[];
  keepUnits: boolean;
  machineId: string;
}

/** The masks applied in systemd mode: the defaults, minus --unmask, plus --mask. */
export function effectiveMasks(mask: readonly string[], unmask: readonly string[]): string[] {
  const out = DEFAULT_MASKS.filter((u) => !unmask.includes(u));
  for (const u of mask) if (!out.includes(u)) out.push(u);
  for (const u of out) if (!/^[A-Za-z0-9@_.:\\-]+$/.test(u)) throw new UsageError(`not a unit name: ${u}`);
  return out;
}

/** `env` in the ctl share, sourced by the stage-1 init (busybox sh) and the runner (bash). */
export function guestEnvFile(g: GuestEnv): string {
  const v: [string, string][] = [
    ["VM_MODE", g.mode],
    ["VM_KDIR", g.kernelDir],
    ["VM_CWD", g.cwd],
    ["VM_SCRATCH", g.scratch],
    ["VM_SCRATCH_SIZE", g.scratchSize],
    // tag:path pairs, blank-separated (checkGuestPath keeps blanks and colons out)
    ["VM_SHARES", g.shares.map((s, i) => `${shareTag(i)}:${s}`).join(" ")],
    ["VM_MASKS", g.masks.join(" ")],
    ["VM_KEEP_UNITS", g.keepUnits ? "1" : "0"],
    ["VM_MACHINE_ID", g.machineId],
  ];
  return v.map(([k, val]) => `${k}=${shq(val)}`).join("\n") + "\n";
}

/** Module files to load, in order, from `modprobe --show-depends` outputs (builtins skipped, no repeats). */
export function modulesFromShowDepends(outputs: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const text of outputs) {
    for (const line of text.split("\n")) {
      const m = /^insmod\s+(\S+)/.exec(line.trim());
      if (!m || seen.has(m[1]!)) continue;
      seen.add(m[1]!);
      out.push(m[1]!);
    }
  }
  return out;
}

/** foo.ko.xz -> foo.ko */
export function moduleBaseName(path: string): string {
  return posix.basename(path).replace(/\.(xz|zst|gz)$/, "");
}

/** The newest `boot/vmlinuz-<kver>` name in a kernel tree's listing -> kver. */
export function kernelVersionFromBoot(names: readonly string[]): string | null {
  const v = names.filter((n) => n.startsWith("vmlinuz-")).map((n) => n.slice("vmlinuz-".length)).sort();
  return v.length ? v[v.length - 1]! : null;
}

// --- apt: the guest kernel from <codename>-backports, through a private sources list ---

/**
 * The archive URI that serves `<codename> main` on this host, from
 * `apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)'`.
 * The lane reuses the host's own mirror for backports.
 */
export function pickArchiveUri(indextargets: string, codename: string): string | null {
  for (const line of indextargets.split("\n")) {
    const [uri, release, component] = line.trim().split(/\s+/);
    if (uri && release === codename && component === "main") return uri;
  }
  return null;
}

/** `linux-image-amd64`'s dependency on the versioned image package, from `apt-cache show`. */
export function kernelPackageFromShow(show: string): string | null {
  let best: { pkg: string; ver: string } | null = null;
  for (const stanza of show.split(/\n\s*\n/)) {
    const ver = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    const dep = /^Depends:\s*(.*)$/m.exec(stanza)?.[1];
    const pkg = dep?.split(",").map((d) => d.trim().split(/\s/)[0]!).find((d) => /^linux-image-\S+-amd64$/.test(d) && !d.includes("unsigned"));
    if (!ver || !pkg) continue;
    if (!best || compareDebVersions(ver, best.ver) > 0) best = { pkg, ver };
  }
  return best?.pkg ?? null;
}

/** Enough of dpkg's version order for kernel meta-package versions (digits numerically, ~ lowest). */
export function compareDebVersions(a: string, b: string): number {
  const parts = (s: string) => s.match(/\d+|~|[^\d~]+/g) ?? [];
  const pa = parts(a), pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i], y = pb[i];
    if (x === y) continue;
    if (x === undefined) return y === "~" ? 1 : -1;
    if (y === undefined) return x === "~" ? -1 : 1;
    if (x === "~") return -1;
    if (y === "~") return 1;
    const nx = /^\d+$/.test(x), ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return 0;
}

export function backportsSourcesList(uri: string, codename: string, keyring: string): string {
  return `deb [signed-by=${keyring}] ${uri} ${codename}-backports main\n`;
}

/** apt options that keep lists and caches private to build/vm/apt (the host's apt config is not touched). */
export function privateAptOptions(aptDir: string): string[] {
  return [
    "-o", `Dir::Etc::SourceList=${aptDir}/sources.list`,
    "-o", `Dir::Etc::SourceParts=${aptDir}/sources.list.d`,
    "-o", `Dir::State::Lists=${aptDir}/lists`,
    "-o", `Dir::Cache=${aptDir}/cache`,
    // the download dirs are root's; apt's _apt sandbox user could not write them
    "-o", "APT::Sandbox::User=root",
  ];
}

// --- initramfs: a newc cpio archive written here (no cpio binary, no mknod needed) ---

export interface CpioEntry {
  path: string; // relative, no leading slash
  mode: number; // including the file type bits
  data?: Buffer;
  target?: string; // symlink target
  rdevMajor?: number;
  rdevMinor?: number;
}

export const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** SVR4 "newc" cpio (what the kernel unpacks as an initramfs), owner 0:0, mtime 0. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  const put = (name: string, mode: number, body: Buffer, nlink: number, major = 0, minor = 0) => {
    const nameBuf = Buffer.from(name + "\0");
    const header = "070701" + [ino++, mode, 0, 0, nlink, 0, body.length, 0, 0, major, minor, nameBuf.length, 0].map(hex).join("");
    chunks.push(Buffer.from(header), nameBuf, Buffer.alloc(pad4(110 + nameBuf.length)), body, Buffer.alloc(pad4(body.length)));
  };
  for (const e of entries) {
    const type = e.mode & 0o170000;
    const body = type === S_IFLNK ? Buffer.from(e.target ?? "") : type === S_IFREG ? e.data ?? Buffer.alloc(0) : Buffer.alloc(0);
    put(e.path, e.mode, body, type === S_IFDIR ? 2 : 1, e.rdevMajor ?? 0, e.rdevMinor ?? 0);
  }
  put("TRAILER!!!", 0, Buffer.alloc(0), 1);
  return Buffer.concat(chunks);
}

/** The directories every stage-1 path needs, parents first. */
export function parentDirs(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const p of paths) for (let d = dirname(p); d !== "." && d !== "/"; d = dirname(d)) dirs.add(d);
  return [...dirs].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b));
}

// --- the outcome of one run ---

export interface RunFacts {
  /** Content of the rc file the runner writes last, or null if it never appeared. */
  rcText: string | null;
  timedOut: boolean;
  /** What ended QEMU when it ended by itself: exit code or signal. */
  qemuExit: { code: number | null; signal: string | null } | null;
  /** The stage-1 init's own error line, if it wrote one. */
  initError?: string;
}

export interface Outcome {
  status: number;
  /** Why the status is not the command's own: null when it is. */
  problem: string | null;
}

export const EXIT_TIMEOUT = 124;
export const EXIT_VM_FAILED = 125;

/** The lane's exit status: the command's, 124 timeout, 125 the VM stopped first. */
export function decideOutcome(f: RunFacts, timeout: number): Outcome {
  if (f.rcText !== null) {
    const rc = f.rcText.trim();
    if (/^\d+$/.test(rc) && Number(rc) <= 255) return { status: Number(rc), problem: null };
    return { status: EXIT_VM_FAILED, problem: `the guest wrote a bad exit status: ${JSON.stringify(f.rcText)}` };
  }
  if (f.timedOut) return { status: EXIT_TIMEOUT, problem: `timeout: the command did not finish within ${timeout}s` };
  if (f.initError) return { status: EXIT_VM_FAILED, problem: `the guest's stage-1 init failed: ${f.initError.trim()}` };
  const how = f.qemuExit === null ? "" : f.qemuExit.signal ? ` (QEMU killed by ${f.qemuExit.signal})` : ` (QEMU exit status ${f.qemuExit.code})`;
  return { status: EXIT_VM_FAILED, problem: `the VM stopped before the command finished${how}` };
}

/** A plain "N passed, N failed, N skipped" line out of a test run's output (the last one). */
export function closingLine(out: string): { passed: number; failed: number; skipped: number } | null {
  const all = [...out.matchAll(/^(\d+) passed, (\d+) failed, (\d+) skipped$/gm)];
  const m = all[all.length - 1];
  return m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) } : null;
}
