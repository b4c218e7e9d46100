/* containerd-shim-ocirt-v2: the command containerd runs for runtime type
 * io.containerd.ocirt.v2.
 *
 * containerd starts this binary for three things: `start` (once per container:
 * bind the shim's socket and start the long-lived shim), `delete` (after every
 * shim exit, clean or not), and the long-lived shim itself. The long-lived shim is
 * ocirt's TypeScript (bin/containerd-shim-ocirt-v2.js, which drives containers
 * in-process); the two short commands are done here in C so that each container
 * pays one JavaScript engine start instead of three:
 *
 *   start   find the group's socket (unix:///run/containerd/s/<sha256 of
 *           address/namespace/group>), reuse a live one, or bind it, fork the shim
 *           with the listening socket as fd 3 in a session of its own, and print
 *           the address;
 *   delete  when the shim recorded a completed Delete in the bundle, answer from
 *           that record; otherwise (the shim died) run the TypeScript cleanup;
 *   other   exec node on the TypeScript launcher with the same arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#define SOCKET_DIR "/run/containerd/s"
#define DELETED_RECORD "ocirt-shim-deleted"

struct flags {
  const char *ns, *id, *address, *publish, *bundle;
  int debug;
  const char* action;
};

static void die(const char* what, int err) {
  fprintf(stderr, "containerd-shim-ocirt-v2: %s%s%s\n", what, err ? ": " : "", err ? strerror(err) : "");
  exit(1);
}

/* ---------------------------------------------------------------- sha256 ---- */
static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_hex(const unsigned char* data, size_t len, char out[65]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  size_t total = ((len + 9 + 63) / 64) * 64;
  unsigned char* m = calloc(1, total);
  if (!m) die("out of memory", 0);
  memcpy(m, data, len);
  m[len] = 0x80;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) m[total - 1 - i] = (unsigned char)(bits >> (8 * i));
  for (size_t off = 0; off < total; off += 64) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
      w[t] = (uint32_t)m[off + 4 * t] << 24 | (uint32_t)m[off + 4 * t + 1] << 16 | (uint32_t)m[off + 4 * t + 2] << 8 | m[off + 4 * t + 3];
    for (int t = 16; t < 64; t++) {
      uint32_t s0 = ROTR(w[t - 15], 7) ^ ROTR(w[t - 15], 18) ^ (w[t - 15] >> 3);
      uint32_t s1 = ROTR(w[t - 2], 17) ^ ROTR(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
      uint32_t t1 = hh + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
      uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  free(m);
  for (int i = 0; i < 8; i++) sprintf(out + 8 * i, "%08x", h[i]);
}

/* -------------------------------------------------------------- helpers ---- */
static char* read_all(int fd, size_t* len) {
  size_t cap = 4096, n = 0;
  char* buf = malloc(cap + 1);
  if (!buf) die("out of memory", 0);
  for (;;) {
    if (n == cap && !(buf = realloc(buf, (cap *= 2) + 1))) die("out of memory", 0);
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

static char* read_file(const char* path, size_t* len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char* s = read_all(fd, len);
  close(fd);
  return s;
}

/* Go's filepath.Join(address, ns, group): joined with '/', then cleaned the way the
 * inputs can need (repeated and trailing slashes, "." components). */
static char* join_clean(const char* a, const char* b, const char* c) {
  size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
  char* raw = malloc(n);
  char* out = malloc(n);
  if (!raw || !out) die("out of memory", 0);
  snprintf(raw, n, "%s/%s/%s", a, b, c);
  size_t o = 0;
  for (size_t i = 0; raw[i];) {
    if (raw[i] == '/') {
      while (raw[i] == '/') i++;
      if (raw[i] == '.' && (raw[i + 1] == '/' || raw[i + 1] == 0)) {
        i++;
        continue;
      }
      out[o++] = '/';
      continue;
    }
    out[o++] = raw[i++];
  }
  while (o > 1 && out[o - 1] == '/') o--;
  out[o] = 0;
  free(raw);
  return out;
}

/* The value of a string member `key` of config.json (the annotations that group
 * containers into one shim), or NULL. A member key is a quoted string followed by
 * ':'; escapes in the value are decoded for the characters ids can hold. */
static char* json_string_member(const char* doc, const char* key) {
  size_t kl = strlen(key);
  for (const char* p = doc; (p = strstr(p, key)); p += kl) {
    if (p == doc || p[-1] != '"' || p[kl] != '"') continue;
    const char* q = p + kl + 1;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
    if (*q != ':') continue;
    q++;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
    if (*q != '"') continue;
    q++;
    char* out = malloc(strlen(q) + 1);
    size_t o = 0;
    for (; *q && *q != '"'; q++) {
      if (*q == '\\' && q[1]) {
        q++;
        out[o++] = *q == 'n' ? '\n' : *q == 't' ? '\t' : *q;
      } else out[o++] = *q;
    }
    out[o] = 0;
    return out;
  }
  return NULL;
}

static int write_atomic(const char* path, const char* tmp, const char* data) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) {
    close(fd);
    return -1;
  }
  close(fd);
  return rename(tmp, path);
}

static int unix_socket(const char* path, struct sockaddr_un* sa) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa->sun_path) die("socket path too long", ENAMETOOLONG);
  strcpy(sa->sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket", errno);
  return s;
}

static int can_connect(const char* path) {
  struct sockaddr_un sa;
  int s = unix_socket(path, &sa);
  int ok = connect(s, (struct sockaddr*)&sa, sizeof sa) == 0;
  close(s);
  return ok;
}

/* protobuf: a varint at *p (bounded by end); 0 on a malformed one */
static int pb_varint(const unsigned char** p, const unsigned char* end, uint64_t* v) {
  *v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    unsigned char b = *(*p)++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return 1;
  }
  return 0;
}

/* field `want` (length-delimited) of a protobuf message */
static int pb_bytes(const unsigned char* p, const unsigned char* end, unsigned want, const unsigned char** out, size_t* len) {
  while (p < end) {
    uint64_t tag, v;
    if (!pb_varint(&p, end, &tag)) return 0;
    switch (tag & 7) {
      case 0: if (!pb_varint(&p, end, &v)) return 0; break;
      case 1: p += 8; break;
      case 5: p += 4; break;
      case 2:
        if (!pb_varint(&p, end, &v) || v > (uint64_t)(end - p)) return 0;
        if ((tag >> 3) == want) {
          *out = p;
          *len = (size_t)v;
          return 1;
        }
        p += v;
        break;
      default: return 0;
    }
  }
  return 0;
}

/* runc's ShimCgroup option (containerd.runc.v1.Options field 3) from the start command's stdin */
static char* shim_cgroup(const unsigned char* opts, size_t len) {
  const unsigned char *url, *val, *cg;
  size_t ul, vl, cl;
  if (!pb_bytes(opts, opts + len, 1, &url, &ul) || !pb_bytes(opts, opts + len, 2, &val, &vl)) return NULL;
  static const char want[] = "containerd.runc.v1.Options";
  if (ul < sizeof want - 1 || memcmp(url + ul - (sizeof want - 1), want, sizeof want - 1)) return NULL;
  if (!pb_bytes(val, val + vl, 3, &cg, &cl) || !cl) return NULL;
  char* s = malloc(cl + 1);
  memcpy(s, cg, cl);
  s[cl] = 0;
  return s;
}

static void join_cgroup(const char* cg, pid_t pid) {
  char path[PATH_MAX], num[32];
  snprintf(num, sizeof num, "%d", pid);
  int joined = 0;
  snprintf(path, sizeof path, "/sys/fs/cgroup/cgroup.controllers");
  const char* roots[64];
  int nroots = 0;
  DIR* d = NULL;
  if (access(path, F_OK) == 0) roots[nroots++] = "/sys/fs/cgroup";
  else if ((d = opendir("/sys/fs/cgroup"))) {
    struct dirent* e;
    while ((e = readdir(d)) && nroots < 64)
      if (e->d_name[0] != '.') roots[nroots++] = strdup(e->d_name);
  }
  for (int i = 0; i < nroots; i++) {
    if (d) snprintf(path, sizeof path, "/sys/fs/cgroup/%s/%s/cgroup.procs", roots[i], cg);
    else snprintf(path, sizeof path, "%s/%s/cgroup.procs", roots[i], cg);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (write(fd, num, strlen(num)) > 0) joined = 1;
    close(fd);
  }
  if (d) closedir(d);
  if (!joined) fprintf(stderr, "containerd-shim-ocirt-v2: failed to join cgroup %s\n", cg);
}

/* The TypeScript launcher beside this binary's package: <pkg>/bin/containerd-shim-ocirt-v2.js */
static char* js_launcher(void) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) die("readlink /proc/self/exe", errno);
  self[n] = 0;
  /* <pkg>/build/Release/containerd-shim-ocirt-v2 */
  for (int up = 0; up < 3; up++) {
    char* slash = strrchr(self, '/');
    if (!slash) die("cannot find the package directory", 0);
    *slash = 0;
  }
  char* out = malloc(strlen(self) + 64);
  sprintf(out, "%s/bin/containerd-shim-ocirt-v2.js", self);
  return out;
}

/* No V8 flags for the long-lived shim: heap-size flags change V8's flag hash, and
 * the code caches made at build time (the shim's, the config validator's) would be
 * rejected. Node's heap grows only as it is used. */
static const char* NODE_FLAGS[] = {"--stack-size=984"};
#define NNODE_FLAGS (sizeof NODE_FLAGS / sizeof NODE_FLAGS[0])

static void exec_node(char** args, int nargs) {
  char** argv = calloc((size_t)nargs + NNODE_FLAGS + 3, sizeof *argv);
  int i = 0;
  argv[i++] = "node";
  for (size_t f = 0; f < NNODE_FLAGS; f++) argv[i++] = (char*)NODE_FLAGS[f];
  argv[i++] = js_launcher();
  for (int a = 0; a < nargs; a++) argv[i++] = args[a];
  argv[i] = NULL;
  /* no TLS: reading a CA bundle would only slow node's start (as bin/ocirt's shebang) */
  unsetenv("NODE_EXTRA_CA_CERTS");
  execvp("node", argv);
  die("exec node", errno);
}

static void finish_start(pid_t pid, const unsigned char* opts, size_t olen);

/* ------------------------------------------------------------ the spare ---- */
/* A spare shim (src/shim/spare.ts) of this containerd, waiting for a container:
 * hand it the listening socket and the log FIFO with what its command line would
 * have said, and wait for its "taken". Returns its pid, or 0 when there is none. */
static pid_t handoff(struct flags* f, int sock, int logfd, const char* address) {
  const char* ttrpc = getenv("TTRPC_ADDRESS");
  if (!ttrpc) ttrpc = "";
  char key[PATH_MAX * 2 + 2], hex[65], path[128];
  snprintf(key, sizeof key, "%s\n%s", f->address ? f->address : "", ttrpc);
  sha256_hex((const unsigned char*)key, strlen(key), hex);
  snprintf(path, sizeof path, "%s/ocirt-spare-%.32s", SOCKET_DIR, hex);
  struct sockaddr_un sa;
  int c = unix_socket(path, &sa);
  if (connect(c, (struct sockaddr*)&sa, sizeof sa) < 0) {
    close(c);
    return 0;
  }
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) {
    close(c);
    return 0;
  }
  const char* kv[] = {"namespace", f->ns, "id", f->id, "address", f->address ? f->address : "",
                      "publish-binary", f->publish ? f->publish : "containerd", "debug", f->debug ? "1" : "0",
                      "cwd", cwd, "shim-address", address, "TTRPC_ADDRESS", ttrpc};
  size_t len = 0;
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) len += strlen(kv[i]) + 1;
  char* payload = malloc(len);
  size_t o = 0;
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
    size_t l = strlen(kv[i]) + 1;
    memcpy(payload + o, kv[i], l);
    o += l;
  }
  int fds[2] = {sock, logfd};
  char cbuf[CMSG_SPACE(sizeof fds)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {payload, len};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  struct cmsghdr* cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(cm), fds, sizeof fds);
  ssize_t n = sendmsg(c, &mh, MSG_NOSIGNAL);
  free(payload);
  pid_t pid = 0;
  if (n == (ssize_t)len) {
    struct timeval tv = {5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char ack = 0;
    if (read(c, &ack, 1) == 1 && ack == '1') {
      struct ucred cred;
      socklen_t cl = sizeof cred;
      if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) pid = cred.pid;
    }
  }
  close(c);
  return pid;
}

/* ----------------------------------------------------------------- start ---- */
static int do_start(struct flags* f) {
  if (!f->id || !*f->id) die("start: -id is required", 0);
  size_t clen = 0;
  char* config = read_file("config.json", &clen);
  if (!config) die("reading the bundle's config.json", errno);
  char* group = json_string_member(config, "io.containerd.runc.v2.group");
  if (!group) group = json_string_member(config, "io.kubernetes.cri.sandbox-id");
  if (!group || !*group) group = (char*)f->id;
  char* joined = join_clean(f->address ? f->address : "", f->ns, group);
  char hex[65];
  sha256_hex((const unsigned char*)joined, strlen(joined), hex);
  char path[sizeof SOCKET_DIR + 80], address[sizeof path + 8];
  snprintf(path, sizeof path, "%s/%s", SOCKET_DIR, hex);
  snprintf(address, sizeof address, "unix://%s", path);
  mkdir("/run/containerd", 0711);
  if (mkdir(SOCKET_DIR, 0700) < 0 && errno != EEXIST) die("mkdir " SOCKET_DIR, errno);

  struct sockaddr_un sa;
  int s = unix_socket(path, &sa);
  if (bind(s, (struct sockaddr*)&sa, sizeof sa) < 0) {
    if (errno != EADDRINUSE) die("create new shim socket", errno);
    /* a shim of this group runs already (a pod's next container): use it */
    if (can_connect(path)) {
      if (write_atomic("address", ".address", address) < 0) die("write existing socket for shim", errno);
      fputs(address, stdout);
      return 0;
    }
    unlink(path); /* left by a shim that died */
    if (bind(s, (struct sockaddr*)&sa, sizeof sa) < 0) die("create new shim socket", errno);
  }
  if (listen(s, SOMAXCONN) < 0 || chmod(path, 0600) < 0) {
    int e = errno;
    unlink(path);
    die("listen on the shim socket", e);
  }
  if (write_atomic("address", ".address", address) < 0) {
    int e = errno;
    unlink(path);
    die("write address", e);
  }
  size_t olen = 0;
  unsigned char* opts = (unsigned char*)read_all(0, &olen);
  int log = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC); /* containerd reads it */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t spare = handoff(f, s, log >= 0 ? log : devnull, address);
  if (spare > 0) {
    close(s);
    finish_start(spare, opts, olen);
    fputs(address, stdout);
    return 0;
  }
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0) die("pipe", errno);

  char* args[16];
  int n = 0;
  args[n++] = "-namespace", args[n++] = (char*)f->ns, args[n++] = "-id", args[n++] = (char*)f->id;
  args[n++] = "-address", args[n++] = (char*)(f->address ? f->address : "");
  args[n++] = "-publish-binary", args[n++] = (char*)(f->publish ? f->publish : "containerd");
  if (f->debug) args[n++] = "-debug";
  char* js = js_launcher();

  pid_t pid = fork();
  if (pid < 0) die("fork", errno);
  if (pid == 0) {
    setsid();
    /* stage every fd above the targets, then place them: 0-2, 3 the socket, 4 the error pipe */
    int ss = fcntl(s, F_DUPFD_CLOEXEC, 200), sn = fcntl(devnull, F_DUPFD_CLOEXEC, 200);
    int sl = fcntl(log >= 0 ? log : devnull, F_DUPFD_CLOEXEC, 200), se = fcntl(ep[1], F_DUPFD_CLOEXEC, 200);
    if (ss < 0 || sn < 0 || sl < 0 || se < 0) _exit(127);
    dup2(sn, 0);
    dup2(sn, 1);
    dup2(sl, 2);
    dup2(ss, 3);
    dup2(se, 4);
    fcntl(4, F_SETFD, FD_CLOEXEC);
    syscall(SYS_close_range, 5, ~0U, 0);
    for (int sig = 1; sig < 65; sig++) signal(sig, SIG_DFL);
    setenv("OCIRT_SHIM_ADDRESS", address, 1);
    if (!getenv("UV_THREADPOOL_SIZE")) setenv("UV_THREADPOOL_SIZE", "16", 1); /* stdin FIFO opens wait on worker threads */
    unsetenv("NODE_EXTRA_CA_CERTS");
    char* argv[32];
    int i = 0;
    argv[i++] = "node";
    for (size_t k = 0; k < NNODE_FLAGS; k++) argv[i++] = (char*)NODE_FLAGS[k];
    argv[i++] = js;
    for (int a = 0; a < n; a++) argv[i++] = args[a];
    argv[i] = NULL;
    /* fd 4, the error pipe, closes on a successful exec: EOF tells the parent */
    execvp("node", argv);
    int e = errno;
    if (write(4, &e, sizeof e) < 0) { /* nothing more to do */ }
    _exit(127);
  }
  close(ep[1]);
  int child_err = 0;
  ssize_t r;
  do r = read(ep[0], &child_err, sizeof child_err); while (r < 0 && errno == EINTR);
  close(ep[0]);
  if (r > 0) {
    unlink(path);
    waitpid(pid, NULL, 0);
    die("starting the shim (exec node)", child_err);
  }
  close(s);
  finish_start(pid, opts, olen);
  fputs(address, stdout);
  return 0;
}

/* The shim's OOM score and cgroup, whichever way it was started. */
static void finish_start(pid_t pid, const unsigned char* opts, size_t olen) {
  /* containerd keeps a lower OOM score than its shims: theirs is its own + 1 */
  char buf[64];
  snprintf(buf, sizeof buf, "/proc/%d/oom_score_adj", getppid());
  size_t l;
  char* score = read_file(buf, &l);
  if (score) {
    int v = atoi(score) + 1;
    if (v > 1000) v = 1000;
    snprintf(buf, sizeof buf, "/proc/%d/oom_score_adj", pid);
    int fd = open(buf, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      char num[16];
      snprintf(num, sizeof num, "%d", v);
      if (write(fd, num, strlen(num)) < 0) { /* a preference only */ }
      close(fd);
    }
  }
  char* cg = olen ? shim_cgroup(opts, olen) : NULL;
  if (cg) join_cgroup(cg, pid);
}

/* ---------------------------------------------------------------- delete ---- */
static void pb_put_varint(unsigned char** p, uint64_t v) {
  while (v >= 0x80) *(*p)++ = (unsigned char)(v | 0x80), v >>= 7;
  *(*p)++ = (unsigned char)v;
}

/* After a clean Delete the shim left "<pid> <exit status> <seconds> <nanos>" in the
 * bundle: containerd's cleanup is answered from it, without starting node. */
static int fast_delete(struct flags* f) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", f->bundle && *f->bundle ? f->bundle : ".", DELETED_RECORD);
  size_t len;
  char* rec = read_file(path, &len);
  if (!rec) return 0;
  unsigned long long pid = 0, status = 0, sec = 0, nsec = 0;
  if (sscanf(rec, "%llu %llu %llu %llu", &pid, &status, &sec, &nsec) != 4) return 0;
  unsigned char ts[32], out[64], *p = ts;
  if (sec) *p++ = 0x08, pb_put_varint(&p, sec);
  if (nsec) *p++ = 0x10, pb_put_varint(&p, nsec);
  size_t tsl = (size_t)(p - ts);
  p = out;
  if (pid) *p++ = 0x08, pb_put_varint(&p, pid);
  if (status) *p++ = 0x10, pb_put_varint(&p, status);
  *p++ = 0x1a, pb_put_varint(&p, tsl);
  memcpy(p, ts, tsl);
  p += tsl;
  fwrite(out, 1, (size_t)(p - out), stdout);
  return 1;
}

/* After a shim died: its socket goes, unless a live shim (of the container's pod)
 * answers there. Done here too, so that it happens even when node cannot run. */
static void remove_dead_socket(struct flags* f) {
  char cfg[PATH_MAX];
  snprintf(cfg, sizeof cfg, "%s/config.json", f->bundle && *f->bundle ? f->bundle : ".");
  size_t len;
  char* config = read_file(cfg, &len);
  char* group = config ? json_string_member(config, "io.containerd.runc.v2.group") : NULL;
  if (!group && config) group = json_string_member(config, "io.kubernetes.cri.sandbox-id");
  if (!group || !*group) group = (char*)f->id;
  if (!group) return;
  char* joined = join_clean(f->address ? f->address : "", f->ns, group);
  char hex[65], path[sizeof SOCKET_DIR + 80];
  sha256_hex((const unsigned char*)joined, strlen(joined), hex);
  snprintf(path, sizeof path, "%s/%s", SOCKET_DIR, hex);
  if (access(path, F_OK) == 0 && !can_connect(path)) unlink(path);
}

/* ------------------------------------------------------------------ main ---- */
int main(int argc, char** argv) {
  struct flags f = {0};
  int i = 1;
  for (; i < argc; i++) {
    const char* a = argv[i];
    if (!strcmp(a, "--")) {
      i++;
      break;
    }
    if (a[0] != '-' || !a[1]) break;
    const char* name = a + (a[1] == '-' ? 2 : 1);
    const char* eq = strchr(name, '=');
    size_t nl = eq ? (size_t)(eq - name) : strlen(name);
#define IS(s) (nl == sizeof(s) - 1 && !strncmp(name, s, nl))
    if (IS("debug")) {
      f.debug = !eq || !strcmp(eq + 1, "true") || !strcmp(eq + 1, "1") || !strcmp(eq + 1, "t");
      continue;
    }
    if (IS("v") || IS("version")) exec_node(argv + 1, argc - 1);
    const char** dst = IS("namespace") ? &f.ns : IS("id") ? &f.id : IS("address") ? &f.address : IS("publish-binary") ? &f.publish : IS("bundle") ? &f.bundle : NULL;
    if (!dst && !IS("socket")) exec_node(argv + 1, argc - 1); /* let the TypeScript side say what is wrong */
    const char* v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!v) exec_node(argv + 1, argc - 1);
    if (dst) *dst = v;
#undef IS
  }
  f.action = i < argc ? argv[i] : "";
  if (!strcmp(f.action, "start") && f.ns && *f.ns) return do_start(&f);
  if (!strcmp(f.action, "delete") && f.ns && *f.ns) {
    if (fast_delete(&f)) return 0;
    remove_dead_socket(&f);
  }
  exec_node(argv + 1, argc - 1);
  return 1;
}
