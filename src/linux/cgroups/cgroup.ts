// A container's cgroup on the host: created from a plan, or reloaded from
// state.json by the later commands (kill, pause, events, update, delete).
// Creation and removal of the directories are in lifecycle.ts.
import * as path from "node:path";
import { HostError, SetupError, StateError } from "../../errors";
import { log } from "../../log";
import { executeWrites, readSnapshot } from "./apply";
import { DeviceEmulator, parseDeviceRules } from "./devices";
import { compileDeviceFilter } from "./devices-bpf";
import { codeOf, fsError, strerror } from "./errno";
import { join, realFs, type CgroupFs } from "./fsio";
import { planResources } from "./resources";
import { readStats, type CgroupStats } from "./stats";
import type { CgroupMode, CgroupState, FreezerState, LinuxResources } from "./types";
import { phase } from "../../profile";
import { isCgroupOrParent, isNormalAbsolute } from "./remove";

export interface CgroupOptions {
  /** The filesystem to act on (tests pass a fake tree). */
  fs?: CgroupFs;
  /** systemd driver: the unit that holds the cgroup. */
  unit?: string | undefined;
}

/** A transient unit's name as ocirt makes them (systemd's unit name characters, .scope or .slice). */
const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+\.(scope|slice)$/;

export interface ApplyResult {
  warnings: string[];
}

const STATE_MODES: readonly CgroupMode[] = ["v1", "v2", "hybrid"];

export class Cgroup {
  private readonly fs: CgroupFs;
  /** systemd driver: the unit that holds the cgroup. */
  readonly unit: string | undefined;

  constructor(
    readonly mode: CgroupMode,
    readonly driver: "fs" | "systemd",
    /** subsystem -> absolute dir; "" is the unified hierarchy. */
    readonly paths: Readonly<Record<string, string>>,
    /** Dirs this runtime created, parents before children. */
    readonly created: readonly string[],
    /** Hierarchies that are joined on a best-effort basis (name=systemd, misc, hybrid's cgroup2). */
    readonly optional: readonly string[],
    opts: CgroupOptions = {},
  ) {
    this.fs = opts.fs ?? realFs;
    this.unit = opts.unit;
  }

  toState(): CgroupState {
    return {
      mode: this.mode,
      driver: this.driver,
      paths: { ...this.paths },
      created: [...this.created],
      optional: [...this.optional],
      ...(this.unit !== undefined ? { unit: this.unit } : {}),
    };
  }

  /** Reloads what toState() stored; validates the shape since state.json is input. */
  static fromState(obj: unknown, opts: CgroupOptions = {}): Cgroup {
    const o = obj as Partial<CgroupState> | null;
    const bad = (why: string) => new StateError(`invalid cgroup state: ${why}`, { where: "state.json cgroup" });
    if (!o || typeof o !== "object") throw bad("not an object");
    if (!STATE_MODES.includes(o.mode as CgroupMode)) throw bad(`mode ${JSON.stringify(o.mode)}`);
    if (o.driver !== "fs" && o.driver !== "systemd") throw bad(`driver ${JSON.stringify(o.driver)}`);
    if (!o.paths || typeof o.paths !== "object") throw bad("paths missing");
    for (const [k, v] of Object.entries(o.paths)) {
      if (typeof v !== "string" || !isNormalAbsolute(v)) throw bad(`path for ${JSON.stringify(k)}`);
    }
    if (o.mode === "v2" && (Object.keys(o.paths).length !== 1 || o.paths[""] === undefined)) throw bad("v2 wants exactly the \"\" path");
    const created = Array.isArray(o.created) ? o.created.filter((p): p is string => typeof p === "string") : [];
    // delete removes these: only the cgroups themselves and their ancestors qualify.
    const leaves = Object.values(o.paths) as string[];
    for (const c of created) {
      if (!isCgroupOrParent(c, leaves)) throw bad(`created dir ${JSON.stringify(c)} is not one of the cgroup's paths or their parents`);
    }
    const optional = Array.isArray(o.optional) ? o.optional.filter((p): p is string => typeof p === "string") : [];
    // delete stops this unit: only a name ocirt could have made, naming the cgroup's own directory
    let unit: string | undefined;
    if (o.driver === "systemd") {
      if (typeof o.unit !== "string" || !UNIT_NAME.test(o.unit)) throw bad(`unit ${JSON.stringify(o.unit)}`);
      if (!leaves.every((l) => path.posix.basename(l) === o.unit)) throw bad(`unit ${JSON.stringify(o.unit)} is not the cgroup's directory`);
      unit = o.unit;
    }
    return new Cgroup(o.mode!, o.driver, { ...o.paths }, created, optional, { ...opts, unit });
  }

  /** The dir of one hierarchy ("memory", "freezer", ... or "" for cgroup2). */
  path(subsystem: string): string | undefined {
    return this.paths[subsystem];
  }

  /** Distinct dirs (co-mounted controllers share one). */
  private dirs(): { dir: string; optional: boolean }[] {
    const seen = new Map<string, boolean>();
    for (const [k, dir] of Object.entries(this.paths)) {
      const opt = this.optional.includes(k);
      seen.set(dir, (seen.get(dir) ?? true) && opt);
    }
    return [...seen.entries()].map(([dir, optional]) => ({ dir, optional }));
  }

  exists(): boolean {
    const dir = this.mode === "v2" ? this.paths[""] : (this.paths["devices"] ?? Object.values(this.paths)[0]);
    return dir !== undefined && this.fs.exists(dir);
  }

  /**
   * Moves pid into the cgroup in every hierarchy. EINVAL is retried: a task
   * still in TASK_NEW cannot be moved yet.
   */
  addProcess(pid: number): void {
    for (const { dir, optional } of this.dirs()) {
      const file = join(dir, "cgroup.procs");
      for (let attempt = 0; ; attempt++) {
        try {
          this.fs.writeFile(file, String(pid));
          break;
        } catch (err) {
          if (codeOf(err) === "EINVAL" && attempt < 5) {
            this.fs.sleep(30);
            continue;
          }
          if (optional) break;
          throw new SetupError(`add pid ${pid} to ${file}: ${strerror(err)}`, undefined, { where: "cgroup", cause: err });
        }
      }
      phase(`cgroup.procs: ${dir.split("/")[4] ?? dir}`);
    }
  }

  /**
   * Writes resources (OCI linux.resources shape). Fields left out are not
   * touched; `devices`, when given, is the complete rule list. The writes are
   * planned against the live files (current limits, devices.list), so that
   * `update` raises and lowers limits in an order the kernel accepts.
   * skipDevices leaves the device controller alone (runc's SkipDevices).
   * On v2 the device rules become an eBPF program attached to the cgroup
   * (devices-bpf.ts); it replaces the one attached before.
   */
  applyResources(resources: LinuxResources, opts: { skipDevices?: boolean; filesOnly?: boolean } = {}): ApplyResult {
    // the systemd driver sets unit properties first (systemd-scope.ts), then the files through here
    if (this.driver === "systemd" && !opts.filesOnly) throw new SetupError("internal: a systemd cgroup's resources go through its unit (applySystemdResources)", undefined, { where: "cgroup" });
    const snap = readSnapshot(this.fs, this.mode, this.paths, resources);
    const planned = planResources(resources, { mode: this.mode, paths: { ...this.paths } }, snap);
    // Compiled before any write, so rules v1 would refuse change nothing. An
    // allow-all list needs no program (and a fresh cgroup has none to replace).
    const deviceProgram =
      planned.deviceRules && !opts.skipDevices && !isAllowAll(planned.deviceRules) ? compileDeviceFilter(planned.deviceRules) : undefined;
    const writes = opts.skipDevices ? planned.writes.filter((w) => w.field !== "linux.resources.devices") : planned.writes;
    const { skipped } = executeWrites(this.fs, this.paths, writes);
    for (const s of skipped) log.debug(`cgroup: ${s.file} does not exist on this kernel, skipped`, { field: s.field });
    if (deviceProgram) this.setDeviceFilter(deviceProgram);
    if (this.mode !== "v2" && resources.devices && !opts.skipDevices) this.verifyDevices(resources);
    for (const w of planned.warnings) log.warn(w);
    return { warnings: planned.warnings };
  }

  /** runc's final check: the kernel's devices.list must match the wanted whitelist. */
  private verifyDevices(resources: LinuxResources): void {
    const dir = this.paths["devices"];
    if (!dir) return;
    const target = DeviceEmulator.fromRules(parseDeviceRules(resources.devices!));
    const now = DeviceEmulator.fromList(this.fs.readFile(join(dir, "devices.list")));
    const ok = target.isBlacklist() ? now.isBlacklist() : now.equals(target);
    if (!ok) throw new SetupError("the devices cgroup does not match the requested rules after writing them", undefined, { where: "linux.resources.devices" });
  }

  private setDeviceFilter(program: Buffer): void {
    const dir = this.paths[""]!;
    try {
      this.fs.setDeviceFilter(dir, program);
    } catch (err) {
      const errno = (err as { errno?: unknown }).errno;
      throw new SetupError(`attach the eBPF device filter to ${dir}: ${strerror(err)}`, typeof errno === "number" && errno > 0 ? errno : undefined, {
        where: "linux.resources.devices",
        cause: err,
      });
    }
  }

  /** A descriptor of the v2 cgroup for clone3(CLONE_INTO_CGROUP); null on v1/hybrid. */
  openV2DirFd(): number | null {
    if (this.mode !== "v2") return null;
    try {
      return this.fs.openDir(this.paths[""]!);
    } catch (err) {
      throw fsError("open", this.paths[""]!, err);
    }
  }

  private procsDir(): string {
    if (this.mode === "v2") return this.paths[""]!;
    const dir = this.paths["devices"] ?? this.paths["freezer"] ?? Object.values(this.paths)[0];
    if (!dir) throw new SetupError("the cgroup has no paths", undefined, { where: "cgroup" });
    return dir;
  }

  private readPids(dir: string): number[] {
    let text: string;
    try {
      text = this.fs.readFile(join(dir, "cgroup.procs"));
    } catch (err) {
      const code = codeOf(err);
      if (code === "ENOENT") return [];
      // A threaded v2 cgroup only lists threads.
      if (code === "ENOTSUP" || code === "EOPNOTSUPP") text = this.fs.readFile(join(dir, "cgroup.threads"));
      else throw fsError("read", join(dir, "cgroup.procs"), err);
    }
    return text
      .split("\n")
      .filter(Boolean)
      .map((s) => Number(s));
  }

  /**
   * The pids in the container's cgroup (of one hierarchy, as runc does). Each
   * once: in a threaded subtree (a container whose cgroupsPath lies inside
   * another's) the thread root's cgroup.procs already lists the processes of
   * the threaded cgroups below it, whose threads are read again on the way down.
   */
  pids(opts: { recursive?: boolean } = {}): number[] {
    const root = this.procsDir();
    if (!opts.recursive) return this.readPids(root);
    const out = new Set<number>();
    const walk = (dir: string) => {
      for (const pid of this.readPids(dir)) out.add(pid);
      let entries: { name: string; isDir: boolean }[] = [];
      try {
        entries = this.fs.list(dir);
      } catch {
        return;
      }
      for (const e of entries) if (e.isDir) walk(join(dir, e.name));
    };
    walk(root);
    return [...out];
  }

  // --------------------------------------------------------------- freezer ----
  private freezerDir(): string {
    const dir = this.mode === "v2" ? this.paths[""] : this.paths["freezer"];
    if (!dir) throw new HostError("cannot freeze: the freezer cgroup controller is not mounted", { where: "cgroup" });
    return dir;
  }

  freeze(): void {
    const dir = this.freezerDir();
    if (this.mode === "v2") {
      this.writeKnob(dir, "cgroup.freeze", "1");
      if (this.waitV2Frozen(dir) !== "frozen") throw new SetupError("timed out waiting for the cgroup to freeze", undefined, { where: "cgroup.freeze" });
      return;
    }
    const state = join(dir, "freezer.state");
    try {
      // A v1 cgroup can get stuck in FREEZING while tasks keep forking; runc
      // retries with an occasional thaw, which is what helps in practice.
      for (let i = 0; i < 1000; i++) {
        if (i % 50 === 49) {
          this.fs.writeFile(state, "THAWED");
          this.fs.sleep(10);
        }
        this.fs.writeFile(state, "FROZEN");
        if (i % 25 === 24) this.fs.sleep(1);
        const now = this.fs.readFile(state).trim();
        if (now === "FROZEN") return;
        if (now !== "FREEZING") throw new SetupError(`unexpected freezer state ${now} while freezing`, undefined, { where: "freezer.state" });
      }
      throw new SetupError("unable to freeze the cgroup (stuck in FREEZING)", undefined, { where: "freezer.state" });
    } catch (err) {
      // Never leave a half-frozen container behind.
      try {
        this.fs.writeFile(state, "THAWED");
      } catch {
        /* the original error matters more */
      }
      if (err instanceof SetupError) throw err;
      throw fsError("write", state, err);
    }
  }

  thaw(): void {
    const dir = this.freezerDir();
    if (this.mode === "v2") this.writeKnob(dir, "cgroup.freeze", "0");
    else this.writeKnob(dir, "freezer.state", "THAWED");
  }

  state(): FreezerState {
    const dir = this.mode === "v2" ? this.paths[""] : this.paths["freezer"];
    if (!dir) return "undefined";
    if (this.mode === "v2") {
      const v = this.tryRead(join(dir, "cgroup.freeze"));
      if (v === undefined) return "undefined";
      return v.trim() === "1" ? this.waitV2Frozen(dir) : "thawed";
    }
    for (let i = 0; i < 5000; i++) {
      const v = this.tryRead(join(dir, "freezer.state"));
      if (v === undefined) return "undefined";
      switch (v.trim()) {
        case "THAWED":
          return "thawed";
        case "FROZEN": {
          // Frozen through an ancestor is not "paused" for this container.
          const self = this.tryRead(join(dir, "freezer.self_freezing"));
          return self === undefined || self.trim() === "1" ? "frozen" : "thawed";
        }
        case "FREEZING":
          this.fs.sleep(1);
          continue;
        default:
          throw new SetupError(`unknown freezer.state ${JSON.stringify(v.trim())}`, undefined, { where: "freezer.state" });
      }
    }
    throw new SetupError("the cgroup stays in FREEZING", undefined, { where: "freezer.state" });
  }

  private waitV2Frozen(dir: string): FreezerState {
    for (let i = 0; i < 1000; i++) {
      const events = this.tryRead(join(dir, "cgroup.events"));
      if (events === undefined) return "undefined";
      if (/^frozen 1$/m.test(events)) return "frozen";
      this.fs.sleep(10);
    }
    return "undefined";
  }

  // ------------------------------------------------------------ stats, oom ----
  stats(): CgroupStats {
    return readStats(this.fs, this.mode, this.paths);
  }

  /** How many processes the OOM killer has killed in this cgroup so far. */
  oomKillCount(): bigint {
    const dir = this.mode === "v2" ? this.paths[""] : this.paths["memory"];
    if (!dir) return 0n;
    const text = this.tryRead(join(dir, this.mode === "v2" ? "memory.events" : "memory.oom_control"));
    const m = text && /^oom_kill (\d+)$/m.exec(text);
    return m ? BigInt(m[1]!) : 0n;
  }

  /**
   * Polls the oom_kill counter (memory.oom_control on v1, memory.events on
   * v2) and calls onOom once per increase. v1's eventfd notification needs
   * eventfd(2), which plain Node cannot create. stop() ends the polling.
   */
  watchOom(onOom: (kills: bigint) => void, opts: { intervalMs?: number; unref?: boolean } = {}): { stop(): void } {
    let last = this.oomKillCount();
    const timer = setInterval(() => {
      let now: bigint;
      try {
        now = this.oomKillCount();
      } catch {
        return;
      }
      if (now > last) {
        const n = now - last;
        last = now;
        onOom(n);
      }
    }, opts.intervalMs ?? 200);
    if (opts.unref) timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /**
   * The same as an async iterator: yields the number of new OOM kills; ends
   * when the cgroup is gone or the signal aborts (runc's OOM channel closes
   * when the container's cgroup empties).
   */
  async *oomEvents(opts: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<bigint> {
    let last = this.oomKillCount();
    const interval = opts.intervalMs ?? 200;
    while (!opts.signal?.aborted) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, interval);
        opts.signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
      if (opts.signal?.aborted || !this.exists()) return;
      const now = this.oomKillCount();
      if (now > last) {
        yield now - last;
        last = now;
      }
    }
  }

  // --------------------------------------------------------------- helpers ----
  private tryRead(file: string): string | undefined {
    try {
      return this.fs.readFile(file);
    } catch (err) {
      const code = codeOf(err);
      if (code === "ENOENT" || code === "ENODEV") return undefined;
      throw fsError("read", file, err);
    }
  }

  private writeKnob(dir: string, file: string, value: string): void {
    try {
      this.fs.writeFile(join(dir, file), value);
    } catch (err) {
      throw fsError(`write ${value} to`, join(dir, file), err);
    }
  }

  /** @internal for destroyCgroup */
  get io(): CgroupFs {
    return this.fs;
  }
}

function isAllowAll(rules: ReturnType<typeof parseDeviceRules>): boolean {
  const e = DeviceEmulator.fromRules(rules);
  return e.isBlacklist() && e.rules.size === 0;
}
