// The VM lane's pure parts (vm/plan.ts): options, kernel command line, QEMU argv,
// the files the guest reads, the initramfs archive, and how a run's end becomes
// an exit status. Nothing here boots a VM.
import { test } from "uvu";
import { testIf } from "../skip";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  closingLine, commandScript, compareDebVersions, cpioNewc, decideOutcome, DEFAULT_MASKS, effectiveMasks, guestEnvFile, hiddenInGuest,
  kernelCmdline, kernelPackageFromShow, kernelVersionFromBoot, moduleBaseName, modulesFromShowDepends, parentDirs, parseVmArgs,
  pickArchiveUri, privateAptOptions, qemuArgs, qemuValue, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, shq, UsageError, type VmOptions,
} from "../../vm/plan";
import { laneCommand } from "../../vm/lane";
import { hostPackages, initrdModules } from "../../vm/setup";

const tmp = mkdtempSync(join(tmpdir(), "ocirt-vm-test-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const BUSYBOX = ["/usr/bin/busybox", "/bin/busybox"].find((p) => existsSync(p));

const throwsUsage = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof UsageError && re.test((e as Error).message));

// --- options ---

test("parseVmArgs: defaults, and the command starts at the first word or after --", () => {
  const o = parseVmArgs(["echo", "--systemd"]);
  assert.equal(o.command, ["echo", "--systemd"], "options end at the first word");
  assert.is(o.mode, "plain");
  assert.is(o.scratch, "tmpfs");
  assert.is(o.scratchSize, "60%");
  assert.is(o.timeout, 3600, "an hour: the integration suite takes 15-20 min under TCG, twice that on a loaded host");
  assert.is(o.accel, "tcg,thread=single", "TCG (nested KVM hangs on the project's machines), one thread (multi-threaded TCG raced the guest kernel's text patching)");
  assert.equal(parseVmArgs(["--", "--not-an-option"]).command, ["--not-an-option"]);
  assert.equal(parseVmArgs([]).command, []);
});

test("parseVmArgs: every option", () => {
  const o = parseVmArgs([
    "--systemd", "--kernel", "/k", "--timeout", "60", "--mem", "2048", "--smp", "1", "--accel", "kvm", "--cpu", "host",
    "--scratch", "ext4", "--share", "/srv/out", "--share", "/work/x", "--env", "A=b c", "--cwd", "/work",
    "--append", "quiet", "--mask", "foo.service", "--unmask", "getty.target", "--keep-units", "--console", "--keep", "--time",
    "--", "true",
  ]);
  assert.equal(
    { ...o },
    {
      mode: "systemd", kernel: "/k", timeout: 60, memMiB: 2048, smp: 1, accel: "kvm", cpu: "host", scratch: "ext4", scratchSize: "8192",
      shares: ["/srv/out", "/work/x"], env: ["A=b c"], cwd: "/work", append: ["quiet"], mask: ["foo.service"], unmask: ["getty.target"],
      keepUnits: true, console: true, keep: true, time: true, command: ["true"],
    } satisfies VmOptions,
  );
});

test("parseVmArgs: bad input is a usage error naming the option", () => {
  throwsUsage(() => parseVmArgs(["--bogus"]), /unknown option --bogus/);
  throwsUsage(() => parseVmArgs(["--timeout"]), /--timeout needs a value/);
  throwsUsage(() => parseVmArgs(["--timeout", "soon"]), /--timeout needs a whole number/);
  throwsUsage(() => parseVmArgs(["--mem", "12"]), /--mem needs a whole number >= 256/);
  throwsUsage(() => parseVmArgs(["--scratch", "btrfs"]), /tmpfs or ext4/);
  throwsUsage(() => parseVmArgs(["--scratch", "ext4", "--scratch-size", "1G"]), /ext4, MiB/);
  throwsUsage(() => parseVmArgs(["--scratch-size", "lots"]), /tmpfs is N/);
  throwsUsage(() => parseVmArgs(["--env", "1X=y"]), /NAME=VALUE/);
  throwsUsage(() => parseVmArgs(["--share", "rel/dir"]), /absolute/);
  throwsUsage(() => parseVmArgs(["--share", "/a b"]), /blanks/);
  throwsUsage(() => parseVmArgs(["--share", "/x,y"]), /commas/);
  throwsUsage(() => parseVmArgs(["--share", "/tmp/out"]), /hidden by the guest's own \/tmp/);
  throwsUsage(() => parseVmArgs(["--share", "/proc"]), /hidden/);
  throwsUsage(() => parseVmArgs(["--share", "/"]), /hidden/);
  throwsUsage(() => parseVmArgs(["--cwd", "x"]), /absolute/);
  throwsUsage(() => parseVmArgs(["--cwd", "/tmp/checkout"]), /under \/tmp, which the guest has of its own/);
  throwsUsage(() => parseVmArgs(["--share", "/var/lib/containerd/x"]), /hidden by the guest's own \/var\/lib\/containerd/);
  assert.is(hiddenInGuest("/tmpfoo"), null);
  assert.is(hiddenInGuest("/run/x/../../work"), null, "normalised first");
  assert.is(hiddenInGuest("/var/tmp"), "/var/tmp");
  assert.is(parseVmArgs(["--cwd", "/work/x", "true"]).cwd, "/work/x");
  assert.equal(parseVmArgs(["--share", "/procedures", "x"]).shares, ["/procedures"], "only the directory itself, not a prefix");
});

// --- kernel and QEMU ---

test("kernelCmdline: pure v2 always; systemd's own switches only in systemd mode", () => {
  const plain = kernelCmdline("plain").split(" ");
  for (const w of ["console=ttyS0", "panic=-1", "cgroup_no_v1=all", "no_timer_check"]) assert.ok(plain.includes(w), w);
  assert.not.ok(plain.some((w) => w.startsWith("systemd.")));
  const sd = kernelCmdline("systemd", ["quiet"]).split(" ");
  for (const w of ["cgroup_no_v1=all", "systemd.unified_cgroup_hierarchy=1", "systemd.unit=multi-user.target"]) assert.ok(sd.includes(w), w);
  assert.is(sd[sd.length - 1], "quiet", "--append last, so it can override");
});

const paths = { vmlinuz: "/k/vmlinuz", initrd: "/c/initrd.gz", console: "/r/console.log", ctl: "/r/ctl" };

function optionValue(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

test("qemuArgs: TCG, no default devices, host / read-only with multidevs=remap, the ctl share, console to a file", () => {
  const a = qemuArgs(parseVmArgs(["true"]), paths);
  for (const f of ["-nodefaults", "-no-user-config", "-no-reboot"]) assert.ok(a.includes(f), f);
  assert.equal(optionValue(a, "-accel"), ["tcg,thread=single"]);
  assert.equal(optionValue(a, "-m"), ["3072"]);
  assert.equal(optionValue(a, "-serial"), ["file:/r/console.log"]);
  assert.equal(optionValue(a, "-append"), [kernelCmdline("plain")]);
  assert.equal(optionValue(a, "-fsdev"), [
    "local,id=fshost,path=/,security_model=none,readonly=on,multidevs=remap",
    "local,id=fsctl,path=/r/ctl,security_model=none",
  ]);
  assert.equal(optionValue(a, "-device"), ["virtio-9p-pci,fsdev=fshost,mount_tag=host", "virtio-9p-pci,fsdev=fsctl,mount_tag=ctl"]);
  assert.equal(optionValue(a, "-drive"), [], "no disk for a tmpfs scratch");
});

test("qemuArgs: shares get share0.. tags; ext4 scratch is a virtio disk; commas in paths are doubled", () => {
  const o = parseVmArgs(["--systemd", "--scratch", "ext4", "--share", "/srv/a", "true"]);
  const a = qemuArgs(o, { ...paths, ctl: "/r,1/ctl", scratchImage: "/r,1/scratch.img" });
  assert.ok(optionValue(a, "-fsdev").includes("local,id=fsctl,path=/r,,1/ctl,security_model=none"));
  assert.ok(optionValue(a, "-fsdev").includes("local,id=fsshare0,path=/srv/a,security_model=none,multidevs=remap"));
  assert.ok(optionValue(a, "-device").includes("virtio-9p-pci,fsdev=fsshare0,mount_tag=share0"));
  assert.equal(optionValue(a, "-drive"), ["file=/r,,1/scratch.img,format=raw,if=virtio,cache=unsafe,discard=unmap"]);
  assert.equal(optionValue(a, "-append"), [kernelCmdline("systemd")]);
  assert.throws(() => qemuArgs(o, paths), /image path/);
  assert.is(qemuValue("a,b,,c"), "a,,b,,,,c");
});

// --- files for the guest ---

function sh(script: string): string {
  const f = join(tmp, `s${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, script);
  const r = spawnSync("/bin/sh", [f], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

test("shq and commandScript: argv survives the shell word for word; one word runs through sh -c", () => {
  const words = ["a b", "it's", "$HOME", "`x`", "\\n", "", "tab\there", "new\nline", "*"];
  assert.is(sh(commandScript(["printf", "[%s]", ...words], [])), words.map((w) => `[${w}]`).join(""));
  assert.is(sh(commandScript(["echo $((1+2)) | tr 3 4"], [])), "4\n");
  assert.is(sh(commandScript(["printf %s \"$A/$B\""], ["A=x y", "B=it's=$1"])), "x y/it's=$1");
  assert.is(shq("plain/path-1.2"), "plain/path-1.2");
  assert.throws(() => commandScript([], []), /no command/);
});

test("guestEnvFile: sourced by sh, every value exact; shares as tag:path; masks blank-separated", () => {
  const env = guestEnvFile({
    mode: "systemd", kernelDir: "/work/build/vm/kernel/linux-image-x", cwd: "/work/it's here", scratch: "tmpfs", scratchSize: "60%",
    shares: ["/srv/a", "/srv/b"], masks: ["a.service", "b@ttyS0.service"], keepUnits: false, machineId: "0123abcd",
  });
  const out = sh(`${env}\nfor v in "$VM_MODE" "$VM_KDIR" "$VM_CWD" "$VM_SCRATCH" "$VM_SCRATCH_SIZE" "$VM_SHARES" "$VM_MASKS" "$VM_KEEP_UNITS" "$VM_MACHINE_ID"; do echo "$v"; done`);
  assert.equal(out.split("\n").slice(0, -1), [
    "systemd", "/work/build/vm/kernel/linux-image-x", "/work/it's here", "tmpfs", "60%", "share0:/srv/a share1:/srv/b",
    "a.service b@ttyS0.service", "0", "0123abcd",
  ]);
});

test("effectiveMasks: defaults minus --unmask plus --mask, no repeats, unit names only", () => {
  const m = effectiveMasks(["extra.service", "getty.target"], ["systemd-resolved.service"]);
  assert.ok(m.includes("extra.service"));
  assert.not.ok(m.includes("systemd-resolved.service"));
  assert.is(m.filter((u) => u === "getty.target").length, 1);
  assert.is(m.length, DEFAULT_MASKS.length);
  throwsUsage(() => effectiveMasks(["x; rm -rf /"], []), /not a unit name/);
});

const GUEST_DIR = join(__dirname, "..", "..", "vm", "guest");
const NO_BUSYBOX = BUSYBOX ? null : "no busybox on this host (apt-get install busybox-static)";

testIf(test, NO_BUSYBOX, "the stage-1 init parses with busybox sh", () => {
  const r = spawnSync(BUSYBOX!, ["sh", "-n", join(GUEST_DIR, "init.sh")], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  assert.match(readFileSync(join(GUEST_DIR, "init.sh"), "utf8"), /^#!\/bin\/busybox sh\n/);
});

test("the runner parses with bash", () => {
  const r = spawnSync("bash", ["-n", join(GUEST_DIR, "runner.sh")], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
});

// --- kernel, modules, apt ---

test("modulesFromShowDepends: insmod lines in order, builtins skipped, each module once; base names", () => {
  const ninep = "insmod /k/lib/modules/v/kernel/fs/netfs/netfs.ko.xz \ninsmod /k/lib/modules/v/kernel/net/9p/9pnet.ko.xz \ninsmod /k/lib/modules/v/kernel/fs/9p/9p.ko.xz \n";
  const virtio = "builtin virtio_pci\n";
  const net = "insmod /k/lib/modules/v/kernel/fs/netfs/netfs.ko.xz \ninsmod /k/lib/modules/v/kernel/net/9p/9pnet.ko.xz \ninsmod /k/lib/modules/v/kernel/net/9p/9pnet_virtio.ko.xz \n";
  const mods = modulesFromShowDepends([virtio, net, ninep]);
  assert.equal(mods.map(moduleBaseName), ["netfs.ko", "9pnet.ko", "9pnet_virtio.ko", "9p.ko"]);
  assert.is(moduleBaseName("/x/crc16.ko.zst"), "crc16.ko");
  assert.is(moduleBaseName("/x/plain.ko"), "plain.ko");
  assert.equal(initrdModules("tmpfs"), ["virtio_pci", "9pnet_virtio", "9p", "overlay"]);
  assert.equal(initrdModules("ext4").slice(-2), ["virtio_blk", "ext4"]);
});

test("kernelVersionFromBoot: the vmlinuz file names the version", () => {
  assert.is(kernelVersionFromBoot(["System.map-6.12.95+deb12-amd64", "config-6.12.95+deb12-amd64", "vmlinuz-6.12.95+deb12-amd64"]), "6.12.95+deb12-amd64");
  assert.is(kernelVersionFromBoot(["config-1"]), null);
});

test("pickArchiveUri: the host's own archive for '<codename> main'", () => {
  const targets = [
    "http://mirror.example/debian-security/ bookworm-security main",
    "http://mirror.example/debian/ bookworm-updates main",
    "http://mirror.example/debian/ bookworm contrib",
    "http://mirror.example/debian/ bookworm main",
  ].join("\n");
  assert.is(pickArchiveUri(targets, "bookworm"), "http://mirror.example/debian/");
  assert.is(pickArchiveUri(targets, "trixie"), null);
});

test("kernelPackageFromShow: the versioned image of the newest linux-image-amd64", () => {
  const show = [
    "Package: linux-image-amd64\nVersion: 6.12.38-1~bpo12+1\nDepends: linux-image-6.12.38+deb12-amd64 (= 6.12.38-1~bpo12+1)\n",
    "Package: linux-image-amd64\nVersion: 6.12.95-1~bpo12+1\nDepends: linux-image-6.12.95+deb12-amd64 (= 6.12.95-1~bpo12+1)\nDescription: x\n",
    "Package: linux-image-amd64\nVersion: 6.1.192-3\nDepends: linux-image-6.1.0-57-amd64 (= 6.1.192-3)\n",
  ].join("\n");
  assert.is(kernelPackageFromShow(show), "linux-image-6.12.95+deb12-amd64");
  assert.is(kernelPackageFromShow("Package: x\nVersion: 1\nDepends: libc6\n"), null);
  assert.ok(compareDebVersions("6.12.95-1~bpo12+1", "6.12.38-1~bpo12+1") > 0);
  assert.ok(compareDebVersions("6.12.9", "6.12.10") < 0);
  assert.ok(compareDebVersions("1.0~rc1", "1.0") < 0);
  assert.is(compareDebVersions("2.0", "2.0"), 0);
});

test("privateAptOptions: lists, caches and sources in the lane's own dir", () => {
  const o = privateAptOptions("/b/vm/apt");
  const vals = o.filter((_, i) => i % 2 === 1);
  assert.ok(o.filter((_, i) => i % 2 === 0).every((f) => f === "-o"));
  for (const k of ["Dir::Etc::SourceList=/b/vm/apt/sources.list", "Dir::Etc::SourceParts=/b/vm/apt/sources.list.d", "Dir::State::Lists=/b/vm/apt/lists", "Dir::Cache=/b/vm/apt/cache"]) {
    assert.ok(vals.includes(k), k);
  }
});

test("hostPackages: qemu, busybox-static, kmod; e2fsprogs for ext4; the host's systemd and dbus for --systemd", () => {
  const names = (m: "plain" | "systemd", s: "tmpfs" | "ext4") => hostPackages(m, s).map((p) => p.pkg);
  assert.equal(names("plain", "tmpfs"), ["qemu-system-x86", "busybox-static", "kmod"]);
  assert.equal(names("systemd", "ext4"), ["qemu-system-x86", "busybox-static", "kmod", "e2fsprogs", "systemd", "dbus"]);
});

// --- the initramfs archive ---

const CPIO_ENTRIES = [
  ...parentDirs(["bin/busybox", "modules/9p.ko"]).map((d) => ({ path: d, mode: S_IFDIR | 0o755 })),
  { path: "bin/busybox", mode: S_IFREG | 0o755, data: Buffer.from("#!/bin/sh\necho hi\n") },
  { path: "modules/9p.ko", mode: S_IFREG | 0o644, data: Buffer.from("abc") },
  { path: "bin/sh", mode: S_IFLNK | 0o777, target: "busybox" },
  { path: "dev", mode: S_IFDIR | 0o755 },
  { path: "dev/console", mode: S_IFCHR | 0o600, rdevMajor: 5, rdevMinor: 1 },
];

test("cpioNewc: newc headers (070701), 4-byte alignment, owner root, the device node's numbers, the trailer", () => {
  const buf = cpioNewc(CPIO_ENTRIES);
  assert.is(buf.length % 4, 0);
  assert.is(buf.subarray(0, 6).toString(), "070701");
  const trailer = buf.indexOf("TRAILER!!!");
  assert.ok(trailer > 0 && buf.length - trailer < 16, "ends with the trailer");
  // the console header: c_mode 020600, c_uid 0, c_gid 0, c_rdevmajor 5, c_rdevminor 1
  const at = buf.indexOf("dev/console\0") - 110;
  const field = (i: number) => parseInt(buf.subarray(at + 6 + i * 8, at + 14 + i * 8).toString(), 16);
  assert.equal([field(1), field(2), field(3), field(9), field(10)], [S_IFCHR | 0o600, 0, 0, 5, 1]);
});

testIf(test, NO_BUSYBOX, "cpioNewc: busybox cpio lists and extracts the archive (files, symlink)", () => {
  const f = join(tmp, "i.cpio");
  writeFileSync(f, cpioNewc(CPIO_ENTRIES));
  const list = spawnSync(BUSYBOX!, ["cpio", "-t", "-F", f], { encoding: "utf8" });
  assert.equal(list.stdout.split("\n").filter(Boolean), ["bin", "modules", "bin/busybox", "modules/9p.ko", "bin/sh", "dev", "dev/console"]);
  const out = join(tmp, "x");
  const x = spawnSync("sh", ["-c", `mkdir -p ${out} && cd ${out} && ${BUSYBOX} cpio -i -d -F ${f} bin/busybox modules/9p.ko bin/sh`], { encoding: "utf8" });
  assert.is(x.status, 0, x.stderr);
  assert.is(readFileSync(join(out, "bin/busybox"), "utf8"), "#!/bin/sh\necho hi\n");
  assert.is(readFileSync(join(out, "modules/9p.ko"), "utf8"), "abc");
  assert.is(readFileSync(join(out, "bin/sh"), "utf8"), "#!/bin/sh\necho hi\n", "the symlink points at busybox");
});

test("parentDirs: parents before children, each once", () => {
  assert.equal(parentDirs(["a/b/c", "a/d", "e"]), ["a", "a/b"]);
});

// --- the end of a run ---

test("decideOutcome: the command's status when rc was written, whatever else happened", () => {
  assert.equal(decideOutcome({ rcText: "0\n", timedOut: false, qemuExit: null }, 60), { status: 0, problem: null });
  assert.equal(decideOutcome({ rcText: "3\n", timedOut: true, qemuExit: { code: 0, signal: null } }, 60), { status: 3, problem: null });
  const bad = decideOutcome({ rcText: "x", timedOut: false, qemuExit: null }, 60);
  assert.is(bad.status, 125);
  assert.match(bad.problem!, /bad exit status/);
});

test("decideOutcome: 124 on timeout, 125 when the VM stopped first (init's own error, QEMU's status or signal)", () => {
  assert.equal(decideOutcome({ rcText: null, timedOut: true, qemuExit: null }, 60), { status: 124, problem: "timeout: the command did not finish within 60s" });
  const init = decideOutcome({ rcText: null, timedOut: false, qemuExit: { code: 0, signal: null }, initError: "cannot mount the host's root\n" }, 60);
  assert.equal(init, { status: 125, problem: "the guest's stage-1 init failed: cannot mount the host's root" });
  assert.match(decideOutcome({ rcText: null, timedOut: false, qemuExit: { code: 1, signal: null } }, 60).problem!, /QEMU exit status 1/);
  assert.match(decideOutcome({ rcText: null, timedOut: false, qemuExit: { code: null, signal: "SIGKILL" } }, 60).problem!, /killed by SIGKILL/);
  assert.is(decideOutcome({ rcText: null, timedOut: false, qemuExit: { code: 0, signal: null } }, 60).status, 125);
});

test("closingLine: the last 'N passed, N failed, N skipped' line; laneCommand picks the suite", () => {
  assert.equal(closingLine("x\n3 passed, 1 failed, 0 skipped\nmore\n140 passed, 4 failed, 2 skipped\n"), { passed: 140, failed: 4, skipped: 2 });
  assert.is(closingLine("Total: 3\n"), null);
  assert.is(closingLine("a 3 passed, 1 failed, 0 skipped"), null, "alone on its line");
  assert.equal(laneCommand("plain"), ["node", "scripts/test.mjs", "integration"]);
  assert.equal(laneCommand("systemd", "^guest"), ["node", "scripts/test.mjs", "systemd", "^guest"]);
});

test.run();
