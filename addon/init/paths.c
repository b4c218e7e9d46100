/*
 * Paths inside the rootfs, resolved so that no symlink leads outside it
 * (openat2 RESOLVE_IN_ROOT against an O_PATH fd of the rootfs), and mount(2) on
 * such fds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "init.h"

void pathf(char* buf, size_t n, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  if (w < 0 || (size_t)w >= n) fail(ENAMETOOLONG, "path %.200s... is longer than %zu bytes", buf, n - 1);
}

int open_in_root(const char* path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/') path++;
  if (!*path) path = ".";
  return sys.openat2(S.rootfd, path, &how, sizeof how);
}

/* The symlink dir/name dangles: the path its target names in the rootfs. A missing
   mount target or cwd behind such a link is made there, inside, as runc's securejoin
   does (images ship links like /etc/resolv.conf -> ../run/...). */
static int dangling_depth;
static int link_target_in_root(int dirfd, const char* dir, const char* name, char* out, size_t n) {
  char t[PATH_MAX];
  ssize_t len = sys.readlinkat(dirfd, name, t, sizeof t - 1);
  if (len <= 0) return -1;
  t[len] = 0;
  if (t[0] == '/') pathf(out, n, "%s", t);
  else pathf(out, n, "%s/%s", dir, t);
  return 0;
}

static void close_keep_errno(int fd) {
  int e = errno;
  sys.close(fd);
  errno = e;
}

/* Creates every missing directory of path (inside the rootfs); returns an O_PATH fd of it. */
int mkdir_all_in_root(const char* path, mode_t mode) {
  char buf[PATH_MAX];
  pathf(buf, sizeof buf, "%s", path);
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  int fd = open_in_root(buf, O_PATH | O_DIRECTORY);
  if (fd >= 0 || errno != ENOENT) return fd;
  char* slash = strrchr(buf, '/');
  const char* name;
  int parent;
  if (slash && slash != buf) {
    *slash = 0;
    parent = mkdir_all_in_root(buf, mode);
    name = slash + 1;
  } else {
    parent = open_in_root("/", O_PATH | O_DIRECTORY);
    name = slash ? slash + 1 : buf;
  }
  if (parent < 0) return -1;
  if (sys.mkdirat(parent, name, mode) < 0 && errno != EEXIST) {
    close_keep_errno(parent);
    return -1;
  }
  fd = open_in_root(path, O_PATH | O_DIRECTORY);
  char next[PATH_MAX];
  if (fd < 0 && errno == ENOENT && dangling_depth < 40 &&
      link_target_in_root(parent, slash && slash != buf ? buf : "", name, next, sizeof next) == 0) {
    dangling_depth++;
    int t = mkdir_all_in_root(next, mode);
    dangling_depth--;
    if (t >= 0) sys.close(t);
    fd = open_in_root(path, O_PATH | O_DIRECTORY);
  }
  close_keep_errno(parent);
  return fd;
}

/* Opens (creating as needed) the directory that will hold path inside the rootfs,
   as a real directory fd for *at() calls; *name points at the last component
   (in buf, which holds the path without trailing slashes). */
int open_parent_in_root(const char* path, char* buf, size_t n, const char** name) {
  pathf(buf, n, "%s", path);
  size_t len = strlen(buf);
  while (len > 1 && buf[len - 1] == '/') buf[--len] = 0;
  char* slash = strrchr(buf, '/');
  *name = slash ? slash + 1 : buf;
  if (slash) *slash = 0;
  int pfd = mkdir_all_in_root(slash && *buf ? buf : "/", 0755);
  if (slash) *slash = '/';
  if (pfd < 0) return -1;
  int dfd = sys.openat(pfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0);
  close_keep_errno(pfd);
  return dfd;
}

/* Makes sure path exists as a file (kind 2) or dir (kind 1); returns an O_PATH fd. */
int ensure_in_root(const char* path, int kind) {
  if (kind == 1) return mkdir_all_in_root(path, 0755);
  int fd = open_in_root(path, O_PATH);
  if (fd >= 0 || errno != ENOENT || kind != 2) return fd;
  char buf[PATH_MAX];
  const char* name;
  int dfd = open_parent_in_root(path, buf, sizeof buf, &name);
  if (dfd < 0) return -1;
  /* the directory part of buf, for a dangling link's relative target */
  char dir[PATH_MAX];
  pathf(dir, sizeof dir, "%.*s", (int)(name - buf > 0 ? name - buf - 1 : 0), buf);
  int f = sys.openat(dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int e = errno;
  char next[PATH_MAX];
  int islink = f < 0 && e == ELOOP && link_target_in_root(dfd, dir, name, next, sizeof next) == 0;
  sys.close(dfd);
  if (f < 0 && e != ELOOP && e != EEXIST) return errno = e, -1;
  if (f >= 0) sys.close(f);
  fd = open_in_root(path, O_PATH);
  if (fd < 0 && errno == ENOENT && islink && dangling_depth < 40) {
    dangling_depth++;
    int t = ensure_in_root(next, 2);
    dangling_depth--;
    if (t >= 0) sys.close(t);
    fd = open_in_root(path, O_PATH);
  }
  return fd;
}

/*
 * This process's fd directory (/proc/<pid>/fd) in a verified procfs (procfs.c):
 * opened before pivot_root in the host's procfs, which nothing of the container
 * can touch, and after pivot_root switched to the container's own procfs where it
 * verifies (so no directory of the host stays open once the container could see
 * the helper). Mounts name their fds relative to it (mount_fds): never a path
 * through an unverified /proc, which the image or a volume may have replaced.
 */
int fd_dir(void) {
  if (S.fddir < 0) S.fddir = pseudofs_open("/proc/self/fd", O_PATH | O_DIRECTORY, 0);
  return S.fddir;
}

/*
 * mount(2) where the source (sfd) and/or target (tfd) are fds (-1: use the string):
 * the fds are named "N" relative to fd_dir(), made the working directory for the
 * call, so the magic links are the kernel's own whatever /proc of the current root
 * holds. The working directory is restored after.
 */
int mount_fds(const char* src, int sfd, const char* target, int tfd, const char* type, unsigned long flags, const void* data) {
  if (sfd < 0 && tfd < 0) return sys.mount(src, target, type, flags, data);
  char sb[16], tb[16];
  if (sfd >= 0) snprintf(sb, sizeof sb, "%d", sfd), src = sb;
  if (tfd >= 0) snprintf(tb, sizeof tb, "%d", tfd), target = tb;
  int dir = fd_dir();
  int cwd = sys.openat(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (cwd < 0) return -1;
  if (sys.fchdir(dir) < 0) {
    close_keep_errno(cwd);
    return -1;
  }
  int r = sys.mount(src, target, type, flags, data);
  int e = errno;
  if (sys.fchdir(cwd) < 0) fail(errno, "returning to the working directory after a mount");
  sys.close(cwd);
  errno = e;
  return r;
}

/* The path of fd as this process sees it (readlink of its fd_dir() entry). */
int fd_host_path(int fd, char* buf, size_t n) {
  char name[16];
  snprintf(name, sizeof name, "%d", fd);
  ssize_t l = sys.readlinkat(fd_dir(), name, buf, n - 1);
  if (l < 0) return -1;
  if ((size_t)l >= n - 1) return errno = ENAMETOOLONG, -1;
  buf[l] = 0;
  return 0;
}
