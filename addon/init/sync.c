/* The sync socket to ocirt (plan.h "Messages"): requests, ACKs, fds, errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "init.h"
#include "scm.h"

static void fill(struct sync_msg* m, uint32_t type, int32_t err, const void* data, uint32_t len) {
  memset(m, 0, sizeof *m);
  m->type = type;
  m->err = err;
  m->op = S.cur_op;
  if (len > sizeof m->data) len = sizeof m->data;
  if (data) memcpy(m->data, data, len);
  m->len = len;
}

/* A message without an fd is a plain write (one SOCK_SEQPACKET record): READY is
   sent under the container's seccomp filter, which, like runc's, need not allow
   more than write, close, openat and execve. */
static ssize_t send_msg(const struct sync_msg* m, int fd) {
  ssize_t n;
  if (fd < 0) {
    do n = sys.write(S.syncfd, m, sizeof *m); while (n < 0 && errno == EINTR);
    return n;
  }
  struct msghdr mh;
  struct scm_fd_buf b;
  scm_prepare_send(&mh, &b, m, sizeof *m, fd);
  do n = sys.sendmsg(S.syncfd, &mh, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  return n;
}

int sync_send(uint32_t type, int32_t err, const void* data, uint32_t len) {
  struct sync_msg m;
  fill(&m, type, err, data, len);
  return send_msg(&m, -1) == (ssize_t)sizeof m ? 0 : -1;
}

/* Sends fd to the parent (SCM_RIGHTS) with a short text. */
void sync_send_fd(uint32_t type, int fd, const char* text) {
  struct sync_msg m;
  fill(&m, type, 0, text, text ? (uint32_t)strlen(text) + 1 : 0);
  if (send_msg(&m, fd) != (ssize_t)sizeof m) fail(errno, "sending an fd to ocirt");
}

void sync_wait_ack(void) {
  struct sync_msg m;
  struct msghdr mh;
  struct scm_fd_buf b;
  scm_prepare_recv(&mh, &b, &m, sizeof m);
  memset(&m, 0, sizeof m);
  ssize_t n;
  do n = sys.recvmsg(S.syncfd, &mh, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n <= 0) _exit(1); /* the parent went away: nothing left to set up for */
  int fd = scm_received_fd(&mh);
  if (fd >= 0) sys.close(fd); /* ocirt never sends one */
  if (n != (ssize_t)sizeof m || m.type != SYNC_ACK) fail(EPROTO, "unexpected message %u from ocirt", m.type);
  if (m.err > 0) S.host_pid = m.err;
}

void fail(int err, const char* fmt, ...) {
  char buf[480];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (S.ready || S.syncfd < 0 || sync_send(SYNC_ERROR, err, buf, (uint32_t)strlen(buf) + 1) < 0) {
    /* no parent to tell (after start): the container's stderr is the only witness */
    if (err) dprintf(2, "ocirt-init: %s: %s\n", buf, strerror(err));
    else dprintf(2, "ocirt-init: %s\n", buf);
  }
  _exit(1);
}

int extra_fd(uint64_t idx) {
  if (idx + 2 >= (uint64_t)S.nown) fail(EBADF, "plan refers to extra fd %llu of %d", (unsigned long long)idx, S.nown - 2);
  return S.own_base + 2 + (int)idx;
}

void* xcalloc(size_t n, size_t size) {
  void* p = calloc(n ? n : 1, size ? size : 1);
  if (!p) fail(ENOMEM, "allocating %zu x %zu bytes", n, size);
  return p;
}
