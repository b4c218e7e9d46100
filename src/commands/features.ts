// `ocirt features`: what this build supports, in the shape of the runtime spec's
// features.md. Only what ocirt really implements is listed.
import type { Context } from "../context";
import { stdout } from "../io";
import { VERSION, COMMIT, SPEC_VERSION } from "../version";
import { CAPABILITIES } from "../capabilities/names";
import { KNOWN_ACTIONS, KNOWN_OPERATORS, KNOWN_FLAGS } from "../seccomp/constants";
import { syscallTables } from "../seccomp/tables";
import { MEMORY_POLICY_MODES, MEMORY_POLICY_FLAGS } from "../spec/types";

const MOUNT_OPTIONS = [
  "acl", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap", "iversion", "lazytime", "loud", "mand",
  "noacl", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime",
  "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec", "ridmap", "rnoatime",
  "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime",
  "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent", "slave",
  "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable",
];

export function features(): Record<string, unknown> {
  let archs: string[] = [];
  try {
    archs = Object.keys(syscallTables().arches).sort();
  } catch { /* tables not generated: report none */ }
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: SPEC_VERSION,
    hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
    mountOptions: MOUNT_OPTIONS,
    linux: {
      namespaces: ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
      capabilities: [...CAPABILITIES],
      // systemdUser: the user's manager on the session bus (rootless --systemd-cgroup)
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true },
      seccomp: {
        enabled: true,
        actions: [...KNOWN_ACTIONS],
        operators: [...KNOWN_OPERATORS],
        archs,
        knownFlags: [...KNOWN_FLAGS],
        supportedFlags: [...KNOWN_FLAGS],
      },
      // compiled in; whether the host has the LSM is a separate matter (features.md)
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      // uidMappings/gidMappings of mounts, idmap and ridmap: binds, and the types the
      // kernel can idmap when made new (tmpfs; not overlay on 6.x)
      mountExtensions: { idmap: { enabled: true } },
      memoryPolicy: { modes: [...MEMORY_POLICY_MODES], flags: [...MEMORY_POLICY_FLAGS] },
    },
    annotations: {
      "org.opencontainers.ocirt.version": VERSION,
      "org.opencontainers.ocirt.commit": COMMIT,
      // as runc's "org.opencontainers.runc.checkpoint.enabled": checkpoint and
      // restore through criu (its RPC, `criu swrk`) are built in; whether criu works
      // on this host is criu's to say (`criu check`)
      "org.opencontainers.ocirt.checkpoint.enabled": "true",
    },
  };
}

export default function run(_ctx: Context): void {
  stdout(JSON.stringify(features(), null, 4) + "\n");
}
