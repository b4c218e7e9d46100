// What the host's cgroup setup looks like, read once per command from
// /proc/self/mountinfo and /proc/self/cgroup. Parsing is pure (the texts can be
// passed in); probeCgroupHost() only gathers the inputs.
import * as fs from "node:fs";
import { HostError } from "../../errors";
import type { CgroupMode } from "./types";

/** v1 controllers runc knows about (fs.subsystems), in runc's order. */
export const V1_CONTROLLERS = [
  "cpuset",
  "devices",
  "memory",
  "cpu",
  "cpuacct",
  "pids",
  "blkio",
  "hugetlb",
  "net_cls",
  "net_prio",
  "perf_event",
  "freezer",
  "rdma",
  "misc",
] as const;

export interface CgroupMount {
  /** Where the hierarchy is mounted (rebased under the test root when one is given). */
  mountpoint: string;
  /** The cgroup that is the root of this mount (not "/" inside a nested container). */
  root: string;
}

export interface CgroupHost {
  mode: CgroupMode;
  /** v1 subsystem ("memory", "name=systemd", ...) -> its hierarchy's mount. */
  v1: Record<string, CgroupMount>;
  /** The cgroup2 mount: the whole tree on v2, /sys/fs/cgroup/unified on hybrid. */
  unified?: CgroupMount | undefined;
  /** /proc/self/cgroup: subsystem -> cgroup path; "" is the cgroup2 entry. */
  own: Record<string, string>;
  systemdRunning: boolean;
  /** "2MB", "1GB" ... from /sys/kernel/mm/hugepages (for stats). */
  hugePageSizes: string[];
}

export interface ProbeOptions {
  /** Contents of /proc/self/mountinfo (default: read it). */
  mountinfo?: string;
  /** Contents of /proc/self/cgroup (default: read it). */
  selfCgroup?: string;
  /**
   * Tests: mount points under /sys/fs/cgroup are looked up under this
   * directory instead, so a fake tree can stand in for cgroupfs.
   */
  root?: string;
  systemdRunning?: boolean;
  hugePageSizes?: string[];
}

const CGROUPFS = "/sys/fs/cgroup";

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

interface RawMount {
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

export function parseMountinfo(text: string): RawMount[] {
  const out: RawMount[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const post = line.slice(sep + 3).split(" ");
    if (pre.length < 6 || post.length < 3) continue;
    out.push({
      root: unescapeMountinfo(pre[3]!),
      mountpoint: unescapeMountinfo(pre[4]!),
      fstype: post[0]!,
      superOptions: post[2]!.split(","),
    });
  }
  return out;
}

/** "hierarchy-ID:controller-list:cgroup-path" lines -> {controller: path}. */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (!line) continue;
    const a = line.indexOf(":");
    const b = line.indexOf(":", a + 1);
    if (a < 0 || b < 0) throw new HostError(`invalid /proc/self/cgroup entry: ${JSON.stringify(line)}`);
    const path = line.slice(b + 1);
    for (const c of line.slice(a + 1, b).split(",")) out[c] = path;
  }
  return out;
}

function rebase(mountpoint: string, root: string | undefined): string {
  if (!root) return mountpoint;
  if (mountpoint === CGROUPFS) return root;
  if (mountpoint.startsWith(CGROUPFS + "/")) return root + mountpoint.slice(CGROUPFS.length);
  return mountpoint;
}

/** Pure: decides the layout from the two /proc texts. */
export function parseCgroupHost(
  mountinfo: string,
  selfCgroup: string,
  opts: { root?: string | undefined; systemdRunning?: boolean; hugePageSizes?: string[] } = {},
): CgroupHost {
  const known = new Set<string>(V1_CONTROLLERS);
  const v1: Record<string, CgroupMount> = {};
  const cgroup2: { mount: CgroupMount; original: string }[] = [];
  for (const m of parseMountinfo(mountinfo)) {
    const mount = { mountpoint: rebase(m.mountpoint, opts.root), root: m.root };
    if (m.fstype === "cgroup2") {
      cgroup2.push({ mount, original: m.mountpoint });
    } else if (m.fstype === "cgroup") {
      for (const o of m.superOptions) {
        if ((known.has(o) || o.startsWith("name=")) && !v1[o]) v1[o] = mount;
      }
    }
  }
  // The real controllers decide between v1 and v2; a lone name=systemd
  // hierarchy next to a cgroup2 root is still a v2 host.
  const hasV1Controllers = Object.keys(v1).some((k) => !k.startsWith("name="));
  const pick = (want: string) => cgroup2.find((m) => m.original === want)?.mount;
  let mode: CgroupMode;
  let unified: CgroupMount | undefined;
  const atRoot = pick(CGROUPFS);
  if (atRoot && !hasV1Controllers) {
    mode = "v2";
    unified = atRoot;
  } else if (hasV1Controllers) {
    // runc only looks at /sys/fs/cgroup/unified for the hybrid hierarchy.
    unified = pick(CGROUPFS + "/unified");
    mode = unified ? "hybrid" : "v1";
  } else if (cgroup2.length > 0) {
    mode = "v2";
    unified = cgroup2[0]!.mount;
  } else {
    throw new HostError("no cgroup filesystem is mounted (nothing of type cgroup or cgroup2 in /proc/self/mountinfo)");
  }
  return {
    mode,
    v1: mode === "v2" ? {} : v1,
    unified,
    own: parseProcCgroup(selfCgroup),
    systemdRunning: opts.systemdRunning ?? false,
    hugePageSizes: opts.hugePageSizes ?? [],
  };
}

/** "hugepages-2048kB" -> "2MB", as the kernel names the hugetlb files. */
export function hugePageSizeName(dirName: string): string | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(dirName);
  if (!m) return undefined;
  const kb = Number(m[1]);
  if (kb >= 1 << 20) return `${kb >> 20}GB`;
  if (kb >= 1 << 10) return `${kb >> 10}MB`;
  return `${kb}KB`;
}

function readHugePageSizes(): string[] {
  try {
    return fs
      .readdirSync("/sys/kernel/mm/hugepages")
      .map(hugePageSizeName)
      .filter((s): s is string => s !== undefined);
  } catch {
    return [];
  }
}

function isDir(path: string): boolean {
  try {
    return fs.lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Reads the host. Every input can be overridden (tests, and the fake tree's root). */
export function probeCgroupHost(opts: ProbeOptions = {}): CgroupHost {
  const mountinfo = opts.mountinfo ?? fs.readFileSync("/proc/self/mountinfo", "utf8");
  const selfCgroup = opts.selfCgroup ?? fs.readFileSync("/proc/self/cgroup", "utf8");
  return parseCgroupHost(mountinfo, selfCgroup, {
    root: opts.root,
    // The same test systemd's sd_booted() and runc use.
    systemdRunning: opts.systemdRunning ?? isDir("/run/systemd/system"),
    hugePageSizes: opts.hugePageSizes ?? readHugePageSizes(),
  });
}
