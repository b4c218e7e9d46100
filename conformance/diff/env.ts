// The run's environment: a scratch dir under /tmp with a private copy of the probe
// rootfs, a dir and a file configs may bind-mount, and one Runtime per side, each with
// its own --root and work dir. Also what to normalise for each side, and the cleanup
// check at the end.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureProbeRootfs, probeBinary } from "../rootfs";
import { repoRoot } from "../probe/build";
import type { CorpusEnv } from "./corpus";
import type { NormContext } from "./normalise";
import { Runtime } from "./runtime";

export interface Harness {
  dir: string;
  corpusEnv: CorpusEnv;
  /** The host build of the probe (hooks run it on the host). */
  probe: string;
  runc: Runtime;
  ocirt: Runtime;
  /** Container ids handed out so far, per runtime. */
  ids: { runc: string[]; ocirt: string[] };
  hostNs: Record<string, string | null>;
  newId(rt: Runtime, tag: string): string;
  /** What each container id was created for (config or command), for leftovers. */
  labels: Map<string, string>;
  norm(rt: Runtime): NormContext;
}

const NS = ["cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"];

function blockDevice(): { major: number; minor: number } {
  // the device under /work (a real block device, for blockIO rules); else vda's usual numbers
  try {
    const d = statSync("/").dev;
    const major = Number(BigInt(d) >> 8n) & 0xfff, minor = (d & 0xff) | ((d >> 12) & 0xfff00);
    if (existsSync(`/sys/dev/block/${major}:${minor}`)) {
      const parent = join(`/sys/dev/block/${major}:${minor}`, "..", "dev");
      if (existsSync(parent)) {
        const [a, b] = readFileSync(parent, "utf8").trim().split(":").map(Number);
        return { major: a!, minor: b! };
      }
      return { major, minor };
    }
  } catch {
    /* fall through */
  }
  return { major: 254, minor: 0 };
}

let counter = 0;

export function makeHarness(opts: { runc?: string; ocirt?: string } = {}): Harness {
  const dir = mkdtempSync("/tmp/ocidiff-");
  const probe = probeBinary();
  const rootfs = join(dir, "rootfs");
  execFileSync("cp", ["-a", ensureProbeRootfs(), rootfs]);
  const scratch = join(dir, "scratch");
  mkdirSync(join(scratch, "dir"), { recursive: true });
  writeFileSync(join(scratch, "dir", "inside.txt"), "inside\n");
  writeFileSync(join(scratch, "file.txt"), "127.0.0.1 localhost\n");
  const runc = new Runtime("runc", opts.runc ?? "/usr/bin/runc", join(dir, "root-runc"), join(dir, "work-runc"));
  const ocirt = new Runtime("ocirt", opts.ocirt ?? join(repoRoot(), "bin", "ocirt"), join(dir, "root-ocirt"), join(dir, "work-ocirt"));
  const hostNs: Record<string, string | null> = {};
  for (const k of NS) {
    try {
      hostNs[k] = readlinkSync(`/proc/self/ns/${k}`);
    } catch {
      hostNs[k] = null;
    }
  }
  const h: Harness = {
    dir,
    corpusEnv: { rootfs, scratch, blockDevice: blockDevice() },
    probe,
    runc,
    ocirt,
    ids: { runc: [], ocirt: [] },
    labels: new Map(),
    hostNs,
    newId(rt, tag) {
      const id = `ocidiff-${process.pid}-${++counter}-${tag}-${rt.name === "runc" ? "r" : "o"}`;
      h.ids[rt.name].push(id);
      return id;
    },
    norm(rt) {
      return {
        // both sides' ids: a container can see the other's (its session keyring in /proc/keys)
        ids: [...h.ids.runc, ...h.ids.ocirt],
        paths: [
          [rt.root, "<ROOT>"],
          [rt.work, "<WORK>"],
          [dir, "<DIR>"],
        ],
      };
    },
  };
  return h;
}

/** What is left of the run's containers on the host: state dirs, cgroups, mounts, processes. */
export function leftovers(h: Harness): string[] {
  const problems: string[] = [];
  const ids = [...h.ids.runc, ...h.ids.ocirt];
  for (const rt of [h.runc, h.ocirt]) {
    if (existsSync(rt.root)) {
      const left = readdirSync(rt.root).filter((n) => !n.startsWith("."));
      if (left.length) problems.push(`${rt.name}: state dirs left in --root: ${left.join(", ")}`);
    }
  }
  const mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  if (mountinfo.includes(h.dir)) problems.push(`a mount under ${h.dir} is left`);
  for (const id of ids) if (mountinfo.includes(id)) problems.push(`a mount mentions ${id}`);
  // runc's own leftovers that nobody can remove are findings (the "cleanup" cells
  // say so), not harness errors: a runc init killed during create whose zombie was
  // reparented to a pid 1 that does not reap keeps its cgroups for good
  const all = cgroupDirs(ids);
  const idOf = (d: string) => d.split("/").find((part) => ids.includes(part));
  const zombieHeld = new Set(all.filter((d) => h.ids.runc.includes(idOf(d) ?? "") && onlyZombies(d)).map(idOf));
  const cg = all.filter((d) => !zombieHeld.has(idOf(d)));
  problems.push(...cg.map((p) => `cgroup ${p} is left`));
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (ids.some((id) => cmd.includes(id)) || cmd.includes(h.dir)) problems.push(`process ${p} (${cmd.replace(/\0/g, " ").trim()}) is left`);
  }
  return problems;
}

/** Whether the cgroup holds processes and every one of them is a zombie. */
function onlyZombies(dir: string): boolean {
  let pids: string[];
  try {
    pids = readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
  } catch {
    return false;
  }
  return pids.length > 0 && pids.every((p) => {
    try {
      const st = readFileSync(`/proc/${p}/stat`, "utf8");
      return st.slice(st.lastIndexOf(")") + 2, st.lastIndexOf(")") + 3) === "Z";
    } catch {
      return false;
    }
  });
}

/** Cgroup dirs (any hierarchy, 5 levels deep) named after one of ids or under an ocidiff dir. */
export function cgroupDirs(ids: string[]): string[] {
  const out: string[] = [];
  const want = new Set(ids);
  const walk = (d: string, depth: number) => {
    if (depth < 0) return;
    let ents: import("node:fs").Dirent[];
    try {
      ents = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (want.has(e.name) || e.name.includes(`ocidiff-${process.pid}-`)) out.push(p);
      else walk(p, depth - 1);
    }
  };
  walk("/sys/fs/cgroup", 5);
  return out;
}

/** The parent cgroup dirs configs name ("/ocidiff/...", "/ocidiff-engine"), removed (deepest first) when empty. */
export const PARENT_CGROUPS = new Set(["ocidiff", "nested", "ocidiff-engine", "ocidiff-rel", "ocidiff-hooks"]);

export function removeParentCgroups(): void {
  const found: string[] = [];
  const walk = (d: string, depth: number, under: boolean) => {
    if (depth < 0) return;
    let ents: import("node:fs").Dirent[];
    try {
      ents = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      const mine = e.name.startsWith("ocidiff") || (under && PARENT_CGROUPS.has(e.name));
      if (mine) found.push(p);
      walk(p, depth - 1, mine);
    }
  };
  walk("/sys/fs/cgroup", 5, false);
  for (const p of found.sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(p);
    } catch {
      /* not empty: leftovers() reports what is inside */
    }
  }
}

/**
 * Cgroup dirs a runtime left of its own containers (after its delete): one finding per
 * container, attributed to the runtime by the id's suffix; then removed (they are empty
 * when no process is left) so the host is clean.
 */
export function collectCgroupLeftovers(h: Harness): { runtime: "runc" | "ocirt"; subject: string; dirs: string[] }[] {
  const byId = new Map<string, string[]>();
  const ids = [...h.ids.runc, ...h.ids.ocirt];
  for (const d of cgroupDirs(ids)) {
    const id = ids.find((i) => d.split("/").includes(i));
    if (!id) continue;
    byId.set(id, [...(byId.get(id) ?? []), d.replace("/sys/fs/cgroup/", "").replace(id, "<ID>")]);
  }
  const out: { runtime: "runc" | "ocirt"; subject: string; dirs: string[] }[] = [];
  for (const [id, dirs] of byId) {
    out.push({ runtime: h.ids.runc.includes(id) ? "runc" : "ocirt", subject: h.labels.get(id) ?? id, dirs: dirs.sort() });
    for (const d of cgroupDirs([id]).sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        /* a process is still in it: leftovers() reports it */
      }
    }
  }
  return out;
}
