// cgroup v2 device control: load a BPF_PROG_TYPE_CGROUP_DEVICE program (made by
// src/linux/cgroups/devices-bpf.ts) and attach it to a cgroup directory, in
// place of whatever device programs were attached there before (runc's
// loadAttachCgroupDeviceFilter). Plain bpf(2): no libbpf on the hosts we target.
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "modules.h"

namespace {

long Bpf(int cmd, union bpf_attr* attr) {
  long r;
  do r = syscall(SYS_bpf, cmd, attr, sizeof(*attr)); while (r < 0 && errno == EINTR);
  return r;
}

int LoadOnce(const uint8_t* insns, size_t len, char* log, uint32_t logSize) {
  static const char kLicense[] = "Apache";
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.license = (uint64_t)(uintptr_t)kLicense;
  if (log) {
    attr.log_level = 1;
    attr.log_size = logSize;
    attr.log_buf = (uint64_t)(uintptr_t)log;
  }
  // The name shows in bpftool and /proc/<pid>/fdinfo, so people can tell whose program it is.
  strncpy(attr.prog_name, "ocirt_devices", sizeof(attr.prog_name) - 1);
  return (int)Bpf(BPF_PROG_LOAD, &attr);
}

// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK, whose default is tiny.
// runc raises it for good; we raise it only for the retry and put it back, so the
// container (spawned by this process later) never inherits an unlimited value.
int LoadWithMemlock(const uint8_t* insns, size_t len, char* log, uint32_t logSize) {
  int fd = LoadOnce(insns, len, log, logSize);
  if (fd >= 0 || errno != EPERM) return fd;
  struct rlimit old;
  if (getrlimit(RLIMIT_MEMLOCK, &old) < 0) return fd;
  struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_MEMLOCK, &inf) < 0) {
    errno = EPERM;
    return -1;
  }
  fd = LoadOnce(insns, len, log, logSize);
  int saved = errno;
  setrlimit(RLIMIT_MEMLOCK, &old);
  errno = saved;
  return fd;
}

// The verifier's last lines say why it refused; one line for the error message.
std::string LogTail(const char* log) {
  std::string in(log), s;
  while (!in.empty() && (in.back() == '\n' || in.back() == ' ')) in.pop_back();
  for (char c : in) s += c == '\n' ? std::string("; ") : std::string(1, c);
  if (s.size() > 400) s = "..." + s.substr(s.size() - 400);
  return s;
}

// Ids of the BPF_CGROUP_DEVICE programs attached to the cgroup itself (not inherited ones).
bool QueryIds(int dirFd, std::vector<uint32_t>& ids) {
  uint32_t cnt = 64;  // the kernel's limit per attach point
  for (int tries = 0; tries < 10; tries++) {
    ids.assign(cnt ? cnt : 1, 0);
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)dirFd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids.data();
    attr.query.prog_cnt = (uint32_t)ids.size();
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return true;
    }
    if (errno != ENOSPC) return false;
    cnt = attr.query.prog_cnt;  // more than we made room for: the kernel says how many
  }
  errno = ENOSPC;
  return false;
}

// fds of the attached programs. Ones we may not open (an LSM label, as systemd's
// under SELinux) or that vanished meanwhile are skipped, as runc does: another
// device program can only restrict further.
bool AttachedFds(int dirFd, std::vector<int>& fds) {
  std::vector<uint32_t> ids;
  if (!QueryIds(dirFd, ids)) return false;
  for (uint32_t id : ids) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    int fd = (int)Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0) {
      if (errno == EPERM || errno == EACCES || errno == ENOENT) continue;
      int saved = errno;
      for (int f : fds) close(f);
      fds.clear();
      errno = saved;
      return false;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fds.push_back(fd);
  }
  return true;
}

int AttachOp(int cmd, int dirFd, int progFd, uint32_t flags) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)dirFd;
  attr.attach_bpf_fd = (uint32_t)progFd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = flags;
  return (int)Bpf(cmd, &attr);
}

void CloseAll(std::vector<int>& fds) {
  for (int f : fds) close(f);
  fds.clear();
}

bool IntArg(const Napi::CallbackInfo& info, size_t i, int& out) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

// loadDeviceFilter(dirFd, program: Buffer of struct bpf_insn[]) -> {progFd, replaced}
// The new program is attached before the old ones go, so there is no moment
// without a filter (with BPF_F_ALLOW_MULTI every attached program must allow).
Napi::Value LoadDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirFd;
  if (!IntArg(info, 0, dirFd) || info.Length() < 2 || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "loadDeviceFilter(dirFd: number, program: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> prog = info[1].As<Napi::Buffer<uint8_t>>();
  if (prog.Length() == 0 || prog.Length() % sizeof(struct bpf_insn) != 0 || prog.Length() / sizeof(struct bpf_insn) > 1000000) {
    Napi::TypeError::New(env, "loadDeviceFilter: the program must be a non-empty array of 8-byte bpf_insn").ThrowAsJavaScriptException();
    return env.Undefined();
  }

  std::vector<int> old;
  if (!AttachedFds(dirFd, old)) return ThrowErrno(env, "bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE)", errno);

  int progFd = LoadWithMemlock(prog.Data(), prog.Length(), nullptr, 0);
  if (progFd < 0) {
    int err = errno;
    // Again with the verifier's log, only now: logging slows every load down.
    std::vector<char> log(256 * 1024, 0);
    int again = LoadWithMemlock(prog.Data(), prog.Length(), log.data(), (uint32_t)log.size());
    if (again >= 0) {
      progFd = again;
    } else {
      CloseAll(old);
      std::string tail = LogTail(log.data());
      return ThrowErrno(env, "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE)", err, tail.empty() ? "" : "verifier: " + tail);
    }
  }
  fcntl(progFd, F_SETFD, FD_CLOEXEC);

  if (AttachOp(BPF_PROG_ATTACH, dirFd, progFd, BPF_F_ALLOW_MULTI) < 0) {
    int err = errno;
    close(progFd);
    CloseAll(old);
    return ThrowErrno(env, "bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)", err);
  }
  int replaced = 0;
  for (int fd : old) {
    if (AttachOp(BPF_PROG_DETACH, dirFd, fd, 0) < 0) {
      if (errno == ENOENT) continue;  // somebody else detached it meanwhile
      int err = errno;
      close(progFd);
      CloseAll(old);
      return ThrowErrno(env, "bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE) of an old device program", err);
    }
    replaced++;
  }
  CloseAll(old);
  Napi::Object out = Napi::Object::New(env);
  out.Set("progFd", progFd);
  out.Set("replaced", replaced);
  return out;
}

// detachDeviceFilters(dirFd) -> how many were detached
Napi::Value DetachDeviceFilters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirFd;
  if (!IntArg(info, 0, dirFd)) {
    Napi::TypeError::New(env, "detachDeviceFilters(dirFd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<int> old;
  if (!AttachedFds(dirFd, old)) return ThrowErrno(env, "bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE)", errno);
  int n = 0;
  for (int fd : old) {
    if (AttachOp(BPF_PROG_DETACH, dirFd, fd, 0) < 0) {
      if (errno == ENOENT) continue;
      int err = errno;
      CloseAll(old);
      return ThrowErrno(env, "bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE)", err);
    }
    n++;
  }
  CloseAll(old);
  return Napi::Number::New(env, n);
}

// queryDeviceFilters(dirFd) -> ids of the device programs attached to the cgroup
Napi::Value QueryDeviceFilters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirFd;
  if (!IntArg(info, 0, dirFd)) {
    Napi::TypeError::New(env, "queryDeviceFilters(dirFd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<uint32_t> ids;
  if (!QueryIds(dirFd, ids)) return ThrowErrno(env, "bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE)", errno);
  Napi::Array arr = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) arr.Set((uint32_t)i, Napi::Number::New(env, ids[i]));
  return arr;
}

}  // namespace

void InitCgroupDevices(Napi::Env env, Napi::Object exports) {
  exports.Set("loadDeviceFilter", Napi::Function::New(env, LoadDeviceFilter, "loadDeviceFilter"));
  exports.Set("detachDeviceFilters", Napi::Function::New(env, DetachDeviceFilters, "detachDeviceFilters"));
  exports.Set("queryDeviceFilters", Napi::Function::New(env, QueryDeviceFilters, "queryDeviceFilters"));
}
