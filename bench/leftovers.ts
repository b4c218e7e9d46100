// The end-of-run check: nothing of the benchmark's containers is left on the host.
// Ids all start with one prefix, so one walk of each place finds every leftover.
import { existsSync, readdirSync, readFileSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { exited } from "./exec";

export function findLeftovers(prefix: string, roots: readonly string[]): string[] {
  const problems: string[] = [];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    const left = readdirSync(root).filter((n) => !n.startsWith("."));
    if (left.length) problems.push(`state dirs left in ${root}: ${left.join(", ")}`);
  }
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  for (const m of mounts) if (m.includes(prefix) || roots.some((r) => m.includes(r))) problems.push(`mount left: ${m}`);
  for (const d of cgroupDirs("/sys/fs/cgroup", 5)) if (d.split("/").pop()!.includes(prefix)) problems.push(`cgroup left: ${d}`);
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmd = "";
    let cgroup = "";
    try {
      // an exited init waits for its parent (PID 1 by then) to reap it: not ours to clean
      if (exited(Number(p))) continue;
      cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ");
      cgroup = readFileSync(`/proc/${p}/cgroup`, "utf8");
    } catch {
      continue;
    }
    // an init's command line names neither id nor root ("runc init"); its cgroup does
    if (cmd.includes(prefix) || cgroup.includes(prefix) || roots.some((r) => cmd.includes(r))) problems.push(`process left: ${p} ${cmd}`);
  }
  return problems;
}

function cgroupDirs(dir: string, depth: number, out: string[] = []): string[] {
  let ents: Dirent[];
  try {
    ents = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of ents) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    out.push(p);
    if (depth > 0) cgroupDirs(p, depth - 1, out);
  }
  return out;
}
