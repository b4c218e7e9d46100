/*
 * One fd over a unix socket (SCM_RIGHTS), for every side that passes one: the
 * helper's send to ocirt (seccomp listener, pty master), ocirt's receive
 * (spawn.cc syncRecv) and ocirt's send to a --console-socket or listenerPath
 * agent (syscalls.cc sendFdTo).
 *
 * These only lay out a msghdr over storage the caller provides; the caller makes
 * the sendmsg/recvmsg call. No allocation, no libc state: usable in the child
 * between clone and execve. C and C++.
 */
#ifndef OCIRT_SCM_H
#define OCIRT_SCM_H
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct scm_fd_buf {
  struct iovec iov;
  union {
    char bytes[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
};

/* A message of len bytes at data, carrying fd (none when fd < 0). */
static inline void scm_prepare_send(struct msghdr* mh, struct scm_fd_buf* b, const void* data, size_t len, int fd) {
  memset(mh, 0, sizeof *mh);
  memset(b, 0, sizeof *b);
  b->iov.iov_base = (void*)data;
  b->iov.iov_len = len;
  mh->msg_iov = &b->iov;
  mh->msg_iovlen = 1;
  if (fd < 0) return;
  mh->msg_control = b->ctl.bytes;
  mh->msg_controllen = sizeof b->ctl.bytes;
  struct cmsghdr* c = CMSG_FIRSTHDR(mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
}

/* Room for a message of up to len bytes and one fd. */
static inline void scm_prepare_recv(struct msghdr* mh, struct scm_fd_buf* b, void* data, size_t len) {
  memset(mh, 0, sizeof *mh);
  memset(b, 0, sizeof *b);
  b->iov.iov_base = data;
  b->iov.iov_len = len;
  mh->msg_iov = &b->iov;
  mh->msg_iovlen = 1;
  mh->msg_control = b->ctl.bytes;
  mh->msg_controllen = sizeof b->ctl.bytes;
}

/* The fd a received message carried, or -1. The buffer holds one fd: a sender
   that attached more had the rest closed by the kernel (MSG_CTRUNC). */
static inline int scm_received_fd(struct msghdr* mh) {
  int fd = -1;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) memcpy(&fd, CMSG_DATA(c), sizeof fd);
  }
  return fd;
}

#endif
