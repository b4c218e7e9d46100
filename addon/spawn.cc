// spawnInit: clone the container's first process and exec the init helper.
//
// Node is multi-threaded, so between clone and execve the child may only make raw
// syscalls on memory prepared before the clone: no malloc, no locks, no stdio, no
// JS. Everything the child touches (argv, fd table, the error message) is built
// here first; the child's code is the function child_main below.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <vector>
#include "modules.h"
#include "plan.h"
#include "scm.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace {

struct ChildArgs {
  int helper_fd;            // sealed memfd holding ocirt-init
  int nfds;
  const int* src;           // fds as they are in the parent (nfds of them)
  int tmp_base;             // above every src and target: staging area for the shuffle
  char* const* argv;
  char* const* envp;
  sync_msg err;             // prepared ERROR message; the child fills in errno only
  int sync_target;          // where the sync socket lands in the child
  int stdio[3];             // fds to become 0-2 (-1: keep the parent's)
};

// Raw syscalls only. Returns only on failure.
[[noreturn]] void child_main(ChildArgs* a) {
  // Node ignores SIGPIPE and installs handlers; an ignored signal survives execve,
  // so reset every disposition before the mask (blocked by the parent) is lifted.
  struct kernel_sigaction { void* handler; unsigned long flags; void* restorer; unsigned long mask; } dfl = {(void*)SIG_DFL, 0, nullptr, 0};
  for (int s = 1; s < 65; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, s, &dfl, nullptr, 8);
  }
  unsigned long empty = 0;
  int err = 0;
  // Until it runs the helper, the child is a copy of ocirt (its /proc/<pid>/cmdline
  // says "... create <id>"): if ocirt is killed before it recorded the child's pid,
  // nothing could find it. So it dies with us; the helper clears this first thing
  // (and from then on learns of our death from the sync socket's EOF). A death
  // before this line shows as the sync socket's hang-up, checked before the exec.
  syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // 1. stage every fd above all targets, 2. put each at its target (3, 4, ...)
  for (int i = 0; i < a->nfds && !err; i++) {
    int t = (int)syscall(SYS_fcntl, a->src[i], F_DUPFD_CLOEXEC, a->tmp_base + i);
    if (t != a->tmp_base + i) err = t < 0 ? errno : EBADF;
  }
  int helper = (int)syscall(SYS_fcntl, a->helper_fd, F_DUPFD_CLOEXEC, a->tmp_base + a->nfds);
  if (helper < 0 && !err) err = errno;
  // stdio given by the caller (a shim's pipes) is staged above the helper
  for (int i = 0; i < 3 && !err; i++) {
    if (a->stdio[i] < 0) continue;
    int t = (int)syscall(SYS_fcntl, a->stdio[i], F_DUPFD_CLOEXEC, a->tmp_base + a->nfds + 1 + i);
    if (t != a->tmp_base + a->nfds + 1 + i) err = t < 0 ? errno : EBADF;
  }
  for (int i = 0; i < a->nfds && !err; i++) {
    if (syscall(SYS_dup3, a->tmp_base + i, 3 + i, 0) < 0) err = errno;
  }
  for (int i = 0; i < 3 && !err; i++) {
    if (a->stdio[i] >= 0 && syscall(SYS_dup3, a->tmp_base + a->nfds + 1 + i, i, 0) < 0) err = errno;
  }
  // Node marks its stdio close-on-exec; the container inherits 0-2 as they are
  for (int fd = 0; fd < 3; fd++) syscall(SYS_fcntl, fd, F_SETFD, 0);
  // everything between our targets and the staged helper goes: no host fd leaks
  if (!err && (syscall(SYS_close_range, 3 + a->nfds, helper - 1, 0) < 0 || syscall(SYS_close_range, helper + 1, ~0U, 0) < 0)) err = errno;
  if (!err) {
    // every copy of our end is gone now (close_range): a hang-up means ocirt died
    struct { int fd; short events, revents; } hup = {a->sync_target, 0, 0};
    if (syscall(SYS_poll, &hup, 1, 0) == 1 && (hup.revents & (0x10 /* POLLHUP */ | 0x8 /* POLLERR */))) syscall(SYS_exit_group, 127);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, nullptr, 8);
    syscall(SYS_execveat, helper, "", a->argv, a->envp, AT_EMPTY_PATH);
    err = errno;
  }
  a->err.err = err;
  syscall(SYS_sendto, err && a->nfds ? a->sync_target : -1, &a->err, sizeof a->err, MSG_NOSIGNAL, nullptr, 0);
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

int helper_memfd(const std::string& path, int* err) {
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) return *err = errno, -1;
  struct stat st;
  if (fstat(src, &st) < 0) return *err = errno, close(src), -1;
  int fd = (int)syscall(SYS_memfd_create, "ocirt-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = (int)syscall(SYS_memfd_create, "ocirt-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return *err = errno, close(src), -1;
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));
    if (n <= 0) return *err = n < 0 ? errno : EIO, close(src), close(fd), -1;
  }
  close(src);
  // sealed: the container can exec it but nobody can ever change its bytes
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) return *err = errno, close(fd), -1;
  return fd;
}

int plan_memfd(const uint8_t* data, size_t len, int* err) {
  int fd = (int)syscall(SYS_memfd_create, "ocirt-plan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return *err = errno, -1;
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n <= 0) return *err = n < 0 ? errno : EIO, close(fd), -1;
    off += (size_t)n;
  }
  // sealed as the helper: what the helper checked is what it runs
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) return *err = errno, close(fd), -1;
  return fd;
}

Napi::Value SpawnInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object req = info[0].As<Napi::Object>();
  std::string init_path = req.Get("initPath").As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> plan = req.Get("plan").As<Napi::Buffer<uint8_t>>();
  uint64_t flags = (uint64_t)req.Get("cloneFlags").As<Napi::Number>().Int64Value();
  int cgroup_fd = req.Get("cgroupFd").As<Napi::Number>().Int32Value();
  Napi::Array preserved = req.Get("preserved").As<Napi::Array>();
  Napi::Array extra = req.Get("extra").As<Napi::Array>();

  int err = 0;
  int helper = helper_memfd(init_path, &err);
  if (helper < 0) return ThrowErrno(env, "copying the init helper into a memfd", err);
  int planfd = plan_memfd(plan.Data(), plan.Length(), &err);
  if (planfd < 0) return close(helper), ThrowErrno(env, "memfd for the plan", err);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    err = errno;
    close(helper), close(planfd);
    return ThrowErrno(env, "socketpair", err);
  }

  // All memory the child uses is allocated here, before the clone.
  static ChildArgs args;  // not on the parent's heap in a way the child must free
  ChildArgs* a = &args;
  memset(a, 0, sizeof *a);
  a->helper_fd = helper;
  int np = (int)preserved.Length();
  std::vector<int> src;  // lives until after the clone; the child only reads it
  for (int i = 0; i < np; i++) src.push_back(preserved.Get(i).As<Napi::Number>().Int32Value());
  src.push_back(sv[1]);
  src.push_back(planfd);
  for (uint32_t i = 0; i < extra.Length(); i++) src.push_back(extra.Get(i).As<Napi::Number>().Int32Value());
  a->src = src.data();
  a->nfds = (int)src.size();
  int maxfd = 3 + a->nfds + 1;
  for (size_t i = 0; i < src.size(); i++)
    if (src[i] >= maxfd) maxfd = src[i] + 1;
  // optional stdio: [stdin, stdout, stderr], -1 keeps ours
  for (int i = 0; i < 3; i++) a->stdio[i] = -1;
  if (req.Has("stdio") && req.Get("stdio").IsArray()) {
    Napi::Array io = req.Get("stdio").As<Napi::Array>();
    for (uint32_t i = 0; i < 3 && i < io.Length(); i++) {
      a->stdio[i] = io.Get(i).As<Napi::Number>().Int32Value();
      if (a->stdio[i] >= maxfd) maxfd = a->stdio[i] + 1;
    }
  }
  if (helper >= maxfd) maxfd = helper + 1;
  a->tmp_base = maxfd + 16;
  a->sync_target = 3 + np;
  std::string s_np = std::to_string(np), s_nown = std::to_string(a->nfds - np);
  std::string argv0 = req.Has("argv0") ? req.Get("argv0").As<Napi::String>().Utf8Value() : "ocirt-init";
  char* argv[] = {argv0.data(), s_np.data(), s_nown.data(), nullptr};
  char* envp[] = {nullptr};
  a->argv = argv;
  a->envp = envp;
  a->err.type = SYNC_ERROR;
  snprintf(a->err.data, sizeof a->err.data, "exec of the init helper");
  a->err.len = (uint32_t)strlen(a->err.data) + 1;

  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  int pidfd = -1;
  ca.flags = flags | CLONE_PIDFD;
  ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
  ca.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0) {
    ca.flags |= CLONE_INTO_CGROUP;
    ca.cgroup = (uint64_t)cgroup_fd;
  }
  // The child starts in `cwd` (runc's cmd.Dir, the rootfs): entered here, as the
  // host's root, because once in a new user namespace the helper may not search
  // the caller's directory (a 0700 /root), where its mounts save and restore their
  // working directory. Ours is restored right after the clone.
  int oldcwd = -1;
  if (req.Has("cwd") && req.Get("cwd").IsString()) {
    std::string cwd = req.Get("cwd").As<Napi::String>().Utf8Value();
    int dir = open(cwd.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    oldcwd = dir < 0 ? -1 : open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || oldcwd < 0 || fchdir(dir) < 0) {
      err = errno;
      if (dir >= 0) close(dir);
      if (oldcwd >= 0) close(oldcwd);
      close(sv[0]), close(sv[1]), close(planfd), close(helper);
      return ThrowErrno(env, ("working directory " + cwd).c_str(), err);
    }
    close(dir);
  }
  // Block every signal so that no handler of Node's runs in the child before the
  // child has reset the dispositions.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0) child_main(a);
  err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (oldcwd >= 0) {
    // never go on in the rootfs (relative paths of ours would resolve in the image)
    int back = fchdir(oldcwd), back_err = errno;
    close(oldcwd);
    if (back < 0) {
      if (pid > 0) kill((pid_t)pid, SIGKILL), waitpid((pid_t)pid, nullptr, 0), close(pidfd);
      close(sv[0]), close(sv[1]), close(planfd), close(helper);
      return ThrowErrno(env, "returning to the working directory after the clone", back_err);
    }
  }
  close(sv[1]);
  close(planfd);
  close(helper);
  if (pid < 0) {
    close(sv[0]);
    return ThrowErrno(env, "clone3", err);
  }
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, (double)pid));
  out.Set("syncFd", Napi::Number::New(env, sv[0]));
  out.Set("pidfd", Napi::Number::New(env, pidfd));
  return out;
}

// syncRecv(fd, timeoutMs) -> {type, errno, op, data, fd} | null on timeout; EOF -> {type: 0}
Napi::Value SyncRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  struct pollfd_s { int fd; short events, revents; } p = {fd, 1 /* POLLIN */, 0};
  int r;
  do r = (int)syscall(SYS_poll, &p, 1, timeout); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(env, "poll", errno);
  if (r == 0) return env.Null();
  sync_msg m;
  memset(&m, 0, sizeof m);
  struct msghdr mh;
  struct scm_fd_buf sb;
  scm_prepare_recv(&mh, &sb, &m, sizeof m);
  ssize_t n;
  do n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(env, "recvmsg", errno);
  int passed = scm_received_fd(&mh);
  Napi::Object o = Napi::Object::New(env);
  if (n == 0) {
    if (passed >= 0) close(passed);
    o.Set("type", 0);
    return o;
  }
  o.Set("type", m.type);
  o.Set("errno", m.err);
  o.Set("op", m.op);
  uint32_t len = m.len > sizeof m.data ? sizeof m.data : m.len;
  if (len && m.data[len - 1] == 0) len--;
  o.Set("message", Napi::String::New(env, m.data, len));
  o.Set("fd", passed);
  return o;
}

Napi::Value SyncSend(const Napi::CallbackInfo& info) {
  sync_msg m;
  memset(&m, 0, sizeof m);
  m.type = info[1].As<Napi::Number>().Uint32Value();
  if (info.Length() > 2 && info[2].IsNumber()) m.err = info[2].As<Napi::Number>().Int32Value();
  ssize_t n;
  do n = send(info[0].As<Napi::Number>().Int32Value(), &m, sizeof m, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(info.Env(), "send", errno);
  return info.Env().Undefined();
}

}  // namespace

void InitSpawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit));
  exports.Set("syncRecv", Napi::Function::New(env, SyncRecv));
  exports.Set("syncSend", Napi::Function::New(env, SyncSend));
}
