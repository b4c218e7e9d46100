// The one walk over the host's cgroup hierarchies that the leak checks share (the
// integration tests' "nothing left behind", the runtime-tools runner's leftovers).
import * as fs from "node:fs";
import * as path from "node:path";

export interface CgroupWalk {
  /** Levels below each hierarchy's root to look at (default 6). */
  depth?: number;
  /** Also return every directory below a match. */
  subtree?: boolean;
  /** Default /sys/fs/cgroup. */
  root?: string;
}

/** Directories in any hierarchy whose name (and path) match, deepest first. */
export function findCgroupDirs(match: (name: string, dir: string) => boolean, opts: CgroupWalk = {}): string[] {
  const depth = opts.depth ?? 6;
  const found: string[] = [];
  const walk = (dir: string, level: number, inside: boolean) => {
    if (level > depth) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      const hit = inside || match(e.name, p);
      walk(p, level + 1, hit && !!opts.subtree);
      if (hit) found.push(p);
    }
  };
  walk(opts.root ?? "/sys/fs/cgroup", 0, false);
  return found.sort((a, b) => b.split("/").length - a.split("/").length || a.localeCompare(b));
}
