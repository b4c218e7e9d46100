// A fake cgroupfs in an ordinary directory, for tests without root. It behaves
// like the kernel where our code depends on it: mkdir populates the knob files
// of the hierarchy (and v1 cpuset/devices children start as the kernel makes
// them), writes to files that do not exist fail with ENOENT, devices.allow/deny
// update devices.list, freezing shows up in freezer.state / cgroup.events, and
// rmdir refuses a cgroup that still has tasks or children. Every write is
// recorded in order, and failures can be injected per file.
import * as nodefs from "node:fs";
import * as path from "node:path";
import { DeviceEmulator, ruleString } from "./devices";
import { join, type CgroupFs } from "./fsio";
import { parseCgroupHost, type CgroupHost } from "./host";
import type { CgroupMode } from "./types";

const errno = (code: string, p: string) => Object.assign(new Error(`${code}: ${p}`), { code });

const HUGE = ["2MB", "1GB"];

/** Knob files of a non-root v1 cgroup, with their initial contents. */
export const V1_FILES: Record<string, Record<string, string>> = {
  cpu: {
    "cpu.cfs_burst_us": "0",
    "cpu.cfs_period_us": "100000",
    "cpu.cfs_quota_us": "-1",
    "cpu.idle": "0",
    "cpu.rt_period_us": "1000000",
    "cpu.rt_runtime_us": "0",
    "cpu.shares": "1024",
    "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0",
  },
  cpuacct: {
    "cpuacct.stat": "user 0\nsystem 0",
    "cpuacct.usage": "0",
    "cpuacct.usage_all": "cpu user system\n0 0 0\n1 0 0",
    "cpuacct.usage_percpu": "0 0",
    "cpuacct.usage_percpu_sys": "0 0",
    "cpuacct.usage_percpu_user": "0 0",
    "cpuacct.usage_sys": "0",
    "cpuacct.usage_user": "0",
  },
  cpuset: {
    "cpuset.cpu_exclusive": "0",
    "cpuset.cpus": "",
    "cpuset.effective_cpus": "",
    "cpuset.effective_mems": "",
    "cpuset.mem_exclusive": "0",
    "cpuset.mem_hardwall": "0",
    "cpuset.memory_migrate": "0",
    "cpuset.memory_pressure": "0",
    "cpuset.memory_spread_page": "0",
    "cpuset.memory_spread_slab": "0",
    "cpuset.mems": "",
    "cpuset.sched_load_balance": "1",
    "cpuset.sched_relax_domain_level": "-1",
  },
  memory: {
    "memory.failcnt": "0",
    "memory.force_empty": "",
    "memory.kmem.failcnt": "0",
    "memory.kmem.limit_in_bytes": "9223372036854771712",
    "memory.kmem.max_usage_in_bytes": "0",
    "memory.kmem.usage_in_bytes": "0",
    "memory.kmem.tcp.failcnt": "0",
    "memory.kmem.tcp.limit_in_bytes": "9223372036854771712",
    "memory.kmem.tcp.max_usage_in_bytes": "0",
    "memory.kmem.tcp.usage_in_bytes": "0",
    "memory.limit_in_bytes": "9223372036854771712",
    "memory.max_usage_in_bytes": "0",
    "memory.memsw.failcnt": "0",
    "memory.memsw.limit_in_bytes": "9223372036854771712",
    "memory.memsw.max_usage_in_bytes": "0",
    "memory.memsw.usage_in_bytes": "0",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0",
    "memory.soft_limit_in_bytes": "9223372036854771712",
    "memory.stat": "cache 0\nrss 0\ntotal_cache 0\ntotal_rss 0",
    "memory.swappiness": "60",
    "memory.usage_in_bytes": "0",
    "memory.use_hierarchy": "1",
  },
  devices: { "devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm" },
  freezer: { "freezer.state": "THAWED", "freezer.self_freezing": "0", "freezer.parent_freezing": "0" },
  blkio: {
    "blkio.bfq.weight": "100",
    "blkio.bfq.weight_device": "",
    "blkio.bfq.io_service_bytes_recursive": "Total 0",
    "blkio.bfq.io_serviced_recursive": "Total 0",
    "blkio.throttle.io_service_bytes": "Total 0",
    "blkio.throttle.io_service_bytes_recursive": "Total 0",
    "blkio.throttle.io_serviced": "Total 0",
    "blkio.throttle.io_serviced_recursive": "Total 0",
    "blkio.throttle.read_bps_device": "",
    "blkio.throttle.read_iops_device": "",
    "blkio.throttle.write_bps_device": "",
    "blkio.throttle.write_iops_device": "",
  },
  pids: { "pids.current": "0", "pids.events": "max 0", "pids.max": "max" },
  hugetlb: Object.fromEntries(
    HUGE.flatMap((s) =>
      ["", ".rsvd"].flatMap((r) => [
        [`hugetlb.${s}${r}.limit_in_bytes`, "9223372036854771712"],
        [`hugetlb.${s}${r}.max_usage_in_bytes`, "0"],
        [`hugetlb.${s}${r}.usage_in_bytes`, "0"],
        [`hugetlb.${s}${r}.failcnt`, "0"],
      ]),
    ),
  ),
  net_cls: { "net_cls.classid": "0" },
  net_prio: { "net_prio.ifpriomap": "lo 0\neth0 0", "net_prio.prioidx": "1" },
  rdma: { "rdma.max": "", "rdma.current": "" },
  perf_event: {},
  "name=systemd": {},
};

const V1_COMMON = { "cgroup.clone_children": "0", "cgroup.procs": "", notify_on_release: "0", tasks: "" };

/** Knob files a v2 cgroup gets per controller enabled in its parent's subtree_control. */
export const V2_FILES: Record<string, Record<string, string>> = {
  cpu: { "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.weight": "100", "cpu.idle": "0" },
  cpuset: { "cpuset.cpus": "", "cpuset.mems": "", "cpuset.cpus.effective": "0-1", "cpuset.mems.effective": "0" },
  io: { "io.max": "", "io.weight": "default 100", "io.stat": "" },
  memory: {
    "memory.max": "max",
    "memory.low": "0",
    "memory.high": "max",
    "memory.min": "0",
    "memory.current": "0",
    "memory.peak": "0",
    "memory.swap.max": "max",
    "memory.swap.current": "0",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0",
    "memory.stat": "anon 0\nfile 0",
  },
  pids: { "pids.max": "max", "pids.current": "0" },
  hugetlb: Object.fromEntries(
    HUGE.flatMap((s) => [
      [`hugetlb.${s}.max`, "max"],
      [`hugetlb.${s}.current`, "0"],
      [`hugetlb.${s}.events`, "max 0"],
      [`hugetlb.${s}.rsvd.max`, "max"],
      [`hugetlb.${s}.rsvd.current`, "0"],
    ]),
  ),
  rdma: { "rdma.max": "", "rdma.current": "" },
};

const V2_CORE = {
  "cgroup.controllers": "",
  "cgroup.events": "populated 0\nfrozen 0",
  "cgroup.freeze": "0",
  "cgroup.kill": "",
  "cgroup.max.depth": "max",
  "cgroup.procs": "",
  "cgroup.subtree_control": "",
  "cgroup.threads": "",
  "cgroup.type": "domain",
  "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0",
  "cpu.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0",
  "io.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0",
  "memory.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0",
};

export interface FakeWrite {
  /** Path relative to the fake root, e.g. "memory/ctr/memory.limit_in_bytes". */
  path: string;
  value: string;
}

interface Hierarchy {
  dir: string;
  kind: "v1" | "v2";
  controllers: string[];
}

export class FakeCgroupFs implements CgroupFs {
  readonly writes: FakeWrite[] = [];
  readonly killed: number[] = [];
  /** Inject a failure: file name (any dir) or root-relative path -> errno code, once or always. */
  readonly failures = new Map<string, { code: string; times: number }>();
  /** What the kernel keeps of a write, per file name (e.g. cpu.shares clamps to 2..262144). */
  readonly stores = new Map<string, (written: string) => string>();
  private readonly hierarchies: Hierarchy[] = [];

  constructor(readonly root: string) {}

  fail(fileOrPath: string, code: string, times = Infinity): void {
    this.failures.set(fileOrPath, { code, times });
  }

  rel(p: string): string {
    return path.relative(this.root, p);
  }

  /** Writes of one file, in order (file name or root-relative path). */
  writesTo(fileOrPath: string): string[] {
    return this.writes.filter((w) => w.path === fileOrPath || path.basename(w.path) === fileOrPath).map((w) => w.value);
  }

  /** Creates a hierarchy root with its files. */
  addHierarchy(dir: string, kind: "v1" | "v2", controllers: string[], rootFiles: Record<string, string> = {}): void {
    nodefs.mkdirSync(dir, { recursive: true });
    this.hierarchies.push({ dir, kind, controllers });
    const files = kind === "v1" ? { ...V1_COMMON, ...this.v1Files(controllers) } : { ...V2_CORE };
    for (const [f, v] of Object.entries({ ...files, ...rootFiles })) nodefs.writeFileSync(join(dir, f), v ? v + "\n" : "");
  }

  private v1Files(controllers: string[]): Record<string, string> {
    return Object.assign({}, ...controllers.map((c) => V1_FILES[c] ?? {}));
  }

  private hierarchyOf(p: string): Hierarchy | undefined {
    return this.hierarchies
      .filter((h) => p === h.dir || p.startsWith(h.dir + "/"))
      .sort((a, b) => b.dir.length - a.dir.length)[0];
  }

  private injected(p: string): void {
    for (const key of [this.rel(p), path.basename(p)]) {
      const f = this.failures.get(key);
      if (f && f.times > 0) {
        f.times--;
        throw errno(f.code, p);
      }
    }
  }

  readFile(p: string): string {
    if (!nodefs.existsSync(p)) throw errno("ENOENT", p);
    return nodefs.readFileSync(p, "utf8");
  }

  writeFile(p: string, data: string): void {
    if (!nodefs.existsSync(p) || nodefs.statSync(p).isDirectory()) throw errno("ENOENT", p);
    this.injected(p);
    this.writes.push({ path: this.rel(p), value: data });
    const name = path.basename(p);
    const dir = path.dirname(p);
    const put = (f: string, v: string) => nodefs.writeFileSync(join(dir, f), v);
    switch (name) {
      case "cgroup.procs": {
        // A task lives in one cgroup per hierarchy: move it.
        const pid = data.trim();
        const h = this.hierarchyOf(p);
        if (h) this.removePid(h.dir, pid);
        nodefs.appendFileSync(p, pid + "\n");
        return;
      }
      case "devices.allow":
      case "devices.deny": {
        const emu = DeviceEmulator.fromList(this.readFile(join(dir, "devices.list")));
        const [type, mm, access] = data.trim().split(" ") as [string, string, string];
        const [maj, min] = (mm ?? "*:*").split(":");
        const num = (s: string | undefined) => (s === "*" || s === undefined ? -1 : Number(s));
        emu.apply({ type: type as "a" | "b" | "c", major: num(maj), minor: num(min), access: access ?? "rwm", allow: name === "devices.allow" });
        const list = emu.isBlacklist()
          ? "a *:* rwm\n"
          : emu
              .ordered()
              .map(({ meta, perms }) => {
                const [t, a, b] = meta.split(" ");
                const acc = (perms & 1 ? "r" : "") + (perms & 2 ? "w" : "") + (perms & 4 ? "m" : "");
                return ruleString({ type: t!, major: Number(a), minor: Number(b), access: acc }) + "\n";
              })
              .join("");
        put("devices.list", list);
        return;
      }
      case "freezer.state": {
        const state = data.trim();
        put(name, state + "\n");
        put("freezer.self_freezing", state === "FROZEN" ? "1\n" : "0\n");
        return;
      }
      case "cgroup.freeze":
        put(name, data.trim() + "\n");
        put("cgroup.events", `populated ${this.pidsIn(dir).length ? 1 : 0}\nfrozen ${data.trim() === "1" ? 1 : 0}\n`);
        return;
      case "cgroup.kill":
        for (const pid of this.pidsIn(dir)) this.kill(Number(pid), "SIGKILL");
        return;
      case "cgroup.subtree_control": {
        const now = new Set(this.readFile(p).split(/\s+/).filter(Boolean));
        for (const tok of data.split(/\s+/).filter(Boolean)) {
          if (tok.startsWith("+")) now.add(tok.slice(1));
          else if (tok.startsWith("-")) now.delete(tok.slice(1));
        }
        put(name, [...now].join(" ") + "\n");
        // As the kernel, children that exist already get the knobs of the newly enabled controllers.
        for (const e of nodefs.readdirSync(dir, { withFileTypes: true })) {
          if (!e.isDirectory()) continue;
          const child = join(dir, e.name);
          nodefs.writeFileSync(join(child, "cgroup.controllers"), [...now].join(" ") + "\n");
          for (const c of now) {
            for (const [f, v] of Object.entries(V2_FILES[c] ?? {})) {
              if (!nodefs.existsSync(join(child, f))) nodefs.writeFileSync(join(child, f), v ? v + "\n" : "");
            }
          }
        }
        return;
      }
      default: {
        const kept = this.stores.get(name)?.(data) ?? data;
        put(name, kept.endsWith("\n") ? kept : kept + "\n");
      }
    }
  }

  private pidsIn(dir: string): string[] {
    const p = join(dir, "cgroup.procs");
    return nodefs.existsSync(p) ? nodefs.readFileSync(p, "utf8").split("\n").filter(Boolean) : [];
  }

  private removePid(dir: string, pid: string): void {
    for (const e of nodefs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) this.removePid(join(dir, e.name), pid);
    }
    const procs = join(dir, "cgroup.procs");
    if (!nodefs.existsSync(procs)) return;
    const left = this.pidsIn(dir).filter((x) => x !== pid);
    nodefs.writeFileSync(procs, left.map((x) => x + "\n").join(""));
  }

  exists(p: string): boolean {
    return nodefs.existsSync(p);
  }

  mkdir(p: string): void {
    this.injected(p);
    if (nodefs.existsSync(p)) throw errno("EEXIST", p);
    if (!nodefs.existsSync(path.dirname(p))) throw errno("ENOENT", p);
    nodefs.mkdirSync(p);
    const h = this.hierarchyOf(p);
    if (!h) return;
    const parent = path.dirname(p);
    if (h.kind === "v1") {
      const files: Record<string, string> = { ...V1_COMMON, ...this.v1Files(h.controllers) };
      // The kernel copies the parent's device exceptions into a new child.
      if ("devices.list" in files) files["devices.list"] = this.readFile(join(parent, "devices.list")).trim();
      for (const [f, v] of Object.entries(files)) nodefs.writeFileSync(join(p, f), v ? v + "\n" : "");
      return;
    }
    const enabled = this.readFile(join(parent, "cgroup.subtree_control")).split(/\s+/).filter(Boolean);
    const files: Record<string, string> = { ...V2_CORE, "cgroup.controllers": enabled.join(" ") };
    for (const c of enabled) Object.assign(files, V2_FILES[c] ?? {});
    for (const [f, v] of Object.entries(files)) nodefs.writeFileSync(join(p, f), v ? v + "\n" : "");
  }

  rmdir(p: string): void {
    this.injected(p);
    if (!nodefs.existsSync(p)) throw errno("ENOENT", p);
    const entries = nodefs.readdirSync(p, { withFileTypes: true });
    if (entries.some((e) => e.isDirectory())) throw errno("EBUSY", p);
    if (this.pidsIn(p).length > 0) throw errno("EBUSY", p);
    nodefs.rmSync(p, { recursive: true });
    this.deviceFilters.delete(this.rel(p));
  }

  list(p: string): { name: string; isDir: boolean }[] {
    if (!nodefs.existsSync(p)) throw errno("ENOENT", p);
    return nodefs.readdirSync(p, { withFileTypes: true }).map((d) => ({ name: d.name, isDir: d.isDirectory() }));
  }

  openDir(p: string): number {
    return nodefs.openSync(p, nodefs.constants.O_RDONLY | nodefs.constants.O_DIRECTORY);
  }

  kill(pid: number, _signal: NodeJS.Signals | number): void {
    this.killed.push(pid);
    for (const h of this.hierarchies) this.removePid(h.dir, String(pid));
  }

  sleep(_ms: number): void {
    /* time does not pass in the fake tree */
  }

  /** The eBPF device program attached to each v2 cgroup (root-relative dir), last one wins. */
  readonly deviceFilters = new Map<string, Buffer>();

  /** Failures for it are injected under the name DEVICE_FILTER (or "<dir>/" + DEVICE_FILTER). */
  setDeviceFilter(p: string, program: Buffer): void {
    if (!nodefs.existsSync(p) || !nodefs.statSync(p).isDirectory()) throw errno("ENOENT", p);
    this.injected(join(p, DEVICE_FILTER));
    this.deviceFilters.set(this.rel(p), Buffer.from(program));
  }
}

/** Pseudo file name under which FakeCgroupFs takes failures of setDeviceFilter. */
export const DEVICE_FILTER = "(bpf device filter)";

export interface FakeHostOptions {
  mode: CgroupMode;
  /** v1 controllers to mount (default: this project's CI host set plus hugetlb, net_cls, net_prio, rdma). */
  controllers?: string[];
  /** Mount cpu and cpuacct together as "cpu,cpuacct" (a common layout). */
  coMountCpu?: boolean;
  /** The runtime's own cgroup per controller ("" for cgroup2); default "/" everywhere. */
  own?: Record<string, string>;
  /** v2: controllers in the root's cgroup.controllers. */
  v2Controllers?: string[];
  systemdRunning?: boolean;
}

export const ALL_V1 = ["cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls", "net_prio", "perf_event", "hugetlb", "pids", "rdma"];

/**
 * Builds a fake /sys/fs/cgroup under root for the given layout and returns the
 * host description (parsed from generated mountinfo text, as on a real host).
 */
export function makeFakeHost(root: string, o: FakeHostOptions): { host: CgroupHost; fs: FakeCgroupFs; mountinfo: string; selfCgroup: string } {
  const fs = new FakeCgroupFs(root);
  const mi: string[] = [`31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755`];
  const pc: string[] = [];
  const own = o.own ?? {};
  let id = 32;
  let hid = 1;
  const v1 = o.controllers ?? ALL_V1;
  if (o.mode !== "v2") {
    const groups: string[][] = [];
    for (const c of v1) {
      if (o.coMountCpu && c === "cpuacct" && v1.includes("cpu")) continue;
      groups.push(o.coMountCpu && c === "cpu" && v1.includes("cpuacct") ? ["cpu", "cpuacct"] : [c]);
    }
    groups.push(["name=systemd"]);
    for (const g of groups) {
      const dirName = g.map((c) => c.replace(/^name=/, "")).join(",");
      const mp = `/sys/fs/cgroup/${dirName}`;
      mi.push(`${id} 31 0:${id} / ${mp} rw,nosuid,nodev,noexec,relatime shared:${id} - cgroup cgroup rw,${g.join(",")}`);
      const rootFiles: Record<string, string> = {};
      if (g.includes("cpuset")) Object.assign(rootFiles, { "cpuset.cpus": "0-1", "cpuset.mems": "0", "cpuset.effective_cpus": "0-1", "cpuset.effective_mems": "0" });
      fs.addHierarchy(path.join(root, dirName), "v1", g, rootFiles);
      const ownPath = own[g[0]!] ?? "/";
      pc.push(`${hid++}:${g.join(",")}:${ownPath}`);
      if (ownPath !== "/") nodefs.mkdirSync(path.join(root, dirName, ownPath), { recursive: true });
      id++;
    }
    for (const g of groups) {
      const ownPath = own[g[0]!] ?? "/";
      if (ownPath === "/") continue;
      // Give the runtime's own cgroup (and its parents) the knob files too.
      const dir = path.join(root, g.map((c) => c.replace(/^name=/, "")).join(","));
      let cur = dir;
      for (const part of ownPath.split("/").filter(Boolean)) {
        const parent = cur;
        cur = path.join(cur, part);
        const files: Record<string, string> = { ...V1_COMMON, ...Object.assign({}, ...g.map((c) => V1_FILES[c] ?? {})) };
        if (g.includes("cpuset")) Object.assign(files, { "cpuset.cpus": "0-1", "cpuset.mems": "0" });
        if (g.includes("devices")) files["devices.list"] = nodefs.readFileSync(path.join(parent, "devices.list"), "utf8").trim();
        for (const [f, v] of Object.entries(files)) if (!nodefs.existsSync(path.join(cur, f))) nodefs.writeFileSync(path.join(cur, f), v ? v + "\n" : "");
      }
    }
  }
  if (o.mode === "hybrid" || o.mode === "v2") {
    const mp = o.mode === "v2" ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    if (o.mode === "v2") mi.splice(0, 1);
    mi.push(`${id} ${o.mode === "v2" ? 23 : 31} 0:${id} / ${mp} rw,nosuid,nodev,noexec,relatime shared:${id} - cgroup2 cgroup2 rw,nsdelegate`);
    const dir = o.mode === "v2" ? root : path.join(root, "unified");
    const ctrls = o.mode === "v2" ? (o.v2Controllers ?? ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma"]) : [];
    fs.addHierarchy(dir, "v2", ctrls, { "cgroup.controllers": ctrls.join(" ") });
    const ownPath = own[""] ?? "/";
    pc.push(`0::${ownPath}`);
    let cur = dir;
    for (const part of ownPath.split("/").filter(Boolean)) {
      const parentEnabled = nodefs.readFileSync(path.join(cur, "cgroup.subtree_control"), "utf8").trim();
      cur = path.join(cur, part);
      if (nodefs.existsSync(cur)) continue;
      nodefs.mkdirSync(cur);
      const files: Record<string, string> = { ...V2_CORE, "cgroup.controllers": parentEnabled };
      for (const [f, v] of Object.entries(files)) nodefs.writeFileSync(path.join(cur, f), v ? v + "\n" : "");
    }
  }
  const mountinfo = mi.join("\n") + "\n";
  const selfCgroup = pc.reverse().join("\n") + "\n";
  const host = parseCgroupHost(mountinfo, selfCgroup, { root, systemdRunning: o.systemdRunning ?? false, hugePageSizes: HUGE });
  return { host, fs, mountinfo, selfCgroup };
}
