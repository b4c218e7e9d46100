/*
 * A recording fake of the helper's system-call table (addon/init/sys.h), linked
 * instead of sys_linux.c into a test build of the helper. Each call is printed on
 * stdout as one line ("mount /host/data /rootfs/data - BIND|REC -"), with fds and
 * /proc/self/fd/N names shown as the paths they stand for, and answered from a
 * small model of the file system:
 *   - nodes: FAKE_FS, "kind path [target]" per line (kind d, f, l, c; a c's target is
 *     its "major:minor", 1:3 by default); parents of a
 *     node are directories; the helper's mkdir/mknod/symlink/creat add nodes;
 *   - mounts: "/" (ext4), "/proc" (proc), "/sys" (sysfs), FAKE_MOUNTS ("type path
 *     [flags]" per line), and every mount the helper makes. Everything below a proc
 *     or sysfs mount exists: "self" -> "1", "thread-self" -> "1/task/1", "<n>/fd" a
 *     directory whose entries are the magic links to this process's fds;
 *   - the root and working directory, moved by chroot, pivot_root, chdir, fchdir;
 *   - FAKE_FDS "n=path,..." names fds the test passes in (namespace files, exec.fifo,
 *     and stdio: "0=/dev/null" makes fd 0 the node /dev/null of FAKE_FS);
 *   - FAKE_FORK "parent,child,..." what each fork returns (default: the parent);
 *   - FAKE_HOOK_STATUS the status waitpid reports; FAKE_WRITE_EPIPE paths whose
 *     writes fail with EPIPE; FAKE_MOUNTINFO the text of /proc/<n>/mountinfo;
 *     FAKE_READ "name=text" what the first read of the fd named so returns;
 *   - FAKE_FAIL "call=errno,...": that call fails with that errno ("prctl_keepcaps",
 *     "prctl_ambient", "prctl_dumpable1": only that prctl; "mount.<type>": mounts of that type).
 * The sync socket is faked: sends are printed, every receive is an ACK (pid 4242).
 * execve prints its arguments and exits 0.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
#include "sys.h"
#include "plan.h"

#define MAXN 4096
#define FD0 100
#define PROC_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define TMPFS_MAGIC 0x01021994
#define EXT4_MAGIC 0xef53

struct node { char path[512]; char kind; char target[512]; };
struct mnt { char path[512]; char type[32]; unsigned long flags; };
static struct node nodes[MAXN];
static int nnodes;
static struct mnt mnts[256];
static int nmnts;
static char fdpath[MAXN][512];
static char fdtree[MAXN]; /* 1: a detached mount from open_tree (fdpath is its source) */
static char root[512] = "", cwd[512] = "/";
static char forks[256];
static const char* fork_next;

/* ---- output ---- */
static void out(const char* fmt, ...) {
  char b[16384];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b, sizeof b - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof b - 2) n = sizeof b - 2;
  b[n++] = '\n';
  ssize_t w = write(1, b, (size_t)n);
  (void)w;
}

static int failing(const char* call) {
  const char* f = getenv("FAKE_FAIL");
  if (!f) return 0;
  size_t n = strlen(call);
  for (const char* p = f; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
    if (!strncmp(p, call, n) && p[n] == '=') {
      errno = atoi(p + n + 1);
      return 1;
    }
  }
  return 0;
}
#define FAILS(name) \
  if (failing(name)) return -1

/* ---- the model ---- */
static void norm(char* p) {
  /* collapse // and /./ and resolve .. lexically (callers resolve symlinks first) */
  char tmp[1024], *parts[256];
  int n = 0;
  snprintf(tmp, sizeof tmp, "%s", p);
  char* save = NULL;
  for (char* t = strtok_r(tmp, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
    if (!strcmp(t, ".")) continue;
    if (!strcmp(t, "..")) {
      if (n) n--;
      continue;
    }
    parts[n++] = t;
  }
  char o[1024] = "";
  for (int i = 0; i < n; i++) {
    strcat(o, "/");
    strcat(o, parts[i]);
  }
  if (!*o) strcpy(o, "/");
  strcpy(p, o);
}

static void join(char* o, size_t n, const char* a, const char* b) {
  if (b[0] == '/') snprintf(o, n, "%s", b);
  else snprintf(o, n, "%s/%s", a, b);
  norm(o);
}

static struct node* find(const char* p) {
  for (int i = nnodes - 1; i >= 0; i--)
    if (!strcmp(nodes[i].path, p)) return nodes[i].kind ? &nodes[i] : NULL;
  return NULL;
}

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

static void add(char kind, const char* p, const char* target) {
  if (nnodes >= MAXN) return;
  struct node* n = &nodes[nnodes++];
  snprintf(n->path, sizeof n->path, "%s", p);
  unescape(n->path);
  norm(n->path);
  n->kind = kind;
  snprintf(n->target, sizeof n->target, "%s", target ? target : "");
}

static int is_prefix(const char* dir, const char* p) {
  size_t n = strlen(dir);
  if (!strcmp(dir, "/")) return 1;
  return !strncmp(p, dir, n) && (p[n] == 0 || p[n] == '/');
}

static struct mnt* mount_of(const char* p) {
  struct mnt* best = NULL;
  for (int i = 0; i < nmnts; i++)
    if (is_prefix(mnts[i].path, p) && (!best || strlen(mnts[i].path) >= strlen(best->path))) best = &mnts[i];
  return best;
}

static int is_mount_point(const char* p) {
  for (int i = 0; i < nmnts; i++)
    if (!strcmp(mnts[i].path, p)) return 1;
  return 0;
}

static long magic_of(const char* type) {
  if (!strcmp(type, "proc")) return PROC_MAGIC;
  if (!strcmp(type, "sysfs")) return SYSFS_MAGIC;
  if (!strcmp(type, "tmpfs")) return TMPFS_MAGIC;
  return EXT4_MAGIC;
}

/* kind of an absolute path: 'd' 'f' 'l' 'c' 'm' (magic fd link), 0 missing; *target for links */
static char kind_of(const char* p, char* target, size_t tn) {
  struct node* n = find(p);
  if (n) {
    if (target) snprintf(target, tn, "%s", n->target);
    return n->kind;
  }
  struct mnt* m = mount_of(p);
  if (m && (!strcmp(m->type, "proc") || !strcmp(m->type, "sysfs"))) {
    const char* rel = p + strlen(m->path);
    if (!strcmp(m->path, "/")) rel = p;
    while (*rel == '/') rel++;
    if (!*rel) return 'd';
    if (!strcmp(m->type, "proc")) {
      if (!strcmp(rel, "self") || !strcmp(rel, "thread-self")) {
        if (target) snprintf(target, tn, "%s", rel[0] == 's' ? "1" : "1/task/1");
        return 'l';
      }
      int a, b, used = 0;
      if (sscanf(rel, "%d/fd%n", &a, &used) == 1 && rel[used] == 0) return 'd';
      if (sscanf(rel, "%d/fd/%d%n", &a, &b, &used) == 2 && rel[used] == 0) {
        if (target && b >= 0 && b < MAXN) snprintf(target, tn, "%s", fdpath[b][0] ? fdpath[b] : "?");
        return 'm';
      }
      if (sscanf(rel, "%d%n", &a, &used) == 1 && rel[used] == 0) return 'd';
      static const char* dirs[] = {"sys", "acpi", "scsi", "bus", "fs", "irq", "driver", "tty", "sys/kernel", "sys/net"};
      for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (!strcmp(rel, dirs[i])) return 'd';
      return 'f';
    }
    return 'd'; /* sysfs: directories unless FAKE_FS says otherwise */
  }
  /* an implicit parent of a node */
  size_t len = strlen(p);
  for (int i = 0; i < nnodes; i++)
    if (nodes[i].kind && (!strcmp(p, "/") || (!strncmp(nodes[i].path, p, len) && nodes[i].path[len] == '/'))) return 'd';
  if (is_mount_point(p)) return 'd';
  return 0;
}

/* Path resolution as openat2 does it. follow: follow the last component. */
static int resolve(int dirfd, const char* path, uint64_t rflags, int follow, char* outp, size_t on) {
  char base[512], rootbase[512];
  if (dirfd == AT_FDCWD) snprintf(base, sizeof base, "%s", cwd);
  else if (dirfd >= 0 && dirfd < MAXN && fdpath[dirfd][0]) snprintf(base, sizeof base, "%s", fdpath[dirfd]);
  else return errno = EBADF, -1;
  snprintf(rootbase, sizeof rootbase, "%s", (rflags & (RESOLVE_IN_ROOT | RESOLVE_BENEATH)) ? base : (*root ? root : "/"));
  char todo[2048], cur[1024];
  if (path[0] == '/') {
    if (rflags & RESOLVE_BENEATH) return errno = EXDEV, -1;
    snprintf(cur, sizeof cur, "%s", rootbase);
  } else {
    snprintf(cur, sizeof cur, "%s", base);
  }
  snprintf(todo, sizeof todo, "%s", path);
  int links = 0;
  char* rest = todo;
  while (rest && *rest) {
    while (*rest == '/') rest++;
    if (!*rest) break;
    char* slash = strchr(rest, '/');
    char comp[512];
    size_t cl = slash ? (size_t)(slash - rest) : strlen(rest);
    snprintf(comp, sizeof comp, "%.*s", (int)cl, rest);
    rest = slash ? slash + 1 : NULL;
    int last = !rest || !*rest;
    if (!strcmp(comp, ".")) continue;
    char next[1024];
    if (!strcmp(comp, "..")) {
      join(next, sizeof next, cur, "..");
      if (!is_prefix(rootbase, next)) {
        if (rflags & RESOLVE_BENEATH) return errno = EXDEV, -1;
        snprintf(next, sizeof next, "%s", rootbase);
      }
      snprintf(cur, sizeof cur, "%s", next);
      continue;
    }
    join(next, sizeof next, cur, comp);
    if ((rflags & RESOLVE_NO_XDEV) && is_mount_point(next)) return errno = EXDEV, -1;
    char target[512] = "";
    char k = kind_of(next, target, sizeof target);
    if (!k) {
      if (last) {
        snprintf(outp, on, "%s", next);
        return errno = ENOENT, -2; /* missing last component: caller may create it */
      }
      return errno = ENOENT, -1;
    }
    if ((k == 'l' || k == 'm') && (!last || follow)) {
      if (k == 'm') {
        if (rflags & RESOLVE_NO_MAGICLINKS) return errno = ELOOP, -1;
        snprintf(cur, sizeof cur, "%s", target);
        continue;
      }
      if (rflags & RESOLVE_NO_SYMLINKS) return errno = ELOOP, -1;
      if (++links > 40) return errno = ELOOP, -1;
      char nt[2048];
      snprintf(nt, sizeof nt, "%s%s%s", target, rest ? "/" : "", rest ? rest : "");
      snprintf(todo, sizeof todo, "%s", nt);
      rest = todo;
      if (target[0] == '/') snprintf(cur, sizeof cur, "%s", (rflags & RESOLVE_IN_ROOT) ? rootbase : (*root ? root : "/"));
      if ((rflags & RESOLVE_BENEATH) && target[0] == '/') return errno = EXDEV, -1;
      continue;
    }
    snprintf(cur, sizeof cur, "%s", next);
  }
  snprintf(outp, on, "%s", cur);
  return 0;
}

static int new_fd(const char* p) {
  for (int i = FD0; i < MAXN; i++)
    if (!fdpath[i][0]) {
      snprintf(fdpath[i], sizeof fdpath[i], "%s", p);
      return i;
    }
  return errno = EMFILE, -1;
}

static const char* fdname(int fd) {
  static char b[8][600];
  static int k;
  k = (k + 1) % 8;
  if (fd == AT_FDCWD) return "AT_FDCWD";
  if (fd >= 0 && fd < MAXN && fdpath[fd][0]) snprintf(b[k], sizeof b[k], "%s%s", fdtree[fd] ? "tree:" : "", fdpath[fd]);
  else snprintf(b[k], sizeof b[k], "fd%d", fd);
  return b[k];
}

/* a path argument as the kernel would reach it (for the log) */
static const char* shown(int dirfd, const char* p) {
  static char b[8][600];
  static int k;
  k = (k + 1) % 8;
  if (!p) return "-";
  char r[512];
  int rc = resolve(dirfd, p, 0, 1, r, sizeof r);
  if (rc == 0 || rc == -2) snprintf(b[k], sizeof b[k], "%s", r);
  else snprintf(b[k], sizeof b[k], "?%s", p);
  return b[k];
}

static const char* msflags(unsigned long f) {
  static char b[4][256];
  static int k;
  k = (k + 1) % 4;
  static const struct { unsigned long v; const char* n; } t[] = {
      {MS_RDONLY, "RDONLY"}, {MS_NOSUID, "NOSUID"}, {MS_NODEV, "NODEV"}, {MS_NOEXEC, "NOEXEC"}, {MS_REMOUNT, "REMOUNT"},
      {MS_NOATIME, "NOATIME"}, {MS_BIND, "BIND"}, {MS_MOVE, "MOVE"}, {MS_REC, "REC"}, {MS_PRIVATE, "PRIVATE"},
      {MS_SLAVE, "SLAVE"}, {MS_SHARED, "SHARED"}, {MS_UNBINDABLE, "UNBINDABLE"}, {MS_RELATIME, "RELATIME"}, {MS_STRICTATIME, "STRICTATIME"}};
  b[k][0] = 0;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (f & t[i].v) {
      if (b[k][0]) strcat(b[k], "|");
      strcat(b[k], t[i].n);
      f &= ~t[i].v;
    }
  if (f) sprintf(b[k] + strlen(b[k]), "%s%#lx", b[k][0] ? "|" : "", f);
  if (!b[k][0]) strcpy(b[k], "0");
  return b[k];
}

static const char* rflags_s(uint64_t r) {
  static char b[128];
  b[0] = 0;
  if (r & RESOLVE_IN_ROOT) strcat(b, "IN_ROOT|");
  if (r & RESOLVE_BENEATH) strcat(b, "BENEATH|");
  if (r & RESOLVE_NO_SYMLINKS) strcat(b, "NO_SYMLINKS|");
  if (r & RESOLVE_NO_MAGICLINKS) strcat(b, "NO_MAGICLINKS|");
  if (r & RESOLVE_NO_XDEV) strcat(b, "NO_XDEV|");
  if (*b) b[strlen(b) - 1] = 0;
  else strcpy(b, "0");
  return b;
}

__attribute__((constructor)) static void setup(void) {
  mnts[nmnts++] = (struct mnt){"/", "ext4", 0};
  mnts[nmnts++] = (struct mnt){"/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC};
  mnts[nmnts++] = (struct mnt){"/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC};
  const char* fs = getenv("FAKE_FS");
  if (fs) {
    char* copy = strdup(fs);
    for (char* line = strtok(copy, "\n;"); line; line = strtok(NULL, "\n;")) {
      char kind, p[512] = "", t[512] = "";
      if (sscanf(line, " %c %511s %511s", &kind, p, t) >= 2) add(kind, p, t);
    }
    free(copy);
  }
  const char* ms = getenv("FAKE_MOUNTS");
  if (ms) {
    char* copy = strdup(ms);
    for (char* line = strtok(copy, "\n;"); line; line = strtok(NULL, "\n;")) {
      struct mnt m = {0};
      unsigned long fl = 0;
      if (sscanf(line, " %31s %511s %lx", m.type, m.path, &fl) >= 2) {
        m.flags = fl;
        mnts[nmnts++] = m;
      }
    }
    free(copy);
  }
  const char* fds = getenv("FAKE_FDS");
  if (fds) {
    char* copy = strdup(fds);
    for (char* e = strtok(copy, ","); e; e = strtok(NULL, ",")) {
      int n;
      char p[512];
      if (sscanf(e, "%d=%511s", &n, p) == 2 && n >= 0 && n < MAXN) snprintf(fdpath[n], sizeof fdpath[n], "%s", p);
    }
    free(copy);
  }
  snprintf(forks, sizeof forks, "%s", getenv("FAKE_FORK") ? getenv("FAKE_FORK") : "");
  fork_next = forks;
}

/* ---- the table ---- */

static int f_mount(const char* src, const char* target, const char* type, unsigned long flags, const void* data) {
  FAILS("mount");
  char bytype[48];
  snprintf(bytype, sizeof bytype, "mount.%s", type ? type : "-");
  FAILS(bytype);
  char t[512];
  int rc = resolve(AT_FDCWD, target, 0, 1, t, sizeof t);
  const char* s = (flags & (MS_BIND | MS_MOVE)) && src ? shown(AT_FDCWD, src) : (src ? src : "-");
  out("mount %s %s %s %s %s", s, rc == 0 ? t : target, type ? type : "-", msflags(flags), data ? (const char*)data : "-");
  if (rc != 0) return -1;
  if (flags & (MS_REMOUNT | MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE)) {
    if (flags & MS_REMOUNT) {
      struct mnt* m = mount_of(t);
      if (m) m->flags = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
    return 0;
  }
  if (nmnts >= 256) return errno = ENOMEM, -1;
  struct mnt m = {0};
  snprintf(m.path, sizeof m.path, "%s", t);
  m.flags = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (flags & (MS_BIND | MS_MOVE)) {
    char sp[512];
    struct mnt* from = resolve(AT_FDCWD, src, 0, 1, sp, sizeof sp) == 0 ? mount_of(sp) : NULL;
    snprintf(m.type, sizeof m.type, "%s", from ? from->type : "ext4");
    if (from && (flags & MS_BIND)) m.flags = from->flags;
  } else {
    snprintf(m.type, sizeof m.type, "%s", type ? type : "none");
  }
  mnts[nmnts++] = m;
  return 0;
}

static int f_umount2(const char* target, int flags) {
  FAILS("umount2");
  out("umount2 %s %s", shown(AT_FDCWD, target), flags & MNT_DETACH ? "DETACH" : "0");
  return 0;
}

static int f_mount_setattr(int dirfd, const char* path, unsigned flags, struct mount_attr* attr, size_t size) {
  FAILS("mount_setattr");
  char us[600] = "";
  if (attr->attr_set & MOUNT_ATTR_IDMAP) snprintf(us, sizeof us, " userns=%s", fdname((int)attr->userns_fd));
  out("mount_setattr %s set=%#llx clr=%#llx%s%s", *path ? shown(dirfd, path) : fdname(dirfd), (unsigned long long)attr->attr_set,
      (unsigned long long)attr->attr_clr, (flags & AT_RECURSIVE) ? " RECURSIVE" : "", us);
  return 0;
}

/* detached mounts: shown as "tree:<source>" (open_tree) or "fs:<type>" (fsopen,
   fsmount); move_mount attaches one as a mount of that type */
static char fdtype[MAXN][32];

static int f_open_tree(int dirfd, const char* path, unsigned flags) {
  FAILS("open_tree");
  char p[512];
  if (resolve(dirfd, path, 0, 1, p, sizeof p)) return out("open_tree %s = ENOENT", path), errno = ENOENT, -1;
  int fd = new_fd(p);
  struct mnt* m = mount_of(p);
  if (fd >= 0) {
    snprintf(fdtype[fd], sizeof fdtype[fd], "%s", m ? m->type : "ext4");
    fdtree[fd] = 1;
  }
  out("open_tree %s%s%s = %d", p, (flags & 1) ? " CLONE" : "", (flags & AT_RECURSIVE) ? " RECURSIVE" : "", fd);
  return fd;
}

static int f_fsopen(const char* type, unsigned flags) {
  FAILS("fsopen");
  char name[64];
  snprintf(name, sizeof name, "fs:%s", type);
  int fd = new_fd(name);
  if (fd >= 0) snprintf(fdtype[fd], sizeof fdtype[fd], "%s", type);
  out("fsopen %s = %d", type, fd);
  return fd;
}

static int f_fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  FAILS("fsconfig");
  if (cmd == 6) out("fsconfig %s CREATE", fdname(fd));
  else if (cmd == 1) out("fsconfig %s %s=%s", fdname(fd), key, (const char*)value);
  else out("fsconfig %s %s", fdname(fd), key);
  return 0;
}

static int f_fsmount(int fd, unsigned flags, unsigned attr) {
  FAILS("fsmount");
  int m = new_fd(fdname(fd));
  if (m >= 0 && fd >= 0 && fd < MAXN) memcpy(fdtype[m], fdtype[fd], sizeof fdtype[m]);
  out("fsmount %s = %d", fdname(fd), m);
  return m;
}

static int f_move_mount(int from, const char* fp, int to, const char* tp, unsigned flags) {
  FAILS("move_mount");
  if (to < 0 || to >= MAXN || !fdpath[to][0] || from < 0 || from >= MAXN || !fdpath[from][0]) return errno = EBADF, -1;
  out("move_mount %s -> %s", fdname(from), fdname(to));
  if (nmnts >= 256) return errno = ENOMEM, -1;
  struct mnt m = {0};
  snprintf(m.path, sizeof m.path, "%s", fdpath[to]);
  snprintf(m.type, sizeof m.type, "%s", fdtype[from][0] ? fdtype[from] : "ext4");
  mnts[nmnts++] = m;
  return 0;
}

static int f_pivot_root(const char* new_root, const char* put_old) {
  FAILS("pivot_root");
  char n[512];
  if (resolve(AT_FDCWD, new_root, 0, 1, n, sizeof n)) return -1;
  out("pivot_root %s %s", n, put_old);
  snprintf(root, sizeof root, "%s", strcmp(n, "/") ? n : "");
  return 0;
}

static int f_chroot(const char* p) {
  FAILS("chroot");
  char n[512];
  if (resolve(AT_FDCWD, p, 0, 1, n, sizeof n)) return -1;
  out("chroot %s", n);
  snprintf(root, sizeof root, "%s", strcmp(n, "/") ? n : "");
  return 0;
}

static int f_chdir(const char* p) {
  FAILS("chdir");
  char n[512];
  if (resolve(AT_FDCWD, p, 0, 1, n, sizeof n)) return out("chdir %s = %s", p, strerror(errno)), -1;
  out("chdir %s", n);
  snprintf(cwd, sizeof cwd, "%s", n);
  return 0;
}

static int f_fchdir(int fd) {
  FAILS("fchdir");
  if (fd < 0 || fd >= MAXN || !fdpath[fd][0]) return errno = EBADF, -1;
  out("fchdir %s", fdpath[fd]);
  snprintf(cwd, sizeof cwd, "%s", fdpath[fd]);
  return 0;
}

static char* f_getcwd(char* buf, size_t n) {
  if (failing("getcwd")) return NULL;
  const char* r = *root ? root : "/";
  if (!is_prefix(r, cwd)) return errno = ENOENT, NULL;
  const char* rel = cwd + (strcmp(r, "/") ? strlen(r) : 0);
  snprintf(buf, n, "%s", *rel ? rel : "/");
  out("getcwd = %s", buf);
  return buf;
}

static int open_common(const char* call, int dirfd, const char* path, int flags, mode_t mode, uint64_t rflags) {
  char p[512];
  int follow = !(flags & O_NOFOLLOW);
  int rc = resolve(dirfd, path, rflags, follow, p, sizeof p);
  if (rc == -2 && (flags & O_CREAT)) {
    add('f', p, NULL);
    rc = 0;
  }
  if (rc != 0) {
    int e = errno;
    out("%s %s %s %s = %s", call, fdname(dirfd), path, rflags_s(rflags), strerror(e));
    return errno = e, -1;
  }
  char k = kind_of(p, NULL, 0);
  if (k == 'l' && (flags & O_NOFOLLOW) && !(flags & O_PATH)) return out("%s %s %s = ELOOP", call, fdname(dirfd), path), errno = ELOOP, -1;
  if ((flags & O_DIRECTORY) && k != 'd') return out("%s %s %s %s = ENOTDIR", call, fdname(dirfd), path, rflags_s(rflags)), errno = ENOTDIR, -1;
  int fd = new_fd(p);
  out("%s %s %s %s = %d %s%s", call, fdname(dirfd), path, rflags_s(rflags), fd, p, (flags & O_ACCMODE) == O_RDWR ? " RDWR" : "");
  return fd;
}

static int f_openat(int dirfd, const char* path, int flags, mode_t mode) {
  FAILS("openat");
  return open_common("openat", dirfd, path, flags, mode, 0);
}

static int f_openat2(int dirfd, const char* path, struct open_how* how, size_t size) {
  FAILS("openat2");
  return open_common("openat2", dirfd, path, (int)how->flags, (mode_t)how->mode, how->resolve);
}

static int f_close(int fd) {
  FAILS("close");
  out("close %s", fdname(fd));
  if (fd >= FD0 && fd < MAXN) fdpath[fd][0] = 0, fdtree[fd] = 0;
  else if (fd >= 0 && fd < FD0) close(fd);
  return 0;
}

static int f_close_range(unsigned first, unsigned last, unsigned flags) {
  FAILS("close_range");
  out("close_range %u %u %s", first, last, flags == 4 ? "CLOEXEC" : "0");
  return 0;
}

static int f_fcntl(int fd, int cmd, long arg) {
  FAILS("fcntl");
  out("fcntl %s %s %ld", fdname(fd), cmd == F_SETFD ? "F_SETFD" : cmd == F_SETFL ? "F_SETFL" : "?", arg);
  return 0;
}

static int f_dup2(int from, int to) {
  FAILS("dup2");
  out("dup2 %s %d", fdname(from), to);
  /* the target now names what the source does (stdio made a pty, /dev/null ...) */
  if (from != to && from >= 0 && from < MAXN && to >= 0 && to < MAXN && fdpath[from][0]) memcpy(fdpath[to], fdpath[from], sizeof fdpath[to]);
  return to;
}

static ssize_t f_read(int fd, void* buf, size_t n) {
  if (failing("read")) return -1;
  static int done[MAXN];
  out("read %s", fdname(fd));
  const char* mi = getenv("FAKE_MOUNTINFO");
  if (fd >= 0 && fd < MAXN && strstr(fdpath[fd], "mountinfo") && mi && !done[fd]) {
    size_t l = strlen(mi);
    if (l > n) l = n;
    memcpy(buf, mi, l);
    done[fd] = 1;
    return (ssize_t)l;
  }
  /* FAKE_READ "name=text": the first read of the fd named so returns text */
  const char* fr = getenv("FAKE_READ");
  size_t nl = fd >= 0 && fd < MAXN ? strlen(fdpath[fd]) : 0;
  if (fr && nl && !done[fd] && !strncmp(fr, fdpath[fd], nl) && fr[nl] == '=') {
    size_t l = strlen(fr + nl + 1);
    if (l > n) l = n;
    memcpy(buf, fr + nl + 1, l);
    done[fd] = 1;
    return (ssize_t)l;
  }
  return 0;
}

static void log_sync(const struct sync_msg* m, int passed);

static ssize_t f_write(int fd, const void* buf, size_t n) {
  if (failing("write")) return -1;
  int syncfd = getenv("FAKE_SYNC_FD") ? atoi(getenv("FAKE_SYNC_FD")) : 3;
  if (fd == syncfd && n == sizeof(struct sync_msg)) {
    log_sync(buf, -1);
    return (ssize_t)n;
  }
  const char* ep = getenv("FAKE_WRITE_EPIPE");
  if (ep && fd >= 0 && fd < MAXN && fdpath[fd][0] && strstr(ep, fdpath[fd])) return out("write %s %zu = EPIPE", fdname(fd), n), errno = EPIPE, -1;
  if (n > 200) out("write %s %zu bytes", fdname(fd), n);
  else out("write %s %zu %.*s", fdname(fd), n, (int)n, (const char*)buf);
  return (ssize_t)n;
}

static ssize_t f_sendfile(int o, int i, off_t* off, size_t n) {
  out("sendfile %s %s %zu", fdname(o), fdname(i), n);
  return (ssize_t)n;
}

static long f_getdents64(int fd, void* buf, size_t n) {
  out("getdents64 %s", fdname(fd));
  return 0;
}

static int fill_stat(const char* p, struct stat* st) {
  char t[512] = "";
  char k = kind_of(p, t, sizeof t);
  if (!k) return errno = ENOENT, -1;
  memset(st, 0, sizeof *st);
  st->st_mode = k == 'd' ? S_IFDIR | 0755 : k == 'l' ? S_IFLNK | 0777 : k == 'c' ? S_IFCHR | 0666 : S_IFREG | 0644;
  /* a device is 1:3 unless FAKE_FS gives "c path major:minor" */
  unsigned ma = 1, mi = 3;
  if (k == 'c' && sscanf(t, "%u:%u", &ma, &mi) != 2) ma = 1, mi = 3;
  if (k == 'c') st->st_rdev = makedev(ma, mi);
  struct mnt* m = mount_of(p);
  st->st_ino = m && !strcmp(m->path, p) && (!strcmp(m->type, "proc") || !strcmp(m->type, "sysfs")) ? 1 : 1000 + (ino_t)(strlen(p) * 7);
  return 0;
}

static int f_fstatat(int dirfd, const char* path, struct stat* st, int flags) {
  FAILS("fstatat");
  char p[512];
  if (!*path && (flags & AT_EMPTY_PATH)) {
    if (dirfd < 0 || dirfd >= MAXN || !fdpath[dirfd][0]) return errno = EBADF, -1;
    snprintf(p, sizeof p, "%s", fdpath[dirfd]);
  } else if (resolve(dirfd, path, 0, !(flags & AT_SYMLINK_NOFOLLOW), p, sizeof p) != 0) {
    return out("fstatat %s %s = ENOENT", fdname(dirfd), path), errno = ENOENT, -1;
  }
  int r = fill_stat(p, st);
  out("fstatat %s %s = %s", fdname(dirfd), path, r ? "ENOENT" : (S_ISDIR(st->st_mode) ? "dir" : S_ISLNK(st->st_mode) ? "symlink" : S_ISCHR(st->st_mode) ? "chr" : "file"));
  return r;
}

static int f_fstatfs(int fd, struct statfs* st) {
  FAILS("fstatfs");
  if (fd < 0 || fd >= MAXN || !fdpath[fd][0]) return errno = EBADF, -1;
  struct mnt* m = mount_of(fdpath[fd]);
  memset(st, 0, sizeof *st);
  st->f_type = magic_of(m ? m->type : "ext4");
  unsigned long f = m ? m->flags : 0;
  st->f_flags = (f & MS_RDONLY ? ST_RDONLY : 0) | (f & MS_NOSUID ? ST_NOSUID : 0) | (f & MS_NODEV ? ST_NODEV : 0) | (f & MS_NOEXEC ? ST_NOEXEC : 0);
  out("fstatfs %s = %s", fdname(fd), m ? m->type : "ext4");
  return 0;
}

static int f_statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* sx) {
  FAILS("statx");
  char p[512];
  if (resolve(dirfd, path, 0, 0, p, sizeof p)) return errno = ENOENT, -1;
  memset(sx, 0, sizeof *sx);
  if (is_mount_point(p)) sx->stx_attributes = STATX_ATTR_MOUNT_ROOT;
  sx->stx_attributes_mask = STATX_ATTR_MOUNT_ROOT;
  out("statx %s%s", p, is_mount_point(p) ? " mount-root" : "");
  return 0;
}

static ssize_t f_readlinkat(int dirfd, const char* path, char* buf, size_t n) {
  if (failing("readlinkat")) return -1;
  char p[512], t[512] = "";
  if (resolve(dirfd, path, 0, 0, p, sizeof p)) return errno = ENOENT, -1;
  char k = kind_of(p, t, sizeof t);
  if (k != 'l' && k != 'm') return out("readlinkat %s = EINVAL", p), errno = EINVAL, -1;
  out("readlinkat %s = %s", p, t);
  size_t l = strlen(t);
  if (l > n) l = n;
  memcpy(buf, t, l);
  return (ssize_t)l;
}

static int f_faccessat(int dirfd, const char* path, int mode, int flags) {
  FAILS("faccessat");
  char p[512];
  if (resolve(dirfd, path, 0, 1, p, sizeof p)) return errno = ENOENT, -1;
  out("faccessat %s", p);
  return 0;
}

static int f_mkdirat(int dirfd, const char* path, mode_t mode) {
  FAILS("mkdirat");
  char p[512];
  int rc = resolve(dirfd, path, 0, 0, p, sizeof p);
  if (rc == 0) return out("mkdirat %s = EEXIST", p), errno = EEXIST, -1;
  if (rc != -2) return -1;
  add('d', p, NULL);
  out("mkdirat %s %o", p, mode);
  return 0;
}

static int f_mknodat(int dirfd, const char* path, mode_t mode, dev_t dev) {
  FAILS("mknodat");
  char p[512];
  int rc = resolve(dirfd, path, 0, 0, p, sizeof p);
  if (rc == 0) return errno = EEXIST, -1;
  if (rc != -2) return -1;
  add('c', p, NULL);
  out("mknodat %s %o %u:%u", p, mode, major(dev), minor(dev));
  return 0;
}

static int f_symlinkat(const char* target, int dirfd, const char* link) {
  FAILS("symlinkat");
  char p[512];
  int rc = resolve(dirfd, link, 0, 0, p, sizeof p);
  if (rc == 0) return errno = EEXIST, -1;
  if (rc != -2) return -1;
  add('l', p, target);
  out("symlinkat %s -> %s", p, target);
  return 0;
}

static int f_unlinkat(int dirfd, const char* path, int flags) {
  FAILS("unlinkat");
  char p[512];
  if (resolve(dirfd, path, 0, 0, p, sizeof p)) return -1;
  out("unlinkat %s", p);
  struct node* n = find(p);
  if (n) n->kind = 0;
  return 0;
}

static int f_fchownat(int dirfd, const char* path, uid_t uid, gid_t gid, int flags) {
  FAILS("fchownat");
  out("fchownat %s %d %d", shown(dirfd, path), (int)uid, (int)gid);
  return 0;
}

static int f_fchmodat(int dirfd, const char* path, mode_t mode, int flags) {
  FAILS("fchmodat");
  out("fchmodat %s %o", shown(dirfd, path), mode);
  return 0;
}

static int f_fchown(int fd, uid_t uid, gid_t gid) {
  FAILS("fchown");
  out("fchown %s %d %d", fdname(fd), (int)uid, (int)gid);
  return 0;
}

static int f_ioctl(int fd, unsigned long req, void* arg) {
  FAILS("ioctl");
  switch (req) {
    case TIOCGPTN: *(int*)arg = 3; out("ioctl %s TIOCGPTN", fdname(fd)); return 0;
    case TIOCSPTLCK: out("ioctl %s TIOCSPTLCK", fdname(fd)); return 0;
    case TIOCGPTPEER: out("ioctl %s TIOCGPTPEER", fdname(fd)); return new_fd("/dev/pts/3");
    case TIOCSCTTY: out("ioctl %s TIOCSCTTY", fdname(fd)); return 0;
    case TIOCSWINSZ: {
      struct winsize* w = arg;
      out("ioctl %s TIOCSWINSZ %ux%u", fdname(fd), w->ws_row, w->ws_col);
      return 0;
    }
    case SIOCGIFFLAGS: {
      struct ifreq* r = arg;
      r->ifr_flags = IFF_LOOPBACK;
      out("ioctl %s SIOCGIFFLAGS %s", fdname(fd), r->ifr_name);
      return 0;
    }
    case SIOCSIFFLAGS: {
      struct ifreq* r = arg;
      out("ioctl %s SIOCSIFFLAGS %s %#x%s", fdname(fd), r->ifr_name, r->ifr_flags, (r->ifr_flags & IFF_UP) ? " UP" : "");
      return 0;
    }
  }
  out("ioctl %s %#lx", fdname(fd), req);
  return 0;
}

static int f_pipe2(int fds[2], int flags) {
  FAILS("pipe2");
  /* the first pipe is "pipe:r" / "pipe:w", the next "pipe1:r" ... */
  static int npipes;
  char r[32], w[32];
  if (npipes) snprintf(r, sizeof r, "pipe%d:r", npipes), snprintf(w, sizeof w, "pipe%d:w", npipes);
  else snprintf(r, sizeof r, "pipe:r"), snprintf(w, sizeof w, "pipe:w");
  npipes++;
  fds[0] = new_fd(r);
  fds[1] = new_fd(w);
  out("pipe2 = %d %d", fds[0], fds[1]);
  return 0;
}

static int f_poll(struct pollfd* fds, nfds_t n, int timeout) {
  if (n) fds[0].revents = POLLOUT;
  return (int)n;
}

static int f_socket(int domain, int type, int proto) {
  FAILS("socket");
  int fd = new_fd("socket");
  out("socket %d %d = %d", domain, type & 0xf, fd);
  return fd;
}

static const char* sync_name(uint32_t t) {
  static const char* n[] = {"?", "USERMAP_PLS", "CGROUP_PLS", "HOOKS_PLS", "READY", "ERROR", "ACK", "CHILD_PID", "SECCOMP_FD", "?", "CONSOLE_FD"};
  return t < sizeof n / sizeof n[0] ? n[t] : "?";
}

static void log_sync(const struct sync_msg* m, int passed) {
  if (m->type == SYNC_ERROR) out("send ERROR op=%u errno=%d %s", m->op, m->err, m->data);
  else out("send %s op=%u err=%d%s%s%s%.*s", sync_name(m->type), m->op, m->err, passed >= 0 ? " fd=" : "", passed >= 0 ? fdname(passed) : "", m->len ? " " : "",
           (int)m->len, m->data);
}

static ssize_t f_sendmsg(int fd, const struct msghdr* mh, int flags) {
  FAILS("sendmsg");
  int passed = -1;
  if (mh->msg_control) {
    struct cmsghdr* c = CMSG_FIRSTHDR((struct msghdr*)mh);
    if (c && c->cmsg_type == SCM_RIGHTS) memcpy(&passed, CMSG_DATA(c), sizeof passed);
  }
  log_sync(mh->msg_iov[0].iov_base, passed);
  return (ssize_t)mh->msg_iov[0].iov_len;
}

static ssize_t f_recvmsg(int fd, struct msghdr* mh, int flags) {
  FAILS("recvmsg");
  struct sync_msg* m = mh->msg_iov[0].iov_base;
  memset(m, 0, sizeof *m);
  m->type = SYNC_ACK;
  m->err = 4242;
  mh->msg_controllen = 0;
  out("recv ACK");
  return sizeof *m;
}

static int f_setns(int fd, int nstype) {
  FAILS("setns");
  out("setns %s %#x", fdname(fd), nstype);
  return 0;
}

static int f_unshare(int flags) {
  FAILS("unshare");
  out("unshare %#x", flags);
  return 0;
}

static pid_t f_fork(void) {
  if (failing("fork")) return -1;
  int child = fork_next && !strncmp(fork_next, "child", 5);
  if (fork_next && *fork_next) fork_next = strchr(fork_next, ',') ? strchr(fork_next, ',') + 1 : "";
  out("fork = %s", child ? "child" : "parent");
  return child ? 0 : 777;
}

static pid_t f_waitpid(pid_t pid, int* st, int flags) {
  FAILS("waitpid");
  int code = getenv("FAKE_HOOK_STATUS") ? atoi(getenv("FAKE_HOOK_STATUS")) : 0;
  *st = (code & 0xff) << 8;
  out("waitpid %d", pid);
  return pid;
}

static int f_kill(pid_t pid, int sig) {
  out("kill %d %d", pid, sig);
  return 0;
}

static int f_execve(const char* path, char* const argv[], char* const envp[]) {
  FAILS("execve");
  int na = 0, ne = 0;
  while (argv[na]) na++;
  while (envp[ne]) ne++;
  if (na + ne > 16) {
    out("execve %s argc=%d envc=%d first=%s last=%s", shown(AT_FDCWD, path), na, ne, argv[0], ne ? envp[ne - 1] : argv[na - 1]);
  } else {
    char b[8192] = "";
    for (int i = 0; i < na; i++) snprintf(b + strlen(b), sizeof b - strlen(b), " %s", argv[i]);
    strcat(b, " |");
    for (int i = 0; i < ne; i++) snprintf(b + strlen(b), sizeof b - strlen(b), " %s", envp[i]);
    out("execve %s%s", shown(AT_FDCWD, path), b);
  }
  _exit(0);
}

static int f_sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  FAILS("sigaction");
  if (old) memset(old, 0, sizeof *old);
  if (act) out("sigaction %d %s", sig, act->sa_handler == SIG_DFL ? "DFL" : act->sa_handler == SIG_IGN ? "IGN" : "handler");
  return 0;
}

static int f_sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  FAILS("sigprocmask");
  int n = 0;
  for (int s = 1; s < 65; s++)
    if (set && sigismember(set, s)) n++;
  out("sigprocmask %s %d", how == SIG_SETMASK ? "SETMASK" : how == SIG_BLOCK ? "BLOCK" : "UNBLOCK", n);
  return 0;
}

static int f_prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d) {
  FAILS("prctl");
  if (option == PR_SET_KEEPCAPS && failing("prctl_keepcaps")) return -1;
  if (option == PR_CAP_AMBIENT && failing("prctl_ambient")) return -1;
  if (option == PR_SET_DUMPABLE && a == 1 && failing("prctl_dumpable1")) return -1;
  switch (option) {
    case PR_SET_DUMPABLE: out("prctl DUMPABLE %lu", a); break;
    case PR_SET_PDEATHSIG: out("prctl PDEATHSIG %lu", a); break;
    case PR_SET_KEEPCAPS: out("prctl KEEPCAPS %lu", a); break;
    case PR_CAPBSET_DROP:
      if (a > 40) return errno = EINVAL, -1; /* this fake kernel's cap_last_cap is 40 */
      out("prctl CAPBSET_DROP %lu", a);
      break;
    case PR_CAP_AMBIENT: out("prctl AMBIENT %s %lu", a == 4 ? "CLEAR_ALL" : a == 2 ? "RAISE" : "?", b); break;
    case PR_SET_NO_NEW_PRIVS: out("prctl NO_NEW_PRIVS %lu", a); break;
    default: out("prctl %d %lu", option, a);
  }
  return 0;
}

static int f_capset(void* header, void* data) {
  FAILS("capset");
  struct __user_cap_data_struct* d = data;
  out("capset eff=%#llx prm=%#llx inh=%#llx", (unsigned long long)d[0].effective | ((unsigned long long)d[1].effective << 32),
      (unsigned long long)d[0].permitted | ((unsigned long long)d[1].permitted << 32), (unsigned long long)d[0].inheritable | ((unsigned long long)d[1].inheritable << 32));
  return 0;
}

static int f_setresuid(uid_t r, uid_t e, uid_t s) {
  FAILS("setresuid");
  out("setresuid %d", (int)r);
  return 0;
}
static int f_setresgid(gid_t r, gid_t e, gid_t s) {
  FAILS("setresgid");
  out("setresgid %d", (int)r);
  return 0;
}
static int f_setgroups(size_t n, const gid_t* g) {
  FAILS("setgroups");
  if (n > 65536) return errno = EINVAL, -1;
  out("setgroups %zu", n);
  if (n) out("setgroups first=%u last=%u", g[0], g[n - 1]);
  return 0;
}
static int f_setsid(void) {
  FAILS("setsid");
  out("setsid");
  return 0;
}
static mode_t f_umask(mode_t m) {
  out("umask %o", m);
  return 022;
}
static int f_sethostname(const char* n, size_t l) {
  FAILS("sethostname");
  out("sethostname %.*s", (int)l, n);
  return 0;
}
static int f_setdomainname(const char* n, size_t l) {
  FAILS("setdomainname");
  out("setdomainname %.*s", (int)l, n);
  return 0;
}
static int f_prlimit(int r, uint64_t soft, uint64_t hard) {
  FAILS("prlimit");
  out("prlimit %d %llu %llu", r, (unsigned long long)soft, (unsigned long long)hard);
  return 0;
}
static int f_sched_setattr(void* attr) {
  FAILS("sched_setattr");
  out("sched_setattr");
  return 0;
}
static int f_sched_setaffinity(size_t len, const void* mask) {
  FAILS("sched_setaffinity");
  out("sched_setaffinity %zu", len);
  return 0;
}
static int f_ioprio_set(int which, int who, int prio) {
  FAILS("ioprio_set");
  out("ioprio_set %d", prio);
  return 0;
}
static int f_personality(unsigned long p) {
  FAILS("personality");
  out("personality %#lx", p);
  return 0;
}
static int f_set_mempolicy(int mode, const unsigned long* mask, unsigned long maxnode) {
  FAILS("set_mempolicy");
  out("set_mempolicy %d %lu", mode, maxnode);
  return 0;
}
static long f_keyctl(int op, unsigned long a, unsigned long b, unsigned long c) {
  FAILS("keyctl");
  switch (op) {
    case 1: out("keyctl JOIN %s", (const char*)a); return 1234;
    case 6: {
      const char* d = "keyring;0;0;3f010000;_ses";
      snprintf((char*)b, c, "%s", d);
      out("keyctl DESCRIBE %lu", a);
      return (long)strlen(d) + 1;
    }
    case 5: out("keyctl SETPERM %lu %#lx", a, b); return 0;
  }
  out("keyctl %d", op);
  return 0;
}
static long f_seccomp(unsigned op, unsigned flags, void* args) {
  FAILS("seccomp");
  struct sock_fprog* fp = args;
  out("seccomp %u instructions flags=%#x", fp->len, flags);
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) return new_fd("seccomp-listener");
  return 0;
}

const struct sys_ops sys = {
    .mount = f_mount, .umount2 = f_umount2, .mount_setattr = f_mount_setattr, .open_tree = f_open_tree,
    .move_mount = f_move_mount, .fsopen = f_fsopen, .fsconfig = f_fsconfig, .fsmount = f_fsmount, .pivot_root = f_pivot_root, .chroot = f_chroot,
    .chdir = f_chdir, .fchdir = f_fchdir, .getcwd = f_getcwd, .openat = f_openat, .openat2 = f_openat2, .close = f_close,
    .close_range = f_close_range, .fcntl = f_fcntl, .dup2 = f_dup2, .read = f_read, .write = f_write, .sendfile = f_sendfile,
    .getdents64 = f_getdents64, .fstatat = f_fstatat, .fstatfs = f_fstatfs, .statx = f_statx, .readlinkat = f_readlinkat,
    .faccessat = f_faccessat, .mkdirat = f_mkdirat, .mknodat = f_mknodat, .symlinkat = f_symlinkat, .unlinkat = f_unlinkat,
    .fchownat = f_fchownat, .fchmodat = f_fchmodat, .fchown = f_fchown, .ioctl = f_ioctl, .pipe2 = f_pipe2, .poll = f_poll,
    .socket = f_socket, .sendmsg = f_sendmsg, .recvmsg = f_recvmsg, .setns = f_setns, .unshare = f_unshare, .fork = f_fork,
    .waitpid = f_waitpid, .kill = f_kill, .execve = f_execve, .sigaction = f_sigaction, .sigprocmask = f_sigprocmask,
    .prctl = f_prctl, .capset = f_capset, .setresuid = f_setresuid, .setresgid = f_setresgid, .setgroups = f_setgroups,
    .setsid = f_setsid, .umask = f_umask, .sethostname = f_sethostname, .setdomainname = f_setdomainname, .prlimit = f_prlimit,
    .sched_setattr = f_sched_setattr, .sched_setaffinity = f_sched_setaffinity, .ioprio_set = f_ioprio_set,
    .personality = f_personality, .set_mempolicy = f_set_mempolicy, .keyctl = f_keyctl, .seccomp = f_seccomp,
};
