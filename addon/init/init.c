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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "init.h"

struct init_state S = {.rootfd = -1, .syncfd = -1, .fddir = -1};

/* Which blobs of an op are bytes rather than strings (plan.h). */
static int blob_is_binary(const struct op* op, uint32_t i) {
  switch (op->code) {
    case OP_SECCOMP:
    case OP_CPU_AFFINITY:
    case OP_MEMPOLICY:
      return i == 0;
    case OP_EXEC:
      return (op->nints > 3 && (op->ints[3] & 1)) && i + 1 == op->nblobs;
    default:
      return 0;
  }
}

void op_release(struct op* op) {
  free(op->blob);
  free(op->blen);
  op->blob = NULL;
  op->blen = NULL;
}

/*
 * One op at p (avail bytes left in the plan). Checks everything the ops rely on:
 * the size is a multiple of 8 and fits, the ints and every blob lie inside the op,
 * string blobs end in their one NUL. Returns -1 with the reason in why.
 */
int plan_decode(const uint8_t* p, size_t avail, struct op* op, size_t* used, char* why, size_t whylen) {
  memset(op, 0, sizeof *op);
  if (avail < 16) return snprintf(why, whylen, "truncated header (%zu bytes left)", avail), -1;
  uint32_t sz;
  memcpy(&op->code, p, 2);
  memcpy(&op->flags, p + 2, 2);
  memcpy(&sz, p + 4, 4);
  memcpy(&op->nints, p + 8, 4);
  memcpy(&op->nblobs, p + 12, 4);
  if (sz < 16 || sz % 8) return snprintf(why, whylen, "size %u is not a multiple of 8 of at least 16", sz), -1;
  if (sz > avail) return snprintf(why, whylen, "size %u runs past the plan (%zu bytes left)", sz, avail), -1;
  size_t room = sz - 16;
  if (op->nints > room / 8) return snprintf(why, whylen, "%u ints do not fit in %u bytes", op->nints, sz), -1;
  size_t off = 16 + (size_t)op->nints * 8;
  /* every blob takes at least its 4-byte length: bounds the allocation below */
  if (op->nblobs > (sz - off) / 4) return snprintf(why, whylen, "%u blobs do not fit in %u bytes", op->nblobs, sz), -1;
  op->ints = (const uint64_t*)(p + 16); /* 8-aligned: the plan is mmapped and sizes are multiples of 8 */
  op->blob = calloc((size_t)op->nblobs + 1, sizeof *op->blob);
  op->blen = calloc((size_t)op->nblobs + 1, sizeof *op->blen);
  if (!op->blob || !op->blen) return op_release(op), snprintf(why, whylen, "out of memory for %u blobs", op->nblobs), -1;
  for (uint32_t i = 0; i < op->nblobs; i++) {
    uint32_t len;
    if (off + 4 > sz) return op_release(op), snprintf(why, whylen, "blob %u starts past the op", i), -1;
    memcpy(&len, p + off, 4);
    off += 4;
    if (len > sz - off) return op_release(op), snprintf(why, whylen, "blob %u (%u bytes) runs past the op", i, len), -1;
    op->blob[i] = (const char*)(p + off);
    op->blen[i] = len;
    off = (off + len + 7) & ~(size_t)7;
  }
  if (off > sz) return op_release(op), snprintf(why, whylen, "blobs run past the op"), -1;
  for (uint32_t i = 0; i < op->nblobs; i++) {
    if (blob_is_binary(op, i)) continue;
    if (op->blen[i] == 0 || op->blob[i][op->blen[i] - 1] != 0 || memchr(op->blob[i], 0, op->blen[i] - 1))
      return op_release(op), snprintf(why, whylen, "blob %u is not a NUL-terminated string", i), -1;
  }
  *used = sz;
  return 0;
}

static int small_number(const char* s, int max) {
  char* end;
  long v = strtol(s, &end, 10);
  return *s && !*end && v >= 0 && v <= max ? (int)v : -1;
}

int main(int argc, char** argv) {
  /*
   * Before anything else: nobody may ptrace this process or open its /proc files
   * (/proc/<pid>/fd, mem, environ) while it holds the sync socket, the plan and
   * host fds, even after it joined the container's user namespace (CVE-2016-9962).
   * It stays owned by host root; execve of the user's program sets it back.
   */
  if (sys.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    dprintf(2, "ocirt-init: PR_SET_DUMPABLE: %s\n", strerror(errno));
    return 1;
  }
  /* spawn.cc made us die with ocirt until here; the container's init must outlive the
     `ocirt create` that made it (ocirt's death before READY shows as EOF on the sync socket) */
  sys.prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  int np = argc == 3 ? small_number(argv[1], 1 << 20) : -1, nown = argc == 3 ? small_number(argv[2], 1 << 20) : -1;
  if (np < 0 || nown < 2) {
    dprintf(2, "ocirt-init is started by ocirt, not by hand\n");
    return 2;
  }
  S.npreserve = np;
  S.nown = nown;
  S.own_base = 3 + np;
  S.syncfd = S.own_base;
  /* none of our own fds may reach the user's program (CVE-2024-21626) */
  for (int fd = S.own_base; fd < S.own_base + S.nown; fd++)
    if (sys.fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) fail(errno, "marking fd %d close-on-exec", fd);

  int planfd = S.own_base + 1;
  struct stat st;
  if (fstat(planfd, &st) < 0) fail(errno, "reading the plan");
  if (st.st_size < 16) fail(EINVAL, "the plan has %lld bytes", (long long)st.st_size);
  const uint8_t* plan = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, planfd, 0);
  if (plan == MAP_FAILED) fail(errno, "mapping the plan");
  /* the mapping is all we need: the fd would show the plan (argv, env, host paths,
     hooks) to anyone who can open /proc/<pid>/fd */
  if (sys.close(planfd) < 0) fail(errno, "closing the plan's fd");
  uint32_t magic, version, nops, total;
  memcpy(&magic, plan, 4);
  memcpy(&version, plan + 4, 4);
  memcpy(&nops, plan + 8, 4);
  memcpy(&total, plan + 12, 4);
  if (magic != PLAN_MAGIC || version != PLAN_VERSION || total != (uint64_t)st.st_size)
    fail(EINVAL, "plan has magic %#x version %u: this helper reads version %u", magic, version, PLAN_VERSION);

  /* the whole plan is checked before its first op runs */
  size_t off = 16;
  for (uint32_t i = 0; i < nops; i++) {
    struct op op;
    size_t used;
    char why[160];
    S.cur_op = i;
    if (plan_decode(plan + off, total - off, &op, &used, why, sizeof why) < 0) fail(EINVAL, "plan op %u is malformed: %s", i, why);
    op_release(&op);
    off += used;
  }
  if (off != total) fail(EINVAL, "plan has %zu bytes after its %u ops", (size_t)(total - off), nops);
  off = 16;
  for (uint32_t i = 0; i < nops; i++) {
    struct op op;
    size_t used;
    char why[160];
    S.cur_op = i;
    if (plan_decode(plan + off, total - off, &op, &used, why, sizeof why) < 0) fail(EINVAL, "plan op %u is malformed: %s", i, why);
    run_op(&op);
    op_release(&op);
    off += used;
  }
  fail(EINVAL, "plan ended without an exec");
}
