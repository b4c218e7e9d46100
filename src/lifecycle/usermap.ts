// The id maps of a new user namespace, written by the parent when the helper asks
// (SYNC_USERMAP_PLS), and the user namespaces made for idmapped mounts.
//
// Root (of the host, or of the user namespace ocirt runs in) writes uid_map and
// gid_map itself. An unprivileged user may write only one line mapping its own
// uid, and its own gid after "deny" in setgroups; any other mapping goes through
// newuidmap/newgidmap (Debian's uidmap package), which check /etc/subuid and
// /etc/subgid, as runc does. The helper is dumpable while it waits (SYNC_DUMPABLE):
// otherwise its uid_map, gid_map and setgroups belong to root, and the caller may
// not open them.
import { accessSync, constants as fsc, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { ConfigError, SetupError } from "../errors";
import type { Spec } from "../spec/normalise";
import type { IDMapping } from "../spec/types";
import type { UserFacts } from "../host";
import { mapsOnlyOwnId } from "../linux/rootless";
import { idMapText, type IdmapMappings } from "../linux/idmap";
import { native } from "../native";

type Kind = "uid" | "gid";

/** How each map gets written: "direct" (root, or the caller's own id) or through the setuid tool. */
export function mapWriters(spec: Spec, user: UserFacts): { uid: "direct" | "tool"; gid: "direct" | "tool" } {
  if (user.euid === 0) return { uid: "direct", gid: "direct" };
  return {
    uid: mapsOnlyOwnId(spec.linux.uidMappings, user.euid) ? "direct" : "tool",
    gid: mapsOnlyOwnId(spec.linux.gidMappings, user.egid) ? "direct" : "tool",
  };
}

const TOOL: Record<Kind, string> = { uid: "newuidmap", gid: "newgidmap" };

/** The tool on $PATH (or in /usr/bin, /usr/sbin, /bin), or undefined. */
export function findTool(name: string, path = process.env["PATH"] ?? ""): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), "/usr/bin", "/usr/sbin", "/bin"]) {
    const p = join(dir, name);
    try {
      accessSync(p, fsc.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Refuses, before anything is made, a rootless mapping that needs newuidmap or
 * newgidmap where they are not installed.
 */
export function checkMapTools(spec: Spec, user: UserFacts, find: (name: string) => string | undefined = (n) => findTool(n)): void {
  if (!spec.linux.namespaces.some((n) => n.type === "user" && !n.path)) return;
  const w = mapWriters(spec, user);
  for (const kind of ["uid", "gid"] as const) {
    if (w[kind] !== "tool" || find(TOOL[kind])) continue;
    const own = kind === "uid" ? user.euid : user.egid;
    throw new ConfigError(
      `mapping more than ${kind} ${own} as uid ${user.euid} needs ${TOOL[kind]} (Debian package uidmap) and a range in /etc/sub${kind}; it is not installed`,
      [], { where: `linux.${kind}Mappings` },
    );
  }
}

/** Writes the id maps of pid's new user namespace (the helper asked: SYNC_USERMAP_PLS). */
export function writeIdMaps(pid: number, spec: Spec, user: UserFacts): void {
  const w = mapWriters(spec, user);
  writeMap(pid, "uid", spec.linux.uidMappings, w.uid);
  // an unprivileged writer of gid_map must deny setgroups first (user_namespaces(7))
  if (w.gid === "direct" && user.euid !== 0 && spec.linux.gidMappings.length) write(pid, "setgroups", "deny", "linux.gidMappings");
  writeMap(pid, "gid", spec.linux.gidMappings, w.gid);
}

function writeMap(pid: number, kind: Kind, maps: IDMapping[], how: "direct" | "tool"): void {
  if (!maps.length) return;
  if (how === "direct") {
    write(pid, `${kind}_map`, idMapText(maps), `linux.${kind}Mappings`);
    return;
  }
  const tool = findTool(TOOL[kind]) ?? TOOL[kind];
  const args = [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  // node:child_process only here: loading it costs ~1.5-2 ms of every create under Bun
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const r = spawnSync(tool, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  if (r.error) throw new SetupError(`${tool}: ${r.error.message}`, undefined, { where: `linux.${kind}Mappings` });
  if (r.status !== 0) {
    const said = (r.stderr || r.stdout || "").trim().split("\n").filter(Boolean).pop() ?? `exit status ${r.status ?? r.signal}`;
    throw new SetupError(`${TOOL[kind]} ${args.join(" ")}: ${said}`, undefined, { where: `linux.${kind}Mappings` });
  }
}

function write(pid: number, file: string, text: string, where: string): void {
  try {
    writeFileSync(`/proc/${pid}/${file}`, text);
  } catch (err) {
    throw new SetupError(`writing /proc/${pid}/${file}: ${(err as Error).message}`, undefined, { where });
  }
}

/** The user namespaces of idmapped mounts (planIdmaps), as fds; the caller closes them. */
export function idmapUsernsFds(maps: IdmapMappings[]): number[] {
  const fds: number[] = [];
  try {
    for (const m of maps) fds.push(native().usernsFd(idMapText(m.uidMappings), idMapText(m.gidMappings)));
  } catch (err) {
    for (const fd of fds) native().close(fd);
    throw new SetupError(`a user namespace for an idmapped mount: ${(err as Error).message}`, (err as { errno?: number }).errno, { where: "mounts (idmapped)" });
  }
  return fds;
}
