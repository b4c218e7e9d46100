/*
 * The plan: what the container-init helper executes, encoded by src/plan/encode.ts.
 * Version 1. All integers little-endian.
 *
 *   header  : u32 magic 'OCPL' (0x4c50434f), u32 version (1), u32 nops, u32 total size
 *   op      : u16 code, u16 flags, u32 size (whole op, multiple of 8), u32 nints, u32 nblobs,
 *             u64 ints[nints], then nblobs x { u32 len, u8 bytes[len], padding to 8 }
 *
 * A blob that holds a string carries its trailing NUL in len (and has no other NUL);
 * the binary blobs are: OP_SECCOMP's program, OP_CPU_AFFINITY's and OP_MEMPOLICY's
 * masks and OP_EXEC's last blob when it carries a seccomp program. The helper
 * refuses a plan that breaks any of this (sizes, counts, NULs) before running an
 * op of it. There is no limit on counts but the plan's size.
 * The helper runs the ops in order; the planner (TypeScript, pure, unit-tested)
 * decides that order. When an op fails the helper sends ERROR{op index, errno,
 * message} and exits.
 *
 * The helper's fds: 0-2 stdio, 3 .. 3+P-1 preserved fds (LISTEN_FDS, --preserve-fds),
 * then its own: [own+0] sync socket, [own+1] plan memfd, [own+2 ...] extra fds the
 * plan refers to by index (namespace fds, exec.fifo O_PATH, ...). argv: ocirt-init P NOWN.
 */
#ifndef OCIRT_PLAN_H
#define OCIRT_PLAN_H
#include <stdint.h>

#define PLAN_MAGIC 0x4c50434fu
#define PLAN_VERSION 1u

enum plan_op {
  OP_SETNS = 1,        /* ints: extra fd index, nstype */
  OP_UNSHARE = 2,      /* ints: clone flags */
  OP_SYNC = 3,         /* ints: message type; waits for ACK from the parent. flags 1: dumpable while it
                          waits (an unprivileged parent writes this process's id maps: rootless) */
  OP_SETID_ROOT = 4,   /* become uid/gid 0 of the (new) user namespace */
  OP_MOUNT = 5,        /* ints: see MOUNT_I_*; blobs: source, target, fstype, data */
  OP_MKNOD = 6,        /* ints: mode, major, minor, uid, gid, bind_from_host; blobs: path (in rootfs) */
  OP_SYMLINK = 7,      /* blobs: target, linkpath (in rootfs) */
  OP_PIVOT_ROOT = 8,   /* ints: 0 pivot_root, 1 MS_MOVE + chroot (--no-pivot), 2 chroot only (no mount ns); blobs: rootfs */
  OP_MASK = 9,         /* blobs: path (in container, after pivot), [tmpfs data for a directory: the mount
                          label, as runc's maskPath; none otherwise] */
  OP_READONLY = 10,    /* blobs: path (in container, after pivot) */
  OP_WRITE_FILE = 11,  /* ints: ignore ENOENT; blobs: path, content. The path is under /proc/ or /sys/
                          and is written through a verified procfs/sysfs root fd (see procfs.c) */
  OP_SETHOSTNAME = 12, /* blobs: name */
  OP_SETDOMAINNAME = 13,
  OP_SETRLIMIT = 14,   /* ints: resource, soft, hard */
  OP_CHDIR = 15,       /* blobs: path */
  OP_SETGROUPS = 16,   /* ints: gids */
  OP_SETUSER = 17,     /* ints: uid, gid */
  OP_UMASK = 18,       /* ints: mask */
  OP_CAPS = 19,        /* ints: bounding, effective, permitted, inheritable, ambient (u64 masks) */
  OP_NO_NEW_PRIVS = 20,
  OP_SECCOMP = 21,     /* ints: filter flags, send listener fd to parent; blobs: sock_filter[] */
  OP_EXEC = 22,        /* flags: 0 all, 1 prepare (lookup, seccomp with no_new_privs, READY, exec.fifo),
                          2 finish (execve): startContainer hooks run between the halves, under the filter;
                          ints: argc, fifo extra index (-1: none), seccomp flags, seccomp (1 present, 2 notify);
                          blobs: argv[argc], env..., then optional seccomp program (last, if flags say) */
  OP_PROPAGATION = 23, /* ints: mount flags (MS_SLAVE|MS_REC ...); blobs: path */
  OP_MKDIR = 24,       /* ints: mode; blobs: path (in rootfs) */
  OP_REMOUNT_RO_ROOT = 25,
  OP_FORK = 26,        /* fork; the parent reports CHILD_PID and exits, the child goes on */
  OP_PERSONALITY = 27, /* ints: persona */
  OP_SETSID = 28,      /* a session of its own (process.terminal false; OP_CONSOLE does it otherwise) */
  OP_OOM_SCORE_ADJ = 29, /* ints: value */
  OP_SCHEDULER = 31,   /* ints: policy, priority, flags, nice, runtime, deadline, period */
  OP_IOPRIO = 32,      /* ints: class, priority */
  OP_CPU_AFFINITY = 33,/* blobs: cpu mask bytes */
  OP_MEMPOLICY = 34,   /* ints: mode, flags; blobs: nodemask bytes */
  OP_RUN_HOOK = 37,    /* ints: timeout s (0: none), argc, nenv, index in its stage; blobs: path, argv[argc],
                          env[nenv], state before the pid, state after the pid (the pid came with the last ACK).
                          Its stdout and stderr are captured and shown only in the error, as runc's */
  OP_CONSOLE = 38,     /* ints: rows, cols, uid, gid: a pty in the container becomes the controlling
                          terminal and stdio; its master goes to the parent (SYNC_CONSOLE_FD). The pty
                          is chowned to uid only: it keeps devpts's group (tty), as runc's.
                          flags 1 (the init, after pivot_root): the pty is also bound on /dev/console */
  OP_SESSION_KEYRING = 39, /* ints: permission bits to add; blobs: name: a session keyring of the
                              container's own, not the caller's (runc's "_ses.<id>").
                              flags 1: join only, leave its permissions (exec: only the owner may set them) */
  OP_NET_LO_UP = 40,   /* brings up "lo" of the (new) network namespace, as runc does */
  OP_PARENT_PRIVATE = 36, /* blobs: rootfs; makes the mount holding it private (pivot_root needs it) */
  OP_REOPEN_DEV_NULL = 41, /* after pivot_root: any of stdio that is /dev/null becomes the container's
                              own /dev/null, read-write (runc's reOpenDevNull) */
  OP_IDMAP_MOUNT = 42, /* ints: slot, extra fd index of the mapping's user namespace, AT_RECURSIVE for the
                          clone (rbind), AT_RECURSIVE for the mapping (ridmap); blobs: source, fstype ("": a
                          bind, cloned with open_tree; else made with fsopen/fsconfig/fsmount), data (the fs
                          options, comma-separated). A detached idmapped mount, made before any namespace op
                          (mount_setattr needs CAP_SYS_ADMIN over the file system), kept in the slot until an
                          OP_MOUNT with MOUNT_I_IDMAP moves it onto its target */
};

/* OP_MOUNT ints */
enum {
  MOUNT_I_FLAGS = 0,      /* MS_* for mount(2) */
  MOUNT_I_PROPAGATION = 1,    /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (|MS_REC), applied after */
  MOUNT_I_ATTR_SET = 2,       /* MOUNT_ATTR_* set recursively with mount_setattr (rro, rnosuid, ...) */
  MOUNT_I_ATTR_CLR = 3,
  MOUNT_I_CREATE = 4,         /* 0 nothing, 1 dir, 2 file, 3 like the source (bind) */
  MOUNT_I_SOURCE_IN_ROOT = 5, /* the source is a path inside the rootfs (e.g. rootfs self-bind: 2) */
  MOUNT_I_TARGET_HOST = 6,    /* the target is a host path, not resolved in the rootfs (rootfs self-bind) */
  MOUNT_I_TMPCOPYUP = 7,      /* runc's tmpcopyup: the new tmpfs starts with what the directory held */
  MOUNT_I_IDMAP = 8,          /* slot + 1 of an OP_IDMAP_MOUNT: move that mount here instead of mounting
                                 (then as a bind: flags by remount, propagation, attributes); 0: none */
  MOUNT_I_COUNT = 9
};

/* Messages on the sync socket (SOCK_SEQPACKET), both directions. */
enum sync_type {
  SYNC_USERMAP_PLS = 1, /* child -> parent: write my uid/gid maps */
  SYNC_CGROUP_PLS = 2,  /* child -> parent: put me in my cgroup */
  SYNC_HOOKS_PLS = 3,   /* child -> parent: run hooks of stage (err field = stage) */
  SYNC_READY = 4,       /* child -> parent: set up, about to wait on exec.fifo */
  SYNC_ERROR = 5,       /* child -> parent: op failed */
  SYNC_ACK = 6,         /* parent -> child: go on; err = the container's pid as the host sees it */
  SYNC_CHILD_PID = 7,   /* child -> parent: after OP_FORK, the pid (in err) of the real init */
  SYNC_SECCOMP_FD = 8,  /* child -> parent: SCM_RIGHTS with the seccomp notify fd */
  SYNC_CONSOLE_FD = 10, /* child -> parent: SCM_RIGHTS with the pty master (data: the pty's name) */
};

struct sync_msg {
  uint32_t type;
  int32_t err;  /* errno, or a number payload */
  uint32_t op;  /* index of the op that sent it */
  uint32_t len; /* bytes used in data */
  char data[496];
};

#endif
