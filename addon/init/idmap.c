/*
 * Idmapped mounts (runtime-spec 1.2: mounts[].uidMappings/gidMappings, the idmap and
 * ridmap options). mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the user
 * namespace that owns the file system, and works only on a detached mount. So each
 * one is made before the helper enters any namespace (still root of ocirt's user
 * namespace): a bind is cloned with open_tree(OPEN_TREE_CLONE), any other type made
 * with fsopen/fsconfig/fsmount, then mapped with the user namespace fd the parent
 * made with the mount's mappings. The fd waits in its slot until op_mount moves it
 * onto its target inside the container's mount namespace (idmap_take, idmap_attach).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "init.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#define FSMOUNT_CLOEXEC 0x00000001
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

static int* slots;
static uint64_t nslots;

/* fsconfig for each "key=value" / "flag" of a comma-separated option string */
static void configure(int fs, const char* type, const char* data) {
  if (!*data) return;
  char* copy = xcalloc(1, strlen(data) + 1);
  strcpy(copy, data);
  char* save = NULL;
  for (char* opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
    char* eq = strchr(opt, '=');
    int r;
    if (eq) {
      *eq = 0;
      r = sys.fsconfig(fs, FSCONFIG_SET_STRING, opt, eq + 1, 0);
    } else {
      r = sys.fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
    }
    if (r < 0) fail(errno, "idmapped mount: %s option %s%s%s", type, opt, eq ? "=" : "", eq ? eq + 1 : "");
  }
  free(copy);
}

void op_idmap_mount(const struct op* op) {
  uint64_t slot = INT(op, 0);
  int userns = extra_fd(INT(op, 1));
  int clone_rec = INT(op, 2) != 0, map_rec = INT(op, 3) != 0;
  const char *src = STR(op, 0), *type = STR(op, 1), *data = STR(op, 2);
  if (slot >= (1u << 20)) fail(EINVAL, "idmapped mount slot %llu", (unsigned long long)slot);
  if (slot >= nslots) {
    uint64_t n = slot + 1;
    int* more = realloc(slots, n * sizeof *slots);
    if (!more) fail(ENOMEM, "idmapped mount slots");
    for (uint64_t i = nslots; i < n; i++) more[i] = -1;
    slots = more;
    nslots = n;
  }
  if (slots[slot] >= 0) fail(EINVAL, "idmapped mount slot %llu is taken", (unsigned long long)slot);
  int mfd;
  if (!*type) {
    mfd = sys.open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (clone_rec ? AT_RECURSIVE : 0));
    if (mfd < 0) fail(errno, "idmapped mount: cloning %s", src);
  } else {
    int fs = sys.fsopen(type, FSOPEN_CLOEXEC);
    if (fs < 0) fail(errno, "idmapped mount: a new %s file system (fsopen)", type);
    if (*src && sys.fsconfig(fs, FSCONFIG_SET_STRING, "source", src, 0) < 0) fail(errno, "idmapped mount: %s source %s", type, src);
    configure(fs, type, data);
    if (sys.fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) fail(errno, "idmapped mount: creating the %s file system", type);
    mfd = sys.fsmount(fs, FSMOUNT_CLOEXEC, 0);
    if (mfd < 0) fail(errno, "idmapped mount: fsmount of the %s file system", type);
    sys.close(fs);
  }
  struct mount_attr ma = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  if (sys.mount_setattr(mfd, "", AT_EMPTY_PATH | (map_rec ? AT_RECURSIVE : 0), &ma, sizeof ma) < 0) {
    int e = errno;
    const char* what = *type ? type : src;
    if (e == EINVAL)
      fail(e, "idmapping %s: the kernel cannot idmap this mount (its file system type does not support idmapped mounts, or the mapping is the file system's own)", what);
    if (e == EPERM)
      fail(e, "idmapping %s: not permitted (mount_setattr needs CAP_SYS_ADMIN over the user namespace that owns the file system, and the mount must not be idmapped already)", what);
    if (e == ENOSYS) fail(e, "idmapping %s: this kernel has no mount_setattr (Linux 5.12 or later)", what);
    fail(e, "idmapping %s", what);
  }
  slots[slot] = mfd;
}

int idmap_peek(uint64_t slot) {
  if (slot >= nslots || slots[slot] < 0) fail(EINVAL, "no idmapped mount was made for slot %llu", (unsigned long long)slot);
  return slots[slot];
}

int idmap_take(uint64_t slot) {
  int fd = idmap_peek(slot);
  slots[slot] = -1;
  return fd;
}

/* Moves the detached mount mfd onto the target fd (O_PATH), and closes mfd. */
int idmap_attach(int mfd, int tfd) {
  int r = sys.move_mount(mfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int e = errno;
  sys.close(mfd);
  errno = e;
  return r;
}
