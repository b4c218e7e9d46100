/* run_op: each op code of plan.h to the function that does it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "init.h"

void run_op(const struct op* op) {
  switch (op->code) {
    case OP_SETNS: op_setns(op); break;
    case OP_UNSHARE: op_unshare(op); break;
    case OP_SYNC:
      /* flags 1 (rootless): an unprivileged parent can open this process's uid_map,
         gid_map and setgroups (owned by root while it is not dumpable) only while it is
         dumpable. Nothing else is in its new user namespace yet, and on the host only
         the caller, who owns it anyway, could trace it; it is made non-dumpable again
         before it becomes root there (runc does the same) */
      if ((op->flags & 1) && sys.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) fail(errno, "PR_SET_DUMPABLE while the parent writes the id maps");
      if (sync_send((uint32_t)INT(op, 0), (int32_t)INT(op, 1), NULL, 0) < 0) _exit(1);
      sync_wait_ack();
      if ((op->flags & 1) && sys.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail(errno, "PR_SET_DUMPABLE after the id maps");
      break;
    case OP_SETID_ROOT: op_setid_root(); break;
    case OP_MOUNT: op_mount(op); break;
    case OP_MKNOD: op_mknod(op); break;
    case OP_SYMLINK: op_symlink(op); break;
    case OP_PIVOT_ROOT: op_pivot_root(op); break;
    case OP_MASK: op_mask(STR(op, 0), STR(op, 1)); break;
    case OP_READONLY: op_readonly(STR(op, 0)); break;
    case OP_WRITE_FILE: {
      const char* content = STR(op, 1);
      pseudofs_write(STR(op, 0), content, strlen(content), INT(op, 0) ? PSEUDO_MISSING_OK : 0);
      break;
    }
    case OP_SETHOSTNAME: op_hostname(op, 0); break;
    case OP_SETDOMAINNAME: op_hostname(op, 1); break;
    case OP_SETRLIMIT: op_rlimit(op); break;
    case OP_CHDIR: op_chdir(op); break;
    case OP_SETGROUPS: op_setgroups(op); break;
    case OP_SETUSER: op_setuser(op); break;
    case OP_UMASK: sys.umask((mode_t)INT(op, 0)); break;
    case OP_CAPS: op_caps(op); break;
    case OP_NO_NEW_PRIVS:
      if (sys.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(errno, "setting no_new_privs");
      break;
    case OP_SECCOMP: op_seccomp(op); break;
    case OP_EXEC: op_exec(op); break;
    case OP_PROPAGATION: op_propagation(op); break;
    case OP_MKDIR: op_mkdir(op); break;
    case OP_REMOUNT_RO_ROOT: op_remount_ro_root(); break;
    case OP_FORK: op_fork(); break;
    case OP_PERSONALITY: op_personality(op); break;
    case OP_SETSID: op_setsid(); break;
    case OP_OOM_SCORE_ADJ: op_oom_score_adj(op); break;
    case OP_SCHEDULER: op_scheduler(op); break;
    case OP_IOPRIO: op_ioprio(op); break;
    case OP_CPU_AFFINITY: op_cpu_affinity(op); break;
    case OP_MEMPOLICY: op_mempolicy(op); break;
    case OP_PARENT_PRIVATE: op_parent_private(STR(op, 0)); break;
    case OP_RUN_HOOK: op_run_hook(op); break;
    case OP_CONSOLE: op_console(op); break;
    case OP_SESSION_KEYRING: op_session_keyring(op); break;
    case OP_NET_LO_UP: op_net_lo_up(); break;
    case OP_REOPEN_DEV_NULL: op_reopen_dev_null(); break;
    case OP_IDMAP_MOUNT: op_idmap_mount(op); break;
    default: fail(EINVAL, "unknown plan op %u", op->code);
  }
}
