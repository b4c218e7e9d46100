// The one description of ocirt's command line. The fast parser (parse.ts, on
// yargs-parser) and the help screens (help.ts, full yargs) are both driven by it,
// so a flag exists in exactly one place. Names and aliases follow runc's.

export type FlagType = "string" | "boolean" | "number" | "array";

export interface FlagSpec {
  name: string;
  alias?: string;
  type: FlagType;
  describe: string;
  default?: string | number | boolean;
  /** Accepted for compatibility with runc but without effect in ocirt. */
  ignored?: boolean;
  /** Accepted but left out of help screens (runc hides it too). */
  hidden?: boolean;
}

export interface CommandSpec {
  name: string;
  describe: string;
  usage: string; // positional part, e.g. "<container-id> [signal]"
  minArgs: number;
  maxArgs: number; // Infinity for commands that take a command line (exec, ps)
  flags: FlagSpec[];
  /** Flags end at the first positional: the rest is the process's own argv (exec, ps). */
  haltAtPositional?: boolean;
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "root", type: "string", default: "/run/ocirt", describe: "root directory for storage of container state (this should be located in tmpfs)" },
  { name: "log", type: "string", describe: "set the log file to write ocirt logs to (default is stderr)" },
  { name: "log-format", type: "string", default: "text", describe: "set the log format ('text' (default), or 'json')" },
  { name: "debug", type: "boolean", describe: "enable debug logging" },
  { name: "systemd-cgroup", type: "boolean", describe: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name"' },
  { name: "rootless", type: "string", default: "auto", describe: "ignore cgroup permission errors ('true', 'false', or 'auto')" },
  { name: "criu", type: "string", default: "criu", describe: "path to the criu binary used for checkpoint and restore" },
];

const bundle: FlagSpec = { name: "bundle", alias: "b", type: "string", describe: "path to the root of the bundle directory, defaults to the current directory" };
const consoleSocket: FlagSpec = { name: "console-socket", type: "string", describe: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" };
const pidFile: FlagSpec = { name: "pid-file", type: "string", describe: "specify the file to write the process id to" };
const pidfdSocket: FlagSpec = { name: "pidfd-socket", type: "string", describe: "path to an AF_UNIX socket which will receive a file descriptor referencing the init process" };
const noPivot: FlagSpec = { name: "no-pivot", type: "boolean", describe: "do not use pivot root to jail process inside rootfs; use this when the rootfs is on top of a ramdisk" };
const noNewKeyring: FlagSpec = { name: "no-new-keyring", type: "boolean", describe: "do not create a new session keyring for the container" };
const preserveFds: FlagSpec = { name: "preserve-fds", type: "number", default: 0, describe: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)" };
const detach: FlagSpec = { name: "detach", alias: "d", type: "boolean", describe: "detach from the container's process" };
const noSubreaper: FlagSpec = { name: "no-subreaper", type: "boolean", describe: "disable the use of the subreaper used to reap reparented processes" };
const format: FlagSpec = { name: "format", alias: "f", type: "string", default: "table", describe: "select one of: table or json" };
const criuCommon: FlagSpec[] = [
  { name: "image-path", type: "string", describe: "path for criu image files" },
  { name: "work-path", type: "string", describe: "path for saving work files and logs" },
  { name: "tcp-established", type: "boolean", describe: "allow open tcp connections" },
  { name: "ext-unix-sk", type: "boolean", describe: "allow external unix sockets" },
  { name: "shell-job", type: "boolean", describe: "allow shell jobs" },
  { name: "file-locks", type: "boolean", describe: "handle file locks, for safety" },
  { name: "manage-cgroups-mode", type: "string", describe: "cgroups mode: soft (default), ignore, full and strict" },
  { name: "empty-ns", type: "array", describe: "create a namespace, but don't restore its properties" },
  { name: "auto-dedup", type: "boolean", describe: "enable auto deduplication of memory images" },
  { name: "lazy-pages", type: "boolean", describe: "use userfaultfd to lazily restore memory pages" },
];
const id = "<container-id>";

export const COMMANDS: CommandSpec[] = [
  { name: "create", describe: "create a container", usage: id, minArgs: 1, maxArgs: 1, flags: [bundle, consoleSocket, pidfdSocket, pidFile, noPivot, noNewKeyring, preserveFds] },
  { name: "start", describe: "executes the user defined process in a created container", usage: id, minArgs: 1, maxArgs: 1, flags: [] },
  { name: "state", describe: "output the state of a container", usage: id, minArgs: 1, maxArgs: 1, flags: [] },
  { name: "kill", describe: "kill sends the specified signal (default: SIGTERM) to the container's init process", usage: `${id} [signal]`, minArgs: 1, maxArgs: 2,
    flags: [{ name: "all", alias: "a", type: "boolean", describe: "send the specified signal to all processes inside the container" }] },
  { name: "delete", describe: "delete any resources held by the container", usage: id, minArgs: 1, maxArgs: 1,
    flags: [{ name: "force", alias: "f", type: "boolean", describe: "forcibly deletes the container if it is still running (uses SIGKILL)" }] },
  { name: "run", describe: "create and run a container", usage: id, minArgs: 1, maxArgs: 1,
    flags: [bundle, consoleSocket, pidfdSocket, detach, { name: "keep", type: "boolean", describe: "do not delete the container after it exits" }, pidFile, noSubreaper, noPivot, noNewKeyring, preserveFds] },
  { name: "exec", describe: "execute new process inside the container", usage: `${id} <command> [command options]`, minArgs: 1, maxArgs: Infinity, haltAtPositional: true,
    flags: [consoleSocket, pidfdSocket,
      { name: "cwd", type: "string", describe: "current working directory in the container" },
      { name: "env", alias: "e", type: "array", describe: "set environment variables" },
      { name: "tty", alias: "t", type: "boolean", describe: "allocate a pseudo-TTY" },
      { name: "user", alias: "u", type: "string", describe: "UID (format: <uid>[:<gid>])" },
      { name: "additional-gids", alias: "g", type: "array", describe: "additional gids" },
      { name: "process", alias: "p", type: "string", describe: "path to the process.json" },
      detach, pidFile,
      { name: "process-label", type: "string", describe: "set the asm process label for the process commonly used with selinux" },
      { name: "apparmor", type: "string", describe: "set the apparmor profile for the process" },
      { name: "no-new-privs", type: "boolean", describe: "set the no new privileges value for the process" },
      { name: "cap", alias: "c", type: "array", describe: "add a capability to the bounding set for the process" },
      preserveFds,
      { name: "cgroup", type: "array", describe: "run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>." },
      { name: "ignore-paused", type: "boolean", describe: "allow exec in a paused container" },
      noSubreaper] },
  { name: "ps", describe: "ps displays the processes running inside a container", usage: `${id} [ps options]`, minArgs: 1, maxArgs: Infinity, haltAtPositional: true, flags: [format] },
  { name: "pause", describe: "pause suspends all processes inside the container", usage: id, minArgs: 1, maxArgs: 1, flags: [] },
  { name: "resume", describe: "resumes all processes that have been previously paused", usage: id, minArgs: 1, maxArgs: 1, flags: [] },
  { name: "update", describe: "update container resource constraints", usage: id, minArgs: 1, maxArgs: 1,
    flags: [
      { name: "resources", alias: "r", type: "string", describe: "path to the file containing the resources to update or '-' to read from the standard input" },
      { name: "blkio-weight", type: "number", describe: "specifies per cgroup weight, range is from 10 to 1000" },
      { name: "cpu-period", type: "string", describe: "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default" },
      { name: "cpu-quota", type: "string", describe: "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period" },
      { name: "cpu-burst", type: "string", describe: "CPU CFS hardcap burst limit (in usecs)" },
      { name: "cpu-share", type: "string", describe: "CPU shares (relative weight vs. other containers)" },
      { name: "cpu-rt-period", type: "string", describe: "CPU realtime period to be used for hardcapping (in usecs)" },
      { name: "cpu-rt-runtime", type: "string", describe: "CPU realtime hardcap limit (in usecs)" },
      { name: "cpu-idle", type: "string", describe: "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE" },
      { name: "cpuset-cpus", type: "string", describe: "CPU(s) to use" },
      { name: "cpuset-mems", type: "string", describe: "memory node(s) to use" },
      { name: "kernel-memory", type: "string", hidden: true, ignored: true, describe: "kernel memory limit (obsolete; ignored)" },
      { name: "kernel-memory-tcp", type: "string", hidden: true, ignored: true, describe: "kernel memory limit for tcp buffers (obsolete; ignored)" },
      { name: "memory", type: "string", describe: "memory limit (in bytes)" },
      { name: "memory-reservation", type: "string", describe: "memory reservation or soft_limit (in bytes)" },
      { name: "memory-swap", type: "string", describe: "total memory usage (memory + swap); set '-1' to enable unlimited swap" },
      { name: "pids-limit", type: "number", describe: "maximum number of pids allowed in the container" },
      { name: "l3-cache-schema", type: "string", describe: "the string of Intel RDT/CAT L3 cache schema" },
      { name: "mem-bw-schema", type: "string", describe: "the string of Intel RDT/MBA memory bandwidth schema" },
    ] },
  { name: "events", describe: "display container events such as OOM notifications, cpu, memory, and IO usage statistics", usage: id, minArgs: 1, maxArgs: 1,
    flags: [{ name: "interval", type: "string", default: "5s", describe: "set the stats collection interval" }, { name: "stats", type: "boolean", describe: "display the container's stats then exit" }] },
  { name: "list", describe: "lists containers started by ocirt with the given root", usage: "", minArgs: 0, maxArgs: 0,
    flags: [format, { name: "quiet", alias: "q", type: "boolean", describe: "display only container IDs" }] },
  { name: "spec", describe: "create a new specification file", usage: "", minArgs: 0, maxArgs: 0,
    flags: [{ name: "bundle", alias: "b", type: "string", describe: "path to the root of the bundle directory" }, { name: "rootless", type: "boolean", describe: "generate a configuration for a rootless container" }] },
  { name: "features", describe: "show the enabled features", usage: "", minArgs: 0, maxArgs: 0, flags: [] },
  { name: "checkpoint", describe: "checkpoint a running container", usage: id, minArgs: 1, maxArgs: 1,
    flags: [...criuCommon,
      { name: "parent-path", type: "string", describe: "path for previous criu image files in pre-dump" },
      { name: "leave-running", type: "boolean", describe: "leave the process running after checkpointing" },
      { name: "tcp-skip-in-flight", type: "boolean", describe: "skip in-flight tcp connections" },
      { name: "link-remap", type: "boolean", describe: "allow one to link unlinked files back when possible" },
      { name: "status-fd", type: "number", default: -1, describe: "criu writes \\0 to this FD once lazy-pages is ready" },
      { name: "page-server", type: "string", describe: "ADDRESS:PORT of the page server" },
      { name: "pre-dump", type: "boolean", describe: "dump container's memory information only, leave the container running after this" }] },
  { name: "restore", describe: "restore a container from a previous checkpoint", usage: id, minArgs: 1, maxArgs: 1,
    flags: [...criuCommon, consoleSocket, bundle, detach, pidFile, noSubreaper, noPivot,
      { name: "lsm-profile", type: "string", describe: "specify an LSM profile to be used during restore in the form of TYPE:NAME" },
      { name: "lsm-mount-context", type: "string", describe: "specify an LSM mount context to be used during restore" },
      // go-runc passes its checkpoint options to restore too; criu finds a parent through the image's own link
      { name: "parent-path", type: "string", hidden: true, ignored: true, describe: "accepted for go-runc; a restore follows the image's parent link" }] },
  { name: "validate", describe: "check a bundle's config.json and print every error with its JSON path", usage: "", minArgs: 0, maxArgs: 0, flags: [bundle] },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
