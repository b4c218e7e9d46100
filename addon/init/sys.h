/*
 * The helper's one seam to the kernel: every system call an op makes goes through
 * this table. sys_linux.c fills it with the real calls; the unit tests link
 * test/unit/init/sys_fake.c instead, which records each call (name and arguments)
 * and answers from a small model of the file system, so the order and arguments
 * of the calls an op list produces can be checked without root.
 *
 * The functions return what the system call returns (-1 and errno on failure).
 * Things that are not set-up steps (string formatting, memory, the clock) call
 * libc directly.
 */
#ifndef OCIRT_INIT_SYS_H
#define OCIRT_INIT_SYS_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/mount.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

struct sys_ops {
  /* mounts and the root */
  int (*mount)(const char* src, const char* target, const char* type, unsigned long flags, const void* data);
  int (*umount2)(const char* target, int flags);
  int (*mount_setattr)(int dirfd, const char* path, unsigned flags, struct mount_attr* attr, size_t size);
  /* the new mount API: detached mounts (idmapped mounts) */
  int (*open_tree)(int dirfd, const char* path, unsigned flags);
  int (*move_mount)(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path, unsigned flags);
  int (*fsopen)(const char* fstype, unsigned flags);
  int (*fsconfig)(int fd, unsigned cmd, const char* key, const void* value, int aux);
  int (*fsmount)(int fd, unsigned flags, unsigned attr_flags);
  int (*pivot_root)(const char* new_root, const char* put_old);
  int (*chroot)(const char* path);
  int (*chdir)(const char* path);
  int (*fchdir)(int fd);
  char* (*getcwd)(char* buf, size_t n);
  /* files */
  int (*openat)(int dirfd, const char* path, int flags, mode_t mode);
  int (*openat2)(int dirfd, const char* path, struct open_how* how, size_t size);
  int (*close)(int fd);
  int (*close_range)(unsigned first, unsigned last, unsigned flags);
  int (*fcntl)(int fd, int cmd, long arg);
  int (*dup2)(int from, int to);
  ssize_t (*read)(int fd, void* buf, size_t n);
  ssize_t (*write)(int fd, const void* buf, size_t n);
  ssize_t (*sendfile)(int out, int in, off_t* off, size_t n);
  long (*getdents64)(int fd, void* buf, size_t n);
  int (*fstatat)(int dirfd, const char* path, struct stat* st, int flags);
  int (*fstatfs)(int fd, struct statfs* st);
  int (*statx)(int dirfd, const char* path, int flags, unsigned mask, struct statx* sx);
  ssize_t (*readlinkat)(int dirfd, const char* path, char* buf, size_t n);
  int (*faccessat)(int dirfd, const char* path, int mode, int flags);
  int (*mkdirat)(int dirfd, const char* path, mode_t mode);
  int (*mknodat)(int dirfd, const char* path, mode_t mode, dev_t dev);
  int (*symlinkat)(const char* target, int dirfd, const char* link);
  int (*unlinkat)(int dirfd, const char* path, int flags);
  int (*fchownat)(int dirfd, const char* path, uid_t uid, gid_t gid, int flags);
  int (*fchmodat)(int dirfd, const char* path, mode_t mode, int flags);
  int (*fchown)(int fd, uid_t uid, gid_t gid);
  int (*ioctl)(int fd, unsigned long req, void* arg);
  int (*pipe2)(int fds[2], int flags);
  int (*poll)(struct pollfd* fds, nfds_t n, int timeout_ms);
  int (*socket)(int domain, int type, int proto);
  ssize_t (*sendmsg)(int fd, const struct msghdr* mh, int flags);
  ssize_t (*recvmsg)(int fd, struct msghdr* mh, int flags);
  /* namespaces and processes */
  int (*setns)(int fd, int nstype);
  int (*unshare)(int flags);
  pid_t (*fork)(void);
  pid_t (*waitpid)(pid_t pid, int* status, int flags);
  int (*kill)(pid_t pid, int sig);
  int (*execve)(const char* path, char* const argv[], char* const envp[]);
  int (*sigaction)(int sig, const struct sigaction* act, struct sigaction* old);
  int (*sigprocmask)(int how, const sigset_t* set, sigset_t* old);
  /* credentials and attributes */
  int (*prctl)(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d);
  int (*capset)(void* header, void* data);
  int (*setresuid)(uid_t r, uid_t e, uid_t s);
  int (*setresgid)(gid_t r, gid_t e, gid_t s);
  int (*setgroups)(size_t n, const gid_t* groups);
  int (*setsid)(void);
  mode_t (*umask)(mode_t mask);
  int (*sethostname)(const char* name, size_t len);
  int (*setdomainname)(const char* name, size_t len);
  int (*prlimit)(int resource, uint64_t soft, uint64_t hard);
  int (*sched_setattr)(void* attr);
  int (*sched_setaffinity)(size_t len, const void* mask);
  int (*ioprio_set)(int which, int who, int prio);
  int (*personality)(unsigned long persona);
  int (*set_mempolicy)(int mode, const unsigned long* nodemask, unsigned long maxnode);
  long (*keyctl)(int op, unsigned long a, unsigned long b, unsigned long c);
  long (*seccomp)(unsigned op, unsigned flags, void* args);
};

extern const struct sys_ops sys;

#endif
