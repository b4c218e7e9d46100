// The config corpus (pure: no I/O; paths of the host come in through CorpusEnv).
//
// - single: the default config (`ocirt spec`, which is `runc spec`'s document) plus one
//   field of config.md / config-linux.md set, for every field and several values each;
// - pairs: two singles of different fields together;
// - engine: the engines' configs in test/fixtures/configs/good, made runnable here
//   (rootfs, process, host paths replaced), and a Kubernetes-sized one;
// - random: configs drawn from src/spec/schema.json with a seeded generator (random.ts).
//
// Every config runs `/bin/probe report` and names the files the probe reads; the
// cgroup path (when a config sets one) carries "{ID}", replaced per container.

import { defaultSpec } from "../../src/spec/default";
import { RLIMIT_TYPES, type Mount, type OciConfig } from "../../src/spec/types";

export interface CorpusEnv {
  /** The (private) probe rootfs. */
  rootfs: string;
  /** A host directory a config may bind-mount (holds file.txt and dir/). */
  scratch: string;
  /** major:minor of a real block device, for blockIO rules. */
  blockDevice: { major: number; minor: number };
}

export interface CorpusEntry {
  name: string;
  /** "single", "pair", "engine", "random". */
  kind: string;
  /** The config field(s) this entry sets, for grouping. */
  fields: string[];
  config: OciConfig;
  /** Needs the bundle to hold a "rootfs" symlink to the probe rootfs. */
  relativeRoot?: boolean;
}

export interface Variant {
  name: string;
  /** The config.md / config-linux.md field it sets. */
  field: string;
  apply(c: OciConfig, env: CorpusEnv): void;
}

/** Files and settings every probe run reports (the same for both runtimes). */
export const PROBE_FILES = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/sysrq-trigger", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/mnt", "/home", "/tmp"];
export const PROBE_WRITABLE = ["/", "/tmp", "/dev", "/dev/shm", "/proc/sys", "/sys", "/proc/sysrq-trigger", "/mnt", "/etc"];
export const PROBE_SYSCTLS = ["kernel.shmmax", "kernel.msgmax", "fs.mqueue.msg_max", "net.ipv4.ip_forward", "net.ipv4.ping_group_range", "net.core.somaxconn", "kernel.domainname"];
const V1 = "/sys/fs/cgroup";
export const PROBE_READ = [
  `${V1}/memory/memory.limit_in_bytes`,
  `${V1}/memory/memory.soft_limit_in_bytes`,
  `${V1}/memory/memory.memsw.limit_in_bytes`,
  `${V1}/memory/memory.swappiness`,
  `${V1}/memory/memory.oom_control`,
  `${V1}/memory/memory.kmem.tcp.limit_in_bytes`,
  `${V1}/cpu/cpu.shares`,
  `${V1}/cpu/cpu.cfs_quota_us`,
  `${V1}/cpu/cpu.cfs_period_us`,
  `${V1}/cpu/cpu.rt_runtime_us`,
  `${V1}/cpuset/cpuset.cpus`,
  `${V1}/cpuset/cpuset.mems`,
  `${V1}/pids/pids.max`,
  `${V1}/devices/devices.list`,
  `${V1}/freezer/freezer.state`,
  `${V1}/blkio/blkio.throttle.read_bps_device`,
  "/proc/self/setgroups",
  "/proc/self/loginuid",
];
export const PROBE_LIST = [V1, `${V1}/pids`, `${V1}/memory`, "/dev/pts", "/dev/mqueue"];

export function probeEnv(): string[] {
  return [
    `PROBE_FILES=${PROBE_FILES.join(",")}`,
    `PROBE_WRITABLE=${PROBE_WRITABLE.join(",")}`,
    `PROBE_SYSCTLS=${PROBE_SYSCTLS.join(",")}`,
    `PROBE_READ=${PROBE_READ.join(",")}`,
    `PROBE_LIST=${PROBE_LIST.join(",")}`,
  ];
}

/** The default config made to run the probe on env.rootfs. */
export function baseConfig(env: CorpusEnv): OciConfig {
  const c = defaultSpec({ rootless: false, cgroupNamespace: false });
  c.ociVersion = "1.0.2-dev";
  c.root = { path: env.rootfs, readonly: true };
  c.process!.terminal = false;
  c.process!.args = ["/bin/probe", "report"];
  return c;
}

/** Adds the probe's variables (after a variant, which may have replaced env). */
export function finish(c: OciConfig): OciConfig {
  if (c.process) c.process.env = [...(c.process.env ?? []), ...probeEnv()];
  return c;
}

const P = (c: OciConfig) => c.process!;
const L = (c: OciConfig) => (c.linux ??= {});
const R = (c: OciConfig) => (L(c).resources ??= {});
const addMount = (c: OciConfig, m: Mount) => (c.mounts ??= []).push(m);
const nsList = (c: OciConfig) => (L(c).namespaces ??= []);
const dropNs = (c: OciConfig, t: string) => (L(c).namespaces = nsList(c).filter((n) => n.type !== t));
const ALL_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
  "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
  "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
  "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
  "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];
export const DOCKER_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
  "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

function v(field: string, name: string, apply: (c: OciConfig, env: CorpusEnv) => void): Variant {
  return { field, name: `${field}=${name}`, apply };
}

const tmpfsAt = (options: string[]) => (c: OciConfig) => addMount(c, { destination: "/mnt", type: "tmpfs", source: "tmpfs", options });
const bindAt = (options: string[], dest = "/mnt", src = "dir") => (c: OciConfig, e: CorpusEnv) =>
  addMount(c, { destination: dest, type: "bind", source: `${e.scratch}/${src}`, options });

const RLIMIT_VALUES: Record<string, [number, number]> = {
  RLIMIT_AS: [1 << 30, 1 << 30],
  RLIMIT_CORE: [0, 1 << 20],
  RLIMIT_CPU: [100, 200],
  RLIMIT_DATA: [1 << 30, 1 << 30],
  RLIMIT_FSIZE: [1 << 30, 1 << 30],
  RLIMIT_LOCKS: [100, 100],
  RLIMIT_MEMLOCK: [65536, 65536],
  RLIMIT_MSGQUEUE: [819200, 819200],
  RLIMIT_NICE: [10, 20],
  RLIMIT_NOFILE: [4096, 8192],
  RLIMIT_NPROC: [500, 1000],
  RLIMIT_RSS: [1 << 30, 1 << 30],
  RLIMIT_RTPRIO: [5, 10],
  RLIMIT_RTTIME: [1000000, 2000000],
  RLIMIT_SIGPENDING: [1000, 1000],
  RLIMIT_STACK: [8 << 20, 16 << 20],
};

/** One field each: every field of config.md and config-linux.md, several values. */
export function singleVariants(): Variant[] {
  const out: Variant[] = [];
  const add = (...vs: Variant[]) => out.push(...vs);

  // config.md: ociVersion, root, hostname, domainname, annotations
  for (const ver of ["1.0.0", "1.0.2", "1.1.0", "1.2.0", "1.3.0", "0.9.0", "2.0.0", "not-a-version"]) add(v("ociVersion", ver, (c) => { c.ociVersion = ver; }));
  add(
    v("root.readonly", "false", (c) => { c.root!.readonly = false; }),
    v("root.path", "relative", (c) => { c.root!.path = "rootfs"; }),
    v("root.path", "missing", (c) => { c.root!.path = "/nonexistent/ocidiff-rootfs"; }),
    v("root.path", "a-file", (c, e) => { c.root!.path = `${e.scratch}/file.txt`; }),
  );
  for (const [n, h] of [["empty", ""], ["dotted", "a.b.example"], ["63chars", "h".repeat(63)], ["65chars", "h".repeat(65)], ["unicode", "h\u00e9te"]] as const) add(v("hostname", n, (c) => { c.hostname = h; }));
  add(v("hostname", "without-uts-ns", (c) => { c.hostname = "x"; dropNs(c, "uts"); }));
  add(v("hostname", "absent", (c) => { delete c.hostname; }));
  for (const [n, d] of [["set", "example.org"], ["empty", ""], ["65chars", "d".repeat(65)]] as const) add(v("domainname", n, (c) => { c.domainname = d; }));
  add(v("domainname", "without-uts-ns", (c) => { c.domainname = "x"; dropNs(c, "uts"); }));
  add(
    v("annotations", "small", (c) => { c.annotations = { "org.example.a": "b" }; }),
    v("annotations", "large", (c) => { c.annotations = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`io.example/key-${i}`, "v".repeat(200)])); }),
    v("annotations", "empty-value", (c) => { c.annotations = { "org.example.empty": "" }; }),
  );

  // mounts (config.md "Mounts" and config-linux.md "Mount Propagation" / options)
  const tmpfsOpts = [
    [], ["size=1m"], ["mode=700"], ["mode=1777"], ["ro"], ["rw"], ["noexec", "nosuid", "nodev"], ["exec", "suid", "dev"],
    ["uid=1000", "gid=1000"], ["nr_inodes=100"], ["strictatime"], ["noatime"], ["nodiratime"], ["relatime"], ["norelatime"],
    ["nostrictatime"], ["atime"], ["diratime"], ["sync"], ["async"], ["dirsync"], ["mand"], ["nomand"], ["lazytime"],
    ["nolazytime"], ["silent"], ["loud"], ["nosymfollow"], ["symfollow"], ["rro"], ["rnoexec"], ["rnosuid"],
    ["private"], ["shared"], ["slave"], ["unbindable"], ["rprivate"], ["rshared"], ["rslave"], ["runbindable"],
    ["no-such-option"], ["size=1m", "ro", "noexec"], ["defaults"], ["remount"],
  ];
  for (const o of tmpfsOpts) add(v("mounts[tmpfs].options", JSON.stringify(o), tmpfsAt(o)));
  const bindOpts = [
    ["bind"], ["rbind"], ["bind", "ro"], ["rbind", "ro"], ["rbind", "rro"], ["bind", "nosuid", "noexec", "nodev"],
    ["rbind", "rprivate"], ["rbind", "rslave"], ["rbind", "rshared"], ["rbind", "private"], ["rbind", "runbindable"],
    ["bind", "rw"], ["rbind", "noatime"], ["bind", "idmap"], ["rbind", "nosymfollow"], ["bind", "remount", "ro"],
  ];
  for (const o of bindOpts) add(v("mounts[bind].options", JSON.stringify(o), bindAt(o)));
  add(
    v("mounts[bind]", "file-onto-file", bindAt(["bind", "ro"], "/etc/hosts", "file.txt")),
    v("mounts[bind]", "file-to-missing-dest", bindAt(["bind"], "/mnt/new-file", "file.txt")),
    v("mounts[bind]", "dir-to-missing-nested-dest", bindAt(["rbind"], "/mnt/a/b/c")),
    v("mounts[bind]", "no-type", (c, e) => addMount(c, { destination: "/mnt", source: `${e.scratch}/dir`, options: ["rbind"] })),
    v("mounts[bind]", "type-none", (c, e) => addMount(c, { destination: "/mnt", type: "none", source: `${e.scratch}/dir`, options: ["rbind"] })),
    v("mounts[bind]", "missing-source", (c, e) => addMount(c, { destination: "/mnt", type: "bind", source: `${e.scratch}/missing`, options: ["rbind"] })),
    v("mounts[bind]", "relative-destination", (c, e) => addMount(c, { destination: "mnt", type: "bind", source: `${e.scratch}/dir`, options: ["rbind"] })),
    v("mounts[bind]", "onto-proc-subdir", (c, e) => addMount(c, { destination: "/proc/scsi", type: "bind", source: `${e.scratch}/dir`, options: ["rbind"] })),
    v("mounts[bind]", "dir-onto-file", bindAt(["rbind"], "/etc/hostname")),
    v("mounts", "empty", (c) => { c.mounts = []; }),
    v("mounts", "no-dev", (c) => { c.mounts = c.mounts!.filter((m) => !m.destination.startsWith("/dev")); }),
    v("mounts", "no-sys", (c) => { c.mounts = c.mounts!.filter((m) => !m.destination.startsWith("/sys")); }),
    v("mounts", "no-proc", (c) => { c.mounts = c.mounts!.filter((m) => m.destination !== "/proc"); }),
    v("mounts", "cgroup-rw", (c) => { const m = c.mounts!.find((x) => x.type === "cgroup")!; m.options = m.options!.filter((o) => o !== "ro"); }),
    v("mounts[mqueue]", "at-mnt", (c) => addMount(c, { destination: "/mnt", type: "mqueue", source: "mqueue", options: ["nosuid"] })),
    v("mounts[sysfs]", "at-mnt", (c) => addMount(c, { destination: "/mnt", type: "sysfs", source: "sysfs", options: ["ro"] })),
    v("mounts[proc]", "second-at-mnt", (c) => addMount(c, { destination: "/mnt", type: "proc", source: "proc" })),
    v("mounts[devpts]", "at-mnt", (c) => addMount(c, { destination: "/mnt", type: "devpts", source: "devpts", options: ["newinstance", "ptmxmode=0600"] })),
    v("mounts[cgroup2]", "at-mnt", (c) => addMount(c, { destination: "/mnt", type: "cgroup2", source: "cgroup2" })),
    v("mounts[tmpfs]", "tmpcopyup-home", (c) => addMount(c, { destination: "/home", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup"] })),
    v("mounts[tmpfs]", "over-dev-shm-bind", (c, e) => { c.mounts = c.mounts!.filter((m) => m.destination !== "/dev/shm"); addMount(c, { destination: "/dev/shm", type: "bind", source: `${e.scratch}/dir`, options: ["rbind", "nosuid", "noexec", "nodev"] }); }),
    v("mounts[unknown-type]", "at-mnt", (c) => addMount(c, { destination: "/mnt", type: "ocidiff-nofs", source: "none" })),
  );

  // process (config.md "Process", "POSIX process", "Linux process", "User")
  add(
    v("process.consoleSize", "without-terminal", (c) => { P(c).consoleSize = { height: 20, width: 80 }; }),
    v("process.cwd", "/tmp", (c) => { P(c).cwd = "/tmp"; }),
    v("process.cwd", "/home/probeuser", (c) => { P(c).cwd = "/home/probeuser"; }),
    v("process.cwd", "missing", (c) => { P(c).cwd = "/ocidiff/missing"; }),
    v("process.cwd", "a-file", (c) => { P(c).cwd = "/etc/passwd"; }),
    v("process.cwd", "relative", (c) => { P(c).cwd = "tmp"; }),
    v("process.env", "empty", (c) => { P(c).env = []; }),
    v("process.env", "duplicate", (c) => { P(c).env!.push("DUP=1", "DUP=2"); }),
    v("process.env", "no-equals", (c) => { P(c).env!.push("NOEQUALS"); }),
    v("process.env", "empty-value", (c) => { P(c).env!.push("EMPTY="); }),
    v("process.env", "value-with-equals", (c) => { P(c).env!.push("A=b=c"); }),
    v("process.env", "unicode", (c) => { P(c).env!.push("U=\u00e9\u2603"); }),
    v("process.env", "1000-vars", (c) => { P(c).env!.push(...Array.from({ length: 1000 }, (_, i) => `VAR_${i}=${"x".repeat(50)}`)); }),
    v("process.env", "no-path", (c) => { P(c).env = P(c).env!.filter((e) => !e.startsWith("PATH=")); }),
    v("process.env", "home-set", (c) => { P(c).env!.push("HOME=/custom"); }),
    v("process.args", "path-lookup", (c) => { P(c).args = ["probe", "report"]; }),
    v("process.args", "missing-binary", (c) => { P(c).args = ["/bin/ocidiff-missing"]; }),
    v("process.args", "not-executable", (c) => { P(c).args = ["/etc/passwd"]; }),
    v("process.args", "a-directory", (c) => { P(c).args = ["/tmp"]; }),
    v("process.args", "empty", (c) => { P(c).args = []; }),
    v("process.args", "not-in-path", (c) => { P(c).args = ["ocidiff-missing"]; }),
    v("process.commandLine", "set", (c) => { (P(c) as unknown as Record<string, unknown>).commandLine = "probe report"; }),
    v("process.noNewPrivileges", "false", (c) => { P(c).noNewPrivileges = false; }),
    v("process.noNewPrivileges", "absent", (c) => { delete P(c).noNewPrivileges; }),
    v("process.apparmorProfile", "unconfined", (c) => { P(c).apparmorProfile = "unconfined"; }),
    v("process.apparmorProfile", "docker-default", (c) => { P(c).apparmorProfile = "docker-default"; }),
    v("process.selinuxLabel", "set", (c) => { P(c).selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"; }),
    v("process.scheduler", "batch-nice", (c) => { P(c).scheduler = { policy: "SCHED_BATCH", nice: 5 }; }),
    v("process.scheduler", "fifo", (c) => { P(c).scheduler = { policy: "SCHED_FIFO", priority: 10 }; }),
    v("process.ioPriority", "be-4", (c) => { P(c).ioPriority = { class: "IOPRIO_CLASS_BE", priority: 4 }; }),
    v("process.execCPUAffinity", "initial-0", (c) => { (P(c) as unknown as Record<string, unknown>).execCPUAffinity = { initial: "0", final: "0" }; }),
  );
  for (const adj of [-1000, -500, 0, 500, 1000, 1001]) add(v("process.oomScoreAdj", String(adj), (c) => { P(c).oomScoreAdj = adj; }));
  for (const [n, u] of [
    ["uid1000", { uid: 1000, gid: 1000 }],
    ["uid65534", { uid: 65534, gid: 65534 }],
    ["uid-unknown", { uid: 4242, gid: 4242 }],
    ["gid-only", { uid: 0, gid: 1000 }],
    ["additionalGids", { uid: 1000, gid: 1000, additionalGids: [10, 29] }],
    ["additionalGids-root", { uid: 0, gid: 0, additionalGids: [1, 2, 3] }],
    ["umask-0", { uid: 0, gid: 0, umask: 0 }],
    ["umask-077", { uid: 0, gid: 0, umask: 0o77 }],
    ["umask-777", { uid: 0, gid: 0, umask: 0o777 }],
    ["username", { uid: 0, gid: 0, username: "root" }],
  ] as const) add(v("process.user", n, (c) => { P(c).user = { ...u } as never; }));
  add(
    v("process.capabilities", "absent", (c) => { delete P(c).capabilities; }),
    v("process.capabilities", "all-empty", (c) => { P(c).capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] }; }),
    v("process.capabilities", "docker", (c) => { P(c).capabilities = { bounding: [...DOCKER_CAPS], effective: [...DOCKER_CAPS], permitted: [...DOCKER_CAPS] }; }),
    v("process.capabilities", "all", (c) => { P(c).capabilities = { bounding: [...ALL_CAPS], effective: [...ALL_CAPS], permitted: [...ALL_CAPS], inheritable: [...ALL_CAPS], ambient: [...ALL_CAPS] }; }),
    v("process.capabilities", "ambient", (c) => { const k = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]; P(c).capabilities = { bounding: k, effective: k, permitted: k, inheritable: k, ambient: k }; }),
    v("process.capabilities", "ambient-not-inheritable", (c) => { P(c).capabilities!.ambient = ["CAP_KILL"]; }),
    v("process.capabilities", "effective-not-permitted", (c) => { P(c).capabilities!.effective = ["CAP_SYS_ADMIN"]; }),
    v("process.capabilities", "unknown-name", (c) => { P(c).capabilities!.bounding = [...P(c).capabilities!.bounding!, "CAP_OCIDIFF"]; }),
    v("process.capabilities", "only-bounding", (c) => { P(c).capabilities = { bounding: ["CAP_KILL"] }; }),
    v("process.capabilities", "not-in-host-bounding", (c) => { P(c).capabilities!.bounding!.push("CAP_SYS_RESOURCE"); P(c).capabilities!.effective!.push("CAP_SYS_RESOURCE"); }),
  );
  for (const t of RLIMIT_TYPES) {
    const [soft, hard] = RLIMIT_VALUES[t]!;
    add(v("process.rlimits", t, (c) => { P(c).rlimits = [{ type: t, soft, hard }]; }));
  }
  add(
    v("process.rlimits", "empty", (c) => { P(c).rlimits = []; }),
    v("process.rlimits", "absent", (c) => { delete P(c).rlimits; }),
    v("process.rlimits", "soft-above-hard", (c) => { P(c).rlimits = [{ type: "RLIMIT_NOFILE", soft: 2048, hard: 1024 }]; }),
    v("process.rlimits", "unknown-type", (c) => { P(c).rlimits = [{ type: "RLIMIT_OCIDIFF" as never, soft: 1, hard: 1 }]; }),
    v("process.rlimits", "duplicate", (c) => { P(c).rlimits = [{ type: "RLIMIT_NOFILE", soft: 100, hard: 100 }, { type: "RLIMIT_NOFILE", soft: 200, hard: 200 }]; }),
    v("process.rlimits", "nofile-huge", (c) => { P(c).rlimits = [{ type: "RLIMIT_NOFILE", soft: 1 << 20, hard: 1 << 20 }]; }),
    v("process.rlimits", "unlimited", (c) => { P(c).rlimits = [{ type: "RLIMIT_CORE", soft: 18446744073709551615, hard: 18446744073709551615 }]; }),
  );

  // linux.namespaces, idmappings, timeOffsets
  for (const t of ["pid", "network", "ipc", "uts"]) add(v("linux.namespaces", `without-${t}`, (c) => dropNs(c, t)));
  add(
    v("linux.namespaces", "with-cgroup", (c) => { nsList(c).push({ type: "cgroup" }); }),
    v("linux.namespaces", "with-time", (c) => { nsList(c).push({ type: "time" }); }),
    v("linux.namespaces", "with-user", (c) => {
      nsList(c).push({ type: "user" });
      L(c).uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      L(c).gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }),
    v("linux.namespaces", "join-host-net-by-path", (c) => { dropNs(c, "network"); nsList(c).push({ type: "network", path: "/proc/1/ns/net" }); }),
    v("linux.namespaces", "join-host-uts-by-path", (c) => { dropNs(c, "uts"); nsList(c).push({ type: "uts", path: "/proc/1/ns/uts" }); delete c.hostname; }),
    v("linux.namespaces", "join-host-ipc-by-path", (c) => { dropNs(c, "ipc"); nsList(c).push({ type: "ipc", path: "/proc/1/ns/ipc" }); }),
    v("linux.namespaces", "path-missing", (c) => { dropNs(c, "ipc"); nsList(c).push({ type: "ipc", path: "/proc/ocidiff/ns/ipc" }); }),
    v("linux.namespaces", "path-wrong-type", (c) => { dropNs(c, "ipc"); nsList(c).push({ type: "ipc", path: "/proc/1/ns/uts" }); }),
    v("linux.namespaces", "duplicate", (c) => { nsList(c).push({ type: "pid" }); }),
    v("linux.namespaces", "unknown-type", (c) => { nsList(c).push({ type: "ocidiff" as never }); }),
    v("linux.uidMappings", "without-user-ns", (c) => { L(c).uidMappings = [{ containerID: 0, hostID: 100000, size: 1 }]; L(c).gidMappings = [{ containerID: 0, hostID: 100000, size: 1 }]; }),
    v("linux.timeOffsets", "with-time-ns", (c) => { nsList(c).push({ type: "time" }); (L(c) as unknown as Record<string, unknown>).timeOffsets = { monotonic: { secs: 3600, nanosecs: 0 } }; }),
  );

  // linux.devices
  const dev = (d: Record<string, unknown>) => (c: OciConfig) => { (L(c).devices ??= []).push(d as never); };
  add(
    v("linux.devices", "fuse", dev({ path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 })),
    v("linux.devices", "owned-1000", dev({ path: "/dev/ocidiff0", type: "c", major: 1, minor: 3, fileMode: 0o600, uid: 1000, gid: 1000 })),
    v("linux.devices", "no-mode", dev({ path: "/dev/ocidiff0", type: "c", major: 1, minor: 5 })),
    v("linux.devices", "block-loop0", dev({ path: "/dev/loop0", type: "b", major: 7, minor: 0, fileMode: 0o660 })),
    v("linux.devices", "fifo", dev({ path: "/dev/ocidiff-fifo", type: "p", fileMode: 0o644 })),
    v("linux.devices", "unbuffered-u", dev({ path: "/dev/ocidiff-u", type: "u", major: 1, minor: 3 })),
    v("linux.devices", "over-dev-null", dev({ path: "/dev/null", type: "c", major: 1, minor: 5, fileMode: 0o600 })),
    v("linux.devices", "nested-path", dev({ path: "/dev/sub/dir/null2", type: "c", major: 1, minor: 3 })),
    v("linux.devices", "outside-dev", dev({ path: "/mnt/null", type: "c", major: 1, minor: 3 })),
    v("linux.devices", "bad-type", dev({ path: "/dev/x", type: "z", major: 1, minor: 3 })),
  );

  // linux.cgroupsPath, linux.resources
  add(
    v("linux.cgroupsPath", "nested", (c) => { L(c).cgroupsPath = "/ocidiff/nested/{ID}"; }),
    v("linux.cgroupsPath", "relative", (c) => { L(c).cgroupsPath = "ocidiff-rel/{ID}"; }),
    v("linux.cgroupsPath", "systemd-shape", (c) => { L(c).cgroupsPath = "system.slice:ocidiff:{ID}"; }),
  );
  const res = (name: string, field: string, r: Record<string, unknown>) => add(v(`linux.resources.${field}`, name, (c) => { Object.assign(R(c), JSON.parse(JSON.stringify(r))); }));
  res("limit-64m", "memory", { memory: { limit: 64 << 20 } });
  res("reservation", "memory", { memory: { reservation: 32 << 20 } });
  res("swap", "memory", { memory: { limit: 64 << 20, swap: 128 << 20 } });
  res("swap-unlimited", "memory", { memory: { limit: 64 << 20, swap: -1 } });
  res("swap-below-limit", "memory", { memory: { limit: 128 << 20, swap: 64 << 20 } });
  res("kernel", "memory", { memory: { kernel: 64 << 20 } });
  res("kernelTCP", "memory", { memory: { kernelTCP: 16 << 20 } });
  res("swappiness", "memory", { memory: { swappiness: 10 } });
  res("swappiness-over-100", "memory", { memory: { swappiness: 200 } });
  res("disableOOMKiller", "memory", { memory: { disableOOMKiller: true } });
  res("useHierarchy", "memory", { memory: { useHierarchy: true } });
  res("limit-tiny", "memory", { memory: { limit: 4096 } });
  res("checkBeforeUpdate", "memory", { memory: { limit: 64 << 20, checkBeforeUpdate: true } });
  res("shares", "cpu", { cpu: { shares: 512 } });
  res("quota-period", "cpu", { cpu: { quota: 50000, period: 100000 } });
  res("quota-unlimited", "cpu", { cpu: { quota: -1 } });
  res("period-only", "cpu", { cpu: { period: 50000 } });
  res("realtime", "cpu", { cpu: { realtimeRuntime: 1000, realtimePeriod: 1000000 } });
  res("cpus-0", "cpu", { cpu: { cpus: "0" } });
  res("mems-0", "cpu", { cpu: { mems: "0" } });
  res("cpus-invalid", "cpu", { cpu: { cpus: "0-999" } });
  res("idle", "cpu", { cpu: { idle: 1 } });
  res("burst", "cpu", { cpu: { quota: 50000, period: 100000, burst: 10000 } });
  res("limit-100", "pids", { pids: { limit: 100 } });
  res("limit-0", "pids", { pids: { limit: 0 } });
  res("limit-unlimited", "pids", { pids: { limit: -1 } });
  res("weight", "blockIO", { blockIO: { weight: 500 } });
  res("hugepageLimits", "hugepageLimits", { hugepageLimits: [{ pageSize: "2MB", limit: 1 << 30 }] });
  res("network-classID", "network", { network: { classID: 1048577, priorities: [{ name: "lo", priority: 1 }] } });
  res("rdma", "rdma", { rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } } });
  res("unified", "unified", { unified: { "memory.max": "67108864" } });
  res("allow-all", "devices", { devices: [{ allow: true, access: "rwm" }] });
  res("deny-null", "devices", { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 5, access: "rwm" }] });
  res("allow-fuse", "devices", { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 10, minor: 229, access: "rw" }] });
  res("empty", "devices", { devices: [] });
  add(v("linux.resources.blockIO", "throttle", (c, e) => { R(c).blockIO = { throttleReadBpsDevice: [{ major: e.blockDevice.major, minor: e.blockDevice.minor, rate: 1 << 20 }] }; }));
  add(v("linux.resources.blockIO", "weightDevice", (c, e) => { R(c).blockIO = { weightDevice: [{ major: e.blockDevice.major, minor: e.blockDevice.minor, weight: 300 }] }; }));
  add(v("linux.intelRdt", "closID", (c) => { (L(c) as unknown as Record<string, unknown>).intelRdt = { closID: "ocidiff" }; }));

  // linux.sysctl
  for (const [k, val] of [
    ["kernel.shmmax", "1048576"], ["kernel.msgmax", "4096"], ["fs.mqueue.msg_max", "20"], ["net.ipv4.ip_forward", "1"],
    ["net.ipv4.ping_group_range", "0 0"], ["net.core.somaxconn", "128"], ["kernel.domainname", "sysctl.example"],
    ["kernel.hostname", "sysctlhost"], ["vm.swappiness", "10"], ["kernel.ocidiff_missing", "1"], ["kernel.shm_rmid_forced", "1"],
  ] as const) add(v("linux.sysctl", k, (c) => { L(c).sysctl = { [k]: val }; }));
  add(v("linux.sysctl", "net-without-netns", (c) => { dropNs(c, "network"); L(c).sysctl = { "net.ipv4.ip_forward": "0" }; }));

  // linux.seccomp
  const sc = (name: string, s: Record<string, unknown>) => add(v("linux.seccomp", name, (c) => { L(c).seccomp = JSON.parse(JSON.stringify(s)); }));
  sc("deny-mkdir-eperm", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }] });
  sc("deny-keyctl-errnoRet", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["keyctl"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }] });
  sc("deny-socket", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["socket"], action: "SCMP_ACT_ERRNO" }] });
  sc("log-personality", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["personality"], action: "SCMP_ACT_LOG" }] });
  sc("trace-ioprio", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["ioprio_get"], action: "SCMP_ACT_TRACE" }] });
  sc("defaultErrnoRet", { defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38, syscalls: [{ names: ["reboot"], action: "SCMP_ACT_ALLOW" }] });
  sc("unknown-syscall", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["ocidiff_nosuch", "mkdir"], action: "SCMP_ACT_ERRNO" }] });
  sc("arg-filter", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["personality"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 4294967295, op: "SCMP_CMP_EQ" }] }] });
  sc("flag-log", { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_LOG"], syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] });
  sc("flag-spec-allow", { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] });
  sc("arch-x86", { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] });
  sc("bad-action", { defaultAction: "SCMP_ACT_OCIDIFF" });
  sc("kill-default", { defaultAction: "SCMP_ACT_KILL" });
  sc("notify-no-listener", { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] });
  sc("empty-allow", { defaultAction: "SCMP_ACT_ALLOW" });

  // linux.rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, personality, memoryPolicy, netDevices
  for (const p of ["shared", "slave", "private", "rshared", "rslave", "rprivate", "unbindable", "runbindable", "bogus"]) add(v("linux.rootfsPropagation", p, (c) => { L(c).rootfsPropagation = p as never; }));
  for (const [n, paths] of [["empty", []], ["file", ["/etc/passwd"]], ["dir", ["/home"]], ["missing", ["/ocidiff-missing"]], ["relative", ["etc/hosts"]]] as const) add(v("linux.maskedPaths", n, (c) => { L(c).maskedPaths = [...paths]; }));
  for (const [n, paths] of [["empty", []], ["tmp", ["/tmp"]], ["etc", ["/etc"]], ["file", ["/etc/hosts"]], ["missing", ["/ocidiff-missing"]]] as const) add(v("linux.readonlyPaths", n, (c) => { L(c).readonlyPaths = [...paths]; }));
  add(
    v("linux.mountLabel", "set", (c) => { L(c).mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"; }),
    v("linux.personality", "LINUX32", (c) => { (L(c) as unknown as Record<string, unknown>).personality = { domain: "LINUX32" }; }),
    v("linux.personality", "LINUX", (c) => { (L(c) as unknown as Record<string, unknown>).personality = { domain: "LINUX" }; }),
    v("linux.memoryPolicy", "bind-0", (c) => { (L(c) as unknown as Record<string, unknown>).memoryPolicy = { mode: "MPOL_BIND", nodes: "0" }; }),
    v("linux.netDevices", "missing", (c) => { (L(c) as unknown as Record<string, unknown>).netDevices = { ocidiff0: { name: "eth9" } }; }),
  );
  return out;
}

/** Representative variants (one per field) that pair with each other. */
export const PAIR_BASIS = [
  "process.user=uid1000",
  "process.user=umask-077",
  "process.capabilities=docker",
  "process.noNewPrivileges=false",
  "process.rlimits=RLIMIT_NOFILE",
  "root.readonly=false",
  "linux.namespaces=without-pid",
  "linux.namespaces=without-network",
  "linux.namespaces=with-user",
  "linux.readonlyPaths=tmp",
  "linux.rootfsPropagation=rshared",
  "linux.seccomp=deny-mkdir-eperm",
  "linux.devices=fuse",
  "linux.resources.memory=limit-64m",
  "mounts[bind].options=[\"rbind\",\"ro\"]",
];

function entry(name: string, kind: string, fields: string[], apply: (c: OciConfig) => void, env: CorpusEnv): CorpusEntry {
  const c = baseConfig(env);
  apply(c);
  return { name, kind, fields, config: finish(c), relativeRoot: c.root?.path === "rootfs" };
}

export function singleEntries(env: CorpusEnv): CorpusEntry[] {
  return singleVariants().map((vr) => entry(vr.name, "single", [vr.field], (c) => vr.apply(c, env), env));
}

export function pairEntries(env: CorpusEnv): CorpusEntry[] {
  const all = new Map(singleVariants().map((vr) => [vr.name, vr]));
  const basis = PAIR_BASIS.map((n) => {
    const vr = all.get(n);
    if (!vr) throw new Error(`pair basis ${n} is not a variant`);
    return vr;
  });
  const out: CorpusEntry[] = [];
  for (let i = 0; i < basis.length; i++)
    for (let j = i + 1; j < basis.length; j++) {
      const a = basis[i]!, b = basis[j]!;
      if (a.field === b.field) continue;
      out.push(entry(`${a.name} + ${b.name}`, "pair", [a.field, b.field], (c) => { a.apply(c, env); b.apply(c, env); }, env));
    }
  return out;
}

// ---------------------------------------------------------------------------
// engine-shaped configs

/** Destinations engines bind files (not directories) onto. */
const FILE_DESTS = /(\/etc\/(hosts|hostname|resolv\.conf)|termination-log|\.sock)$/;

/**
 * An engine's config made runnable here, changing only what points at that engine's
 * host: rootfs, the program (the probe), host bind sources (scratch files/dirs),
 * namespace paths of sandboxes that do not exist (new namespaces instead), the cgroup
 * path (unique per container), hooks (hooks.ts covers them). Everything else stays.
 */
export function adaptEngineConfig(raw: OciConfig, env: CorpusEnv): OciConfig {
  const c = JSON.parse(JSON.stringify(raw)) as OciConfig;
  c.root = { ...(c.root ?? { path: "" }), path: env.rootfs };
  c.process ??= { cwd: "/", args: [] } as never;
  c.process!.args = ["/bin/probe", "report"];
  c.process!.terminal = false;
  delete c.hooks;
  for (const m of c.mounts ?? []) {
    const bind = m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");
    if (bind && m.source) m.source = FILE_DESTS.test(m.destination) ? `${env.scratch}/file.txt` : `${env.scratch}/dir`;
  }
  const l = c.linux;
  if (l) {
    for (const n of l.namespaces ?? []) delete n.path;
    if (l.cgroupsPath !== undefined) l.cgroupsPath = `/ocidiff-engine/{ID}`;
    // the real host devices of a privileged container, kept only where this host has them
    if (l.seccomp?.listenerPath) delete l.seccomp.listenerPath;
  }
  return c;
}

export function engineEntries(fixtures: Record<string, OciConfig>, env: CorpusEnv): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  for (const [name, raw] of Object.entries(fixtures)) {
    out.push({ name: `engine:${name}`, kind: "engine", fields: ["engine"], config: finish(adaptEngineConfig(raw, env)) });
  }
  // Kubernetes-sized: a CRI container with hundreds of env vars and large annotations
  const cri = fixtures["containerd-cri-container"];
  if (cri) {
    const c = adaptEngineConfig(cri, env);
    c.process!.env = [...(c.process!.env ?? []), ...Array.from({ length: 800 }, (_, i) => `SERVICE_${i}_PORT=tcp://10.0.${i % 250}.${i % 200}:${8000 + i}`)];
    c.annotations = { ...(c.annotations ?? {}), "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ spec: { big: "x".repeat(200_000) } }) };
    for (let i = 0; i < 300; i++) c.annotations[`io.kubernetes.example/label-${i}`] = `value-${i}`;
    out.push({ name: "engine:kubernetes-sized", kind: "engine", fields: ["engine"], config: finish(c) });
  }
  return out;
}

/** Replaces "{ID}" in the cgroup path (and nothing else) with the container's id. */
export function instantiate(c: OciConfig, id: string): OciConfig {
  const out = JSON.parse(JSON.stringify(c)) as OciConfig;
  if (out.linux?.cgroupsPath) out.linux.cgroupsPath = out.linux.cgroupsPath.split("{ID}").join(id);
  return out;
}
