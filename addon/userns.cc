// usernsFd: a user namespace with the given id maps, as an fd, for idmapped mounts
// (mount_setattr(MOUNT_ATTR_IDMAP) takes the mapping as a user namespace fd).
//
// A process can only make a user namespace by being in it, and a multi-threaded
// one (node) cannot unshare one: a child is cloned into a new user namespace, where
// it waits with every signal blocked, making raw syscalls only (nothing of node's
// runs in it); we write its uid_map and gid_map, open its /proc/<pid>/ns/user, and
// kill and reap it. The namespace lives on as long as the fd.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "modules.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace {

int WriteProcFile(long pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, text.data(), text.size());
  int err = n == (ssize_t)text.size() ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return err;
}

// usernsFd(uidMap, gidMap) -> fd (close-on-exec); maps as uid_map takes them ("0 1000 65536\n")
Napi::Value UsernsFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string uid_map = info[0].As<Napi::String>().Utf8Value();
  std::string gid_map = info[1].As<Napi::String>().Utf8Value();

  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  int pidfd = -1;
  ca.flags = CLONE_NEWUSER | CLONE_PIDFD;
  ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
  ca.exit_signal = SIGCHLD;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid == 0) {
    // the child: every signal stays blocked; SIGKILL ends it
    for (;;) syscall(SYS_pause);
  }
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return ThrowErrno(env, "clone3 (CLONE_NEWUSER)", err);

  const char* step = "uid_map";
  err = WriteProcFile(pid, "uid_map", uid_map);
  if (!err) {
    step = "gid_map";
    err = WriteProcFile(pid, "gid_map", gid_map);
  }
  int ns = -1;
  if (!err) {
    step = "ns/user";
    std::string path = "/proc/" + std::to_string(pid) + "/ns/user";
    ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) err = errno;
  }
  syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  close(pidfd);
  int st;
  while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (err) return ThrowErrno(env, (std::string("writing the idmap user namespace's ") + step).c_str(), err);
  return Napi::Number::New(env, ns);
}

}  // namespace

void InitUserns(Napi::Env env, Napi::Object exports) {
  exports.Set("usernsFd", Napi::Function::New(env, UsernsFd));
}
