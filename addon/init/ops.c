/* The ops of the plan (see plan.h), each a small function, dispatched by run_op. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sys/sendfile.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "init.h"

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

#define STR(op, i) ((op)->nblobs > (i) ? (op)->blob[i] : "")
#define INT(op, i) ((op)->nints > (i) ? (op)->ints[i] : 0)

/* ---- paths inside the rootfs, resolved so that no symlink leads outside ---- */

static int open_in_root(const char* path, uint64_t flags) {
  struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/') path++;
  if (!*path) path = ".";
  int fd;
  do fd = (int)syscall(SYS_openat2, S.rootfd, path, &how, sizeof how); while (fd < 0 && errno == EAGAIN);
  return fd;
}

/* The symlink dir/name dangles: the path its target names in the rootfs. A missing
   mount target or cwd behind such a link is made there, inside, as runc's securejoin
   does (images ship links like /etc/resolv.conf -> ../run/...). */
static int dangling_depth;
static int link_target_in_root(int dirfd, const char* dir, const char* name, char* out, size_t n) {
  char t[PATH_MAX];
  ssize_t len = readlinkat(dirfd, name, t, sizeof t - 1);
  if (len <= 0) return -1;
  t[len] = 0;
  int w = t[0] == '/' ? snprintf(out, n, "%s", t) : snprintf(out, n, "%s/%s", dir, t);
  return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* Creates every missing directory of path (inside the rootfs); returns an O_PATH fd of it. */
static int mkdir_all_in_root(const char* path, mode_t mode) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  int fd = open_in_root(buf, O_PATH | O_DIRECTORY);
  if (fd >= 0 || errno != ENOENT) return fd;
  char* slash = strrchr(buf, '/');
  const char* name = buf;
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
  if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) {
    int e = errno;
    close(parent);
    errno = e;
    return -1;
  }
  fd = open_in_root(path, O_PATH | O_DIRECTORY);
  char next[PATH_MAX];
  if (fd < 0 && errno == ENOENT && dangling_depth < 40 &&
      link_target_in_root(parent, slash && slash != buf ? buf : "", name, next, sizeof next) == 0) {
    dangling_depth++;
    int t = mkdir_all_in_root(next, mode);
    dangling_depth--;
    if (t >= 0) close(t);
    fd = open_in_root(path, O_PATH | O_DIRECTORY);
  }
  int e = errno;
  close(parent);
  errno = e;
  return fd;
}

/* Makes sure path exists as a file (kind 2) or dir (kind 1); returns an O_PATH fd. */
static int ensure_in_root(const char* path, int kind) {
  if (kind == 1) return mkdir_all_in_root(path, 0755);
  int fd = open_in_root(path, O_PATH);
  if (fd >= 0 || errno != ENOENT || kind != 2) return fd;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char* slash = strrchr(dir, '/');
  const char* name = path;
  if (slash) {
    *slash = 0;
    name = slash + 1;
  }
  int parent = mkdir_all_in_root(slash && *dir ? dir : "/", 0755);
  if (parent < 0) return -1;
  int dfd = openat(parent, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(parent);
  if (dfd < 0) return -1;
  int f = openat(dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int e = errno;
  char next[PATH_MAX];
  int islink = f < 0 && e == ELOOP && link_target_in_root(dfd, slash && *dir ? dir : "", name, next, sizeof next) == 0;
  close(dfd);
  if (f < 0 && e != ELOOP && e != EEXIST) return errno = e, -1;
  if (f >= 0) close(f);
  fd = open_in_root(path, O_PATH);
  if (fd < 0 && errno == ENOENT && islink && dangling_depth < 40) {
    dangling_depth++;
    int t = ensure_in_root(next, 2);
    dangling_depth--;
    if (t >= 0) close(t);
    fd = open_in_root(path, O_PATH);
  }
  return fd;
}

static const char* fdpath(int fd, char* buf, size_t n) {
  snprintf(buf, n, "/proc/self/fd/%d", fd);
  return buf;
}

static unsigned long locked_flags(const char* path) {
  /* flags a user namespace locks on a mount: a remount that drops them fails EPERM */
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) < 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int remount(const char* path, unsigned long flags) {
  if (mount(NULL, path, NULL, flags | MS_REMOUNT, NULL) == 0) return 0;
  if (errno != EPERM) return -1;
  return mount(NULL, path, NULL, flags | MS_REMOUNT | (locked_flags(path) & ~MS_RDONLY), NULL);
}

/* ---- ops ---- */

/* tmpcopyup: copies a directory tree (files, dirs, links, nodes, owners, modes)
   from one directory fd to another, never following a symlink. */
static void copy_tree(int from, int to, const char* where, int depth) {
  if (depth > 64) fail(ELOOP, "tmpcopyup: %s is nested too deep", where);
  DIR* d = fdopendir(dup(from));
  if (!d) fail(errno, "tmpcopyup: reading %s", where);
  struct dirent* e;
  while ((e = readdir(d))) {
    const char* n = e->d_name;
    if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
    struct stat st;
    if (fstatat(from, n, &st, AT_SYMLINK_NOFOLLOW) < 0) fail(errno, "tmpcopyup: %s/%s", where, n);
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(to, n, st.st_mode & 07777) < 0 && errno != EEXIST) fail(errno, "tmpcopyup: mkdir %s/%s", where, n);
      int a = openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), b = openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (a < 0 || b < 0) fail(errno, "tmpcopyup: %s/%s", where, n);
      copy_tree(a, b, where, depth + 1);
      close(a);
      close(b);
    } else if (S_ISREG(st.st_mode)) {
      int a = openat(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      int b = openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
      if (a < 0 || b < 0) fail(errno, "tmpcopyup: copying %s/%s", where, n);
      off_t left = st.st_size;
      while (left > 0) {
        ssize_t c = sendfile(b, a, NULL, left > (1 << 30) ? (1 << 30) : (size_t)left);
        if (c <= 0) fail(c < 0 ? errno : EIO, "tmpcopyup: copying %s/%s", where, n);
        left -= c;
      }
      close(a);
      close(b);
    } else if (S_ISLNK(st.st_mode)) {
      char t[PATH_MAX];
      ssize_t l = readlinkat(from, n, t, sizeof t - 1);
      if (l < 0) fail(errno, "tmpcopyup: readlink %s/%s", where, n);
      t[l] = 0;
      if (symlinkat(t, to, n) < 0) fail(errno, "tmpcopyup: symlink %s/%s", where, n);
    } else if (mknodat(to, n, st.st_mode, st.st_rdev) < 0) {
      fail(errno, "tmpcopyup: mknod %s/%s", where, n);
    }
    if (fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL) fail(errno, "tmpcopyup: chown %s/%s", where, n);
    if (!S_ISLNK(st.st_mode) && fchmodat(to, n, st.st_mode & 07777, 0) < 0) fail(errno, "tmpcopyup: chmod %s/%s", where, n);
  }
  closedir(d);
}

static void op_mount(const struct op* op) {
  unsigned long flags = INT(op, MOUNT_I_FLAGS);
  unsigned long prop = INT(op, MOUNT_I_PROPAGATION);
  uint64_t attr_set = INT(op, MOUNT_I_ATTR_SET), attr_clr = INT(op, MOUNT_I_ATTR_CLR);
  int create = (int)INT(op, MOUNT_I_CREATE);
  int target_host = (int)INT(op, MOUNT_I_TARGET_HOST);
  const char *src = STR(op, 0), *dst = STR(op, 1), *type = STR(op, 2), *data = STR(op, 3);
  char tbuf[64];
  const char* target = dst;
  int tfd = -1;
  char tdata[4096];
  if (!target_host && strcmp(type, "tmpfs") == 0 && strlen(data) + 16 < sizeof tdata) {
    /* as runc: a tmpfs over an existing directory starts with that directory's
       mode (a mode= of the config comes later and wins) */
    int efd = open_in_root(dst, O_PATH);
    struct stat st;
    if (efd >= 0 && fstat(efd, &st) == 0 && S_ISDIR(st.st_mode)) {
      snprintf(tdata, sizeof tdata, "mode=%04o%s%s", (unsigned)(st.st_mode & 07777), *data ? "," : "", data);
      data = tdata;
    }
    if (efd >= 0) close(efd);
  }
  if (!target_host) {
    if (create == 3) {
      struct stat st;
      if (stat(src, &st) < 0) fail(errno, "mount source %s", src);
      create = S_ISDIR(st.st_mode) ? 1 : 2;
    }
    tfd = create ? ensure_in_root(dst, create) : open_in_root(dst, O_PATH);
    if (tfd < 0) fail(errno, "mount destination %s", dst);
    target = fdpath(tfd, tbuf, sizeof tbuf);
  }
  if (flags & MS_REMOUNT) {
    if (remount(target, flags & ~MS_REMOUNT) < 0) fail(errno, "remount %s", dst);
    if (tfd >= 0) close(tfd);
    return;
  }
  int bind = (flags & MS_BIND) != 0;
  int copyup = !bind && !target_host && INT(op, MOUNT_I_TMPCOPYUP) && tfd >= 0;
  unsigned long first = bind ? (flags & (MS_BIND | MS_REC)) : (flags & ~(MS_REMOUNT));
  int covered = -1;
  if (copyup) {
    /* opened before the mount, this still reads the directory the tmpfs covers */
    covered = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (covered < 0) fail(errno, "tmpcopyup: opening %s", dst);
    first &= ~MS_RDONLY; /* filled first, made read-only after */
  }
  if (mount(*src ? src : NULL, target, *type ? type : NULL, first, bind ? NULL : (*data ? data : NULL)) < 0)
    fail(errno, "mount %s on %s (type %s)", src, dst, *type ? type : "bind");
  if (tfd >= 0) close(tfd);
  /* the fd still names the covered directory: later steps reopen the new mount */
  char abuf[64];
  const char* again = dst;
  int afd = -1;
  if (!target_host && (bind || prop || attr_set || attr_clr || copyup)) {
    afd = open_in_root(dst, O_PATH);
    if (afd < 0) fail(errno, "reopening mount destination %s", dst);
    again = fdpath(afd, abuf, sizeof abuf);
  }
  if (copyup) {
    int fresh = openat(afd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fresh < 0) fail(errno, "tmpcopyup: opening the new tmpfs on %s", dst);
    copy_tree(covered, fresh, dst, 0);
    close(fresh);
    close(covered);
    if ((flags & MS_RDONLY) && mount(NULL, again, NULL, MS_REMOUNT | flags, *data ? data : NULL) < 0)
      fail(errno, "tmpcopyup: remounting %s read-only", dst);
  }
  unsigned long extra = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (bind && extra) {
    if (remount(again, MS_BIND | extra) < 0) fail(errno, "remount %s with its options", dst);
  }
  if (attr_set || attr_clr) {
    struct mount_attr ma = {.attr_set = attr_set, .attr_clr = attr_clr};
    if (syscall(SYS_mount_setattr, -1, again, AT_RECURSIVE, &ma, sizeof ma) < 0) fail(errno, "applying recursive options to %s", dst);
  }
  if (prop && mount(NULL, again, NULL, prop, NULL) < 0) fail(errno, "setting propagation of %s", dst);
  if (afd >= 0) close(afd);
}

static void op_set_rootfs(const char* path) {
  if (S.rootfd >= 0) close(S.rootfd);
  S.rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (S.rootfd < 0) fail(errno, "opening rootfs %s", path);
}

/* Opens (creating as needed) the directory that will hold path inside the rootfs,
   as a real directory fd for *at() calls; *name points at the last component. */
static int open_parent_in_root(const char* path, char* buf, size_t n, const char** name) {
  snprintf(buf, n, "%s", path);
  char* slash = strrchr(buf, '/');
  *name = slash ? slash + 1 : buf;
  if (slash) *slash = 0;
  int pfd = mkdir_all_in_root(slash && *buf ? buf : "/", 0755);
  if (pfd < 0) return -1;
  int dfd = openat(pfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(pfd);
  return dfd;
}

static void op_mknod(const struct op* op) {
  const char* path = STR(op, 0);
  mode_t mode = (mode_t)INT(op, 0);
  dev_t dev = makedev((unsigned)INT(op, 1), (unsigned)INT(op, 2));
  char dir[PATH_MAX];
  const char* name;
  int dfd = open_parent_in_root(path, dir, sizeof dir, &name);
  if (dfd < 0) fail(errno, "device %s: parent directory", path);
  if (INT(op, 5)) {
    /* in a user namespace mknod is not allowed: bind the host's node instead */
    char host[PATH_MAX];
    snprintf(host, sizeof host, "%s", path);
    int f = openat(dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0 && errno != EEXIST) fail(errno, "device %s: creating bind target", path);
    if (f >= 0) close(f);
    int t = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (t < 0) fail(errno, "device %s", path);
    char tb[64];
    if (mount(host, fdpath(t, tb, sizeof tb), NULL, MS_BIND, NULL) < 0) fail(errno, "device %s: bind from host", path);
    close(t);
  } else {
    if (mknodat(dfd, name, mode, dev) < 0) {
      if (errno != EEXIST) fail(errno, "mknod %s", path);
      unlinkat(dfd, name, 0);
      if (mknodat(dfd, name, mode, dev) < 0) fail(errno, "mknod %s", path);
    }
    if (fchmodat(dfd, name, mode & 07777, 0) < 0) fail(errno, "chmod %s", path);
    if (fchownat(dfd, name, (uid_t)INT(op, 3), (gid_t)INT(op, 4), AT_SYMLINK_NOFOLLOW) < 0) fail(errno, "chown %s", path);
  }
  close(dfd);
}

static void op_symlink(const struct op* op) {
  const char *target = STR(op, 0), *link = STR(op, 1);
  char dir[PATH_MAX];
  const char* name;
  int dfd = open_parent_in_root(link, dir, sizeof dir, &name);
  if (dfd < 0 || (symlinkat(target, dfd, name) < 0 && errno != EEXIST)) fail(errno, "symlink %s -> %s", link, target);
  close(dfd);
}

static void op_pivot_root(const struct op* op) {
  const char* rootfs = STR(op, 0);
  if (chdir(rootfs) < 0) fail(errno, "chdir to rootfs %s", rootfs);
  if (INT(op, 0) == 2) {
    /* no mount namespace, so no /proc of the container's own: keep ours to
       reopen exec.fifo through it */
    S.procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (chroot(".") < 0) fail(errno, "chroot to %s", rootfs);
  } else if (INT(op, 0)) {
    if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0) fail(errno, "moving rootfs %s to /", rootfs);
    if (chroot(".") < 0) fail(errno, "chroot");
  } else {
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0) fail(errno, "opening old root");
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail(errno, "pivot_root to %s", rootfs);
    /* the old root now sits on top of the new one: detach it, without letting the
       unmount propagate back to the host */
    if (fchdir(oldroot) < 0) fail(errno, "fchdir old root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail(errno, "making old root a slave");
    if (umount2(".", MNT_DETACH) < 0) fail(errno, "detaching old root");
    close(oldroot);
  }
  if (chdir("/") < 0) fail(errno, "chdir /");
  S.pivoted = 1;
  op_set_rootfs("/");
}

/* The mount that holds the rootfs must not be shared for pivot_root, and a bind of
   the rootfs fails on an unbindable one: make just that mount private (in our own
   mount namespace). */
static void op_parent_private(const char* rootfs) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s", rootfs);
  for (;;) {
    struct statx sx;
    if (statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) break;
    char* slash = strrchr(p, '/');
    if (!slash || slash == p) {
      strcpy(p, "/");
      break;
    }
    *slash = 0;
  }
  if (mount(NULL, p, NULL, MS_PRIVATE, NULL) < 0) fail(errno, "making %s (the mount holding the rootfs) private", p);
}

static void op_mask(const char* path) {
  int fd = open_in_root(path, O_PATH);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail(errno, "masked path %s", path);
  }
  struct stat st;
  char b[64];
  if (fstat(fd, &st) < 0) fail(errno, "masked path %s", path);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", fdpath(fd, b, sizeof b), "tmpfs", MS_RDONLY, "size=0k") < 0) fail(errno, "masking directory %s", path);
  } else if (mount("/dev/null", fdpath(fd, b, sizeof b), NULL, MS_BIND, NULL) < 0) {
    fail(errno, "masking %s", path);
  }
  close(fd);
}

static void op_readonly(const char* path) {
  int fd = open_in_root(path, O_PATH);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail(errno, "readonly path %s", path);
  }
  char b[64];
  if (mount(fdpath(fd, b, sizeof b), fdpath(fd, b, sizeof b), NULL, MS_BIND | MS_REC, NULL) < 0) fail(errno, "binding readonly path %s", path);
  close(fd);
  fd = open_in_root(path, O_PATH);
  if (fd < 0) fail(errno, "readonly path %s", path);
  if (remount(fdpath(fd, b, sizeof b), MS_BIND | MS_REC | MS_RDONLY) < 0) fail(errno, "remounting %s read-only", path);
  close(fd);
}

static void op_write_file(const struct op* op) {
  const char *path = STR(op, 0), *content = STR(op, 1);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && INT(op, 0)) return;
    fail(errno, "opening %s", path);
  }
  size_t len = op->blen[1] && content[op->blen[1] - 1] == 0 ? op->blen[1] - 1 : op->blen[1];
  if (write(fd, content, len) != (ssize_t)len) fail(errno, "writing %s", path);
  close(fd);
}

static int capset_all(uint64_t eff, uint64_t prm, uint64_t inh) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {
      {.effective = (uint32_t)eff, .permitted = (uint32_t)prm, .inheritable = (uint32_t)inh},
      {.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(prm >> 32), .inheritable = (uint32_t)(inh >> 32)},
  };
  return (int)syscall(SYS_capset, &h, d);
}

static int last_cap(void) {
  static int last = -1;
  if (last >= 0) return last;
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char b[16] = {0};
  if (fd >= 0) {
    if (read(fd, b, sizeof b - 1) > 0) last = atoi(b);
    close(fd);
  }
  if (last <= 0) last = CAP_LAST_CAP;
  return last;
}

static void op_caps(const struct op* op) {
  uint64_t bnd = INT(op, 0), eff = INT(op, 1), prm = INT(op, 2), inh = INT(op, 3), amb = INT(op, 4);
  if (op->flags & 1) {
    for (int c = 0; c <= last_cap(); c++) {
      if (bnd & (1ULL << c)) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) fail(errno, "dropping capability %d from the bounding set", c);
    }
  }
  if (op->flags & 2) {
    if (capset_all(eff, prm, inh) < 0) fail(errno, "setting capabilities (effective %#llx, permitted %#llx, inheritable %#llx)", (unsigned long long)eff, (unsigned long long)prm, (unsigned long long)inh);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int c = 0; c <= last_cap(); c++) {
      if (!(amb & (1ULL << c))) continue;
      /* the kernel only raises what is both permitted and inheritable; runc's
         default config lists ambient caps it leaves out of inheritable, and runc
         skips those rather than failing */
      if (!(prm & inh & (1ULL << c))) continue;
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) fail(errno, "raising ambient capability %d", c);
    }
  }
}

static void op_setuser(const struct op* op) {
  uid_t uid = (uid_t)INT(op, 0);
  gid_t gid = (gid_t)INT(op, 1);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(errno, "keeping capabilities across setuid");
  /* EINVAL: the id has no mapping in the user namespace */
  if (setresgid(gid, gid, gid) < 0) fail(errno, errno == EINVAL ? "setgid %u (not mapped in the user namespace)" : "setgid %u", gid);
  if (setresuid(uid, uid, uid) < 0) fail(errno, errno == EINVAL ? "setuid %u (not mapped in the user namespace)" : "setuid %u", uid);
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

static void op_setgroups(const struct op* op) {
  gid_t g[1024];
  size_t n = op->nints > 1024 ? 1024 : op->nints;
  for (size_t i = 0; i < n; i++) g[i] = (gid_t)op->ints[i];
  if (setgroups(n, g) < 0) {
    /* setgroups is denied in a user namespace whose setgroups file says deny */
    if (errno == EPERM && n == 0) return;
    fail(errno, "setgroups");
  }
}

/* Sends fd to the parent over the sync socket (SCM_RIGHTS), with a short text. */
static void send_fd(uint32_t type, int fd, const char* text) {
  struct sync_msg m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.op = S.cur_op;
  if (text) {
    snprintf(m.data, sizeof m.data, "%s", text);
    m.len = (uint32_t)strlen(m.data) + 1;
  }
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(S.syncfd, &mh, MSG_NOSIGNAL) < 0) fail(errno, "sending an fd to ocirt");
}

/* process.terminal: a pty of the container's devpts becomes the controlling terminal
   and stdio; the master goes to ocirt (and from there to --console-socket). */
static void op_console(const struct op* op) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(errno, "opening /dev/ptmx (is /dev/pts mounted?)");
  int unlock = 0, n = -1;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) fail(errno, "setting up the pty");
  char name[64];
  snprintf(name, sizeof name, "/dev/pts/%d", n);
  if (INT(op, 0) || INT(op, 1)) {
    struct winsize ws = {.ws_row = (unsigned short)INT(op, 0), .ws_col = (unsigned short)INT(op, 1)};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) fail(errno, "setting the console size");
  }
  int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail(errno, "opening %s", name);
  if (fchown(slave, (uid_t)INT(op, 2), (gid_t)INT(op, 3)) < 0 && errno != EINVAL) fail(errno, "chown %s", name);
  send_fd(SYNC_CONSOLE_FD, master, name);
  close(master);
  sync_wait_ack();
  if (setsid() < 0) fail(errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail(errno, "making %s the controlling terminal", name);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) fail(errno, "dup2 %s", name);
  close(slave);
}

/* A session keyring of the container's own (runc's), so the caller's keys are not
   reachable; searchable by the container's user. ENOSYS (no keyrings) is skipped. */
static void op_session_keyring(const struct op* op) {
  long id = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, STR(op, 0));
  if (id < 0) {
    if (errno == ENOSYS) return;
    fail(errno, "joining session keyring %s", STR(op, 0));
  }
  char desc[256];
  long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, desc, sizeof desc);
  if (n < 0) fail(errno, "describing session keyring");
  desc[sizeof desc - 1] = 0;
  /* "type;uid;gid;perm;description": perm is the fourth field, in hex */
  char* p = desc;
  for (int i = 0; i < 3 && p; i++) p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL;
  if (!p) fail(EINVAL, "unexpected keyring description %s", desc);
  unsigned long perm = strtoul(p, NULL, 16) | (unsigned long)INT(op, 0);
  if (syscall(SYS_keyctl, 5 /* KEYCTL_SETPERM */, id, perm) < 0) fail(errno, "setting session keyring permissions");
}

static void load_seccomp(const char* prog, uint32_t len, uint64_t flags, int notify) {
  struct sock_fprog fp = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (struct sock_filter*)prog};
  if (notify) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)flags, &fp);
  if (r < 0) fail(errno, "loading the seccomp filter (%u instructions)", fp.len);
  if (notify) {
    /* hand the listener to ocirt, which passes it to the listenerPath agent */
    send_fd(SYNC_SECCOMP_FD, (int)r, NULL);
    close((int)r);
    sync_wait_ack();
  }
}

/* execvp's lookup, but with the container's PATH and an error the parent can show. */
static const char* lookup(const char* file, char* const* envp, char* buf, size_t n) {
  if (strchr(file, '/')) {
    if (access(file, X_OK) < 0) fail(errno, "exec: %s", file);
    return file;
  }
  const char* path = NULL;
  for (char* const* e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  if (!path) fail(ENOENT, "exec: \"%s\": executable file not found in $PATH (process.env has no PATH)", file);
  int last = ENOENT;
  while (path) {
    const char* colon = strchr(path, ':');
    size_t dl = colon ? (size_t)(colon - path) : strlen(path);
    snprintf(buf, n, "%.*s%s%s", (int)dl, path, dl ? "/" : "", file);
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(buf, X_OK) == 0) return buf;
      last = EACCES;
    }
    path = colon ? colon + 1 : NULL;
  }
  fail(last, "exec: \"%s\": executable file not found in $PATH", file);
}

/* A hook run by the init itself (createContainer, startContainer): fork, exec with
   the container state on stdin, wait, with the hook's timeout. */
static void op_run_hook(const struct op* op) {
  uint64_t timeout = INT(op, 0);
  uint32_t argc = (uint32_t)INT(op, 1), nenv = (uint32_t)INT(op, 2);
  if (op->nblobs != 1 + argc + nenv + 2) fail(EINVAL, "malformed hook op");
  const char* path = op->blob[0];
  char* argv[argc + 2];
  char* envp[nenv + 1];
  uint32_t ac = 0;
  for (uint32_t i = 0; i < argc; i++) argv[ac++] = (char*)op->blob[1 + i];
  if (!ac) argv[ac++] = (char*)path;
  argv[ac] = NULL;
  for (uint32_t i = 0; i < nenv; i++) envp[i] = (char*)op->blob[1 + argc + i];
  envp[nenv] = NULL;
  char state[8192];
  int n = snprintf(state, sizeof state, "%s%d%s", op->blob[op->nblobs - 2], S.host_pid, op->blob[op->nblobs - 1]);
  if (n < 0 || n >= (int)sizeof state) fail(E2BIG, "hook %s: state too large", path);
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0) fail(errno, "hook %s: pipe", path);
  pid_t pid = fork();
  if (pid < 0) fail(errno, "hook %s: fork", path);
  if (pid == 0) {
    dup2(pfd[0], 0);
    execve(path, argv, envp);
    dprintf(2, "ocirt-init: hook %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  close(pfd[0]);
  signal(SIGPIPE, SIG_IGN);
  if (write(pfd[1], state, (size_t)n) < 0 && errno != EPIPE) fail(errno, "hook %s: writing its state", path);
  close(pfd[1]);
  signal(SIGPIPE, SIG_DFL);
  int st = 0;
  for (uint64_t waited = 0;; waited++) {
    pid_t r = waitpid(pid, &st, timeout ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) fail(errno, "hook %s: waiting", path);
    if (timeout && waited >= timeout * 100) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      fail(0, "timed out after %llu s", (unsigned long long)timeout);
    }
    if (r == 0) usleep(10000);
  }
  if (WIFSIGNALED(st)) fail(0, "killed by signal %d", WTERMSIG(st));
  if (WEXITSTATUS(st)) fail(0, "exit status %d", WEXITSTATUS(st));
}

static void op_exec(const struct op* op) {
  uint32_t argc = (uint32_t)INT(op, 0);
  int64_t fifo = (int64_t)INT(op, 1);
  uint64_t scflags = INT(op, 2);
  int has_seccomp = (int)INT(op, 3) & 1, notify = ((int)INT(op, 3) & 2) != 0;
  uint32_t nenv = op->nblobs - argc - (has_seccomp ? 1 : 0);
  char* argv[argc + 1];
  char* envp[nenv + 1];
  for (uint32_t i = 0; i < argc; i++) argv[i] = (char*)op->blob[i];
  argv[argc] = NULL;
  for (uint32_t i = 0; i < nenv; i++) envp[i] = (char*)op->blob[argc + i];
  envp[nenv] = NULL;
  static char pbuf[PATH_MAX]; /* kept from the prepare half (flag 1) to the finish half (flag 2) */
  const char* path = pbuf;
  if (op->flags == 2) goto finish;
  path = lookup(argv[0], envp, pbuf, sizeof pbuf);
  if (path != pbuf) {
    snprintf(pbuf, sizeof pbuf, "%s", path);
    path = pbuf;
  }

  /* a listener fd can only reach ocirt (and the agent) while ocirt still listens,
     which ends with READY: such a filter is loaded here, as runc does */
  if (has_seccomp && notify) load_seccomp(op->blob[op->nblobs - 1], op->blen[op->nblobs - 1], scflags, notify);
  if (sync_send(SYNC_READY, 0, NULL, 0) < 0) _exit(1);
  S.ready = 1;
  if (fifo >= 0) {
    /* blocks until `ocirt start` opens the fifo for reading */
    char fb[64];
    int ffd = extra_fd((uint64_t)fifo), w;
    if (S.procfd >= 0) {
      snprintf(fb, sizeof fb, "%d", ffd);
      w = openat(S.procfd, fb, O_WRONLY | O_CLOEXEC);
    } else {
      w = open(fdpath(ffd, fb, sizeof fb), O_WRONLY | O_CLOEXEC);
    }
    if (w < 0) fail(errno, "opening exec.fifo");
    if (write(w, "0", 1) != 1) fail(errno, "writing exec.fifo");
    close(w);
  }
  if (op->flags == 1) return; /* startContainer hooks run between the halves */
finish:
  /* from here on nobody listens on the sync socket: errors go to the container's stderr */
  if (has_seccomp && !notify) load_seccomp(op->blob[op->nblobs - 1], op->blen[op->nblobs - 1], scflags, 0);
  close(S.syncfd);
  S.syncfd = -1;
  /* nothing but stdio and the preserved fds reaches the program (CVE-2024-21626) */
  syscall(SYS_close_range, 3 + S.npreserve, ~0U, CLOSE_RANGE_CLOEXEC);
  execve(path, argv, envp);
  fail(errno, "exec %s", path);
}

static void op_fork(void) {
  pid_t pid = fork();
  if (pid < 0) fail(errno, "fork into the new pid namespace");
  if (pid > 0) {
    sync_send(SYNC_CHILD_PID, pid, NULL, 0);
    _exit(0);
  }
}

struct sched_attr_v1 {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

static void op_scheduler(const struct op* op) {
  struct sched_attr_v1 a = {
      .size = sizeof a, .sched_policy = (uint32_t)INT(op, 0), .sched_priority = (uint32_t)INT(op, 1), .sched_flags = INT(op, 2),
      .sched_nice = (int32_t)INT(op, 3), .sched_runtime = INT(op, 4), .sched_deadline = INT(op, 5), .sched_period = INT(op, 6)};
  if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) {
    /* with realtime group scheduling (cgroup v1 cpu), a new cgroup has no RT runtime */
    int rt = a.sched_policy == 1 || a.sched_policy == 2;
    fail(errno, "sched_setattr (policy %u, priority %u)%s", a.sched_policy, a.sched_priority,
         rt && errno == EPERM ? " (a realtime policy also needs RT runtime in the cgroup: linux.resources.cpu.realtimeRuntime)" : "");
  }
}

int run_op(const struct op* op) {
  switch (op->code) {
    case OP_SETNS: {
      int fd = extra_fd(INT(op, 0));
      if (setns(fd, (int)INT(op, 1)) < 0) fail(errno, "joining namespace");
      close(fd);
      break;
    }
    case OP_UNSHARE:
      if (unshare((int)INT(op, 0)) < 0) fail(errno, "unshare %#llx", (unsigned long long)INT(op, 0));
      break;
    case OP_SYNC:
      if (sync_send((uint32_t)INT(op, 0), (int32_t)INT(op, 1), NULL, 0) < 0) _exit(1);
      sync_wait_ack();
      break;
    case OP_SETID_ROOT:
      if (setresgid(0, 0, 0) < 0) fail(errno, "setgid 0 in the user namespace");
      if (setresuid(0, 0, 0) < 0) fail(errno, "setuid 0 in the user namespace");
      break;
    case OP_MOUNT:
      op_mount(op);
      if (INT(op, MOUNT_I_TARGET_HOST) && INT(op, MOUNT_I_SOURCE_IN_ROOT) == 2) op_set_rootfs(STR(op, 1));
      break;
    case OP_MKNOD: op_mknod(op); break;
    case OP_SYMLINK: op_symlink(op); break;
    case OP_PIVOT_ROOT: op_pivot_root(op); break;
    case OP_MASK: op_mask(STR(op, 0)); break;
    case OP_READONLY: op_readonly(STR(op, 0)); break;
    case OP_WRITE_FILE: op_write_file(op); break;
    case OP_SETHOSTNAME:
      if (sethostname(STR(op, 0), strlen(STR(op, 0))) < 0) fail(errno, "sethostname");
      break;
    case OP_SETDOMAINNAME:
      if (setdomainname(STR(op, 0), strlen(STR(op, 0))) < 0) fail(errno, "setdomainname");
      break;
    case OP_SETRLIMIT: {
      struct rlimit64 rl = {.rlim_cur = INT(op, 1), .rlim_max = INT(op, 2)};
      if (prlimit64(0, (int)INT(op, 0), &rl, NULL) < 0) fail(errno, "setrlimit %llu", (unsigned long long)INT(op, 0));
      break;
    }
    case OP_CHDIR: {
      char cwd[PATH_MAX];
      if (chdir(STR(op, 0)) < 0) fail(errno, "chdir to %s", STR(op, 0));
      /* a cwd reached through a leaked fd would lie outside the root (CVE-2024-21626):
         getcwd then fails with ENOENT. Flag 1: the same path was verified before a
         seccomp filter was loaded, which may now refuse getcwd itself */
      if (!getcwd(cwd, sizeof cwd)) {
        if (errno == ENOENT || !(op->flags & 1)) fail(errno == ENOENT ? ENOENT : errno, "cwd %s is outside the container or cannot be verified", STR(op, 0));
      } else if (cwd[0] != '/') {
        fail(ENOENT, "cwd %s is outside the container", STR(op, 0));
      }
      break;
    }
    case OP_SETGROUPS: op_setgroups(op); break;
    case OP_SETUSER: op_setuser(op); break;
    case OP_UMASK: umask((mode_t)INT(op, 0)); break;
    case OP_CAPS: op_caps(op); break;
    case OP_NO_NEW_PRIVS:
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(errno, "setting no_new_privs");
      break;
    case OP_SECCOMP: load_seccomp(op->blob[0], op->blen[0], INT(op, 0), (int)INT(op, 1)); break;
    case OP_EXEC: op_exec(op); break;
    case OP_PROPAGATION:
      if (mount(NULL, STR(op, 0), NULL, INT(op, 0), NULL) < 0) fail(errno, "setting propagation of %s", STR(op, 0));
      break;
    case OP_MKDIR: {
      int fd = mkdir_all_in_root(STR(op, 0), (mode_t)INT(op, 0));
      if (fd < 0) fail(errno, "mkdir %s", STR(op, 0));
      close(fd);
      break;
    }
    case OP_REMOUNT_RO_ROOT:
      if (remount("/", MS_BIND | MS_RDONLY) < 0) fail(errno, "remounting the rootfs read-only");
      break;
    case OP_FORK: op_fork(); break;
    case OP_PERSONALITY:
      if (personality((unsigned long)INT(op, 0)) < 0) fail(errno, "personality %#llx", (unsigned long long)INT(op, 0));
      break;
    case OP_SETSID:
      if (setsid() < 0) fail(errno, "setsid");
      break;
    case OP_OOM_SCORE_ADJ: {
      char b[32];
      snprintf(b, sizeof b, "%lld", (long long)(int64_t)INT(op, 0));
      int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, b, strlen(b)) < 0) fail(errno, "writing oom_score_adj %s", b);
      close(fd);
      break;
    }
    case OP_SCHEDULER: op_scheduler(op); break;
    case OP_IOPRIO:
      if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)((INT(op, 0) << 13) | INT(op, 1))) < 0)
        fail(errno, "ioprio_set class %llu priority %llu", (unsigned long long)INT(op, 0), (unsigned long long)INT(op, 1));
      break;
    case OP_MEMPOLICY: {
      unsigned long maxnode = op->nblobs && op->blen[0] ? (unsigned long)op->blen[0] * 8 + 1 : 0;
      if (syscall(SYS_set_mempolicy, (int)(INT(op, 0) | INT(op, 1)), maxnode ? (const unsigned long*)op->blob[0] : NULL, maxnode) < 0)
        fail(errno, "set_mempolicy mode %llu", (unsigned long long)INT(op, 0));
      break;
    }
    case OP_PARENT_PRIVATE: op_parent_private(STR(op, 0)); break;
    case OP_RUN_HOOK: op_run_hook(op); break;
    case OP_CONSOLE: op_console(op); break;
    case OP_SESSION_KEYRING: op_session_keyring(op); break;
    case OP_CPU_AFFINITY:
      if (syscall(SYS_sched_setaffinity, 0, (size_t)op->blen[0], op->blob[0]) < 0) fail(errno, "sched_setaffinity");
      break;
    default:
      fail(EINVAL, "unknown plan op %u", op->code);
  }
  return 0;
}
