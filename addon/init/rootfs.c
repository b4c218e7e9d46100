/* The root filesystem: mounts, devices, links, pivot_root (or --no-pivot), masked
   and read-only paths. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "init.h"

#ifndef ST_RELATIME
#define ST_RELATIME 4096
#endif
#define PROC_SUPER_MAGIC 0x9fa0

/* MS_* flags of the mount fd is on, from statfs (ST_* bits). */
static unsigned long mount_flags_of(int fd) {
  struct statfs sf;
  unsigned long f = 0;
  if (sys.fstatfs(fd, &sf) < 0) return 0;
  if (sf.f_flags & ST_NOSUID) f |= MS_NOSUID;
  if (sf.f_flags & ST_NODEV) f |= MS_NODEV;
  if (sf.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
  if (sf.f_flags & ST_RDONLY) f |= MS_RDONLY;
  if (sf.f_flags & ST_NOATIME) f |= MS_NOATIME;
  if (sf.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sf.f_flags & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

/* A remount of the mount at fd; where a user namespace locks flags on it (a remount
   that drops them fails EPERM), they are kept. */
static int remount_fd(int fd, unsigned long flags) {
  if (mount_fds(NULL, -1, NULL, fd, NULL, flags | MS_REMOUNT, NULL) == 0) return 0;
  if (errno != EPERM) return -1;
  return mount_fds(NULL, -1, NULL, fd, NULL, flags | MS_REMOUNT | (mount_flags_of(fd) & ~MS_RDONLY), NULL);
}

void set_rootfs(const char* path) {
  if (S.rootfd >= 0) sys.close(S.rootfd);
  S.rootfd = sys.openat(AT_FDCWD, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (S.rootfd < 0) fail(errno, "opening rootfs %s", path);
}

/* ---- tmpcopyup: copies a directory tree (files, dirs, links, nodes, owners, modes)
   from one directory fd to another, never following a symlink. ---- */

struct dirent64_k {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static void copy_entry(int from, int to, const char* where, const char* n, int depth);

static void copy_tree(int from, int to, const char* where, int depth) {
  if (depth > 64) fail(ELOOP, "tmpcopyup: %s is nested too deep", where);
  int d = sys.openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (d < 0) fail(errno, "tmpcopyup: reading %s", where);
  char* buf = xcalloc(1, 32768);
  for (;;) {
    long n = sys.getdents64(d, buf, 32768);
    if (n < 0) fail(errno, "tmpcopyup: reading %s", where);
    if (n == 0) break;
    for (long off = 0; off < n;) {
      struct dirent64_k* e = (struct dirent64_k*)(buf + off);
      off += e->d_reclen;
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) copy_entry(from, to, where, e->d_name, depth);
    }
  }
  free(buf);
  sys.close(d);
}

static void copy_entry(int from, int to, const char* where, const char* n, int depth) {
  struct stat st;
  if (sys.fstatat(from, n, &st, AT_SYMLINK_NOFOLLOW) < 0) fail(errno, "tmpcopyup: %s/%s", where, n);
  if (S_ISDIR(st.st_mode)) {
    if (sys.mkdirat(to, n, st.st_mode & 07777) < 0 && errno != EEXIST) fail(errno, "tmpcopyup: mkdir %s/%s", where, n);
    int a = sys.openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    int b = sys.openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (a < 0 || b < 0) fail(errno, "tmpcopyup: %s/%s", where, n);
    copy_tree(a, b, where, depth + 1);
    sys.close(a);
    sys.close(b);
  } else if (S_ISREG(st.st_mode)) {
    int a = sys.openat(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    int b = sys.openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
    if (a < 0 || b < 0) fail(errno, "tmpcopyup: copying %s/%s", where, n);
    off_t left = st.st_size;
    while (left > 0) {
      ssize_t c = sys.sendfile(b, a, NULL, left > (1 << 30) ? (1 << 30) : (size_t)left);
      if (c <= 0) fail(c < 0 ? errno : EIO, "tmpcopyup: copying %s/%s", where, n);
      left -= c;
    }
    sys.close(a);
    sys.close(b);
  } else if (S_ISLNK(st.st_mode)) {
    char t[PATH_MAX];
    ssize_t l = sys.readlinkat(from, n, t, sizeof t - 1);
    if (l < 0) fail(errno, "tmpcopyup: readlink %s/%s", where, n);
    t[l] = 0;
    if (sys.symlinkat(t, to, n) < 0) fail(errno, "tmpcopyup: symlink %s/%s", where, n);
  } else if (sys.mknodat(to, n, st.st_mode, st.st_rdev) < 0) {
    fail(errno, "tmpcopyup: mknod %s/%s", where, n);
  }
  if (sys.fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL) fail(errno, "tmpcopyup: chown %s/%s", where, n);
  if (!S_ISLNK(st.st_mode) && sys.fchmodat(to, n, st.st_mode & 07777, 0) < 0) fail(errno, "tmpcopyup: chmod %s/%s", where, n);
}

/* ---- mounts ---- */

/*
 * proc and sysfs only on an ordinary directory (runc: `filesystem "proc" must be
 * mounted on ordinary directory`): a symlink there (/proc -> /vol/proc) would carry
 * the mount, and every sysctl, mask and read-only path meant for it, to wherever
 * the image points (a volume holding a fake tree). The directory is pinned as an
 * fd for the mount.
 */
static int pseudo_mount_point(const char* dst, const char* type) {
  char buf[PATH_MAX];
  const char* name;
  int pfd = open_parent_in_root(dst, buf, sizeof buf, &name);
  if (pfd < 0) fail(errno, "mount destination %s", dst);
  struct stat st;
  if (sys.fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISDIR(st.st_mode)) fail(0, "filesystem \"%s\" must be mounted on ordinary directory (%s is %s)", type, dst, S_ISLNK(st.st_mode) ? "a symlink" : "not a directory");
  } else if (errno != ENOENT || (sys.mkdirat(pfd, name, 0755) < 0 && errno != EEXIST)) {
    fail(errno, "mount destination %s", dst);
  }
  int fd = sys.openat(pfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) fail(errno == ELOOP || errno == ENOTDIR ? 0 : errno, "filesystem \"%s\" must be mounted on ordinary directory (%s)", type, dst);
  sys.close(pfd);
  return fd;
}

/* A mount whose destination lies under neither /proc nor /sys must not land in a
   procfs or sysfs through a symlink of the image (e.g. /x -> /proc, a volume on /x):
   it would cover the files the sysctls, masks and read-only paths are for. */
static void refuse_pseudo_target(int tfd, const char* dst) {
  struct statfs sf;
  if (sys.fstatfs(tfd, &sf) < 0) fail(errno, "mount destination %s", dst);
  long want = pseudofs_magic(dst);
  int proc = sf.f_type == PROC_SUPER_MAGIC, sysfs = sf.f_type == 0x62656572;
  if ((proc || sysfs) && (long)sf.f_type != want)
    fail(0, "mount destination %s resolves into %s (through a symlink): refused", dst, proc ? "/proc" : "/sys");
}

/* runc's checkProcMount: a bind on /proc itself must bring a procfs */
static void check_proc_bind_source(const char* src, const char* dst) {
  if (!under_dir(dst, "proc")) return;
  const char* rest = dst;
  while (*rest == '/') rest++;
  rest += 4;
  while (*rest == '/') rest++;
  if (*rest) return;
  int s = sys.openat(AT_FDCWD, src, O_PATH | O_CLOEXEC, 0);
  if (s < 0) fail(errno, "mount source %s", src);
  struct statfs sf;
  if (sys.fstatfs(s, &sf) < 0) fail(errno, "mount source %s", src);
  sys.close(s);
  if (sf.f_type != PROC_SUPER_MAGIC) fail(0, "\"/proc\" cannot be mounted because it is not of type proc (source %s)", src);
}

void op_mount(const struct op* op) {
  unsigned long flags = INT(op, MOUNT_I_FLAGS);
  unsigned long prop = INT(op, MOUNT_I_PROPAGATION);
  uint64_t attr_set = INT(op, MOUNT_I_ATTR_SET), attr_clr = INT(op, MOUNT_I_ATTR_CLR);
  int create = (int)INT(op, MOUNT_I_CREATE);
  int target_host = (int)INT(op, MOUNT_I_TARGET_HOST);
  const char *src = STR(op, 0), *dst = STR(op, 1), *type = STR(op, 2), *data = STR(op, 3);
  int bind = (flags & MS_BIND) != 0;
  int tfd = -1;
  /* as runc: a tmpfs is mounted with the config's data as it is, and its root then
     takes the mode of the directory it covers, when there was one (that mode wins
     over a mode= of the config; over a missing directory the config's mode stays) */
  int covered_mode = -1;
  if (!target_host && !(flags & MS_REMOUNT) && strcmp(type, "tmpfs") == 0) {
    int efd = open_in_root(dst, O_PATH);
    struct stat st;
    if (efd >= 0 && sys.fstatat(efd, "", &st, AT_EMPTY_PATH) == 0) covered_mode = (int)(st.st_mode & 07777);
    if (efd >= 0) sys.close(efd);
  }
  if (!target_host) {
    if (!bind && (!strcmp(type, "proc") || !strcmp(type, "sysfs"))) {
      tfd = pseudo_mount_point(dst, type);
    } else {
      if (create == 3) {
        /* an idmapped mount's source was cloned before the namespaces: its detached
           mount says what it is (the path may not be reachable from here) */
        struct stat st;
        uint64_t idslot = INT(op, MOUNT_I_IDMAP);
        int r = idslot ? sys.fstatat(idmap_peek(idslot - 1), "", &st, AT_EMPTY_PATH) : sys.fstatat(AT_FDCWD, src, &st, 0);
        if (r < 0) fail(errno, "mount source %s", src);
        create = S_ISDIR(st.st_mode) ? 1 : 2;
      }
      tfd = create ? ensure_in_root(dst, create) : open_in_root(dst, O_PATH);
      if (tfd < 0) fail(errno, "mount destination %s", dst);
      refuse_pseudo_target(tfd, dst);
      if (bind) check_proc_bind_source(src, dst);
    }
  }
  const char* target = target_host ? dst : NULL;
  if (flags & MS_REMOUNT) {
    if ((tfd >= 0 ? remount_fd(tfd, flags & ~MS_REMOUNT) : sys.mount(NULL, target, NULL, flags, NULL)) < 0) fail(errno, "remount %s", dst);
    if (tfd >= 0) sys.close(tfd);
    return;
  }
  int copyup = !bind && !target_host && INT(op, MOUNT_I_TMPCOPYUP) && tfd >= 0;
  unsigned long first = bind ? (flags & (MS_BIND | MS_REC)) : (flags & ~(MS_REMOUNT));
  int covered = -1;
  if (copyup) {
    /* opened before the mount, this still reads the directory the tmpfs covers */
    covered = sys.openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (covered < 0) fail(errno, "tmpcopyup: opening %s", dst);
    first &= ~MS_RDONLY; /* filled first, made read-only after */
  }
  uint64_t idmap = INT(op, MOUNT_I_IDMAP);
  if (idmap) {
    /* the detached idmapped mount made before the namespaces (idmap.c) */
    if (tfd < 0) fail(EINVAL, "an idmapped mount needs a target in the rootfs");
    if (idmap_attach(idmap_take(idmap - 1), tfd) < 0) fail(errno, "moving the idmapped mount of %s onto %s", src, dst);
  } else if (mount_fds(*src ? src : NULL, -1, target, tfd, *type ? type : NULL, first, bind ? NULL : (*data ? data : NULL)) < 0) {
    int e = errno;
    /* in a user namespace the kernel allows only some file system types (rootless) */
    fail(e, "mount %s on %s (type %s)%s", src, dst, *type ? type : "bind",
         e == EPERM && S.own_userns ? " (not permitted in the container's user namespace)" : "");
  }
  if (tfd >= 0) sys.close(tfd);
  /* the fd still names the covered directory: later steps reopen the new mount */
  int afd = -1;
  if (!target_host && (bind || prop || attr_set || attr_clr || copyup || covered_mode >= 0)) {
    afd = open_in_root(dst, O_PATH);
    if (afd < 0) fail(errno, "reopening mount destination %s", dst);
  }
  if (copyup) {
    int fresh = sys.openat(afd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fresh < 0) fail(errno, "tmpcopyup: opening the new tmpfs on %s", dst);
    copy_tree(covered, fresh, dst, 0);
    sys.close(fresh);
    sys.close(covered);
  }
  if (covered_mode >= 0) {
    /* through the verified fd directory: the mount's root, not a path the image controls */
    char name[16];
    snprintf(name, sizeof name, "%d", afd);
    if (sys.fchmodat(fd_dir(), name, (mode_t)covered_mode, 0) < 0) fail(errno, "chmod %s to %04o (the mode of the directory it covers)", dst, covered_mode);
  }
  if (copyup && (flags & MS_RDONLY) && mount_fds(NULL, -1, NULL, afd, NULL, MS_REMOUNT | flags, *data ? data : NULL) < 0)
    fail(errno, "tmpcopyup: remounting %s read-only", dst);
  unsigned long extra = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (bind && extra) {
    if ((afd >= 0 ? remount_fd(afd, MS_BIND | extra) : sys.mount(NULL, target, NULL, MS_BIND | extra | MS_REMOUNT, NULL)) < 0)
      fail(errno, "remount %s with its options", dst);
  }
  if (attr_set || attr_clr) {
    struct mount_attr ma = {.attr_set = attr_set, .attr_clr = attr_clr};
    int r = afd >= 0 ? sys.mount_setattr(afd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof ma) : sys.mount_setattr(AT_FDCWD, target, AT_RECURSIVE, &ma, sizeof ma);
    if (r < 0) fail(errno, "applying recursive options to %s", dst);
  }
  if (prop && mount_fds(NULL, -1, target, afd, NULL, prop, NULL) < 0) fail(errno, "setting propagation of %s", dst);
  if (afd >= 0) sys.close(afd);
  /* the rootfs self-bind: from here on, paths of the rootfs resolve in it */
  if (target_host && INT(op, MOUNT_I_SOURCE_IN_ROOT) == 2) set_rootfs(dst);
}

void op_mknod(const struct op* op) {
  const char* path = STR(op, 0);
  mode_t mode = (mode_t)INT(op, 0);
  dev_t dev = makedev((unsigned)INT(op, 1), (unsigned)INT(op, 2));
  char buf[PATH_MAX];
  const char* name;
  int dfd = open_parent_in_root(path, buf, sizeof buf, &name);
  if (dfd < 0) fail(errno, "device %s: parent directory", path);
  if (INT(op, 5)) {
    /* in a user namespace mknod is not allowed: bind the host's node instead */
    int f = sys.openat(dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0 && errno != EEXIST) fail(errno, "device %s: creating bind target", path);
    if (f >= 0) sys.close(f);
    int t = sys.openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    if (t < 0) fail(errno, "device %s", path);
    if (mount_fds(path, -1, NULL, t, NULL, MS_BIND, NULL) < 0) fail(errno, "device %s: bind from host", path);
    sys.close(t);
  } else {
    if (sys.mknodat(dfd, name, mode, dev) < 0) {
      if (errno != EEXIST) fail(errno, "mknod %s", path);
      sys.unlinkat(dfd, name, 0);
      if (sys.mknodat(dfd, name, mode, dev) < 0) fail(errno, "mknod %s", path);
    }
    if (sys.fchmodat(dfd, name, mode & 07777, 0) < 0) fail(errno, "chmod %s", path);
    if (sys.fchownat(dfd, name, (uid_t)INT(op, 3), (gid_t)INT(op, 4), AT_SYMLINK_NOFOLLOW) < 0) fail(errno, "chown %s", path);
  }
  sys.close(dfd);
}

void op_symlink(const struct op* op) {
  const char *target = STR(op, 0), *link = STR(op, 1);
  char buf[PATH_MAX];
  const char* name;
  int dfd = open_parent_in_root(link, buf, sizeof buf, &name);
  if (dfd < 0 || (sys.symlinkat(target, dfd, name) < 0 && errno != EEXIST)) fail(errno, "symlink %s -> %s", link, target);
  sys.close(dfd);
}

void op_mkdir(const struct op* op) {
  int fd = mkdir_all_in_root(STR(op, 0), (mode_t)INT(op, 0));
  if (fd < 0) fail(errno, "mkdir %s", STR(op, 0));
  sys.close(fd);
}

/* ---- the root ---- */

/* mountinfo's octal escapes (\040 for a space ...), in place */
static void unescape(char* s) {
  char* w = s;
  for (char* r = s; *r;) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 4;
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
}

static char* read_all(int fd, const char* what) {
  size_t cap = 65536, len = 0;
  char* buf = xcalloc(1, cap + 1);
  for (;;) {
    if (len == cap) {
      char* bigger = realloc(buf, cap * 2 + 1);
      if (!bigger) fail(ENOMEM, "reading %s", what);
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = sys.read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno, "reading %s", what);
    if (n == 0) break;
    len += (size_t)n;
  }
  buf[len] = 0;
  return buf;
}

/*
 * --no-pivot, as runc's msMoveRoot: the old root stays in this mount namespace
 * below the chroot, and the kernel lets a process mount a fresh procfs or sysfs in
 * a user namespace of its own if ANY mount of the namespace shows one fully
 * (`unshare -mrpf mount -t proc ...` from inside). So every full procfs and sysfs
 * mount outside the rootfs is made a slave (so nothing propagates back) and
 * detached, or covered with a tmpfs where it may not be unmounted; then the rootfs
 * is moved over / and chrooted into.
 */
static void move_root(const char* rootfs) {
  char real[PATH_MAX];
  if (fd_host_path(S.rootfd, real, sizeof real) < 0) fail(errno, "the rootfs's path");
  int fd = pseudofs_open("/proc/self/mountinfo", O_RDONLY, 0);
  char* info = read_all(fd, "/proc/self/mountinfo");
  sys.close(fd);
  for (char *line = info, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    /* id parent major:minor root mount-point options [optional...] - fstype source super */
    char* f[6] = {0};
    char* save = NULL;
    char* tok = strtok_r(line, " ", &save);
    int i = 0;
    for (; tok && i < 6; tok = strtok_r(NULL, " ", &save)) f[i++] = tok;
    while (tok && strcmp(tok, "-")) tok = strtok_r(NULL, " ", &save);
    char* fstype = tok ? strtok_r(NULL, " ", &save) : NULL;
    if (i < 6 || !fstype) continue;
    unescape(f[3]);
    unescape(f[4]);
    if (strcmp(f[3], "/") || (strcmp(fstype, "proc") && strcmp(fstype, "sysfs"))) continue;
    if (under_dir(f[4], real)) continue; /* the container's own */
    if (sys.mount(NULL, f[4], NULL, MS_SLAVE | MS_REC, NULL) < 0) {
      if (errno == ENOENT) continue; /* under one detached already */
      fail(errno, "--no-pivot: making %s a slave", f[4]);
    }
    if (sys.umount2(f[4], MNT_DETACH) < 0) {
      if (errno != EINVAL && errno != EPERM) fail(errno, "--no-pivot: detaching %s", f[4]);
      if (sys.mount("tmpfs", f[4], "tmpfs", 0, NULL) < 0) fail(errno, "--no-pivot: covering %s", f[4]);
    }
  }
  free(info);
  if (sys.mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0) fail(errno, "moving rootfs %s to /", rootfs);
  if (sys.chroot(".") < 0) fail(errno, "chroot");
}

void op_pivot_root(const struct op* op) {
  const char* rootfs = STR(op, 0);
  int mode = (int)INT(op, 0);
  fd_dir(); /* while / is still the host's: see fd_dir */
  if (sys.chdir(rootfs) < 0) fail(errno, "chdir to rootfs %s", rootfs);
  if (mode == 2) {
    if (sys.chroot(".") < 0) fail(errno, "chroot to %s", rootfs);
  } else if (mode == 1) {
    move_root(rootfs);
  } else {
    int oldroot = sys.openat(AT_FDCWD, "/", O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0);
    if (oldroot < 0) fail(errno, "opening old root");
    if (sys.pivot_root(".", ".") < 0) fail(errno, "pivot_root to %s", rootfs);
    /* the old root now sits on top of the new one: detach it, without letting the
       unmount propagate back to the host */
    if (sys.fchdir(oldroot) < 0) fail(errno, "fchdir old root");
    if (sys.mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail(errno, "making old root a slave");
    if (sys.umount2(".", MNT_DETACH) < 0) fail(errno, "detaching old root");
    sys.close(oldroot);
  }
  if (sys.chdir("/") < 0) fail(errno, "chdir /");
  S.pivoted = mode == 2 ? 2 : 1;
  set_rootfs("/");
  /* from here the container's own procfs serves (verified as every procfs use);
     the host's fd directory is kept only where the container has none */
  int own = pseudofs_open("/proc/self/fd", O_PATH | O_DIRECTORY, PSEUDO_TRY);
  if (own >= 0) {
    sys.close(S.fddir);
    S.fddir = own;
  }
}

/* The mount that holds the rootfs must not be shared for pivot_root, and a bind of
   the rootfs fails on an unbindable one: make just that mount private (in our own
   mount namespace). */
void op_parent_private(const char* rootfs) {
  char p[PATH_MAX];
  pathf(p, sizeof p, "%s", rootfs);
  for (;;) {
    struct statx sx;
    if (sys.statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) break;
    char* slash = strrchr(p, '/');
    if (!slash || slash == p) {
      strcpy(p, "/");
      break;
    }
    *slash = 0;
  }
  if (sys.mount(NULL, p, NULL, MS_PRIVATE, NULL) < 0) fail(errno, "making %s (the mount holding the rootfs) private", p);
}

void op_propagation(const struct op* op) {
  if (sys.mount(NULL, STR(op, 0), NULL, INT(op, 0), NULL) < 0) fail(errno, "setting propagation of %s", STR(op, 0));
}

void op_remount_ro_root(void) {
  int fd = sys.openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0 || remount_fd(fd, MS_BIND | MS_RDONLY) < 0) fail(errno, "remounting the rootfs read-only");
  sys.close(fd);
}

/* ---- stdio and the console (after pivot_root) ---- */

/*
 * runc's reOpenDevNull: any of stdio that is the device the container's /dev/null
 * is (the caller's /dev/null, often opened read-only) becomes the container's own
 * /dev/null, opened read-write. The node is resolved in the root and must be a
 * character device (not a fifo, a file or a link to one the image planted); it is
 * reopened through the verified fd directory, so what is checked is what is opened.
 * A /dev/null that a device entry made another device matches no stdio: nothing
 * is reopened, as with runc.
 */
void op_reopen_dev_null(void) {
  struct stat io[3];
  int chr = 0;
  for (int i = 0; i < 3; i++) {
    if (sys.fstatat(i, "", &io[i], AT_EMPTY_PATH) < 0) {
      if (errno != EBADF) fail(errno, "reopening /dev/null inside the container: fstat fd %d", i);
      io[i].st_mode = 0;
    }
    if (S_ISCHR(io[i].st_mode)) chr = 1;
  }
  if (!chr) return; /* pipes, files, sockets: nothing to compare */
  int p = open_in_root("/dev/null", O_PATH);
  struct stat ns;
  if (p < 0 || sys.fstatat(p, "", &ns, AT_EMPTY_PATH) < 0) fail(errno, "reopening /dev/null inside the container: open /dev/null");
  if (!S_ISCHR(ns.st_mode)) fail(0, "reopening /dev/null inside the container: /dev/null is not a character device");
  int fd = -1;
  for (int i = 0; i < 3; i++) {
    if (!S_ISCHR(io[i].st_mode) || io[i].st_rdev != ns.st_rdev) continue;
    if (fd < 0) {
      char name[16];
      snprintf(name, sizeof name, "%d", p);
      fd = sys.openat(fd_dir(), name, O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
      if (fd < 0) fail(errno, "reopening /dev/null inside the container: open /dev/null");
    }
    if (sys.dup2(fd, i) < 0) fail(errno, "reopening /dev/null inside the container: dup2 fd %d", i);
  }
  sys.close(p);
  if (fd >= 0) sys.close(fd);
}

/*
 * runc's mountConsole: /dev/console (a file made if missing) with the pty bound on
 * it, so the container sees its terminal there. The pty is the fd itself (named in
 * the verified fd directory), not a path of the container's /dev/pts.
 */
void mount_console(int pty, const char* name) {
  int fd = ensure_in_root("/dev/console", 2);
  if (fd < 0) fail(errno, "creating /dev/console");
  refuse_pseudo_target(fd, "/dev/console");
  if (mount_fds(NULL, pty, NULL, fd, NULL, MS_BIND, NULL) < 0) fail(errno, "bind-mounting %s on /dev/console", name);
  sys.close(fd);
}

/* ---- masked and read-only paths (after pivot_root) ----
   Resolved in the root (a symlink cannot lead them outside) and mounted by fd through
   the host's fd directory (never through the container's /proc). A symlinked /proc
   cannot carry them elsewhere: proc is only ever mounted on an ordinary directory,
   and nothing may be mounted into it through a symlink (op_mount). */

void op_mask(const char* path, const char* data) {
  int fd = open_in_root(path, O_PATH);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail(errno, "masked path %s", path);
  }
  struct stat st;
  if (sys.fstatat(fd, "", &st, AT_EMPTY_PATH) < 0) fail(errno, "masked path %s", path);
  if (S_ISDIR(st.st_mode)) {
    /* runc's maskPath: a read-only tmpfs with no data but the mount label */
    if (mount_fds("tmpfs", -1, NULL, fd, "tmpfs", MS_RDONLY, *data ? data : NULL) < 0) fail(errno, "masking directory %s", path);
  } else {
    /* the container's /dev/null, which must be the null device (not a link the
       image planted: /dev/null -> the very file to mask) */
    int null = open_in_root("/dev/null", O_PATH);
    struct stat ns;
    if (null < 0 || sys.fstatat(null, "", &ns, AT_EMPTY_PATH) < 0) fail(errno, "masking %s: /dev/null", path);
    if (!S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) fail(0, "masking %s: /dev/null of the container is not the null device", path);
    if (mount_fds(NULL, null, NULL, fd, NULL, MS_BIND, NULL) < 0) fail(errno, "masking %s", path);
    sys.close(null);
  }
  sys.close(fd);
}

/* As runc: a recursive bind onto itself, remounted read-only keeping the nosuid,
   nodev and noexec it had. */
void op_readonly(const char* path) {
  int fd = open_in_root(path, O_PATH);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail(errno, "readonly path %s", path);
  }
  if (mount_fds(NULL, fd, NULL, fd, NULL, MS_BIND | MS_REC, NULL) < 0) fail(errno, "binding readonly path %s", path);
  sys.close(fd);
  fd = open_in_root(path, O_PATH);
  if (fd < 0) fail(errno, "readonly path %s", path);
  unsigned long keep = mount_flags_of(fd) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (remount_fd(fd, MS_BIND | MS_RDONLY | keep) < 0) fail(errno, "remounting %s read-only", path);
  sys.close(fd);
}
