// Turns the errno of a failed cgroup file operation into the one-line error the
// user sees. Node's messages ("EBUSY: resource busy or locked, write") are
// libuv's, not the kernel's strerror text that runc users know, so the
// common codes are spelled here.
import { HostError, SetupError, type OcirtError } from "../../errors";

const STRERROR: Record<string, string> = {
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  ESRCH: "No such process",
  EINTR: "Interrupted system call",
  EIO: "Input/output error",
  ENXIO: "No such device or address",
  E2BIG: "Argument list too long",
  EBADF: "Bad file descriptor",
  EAGAIN: "Resource temporarily unavailable",
  ENOMEM: "Cannot allocate memory",
  EACCES: "Permission denied",
  EFAULT: "Bad address",
  EBUSY: "Device or resource busy",
  EEXIST: "File exists",
  ENODEV: "No such device",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EINVAL: "Invalid argument",
  ENOSPC: "No space left on device",
  EROFS: "Read-only file system",
  ERANGE: "Numerical result out of range",
  ENOTEMPTY: "Directory not empty",
  EOPNOTSUPP: "Operation not supported",
  ENOTSUP: "Operation not supported",
  ENOSYS: "Function not implemented",
  EOVERFLOW: "Value too large for defined data type",
};

export function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function strerror(err: unknown): string {
  const code = codeOf(err);
  if (code && STRERROR[code]) return STRERROR[code]!;
  if (err instanceof Error) return err.message;
  return String(err);
}

function errnoNumber(code: string | undefined): number | undefined {
  if (!code) return undefined;
  // node:os on use: loading it is ~0.4 ms of a start under Bun
  return ((require("node:os") as typeof import("node:os")).constants.errno as Record<string, number>)[code];
}

/**
 * `linux.resources.memory.limit: write 1 to memory.limit_in_bytes: Device or resource busy`.
 * A missing file means the host lacks the knob (HostError); anything else is
 * the kernel refusing the value (SetupError carrying the errno).
 */
export function writeError(field: string, file: string, value: string, err: unknown, hint?: string): OcirtError {
  const code = codeOf(err);
  const shown = value.length > 60 ? JSON.stringify(value.slice(0, 57) + "...") : value.includes("\n") || value === "" ? JSON.stringify(value) : value;
  const msg = `write ${shown} to ${file}: ${strerror(err)}${hint ? ` (${hint})` : ""}`;
  if (code === "ENOENT") return new HostError(msg, { where: field, cause: err });
  return new SetupError(msg, errnoNumber(code), { where: field, cause: err });
}

export function fsError(step: string, path: string, err: unknown): SetupError {
  return new SetupError(`${step} ${path}: ${strerror(err)}`, errnoNumber(codeOf(err)), { where: "cgroup", cause: err });
}
