// Thin parent-side syscalls the TypeScript side needs on hot paths. They live here
// rather than behind koffi because loading koffi costs ~17 ms per start (measured),
// more than the whole startup budget of `ocirt state`.
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/mount.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <pthread.h>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>
#include <uv.h>
#include <unistd.h>
#include "modules.h"
#include "scm.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int IntArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// flock(fd, op) -> undefined; op: LOCK_SH=1, LOCK_EX=2, LOCK_NB=4, LOCK_UN=8
static Napi::Value Flock(const Napi::CallbackInfo& info) {
  int r;
  do r = flock(IntArg(info, 0), IntArg(info, 1)); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "flock", errno);
  return info.Env().Undefined();
}

static Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  long fd = syscall(SYS_pidfd_open, IntArg(info, 0), 0);
  if (fd < 0) return ThrowErrno(info.Env(), "pidfd_open", errno);
  fcntl((int)fd, F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(info.Env(), (double)fd);
}

static Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  if (syscall(SYS_pidfd_send_signal, IntArg(info, 0), IntArg(info, 1), nullptr, 0) < 0)
    return ThrowErrno(info.Env(), "pidfd_send_signal", errno);
  return info.Env().Undefined();
}

// kill(pid, sig): node's process.kill refuses some signals and hides errno.
static Napi::Value Kill(const Napi::CallbackInfo& info) {
  if (kill(IntArg(info, 0), IntArg(info, 1)) < 0) return ThrowErrno(info.Env(), "kill", errno);
  return info.Env().Undefined();
}

static Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (mkfifo(path.c_str(), (mode_t)IntArg(info, 1)) < 0) return ThrowErrno(info.Env(), "mkfifo", errno);
  return info.Env().Undefined();
}

// waitpid(pid, flags) -> {pid, status: exit code or -1, signal: number or 0} | null (WNOHANG, nothing yet)
static Napi::Value Waitpid(const Napi::CallbackInfo& info) {
  int st = 0;
  pid_t r;
  do r = waitpid(IntArg(info, 0), &st, IntArg(info, 1) | __WALL); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "waitpid", errno);
  if (r == 0) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("pid", r);
  o.Set("status", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  o.Set("signal", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return o;
}

// pollIn([fd, ...], timeoutMs) -> [revents, ...]: waits until one of the fds is
// readable (a pidfd: its process has exited) or hung up, or the timeout passes (all 0).
// start and delete wait this way instead of sleeping in a loop.
static Napi::Value PollIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array fds = info[0].As<Napi::Array>();
  int timeout = IntArg(info, 1);
  std::vector<struct pollfd> p(fds.Length());
  for (uint32_t i = 0; i < p.size(); i++) p[i] = {fds.Get(i).As<Napi::Number>().Int32Value(), POLLIN, 0};
  int r;
  do r = poll(p.data(), p.size(), timeout); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(env, "poll", errno);
  Napi::Array out = Napi::Array::New(env, p.size());
  for (uint32_t i = 0; i < p.size(); i++) out.Set(i, Napi::Number::New(env, p[i].revents));
  return out;
}

// writeSoon(path, data): write(2) of data to path on a detached thread; errors are
// ignored. create uses it to start the kernel's wait for the first cgroup.procs
// write early (src/lifecycle/container-cgroup.ts, startAttachGracePeriod).
static void* WriteSoonThread(void* arg) {
  char** a = (char**)arg;
  int fd = open(a[0], O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t r = write(fd, a[1], strlen(a[1]));
    (void)r;
    close(fd);
  }
  free(a[0]);
  free(a[1]);
  free(a);
  return nullptr;
}

static Napi::Value WriteSoon(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string data = info[1].As<Napi::String>().Utf8Value();
  char** a = (char**)malloc(2 * sizeof(char*));
  if (!a) return info.Env().Undefined();
  a[0] = strdup(path.c_str());
  a[1] = strdup(data.c_str());
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  if (!a[0] || !a[1] || pthread_create(&t, &attr, WriteSoonThread, a) != 0) {
    free(a[0]);
    free(a[1]);
    free(a);
  }
  pthread_attr_destroy(&attr);
  return info.Env().Undefined();
}

// execv(path, argv): this process becomes path, with its environment as it is (the
// generated Bun entry, dist/ocirt, hands an OCIRT_ENGINE override to the C launcher).
// Returns only on failure.
static Napi::Value Execv(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Array a = info[1].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < a.Length(); i++) args.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  execv(path.c_str(), argv.data());
  return ThrowErrno(info.Env(), "execv", errno, path);
}

static Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  if (prctl(PR_SET_CHILD_SUBREAPER, IntArg(info, 0), 0, 0, 0) < 0) return ThrowErrno(info.Env(), "prctl", errno);
  return info.Env().Undefined();
}

static Napi::Value Close(const Napi::CallbackInfo& info) {
  close(IntArg(info, 0));
  return info.Env().Undefined();
}

// waitpid on a worker thread: `run` waits for its container while the event loop
// stays free to forward signals.
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, int pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    pid_t r;
    do r = waitpid(pid_, &status_, __WALL); while (r < 0 && errno == EINTR);
    err_ = r < 0 ? errno : 0;
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("errno", err_);
    o.Set("status", !err_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1);
    o.Set("signal", !err_ && WIFSIGNALED(status_) ? WTERMSIG(status_) : 0);
    deferred_.Resolve(o);
  }
 private:
  int pid_, status_ = 0, err_ = 0;
  Napi::Promise::Deferred deferred_;
};

static Napi::Value WaitpidAsync(const Napi::CallbackInfo& info) {
  auto* w = new WaitWorker(info.Env(), IntArg(info, 0));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// sendFdTo(socketPath, payload, fd): connects to a unix socket and sends payload
// with fd attached (SCM_RIGHTS): the seccomp listener and, later, console sockets.
static Napi::Value SendFdTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<char> payload = info[1].As<Napi::Buffer<char>>();
  int fd = IntArg(info, 2);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return ThrowErrno(env, "socket path too long", ENAMETOOLONG);
  memcpy(sa.sun_path, path.data(), path.size());
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return ThrowErrno(env, "socket", errno);
  if (connect(s, (struct sockaddr*)&sa, sizeof sa) < 0) {
    int e = errno;
    close(s);
    return ThrowErrno(env, "connect", e);
  }
  struct msghdr mh;
  struct scm_fd_buf sb;
  scm_prepare_send(&mh, &sb, payload.Data(), payload.Length(), fd);
  ssize_t n;
  do n = sendmsg(s, &mh, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  int e = errno;
  close(s);
  if (n < 0) return ThrowErrno(env, "sendmsg", e);
  return env.Undefined();
}

// nsType(fd) -> the CLONE_NEW* flag of a namespace file (NS_GET_NSTYPE), so a
// path of the wrong kind is refused with a clear message before any clone.
static Napi::Value NsType(const Napi::CallbackInfo& info) {
  int r = ioctl(IntArg(info, 0), 0xb703 /* NS_GET_NSTYPE */);
  if (r < 0) return ThrowErrno(info.Env(), "ioctl NS_GET_NSTYPE", errno);
  return Napi::Number::New(info.Env(), r);
}

// setWinsize(fd, rows, cols): the size of a pty (the console ocirt relays).
static Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)IntArg(info, 1);
  ws.ws_col = (unsigned short)IntArg(info, 2);
  if (ioctl(IntArg(info, 0), TIOCSWINSZ, &ws) < 0) return ThrowErrno(info.Env(), "ioctl TIOCSWINSZ", errno);
  return info.Env().Undefined();
}


// pipe() -> [readFd, writeFd], both close-on-exec: the stdio a shim gives a container
// (node has no way to make an anonymous pipe of its own).
static Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return ThrowErrno(info.Env(), "pipe2", errno);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

// mount(source, target, fstype, flags, data): the rootfs a shim mounts for containerd.
static Napi::Value Mount(const Napi::CallbackInfo& info) {
  std::string src = info[0].As<Napi::String>().Utf8Value();
  std::string tgt = info[1].As<Napi::String>().Utf8Value();
  std::string type = info[2].As<Napi::String>().Utf8Value();
  unsigned long flags = (unsigned long)info[3].As<Napi::Number>().Int64Value();
  std::string data = info[4].As<Napi::String>().Utf8Value();
  if (mount(src.empty() ? nullptr : src.c_str(), tgt.c_str(), type.empty() ? nullptr : type.c_str(), flags, data.empty() ? nullptr : data.c_str()) < 0)
    return ThrowErrno(info.Env(), "mount", errno, tgt);
  return info.Env().Undefined();
}

// umount2(target, flags)
static Napi::Value Umount2(const Napi::CallbackInfo& info) {
  std::string tgt = info[0].As<Napi::String>().Utf8Value();
  if (umount2(tgt.c_str(), IntArg(info, 1)) < 0) return ThrowErrno(info.Env(), "umount2", errno, tgt);
  return info.Env().Undefined();
}

// setCloexec(fd): an inherited fd (the shim's listening socket) must not reach the
// processes the shim starts.
static Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  // setCloexec(fd, on = true)
  int fd = IntArg(info, 0);
  bool on = info.Length() < 2 || info[1].ToBoolean().Value();
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC) < 0) return ThrowErrno(info.Env(), "fcntl F_SETFD", errno);
  return info.Env().Undefined();
}

// pumpFd(from, to, closeFrom, closeTo) -> id: a thread of its own copies `from`
// into `to` with blocking I/O until EOF or an error on either side, then closes the
// ends it was given to own; pumpDone(id) tells whether it has finished. A foreground
// run/exec copies its stdin to the process's stdin pipe, and the process's stdout
// and stderr pipes to its own, so: the caller's file descriptions keep their flags
// (an inherited non-blocking one is waited on with poll), no event loop or thread
// pool is involved (Bun has no uv_poll, and a pool of blocking reads can starve), and
// a read still blocked when ocirt exits ends with it (the thread is detached), as
// runc's goroutines do. Every signal is blocked in the thread: a write to a pipe
// whose reader is gone fails with EPIPE there, no SIGPIPE.
namespace {
struct Pump {
  int from, to;
  bool closeFrom, closeTo;
  std::atomic<bool> done{false};
};
bool WaitFd(int fd, short events) {
  struct pollfd pf = {fd, events, 0};
  int r;
  do r = poll(&pf, 1, -1); while (r < 0 && errno == EINTR);
  return r > 0;
}
void* PumpThread(void* arg) {
  Pump* p = static_cast<Pump*>(arg);
  char buf[65536];
  for (;;) {
    ssize_t n = read(p->from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && WaitFd(p->from, POLLIN)) continue;
    if (n <= 0) break;
    ssize_t off = 0;
    bool failed = false;
    while (off < n) {
      ssize_t w = write(p->to, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && WaitFd(p->to, POLLOUT)) continue;
      if (w <= 0) {
        failed = true;
        break;
      }
      off += w;
    }
    if (failed) break;
  }
  if (p->closeFrom) close(p->from);
  if (p->closeTo) close(p->to);
  p->done.store(true);
  return nullptr;  // the Pump stays: pumpDone may still ask (a few bytes per foreground run)
}
std::mutex pumpsLock;
std::vector<Pump*> pumps;
}  // namespace

static Napi::Value PumpFd(const Napi::CallbackInfo& info) {
  Pump* p = new Pump();
  p->from = IntArg(info, 0);
  p->to = IntArg(info, 1);
  p->closeFrom = info[2].ToBoolean().Value();
  p->closeTo = info[3].ToBoolean().Value();
  sigset_t all, old;
  sigfillset(&all);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  // the thread starts with every signal blocked (it inherits the mask)
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int r = pthread_create(&t, &attr, PumpThread, p);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    delete p;
    return ThrowErrno(info.Env(), "pthread_create", r);
  }
  std::lock_guard<std::mutex> g(pumpsLock);
  pumps.push_back(p);
  return Napi::Number::New(info.Env(), (double)(pumps.size() - 1));
}

static Napi::Value PumpDone(const Napi::CallbackInfo& info) {
  size_t id = (size_t)IntArg(info, 0);
  std::lock_guard<std::mutex> g(pumpsLock);
  if (id >= pumps.size()) return ThrowErrno(info.Env(), "pumpDone: no such pump", EINVAL);
  return Napi::Boolean::New(info.Env(), pumps[id]->done.load());
}

// dup2(old, new): the shim's stderr becomes the log FIFO it is handed.
static Napi::Value Dup2(const Napi::CallbackInfo& info) {
  if (dup2(IntArg(info, 0), IntArg(info, 1)) < 0) return ThrowErrno(info.Env(), "dup2", errno);
  return info.Env().Undefined();
}

// listenUnix(path) -> fd: a listening unix stream socket, close-on-exec and
// non-blocking (a spare shim waits on it for a container to serve).
static Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return ThrowErrno(info.Env(), "socket path too long", ENAMETOOLONG);
  memcpy(sa.sun_path, path.data(), path.size());
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return ThrowErrno(info.Env(), "socket", errno);
  if (bind(s, (struct sockaddr*)&sa, sizeof sa) < 0 || listen(s, 16) < 0) {
    int e = errno;
    close(s);
    return ThrowErrno(info.Env(), "bind", e, path);
  }
  return Napi::Number::New(info.Env(), s);
}

// recvHandoff(listenFd) -> {conn, fds, payload} | null: accepts one connection
// (the listening socket is non-blocking: null when there is none) and reads one
// message with the fds passed along it (SCM_RIGHTS), waiting at most 2 s for it.
static Napi::Value RecvHandoff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int c = accept4(IntArg(info, 0), nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return env.Null();
    return ThrowErrno(env, "accept4", errno);
  }
  struct timeval tv = {2, 0};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static char buf[65536];
  char cbuf[CMSG_SPACE(sizeof(int) * 8)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {buf, sizeof buf};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t n;
  do n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n <= 0) {
    close(c);
    return env.Null();
  }
  Napi::Array fds = Napi::Array::New(env);
  uint32_t k = 0;
  for (struct cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int* p = (int*)CMSG_DATA(cm);
    for (size_t i = 0; i < cnt; i++) fds.Set(k++, p[i]);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("conn", c);
  o.Set("fds", fds);
  o.Set("payload", Napi::Buffer<char>::Copy(env, buf, (size_t)n));
  return o;
}

// eventfd(initval, flags) -> fd (close-on-exec, non-blocking): cgroup v1 OOM notifications.
static Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  int fd = eventfd((unsigned)IntArg(info, 0), EFD_CLOEXEC | EFD_NONBLOCK | IntArg(info, 1));
  if (fd < 0) return ThrowErrno(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

// watchReadable(fd, callback) -> close function: calls back on the event loop each
// time fd becomes readable (libuv's poll watcher), for fds node cannot wrap in a
// stream (an eventfd). The caller reads the fd itself.
namespace {
struct FdWatch {
  uv_poll_t poll;
  Napi::FunctionReference cb;
  Napi::AsyncContext* ctx;
  napi_env env;
  bool closed = false;
};
void OnReadable(uv_poll_t* h, int status, int events) {
  FdWatch* w = static_cast<FdWatch*>(h->data);
  if (w->closed) return;
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  w->cb.MakeCallback(env.Global(), {Napi::Number::New(env, status)}, *w->ctx);
}
}  // namespace

static Napi::Value WatchReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return ThrowErrno(env, "uv loop", EINVAL);
  FdWatch* w = new FdWatch();
  w->env = env;
  w->cb = Napi::Persistent(info[1].As<Napi::Function>());
  w->ctx = new Napi::AsyncContext(env, "ocirt.watchReadable");
  int r = uv_poll_init(loop, &w->poll, IntArg(info, 0));
  if (r == 0) r = uv_poll_start(&w->poll, UV_READABLE, OnReadable);
  if (r != 0) {
    delete w->ctx;
    delete w;
    return ThrowErrno(env, "uv_poll", -r);
  }
  w->poll.data = w;
  return Napi::Function::New(env, [w](const Napi::CallbackInfo& ci) -> Napi::Value {
    if (w->closed) return ci.Env().Undefined();
    w->closed = true;
    uv_poll_stop(&w->poll);
    w->cb.Reset();
    delete w->ctx;
    w->ctx = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), [](uv_handle_t* h) { delete static_cast<FdWatch*>(h->data); });
    return ci.Env().Undefined();
  });
}

void InitSyscalls(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("waitpid", Napi::Function::New(env, Waitpid));
  exports.Set("pollIn", Napi::Function::New(env, PollIn));
  exports.Set("writeSoon", Napi::Function::New(env, WriteSoon));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper));
  exports.Set("execv", Napi::Function::New(env, Execv));
  // the signal numbers of this architecture by name (node:os's constants.signals, which costs
  // ~0.4 ms to load under Bun for `kill`)
  exports.Set("signals", NumberTable(env, {
      {"SIGHUP", SIGHUP}, {"SIGINT", SIGINT}, {"SIGQUIT", SIGQUIT}, {"SIGILL", SIGILL}, {"SIGTRAP", SIGTRAP},
      {"SIGABRT", SIGABRT}, {"SIGIOT", SIGIOT}, {"SIGBUS", SIGBUS}, {"SIGFPE", SIGFPE}, {"SIGKILL", SIGKILL},
      {"SIGUSR1", SIGUSR1}, {"SIGSEGV", SIGSEGV}, {"SIGUSR2", SIGUSR2}, {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM},
      {"SIGTERM", SIGTERM}, {"SIGCHLD", SIGCHLD}, {"SIGSTKFLT", SIGSTKFLT}, {"SIGCONT", SIGCONT}, {"SIGSTOP", SIGSTOP},
      {"SIGTSTP", SIGTSTP}, {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU}, {"SIGURG", SIGURG}, {"SIGXCPU", SIGXCPU},
      {"SIGXFSZ", SIGXFSZ}, {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH}, {"SIGIO", SIGIO},
      {"SIGPOLL", SIGPOLL}, {"SIGPWR", SIGPWR}, {"SIGSYS", SIGSYS}}));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("waitpidAsync", Napi::Function::New(env, WaitpidAsync));
  exports.Set("sendFdTo", Napi::Function::New(env, SendFdTo));
  exports.Set("nsType", Napi::Function::New(env, NsType));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("pumpFd", Napi::Function::New(env, PumpFd));
  exports.Set("pumpDone", Napi::Function::New(env, PumpDone));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount2", Napi::Function::New(env, Umount2));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd));
  exports.Set("setCloexec", Napi::Function::New(env, SetCloexec));
  exports.Set("dup2", Napi::Function::New(env, Dup2));
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix));
  exports.Set("recvHandoff", Napi::Function::New(env, RecvHandoff));
  exports.Set("watchReadable", Napi::Function::New(env, WatchReadable));
}
