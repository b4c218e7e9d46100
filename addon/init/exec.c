/* The end of set-up: seccomp, hooks run by the helper, the two halves of exec, fork,
   and the signals of a created container. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "init.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void load_seccomp(const char* prog, uint32_t len, uint64_t flags, int notify) {
  if (!len || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > 0xffff)
    fail(EINVAL, "seccomp program of %u bytes", len);
  struct sock_fprog fp = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (struct sock_filter*)(void*)prog};
  if (notify) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long r = sys.seccomp(SECCOMP_SET_MODE_FILTER, (unsigned)flags, &fp);
  if (r < 0) fail(errno, "loading the seccomp filter (%u instructions)", fp.len);
  if (notify) {
    /* hand the listener to ocirt, which passes it to the listenerPath agent */
    sync_send_fd(SYNC_SECCOMP_FD, (int)r, NULL);
    sys.close((int)r);
    sync_wait_ack();
  }
}

void op_seccomp(const struct op* op) {
  if (!op->nblobs) fail(EINVAL, "no seccomp program");
  load_seccomp(op->blob[0], op->blen[0], INT(op, 0), (int)INT(op, 1));
}

/* execvp's lookup, but with the container's PATH and an error the parent can show.
   As runc's (Go's exec.LookPath), a directory is no program: "permission denied". */
static const char* lookup(const char* file, char* const* envp, char* buf, size_t n) {
  if (strchr(file, '/')) {
    struct stat st;
    if (sys.fstatat(AT_FDCWD, file, &st, 0) < 0) fail(errno, "exec: \"%s\": stat %s", file, file);
    if (S_ISDIR(st.st_mode)) fail(EACCES, "exec: \"%s\" is a directory", file);
    if (sys.faccessat(AT_FDCWD, file, X_OK, 0) < 0) fail(errno, "exec: \"%s\"", file);
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
    int w = snprintf(buf, n, "%.*s%s%s", (int)dl, path, dl ? "/" : "", file);
    struct stat st;
    if (w > 0 && (size_t)w < n && sys.fstatat(AT_FDCWD, buf, &st, 0) == 0 && S_ISREG(st.st_mode)) {
      if (sys.faccessat(AT_FDCWD, buf, X_OK, 0) == 0) return buf;
      last = EACCES;
    }
    path = colon ? colon + 1 : NULL;
  }
  fail(last, "exec: \"%s\": executable file not found in $PATH", file);
}

/* ---- the signals of a created container ----
   While the helper waits on exec.fifo it is the container's process, and a signal
   sent to a created container acts as on runc's Go init: HUP, INT and TERM end it,
   as do QUIT and the "crash" signals (Go's dieFromSignal: the default action again,
   and where that is still ignored, as for pid 1 of a pid namespace, exit status 2);
   every other signal is caught and does nothing (Go's "no action"), so USR1, ALRM,
   PWR or a real-time signal leave it created, with or without a pid namespace of
   its own. The program gets default dispositions (execve resets handled signals)
   and an empty signal mask. */

static const int terminating[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGSTKFLT, SIGSYS};
static const int caught[] = {SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR};

static void die_of(int sig) {
  /* async-signal-safe only */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, NULL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  kill(getpid(), sig);
  _exit(2);
}

static void no_action(int sig) { (void)sig; }

static void handle_terminating_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = die_of;
  sigfillset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof terminating / sizeof terminating[0]; i++)
    if (sys.sigaction(terminating[i], &sa, NULL) < 0) fail(errno, "handling signal %d", terminating[i]);
  sa.sa_handler = no_action;
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
    if (sys.sigaction(caught[i], &sa, NULL) < 0) fail(errno, "handling signal %d", caught[i]);
  for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
    if (sys.sigaction(s, &sa, NULL) < 0) fail(errno, "handling signal %d", s);
  sigset_t none;
  sigemptyset(&none);
  if (sys.sigprocmask(SIG_SETMASK, &none, NULL) < 0) fail(errno, "clearing the signal mask");
}

/* every fd from 3+P up is close-on-exec: only stdio and the preserved fds reach the
   program (CVE-2024-21626) */
static void cloexec_own_fds(void) {
  if (sys.close_range(3 + (unsigned)S.npreserve, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  if (errno != ENOSYS && errno != EINVAL && errno != EPERM) fail(errno, "close_range");
  /* a kernel without CLOSE_RANGE_CLOEXEC (< 5.11), or a container's seccomp profile that
     does not name close_range (EPERM by default; runc 1.1 walks /proc/self/fd): the open
     fds as /proc/self/fd lists them, else every number up to the limit */
  int dir = pseudofs_open("/proc/self/fd", O_RDONLY | O_DIRECTORY, PSEUDO_TRY);
  if (dir >= 0) {
    char buf[4096];
    long n;
    int ok = 1;
    while ((n = sys.getdents64(dir, buf, sizeof buf)) > 0) {
      for (long off = 0; off < n;) {
        struct dirent64* d = (struct dirent64*)(buf + off);
        off += d->d_reclen;
        char* end;
        long fd = strtol(d->d_name, &end, 10);
        if (*end || end == d->d_name || fd < 3 + S.npreserve || fd == dir) continue;
        if (sys.fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) fail(errno, "marking fd %ld close-on-exec", fd);
      }
    }
    if (n < 0) ok = 0;
    sys.close(dir);
    if (ok) return;
  }
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = 3 + S.npreserve; fd < (max > 0 ? max : 1048576); fd++)
    if (sys.fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) fail(errno, "marking fd %ld close-on-exec", fd);
}

/*
 * OP_EXEC. flags 0: all of it; 1: up to the release by `start`; 2: the rest, after
 * the startContainer hooks (ops between the halves). As runc, the seccomp filter of
 * a no_new_privs process is loaded before READY (its errors still reach `create`,
 * a listener still reaches ocirt), so the startContainer hooks run under it.
 */
void op_exec(const struct op* op) {
  uint32_t argc = (uint32_t)INT(op, 0);
  int64_t fifo = (int64_t)INT(op, 1);
  uint64_t scflags = INT(op, 2);
  int has_seccomp = (int)INT(op, 3) & 1, notify = ((int)INT(op, 3) & 2) != 0;
  if (!argc || argc + (uint32_t)has_seccomp > op->nblobs) fail(EINVAL, "exec op with %u args and %u blobs", argc, op->nblobs);
  uint32_t nenv = op->nblobs - argc - (has_seccomp ? 1 : 0);
  char** argv = xcalloc((size_t)argc + 1, sizeof *argv);
  for (uint32_t i = 0; i < argc; i++) argv[i] = (char*)op->blob[i];
  char** envp = xcalloc((size_t)nenv + 1, sizeof *envp);
  for (uint32_t i = 0; i < nenv; i++) envp[i] = (char*)op->blob[argc + i];
  static char pbuf[PATH_MAX]; /* kept from the prepare half (flag 1) to the finish half (flag 2) */
  if (op->flags != 2) {
    /* the fd directory for exec.fifo: the container's own procfs (verified as any
       procfs use). A container with a mount namespace but no procfs on /proc fails
       here, at create, as runc's init does (it closes its fds through
       /proc/self/fd); only without a mount namespace (chroot) the host's serves.
       Nothing of the host's procfs stays open while the init waits: a process that
       could trace it (CAP_SYS_PTRACE in a shared pid namespace) would find no
       directory of the host in it. */
    int fifodir = -1;
    if (fifo >= 0) {
      fifodir = pseudofs_open("/proc/self/fd", O_PATH | O_DIRECTORY, PSEUDO_TRY);
      if (fifodir < 0 && S.pivoted == 1)
        fail(errno == EPERM ? ENOENT : errno, "the container has no procfs on /proc (mounts): error closing exec fds: open /proc/self/fd");
      if (fifodir < 0) fifodir = fd_dir();
    }
    const char* path = lookup(argv[0], envp, pbuf, sizeof pbuf);
    if (path != pbuf) pathf(pbuf, sizeof pbuf, "%s", path);
    if (S.fddir >= 0 && S.fddir != fifodir) {
      sys.close(S.fddir);
      S.fddir = -1;
    }
    handle_terminating_signals();
    cloexec_own_fds();
    if (has_seccomp) load_seccomp(op->blob[op->nblobs - 1], op->blen[op->nblobs - 1], scflags, notify);
    if (sync_send(SYNC_READY, 0, NULL, 0) < 0) _exit(1);
    S.ready = 1;
    /* nobody listens any more: errors from here go to the container's stderr */
    sys.close(S.syncfd);
    S.syncfd = -1;
    if (fifo >= 0) {
      /* blocks until `ocirt start` opens the fifo for reading */
      char name[16];
      int ffd = extra_fd((uint64_t)fifo);
      snprintf(name, sizeof name, "%d", ffd);
      int w = sys.openat(fifodir, name, O_WRONLY | O_CLOEXEC, 0);
      if (w < 0) fail(errno, "opening exec.fifo");
      if (sys.write(w, "0", 1) != 1) fail(errno, "writing exec.fifo");
      sys.close(w);
      sys.close(ffd);
      sys.close(fifodir);
      if (fifodir == S.fddir) S.fddir = -1;
    }
    if (op->flags == 1) {
      free(argv);
      free(envp);
      return; /* startContainer hooks run between the halves */
    }
  }
  sys.execve(pbuf, argv, envp);
  fail(errno, "exec %s", pbuf);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A hook's stdout or stderr, read from a pipe as it comes (so a talkative hook never
   blocks on a full pipe); at most HOOK_OUTPUT_MAX bytes are kept, the rest drained. */
#define HOOK_OUTPUT_MAX (1 << 20)
struct capture {
  int fd;
  char* buf;
  size_t len, cap;
};

static void capture_read(struct capture* c, const char* path) {
  char tmp[8192];
  while (c->fd >= 0) {
    ssize_t r = sys.read(c->fd, tmp, sizeof tmp);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return;
    if (r < 0) fail(errno, "hook %s: reading its output", path);
    if (r == 0) {
      sys.close(c->fd);
      c->fd = -1;
      return;
    }
    size_t keep = c->len + (size_t)r > HOOK_OUTPUT_MAX ? HOOK_OUTPUT_MAX - c->len : (size_t)r;
    if (c->len + keep + 1 > c->cap) {
      size_t cap = (c->len + keep + 1) * 2;
      char* b = realloc(c->buf, cap);
      if (!b) fail(ENOMEM, "hook %s: keeping its output", path);
      c->buf = b;
      c->cap = cap;
    }
    memcpy(c->buf + c->len, tmp, keep);
    c->len += keep;
    c->buf[c->len] = 0;
  }
}

/* The last non-empty line of a hook's stderr (the one a failure names), in place. */
static const char* last_line(struct capture* c) {
  if (!c->buf) return "";
  char* end = c->buf + c->len;
  while (end > c->buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) end--;
  *end = 0;
  char* start = end;
  while (start > c->buf && start[-1] != '\n') start--;
  return start;
}

/* glibc's strerror / strsignal as Go words them ("no such file or directory", "killed") */
static const char* go_words(const char* s, char* buf, size_t n) {
  snprintf(buf, n, "%s", s);
  if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char)(buf[0] - 'A' + 'a');
  return buf;
}

/*
 * A hook run by the init itself (createContainer, startContainer): fork, exec with
 * the container state on stdin, wait, with the hook's timeout. As runc, a
 * createContainer hook starts in the rootfs (before pivot_root), a startContainer
 * hook in process.cwd; its stdout and stderr are captured, not the container's
 * (runc shows them only in the error). A hook that exits without reading its state
 * is fine (EPIPE ignored, as Go's os/exec does); the state has no size limit.
 * A failure names the hook's exit ("exit status 3: <its last stderr line>"), as
 * ocirt's own hooks do; a startContainer hook fails after start released the init,
 * so the container's stderr is its only witness and the init exits 1, as runc's.
 */
void op_run_hook(const struct op* op) {
  uint64_t timeout = INT(op, 0);
  uint32_t argc = (uint32_t)INT(op, 1), nenv = (uint32_t)INT(op, 2);
  if ((uint64_t)argc + nenv + 3 != op->nblobs) fail(EINVAL, "malformed hook op");
  const char* path = op->blob[0];
  char** argv = xcalloc((size_t)argc + 2, sizeof *argv);
  uint32_t ac = 0;
  for (uint32_t i = 0; i < argc; i++) argv[ac++] = (char*)op->blob[1 + i];
  if (!ac) argv[ac++] = (char*)path;
  char** envp = xcalloc((size_t)nenv + 1, sizeof *envp);
  for (uint32_t i = 0; i < nenv; i++) envp[i] = (char*)op->blob[1 + argc + i];
  const char *before = op->blob[op->nblobs - 2], *after = op->blob[op->nblobs - 1];
  size_t cap = strlen(before) + strlen(after) + 24;
  char* state = xcalloc(1, cap);
  int n = snprintf(state, cap, "%s%d%s", before, S.host_pid, after);
  if (n < 0 || (size_t)n >= cap) fail(EINVAL, "hook %s: formatting its state", path);

  /* stdin (the state), stdout, stderr, and a close-on-exec pipe that carries the
     errno of a failed execve (EOF: it ran) */
  int in[2], outp[2], errp[2], ex[2];
  if (sys.pipe2(in, O_CLOEXEC) < 0 || sys.pipe2(outp, O_CLOEXEC) < 0 || sys.pipe2(errp, O_CLOEXEC) < 0 || sys.pipe2(ex, O_CLOEXEC) < 0)
    fail(errno, "hook %s: pipe", path);
  pid_t pid = sys.fork();
  if (pid < 0) fail(errno, "hook %s: fork", path);
  if (pid == 0) {
    int e = 0;
    if (sys.dup2(in[0], 0) < 0 || sys.dup2(outp[1], 1) < 0 || sys.dup2(errp[1], 2) < 0) e = errno;
    else if (!S.pivoted && S.rootfd >= 0 && sys.fchdir(S.rootfd) < 0) e = errno;
    else sys.execve(path, argv, envp), e = errno;
    ssize_t w = sys.write(ex[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  sys.close(in[0]);
  sys.close(outp[1]);
  sys.close(errp[1]);
  sys.close(ex[1]);
  struct capture cout = {.fd = outp[0]}, cerr = {.fd = errp[0]};
  if (sys.fcntl(in[1], F_SETFL, O_NONBLOCK) < 0 || sys.fcntl(cout.fd, F_SETFL, O_NONBLOCK) < 0 || sys.fcntl(cerr.fd, F_SETFL, O_NONBLOCK) < 0)
    fail(errno, "hook %s: pipe", path);
  struct sigaction ign, old;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  if (sys.sigaction(SIGPIPE, &ign, &old) < 0) fail(errno, "hook %s: SIGPIPE", path);
  size_t sent = 0;
  int st = 0, wfd = in[1], timed_out = 0;
  double end = timeout ? now_s() + (double)timeout : 0;
  for (;;) {
    if (wfd >= 0 && sent < (size_t)n) {
      ssize_t w = sys.write(wfd, state + sent, (size_t)n - sent);
      if (w > 0) sent += (size_t)w;
      else if (w < 0 && errno == EPIPE) sent = (size_t)n; /* it exited, or closed stdin: fine */
      else if (w < 0 && errno != EAGAIN && errno != EINTR) fail(errno, "hook %s: writing its state", path);
    }
    if (wfd >= 0 && sent >= (size_t)n) {
      sys.close(wfd);
      wfd = -1;
    }
    capture_read(&cout, path);
    capture_read(&cerr, path);
    pid_t r = sys.waitpid(pid, &st, WNOHANG);
    if (r < 0 && errno != EINTR) fail(errno, "hook %s: waiting", path);
    /* exited: what it wrote is read (a child it left behind may hold the pipes open:
       not waited for) */
    if (r == pid) break;
    if (timeout && now_s() >= end) {
      sys.kill(pid, SIGKILL);
      sys.waitpid(pid, &st, 0);
      timed_out = 1;
      break;
    }
    struct pollfd p[3];
    nfds_t np = 0;
    if (wfd >= 0) p[np++] = (struct pollfd){.fd = wfd, .events = POLLOUT};
    if (cout.fd >= 0) p[np++] = (struct pollfd){.fd = cout.fd, .events = POLLIN};
    if (cerr.fd >= 0) p[np++] = (struct pollfd){.fd = cerr.fd, .events = POLLIN};
    sys.poll(p, np, 20);
  }
  capture_read(&cout, path);
  capture_read(&cerr, path);
  if (cout.fd >= 0) sys.close(cout.fd);
  if (cerr.fd >= 0) sys.close(cerr.fd);
  if (wfd >= 0) sys.close(wfd);
  int exec_err = 0;
  ssize_t got = timed_out ? 0 : sys.read(ex[0], &exec_err, sizeof exec_err);
  sys.close(ex[0]);
  if (sys.sigaction(SIGPIPE, &old, NULL) < 0) fail(errno, "hook %s: SIGPIPE", path);
  free(state);
  free(argv);
  free(envp);

  char why[512], words[128];
  const char* last = last_line(&cerr);
  if (timed_out) snprintf(why, sizeof why, "timed out after %llu s", (unsigned long long)timeout);
  else if (got == (ssize_t)sizeof exec_err && exec_err) snprintf(why, sizeof why, "fork/exec %s: %s", path, go_words(strerror(exec_err), words, sizeof words));
  else if (WIFSIGNALED(st)) snprintf(why, sizeof why, "signal: %s%s%s%s", go_words(strsignal(WTERMSIG(st)), words, sizeof words), WCOREDUMP(st) ? " (core dumped)" : "", *last ? ": " : "", last);
  else if (WEXITSTATUS(st)) snprintf(why, sizeof why, "exit status %d%s%s", WEXITSTATUS(st), *last ? ": " : "", last);
  else why[0] = 0;
  free(cout.buf);
  free(cerr.buf);
  if (!why[0]) return;
  /* a startContainer hook: after READY nobody listens; the container's stderr shows it */
  if (S.ready) fail(0, "hooks.startContainer[%llu] (%s): %s", (unsigned long long)INT(op, 3), path, why);
  fail(0, "%s", why);
}

/*
 * The parent reports the child's pid, then exits. The child goes on only once
 * that report is sent (a byte on a pipe), so that CHILD_PID reaches ocirt before
 * anything the child sends (READY among them): otherwise a parent descheduled
 * right after fork let ocirt take its own pid for the program's, and wait for its
 * exit status (0) instead of the program's.
 */
void op_fork(void) {
  int sent[2];
  if (sys.pipe2(sent, O_CLOEXEC) < 0) fail(errno, "fork into the new pid namespace: pipe");
  pid_t pid = sys.fork();
  if (pid < 0) fail(errno, "fork into the new pid namespace");
  if (pid > 0) {
    sync_send(SYNC_CHILD_PID, pid, NULL, 0);
    char one = 1;
    (void)!sys.write(sent[1], &one, 1);
    _exit(0);
  }
  sys.close(sent[1]);
  char got;
  ssize_t n;
  do n = sys.read(sent[0], &got, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) fail(n < 0 ? errno : 0, "fork into the new pid namespace: the parent exited before reporting the child's pid");
  sys.close(sent[0]);
  /* the parent's fd directory is not ours */
  if (S.fddir >= 0) sys.close(S.fddir);
  S.fddir = -1;
}
