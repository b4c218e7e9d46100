// Rootless --systemd-cgroup: the user's own systemd manager (user@UID.service, on the
// user's session bus) makes the container's scope, below its own cgroup, as runc
// does for a rootless container. Pure: the uid map and the environment come in.
import { HostError } from "../../errors";
import type { CgroupHost } from "./host";

/** uid as the host (and a bus outside our user namespace) knows it: mapped through uid_map. */
export function hostUid(uid: number, uidMap: string): number {
  for (const line of uidMap.split("\n")) {
    const [inside, outside, size] = line.trim().split(/\s+/).map(Number);
    if (size === undefined || Number.isNaN(size)) continue;
    if (uid >= inside! && uid < inside! + size) return outside! + (uid - inside!);
  }
  return uid;
}

/** systemd's cgroup of user UID's manager. */
export function userManagerCgroup(uid: number): string {
  return `/user.slice/user-${uid}.slice/user@${uid}.service`;
}

/** The uid whose manager's subtree holds this cgroup path (a rootless systemd unit), if any. */
export function userManagerOf(dir: string | undefined): number | undefined {
  const m = dir ? /\/user@(\d+)\.service\//.exec(dir) : null;
  return m ? Number(m[1]) : undefined;
}

export interface UserManager {
  uid: number;
  managerCgroup: string;
  /** the session bus socket the manager is on */
  bus: string;
}

/**
 * Where the user's manager is, refused on one line where there is none to ask: it
 * delegates cgroups on cgroup v2 only, and it is reached on the session bus.
 */
export function userManager(host: CgroupHost, uid: number, bus: string | undefined, exists: (p: string) => boolean): UserManager {
  if (host.mode !== "v2") {
    throw new HostError(`a user's systemd manager delegates cgroups only on cgroup v2 (this host is ${host.mode}); run without --systemd-cgroup`, { where: "--systemd-cgroup" });
  }
  const socket = bus ?? `/run/user/${uid}/bus`;
  if (!exists(socket)) {
    throw new HostError(`rootless: no session bus of uid ${uid} at ${socket} (DBUS_SESSION_BUS_ADDRESS, or $XDG_RUNTIME_DIR/bus of dbus-user-session) to reach its systemd manager`, { where: "--systemd-cgroup" });
  }
  return { uid, managerCgroup: userManagerCgroup(uid), bus: socket };
}
