// node:fs as ocirt's bundles see it (the build points their `node:fs` here: scripts/build.mjs).
// Under Node this module is node:fs itself. Under Bun, loading node:fs costs ~2 ms of every
// start (a third of what `ocirt state` spends beyond runc's whole run, docs/speed.md), so the
// synchronous calls ocirt makes go through the addon's thin syscalls instead (addon/fs.cc), with
// node:fs's behaviour: the same results, the same errors (code, errno, syscall, path, message),
// every fd close-on-exec. A call or an option this module does not serve (streams, watch,
// bigint stats, ...) goes to the real node:fs, loaded then: slower, never different.
type NodeFs = typeof import("node:fs");
type Fs = NodeFs;

interface NativeFs {
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  read(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  write(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  /** -errno when open(2) failed, -(0x10000 + errno) when read(2) did; a string for text 1 (UTF-8), 2 (latin1) */
  readFile(pathOrFd: string | number, text?: number): Buffer | string | number;
  stat(pathOrFd: string | number, how: 0 | 1 | 2): number[] | number;
  access(path: string, mode: number): number;
  mkdir(path: string, mode: number): number;
  rmdir(path: string): number;
  unlink(path: string): number;
  rename(from: string, to: string): number;
  chmod(path: string, mode: number): number;
  chown(path: string, uid: number, gid: number): number;
  fchown(fd: number, uid: number, gid: number): number;
  readdir(path: string): [string[], number[]] | number;
  readlink(path: string): string | number;
  realpath(path: string): string | number;
  mkdtemp(prefix: string): string | number;
  errnoName(errno: number): string | undefined;
  errnoText(errno: number): string;
  constants: Record<string, number>;
}

const real = (): Fs => require("node:fs") as Fs;

/** The encodings the addon decodes itself (its readFile's `text`). */
const TEXT: Record<string, number> = { utf8: 1, "utf-8": 1, latin1: 2, binary: 2 };

function loadNative(): NativeFs | undefined {
  // OCIRT_FS=node: node:fs under Bun too; OCIRT_FS=addon: this facade under Node too (tests)
  const want = process.env["OCIRT_FS"];
  if (want === "node" || (want !== "addon" && !process.versions["bun"])) return undefined;
  try {
    // the addon sits in build/Release beside dist/ and src/ alike (src/native.ts)
    return (require(`${__dirname}/../build/Release/ocirt_native.node`) as { fs?: NativeFs }).fs;
  } catch {
    return undefined; // not built yet: node:fs serves
  }
}

// libuv's wording where it is not strerror's (node:fs's messages are libuv's)
const UV_TEXT: Record<string, string> = {
  EADDRNOTAVAIL: "address not available", EAFNOSUPPORT: "address family not supported", EALREADY: "connection already in progress",
  EBUSY: "resource busy or locked", EEXIST: "file already exists", EFAULT: "bad address in system call argument",
  EHOSTUNREACH: "host is unreachable", EIO: "i/o error", EISCONN: "socket is already connected", EISDIR: "illegal operation on a directory",
  ELOOP: "too many symbolic links encountered", ENAMETOOLONG: "name too long", ENFILE: "file table overflow", ENOMEM: "not enough memory",
  ENOTCONN: "socket is not connected", ENOTSUP: "operation not supported on socket", ERANGE: "result too large", ESPIPE: "invalid seek",
  ETXTBSY: "text file is busy", EXDEV: "cross-device link not permitted", EILSEQ: "illegal byte sequence",
};

/** The error node:fs throws: `ENOENT: no such file or directory, open '/x'`. */
function uvError(n: NativeFs, errno: number, syscall: string, path?: string, dest?: string): NodeJS.ErrnoException {
  const glibc = n.errnoName(errno);
  const code = glibc === "EOPNOTSUPP" ? "ENOTSUP" : (glibc ?? "UNKNOWN");
  const text = UV_TEXT[code] ?? n.errnoText(errno).replace(/^./, (c) => c.toLowerCase());
  let message = `${code}: ${text}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const err: NodeJS.ErrnoException = new Error(message);
  err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) (err as { dest?: string }).dest = dest;
  return err;
}

class Stats {
  constructor(
    readonly dev: number, readonly mode: number, readonly nlink: number, readonly uid: number, readonly gid: number,
    readonly rdev: number, readonly blksize: number, readonly ino: number, readonly size: number, readonly blocks: number,
    readonly atimeMs: number, readonly mtimeMs: number, readonly ctimeMs: number, readonly birthtimeMs: number,
  ) {}
  isFile(): boolean { return (this.mode & 0o170000) === 0o100000; }
  isDirectory(): boolean { return (this.mode & 0o170000) === 0o040000; }
  isSymbolicLink(): boolean { return (this.mode & 0o170000) === 0o120000; }
  isFIFO(): boolean { return (this.mode & 0o170000) === 0o010000; }
  isSocket(): boolean { return (this.mode & 0o170000) === 0o140000; }
  isCharacterDevice(): boolean { return (this.mode & 0o170000) === 0o020000; }
  isBlockDevice(): boolean { return (this.mode & 0o170000) === 0o060000; }
  get atime(): Date { return new Date(Math.round(this.atimeMs)); }
  get mtime(): Date { return new Date(Math.round(this.mtimeMs)); }
  get ctime(): Date { return new Date(Math.round(this.ctimeMs)); }
  get birthtime(): Date { return new Date(Math.round(this.birthtimeMs)); }
}

// d_type -> the Dirent method that answers true
const DT = { 1: "isFIFO", 2: "isCharacterDevice", 4: "isDirectory", 6: "isBlockDevice", 8: "isFile", 10: "isSymbolicLink", 12: "isSocket" } as const;
const DT_DIR = 4;
// a mode's file type (S_IFMT bits) as a d_type; 0 (DT_UNKNOWN) for none
const DT_OF_TYPE: Record<number, number> = { 0o010000: 1, 0o020000: 2, 0o040000: 4, 0o060000: 6, 0o100000: 8, 0o120000: 10, 0o140000: 12 };
const dtOf = (mode: number): number => DT_OF_TYPE[mode & 0o170000] ?? 0;

class Dirent {
  constructor(readonly name: string, readonly parentPath: string, private readonly kind: string) {}
  get path(): string { return this.parentPath; }
  isFile(): boolean { return this.kind === "isFile"; }
  isDirectory(): boolean { return this.kind === "isDirectory"; }
  isSymbolicLink(): boolean { return this.kind === "isSymbolicLink"; }
  isFIFO(): boolean { return this.kind === "isFIFO"; }
  isSocket(): boolean { return this.kind === "isSocket"; }
  isCharacterDevice(): boolean { return this.kind === "isCharacterDevice"; }
  isBlockDevice(): boolean { return this.kind === "isBlockDevice"; }
}

const FLAGS: Record<string, number> = {};

function flagsOf(c: Record<string, number>, f: unknown): number | undefined {
  if (typeof f === "number") return f;
  if (f === undefined) return c["O_RDONLY"];
  if (typeof f !== "string") return undefined;
  if (!FLAGS["r"]) {
    const { O_RDONLY: r, O_WRONLY: w, O_RDWR: rw, O_CREAT: cr, O_TRUNC: tr, O_APPEND: ap, O_EXCL: ex, O_SYNC: sy } = c as Record<string, number>;
    Object.assign(FLAGS, {
      r: r, rs: r! | sy!, sr: r! | sy!, "r+": rw, "rs+": rw! | sy!, "sr+": rw! | sy!,
      w: tr! | cr! | w!, wx: tr! | cr! | w! | ex!, xw: tr! | cr! | w! | ex!,
      "w+": tr! | cr! | rw!, "wx+": tr! | cr! | rw! | ex!, "xw+": tr! | cr! | rw! | ex!,
      a: ap! | cr! | w!, ax: ap! | cr! | w! | ex!, xa: ap! | cr! | w! | ex!, as: ap! | cr! | w! | sy!, sa: ap! | cr! | w! | sy!,
      "a+": ap! | cr! | rw!, "ax+": ap! | cr! | rw! | ex!, "xa+": ap! | cr! | rw! | ex!, "as+": ap! | cr! | rw! | sy!, "sa+": ap! | cr! | rw! | sy!,
    });
  }
  return FLAGS[f];
}

type Opts = Record<string, unknown>;
const optsOf = (o: unknown): Opts => (typeof o === "string" ? { encoding: o } : o && typeof o === "object" ? (o as Opts) : {});
const modeOf = (m: unknown, dflt: number): number | undefined =>
  m === undefined || m === null ? dflt : typeof m === "number" ? m : typeof m === "string" && /^[0-7]+$/.test(m) ? parseInt(m, 8) : undefined;
const isBytes = (d: unknown): d is Uint8Array => d instanceof Uint8Array;

/** The facade over the addon; every function falls back to node:fs for what it does not take. */
function facade(n: NativeFs): Fs {
  const c = n.constants;
  const fail = (errno: number, syscall: string, path?: string, dest?: string): never => {
    throw uvError(n, errno, syscall, path, dest);
  };
  const check = (r: number, syscall: string, path?: string, dest?: string): number => (r < 0 ? fail(-r, syscall, path, dest) : r);
  /** a directory entry's d_type, from lstat where the file system does not say (DT_UNKNOWN); 0 if it cannot */
  const entryType = (path: string, t: number): number => {
    if (t !== 0) return t;
    const st = n.stat(path, 1);
    return typeof st === "number" ? 0 : dtOf(st[1]!);
  };

  function openSync(path: unknown, flags?: unknown, mode?: unknown): number {
    const f = flagsOf(c, flags), m = modeOf(mode, 0o666);
    if (typeof path !== "string" || f === undefined || m === undefined) return real().openSync(path as string, flags as string, mode as number);
    return check(n.open(path, f, m), "open", path);
  }
  function closeSync(fd: number): void {
    if (typeof fd !== "number") return real().closeSync(fd);
    check(n.close(fd), "close");
  }
  function readSync(fd: number, buf: NodeJS.ArrayBufferView, offset?: unknown, length?: unknown, position?: unknown): number {
    const pos = position === null || position === undefined ? -1 : position;
    const off = offset ?? 0;
    if (typeof fd !== "number" || !isBytes(buf) || typeof off !== "number" || typeof pos !== "number" || (length !== undefined && typeof length !== "number"))
      return (real().readSync as (...a: unknown[]) => number)(fd, buf, offset, length, position);
    const len = (length as number | undefined) ?? buf.byteLength - off;
    return check(n.read(fd, buf, off, len, pos), "read");
  }
  function writeSync(fd: number, data: unknown, a?: unknown, b?: unknown, d?: unknown): number {
    if (typeof fd === "number" && typeof data === "string" && (b === undefined || typeof b === "string")) {
      const buf = Buffer.from(data, (b as BufferEncoding | undefined) ?? "utf8");
      const pos = typeof a === "number" ? a : -1;
      return check(n.write(fd, buf, 0, buf.length, pos), "write");
    }
    const off = a ?? 0, pos = d === null || d === undefined ? -1 : d;
    if (typeof fd === "number" && isBytes(data) && typeof off === "number" && typeof pos === "number" && (b === undefined || typeof b === "number")) {
      const len = (b as number | undefined) ?? data.byteLength - off;
      return check(n.write(fd, data, off, len, pos), "write");
    }
    return (real().writeSync as (...x: unknown[]) => number)(fd, data, a, b, d);
  }
  function writeAll(fd: number, buf: Uint8Array): void {
    for (let off = 0; off < buf.byteLength; ) off += check(n.write(fd, buf, off, buf.byteLength - off, -1), "write");
  }
  function readFileSync(path: unknown, options?: unknown): string | Buffer {
    const o = optsOf(options);
    if ((typeof path !== "string" && typeof path !== "number") || (o["flag"] !== undefined && o["flag"] !== "r"))
      return real().readFileSync(path as string, options as BufferEncoding);
    // UTF-8 and latin1 come back as a string, decoded by the addon: no Buffer (under Bun the first
    // Buffer a napi call makes costs ~0.1-0.3 ms, and every command reads its state.json this way)
    const text = TEXT[o["encoding"] as string] ?? 0;
    const r = n.readFile(path, text);
    // open(2)'s failure names the path; read(2)'s (EISDIR, EIO) does not, as in node:fs
    if (typeof r === "number") fail(-r & 0xffff, -r > 0xffff ? "read" : "open", -r > 0xffff || typeof path !== "string" ? undefined : path);
    if (text) return r as string;
    const buf = r as Buffer;
    return typeof o["encoding"] === "string" ? buf.toString(o["encoding"] as BufferEncoding) : buf;
  }
  function writeOrAppend(name: "writeFileSync" | "appendFileSync", dflt: string) {
    return (file: unknown, data: unknown, options?: unknown): void => {
      const o = optsOf(options);
      const flags = flagsOf(c, o["flag"] ?? dflt), mode = modeOf(o["mode"], 0o666);
      const bytes = typeof data === "string" ? Buffer.from(data, (o["encoding"] as BufferEncoding | undefined) ?? "utf8") : isBytes(data) ? data : undefined;
      if ((typeof file !== "string" && typeof file !== "number") || flags === undefined || mode === undefined || !bytes)
        return (real()[name] as (...a: unknown[]) => void)(file, data, options);
      if (typeof file === "number") return writeAll(file, bytes);
      const fd = check(n.open(file, flags, mode), "open", file);
      try {
        writeAll(fd, bytes);
      } finally {
        n.close(fd);
      }
    };
  }
  function makeStats(r: number[] | number, syscall: string, path?: string, quiet = false): Stats | undefined {
    if (typeof r === "number") {
      if (quiet && r === -2) return undefined; // ENOENT with throwIfNoEntry: false (ENOTDIR still throws)
      return fail(-r, syscall, path);
    }
    return new Stats(...(r as ConstructorParameters<typeof Stats>));
  }
  function statLike(how: 0 | 1, name: "statSync" | "lstatSync") {
    return (path: unknown, options?: unknown): Stats | undefined => {
      const o = optsOf(options);
      if (typeof path !== "string" || o["bigint"]) return (real()[name] as (...a: unknown[]) => Stats)(path, options);
      return makeStats(n.stat(path, how), how ? "lstat" : "stat", path, o["throwIfNoEntry"] === false);
    };
  }
  function fstatSync(fd: number, options?: unknown): Stats {
    if (typeof fd !== "number" || optsOf(options)["bigint"]) return (real().fstatSync as (...a: unknown[]) => Stats)(fd, options);
    return makeStats(n.stat(fd, 2), "fstat")!;
  }
  function existsSync(path: unknown): boolean {
    if (typeof path !== "string") return real().existsSync(path as string);
    return n.access(path, c["F_OK"]!) === 0;
  }
  function accessSync(path: unknown, mode?: number): void {
    if (typeof path !== "string") return real().accessSync(path as string, mode);
    check(n.access(path, mode ?? c["F_OK"]!), "access", path);
  }
  function mkdirSync(path: unknown, options?: unknown): string | undefined {
    const o = typeof options === "number" || typeof options === "string" ? { mode: options } : optsOf(options);
    const mode = modeOf(o["mode"], 0o777);
    if (typeof path !== "string" || mode === undefined) return real().mkdirSync(path as string, options as import("node:fs").MakeDirectoryOptions);
    if (!o["recursive"]) return void check(n.mkdir(path, mode), "mkdir", path);
    // recursive: the first directory made, as node:fs returns it; an existing directory is fine
    const made: string[] = [];
    const mk = (p: string): void => {
      const r = n.mkdir(p, mode);
      if (r === 0) return void made.push(p);
      if (r === -17) {
        const st = n.stat(p, 0);
        if (typeof st !== "number" && dtOf(st[1]!) === DT_DIR) return;
        return fail(17, "mkdir", path);
      }
      const parent = p.replace(/\/+[^/]*\/*$/, "");
      if (r !== -2 || parent === p || parent === "") return fail(-r, "mkdir", path);
      mk(parent);
      mk(p);
    };
    mk(path.startsWith("/") ? path : `${process.cwd()}/${path}`);
    return made[0];
  }
  function rmdirSync(path: unknown, options?: unknown): void {
    if (typeof path !== "string" || options !== undefined) return real().rmdirSync(path as string, options as import("node:fs").RmDirOptions);
    check(n.rmdir(path), "rmdir", path);
  }
  function rmSync(path: unknown, options?: unknown): void {
    const o = optsOf(options);
    if (typeof path !== "string" || o["maxRetries"]) return real().rmSync(path as string, options as import("node:fs").RmOptions);
    const st = n.stat(path, 1);
    if (typeof st === "number") {
      if (st === -2 && o["force"]) return;
      return fail(-st, "lstat", path);
    }
    // a directory without recursive: node:fs's own ERR_FS_EISDIR error
    if (dtOf(st[1]!) === DT_DIR && !o["recursive"]) return real().rmSync(path, options as import("node:fs").RmOptions);
    const rm = (p: string, isDir: boolean): void => {
      if (!isDir) return void check(n.unlink(p), "rm", p);
      const r = n.readdir(p);
      if (typeof r === "number") return fail(-r, "rm", p);
      r[0].forEach((name, i) => rm(`${p}/${name}`, entryType(`${p}/${name}`, r[1][i]!) === DT_DIR));
      check(n.rmdir(p), "rm", p);
    };
    rm(path, dtOf(st[1]!) === DT_DIR);
  }
  function readdirSync(path: unknown, options?: unknown): string[] | Dirent[] {
    const o = optsOf(options);
    if (typeof path !== "string" || o["recursive"] || (o["encoding"] !== undefined && o["encoding"] !== "utf8"))
      return (real().readdirSync as (...a: unknown[]) => string[])(path, options);
    const r = n.readdir(path);
    if (typeof r === "number") return fail(-r, "scandir", path);
    // node:fs (libuv's scandir) returns them sorted
    const order = r[0].map((_, i) => i).sort((a, b) => (r[0][a]! < r[0][b]! ? -1 : r[0][a]! > r[0][b]! ? 1 : 0));
    if (!o["withFileTypes"]) return order.map((i) => r[0][i]!);
    return order.map((i) => {
      const name = r[0][i]!;
      return new Dirent(name, path, DT[entryType(`${path}/${name}`, r[1][i]!) as keyof typeof DT] ?? "");
    });
  }
  function stringOr(r: string | number, syscall: string, path: string): string {
    return typeof r === "number" ? fail(-r, syscall, path) : r;
  }

  // the rest of node:fs's names, node:fs's own, loaded when first touched. On the prototype: a
  // bundler's copy of this module's exports (esbuild's __toESM, one per importing module: a dozen
  // per bundle) copies the own properties only and keeps the prototype, so it has every name
  // node:fs has while copying ~30 of them, not ~110 (~0.4 ms of every start)
  const rest: Record<string, unknown> = {};
  const fs: Partial<Record<keyof Fs, unknown>> = Object.create(rest);
  Object.assign(fs, {
    openSync, closeSync, readSync, writeSync, readFileSync, fstatSync, existsSync, accessSync, mkdirSync, rmdirSync, rmSync, readdirSync,
    writeFileSync: writeOrAppend("writeFileSync", "w"),
    appendFileSync: writeOrAppend("appendFileSync", "a"),
    statSync: statLike(0, "statSync"),
    lstatSync: statLike(1, "lstatSync"),
    unlinkSync: (p: unknown) => (typeof p === "string" ? void check(n.unlink(p), "unlink", p) : real().unlinkSync(p as string)),
    renameSync: (a: unknown, b: unknown) =>
      typeof a === "string" && typeof b === "string" ? void check(n.rename(a, b), "rename", a, b) : real().renameSync(a as string, b as string),
    chmodSync: (p: unknown, m: unknown) => {
      const mode = modeOf(m, -1);
      return typeof p === "string" && mode !== undefined && mode >= 0 ? void check(n.chmod(p, mode), "chmod", p) : real().chmodSync(p as string, m as number);
    },
    chownSync: (p: unknown, u: number, g: number) => (typeof p === "string" ? void check(n.chown(p, u, g), "chown", p) : real().chownSync(p as string, u, g)),
    fchownSync: (fd: number, u: number, g: number) => void check(n.fchown(fd, u, g), "fchown"),
    readlinkSync: (p: unknown, o?: unknown) =>
      typeof p === "string" && o === undefined ? stringOr(n.readlink(p), "readlink", p) : real().readlinkSync(p as string, o as BufferEncoding),
    realpathSync: (p: unknown, o?: unknown) =>
      typeof p === "string" && o === undefined ? stringOr(n.realpath(p), "realpath", p) : real().realpathSync(p as string, o as BufferEncoding),
    mkdtempSync: (p: unknown, o?: unknown) =>
      typeof p === "string" && o === undefined ? stringOr(n.mkdtemp(p), "mkdtemp", `${p}XXXXXX`) : real().mkdtempSync(p as string, o as BufferEncoding),
    constants: { ...c },
  });
  for (const k of NODE_FS_NAMES) if (!(k in fs)) Object.defineProperty(rest, k, { enumerable: true, get: () => real()[k as keyof Fs] });
  Object.defineProperty(fs, "uvError", { value: (errno: number, syscall: string, path?: string) => uvError(n, errno, syscall, path) }); // tests
  return fs as unknown as Fs;
}

/** node:fs's exports (Node 20; fs.test.ts checks that none is missing). */
const NODE_FS_NAMES =
  ("appendFile appendFileSync access accessSync chown chownSync chmod chmodSync close closeSync copyFile copyFileSync cp cpSync " +
    "createReadStream createWriteStream exists existsSync fchown fchownSync fchmod fchmodSync fdatasync fdatasyncSync fstat fstatSync " +
    "fsync fsyncSync ftruncate ftruncateSync futimes futimesSync lchown lchownSync lchmod lchmodSync link linkSync lstat lstatSync " +
    "lutimes lutimesSync mkdir mkdirSync mkdtemp mkdtempSync open openSync openAsBlob readdir readdirSync read readSync readv readvSync " +
    "readFile readFileSync readlink readlinkSync realpath realpathSync rename renameSync rm rmSync rmdir rmdirSync stat statfs statSync " +
    "statfsSync symlink symlinkSync truncate truncateSync unwatchFile unlink unlinkSync utimes utimesSync watch watchFile writeFile " +
    "writeFileSync write writeSync writev writevSync Dirent Stats ReadStream WriteStream FileReadStream FileWriteStream _toUnixTimestamp " +
    "Dir opendir opendirSync F_OK R_OK W_OK X_OK constants promises").split(" ");

const native = loadNative();
module.exports = native ? facade(native) : real();
