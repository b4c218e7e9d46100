// probe: the process ocirt's integration tests run inside containers.
// It reports what the kernel shows it (ids, caps, mounts, namespaces, limits ...)
// so tests can compare that with config.json. Built statically so any rootfs
// holding just this file can run it; no libc features that need NSS or dlopen.
//
// Exit codes: 0 success; 100 usage; 101 a subcommand's operation failed;
// 102 exec failed; 103 output failed. `probe exit N` exits N.

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { EXIT_USAGE = 100, EXIT_FAILED = 101, EXIT_EXEC = 102, EXIT_OUTPUT = 103 };

static void die(int code, const char *fmt, ...) {
  va_list ap;
  fputs("probe: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(code);
}

// ---------------------------------------------------------------------------
// errno and signal names: tests compare names, not numbers, so that the
// expectations read like the OCI config ("EPERM", "SIGTERM").

static const char *errno_name(int e) {
  switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case ENOTBLK: return "ENOTBLK";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case EPIPE: return "EPIPE";
    case EDOM: return "EDOM";
    case ERANGE: return "ERANGE";
    case EDEADLK: return "EDEADLK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOLCK: return "ENOLCK";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case ENOMSG: return "ENOMSG";
    case EIDRM: return "EIDRM";
    case ENODATA: return "ENODATA";
    case ENOTSUP: return "ENOTSUP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETDOWN: return "ENETDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case ENOTSOCK: return "ENOTSOCK";
    case EOVERFLOW: return "EOVERFLOW";
    case ECANCELED: return "ECANCELED";
    case EOWNERDEAD: return "EOWNERDEAD";
    case EUSERS: return "EUSERS";
    case EDQUOT: return "EDQUOT";
    case ESTALE: return "ESTALE";
    case EMEDIUMTYPE: return "EMEDIUMTYPE";
    case ENOKEY: return "ENOKEY";
    case EKEYREVOKED: return "EKEYREVOKED";
    case EHWPOISON: return "EHWPOISON";
    default: {
      static char buf[32];
      snprintf(buf, sizeof buf, "E%d", e);
      return buf;
    }
  }
}

static const char *const signal_names[] = {
    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT",     [SIGILL] = "SIGILL",
    [SIGTRAP] = "SIGTRAP",     [SIGABRT] = "SIGABRT",     [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",
    [SIGKILL] = "SIGKILL",     [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV",     [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM",     [SIGSTKFLT] = "SIGSTKFLT",
    [SIGCHLD] = "SIGCHLD",     [SIGCONT] = "SIGCONT",     [SIGSTOP] = "SIGSTOP",     [SIGTSTP] = "SIGTSTP",
    [SIGTTIN] = "SIGTTIN",     [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU",
    [SIGXFSZ] = "SIGXFSZ",     [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",     [SIGWINCH] = "SIGWINCH",
    [SIGIO] = "SIGIO",         [SIGPWR] = "SIGPWR",       [SIGSYS] = "SIGSYS",
};

static void signal_name(int sig, char *buf, size_t n) {
  if (sig > 0 && sig < (int)(sizeof signal_names / sizeof *signal_names) && signal_names[sig])
    snprintf(buf, n, "%s", signal_names[sig]);
  else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, n, "SIGRTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(buf, n, "SIG%d", sig);
}

// ---------------------------------------------------------------------------
// Minimal JSON writer on stdout. Keeps track of whether a comma is needed at
// each nesting level so callers only say what they emit.

static int json_depth;
static int json_need_comma[64];

static void json_raw(const char *s) { fputs(s, stdout); }

static void json_sep(void) {
  if (json_need_comma[json_depth]) fputc(',', stdout);
  json_need_comma[json_depth] = 1;
}

// Strings from the kernel (paths, env) are bytes, not necessarily UTF-8. Valid
// UTF-8 passes through; each invalid byte becomes \u00XX so the output always parses.
static void json_string_n(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  fputc('"', stdout);
  while (p < end) {
    unsigned char c = *p;
    if (c == '"') { fputs("\\\"", stdout); p++; }
    else if (c == '\\') { fputs("\\\\", stdout); p++; }
    else if (c == '\n') { fputs("\\n", stdout); p++; }
    else if (c == '\r') { fputs("\\r", stdout); p++; }
    else if (c == '\t') { fputs("\\t", stdout); p++; }
    else if (c == '\b') { fputs("\\b", stdout); p++; }
    else if (c == '\f') { fputs("\\f", stdout); p++; }
    else if (c < 0x20 || c == 0x7f) { fprintf(stdout, "\\u%04x", c); p++; }
    else if (c < 0x80) { fputc(c, stdout); p++; }
    else {
      size_t need = 0;
      uint32_t cp = 0, min = 0;
      if ((c & 0xe0) == 0xc0) { need = 1; cp = c & 0x1f; min = 0x80; }
      else if ((c & 0xf0) == 0xe0) { need = 2; cp = c & 0x0f; min = 0x800; }
      else if ((c & 0xf8) == 0xf0) { need = 3; cp = c & 0x07; min = 0x10000; }
      int ok = need > 0 && (size_t)(end - p) > need;
      for (size_t i = 1; ok && i <= need; i++) {
        if ((p[i] & 0xc0) != 0x80) ok = 0;
        else cp = (cp << 6) | (p[i] & 0x3f);
      }
      if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = 0;
      if (ok) { fwrite(p, 1, need + 1, stdout); p += need + 1; }
      else { fprintf(stdout, "\\u%04x", c); p++; }
    }
  }
  fputc('"', stdout);
}

static void json_string(const char *s) { json_string_n(s, strlen(s)); }

static void json_key(const char *k) {
  json_sep();
  json_string(k);
  fputc(':', stdout);
  // The value that follows must not add a comma of its own.
  json_need_comma[json_depth] = -1;
}

static void json_value_prefix(void) {
  if (json_need_comma[json_depth] == -1) json_need_comma[json_depth] = 1;
  else json_sep();
}

static void json_open(char c) {
  json_value_prefix();
  fputc(c, stdout);
  json_need_comma[++json_depth] = 0;
}
static void json_close(char c) {
  json_depth--;
  fputc(c, stdout);
}
static void jobj(void) { json_open('{'); }
static void jobj_end(void) { json_close('}'); }
static void jarr(void) { json_open('['); }
static void jarr_end(void) { json_close(']'); }
static void jstr(const char *s) {
  json_value_prefix();
  if (s) json_string(s); else json_raw("null");
}
static void jstrn(const char *s, size_t n) { json_value_prefix(); json_string_n(s, n); }
static void jint(long long v) { json_value_prefix(); fprintf(stdout, "%lld", v); }
static void juint(unsigned long long v) { json_value_prefix(); fprintf(stdout, "%llu", v); }
static void jbool(int v) { json_value_prefix(); json_raw(v ? "true" : "false"); }
static void jnull(void) { json_value_prefix(); json_raw("null"); }

static void kstr(const char *k, const char *v) { json_key(k); jstr(v); }
static void kint(const char *k, long long v) { json_key(k); jint(v); }
static void kbool(const char *k, int v) { json_key(k); jbool(v); }
static void knull(const char *k) { json_key(k); jnull(); }

// ---------------------------------------------------------------------------
// small file helpers

// Reads a whole (small, procfs) file into a malloc'd NUL-terminated buffer.
static char *read_file(const char *path, size_t *len_out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap + 1);
  if (!buf) { close(fd); return NULL; }
  for (;;) {
    if (len == cap) {
      cap *= 2;
      char *nb = realloc(buf, cap + 1);
      if (!nb) { free(buf); close(fd); return NULL; }
      buf = nb;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = 0;
  if (len_out) *len_out = len;
  return buf;
}

static void chomp(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = 0;
}

// Value of "Field:\tvalue" in a /proc status-style buffer, copied into out.
static int status_field(const char *status, const char *field, char *out, size_t n) {
  size_t flen = strlen(field);
  for (const char *line = status; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t llen = nl ? (size_t)(nl - line) : strlen(line);
    if (llen > flen && strncmp(line, field, flen) == 0 && line[flen] == ':') {
      const char *v = line + flen + 1;
      while (v < line + llen && (*v == ' ' || *v == '\t')) v++;
      size_t vlen = (size_t)(line + llen - v);
      if (vlen >= n) vlen = n - 1;
      memcpy(out, v, vlen);
      out[vlen] = 0;
      return 0;
    }
    line = nl ? nl + 1 : NULL;
  }
  return -1;
}

// Splits s (modified in place) on sep, calling emit for each piece.
static void json_split_array(char *s, char sep) {
  jarr();
  if (s && *s) {
    char *p = s;
    for (;;) {
      char *q = strchr(p, sep);
      if (q) *q = 0;
      jstr(p);
      if (!q) break;
      p = q + 1;
    }
  }
  jarr_end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
static void unescape_octal(char *s) {
  char *w = s;
  for (char *r = s; *r;) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
      r += 4;
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
}

// ---------------------------------------------------------------------------
// report sections

static void report_ids(void) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  if (getresuid(&r, &e, &s) == 0) {
    kint("uid", r); kint("euid", e); kint("suid", s);
  } else {
    knull("uid"); knull("euid"); knull("suid");
  }
  if (getresgid(&gr, &ge, &gs) == 0) {
    kint("gid", gr); kint("egid", ge); kint("sgid", gs);
  } else {
    knull("gid"); knull("egid"); knull("sgid");
  }
  json_key("groups");
  int n = getgroups(0, NULL);
  gid_t *g = n > 0 ? calloc((size_t)n, sizeof *g) : NULL;
  if (n > 0 && g) n = getgroups(n, g);
  jarr();
  for (int i = 0; i < n; i++) jint(g[i]);
  jarr_end();
  free(g);
}

static void report_status(const char *status) {
  static const char *const caps[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
  char v[256];
  json_key("capabilities");
  jobj();
  for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
    if (status && status_field(status, caps[i], v, sizeof v) == 0) kstr(caps[i], v);
    else knull(caps[i]);
  }
  jobj_end();

  // Umask comes from status (not umask(2)) so reading it does not change it.
  if (status && status_field(status, "Umask", v, sizeof v) == 0) {
    json_key("umask");
    jint(strtol(v, NULL, 8));
    kstr("umask_octal", v);
  } else {
    knull("umask");
    knull("umask_octal");
  }
  if (status && status_field(status, "Seccomp", v, sizeof v) == 0) kint("seccomp", strtol(v, NULL, 10));
  else knull("seccomp");
  if (status && status_field(status, "Seccomp_filters", v, sizeof v) == 0) kint("seccomp_filters", strtol(v, NULL, 10));
  else knull("seccomp_filters");
  if (status && status_field(status, "NSpid", v, sizeof v) == 0) {
    json_key("nspid");
    jarr();
    for (char *p = v, *end; *p; p = end) {
      long x = strtol(p, &end, 10);
      if (end == p) break;
      jint(x);
    }
    jarr_end();
  } else {
    knull("nspid");
  }
}

static void report_rlimits(void) {
  static const struct { const char *name; int res; } lim[] = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  json_key("rlimits");
  jobj();
  for (size_t i = 0; i < sizeof lim / sizeof *lim; i++) {
    struct rlimit rl;
    json_key(lim[i].name);
    if (getrlimit(lim[i].res, &rl) != 0) { jnull(); continue; }
    jobj();
    json_key("soft");
    if (rl.rlim_cur == RLIM_INFINITY) jint(-1); else juint(rl.rlim_cur);
    json_key("hard");
    if (rl.rlim_max == RLIM_INFINITY) jint(-1); else juint(rl.rlim_max);
    jobj_end();
  }
  jobj_end();
}

static void report_mounts(void) {
  json_key("mounts");
  char *buf = read_file("/proc/self/mountinfo", NULL);
  if (!buf) { jnull(); return; }
  jarr();
  for (char *line = buf; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    // id parent maj:min root mount_point options [optional...] - fstype source super_options
    char *f[64];
    int nf = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t && nf < 64; t = strtok_r(NULL, " ", &save)) f[nf++] = t;
    int dash = -1;
    for (int i = 6; i < nf; i++)
      if (strcmp(f[i], "-") == 0) { dash = i; break; }
    if (nf >= 6 && dash >= 6 && dash + 2 < nf) {
      jobj();
      kint("id", strtol(f[0], NULL, 10));
      kint("parent", strtol(f[1], NULL, 10));
      kstr("dev", f[2]);
      unescape_octal(f[3]);
      kstr("root", f[3]);
      unescape_octal(f[4]);
      kstr("mount_point", f[4]);
      json_key("options");
      json_split_array(f[5], ',');
      json_key("propagation");
      jarr();
      for (int i = 6; i < dash; i++) jstr(f[i]);
      jarr_end();
      kstr("fstype", f[dash + 1]);
      unescape_octal(f[dash + 2]);
      kstr("source", f[dash + 2]);
      json_key("super_options");
      json_split_array(dash + 3 < nf ? f[dash + 3] : NULL, ',');
      jobj_end();
    }
    line = nl ? nl + 1 : NULL;
  }
  jarr_end();
  free(buf);
}

static void report_namespaces(void) {
  static const char *const ns[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
                                   "time", "time_for_children", "user", "uts"};
  json_key("namespaces");
  jobj();
  for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
    ssize_t n = readlink(path, target, sizeof target - 1);
    json_key(ns[i]);
    if (n < 0) { jnull(); continue; }
    target[n] = 0;
    jstr(target);
  }
  jobj_end();
}

static void report_fds(void) {
  json_key("fds");
  DIR *d = opendir("/proc/self/fd");
  if (!d) { jnull(); return; }
  int self = dirfd(d);
  // Collect first, print sorted: readdir order is not numeric.
  int fds[4096];
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    int fd = atoi(e->d_name);
    if (fd == self || n >= (int)(sizeof fds / sizeof *fds)) continue;
    fds[n++] = fd;
  }
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) { int t = fds[j]; fds[j] = fds[j - 1]; fds[j - 1] = t; }
  jarr();
  for (int i = 0; i < n; i++) {
    char name[32], target[PATH_MAX];
    snprintf(name, sizeof name, "%d", fds[i]);
    ssize_t len = readlinkat(self, name, target, sizeof target - 1);
    jobj();
    kint("fd", fds[i]);
    json_key("target");
    if (len < 0) jnull(); else jstrn(target, (size_t)len);
    int flags = fcntl(fds[i], F_GETFD);
    json_key("cloexec");
    if (flags < 0) jnull(); else jbool(flags & FD_CLOEXEC);
    jobj_end();
  }
  jarr_end();
  closedir(d);
}

static void report_lines(const char *key, const char *path) {
  json_key(key);
  char *buf = read_file(path, NULL);
  if (!buf) { jnull(); return; }
  jarr();
  for (char *line = buf; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    jstr(line);
    line = nl ? nl + 1 : NULL;
  }
  jarr_end();
  free(buf);
}

// uid_map/gid_map as [[inside, outside, count], ...].
static void report_id_map(const char *key, const char *path) {
  json_key(key);
  char *buf = read_file(path, NULL);
  if (!buf) { jnull(); return; }
  jarr();
  for (char *line = buf; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    unsigned long long a, b, c;
    if (sscanf(line, "%llu %llu %llu", &a, &b, &c) == 3) {
      jarr();
      juint(a); juint(b); juint(c);
      jarr_end();
    }
    line = nl ? nl + 1 : NULL;
  }
  jarr_end();
  free(buf);
}

// Whole-file value as a string (trailing newline removed), null if unreadable.
static void report_file_string(const char *key, const char *path) {
  json_key(key);
  char *buf = read_file(path, NULL);
  if (!buf) { jnull(); return; }
  chomp(buf);
  jstr(buf);
  free(buf);
}

static void report_file_int(const char *key, const char *path) {
  json_key(key);
  char *buf = read_file(path, NULL);
  if (!buf) { jnull(); return; }
  jint(strtoll(buf, NULL, 10));
  free(buf);
}

static const char *sched_policy_name(int p) {
  switch (p) {
    case 0: return "SCHED_OTHER";
    case 1: return "SCHED_FIFO";
    case 2: return "SCHED_RR";
    case 3: return "SCHED_BATCH";
    case 5: return "SCHED_IDLE";
    case 6: return "SCHED_DEADLINE";
    case 7: return "SCHED_EXT";
    default: return NULL;
  }
}

struct probe_sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

static void report_scheduler(void) {
  static const struct { uint64_t bit; const char *name; } flags[] = {
      {0x01, "SCHED_FLAG_RESET_ON_FORK"}, {0x02, "SCHED_FLAG_RECLAIM"},
      {0x04, "SCHED_FLAG_DL_OVERRUN"},    {0x08, "SCHED_FLAG_KEEP_POLICY"},
      {0x10, "SCHED_FLAG_KEEP_PARAMS"},   {0x20, "SCHED_FLAG_UTIL_CLAMP_MIN"},
      {0x40, "SCHED_FLAG_UTIL_CLAMP_MAX"},
  };
  json_key("scheduler");
  jobj();
  int raw = sched_getscheduler(0);
  kint("policy_raw", raw);
  struct sched_param sp;
  if (sched_getparam(0, &sp) == 0) kint("priority", sp.sched_priority); else knull("priority");
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  if (errno) knull("nice"); else kint("nice", nice);
  // sched_getattr is the only way to see deadline parameters and all flags.
  struct probe_sched_attr a;
  memset(&a, 0, sizeof a);
  if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) == 0) {
    const char *name = sched_policy_name((int)a.sched_policy);
    if (name) kstr("policy", name); else kint("policy", a.sched_policy);
    json_key("flags");
    jarr();
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
      if (a.sched_flags & flags[i].bit) jstr(flags[i].name);
    jarr_end();
    kint("runtime", (long long)a.sched_runtime);
    kint("deadline", (long long)a.sched_deadline);
    kint("period", (long long)a.sched_period);
  } else {
    const char *name = raw >= 0 ? sched_policy_name(raw & ~SCHED_RESET_ON_FORK) : NULL;
    if (name) kstr("policy", name); else knull("policy");
    json_key("flags");
    jarr();
    if (raw >= 0 && (raw & SCHED_RESET_ON_FORK)) jstr("SCHED_FLAG_RESET_ON_FORK");
    jarr_end();
    knull("runtime");
    knull("deadline");
    knull("period");
  }
  jobj_end();
}

static void report_ioprio(void) {
  static const char *const classes[] = {"IOPRIO_CLASS_NONE", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};
  json_key("ioprio");
  long v = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
  if (v < 0) { jnull(); return; }
  jobj();
  int cls = (int)(v >> 13);
  if (cls >= 0 && cls < 4) kstr("class", classes[cls]); else kint("class", cls);
  kint("priority", v & 0x1fff);
  kint("raw", v);
  jobj_end();
}

static void report_affinity(void) {
  json_key("cpu_affinity");
  for (int ncpu = 1024; ncpu <= 1 << 16; ncpu *= 4) {
    cpu_set_t *set = CPU_ALLOC(ncpu);
    size_t sz = CPU_ALLOC_SIZE(ncpu);
    if (!set) break;
    CPU_ZERO_S(sz, set);
    if (sched_getaffinity(0, sz, set) == 0) {
      jarr();
      for (int i = 0; i < ncpu; i++)
        if (CPU_ISSET_S(i, sz, set)) jint(i);
      jarr_end();
      CPU_FREE(set);
      return;
    }
    CPU_FREE(set);
    if (errno != EINVAL) break;
  }
  jnull();
}

static void report_tty(void) {
  json_key("tty");
  jobj();
  static const char *const names[] = {"stdin", "stdout", "stderr"};
  for (int fd = 0; fd < 3; fd++) kbool(names[fd], isatty(fd));
  json_key("winsize");
  struct winsize ws;
  int fd = isatty(0) ? 0 : isatty(1) ? 1 : isatty(2) ? 2 : -1;
  if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0) {
    jobj();
    kint("rows", ws.ws_row);
    kint("cols", ws.ws_col);
    jobj_end();
  } else {
    jnull();
  }
  json_key("foreground");
  pid_t fg = fd >= 0 ? tcgetpgrp(fd) : -1;
  if (fg >= 0) jbool(fg == getpgrp()); else jnull();
  jobj_end();
}

// PROBE_SYSCTLS="kernel.domainname,net.ipv4.ip_forward" -> /proc/sys/kernel/domainname ...
static void report_sysctls(void) {
  json_key("sysctls");
  jobj();
  const char *env = getenv("PROBE_SYSCTLS");
  if (env && *env) {
    char *list = strdup(env);
    for (char *save = NULL, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
      char path[PATH_MAX] = "/proc/sys/";
      size_t off = strlen(path);
      for (const char *c = name; *c && off < sizeof path - 1; c++) path[off++] = *c == '.' ? '/' : *c;
      path[off] = 0;
      json_key(name);
      jobj();
      char *v = read_file(path, NULL);
      if (v) {
        chomp(v);
        kstr("value", v);
        free(v);
      } else {
        kstr("error", errno_name(errno));
      }
      jobj_end();
    }
    free(list);
  }
  jobj_end();
}

static const char *file_type(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "symlink";
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    default: return "unknown";
  }
}

// PROBE_FILES="/dev/null,/etc/x": lstat each (symlinks are reported as such,
// with their target, since masked/default paths like /dev/fd are symlinks).
static void report_files(void) {
  json_key("files");
  jobj();
  const char *env = getenv("PROBE_FILES");
  if (env && *env) {
    char *list = strdup(env);
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
      struct stat st;
      json_key(p);
      jobj();
      if (lstat(p, &st) != 0) {
        kstr("error", errno_name(errno));
      } else {
        char oct[16];
        kstr("type", file_type(st.st_mode));
        kint("mode", st.st_mode & 07777);
        snprintf(oct, sizeof oct, "%04o", (unsigned)(st.st_mode & 07777));
        kstr("mode_octal", oct);
        kint("uid", st.st_uid);
        kint("gid", st.st_gid);
        kint("size", st.st_size);
        kint("major", major(st.st_rdev));
        kint("minor", minor(st.st_rdev));
        kint("dev_major", major(st.st_dev));
        kint("dev_minor", minor(st.st_dev));
        kint("ino", (long long)st.st_ino);
        if (S_ISLNK(st.st_mode)) {
          char target[PATH_MAX];
          ssize_t n = readlink(p, target, sizeof target - 1);
          json_key("target");
          if (n < 0) jnull(); else jstrn(target, (size_t)n);
        }
      }
      jobj_end();
    }
    free(list);
  }
  jobj_end();
}

// Returns 0 or the errno of the first failing step. A directory is tested by
// creating (and removing) a file in it; an existing file by opening it for
// append (nothing is written); a missing path by creating and removing it.
static int try_write(const char *path) {
  struct stat st;
  char buf[PATH_MAX];
  const char *target = path;
  int create = 1;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      /* pid 1 in every pid namespace: the time makes the name unique among containers
         that share a rootfs (the vDSO clock: no syscall a seccomp profile could refuse) */
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      snprintf(buf, sizeof buf, "%s/.probe-writable-%d-%lld%09ld", path, (int)getpid(), (long long)ts.tv_sec, ts.tv_nsec);
      target = buf;
    } else {
      create = 0;
    }
  } else if (errno != ENOENT) {
    return errno;
  }
  int fd = create ? open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
                  : open(target, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  if (create && write(fd, "probe\n", 6) != 6) err = errno ? errno : EIO;
  close(fd);
  if (create && unlink(target) != 0 && !err) err = errno;
  return err;
}

static void report_writable(void) {
  json_key("writable");
  jobj();
  const char *env = getenv("PROBE_WRITABLE");
  if (env && *env) {
    char *list = strdup(env);
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
      errno = 0;
      int e = try_write(p);
      json_key(p);
      jobj();
      kbool("ok", e == 0);
      if (e) kstr("error", errno_name(e)); else knull("error");
      jobj_end();
    }
    free(list);
  }
  jobj_end();
}


// ---------------------------------------------------------------------------
// sections for the differential harness (conformance/diff): appended after the
// original keys so existing readers are unaffected.

// Signal masks from status: blocked, ignored, caught, pending (hex as the kernel prints them).
static void report_signals(const char *status) {
  static const char *const f[] = {"SigBlk", "SigIgn", "SigCgt", "SigPnd", "ShdPnd"};
  char v[64];
  json_key("signals");
  jobj();
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
    if (status && status_field(status, f[i], v, sizeof v) == 0) kstr(f[i], v);
    else knull(f[i]);
  }
  jobj_end();
}

// Controlling terminal from /proc/self/stat: tty_nr (0 = none) and the terminal's foreground group.
static void report_ctty(void) {
  json_key("ctty");
  char *buf = read_file("/proc/self/stat", NULL);
  char *p = buf ? strrchr(buf, ')') : NULL;
  if (!p) { free(buf); jnull(); return; }
  char state;
  int ppid, pgrp, session, tty_nr, tpgid;
  if (sscanf(p + 1, " %c %d %d %d %d %d", &state, &ppid, &pgrp, &session, &tty_nr, &tpgid) != 6) {
    free(buf);
    jnull();
    return;
  }
  jobj();
  kint("tty_nr", tty_nr);
  kint("tty_major", major((dev_t)tty_nr));
  kint("tty_minor", minor((dev_t)tty_nr));
  kbool("tpgid_is_pgrp", tpgid == pgrp);
  kbool("has_tty", tty_nr != 0);
  jobj_end();
  free(buf);
}

// Network interfaces of the probe's netns (/proc/net/dev) and their flags (SIOCGIFFLAGS).
static void report_net(void) {
  static const struct { int bit; const char *name; } fl[] = {
      {IFF_UP, "UP"}, {IFF_BROADCAST, "BROADCAST"}, {IFF_LOOPBACK, "LOOPBACK"}, {IFF_POINTOPOINT, "POINTOPOINT"},
      {IFF_RUNNING, "RUNNING"}, {IFF_NOARP, "NOARP"}, {IFF_PROMISC, "PROMISC"}, {IFF_MULTICAST, "MULTICAST"},
  };
  json_key("net");
  char *buf = read_file("/proc/net/dev", NULL);
  if (!buf) { jnull(); return; }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  jarr();
  int lineno = 0;
  for (char *line = buf; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    char *colon = strchr(line, ':');
    if (++lineno > 2 && colon) {
      *colon = 0;
      while (*line == ' ') line++;
      jobj();
      kstr("name", line);
      struct ifreq ifr;
      memset(&ifr, 0, sizeof ifr);
      snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", line);
      json_key("flags");
      if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        jarr();
        for (size_t i = 0; i < sizeof fl / sizeof *fl; i++)
          if (ifr.ifr_flags & fl[i].bit) jstr(fl[i].name);
        jarr_end();
      } else {
        jstr(errno_name(errno));
      }
      memset(&ifr.ifr_ifru, 0, sizeof ifr.ifr_ifru);
      json_key("mtu");
      if (s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0) jint(ifr.ifr_mtu); else jnull();
      jobj_end();
    }
    line = nl ? nl + 1 : NULL;
  }
  jarr_end();
  if (s >= 0) close(s);
  free(buf);
}

static void stat_fields(const struct stat *st) {
  char oct[16];
  kstr("type", file_type(st->st_mode));
  kint("mode", st->st_mode & 07777);
  snprintf(oct, sizeof oct, "%04o", (unsigned)(st->st_mode & 07777));
  kstr("mode_octal", oct);
  kint("uid", st->st_uid);
  kint("gid", st->st_gid);
  kint("major", major(st->st_rdev));
  kint("minor", minor(st->st_rdev));
}

// Every entry of /dev and of its subdirectories (one level down), lstat'd.
static void report_dev_dir(const char *dir, int depth) {
  DIR *d = opendir(dir);
  if (!d) return;
  char *names[1024];
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL && n < 1024;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) { char *t = names[j]; names[j] = names[j - 1]; names[j - 1] = t; }
  for (int i = 0; i < n; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    struct stat st;
    if (lstat(path, &st) == 0) {
      json_key(path);
      jobj();
      stat_fields(&st);
      if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t len = readlink(path, target, sizeof target - 1);
        json_key("target");
        if (len < 0) jnull(); else jstrn(target, (size_t)len);
      }
      jobj_end();
      if (S_ISDIR(st.st_mode) && depth > 0) report_dev_dir(path, depth - 1);
    }
    free(names[i]);
  }
}

static void report_dev(void) {
  json_key("dev");
  jobj();
  report_dev_dir("/dev", 1);
  jobj_end();
}

// fstat of fds 0, 1, 2: what the runtime handed the process as stdio.
static void report_stdio(void) {
  static const char *const names[] = {"stdin", "stdout", "stderr"};
  json_key("stdio");
  jobj();
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    json_key(names[fd]);
    jobj();
    if (fstat(fd, &st) != 0) {
      kstr("error", errno_name(errno));
    } else {
      stat_fields(&st);
      int fl = fcntl(fd, F_GETFL);
      json_key("access");
      if (fl < 0) jnull();
      else jstr((fl & O_ACCMODE) == O_RDONLY ? "r" : (fl & O_ACCMODE) == O_WRONLY ? "w" : "rw");
    }
    jobj_end();
  }
  jobj_end();
}

// PROBE_READ="/sys/fs/cgroup/pids/pids.max,...": each file's content (trailing newline removed).
static void report_read(void) {
  json_key("read");
  jobj();
  const char *env = getenv("PROBE_READ");
  if (env && *env) {
    char *list = strdup(env);
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
      json_key(p);
      jobj();
      char *v = read_file(p, NULL);
      if (v) {
        chomp(v);
        kstr("value", v);
        free(v);
      } else {
        kstr("error", errno_name(errno));
      }
      jobj_end();
    }
    free(list);
  }
  jobj_end();
}

// PROBE_LIST="/sys/fs/cgroup,/sys/fs/cgroup/pids": each directory's entry names, sorted.
static void report_list(void) {
  json_key("list");
  jobj();
  const char *env = getenv("PROBE_LIST");
  if (env && *env) {
    char *list = strdup(env);
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
      json_key(p);
      DIR *d = opendir(p);
      if (!d) { jstr(errno_name(errno)); continue; }
      char *names[2048];
      int n = 0;
      for (struct dirent *e; (e = readdir(d)) != NULL && n < 2048;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        names[n++] = strdup(e->d_name);
      }
      closedir(d);
      for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) { char *t = names[j]; names[j] = names[j - 1]; names[j - 1] = t; }
      jarr();
      for (int i = 0; i < n; i++) { jstr(names[i]); free(names[i]); }
      jarr_end();
    }
    free(list);
  }
  jobj_end();
}

static void do_report(int argc, char **argv) {
  struct utsname u;
  char *status = read_file("/proc/self/status", NULL);
  jobj();
  if (uname(&u) == 0) {
    kstr("hostname", u.nodename);
    kstr("domainname", u.domainname);
  } else {
    knull("hostname");
    knull("domainname");
  }
  kint("pid", getpid());
  kint("ppid", getppid());
  kint("pgid", getpgrp());
  kint("sid", getsid(0));
  report_ids();
  report_status(status);
  report_rlimits();
  {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) kstr("cwd", cwd); else knull("cwd");
  }
  json_key("env");
  jarr();
  for (char **e = environ; e && *e; e++) jstr(*e);
  jarr_end();
  json_key("argv");
  jarr();
  for (int i = 0; i < argc; i++) jstr(argv[i]);
  jarr_end();
  {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    json_key("exe");
    if (n < 0) jnull(); else jstrn(exe, (size_t)n);
  }
  report_mounts();
  report_namespaces();
  kint("no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  kint("dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
  kint("securebits", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
  {
    /* the session keyring: its description names it ("keyring;0;0;3f030000;_ses.ID") */
    char desc[256];
    long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
    long n = id < 0 ? -1 : syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, id, desc, sizeof desc);
    json_key("session_keyring");
    if (n <= 0) jnull(); else jstrn(desc, strnlen(desc, sizeof desc));
  }
  report_file_int("oom_score_adj", "/proc/self/oom_score_adj");
  report_fds();
  report_lines("cgroup", "/proc/self/cgroup");
  report_id_map("uid_map", "/proc/self/uid_map");
  report_id_map("gid_map", "/proc/self/gid_map");
  report_file_string("setgroups", "/proc/self/setgroups");
  report_file_string("lsm_label", "/proc/self/attr/current");
  kint("personality", personality(0xffffffff));
  report_scheduler();
  report_ioprio();
  report_affinity();
  report_tty();
  report_sysctls();
  report_files();
  report_writable();
  report_signals(status);
  report_ctty();
  report_net();
  report_dev();
  report_stdio();
  report_lines("keys", "/proc/keys");
  report_read();
  report_list();
  jobj_end();
  fputc('\n', stdout);
  free(status);
  if (fflush(stdout) != 0 || ferror(stdout)) die(EXIT_OUTPUT, "writing report: %s", strerror(errno));
}

// ---------------------------------------------------------------------------
// other subcommands

static void exit_on_signal(int sig) {
  // As PID 1 of a PID namespace a re-raised default action is ignored, so
  // fall back to the status a shell would report for death by this signal.
  signal(sig, SIG_DFL);
  raise(sig);
  _exit(128 + sig);
}

// Sleeping commands die on SIGTERM/SIGINT/SIGHUP even as PID 1 of a PID
// namespace (where SIG_DFL would ignore them), like a normal program would
// outside a container; `ocirt kill` tests rely on the default signal working.
static void terminate_on_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = exit_on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

// "inf" sleeps until killed; otherwise seconds, fractions allowed. Signals
// that are handled and return (EINTR) do not shorten the sleep.
static void sleep_for(const char *arg) {
  char *end = NULL;
  int inf = strcmp(arg, "inf") == 0 || strcmp(arg, "infinity") == 0;
  double secs = inf ? 0 : strtod(arg, &end);
  if (!inf && (end == arg || *end || !(secs >= 0) || isinf(secs))) die(EXIT_USAGE, "sleep: bad duration %s", arg);
  terminate_on_signals();
  if (inf) {
    for (;;) pause();
  }
  struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void do_write(const char *path, const char *content) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die(EXIT_FAILED, "write %s: %s", path, errno_name(errno));
  size_t len = strlen(content), off = 0;
  while (off < len) {
    ssize_t n = write(fd, content + off, len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(EXIT_FAILED, "write %s: %s", path, errno_name(errno));
    }
    off += (size_t)n;
  }
  if (close(fd) != 0) die(EXIT_FAILED, "write %s: %s", path, errno_name(errno));
}

static void do_cat(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(EXIT_FAILED, "cat %s: %s", path, errno_name(errno));
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(EXIT_FAILED, "cat %s: %s", path, errno_name(errno));
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(1, buf + off, (size_t)(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        die(EXIT_OUTPUT, "cat: writing stdout: %s", errno_name(errno));
      }
      off += w;
    }
  }
  close(fd);
}

static void write_line(const char *s) {
  size_t len = strlen(s), off = 0;
  while (off < len) {
    ssize_t n = write(1, s + off, len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      exit(EXIT_OUTPUT);
    }
    off += (size_t)n;
  }
}

static void noop_handler(int sig) { (void)sig; }

// Blocks every signal and takes them with sigwaitinfo, so each is printed
// exactly once and in order. Real handlers are installed as well: as PID 1 of
// a PID namespace, signals whose disposition is SIG_DFL are never delivered.
// Prints "ready" once set up; exits 0 after printing SIGTERM.
static void do_signal_wait(void) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = noop_handler;
  sigfillset(&sa.sa_mask);
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &sa, NULL);
  }
  write_line("ready\n");
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) {
      if (errno == EINTR) continue;
      die(EXIT_FAILED, "sigwaitinfo: %s", errno_name(errno));
    }
    char line[64];
    signal_name(sig, line, sizeof line - 1);
    strcat(line, "\n");
    write_line(line);
    if (sig == SIGTERM) exit(0);
  }
}

// Forks COUNT children (default 2) that each sleep N, prints "child PID" for
// each, then sleeps N itself and reaps them. Exits 0.
static void do_fork_sleep(const char *dur, int count) {
  for (int i = 0; i < count; i++) {
    pid_t pid = fork();
    if (pid < 0) die(EXIT_FAILED, "fork: %s", errno_name(errno));
    if (pid == 0) {
      sleep_for(dur);
      _exit(0);
    }
    char line[64];
    snprintf(line, sizeof line, "child %d\n", (int)pid);
    write_line(line);
  }
  sleep_for(dur);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
}

// Each entry runs one syscall with harmless arguments (or the optional arg)
// and returns 0 or errno. A seccomp rule that denies the syscall shows up as
// its errnoRet (EPERM by default), so "allowed" outcomes below are chosen to
// be distinguishable where possible: reboot with a bad magic is EINVAL when
// allowed and permitted.
static int run_syscall(const char *name, const char *arg) {
  errno = 0;
  long r = 0;
  char tmp[PATH_MAX];
  if (strcmp(name, "getpid") == 0) {
    r = syscall(SYS_getpid);
  } else if (strcmp(name, "getppid") == 0) {
    r = syscall(SYS_getppid);
  } else if (strcmp(name, "getcwd") == 0) {
    r = syscall(SYS_getcwd, tmp, sizeof tmp);
  } else if (strcmp(name, "mkdir") == 0) {
    if (!arg) snprintf(tmp, sizeof tmp, "/tmp/.probe-mkdir-%d", (int)getpid());
    const char *p = arg ? arg : tmp;
    r = syscall(SYS_mkdir, p, 0700);
    if (r == 0 && !arg) rmdir(p);
  } else if (strcmp(name, "mkdirat") == 0) {
    if (!arg) snprintf(tmp, sizeof tmp, "/tmp/.probe-mkdir-%d", (int)getpid());
    const char *p = arg ? arg : tmp;
    r = syscall(SYS_mkdirat, AT_FDCWD, p, 0700);
    if (r == 0 && !arg) rmdir(p);
  } else if (strcmp(name, "chmod") == 0 || strcmp(name, "fchmodat") == 0) {
    // chmod to the current mode: succeeds without changing anything.
    const char *p = arg ? arg : "/dev/null";
    struct stat st;
    if (stat(p, &st) != 0) return errno;
    r = strcmp(name, "chmod") == 0 ? syscall(SYS_chmod, p, st.st_mode & 07777)
                                   : syscall(SYS_fchmodat, AT_FDCWD, p, st.st_mode & 07777);
  } else if (strcmp(name, "chown") == 0) {
    const char *p = arg ? arg : "/dev/null";
    struct stat st;
    if (stat(p, &st) != 0) return errno;
    r = syscall(SYS_chown, p, st.st_uid, st.st_gid);
  } else if (strcmp(name, "unshare") == 0) {
    // Flags 0 is a no-op that still goes through the seccomp filter.
    r = syscall(SYS_unshare, arg ? strtol(arg, NULL, 0) : 0L);
  } else if (strcmp(name, "setns") == 0) {
    // Joining our own namespace is a no-op.
    int fd = open(arg ? arg : "/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    r = syscall(SYS_setns, fd, 0);
    int e = errno;
    close(fd);
    errno = e;
  } else if (strcmp(name, "mount") == 0) {
    // A tmpfs on a fresh private directory (never on a shared one such as
    // /tmp: files others create meanwhile would vanish with it), removed at
    // once. Without a writable /tmp the target is missing, so ENOENT means
    // the call was allowed.
    snprintf(tmp, sizeof tmp, "/tmp/.probe-mount-XXXXXX");
    const char *target = arg ? arg : mkdtemp(tmp) ? tmp : "/proc/self/probe-missing";
    r = syscall(SYS_mount, "probe", target, "tmpfs", 0UL, NULL);
    int e = errno;
    if (r == 0) umount2(target, MNT_DETACH);
    if (!arg && target == tmp) rmdir(tmp);
    errno = e;
  } else if (strcmp(name, "umount2") == 0 || strcmp(name, "umount") == 0) {
    // /proc/self resolves to a directory that is not a mount point: EINVAL
    // when allowed (EPERM without CAP_SYS_ADMIN).
    r = syscall(SYS_umount2, arg ? arg : "/proc/self", 0);
  } else if (strcmp(name, "reboot") == 0) {
    r = syscall(SYS_reboot, 0, 0, 0, NULL);
  } else if (strcmp(name, "sethostname") == 0) {
    struct utsname u;
    if (uname(&u) != 0) return errno;
    const char *h = arg ? arg : u.nodename;
    r = syscall(SYS_sethostname, h, strlen(h));
  } else if (strcmp(name, "kill") == 0) {
    r = syscall(SYS_kill, getpid(), 0);
  } else if (strcmp(name, "socket") == 0) {
    // arg: "unix" (default), "inet", "inet6", "netlink", or a number.
    int domain = AF_UNIX;
    if (arg && strcmp(arg, "inet") == 0) domain = AF_INET;
    else if (arg && strcmp(arg, "inet6") == 0) domain = AF_INET6;
    else if (arg && strcmp(arg, "netlink") == 0) domain = AF_NETLINK;
    else if (arg && strcmp(arg, "unix") != 0) domain = (int)strtol(arg, NULL, 0);
    int type = domain == AF_NETLINK ? SOCK_RAW : SOCK_DGRAM;
    r = syscall(SYS_socket, domain, type | SOCK_CLOEXEC, 0);
    if (r >= 0) { close((int)r); r = 0; }
  } else if (strcmp(name, "personality") == 0) {
    r = syscall(SYS_personality, arg ? strtoul(arg, NULL, 0) : 0xffffffffUL);
  } else if (strcmp(name, "setuid") == 0) {
    r = syscall(SYS_setuid, arg ? strtol(arg, NULL, 10) : (long)getuid());
  } else if (strcmp(name, "setgid") == 0) {
    r = syscall(SYS_setgid, arg ? strtol(arg, NULL, 10) : (long)getgid());
  } else if (strcmp(name, "ptrace") == 0) {
    // PTRACE_PEEKUSER on ourselves fails with ESRCH when the call is allowed.
    r = syscall(SYS_ptrace, 3 /* PTRACE_PEEKUSER */, getpid(), 0, 0);
  } else if (strcmp(name, "clock_settime") == 0) {
    // Setting CLOCK_MONOTONIC is always EINVAL when the call is allowed.
    struct timespec ts = {0, 0};
    r = syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts);
  } else if (strcmp(name, "keyctl") == 0) {
    r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
    if (r > 0) r = 0;
  } else if (strncmp(name, "nr:", 3) == 0) {
    // Raw number with all-zero arguments, for syscalls without a case above.
    r = syscall(strtol(name + 3, NULL, 0), 0, 0, 0, 0, 0, 0);
    if (r > 0) r = 0;
  } else {
    die(EXIT_USAGE, "syscall: unknown name %s", name);
  }
  if (r < 0) return errno;
  return 0;
}

// The calling thread's NUMA memory policy (get_mempolicy), as one JSON line:
// {"mode":"MPOL_BIND","mode_raw":2,"flags":[...],"nodes":[0]}.
static void do_mempolicy(void) {
  static const char *const modes[] = {"MPOL_DEFAULT", "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE",
                                      "MPOL_LOCAL", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"};
  static const struct { int bit; const char *name; } mflags[] = {
      {1 << 15, "MPOL_F_STATIC_NODES"}, {1 << 14, "MPOL_F_RELATIVE_NODES"}, {1 << 13, "MPOL_F_NUMA_BALANCING"}};
  int mode = 0;
  unsigned long mask[1024 / (8 * sizeof(unsigned long))];
  memset(mask, 0, sizeof mask);
  if (syscall(SYS_get_mempolicy, &mode, mask, (unsigned long)(sizeof mask * 8), NULL, 0UL) != 0)
    die(EXIT_FAILED, "get_mempolicy: %s", errno_name(errno));
  int base = mode & ~(mflags[0].bit | mflags[1].bit | mflags[2].bit);
  jobj();
  if (base >= 0 && base < (int)(sizeof modes / sizeof *modes)) kstr("mode", modes[base]); else kint("mode", base);
  kint("mode_raw", mode);
  json_key("flags");
  jarr();
  for (size_t i = 0; i < sizeof mflags / sizeof *mflags; i++)
    if (mode & mflags[i].bit) jstr(mflags[i].name);
  jarr_end();
  json_key("nodes");
  jarr();
  for (size_t i = 0; i < sizeof mask * 8; i++)
    if (mask[i / (8 * sizeof(unsigned long))] & (1UL << (i % (8 * sizeof(unsigned long))))) jint((long long)i);
  jarr_end();
  jobj_end();
  fputc('\n', stdout);
  if (fflush(stdout) != 0) exit(EXIT_OUTPUT);
}


// hook-record NAME EXIT FILE [FALLBACK]: what an OCI hook is given, appended as one
// JSON line to FILE (or FALLBACK when FILE's directory is not there, e.g. after
// pivot_root): argv, env, cwd, stdin (the state), namespaces; then exits EXIT.
static void do_hook_record(int argc, char **argv) {
  const char *name = argv[2];
  int code = atoi(argv[3]);
  size_t cap = 1 << 16, len = 0;
  char *in = malloc(cap + 1);
  for (;;) {
    if (len == cap) { cap *= 2; in = realloc(in, cap + 1); if (!in) die(EXIT_FAILED, "hook-record: no memory"); }
    ssize_t n = read(0, in + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  in[len] = 0;
  const char *used = NULL;
  int fd = -1;
  for (int i = 4; i < argc && fd < 0; i++) {
    fd = open(argv[i], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) used = i == 4 ? "primary" : "fallback";
  }
  if (fd < 0) die(EXIT_FAILED, "hook-record: no output file: %s", errno_name(errno));
  static char outbuf[1 << 20];
  fflush(stdout);
  if (dup2(fd, 1) < 0) die(EXIT_FAILED, "hook-record: dup2: %s", errno_name(errno));
  close(fd);
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  jobj();
  kstr("name", name);
  kstr("file", used);
  json_key("argv");
  jarr();
  for (int i = 0; i < argc; i++) jstr(argv[i]);
  jarr_end();
  json_key("env");
  jarr();
  for (char **e = environ; e && *e; e++) jstr(*e);
  jarr_end();
  {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) kstr("cwd", cwd); else knull("cwd");
  }
  json_key("stdin");
  jstrn(in, len);
  report_namespaces();
  kint("uid", getuid());
  kint("gid", getgid());
  jobj_end();
  fputc('\n', stdout);
  if (fflush(stdout) != 0) exit(EXIT_OUTPUT);
  free(in);
  exit(code);
}

// console-recv SOCKET SECONDS: the engine's side of --console-socket. Listens on
// SOCKET (bound under a temporary name and renamed once listening, so whoever
// waits for the path can connect at once), takes one fd over SCM_RIGHTS, and
// reads the terminal's output until the other side closes or SECONDS pass.
// Prints one JSON line: the message's name, what the fd is, the output.
static void do_console_recv(const char *path, const char *secs) {
  int timeout_ms = (int)(atof(secs) * 1000);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) die(EXIT_FAILED, "socket: %s", errno_name(errno));
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  char tmp[sizeof sa.sun_path];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) die(EXIT_USAGE, "console-recv: path too long");
  unlink(tmp);
  memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0) die(EXIT_FAILED, "bind: %s", errno_name(errno));
  if (listen(ls, 4) != 0) die(EXIT_FAILED, "listen: %s", errno_name(errno));
  if (rename(tmp, path) != 0) die(EXIT_FAILED, "rename: %s", errno_name(errno));
  struct pollfd pf = {ls, POLLIN, 0};
  if (poll(&pf, 1, timeout_ms) <= 0) {
    unlink(path);
    printf("{\"error\":\"no connection\"}\n");
    exit(0);
  }
  int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) die(EXIT_FAILED, "accept: %s", errno_name(errno));
  char name[4096];
  char ctrl[CMSG_SPACE(sizeof(int) * 4)];
  struct iovec iov = {name, sizeof name - 1};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctrl;
  mh.msg_controllen = sizeof ctrl;
  ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
  int nfds = 0, master = -1;
  for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      nfds = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      memcpy(&master, CMSG_DATA(cm), sizeof(int));
    }
  }
  close(c);
  close(ls);
  unlink(path);
  jobj();
  json_key("name");
  if (n >= 0) jstrn(name, (size_t)n); else jnull();
  kint("fds", nfds);
  struct stat st;
  json_key("fd");
  if (master >= 0 && fstat(master, &st) == 0) {
    jobj();
    stat_fields(&st);
    jobj_end();
  } else {
    jnull();
  }
  // read the output until EIO (every slave fd closed) or the time is up
  size_t cap = 1 << 16, len = 0;
  char *out = malloc(cap);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (master >= 0) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
    if (left <= 0) break;
    struct pollfd mp = {master, POLLIN, 0};
    if (poll(&mp, 1, (int)left) <= 0) break;
    if (len == cap) { cap *= 2; out = realloc(out, cap); if (!out) die(EXIT_FAILED, "no memory"); }
    ssize_t r = read(master, out + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  json_key("output");
  jstrn(out, len);
  jobj_end();
  fputc('\n', stdout);
  if (fflush(stdout) != 0) exit(EXIT_OUTPUT);
  exit(0);
}

static void usage(void) {
  fputs(
      "usage: probe [report]\n"
      "       probe report-then-sleep N\n"
      "       probe sleep N|inf\n"
      "       probe exit N\n"
      "       probe write PATH CONTENT\n"
      "       probe cat PATH\n"
      "       probe signal-wait\n"
      "       probe fork-sleep N [COUNT]\n"
      "       probe exec PATH [ARGS...]\n"
      "       probe syscall NAME [ARG]\n"
      "       probe mempolicy\n"
      "       probe hook-record NAME EXIT FILE [FALLBACK]\n"
      "       probe console-recv SOCKET SECONDS\n"
      "env for report: PROBE_SYSCTLS, PROBE_FILES, PROBE_WRITABLE, PROBE_READ, PROBE_LIST (comma-separated)\n",
      stderr);
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "report";
  if (strcmp(cmd, "report") == 0) {
    do_report(argc, argv);
  } else if (strcmp(cmd, "report-then-sleep") == 0) {
    if (argc != 3) { usage(); return EXIT_USAGE; }
    do_report(argc, argv);
    sleep_for(argv[2]);
  } else if (strcmp(cmd, "sleep") == 0) {
    if (argc != 3) { usage(); return EXIT_USAGE; }
    sleep_for(argv[2]);
  } else if (strcmp(cmd, "exit") == 0) {
    if (argc != 3) { usage(); return EXIT_USAGE; }
    char *end;
    long code = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end || code < 0 || code > 255) die(EXIT_USAGE, "exit: bad code %s", argv[2]);
    return (int)code;
  } else if (strcmp(cmd, "write") == 0) {
    if (argc != 4) { usage(); return EXIT_USAGE; }
    do_write(argv[2], argv[3]);
  } else if (strcmp(cmd, "cat") == 0) {
    if (argc != 3) { usage(); return EXIT_USAGE; }
    do_cat(argv[2]);
  } else if (strcmp(cmd, "signal-wait") == 0) {
    do_signal_wait();
  } else if (strcmp(cmd, "fork-sleep") == 0) {
    if (argc != 3 && argc != 4) { usage(); return EXIT_USAGE; }
    int count = argc == 4 ? atoi(argv[3]) : 2;
    if (count < 0 || count > 1000) die(EXIT_USAGE, "fork-sleep: bad count %s", argv[3]);
    do_fork_sleep(argv[2], count);
  } else if (strcmp(cmd, "exec") == 0) {
    if (argc < 3) { usage(); return EXIT_USAGE; }
    execv(argv[2], argv + 2);
    die(EXIT_EXEC, "exec %s: %s", argv[2], errno_name(errno));
  } else if (strcmp(cmd, "hook-record") == 0) {
    if (argc < 5) { usage(); return EXIT_USAGE; }
    do_hook_record(argc, argv);
  } else if (strcmp(cmd, "console-recv") == 0) {
    if (argc != 4) { usage(); return EXIT_USAGE; }
    do_console_recv(argv[2], argv[3]);
  } else if (strcmp(cmd, "mempolicy") == 0) {
    do_mempolicy();
  } else if (strcmp(cmd, "syscall") == 0) {
    if (argc != 3 && argc != 4) { usage(); return EXIT_USAGE; }
    int e = run_syscall(argv[2], argc == 4 ? argv[3] : NULL);
    printf("%s\n", errno_name(e));
    if (fflush(stdout) != 0) return EXIT_OUTPUT;
  } else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
    usage();
  } else {
    usage();
    die(EXIT_USAGE, "unknown command %s", cmd);
  }
  return 0;
}
