// The state store: <root>/<id>/state.json is the single source of truth for a
// container; its status is derived from that record plus the live process (pid and
// its start time, so a recycled pid is never mistaken for the container).
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, constants as fsc } from "node:fs";
import { join } from "node:path";
import { ExistsError, NotFoundError, OcirtError, StateError, errnoOf } from "./errors";
import { native, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from "./native";

export type Status = "creating" | "created" | "running" | "stopped" | "paused";

/** What ocirt persists. The first fields are exactly those runc's `state` prints. */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string; // RFC 3339 with nanoseconds, UTC, as Go's time.RFC3339Nano
  owner: string;
  annotations?: Record<string, string> | undefined;
  /** /proc/<pid>/stat field 22 of the init when it was created. */
  initStartTime: string;
  /** Set by create once the init is ready; "stopped" once the init was seen dead. */
  phase: "creating" | "created" | "stopped";
  /** Opaque to the store: cgroup paths, namespace paths, config bits later commands need. */
  runtime?: Record<string, unknown>;
}

/** The JSON `ocirt state` prints, field for field as runc prints it. */
export interface StateOutput {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

const ID_RE = /^[\w+\-.]+$/;
/** Prefix of the temporary directory a create builds before renaming it to <root>/<id>. */
const UNBORN = ".creating-";

function errnoText(err: unknown): string {
  const code = errnoOf(err);
  return code ? `${(err as Error).message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "")} (${code})` : (err as Error).message;
}

/** runc's rules: letters, digits and _ + - . only, and not "." or "..". */
export function validateId(id: string): void {
  if (id === "") throw new StateError("container id cannot be empty");
  if (!ID_RE.test(id) || id === "." || id === "..") throw new StateError(`invalid id format: ${JSON.stringify(id)}: use letters, digits and _ + - . only`);
  if (id.length > 1024) throw new StateError(`invalid id format: id is longer than 1024 characters`);
}

/** Go's RFC3339Nano in UTC: nanoseconds with trailing zeros trimmed. */
export function rfc3339Nano(epochNs: bigint): string {
  const ms = Number(epochNs / 1000000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  let frac = (epochNs % 1000000000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${base}${frac ? "." + frac : ""}Z`;
}

export function nowNs(): bigint {
  // Date.now() for the wall clock; the monotonic clock's nanoseconds fill in below the
  // millisecond (performance.timeOrigin would load perf_hooks, ~2 ms of every create)
  return BigInt(Date.now()) * 1000000n + (process.hrtime.bigint() % 1000000n);
}

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone. */
export function processStartTime(pid: number, opts: { zombie?: boolean } = {}): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  return statStartTime(stat, opts);
}

/**
 * Field 22 (starttime) of a /proc/<pid>/stat text; undefined for a dead process,
 * and for a zombie unless `zombie` (the start time of a process that has exited).
 */
export function statStartTime(stat: string, opts: { zombie?: boolean } = {}): string | undefined {
  // comm may contain spaces and parentheses: fields start after the LAST ')'
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); field 22 is rest[19]
  if (!opts.zombie && (rest[0] === "Z" || rest[0] === "X" || rest[0] === "x")) return undefined; // a zombie is not running
  const st = rest[19];
  return st !== undefined && /^\d+$/.test(st) ? st : undefined;
}

export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  /** create()'s first checks, for a caller that has work to do before it: a bad or taken id. */
  refuseTaken(id: string): void {
    validateId(id);
    if (existsSync(join(this.dir(id), "state.json"))) throw new ExistsError(`container with given ID already exists: ${id}`);
  }

  /**
   * Creates <root>/<id> exclusively, holding `first` as its state.json from the
   * moment it appears (it is made under a temporary name and renamed into place), and
   * locks it. A duplicate id touches nothing.
   */
  create(id: string, first: ContainerRecord): ContainerHandle {
    validateId(id);
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o711 });
    } catch (err) {
      throw new StateError(`cannot create the state root ${this.root}: ${errnoText(err)}`, { where: "--root" });
    }
    this.sweepUnborn();
    const dir = this.dir(id);
    if (existsSync(join(dir, "state.json"))) throw new ExistsError(`container with given ID already exists: ${id}`);
    let tmp: string;
    // the temporary dir is made and locked under a shared lock of the root, so that a
    // sweeper (which takes it exclusively) never takes it for a dead create's
    const rootLock = this.lockRoot(LOCK_SH);
    const h = new ContainerHandle(this, id, "");
    try {
      try {
        tmp = mkdtempSync(join(this.root, UNBORN));
      } catch (err) {
        throw new StateError(`cannot create a state directory in ${this.root}: ${errnoText(err)}`, { where: "--root" });
      }
      h.moved(tmp).lock();
    } finally {
      closeSync(rootLock);
    }
    try {
      chmodSync(tmp, 0o711);
      h.write(first, { unborn: true });
      // an empty <root>/<id> (left by a crash of an older ocirt) is replaced; one with
      // a state.json, another create's that won the race, is not
      renameSync(tmp, dir);
    } catch (err) {
      h.remove();
      const code = errnoOf(err);
      if (code === "ENOTEMPTY" || code === "EEXIST") throw new ExistsError(`container with given ID already exists: ${id}`);
      throw new StateError(`cannot create state directory ${dir}: ${errnoText(err)}`, { where: "--root" });
    }
    return h.moved(dir);
  }

  /** An fd of the root dir holding flock `op` (closing it releases the lock). */
  private lockRoot(op: number): number {
    const fd = openSync(this.root, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      native().flock(fd, op);
    } catch (err) {
      closeSync(fd);
      throw new StateError(`cannot lock the state root ${this.root}: ${errnoText(err)}`, { where: "--root" });
    }
    return fd;
  }

  /** Temporary dirs of creates that died before renaming them into place (their lock is free). */
  private sweepUnborn(): void {
    let names: string[];
    try {
      names = readdirSync(this.root).filter((n) => n.startsWith(UNBORN));
    } catch {
      return;
    }
    if (!names.length) return;
    // exclusive: no create is between making its temporary dir and locking it
    const rootLock = this.lockRoot(LOCK_EX);
    try {
      for (const n of names) {
        const h = new ContainerHandle(this, "", join(this.root, n));
        try {
          if (!h.isBusy()) rmSync(h.dir, { recursive: true, force: true });
        } catch { /* another sweeper got it */ }
      }
    } finally {
      closeSync(rootLock);
    }
  }

  /** Opens an existing container and takes its lock (mutating commands). */
  open(id: string, opts: { lock: boolean } = { lock: true }): ContainerHandle {
    validateId(id);
    const dir = this.dir(id);
    if (!existsSync(dir)) {
      // a create killed before its state dir got its name left only a temporary dir:
      // a mutating command (delete --force of that id) removes what such creates left
      if (opts.lock) this.sweepUnborn();
      throw new NotFoundError(`container ${JSON.stringify(id)} does not exist`);
    }
    const h = new ContainerHandle(this, id, dir);
    if (opts.lock) h.lock();
    if (!h.exists()) {
      // a directory without state.json: only an older ocirt left such remains (create
      // makes the directory with its state.json in it); gone once nobody holds it
      if (opts.lock) h.unlock();
      if (!h.isBusy()) rmSync(dir, { recursive: true, force: true });
      throw new NotFoundError(`container ${JSON.stringify(id)} does not exist`);
    }
    return h;
  }

  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && ID_RE.test(d.name) && !d.name.startsWith(UNBORN))
        .map((d) => d.name)
        .sort();
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return [];
      throw err;
    }
  }
}

export class ContainerHandle {
  private lockFd: number | undefined;
  private rec: ContainerRecord | undefined;
  /** What write() last put in state.json, while this handle held the lock since. */
  private written: string | undefined;

  constructor(readonly store: StateStore, readonly id: string, private _dir: string) {}

  get dir(): string {
    return this._dir;
  }

  /** After the directory was renamed (create): the same handle, lock and all, at its new place. */
  moved(dir: string): this {
    this._dir = dir;
    return this;
  }

  get statePath(): string {
    return join(this.dir, "state.json");
  }
  get fifoPath(): string {
    return join(this.dir, "exec.fifo");
  }

  /** Serialises concurrent commands on one id (flock on the directory itself). */
  lock(): void {
    this.written = undefined; // another command may have written it meanwhile
    this.lockFd = openSync(this.dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      native().flock(this.lockFd, LOCK_EX);
    } catch (err) {
      closeSync(this.lockFd);
      this.lockFd = undefined;
      throw err;
    }
  }

  /** True when another process holds the lock (e.g. a create still in progress). */
  isBusy(): boolean {
    const fd = openSync(this.dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      native().flock(fd, LOCK_EX | LOCK_NB);
      native().flock(fd, LOCK_UN);
      return false;
    } catch {
      return true;
    } finally {
      closeSync(fd);
    }
  }

  /** After lock(): whether the locked directory is still the one at our path (not removed meanwhile). */
  lockedDirIsLive(): boolean {
    if (this.lockFd === undefined) return false;
    const held = fstatSync(this.lockFd);
    if (held.nlink === 0) return false;
    try {
      return statSync(this.dir).ino === held.ino;
    } catch {
      return false;
    }
  }

  unlock(): void {
    if (this.lockFd !== undefined) closeSync(this.lockFd);
    this.lockFd = undefined;
    this.written = undefined;
  }

  exists(): boolean {
    return existsSync(this.statePath);
  }

  read(): ContainerRecord {
    if (this.rec) return this.rec;
    let text: string;
    try {
      text = readFileSync(this.statePath, "utf8");
    } catch (err) {
      if (errnoOf(err) === "ENOENT") throw new NotFoundError(`container ${JSON.stringify(this.id)} does not exist`);
      throw err;
    }
    try {
      this.rec = JSON.parse(text) as ContainerRecord;
    } catch {
      throw new StateError(`state of container ${JSON.stringify(this.id)} is corrupt: ${this.statePath} is not valid JSON`);
    }
    return this.rec;
  }

  /**
   * Atomic: write a temp file in the same directory, then rename over state.json. A record
   * this handle wrote last is not written again (create records its steps as they come; on
   * ext4 the rename is most of a write's ~0.4 ms).
   */
  write(rec: ContainerRecord, opts: { unborn?: boolean } = {}): void {
    const text = JSON.stringify(rec);
    if (opts.unborn) {
      // the first, in create's temporary directory: nobody reads it before the directory gets
      // its name, so it needs no temporary file of its own
      writeFileSync(this.statePath, text, { mode: 0o600, flag: "wx" });
    } else if (text !== this.written) {
      const tmp = join(this.dir, `.state.json.${process.pid}`);
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, this.statePath);
    }
    this.written = text;
    this.rec = rec;
  }

  /** Whether the recorded init is still the same live process. */
  initAlive(rec = this.read()): boolean {
    if (!rec.pid) return false;
    const st = processStartTime(rec.pid);
    return st !== undefined && st === rec.initStartTime;
  }

  status(rec = this.read(), paused?: () => boolean): Status {
    if (rec.phase === "creating") return this.isBusy() ? "creating" : "stopped";
    if (!this.initAlive(rec)) return "stopped";
    if (existsSync(this.fifoPath)) return "created";
    if (paused?.()) return "paused";
    return "running";
  }

  /**
   * runc's containerState, field for field and in its order. `owner` is what
   * `list` shows (the user name); runc's `state` leaves it "" and passes "".
   */
  output(rec = this.read(), status = this.status(rec), owner = rec.owner): StateOutput {
    return {
      ociVersion: rec.ociVersion,
      id: rec.id,
      pid: status === "stopped" ? 0 : rec.pid,
      status,
      bundle: rec.bundle,
      rootfs: rec.rootfs,
      created: rec.created,
      ...(rec.annotations && Object.keys(rec.annotations).length ? { annotations: rec.annotations } : {}),
      owner,
    };
  }

  /** Removes the state directory; the last step of delete and of a failed create. */
  remove(): void {
    // removed while still locked: a command waiting on the lock then finds nothing
    // (unlocking first would let it see the old state.json and act on it again)
    detachCriuRoot(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
    this.unlock();
  }
}

/** The name of the user owning the state dir, as `runc list` shows it ("#<uid>" without one). */
export function ownerName(uid: number): string {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[2] === String(uid)) return f[0]!;
    }
  } catch {
    /* no passwd: fall through */
  }
  return `#${uid}`;
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export { OcirtError };

/**
 * A restore killed half-way leaves the rootfs bound at <state dir>/criu-root for
 * criu (lifecycle/restore.ts): detached before the directory is removed, so the
 * removal never reaches into the container's files; if it cannot be, nothing is removed.
 */
function detachCriuRoot(dir: string): void {
  const at = join(dir, "criu-root");
  if (!existsSync(at)) return;
  for (let i = 0; i < 64; i++) {
    try {
      native().umount2(at, 2 /* MNT_DETACH */);
    } catch (err) {
      if ((err as { errno?: number }).errno === 22 /* EINVAL: not a mount point */) return;
      throw new StateError(`cannot unmount ${at}: ${(err as Error).message}`);
    }
  }
  throw new StateError(`cannot unmount ${at}: still mounted`);
}
