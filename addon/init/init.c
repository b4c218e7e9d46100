/*
 * ocirt-init: the only code that runs inside the container before the user's
 * program. It is a small static program executed from a sealed memfd (so the
 * container can never write to it or reach the host node binary through
 * /proc/<pid>/exe), reads the plan (see plan.h) and executes its ops in order.
 *
 * Unlike the child side of the addon's clone, this is an ordinary single-threaded
 * process after execve: libc is safe to use here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "init.h"

struct init_state S = {.rootfd = -1, .syncfd = -1, .procfd = -1};

int sync_send(uint32_t type, int32_t err, const void* data, uint32_t len) {
  struct sync_msg m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.err = err;
  m.op = S.cur_op;
  if (len > sizeof m.data) len = sizeof m.data;
  if (data) memcpy(m.data, data, len);
  m.len = len;
  ssize_t n;
  do n = send(S.syncfd, &m, sizeof m, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n == (ssize_t)sizeof m ? 0 : -1;
}

int sync_wait_ack(void) {
  struct sync_msg m;
  ssize_t n;
  do n = recv(S.syncfd, &m, sizeof m, 0); while (n < 0 && errno == EINTR);
  if (n <= 0) _exit(1); /* the parent went away: nothing left to set up for */
  if (m.type != SYNC_ACK) fail(EPROTO, "unexpected message %u from ocirt", m.type);
  if (m.err > 0) S.host_pid = m.err;
  return 0;
}

void fail(int err, const char* fmt, ...) {
  char buf[480];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (S.ready || S.syncfd < 0 || sync_send(SYNC_ERROR, err, buf, (uint32_t)strlen(buf) + 1) < 0) {
    /* no parent to tell (after start): the container's stderr is the only witness */
    dprintf(2, "ocirt-init: %s: %s\n", buf, strerror(err));
  }
  _exit(1);
}

int extra_fd(uint64_t idx) {
  if (idx + 2 >= (uint64_t)S.nown) fail(EBADF, "plan refers to extra fd %llu of %d", (unsigned long long)idx, S.nown - 2);
  return S.own_base + 2 + (int)idx;
}

static int decode(const uint8_t* p, size_t size, struct op* op, size_t* used) {
  if (size < 16) return -1;
  uint32_t sz;
  memcpy(&op->code, p, 2);
  memcpy(&op->flags, p + 2, 2);
  memcpy(&sz, p + 4, 4);
  memcpy(&op->nints, p + 8, 4);
  memcpy(&op->nblobs, p + 12, 4);
  if (sz > size || sz < 16 || op->nblobs > 64) return -1;
  size_t off = 16;
  op->ints = (const uint64_t*)(p + off); /* 8-aligned: the plan is mmapped and ops are padded */
  off += (size_t)op->nints * 8;
  for (uint32_t i = 0; i < op->nblobs; i++) {
    if (off + 4 > sz) return -1;
    uint32_t len;
    memcpy(&len, p + off, 4);
    off += 4;
    if (off + len > sz) return -1;
    op->blob[i] = (const char*)(p + off);
    op->blen[i] = len;
    off = (off + len + 7) & ~(size_t)7;
  }
  if (off > sz) return -1;
  *used = sz;
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    dprintf(2, "ocirt-init is started by ocirt, not by hand\n");
    return 2;
  }
  S.npreserve = atoi(argv[1]);
  S.nown = atoi(argv[2]);
  S.own_base = 3 + S.npreserve;
  S.syncfd = S.own_base;
  /* none of our own fds may reach the user's program (CVE-2024-21626) */
  for (int fd = S.own_base; fd < S.own_base + S.nown; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);

  int planfd = S.own_base + 1;
  struct stat st;
  if (fstat(planfd, &st) < 0) fail(errno, "reading the plan");
  const uint8_t* plan = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, planfd, 0);
  if (plan == MAP_FAILED) fail(errno, "mapping the plan");
  uint32_t magic, version, nops, total;
  memcpy(&magic, plan, 4);
  memcpy(&version, plan + 4, 4);
  memcpy(&nops, plan + 8, 4);
  memcpy(&total, plan + 12, 4);
  if (magic != PLAN_MAGIC || version != PLAN_VERSION || total != (uint32_t)st.st_size)
    fail(EINVAL, "plan has magic %#x version %u: this helper reads version %u", magic, version, PLAN_VERSION);

  size_t off = 16;
  for (uint32_t i = 0; i < nops; i++) {
    struct op op;
    size_t used;
    S.cur_op = i;
    if (decode(plan + off, total - off, &op, &used) < 0) fail(EINVAL, "plan op %u is malformed", i);
    run_op(&op);
    off += used;
  }
  fail(EINVAL, "plan ended without an exec");
}
