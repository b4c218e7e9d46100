// node:os (its errno table) is loaded when a message is first made, not with every command
let names: Map<number, string> | undefined;
const nameOf = (errno: number): string | undefined =>
  (names ??= new Map(Object.entries((require("node:os") as typeof import("node:os")).constants.errno).map(([k, v]) => [v as number, k]))).get(errno);
const MESSAGES: Record<string, string> = {
  EPERM: "operation not permitted", ENOENT: "no such file or directory", ESRCH: "no such process", EINTR: "interrupted system call",
  EIO: "input/output error", E2BIG: "argument list too long", ENOEXEC: "exec format error", EBADF: "bad file descriptor",
  ECHILD: "no child processes", EAGAIN: "resource temporarily unavailable", ENOMEM: "cannot allocate memory",
  EACCES: "permission denied", EFAULT: "bad address", EBUSY: "device or resource busy", EEXIST: "file exists",
  EXDEV: "invalid cross-device link", ENODEV: "no such device", ENOTDIR: "not a directory", EISDIR: "is a directory",
  EINVAL: "invalid argument", ENFILE: "too many open files in system", EMFILE: "too many open files", ENOSPC: "no space left on device",
  EROFS: "read-only file system", ELOOP: "too many levels of symbolic links", ENAMETOOLONG: "file name too long",
  ENOSYS: "function not implemented", ENOTEMPTY: "directory not empty", EOPNOTSUPP: "operation not supported", EPROTO: "protocol error",
  EXDEV_: "",
};

/** "operation not permitted (EPERM)": Go-style lowercase text plus the symbol. */
export function strerror(errno: number): string {
  const name = nameOf(errno);
  if (!name) return `errno ${errno}`;
  return `${MESSAGES[name] ?? name.toLowerCase()} (${name})`;
}
