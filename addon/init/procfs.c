/*
 * The only way the helper reaches a file of /proc or /sys (sysctls, LSM attributes,
 * oom_score_adj, timens_offsets, its own fd directory, mountinfo).
 *
 * The image and the volumes control what /proc and /sys of the rootfs are: a
 * symlink (/proc -> /vol/proc), a plain directory with a fake tree, a bind of
 * something else over a subdirectory. So a path is never followed as it is:
 *   1. "/proc" ("/sys") of the current root is opened with RESOLVE_BENEATH |
 *      RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS and must be the root of a procfs
 *      (sysfs) mount: fstatfs magic and the root inode;
 *   2. "self" and "thread-self" are read from that procfs (its own links) and must
 *      be "<pid>" / "<pid>/task/<tid>";
 *   3. the file is opened beneath that root with the same flags plus
 *      RESOLVE_NO_XDEV (nothing mounted over any part of it) and checked again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "init.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define PSEUDO_ROOT_INO 1
#define PSEUDO_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

int under_dir(const char* path, const char* dir) {
  while (*path == '/') path++;
  while (*dir == '/') dir++;
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* The magic number path must be on: procfs under /proc, sysfs under /sys, 0 otherwise. */
long pseudofs_magic(const char* path) {
  if (under_dir(path, "proc")) return PROC_SUPER_MAGIC;
  if (under_dir(path, "sys")) return SYSFS_MAGIC;
  return 0;
}

static int digits(const char* s, size_t n) {
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* "<pid>" or "<pid>/task/<tid>" */
static int self_link_ok(const char* s) {
  const char* slash = strchr(s, '/');
  if (!slash) return digits(s, strlen(s));
  if (!digits(s, (size_t)(slash - s)) || strncmp(slash, "/task/", 6)) return 0;
  return digits(slash + 6, strlen(slash + 6));
}

/*
 * openat2 with `resolve`, or, where openat2 itself is refused (ENOSYS: an old kernel; EPERM:
 * the container's seccomp filter, already loaded when the init opens exec.fifo's directory,
 * names no openat2 and denies by default, while runc 1.1 uses plain open there), a walk one
 * component at a time with O_NOFOLLOW, every step checked to stay on a file system with
 * `magic`: no symlink is followed (procfs and sysfs have none the container can make), and
 * the caller checks the result as after openat2.
 */
static int pseudo_openat(int dir, const char* rel, uint64_t flags, uint64_t resolve, long magic) {
  struct open_how how = {.flags = flags, .resolve = resolve};
  int fd = sys.openat2(dir, rel, &how, sizeof how);
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return fd;
  char part[PATH_MAX];
  if (strlen(rel) >= sizeof part) return errno = ENAMETOOLONG, -1;
  strcpy(part, rel);
  int cur = dir;
  char* save = NULL;
  char* c = strtok_r(part, "/", &save);
  if (!c) return sys.openat(dir, ".", (int)flags | O_NOFOLLOW, 0);
  for (;;) {
    char* next = strtok_r(NULL, "/", &save);
    if (!strcmp(c, "..")) {
      if (cur != dir) sys.close(cur);
      return errno = EXDEV, -1;
    }
    int f = next ? sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0) : sys.openat(cur, c, (int)flags | O_NOFOLLOW, 0);
    int e = errno;
    if (cur != dir) sys.close(cur);
    if (f < 0) return errno = (e == ENOTDIR && next ? ELOOP : e), -1;
    struct statfs sf;
    if (sys.fstatfs(f, &sf) < 0 || (long)sf.f_type != magic) {
      sys.close(f);
      return errno = EXDEV, -1;
    }
    if (!next) return f;
    cur = f;
    c = next;
  }
}

/* Refuses: fails the op, or with PSEUDO_TRY returns -1 (errno e, EPERM for a policy refusal). */
#define REFUSE(e, ...)                                  \
  do {                                                  \
    int e_ = (e);                                       \
    if (root >= 0) sys.close(root);                     \
    if (opts & PSEUDO_TRY) return errno = e_ ? e_ : EPERM, -1; \
    fail(e_, __VA_ARGS__);                              \
  } while (0)

int pseudofs_open(const char* path, int flags, int opts) {
  int root = -1;
  long magic = pseudofs_magic(path);
  if (!magic) REFUSE(EINVAL, "%s: only files under /proc and /sys are written this way", path);
  const char* top = magic == PROC_SUPER_MAGIC ? "proc" : "sys";
  const char* rel = path;
  while (*rel == '/') rel++;
  rel += strlen(top);
  while (*rel == '/') rel++;

  int cur = sys.openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (cur < 0) REFUSE(errno, "opening / to reach %s", path);
  root = pseudo_openat(cur, top, O_PATH | O_DIRECTORY | O_CLOEXEC, PSEUDO_RESOLVE, magic);
  int e = errno;
  sys.close(cur);
  if (root < 0) {
    if (e == ELOOP) REFUSE(0, "/%s is a symlink: refusing to reach %s through it", top, path);
    if (e == ENOTDIR) REFUSE(0, "/%s is not a directory: refusing to reach %s", top, path);
    REFUSE(e, "opening /%s for %s", top, path);
  }
  struct statfs sf;
  struct stat st;
  if (sys.fstatfs(root, &sf) < 0 || sys.fstatat(root, "", &st, AT_EMPTY_PATH) < 0) REFUSE(errno, "checking /%s", top);
  if ((long)sf.f_type != magic || st.st_ino != PSEUDO_ROOT_INO)
    REFUSE(0, "/%s is not the root of a %s mount: refusing to reach %s", top, top[0] == 'p' ? "procfs" : "sysfs", path);

  char resolved[PATH_MAX];
  const char* slash = strchr(rel, '/');
  size_t first = slash ? (size_t)(slash - rel) : strlen(rel);
  if (magic == PROC_SUPER_MAGIC && ((first == 4 && !strncmp(rel, "self", 4)) || (first == 11 && !strncmp(rel, "thread-self", 11)))) {
    char name[16], link[64];
    memcpy(name, rel, first);
    name[first] = 0;
    ssize_t l = sys.readlinkat(root, name, link, sizeof link - 1);
    if (l <= 0) REFUSE(l < 0 ? errno : ENOENT, "/proc/%s (is this process in the pid namespace of the container's procfs?)", name);
    link[l] = 0;
    if (!self_link_ok(link)) REFUSE(0, "/proc/%s names %s, not a process: refusing to reach %s", name, link, path);
    pathf(resolved, sizeof resolved, "%s%s", link, slash ? slash : "");
    rel = resolved;
  }
  if (!*rel) rel = ".";

  /* a file of this process's own (/proc/<pid>/...) is owned by host root while the
     helper is not dumpable: in a user namespace only this process is in, it can be
     made dumpable for the open (nobody is there to trace it) */
  int per_task = magic == PROC_SUPER_MAGIC && rel[0] >= '0' && rel[0] <= '9' && (flags & O_ACCMODE) != O_RDONLY;
  int toggle = per_task && S.own_userns;
  if (toggle && sys.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) fail(errno, "PR_SET_DUMPABLE for %s", path);
  /* openat2 refuses O_PATH with anything but O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW */
  int fd = pseudo_openat(root, rel, (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)), PSEUDO_RESOLVE | RESOLVE_NO_XDEV, magic);
  e = errno;
  if (toggle && sys.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail(errno, "PR_SET_DUMPABLE after %s", path);
  if (fd < 0) {
    if (e == ENOENT && (opts & PSEUDO_MISSING_OK)) {
      sys.close(root);
      return errno = ENOENT, -1;
    }
    if (e == EXDEV) REFUSE(0, "%s: something is mounted over it or a directory on its way: refusing", path);
    if (e == ELOOP) REFUSE(0, "%s: a symlink on its way: refusing", path);
    REFUSE(e, "opening %s", path);
  }
  sys.close(root);
  root = -1;
  if (sys.fstatfs(fd, &sf) < 0 || (long)sf.f_type != magic) {
    sys.close(fd);
    REFUSE(0, "%s is not on %s: refusing", path, top[0] == 'p' ? "procfs" : "sysfs");
  }
  return fd;
}

void pseudofs_write(const char* path, const char* data, size_t len, int opts) {
  int fd = pseudofs_open(path, O_WRONLY, opts);
  if (fd < 0) return; /* missing, and that was allowed */
  ssize_t n = sys.write(fd, data, len);
  if (n != (ssize_t)len) fail(n < 0 ? errno : EIO, "writing %s", path);
  sys.close(fd);
}
