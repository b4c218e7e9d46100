// The synchronous file calls of src/fs.ts, the node:fs facade of ocirt's bundles under
// Bun: there, loading node:fs costs ~2 ms of every start (most of `ocirt state`'s
// margin over runc), while these are loaded with the addon anyway (docs/speed.md).
//
// Each call returns its result, or a negative errno (never throws for the syscall's
// own failure): src/fs.ts turns that into the error node:fs would throw, with its
// code, syscall and path. Every fd opened here is close-on-exec, as libuv's are.
#define _GNU_SOURCE 1
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>
#include "modules.h"

namespace {

int Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
std::string Str(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }
Napi::Value Num(Napi::Env env, double v) { return Napi::Number::New(env, v); }
Napi::Value Err(Napi::Env env, int e) { return Num(env, -e); }
// the result of a call that returns 0 or -1 with errno
Napi::Value Ret(Napi::Env env, int r) { return Num(env, r < 0 ? -errno : r); }

// open(path, flags, mode) -> fd
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string p = Str(info, 0);
  int fd;
  do fd = open(p.c_str(), Int(info, 1) | O_CLOEXEC, (mode_t)Int(info, 2)); while (fd < 0 && errno == EINTR);
  return Ret(info.Env(), fd);
}

Napi::Value Close(const Napi::CallbackInfo& info) { return Ret(info.Env(), close(Int(info, 0))); }

// read/write(fd, buffer, offset, length, position: -1 for the fd's own) -> bytes
Napi::Value Io(const Napi::CallbackInfo& info, bool write) {
  int fd = Int(info, 0);
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  size_t off = info[2].As<Napi::Number>().Int64Value(), len = info[3].As<Napi::Number>().Int64Value();
  int64_t pos = info[4].As<Napi::Number>().Int64Value();
  if (off > buf.ByteLength() || len > buf.ByteLength() - off) return Err(info.Env(), EINVAL);
  uint8_t* p = buf.Data() + off;
  ssize_t n;
  do {
    if (write) n = pos < 0 ? ::write(fd, p, len) : pwrite(fd, p, len, pos);
    else n = pos < 0 ? ::read(fd, p, len) : pread(fd, p, len, pos);
  } while (n < 0 && errno == EINTR);
  return Num(info.Env(), n < 0 ? -errno : (double)n);
}
Napi::Value Read(const Napi::CallbackInfo& info) { return Io(info, false); }
Napi::Value Write(const Napi::CallbackInfo& info) { return Io(info, true); }

// readFile(path | fd, text?) -> Buffer (or string): the whole file, sized by reading (procfs says 0);
// -errno when open(2) failed, -(kReadFailed + errno) when read(2) did
constexpr int kReadFailed = 1 << 16;
Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool byFd = info[0].IsNumber();
  int fd;
  if (byFd) {
    fd = Int(info, 0);
  } else {
    std::string p = Str(info, 0);
    do fd = open(p.c_str(), O_RDONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
    if (fd < 0) return Err(env, errno);
  }
  struct stat st;
  size_t cap = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 8192;
  std::vector<char> data(cap);
  size_t len = 0;
  int err = 0;
  for (;;) {
    if (len == data.size()) data.resize(data.size() * 2);
    ssize_t n = ::read(fd, data.data() + len, data.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  if (!byFd) close(fd);
  if (err) return Err(env, err + kReadFailed);
  // text 1: a string decoded as UTF-8, 2: as latin1 (what Buffer's toString gives), without a
  // Buffer in between: under Bun the first Buffer a napi call makes costs ~0.1-0.3 ms
  int text = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (text == 1) return Napi::String::New(env, data.data(), len);
  if (text == 2) {
    napi_value str;
    NAPI_THROW_IF_FAILED(env, napi_create_string_latin1(env, data.data(), len, &str), Napi::Value());
    return Napi::Value(env, str);
  }
  return Napi::Buffer<char>::Copy(env, data.data(), len);
}

// stat(path | fd, how: 0 stat, 1 lstat, 2 fstat) -> [dev, mode, nlink, uid, gid, rdev,
// blksize, ino, size, blocks, atimeMs, mtimeMs, ctimeMs, birthtimeMs]
Napi::Value Stat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int how = Int(info, 1);
  struct statx sx;
  unsigned mask = STATX_BASIC_STATS | STATX_BTIME;
  int r;
  if (how == 2) {
    r = statx(Int(info, 0), "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, mask, &sx);
  } else {
    std::string p = Str(info, 0);
    r = statx(AT_FDCWD, p.c_str(), (how == 1 ? AT_SYMLINK_NOFOLLOW : 0) | AT_STATX_SYNC_AS_STAT, mask, &sx);
  }
  if (r < 0) return Err(env, errno);
  auto ms = [](const struct statx_timestamp& t) { return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6; };
  double v[] = {(double)makedev(sx.stx_dev_major, sx.stx_dev_minor), (double)sx.stx_mode, (double)sx.stx_nlink, (double)sx.stx_uid,
                (double)sx.stx_gid, (double)makedev(sx.stx_rdev_major, sx.stx_rdev_minor), (double)sx.stx_blksize, (double)sx.stx_ino,
                (double)sx.stx_size, (double)sx.stx_blocks, ms(sx.stx_atime), ms(sx.stx_mtime), ms(sx.stx_ctime),
                (sx.stx_mask & STATX_BTIME) ? ms(sx.stx_btime) : 0};
  Napi::Array a = Napi::Array::New(env, 14);
  for (uint32_t i = 0; i < 14; i++) a.Set(i, Num(env, v[i]));
  return a;
}

Napi::Value Access(const Napi::CallbackInfo& info) { return Ret(info.Env(), access(Str(info, 0).c_str(), Int(info, 1))); }
Napi::Value Mkdir(const Napi::CallbackInfo& info) { return Ret(info.Env(), mkdir(Str(info, 0).c_str(), (mode_t)Int(info, 1))); }
Napi::Value Rmdir(const Napi::CallbackInfo& info) { return Ret(info.Env(), rmdir(Str(info, 0).c_str())); }
Napi::Value Unlink(const Napi::CallbackInfo& info) { return Ret(info.Env(), unlink(Str(info, 0).c_str())); }
Napi::Value Rename(const Napi::CallbackInfo& info) { return Ret(info.Env(), rename(Str(info, 0).c_str(), Str(info, 1).c_str())); }
Napi::Value Chmod(const Napi::CallbackInfo& info) { return Ret(info.Env(), chmod(Str(info, 0).c_str(), (mode_t)Int(info, 1))); }
Napi::Value Chown(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), chown(Str(info, 0).c_str(), (uid_t)info[1].As<Napi::Number>().Int64Value(), (gid_t)info[2].As<Napi::Number>().Int64Value()));
}
Napi::Value Fchown(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), fchown(Int(info, 0), (uid_t)info[1].As<Napi::Number>().Int64Value(), (gid_t)info[2].As<Napi::Number>().Int64Value()));
}

// readdir(path) -> [names, d_types] (without . and ..)
Napi::Value Readdir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DIR* d = opendir(Str(info, 0).c_str());
  if (!d) return Err(env, errno);
  std::vector<std::string> names;
  std::vector<unsigned char> types;
  errno = 0;
  for (struct dirent* e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    names.emplace_back(e->d_name);
    types.push_back(e->d_type);
  }
  int err = errno;
  closedir(d);
  if (err) return Err(env, err);
  Napi::Array n = Napi::Array::New(env, names.size()), t = Napi::Array::New(env, names.size());
  for (uint32_t i = 0; i < names.size(); i++) {
    n.Set(i, Napi::String::New(env, names[i]));
    t.Set(i, Num(env, types[i]));
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, n);
  out.Set(1u, t);
  return out;
}

Napi::Value Readlink(const Napi::CallbackInfo& info) {
  std::string p = Str(info, 0);
  std::vector<char> buf(PATH_MAX);
  for (;;) {
    ssize_t n = readlink(p.c_str(), buf.data(), buf.size());
    if (n < 0) return Err(info.Env(), errno);
    if ((size_t)n < buf.size()) return Napi::String::New(info.Env(), buf.data(), (size_t)n);
    buf.resize(buf.size() * 2);
  }
}

Napi::Value Realpath(const Napi::CallbackInfo& info) {
  char* r = realpath(Str(info, 0).c_str(), nullptr);
  if (!r) return Err(info.Env(), errno);
  Napi::String s = Napi::String::New(info.Env(), r);
  free(r);
  return s;
}

// mkdtemp(prefix) -> the directory made (prefix + 6 random characters)
Napi::Value Mkdtemp(const Napi::CallbackInfo& info) {
  std::string t = Str(info, 0) + "XXXXXX";
  if (!mkdtemp(t.data())) return Err(info.Env(), errno);
  return Napi::String::New(info.Env(), t);
}

// errnoName(n) -> "ENOENT"; errnoText(n) -> strerror's text
Napi::Value ErrnoName(const Napi::CallbackInfo& info) {
  const char* n = strerrorname_np(Int(info, 0));
  return n ? Napi::String::New(info.Env(), n) : info.Env().Undefined();
}
Napi::Value ErrnoText(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), strerror(Int(info, 0))); }

}  // namespace

void InitFs(Napi::Env env, Napi::Object exports) {
  Napi::Object fs = Napi::Object::New(env);
  fs.Set("open", Napi::Function::New(env, Open));
  fs.Set("close", Napi::Function::New(env, Close));
  fs.Set("read", Napi::Function::New(env, Read));
  fs.Set("write", Napi::Function::New(env, Write));
  fs.Set("readFile", Napi::Function::New(env, ReadFile));
  fs.Set("stat", Napi::Function::New(env, Stat));
  fs.Set("access", Napi::Function::New(env, Access));
  fs.Set("mkdir", Napi::Function::New(env, Mkdir));
  fs.Set("rmdir", Napi::Function::New(env, Rmdir));
  fs.Set("unlink", Napi::Function::New(env, Unlink));
  fs.Set("rename", Napi::Function::New(env, Rename));
  fs.Set("chmod", Napi::Function::New(env, Chmod));
  fs.Set("chown", Napi::Function::New(env, Chown));
  fs.Set("fchown", Napi::Function::New(env, Fchown));
  fs.Set("readdir", Napi::Function::New(env, Readdir));
  fs.Set("readlink", Napi::Function::New(env, Readlink));
  fs.Set("realpath", Napi::Function::New(env, Realpath));
  fs.Set("mkdtemp", Napi::Function::New(env, Mkdtemp));
  fs.Set("errnoName", Napi::Function::New(env, ErrnoName));
  fs.Set("errnoText", Napi::Function::New(env, ErrnoText));
  // the open(2) flags and file types of this architecture (O_DIRECTORY differs on arm64)
  fs.Set("constants", NumberTable(env, {
      {"O_RDONLY", O_RDONLY}, {"O_WRONLY", O_WRONLY}, {"O_RDWR", O_RDWR}, {"O_CREAT", O_CREAT}, {"O_EXCL", O_EXCL},
      {"O_NOCTTY", O_NOCTTY}, {"O_TRUNC", O_TRUNC}, {"O_APPEND", O_APPEND}, {"O_DIRECTORY", O_DIRECTORY},
      {"O_NOATIME", O_NOATIME}, {"O_NOFOLLOW", O_NOFOLLOW}, {"O_SYNC", O_SYNC}, {"O_DSYNC", O_DSYNC},
      {"O_DIRECT", O_DIRECT}, {"O_NONBLOCK", O_NONBLOCK}, {"S_IFMT", S_IFMT}, {"S_IFREG", S_IFREG},
      {"S_IFDIR", S_IFDIR}, {"S_IFCHR", S_IFCHR}, {"S_IFBLK", S_IFBLK}, {"S_IFIFO", S_IFIFO}, {"S_IFLNK", S_IFLNK},
      {"S_IFSOCK", S_IFSOCK}, {"F_OK", F_OK}, {"R_OK", R_OK}, {"W_OK", W_OK}, {"X_OK", X_OK}}));
  exports.Set("fs", fs);
}
