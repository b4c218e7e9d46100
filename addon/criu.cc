// The parent-side calls of checkpoint/restore (src/criu/): the SOCK_SEQPACKET pair
// `criu swrk` talks on, one message in or out of it (a received message may carry an
// fd: criu's orphan pts master), and bringing up lo in a network namespace that
// criu restored empty.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "modules.h"
#include "scm.h"

static int IntArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// seqpacketPair() -> [a, b]: socketpair(AF_UNIX, SOCK_SEQPACKET), both close-on-exec
static Napi::Value SeqpacketPair(const Napi::CallbackInfo& info) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return ThrowErrno(info.Env(), "socketpair", errno);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, sv[0]);
  a.Set(1u, sv[1]);
  return a;
}

// sendPacket(fd, buffer): one message (blocking; EPIPE when the peer is gone, never SIGPIPE)
static Napi::Value SendPacket(const Napi::CallbackInfo& info) {
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  ssize_t r;
  do r = send(IntArg(info, 0), b.Data(), b.Length(), MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "send", errno);
  if ((size_t)r != b.Length()) return ThrowErrno(info.Env(), "send", EMSGSIZE);
  return info.Env().Undefined();
}

// recvPacket(fd, maxBytes) -> {data: Buffer, fd: number (-1: none)} | null (nothing yet)
// Non-blocking; an empty data is EOF (the peer closed). A message longer than
// maxBytes is an error (EMSGSIZE), never silently cut.
static Napi::Value RecvPacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0);
  size_t max = (size_t)IntArg(info, 1);
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, max + 1);
  struct msghdr mh;
  struct scm_fd_buf sb;
  scm_prepare_recv(&mh, &sb, buf.Data(), max + 1);
  ssize_t r;
  do r = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    return ThrowErrno(env, "recvmsg", errno);
  }
  int got = scm_received_fd(&mh);
  if ((size_t)r > max || (mh.msg_flags & MSG_TRUNC)) {
    if (got >= 0) close(got);
    return ThrowErrno(env, "recvmsg", EMSGSIZE);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf.Data(), (size_t)r));
  o.Set("fd", got);
  return o;
}

// netnsLoUp(nsFd): sets lo up in the network namespace nsFd names. Only this
// thread enters it, for as long as it takes to make a socket there (a socket keeps
// the namespace it was made in); the ioctl then runs back in our own.
static Napi::Value NetnsLoUp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return ThrowErrno(env, "open /proc/thread-self/ns/net", errno);
  if (setns(IntArg(info, 0), CLONE_NEWNET) < 0) {
    int e = errno;
    close(self);
    return ThrowErrno(env, "setns", e);
  }
  int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int serr = errno;
  if (setns(self, CLONE_NEWNET) < 0) abort();  // this thread must not stay in the container's namespace
  close(self);
  if (sk < 0) return ThrowErrno(env, "socket", serr);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int r = ioctl(sk, SIOCGIFFLAGS, &ifr);
  if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    r = ioctl(sk, SIOCSIFFLAGS, &ifr);
  }
  int e = errno;
  close(sk);
  if (r < 0) return ThrowErrno(env, "ioctl(lo)", e);
  return env.Undefined();
}

void InitCriu(Napi::Env env, Napi::Object exports) {
  exports.Set("seqpacketPair", Napi::Function::New(env, SeqpacketPair));
  exports.Set("sendPacket", Napi::Function::New(env, SendPacket));
  exports.Set("recvPacket", Napi::Function::New(env, RecvPacket));
  exports.Set("netnsLoUp", Napi::Function::New(env, NetnsLoUp));
}
