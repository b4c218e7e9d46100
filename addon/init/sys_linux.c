/* The real system calls behind the helper's seam (sys.h). */
#include "sys.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static int k_mount_setattr(int dirfd, const char* path, unsigned flags, struct mount_attr* attr, size_t size) {
  return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, size);
}
static int k_open_tree(int dirfd, const char* path, unsigned flags) { return (int)syscall(SYS_open_tree, dirfd, path, flags); }
static int k_move_mount(int fd, const char* from, int tfd, const char* to, unsigned flags) { return (int)syscall(SYS_move_mount, fd, from, tfd, to, flags); }
static int k_fsopen(const char* type, unsigned flags) { return (int)syscall(SYS_fsopen, type, flags); }
static int k_fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) { return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux); }
static int k_fsmount(int fd, unsigned flags, unsigned attr) { return (int)syscall(SYS_fsmount, fd, flags, attr); }
static int k_pivot_root(const char* new_root, const char* put_old) { return (int)syscall(SYS_pivot_root, new_root, put_old); }
static int k_openat(int dirfd, const char* path, int flags, mode_t mode) { return openat(dirfd, path, flags, mode); }
/* glibc's faccessat tries faccessat2 first and falls back only on ENOSYS; a container's
   seccomp profile that names faccessat but not faccessat2 (EPERM by default) would then
   refuse the program's lookup, which runc (plain faccessat) passes */
static int k_faccessat(int dirfd, const char* path, int mode, int flags) {
  if (flags == 0) return (int)syscall(SYS_faccessat, dirfd, path, mode);
  return faccessat(dirfd, path, mode, flags);
}

static int k_openat2(int dirfd, const char* path, struct open_how* how, size_t size) {
  int fd;
  do fd = (int)syscall(SYS_openat2, dirfd, path, how, size); while (fd < 0 && errno == EAGAIN);
  return fd;
}
static int k_close_range(unsigned first, unsigned last, unsigned flags) { return (int)syscall(SYS_close_range, first, last, flags); }
static int k_fcntl(int fd, int cmd, long arg) { return fcntl(fd, cmd, arg); }
static long k_getdents64(int fd, void* buf, size_t n) { return syscall(SYS_getdents64, fd, buf, n); }
static int k_ioctl(int fd, unsigned long req, void* arg) { return ioctl(fd, req, arg); }
static int k_capset(void* header, void* data) { return (int)syscall(SYS_capset, header, data); }
static int k_prctl(int option, unsigned long a, unsigned long b, unsigned long c, unsigned long d) { return prctl(option, a, b, c, d); }
static int k_setgroups(size_t n, const gid_t* g) { return setgroups(n, g); }
static int k_setsid(void) { return setsid() < 0 ? -1 : 0; }
static int k_prlimit(int resource, uint64_t soft, uint64_t hard) {
  struct rlimit64 rl = {.rlim_cur = soft, .rlim_max = hard};
  return prlimit64(0, resource, &rl, NULL);
}
static int k_sched_setattr(void* attr) { return (int)syscall(SYS_sched_setattr, 0, attr, 0); }
static int k_sched_setaffinity(size_t len, const void* mask) { return (int)syscall(SYS_sched_setaffinity, 0, len, mask); }
static int k_ioprio_set(int which, int who, int prio) { return (int)syscall(SYS_ioprio_set, which, who, prio); }
static int k_personality(unsigned long p) { return personality(p) < 0 ? -1 : 0; }
static int k_set_mempolicy(int mode, const unsigned long* mask, unsigned long maxnode) { return (int)syscall(SYS_set_mempolicy, mode, mask, maxnode); }
static long k_keyctl(int op, unsigned long a, unsigned long b, unsigned long c) { return syscall(SYS_keyctl, op, a, b, c); }
static long k_seccomp(unsigned op, unsigned flags, void* args) { return syscall(SYS_seccomp, op, flags, args); }
static int k_sigaction(int sig, const struct sigaction* act, struct sigaction* old) { return sigaction(sig, act, old); }
static int k_sigprocmask(int how, const sigset_t* set, sigset_t* old) { return sigprocmask(how, set, old); }

const struct sys_ops sys = {
    .mount = mount,
    .umount2 = umount2,
    .mount_setattr = k_mount_setattr,
    .open_tree = k_open_tree,
    .move_mount = k_move_mount,
    .fsopen = k_fsopen,
    .fsconfig = k_fsconfig,
    .fsmount = k_fsmount,
    .pivot_root = k_pivot_root,
    .chroot = chroot,
    .chdir = chdir,
    .fchdir = fchdir,
    .getcwd = getcwd,
    .openat = k_openat,
    .openat2 = k_openat2,
    .close = close,
    .close_range = k_close_range,
    .fcntl = k_fcntl,
    .dup2 = dup2,
    .read = read,
    .write = write,
    .sendfile = sendfile,
    .getdents64 = k_getdents64,
    .fstatat = fstatat,
    .fstatfs = fstatfs,
    .statx = statx,
    .readlinkat = readlinkat,
    .faccessat = k_faccessat,
    .mkdirat = mkdirat,
    .mknodat = mknodat,
    .symlinkat = symlinkat,
    .unlinkat = unlinkat,
    .fchownat = fchownat,
    .fchmodat = fchmodat,
    .fchown = fchown,
    .ioctl = k_ioctl,
    .pipe2 = pipe2,
    .poll = poll,
    .socket = socket,
    .sendmsg = sendmsg,
    .recvmsg = recvmsg,
    .setns = setns,
    .unshare = unshare,
    .fork = fork,
    .waitpid = waitpid,
    .kill = kill,
    .execve = execve,
    .sigaction = k_sigaction,
    .sigprocmask = k_sigprocmask,
    .prctl = k_prctl,
    .capset = k_capset,
    .setresuid = setresuid,
    .setresgid = setresgid,
    .setgroups = k_setgroups,
    .setsid = k_setsid,
    .umask = umask,
    .sethostname = sethostname,
    .setdomainname = setdomainname,
    .prlimit = k_prlimit,
    .sched_setattr = k_sched_setattr,
    .sched_setaffinity = k_sched_setaffinity,
    .ioprio_set = k_ioprio_set,
    .personality = k_personality,
    .set_mempolicy = k_set_mempolicy,
    .keyctl = k_keyctl,
    .seccomp = k_seccomp,
};
