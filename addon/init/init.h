#ifndef OCIRT_INIT_H
#define OCIRT_INIT_H
#include <stddef.h>
#include <stdint.h>
#include "plan.h"

struct op {
  uint16_t code, flags;
  uint32_t nints, nblobs;
  const uint64_t* ints;
  const char* blob[64];
  uint32_t blen[64];
};

/* State the ops share. */
struct init_state {
  int npreserve, own_base, nown, syncfd;
  int rootfd;          /* O_PATH dirfd of the rootfs (before pivot) or of "/" (after) */
  int pivoted;
  int ready;
  int procfd;
  int host_pid;        /* the init's pid on the host, from the parent's last ACK (for hook state) */          /* /proc/self/fd of the host, kept when the container has no /proc of its own */           /* READY sent: nobody reads the sync socket any more */
  uint32_t cur_op;
};

extern struct init_state S;

/* Reports the failure of the current op to the parent and exits. Never returns. */
__attribute__((noreturn, format(printf, 2, 3))) void fail(int err, const char* fmt, ...);
int run_op(const struct op* op);
int sync_send(uint32_t type, int32_t err, const void* data, uint32_t len);
int sync_wait_ack(void);
int extra_fd(uint64_t idx);
#endif
