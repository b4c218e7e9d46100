/*
 * The helper's shared declarations. Files by concern:
 *   init.c      main: arguments, the plan (mapped, decoded, checked), the op loop
 *   sync.c      the sync socket: messages, fds, ACKs, fail()
 *   paths.c     paths inside the rootfs; mount(2) on fds
 *   procfs.c    the only way to /proc and /sys files: verified roots, no redirection
 *   rootfs.c    mounts, devices, links, pivot_root / --no-pivot, masks, readonly paths
 *   idmap.c     idmapped mounts: detached, mapped early, moved into place by op_mount
 *   process.c   namespaces, ids, groups, capabilities, rlimits, scheduling, keyring,
 *               console, session, network loopback
 *   exec.c      seccomp, hooks, the two halves of exec, fork, signals
 *   ops.c       run_op: op code -> function
 * Every system call goes through the table in sys.h.
 */
#ifndef OCIRT_INIT_H
#define OCIRT_INIT_H
#include <stddef.h>
#include <stdint.h>
#include "plan.h"
#include "sys.h"

struct op {
  uint16_t code, flags;
  uint32_t nints, nblobs;
  const uint64_t* ints;
  const char** blob; /* nblobs pointers into the plan, then NULL */
  uint32_t* blen;
};

/* State the ops share. */
struct init_state {
  int npreserve, own_base, nown, syncfd;
  int rootfd;      /* O_PATH dirfd of the rootfs (before pivot) or of "/" (after) */
  int fddir;       /* O_PATH of this process's fd directory in a verified procfs (see fd_dir) */
  int pivoted;     /* 1: pivot_root or MS_MOVE (a mount namespace of its own), 2: chroot only */
  int ready;       /* READY sent: nobody reads the sync socket any more */
  int own_userns;  /* this process made its user namespace itself: nobody else is in it */
  int host_pid;    /* the init's pid on the host, from the parent's last ACK (for hook state) */
  uint32_t cur_op;
};

extern struct init_state S;

#define STR(op, i) ((op)->nblobs > (i) ? (op)->blob[i] : "")
#define INT(op, i) ((op)->nints > (i) ? (op)->ints[i] : 0)

/* sync.c */
/* Reports the failure of the current op to the parent (or, after READY, on stderr)
   and exits. err 0: the message says it all (no strerror). Never returns. */
__attribute__((noreturn, format(printf, 2, 3))) void fail(int err, const char* fmt, ...);
int sync_send(uint32_t type, int32_t err, const void* data, uint32_t len);
void sync_send_fd(uint32_t type, int fd, const char* text);
void sync_wait_ack(void);
int extra_fd(uint64_t idx);
void* xcalloc(size_t n, size_t size);

/* init.c: the plan decoder (exposed for the op loop and its tests) */
int plan_decode(const uint8_t* p, size_t avail, struct op* op, size_t* used, char* why, size_t whylen);
void op_release(struct op* op);

/* paths.c */
/* snprintf that fails the op with ENAMETOOLONG (naming the path) instead of truncating */
__attribute__((format(printf, 3, 4))) void pathf(char* buf, size_t n, const char* fmt, ...);
int open_in_root(const char* path, int flags);
int mkdir_all_in_root(const char* path, mode_t mode);
int ensure_in_root(const char* path, int kind);
int open_parent_in_root(const char* path, char* buf, size_t n, const char** name);
int fd_dir(void);
int mount_fds(const char* src, int sfd, const char* target, int tfd, const char* type, unsigned long flags, const void* data);
int fd_host_path(int fd, char* buf, size_t n);

/* procfs.c */
#define PSEUDO_MISSING_OK 1 /* a missing file: -1 with ENOENT */
#define PSEUDO_TRY 2        /* any refusal: -1 with errno, not fail() */
int pseudofs_open(const char* path, int flags, int opts);
void pseudofs_write(const char* path, const char* data, size_t len, int opts);
long pseudofs_magic(const char* path);
int under_dir(const char* path, const char* dir);

/* rootfs.c */
void op_mount(const struct op* op);
void op_mknod(const struct op* op);
void op_symlink(const struct op* op);
void op_mkdir(const struct op* op);
void op_pivot_root(const struct op* op);
void op_parent_private(const char* rootfs);
void op_mask(const char* path, const char* data);
void op_reopen_dev_null(void);
void mount_console(int pty, const char* name);
void op_readonly(const char* path);
void op_remount_ro_root(void);
void op_propagation(const struct op* op);
void set_rootfs(const char* path);

/* idmap.c */
void op_idmap_mount(const struct op* op);
/* the detached mount of slot (failing the op when there is none): peek leaves it
   there, take empties the slot */
int idmap_peek(uint64_t slot);
int idmap_take(uint64_t slot);
int idmap_attach(int mfd, int tfd);

/* process.c */
void op_setns(const struct op* op);
void op_unshare(const struct op* op);
void op_setid_root(void);
void op_setuser(const struct op* op);
void op_setgroups(const struct op* op);
void op_caps(const struct op* op);
void op_rlimit(const struct op* op);
void op_chdir(const struct op* op);
void op_scheduler(const struct op* op);
void op_ioprio(const struct op* op);
void op_personality(const struct op* op);
void op_mempolicy(const struct op* op);
void op_cpu_affinity(const struct op* op);
void op_session_keyring(const struct op* op);
void op_console(const struct op* op);
void op_setsid(void);
void op_oom_score_adj(const struct op* op);
void op_net_lo_up(void);
void op_hostname(const struct op* op, int domain);

/* exec.c */
void op_seccomp(const struct op* op);
void op_exec(const struct op* op);
void op_run_hook(const struct op* op);
void op_fork(void);

/* ops.c */
void run_op(const struct op* op);
#endif
