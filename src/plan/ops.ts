// The plan's vocabulary: op codes, sync messages and the OP_MOUNT int layout, the
// TypeScript mirror of addon/plan.h (the contract with the init helper). The bottom
// layer: every planner imports it, it imports nothing. Keep the two in step;
// test/unit/plan-encode.test.ts checks them against the header.
export const enum Op {
  SETNS = 1,
  UNSHARE = 2,
  SYNC = 3,
  SETID_ROOT = 4,
  MOUNT = 5,
  MKNOD = 6,
  SYMLINK = 7,
  PIVOT_ROOT = 8,
  MASK = 9,
  READONLY = 10,
  WRITE_FILE = 11,
  SETHOSTNAME = 12,
  SETDOMAINNAME = 13,
  SETRLIMIT = 14,
  CHDIR = 15,
  SETGROUPS = 16,
  SETUSER = 17,
  UMASK = 18,
  CAPS = 19,
  NO_NEW_PRIVS = 20,
  SECCOMP = 21,
  EXEC = 22,
  PROPAGATION = 23,
  MKDIR = 24,
  REMOUNT_RO_ROOT = 25,
  FORK = 26,
  PERSONALITY = 27,
  SETSID = 28,
  OOM_SCORE_ADJ = 29,
  SCHEDULER = 31,
  IOPRIO = 32,
  CPU_AFFINITY = 33,
  MEMPOLICY = 34,
  PARENT_PRIVATE = 36,
  RUN_HOOK = 37,
  CONSOLE = 38,
  SESSION_KEYRING = 39,
  NET_LO_UP = 40,
  REOPEN_DEV_NULL = 41,
  IDMAP_MOUNT = 42,
}

export const enum Sync {
  USERMAP_PLS = 1,
  CGROUP_PLS = 2,
  HOOKS_PLS = 3,
  READY = 4,
  ERROR = 5,
  ACK = 6,
  CHILD_PID = 7,
  SECCOMP_FD = 8,
  CONSOLE_FD = 10,
}

/** Positions of OP_MOUNT's ints (plan.h's MOUNT_I_*). */
export const enum MountI {
  FLAGS = 0,
  PROPAGATION = 1,
  ATTR_SET = 2,
  ATTR_CLR = 3,
  CREATE = 4,
  SOURCE_IN_ROOT = 5,
  TARGET_HOST = 6,
  TMPCOPYUP = 7,
  IDMAP = 8,
  COUNT = 9,
}

/** OP_MOUNT's ints by name; mountInts() lays them out. */
export interface MountInts {
  flags: number;
  propagation: number;
  attrSet: number;
  attrClr: number;
  /** 0 nothing, 1 dir, 2 file, 3 like the source */
  create: 0 | 1 | 2 | 3;
  /** 2: this mount is the rootfs self-bind; the helper then opens it as the root */
  sourceInRoot: 0 | 1 | 2;
  targetHost: 0 | 1;
  /** runc's tmpcopyup */
  tmpcopyup: 0 | 1;
  /** slot + 1 of the OP_IDMAP_MOUNT whose detached mount goes here; 0: mount as usual */
  idmap: number;
}

const MOUNT_DEFAULTS: MountInts = { flags: 0, propagation: 0, attrSet: 0, attrClr: 0, create: 0, sourceInRoot: 0, targetHost: 0, tmpcopyup: 0, idmap: 0 };

/** The ints of an OP_MOUNT, each field at its MOUNT_I_* position; unnamed fields are 0. */
export function mountInts(m: Partial<MountInts>): number[] {
  const v = { ...MOUNT_DEFAULTS, ...m };
  const ints = new Array<number>(MountI.COUNT).fill(0);
  ints[MountI.FLAGS] = v.flags;
  ints[MountI.PROPAGATION] = v.propagation;
  ints[MountI.ATTR_SET] = v.attrSet;
  ints[MountI.ATTR_CLR] = v.attrClr;
  ints[MountI.CREATE] = v.create;
  ints[MountI.SOURCE_IN_ROOT] = v.sourceInRoot;
  ints[MountI.TARGET_HOST] = v.targetHost;
  ints[MountI.TMPCOPYUP] = v.tmpcopyup;
  ints[MountI.IDMAP] = v.idmap;
  return ints;
}

/** OP_SYNC's flags: stay dumpable while waiting (an unprivileged parent writes the id maps). */
export const SYNC_DUMPABLE = 1;

/** One step for the init helper, with the human description used in errors. */
export interface PlanOp {
  code: Op;
  flags?: number;
  ints?: (number | bigint)[];
  blobs?: (string | Buffer)[];
  /** "mounts[2] (/proc)", "process.capabilities" ...: names the config field in errors */
  what: string;
}
