// The shape of `probe report` output, so tests read it with types rather than
// guessing keys. Kept next to probe.c: a key added there is added here too
// (test/unit/probe.test.ts checks that both lists agree).

export type ErrnoName = string; // "EPERM", "ENOENT", ... or "E<n>" for unnamed ones

export interface ProbeMount {
  id: number;
  parent: number;
  /** "major:minor" of the filesystem. */
  dev: string;
  /** Path inside the filesystem that is mounted (not "/" for bind mounts of subdirs). */
  root: string;
  mount_point: string;
  /** Per-mount options, e.g. ["ro", "nosuid", "relatime"]. */
  options: string[];
  /** Optional fields: [] for private, else e.g. ["shared:5"], ["master:3"], ["unbindable"]. */
  propagation: string[];
  fstype: string;
  source: string;
  /** Per-superblock options, e.g. ["rw", "size=65536k", "mode=755"]. */
  super_options: string[];
}

export interface ProbeRlimit {
  /** -1 is RLIM_INFINITY. */
  soft: number;
  hard: number;
}

export type ProbeFile =
  | { error: ErrnoName }
  | {
      type: "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket" | "unknown";
      mode: number; // permission bits incl. setuid/setgid/sticky
      mode_octal: string;
      uid: number;
      gid: number;
      size: number;
      /** rdev of device nodes (0 otherwise). */
      major: number;
      minor: number;
      /** st_dev: which filesystem holds the path. */
      dev_major: number;
      dev_minor: number;
      ino: number;
      /** Only for symlinks (lstat is used, links are not followed). */
      target?: string | null;
    };

export type NamespaceKind =
  | "cgroup"
  | "ipc"
  | "mnt"
  | "net"
  | "pid"
  | "pid_for_children"
  | "time"
  | "time_for_children"
  | "user"
  | "uts";

export interface ProbeReport {
  hostname: string | null;
  domainname: string | null;
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  uid: number | null;
  euid: number | null;
  suid: number | null;
  gid: number | null;
  egid: number | null;
  sgid: number | null;
  groups: number[];
  /** Hex strings exactly as in /proc/self/status, e.g. "000001ffffffffff". */
  capabilities: Record<"CapInh" | "CapPrm" | "CapEff" | "CapBnd" | "CapAmb", string | null>;
  umask: number | null;
  umask_octal: string | null;
  /** Seccomp mode: 0 disabled, 1 strict, 2 filter. */
  seccomp: number | null;
  seccomp_filters: number | null;
  /** NSpid from status: pid in each pid namespace, outermost first. */
  nspid: number[] | null;
  /** Keys are RLIMIT_AS ... RLIMIT_STACK (all 16). */
  rlimits: Record<string, ProbeRlimit | null>;
  cwd: string | null;
  env: string[];
  argv: string[];
  exe: string | null;
  mounts: ProbeMount[] | null;
  /** readlink of /proc/self/ns/<kind>, e.g. "ipc:[4026531839]"; null if the kernel lacks it. */
  namespaces: Record<NamespaceKind, string | null>;
  no_new_privs: number;
  dumpable: number;
  securebits: number;
  /** KEYCTL_DESCRIBE of the session keyring ("keyring;uid;gid;perm;name"), null when unavailable */
  session_keyring: string | null;
  oom_score_adj: number | null;
  /** Open fds (the one used to list them excluded), sorted. */
  fds: { fd: number; target: string | null; cloexec: boolean | null }[] | null;
  /** Lines of /proc/self/cgroup. */
  cgroup: string[] | null;
  /** [[inside, outside, count], ...] */
  uid_map: [number, number, number][] | null;
  gid_map: [number, number, number][] | null;
  setgroups: string | null;
  /** /proc/self/attr/current (AppArmor/SELinux label), null when unreadable. */
  lsm_label: string | null;
  personality: number;
  scheduler: {
    policy_raw: number;
    priority: number | null;
    nice: number | null;
    /** "SCHED_OTHER", "SCHED_FIFO", ... (a number if unknown). */
    policy: string | number | null;
    /** "SCHED_FLAG_RESET_ON_FORK", ... */
    flags: string[];
    runtime: number | null;
    deadline: number | null;
    period: number | null;
  };
  /** class is "IOPRIO_CLASS_NONE" | "IOPRIO_CLASS_RT" | "IOPRIO_CLASS_BE" | "IOPRIO_CLASS_IDLE". */
  ioprio: { class: string | number; priority: number; raw: number } | null;
  cpu_affinity: number[] | null;
  tty: {
    stdin: boolean;
    stdout: boolean;
    stderr: boolean;
    winsize: { rows: number; cols: number } | null;
    /** Whether the probe's process group is the terminal's foreground group. */
    foreground: boolean | null;
  };
  /** From PROBE_SYSCTLS="kernel.domainname,net.ipv4.ip_forward". */
  sysctls: Record<string, { value: string } | { error: ErrnoName }>;
  /** From PROBE_FILES="/dev/null,/etc/x" (lstat). */
  files: Record<string, ProbeFile>;
  /** From PROBE_WRITABLE="/a,/b": dir -> create+remove a file in it; file -> open for append; missing -> create+remove. */
  writable: Record<string, { ok: boolean; error: ErrnoName | null }>;
  /** SigBlk/SigIgn/SigCgt/SigPnd/ShdPnd from /proc/self/status (hex). */
  signals: Record<"SigBlk" | "SigIgn" | "SigCgt" | "SigPnd" | "ShdPnd", string | null>;
  /** Controlling terminal from /proc/self/stat (tty_nr 0: none). */
  ctty: { tty_nr: number; tty_major: number; tty_minor: number; tpgid_is_pgrp: boolean; has_tty: boolean } | null;
  /** Interfaces of the netns (/proc/net/dev) with SIOCGIFFLAGS names ("UP", "LOOPBACK", ...) or the ioctl's errno. */
  net: { name: string; flags: string[] | ErrnoName; mtu: number | null }[] | null;
  /** Every entry of /dev and one level below, lstat'd, keyed by path. */
  dev: Record<string, ProbeStat & { target?: string | null }>;
  /** fstat of fds 0-2 and their access mode. */
  stdio: Record<"stdin" | "stdout" | "stderr", (ProbeStat & { access: "r" | "w" | "rw" | null }) | { error: ErrnoName }>;
  /** Lines of /proc/keys (the keys this process may view). */
  keys: string[] | null;
  /** From PROBE_READ="/a,/b": each file's content without the trailing newline. */
  read: Record<string, { value: string } | { error: ErrnoName }>;
  /** From PROBE_LIST="/dir,...": sorted entry names, or the errno of opendir. */
  list: Record<string, string[] | ErrnoName>;
}

export interface ProbeStat {
  type: "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket" | "unknown";
  mode: number;
  mode_octal: string;
  uid: number;
  gid: number;
  major: number;
  minor: number;
}

/** One line `probe hook-record` appends: what a hook was given. */
export interface HookRecord {
  name: string;
  /** "primary" or "fallback": which of the output files could be opened. */
  file: string;
  argv: string[];
  env: string[];
  cwd: string | null;
  stdin: string;
  namespaces: Record<NamespaceKind, string | null>;
  uid: number;
  gid: number;
}

/** What `probe console-recv` prints: the --console-socket message and the terminal's output. */
export interface ConsoleRecord {
  error?: string;
  name?: string | null;
  fds?: number;
  fd?: ProbeStat | null;
  output?: string;
}

export const PROBE_REPORT_KEYS: readonly (keyof ProbeReport)[] = [
  "hostname",
  "domainname",
  "pid",
  "ppid",
  "pgid",
  "sid",
  "uid",
  "euid",
  "suid",
  "gid",
  "egid",
  "sgid",
  "groups",
  "capabilities",
  "umask",
  "umask_octal",
  "seccomp",
  "seccomp_filters",
  "nspid",
  "rlimits",
  "cwd",
  "env",
  "argv",
  "exe",
  "mounts",
  "namespaces",
  "no_new_privs",
  "dumpable",
  "securebits",
  "session_keyring",
  "oom_score_adj",
  "fds",
  "cgroup",
  "uid_map",
  "gid_map",
  "setgroups",
  "lsm_label",
  "personality",
  "scheduler",
  "ioprio",
  "cpu_affinity",
  "tty",
  "sysctls",
  "files",
  "writable",
  "signals",
  "ctty",
  "net",
  "dev",
  "stdio",
  "keys",
  "read",
  "list",
];

/** Env for `probe report` asking it to also look at sysctls, files and writability. */
export function probeReportEnv(opts: {
  sysctls?: string[];
  files?: string[];
  writable?: string[];
  read?: string[];
  list?: string[];
}): string[] {
  const env: string[] = [];
  if (opts.read?.length) env.push(`PROBE_READ=${opts.read.join(",")}`);
  if (opts.list?.length) env.push(`PROBE_LIST=${opts.list.join(",")}`);
  if (opts.sysctls?.length) env.push(`PROBE_SYSCTLS=${opts.sysctls.join(",")}`);
  if (opts.files?.length) env.push(`PROBE_FILES=${opts.files.join(",")}`);
  if (opts.writable?.length) env.push(`PROBE_WRITABLE=${opts.writable.join(",")}`);
  return env;
}

/**
 * Parses the report out of a container's stdout. The report is the first line
 * that starts with "{" so that output before it (a runtime's warnings on a
 * shared terminal) does not break tests.
 */
export function parseProbeReport(stdout: string): ProbeReport {
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith("{"));
  if (!line) throw new Error(`no probe report in output: ${JSON.stringify(stdout.slice(0, 200))}`);
  return JSON.parse(line) as ProbeReport;
}

/** A capability set hex string as a bigint, for bit tests (1n << BigInt(capNumber)). */
export function capBits(hex: string | null): bigint {
  return hex === null ? 0n : BigInt(`0x${hex}`);
}
