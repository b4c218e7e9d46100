// The config `ocirt spec` writes: the same document as `runc spec` of current runc
// (libcontainer/specconv/example.go and ToRootless), except for ociVersion, which is the
// newest spec version ocirt implements. Current runc no longer puts ambient or inheritable
// capabilities in the example (runc 1.1 put the three in ambient too), and it adds a
// cgroup namespace when the host runs cgroup v2 only.
//
// Keys are in the order Go's encoding/json writes them, so that the output reads like runc's.

import { existsSync } from "node:fs";
import type { Mount, OciConfig } from "./types";

/** The spec version ocirt writes and implements. */
export const SPEC_VERSION = "1.3.0";

export interface DefaultSpecOptions {
  rootless: boolean;
  /** Host ids mapped to root for rootless; default: this process's effective ids. */
  uid?: number;
  gid?: number;
  /** Add a cgroup namespace; default: whether the host is cgroup v2 only (runc's rule). */
  cgroupNamespace?: boolean;
}

/** Whether /sys/fs/cgroup is the cgroup2 mount (on the hybrid layout it lives at /sys/fs/cgroup/unified). */
function hostIsCgroup2Only(): boolean {
  return existsSync("/sys/fs/cgroup/cgroup.controllers");
}

export function defaultSpec(opts: DefaultSpecOptions): OciConfig {
  const caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
  const spec: OciConfig = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runc",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
  const linux = spec.linux!;
  if (opts.cgroupNamespace ?? hostIsCgroup2Only()) linux.namespaces!.push({ type: "cgroup" });
  if (!opts.rootless) return spec;

  // runc's ToRootless: no network namespace (an unprivileged user cannot set one up),
  // a user namespace mapping the caller to root, /sys bind-mounted (sysfs cannot be
  // mounted without owning the netns), no uid=/gid= mount options, no cgroup limits.
  const uid = opts.uid ?? process.geteuid?.() ?? 0;
  const gid = opts.gid ?? process.getegid?.() ?? 0;
  const rootless: OciConfig["linux"] = {
    uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
    namespaces: [...linux.namespaces!.filter((n) => n.type !== "network" && n.type !== "user"), { type: "user" }],
    maskedPaths: linux.maskedPaths,
    readonlyPaths: linux.readonlyPaths,
  };
  spec.linux = rootless;
  spec.mounts = spec.mounts!.map((m): Mount => {
    if (m.destination === "/sys") {
      return { destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] };
    }
    if (!m.options) return m;
    return { ...m, options: m.options.filter((o) => !o.startsWith("gid=") && !o.startsWith("uid=")) };
  });
  return spec;
}
