/* The process's attributes: namespaces, ids, groups, capabilities, rlimits,
   scheduling, keyring, console, session, hostname, loopback. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>
#include "init.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef NGROUPS_MAX_KERNEL
#define NGROUPS_MAX_KERNEL 65536
#endif

void op_setns(const struct op* op) {
  int fd = extra_fd(INT(op, 0));
  if (sys.setns(fd, (int)INT(op, 1)) < 0) fail(errno, "joining namespace");
  /* a namespace file of the host is nothing to keep */
  if (sys.close(fd) < 0) fail(errno, "closing the namespace fd");
}

void op_unshare(const struct op* op) {
  int flags = (int)INT(op, 0);
  if (sys.unshare(flags) < 0) fail(errno, "unshare %#x", (unsigned)flags);
  if (flags & CLONE_NEWUSER) S.own_userns = 1;
}

void op_setid_root(void) {
  if (sys.setresgid(0, 0, 0) < 0) fail(errno, "setgid 0 in the user namespace");
  if (sys.setresuid(0, 0, 0) < 0) fail(errno, "setuid 0 in the user namespace");
}

void op_setuser(const struct op* op) {
  uid_t uid = (uid_t)INT(op, 0);
  gid_t gid = (gid_t)INT(op, 1);
  if (sys.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(errno, "keeping capabilities across setuid");
  /* EINVAL: the id has no mapping in the user namespace */
  if (sys.setresgid(gid, gid, gid) < 0) fail(errno, errno == EINVAL ? "setgid %u (not mapped in the user namespace)" : "setgid %u", gid);
  if (sys.setresuid(uid, uid, uid) < 0) fail(errno, errno == EINVAL ? "setuid %u (not mapped in the user namespace)" : "setuid %u", uid);
  if (sys.prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(errno, "clearing keep-capabilities after setuid");
}

void op_setgroups(const struct op* op) {
  if (op->nints > NGROUPS_MAX_KERNEL) fail(EINVAL, "%u supplementary groups: the kernel allows %d", op->nints, NGROUPS_MAX_KERNEL);
  gid_t* g = xcalloc(op->nints, sizeof *g);
  for (uint32_t i = 0; i < op->nints; i++) g[i] = (gid_t)op->ints[i];
  if (sys.setgroups(op->nints, g) < 0) {
    /* setgroups is denied in a user namespace whose setgroups file says deny */
    if (!(errno == EPERM && op->nints == 0)) fail(errno, "setgroups (%u groups)", op->nints);
  }
  free(g);
}

static int capset_all(uint64_t eff, uint64_t prm, uint64_t inh) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {
      {.effective = (uint32_t)eff, .permitted = (uint32_t)prm, .inheritable = (uint32_t)inh},
      {.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(prm >> 32), .inheritable = (uint32_t)(inh >> 32)},
  };
  return sys.capset(&h, d);
}

/* Capabilities above the kernel's last one fail with EINVAL: nothing to drop or
   raise there. (No /proc read: the container's /proc is not to be believed.) */
void op_caps(const struct op* op) {
  uint64_t bnd = INT(op, 0), eff = INT(op, 1), prm = INT(op, 2), inh = INT(op, 3), amb = INT(op, 4);
  if (op->flags & 1) {
    for (int c = 0; c < 64; c++) {
      if (bnd & (1ULL << c)) continue;
      if (sys.prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0 && errno != EINVAL) fail(errno, "dropping capability %d from the bounding set", c);
    }
  }
  if (op->flags & 2) {
    if (capset_all(eff, prm, inh) < 0) fail(errno, "setting capabilities (effective %#llx, permitted %#llx, inheritable %#llx)", (unsigned long long)eff, (unsigned long long)prm, (unsigned long long)inh);
    if (sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && !(errno == EINVAL && !amb)) fail(errno, "clearing the ambient capabilities");
    for (int c = 0; c < 64; c++) {
      if (!(amb & (1ULL << c))) continue;
      /* the kernel only raises what is both permitted and inheritable; runc's
         default config lists ambient caps it leaves out of inheritable, and runc
         skips those rather than failing */
      if (!(prm & inh & (1ULL << c))) continue;
      if (sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0, 0) < 0) fail(errno, "raising ambient capability %d", c);
    }
  }
}

void op_rlimit(const struct op* op) {
  if (sys.prlimit((int)INT(op, 0), INT(op, 1), INT(op, 2)) < 0) fail(errno, "setrlimit %llu", (unsigned long long)INT(op, 0));
}

void op_chdir(const struct op* op) {
  char cwd[PATH_MAX];
  if (sys.chdir(STR(op, 0)) < 0) fail(errno, "chdir to %s", STR(op, 0));
  /* a cwd reached through a leaked fd would lie outside the root (CVE-2024-21626):
     getcwd then fails with ENOENT. Flag 1: the same path was verified before a
     seccomp filter was loaded, which may now refuse getcwd itself */
  if (!sys.getcwd(cwd, sizeof cwd)) {
    if (errno == ENOENT || !(op->flags & 1)) fail(errno, "cwd %s is outside the container or cannot be verified", STR(op, 0));
  } else if (cwd[0] != '/') {
    fail(ENOENT, "cwd %s is outside the container", STR(op, 0));
  }
}

struct sched_attr_v1 {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

void op_scheduler(const struct op* op) {
  struct sched_attr_v1 a = {
      .size = sizeof a, .sched_policy = (uint32_t)INT(op, 0), .sched_priority = (uint32_t)INT(op, 1), .sched_flags = INT(op, 2),
      .sched_nice = (int32_t)INT(op, 3), .sched_runtime = INT(op, 4), .sched_deadline = INT(op, 5), .sched_period = INT(op, 6)};
  if (sys.sched_setattr(&a) < 0) {
    /* with realtime group scheduling (cgroup v1 cpu), a new cgroup has no RT runtime */
    int rt = a.sched_policy == 1 || a.sched_policy == 2;
    fail(errno, "sched_setattr (policy %u, priority %u)%s", a.sched_policy, a.sched_priority,
         rt && errno == EPERM ? " (a realtime policy also needs RT runtime in the cgroup: linux.resources.cpu.realtimeRuntime)" : "");
  }
}

void op_ioprio(const struct op* op) {
  if (sys.ioprio_set(1 /* IOPRIO_WHO_PROCESS */, 0, (int)((INT(op, 0) << 13) | INT(op, 1))) < 0)
    fail(errno, "ioprio_set class %llu priority %llu", (unsigned long long)INT(op, 0), (unsigned long long)INT(op, 1));
}

void op_personality(const struct op* op) {
  if (sys.personality((unsigned long)INT(op, 0)) < 0) fail(errno, "personality %#llx", (unsigned long long)INT(op, 0));
}

void op_mempolicy(const struct op* op) {
  unsigned long maxnode = op->nblobs && op->blen[0] ? (unsigned long)op->blen[0] * 8 + 1 : 0;
  if (maxnode && op->blen[0] % sizeof(unsigned long)) fail(EINVAL, "memory policy node mask of %u bytes", op->blen[0]);
  if (sys.set_mempolicy((int)(INT(op, 0) | INT(op, 1)), maxnode ? (const unsigned long*)(const void*)op->blob[0] : NULL, maxnode) < 0)
    fail(errno, "set_mempolicy mode %llu", (unsigned long long)INT(op, 0));
}

void op_cpu_affinity(const struct op* op) {
  if (!op->nblobs) fail(EINVAL, "no cpu mask");
  if (sys.sched_setaffinity((size_t)op->blen[0], op->blob[0]) < 0) fail(errno, "sched_setaffinity");
}

/* A session keyring of the container's own (runc's), so the caller's keys are not
   reachable; searchable by the container's user. ENOSYS (no keyrings) is skipped.
   flags 1 (exec): join it and leave its permissions alone, as runc's exec does:
   only its owner (the container's init) may change them. */
void op_session_keyring(const struct op* op) {
  long id = sys.keyctl(1 /* KEYCTL_JOIN_SESSION_KEYRING */, (unsigned long)STR(op, 0), 0, 0);
  if (id < 0) {
    if (errno == ENOSYS) return;
    fail(errno, "joining session keyring %s", STR(op, 0));
  }
  if (op->flags & 1) return;
  char desc[256];
  long n = sys.keyctl(6 /* KEYCTL_DESCRIBE */, (unsigned long)id, (unsigned long)desc, sizeof desc);
  if (n < 0) fail(errno, "describing session keyring");
  desc[sizeof desc - 1] = 0;
  /* "type;uid;gid;perm;description": perm is the fourth field, in hex */
  char* p = desc;
  for (int i = 0; i < 3 && p; i++) p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL;
  if (!p) fail(EINVAL, "unexpected keyring description %s", desc);
  unsigned long perm = strtoul(p, NULL, 16) | (unsigned long)INT(op, 0);
  if (sys.keyctl(5 /* KEYCTL_SETPERM */, (unsigned long)id, perm, 0) < 0) fail(errno, "setting session keyring permissions");
}

/* process.terminal: a pty of the container's devpts becomes the controlling terminal
   and stdio; the master goes to ocirt (and from there to --console-socket). As runc,
   the pty is given to the user but keeps devpts's group (gid=5, tty), and the init's
   (flags 1) is also bound on /dev/console. */
void op_console(const struct op* op) {
  int master = sys.openat(AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
  if (master < 0) fail(errno, "opening /dev/ptmx (is /dev/pts mounted?)");
  int unlock = 0, n = -1;
  if (sys.ioctl(master, TIOCSPTLCK, &unlock) < 0 || sys.ioctl(master, TIOCGPTN, &n) < 0) fail(errno, "setting up the pty");
  char name[64];
  snprintf(name, sizeof name, "/dev/pts/%d", n);
  if (INT(op, 0) || INT(op, 1)) {
    struct winsize ws = {.ws_row = (unsigned short)INT(op, 0), .ws_col = (unsigned short)INT(op, 1)};
    if (sys.ioctl(master, TIOCSWINSZ, &ws) < 0) fail(errno, "setting the console size");
  }
  /* the pty itself, not a path of the container's /dev/pts */
  int slave = sys.ioctl(master, TIOCGPTPEER, (void*)(long)(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (slave < 0) fail(errno, "opening %s", name);
  if (sys.fchown(slave, (uid_t)INT(op, 2), (gid_t)-1) < 0 && errno != EINVAL) fail(errno, "chown %s", name);
  if (op->flags & 1) mount_console(slave, name);
  sync_send_fd(SYNC_CONSOLE_FD, master, name);
  sys.close(master);
  sync_wait_ack();
  if (sys.setsid() < 0) fail(errno, "setsid");
  if (sys.ioctl(slave, TIOCSCTTY, 0) < 0) fail(errno, "making %s the controlling terminal", name);
  for (int fd = 0; fd < 3; fd++)
    if (sys.dup2(slave, fd) < 0) fail(errno, "dup2 %s", name);
  sys.close(slave);
}

void op_setsid(void) {
  if (sys.setsid() < 0) fail(errno, "setsid");
}

/* process.oomScoreAdj, written while the helper is still host root (the planner puts
   it before the namespaces): in a user namespace the file is not the helper's to write */
void op_oom_score_adj(const struct op* op) {
  char b[32];
  snprintf(b, sizeof b, "%lld", (long long)(int64_t)INT(op, 0));
  pseudofs_write("/proc/self/oom_score_adj", b, strlen(b), 0);
}

/* A new network namespace has "lo" down; runc brings it up. */
void op_net_lo_up(void) {
  int s = sys.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(errno, "socket for the loopback interface");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (sys.ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(errno, "reading the flags of lo");
  if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    if (sys.ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(errno, "bringing lo up");
  }
  sys.close(s);
}

void op_hostname(const struct op* op, int domain) {
  const char* name = STR(op, 0);
  if ((domain ? sys.setdomainname(name, strlen(name)) : sys.sethostname(name, strlen(name))) < 0)
    fail(errno, domain ? "setdomainname" : "sethostname");
}
