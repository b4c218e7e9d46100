// Spec -> the init helper's plan: every op in the order the kernel needs. Pure:
// what it needs from the host (cap_last_cap, cgroup views, ...) comes in as data,
// so the order of operations is unit-tested without root.
import type { Spec, SpecHook } from "../spec/normalise";
import { Op, Sync, type PlanOp } from "./ops";
import { planNamespaces, type NamespacePlan } from "../linux/namespaces";
import { planMounts, planRootfsPrepare, type CgroupView } from "../linux/mounts";
import { planDevices } from "../linux/devices";
import { capMasks, type CapMasks } from "../capabilities/sets";
import { capName } from "../capabilities/names";
import { MS, PROPAGATION } from "../linux/mount-options";
import { planProcessAttrs } from "../linux/process-attrs";
import { planLsm, type LsmHost } from "../linux/lsm";
import { ConfigError } from "../errors";
import { childPath } from "../spec/path";

export const RLIMIT: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

export interface HostFacts {
  lastCap: number;
  /** The bounding set ocirt itself runs with: no process it starts can have more. */
  bounding: bigint;
  lsm: LsmHost;
  hasProcKcore: boolean;
}

export interface PlanInput {
  spec: Spec;
  /** The container id, for the state hooks receive and the session keyring's name. */
  id: string;
  /** --no-new-keyring: keep the caller's session keyring. */
  noNewKeyring?: boolean;
  /** `exec`: the process joins the init's session keyring, leaving its permissions (only its owner may set them). */
  joinKeyringOnly?: boolean;
  noPivot: boolean;
  /** Extra fd index of exec.fifo (O_PATH); namespace files follow it. */
  fifoIndex: number;
  /** The parent writes the pid into the cgroup (v1/hybrid), rather than CLONE_INTO_CGROUP. */
  cgroupSync: boolean;
  cgroupViews: CgroupView[];
  /** Environment after defaults (HOME) were added. */
  env: string[];
  /** Supplementary groups: /etc/group membership plus process.user.additionalGids. */
  groups: number[];
  seccomp?: { program: Buffer; flags: number; notify: boolean } | undefined;
  host: HostFacts;
  warn: (msg: string) => void;
  debug?: (msg: string) => void;
}

export interface ContainerPlan {
  cloneFlags: number;
  ns: NamespacePlan;
  ops: PlanOp[];
}

export function planContainer(inp: PlanInput): ContainerPlan {
  const { spec } = inp;
  const p = spec.process;
  const ns = planNamespaces(spec.linux.namespaces, inp.fifoIndex + 1, timeOffsetLines(spec));
  const ops: PlanOp[] = [];
  // placed in the cgroup before anything of the container runs, and before the
  // cgroup namespace is made so that its root is the container's cgroup
  if (inp.cgroupSync) ops.push({ code: Op.SYNC, ints: [Sync.CGROUP_PLS], what: "linux.cgroupsPath" });
  ops.push(...planOomScoreAdj(spec));
  ops.push(...ns.ops);
  if (ns.newCgroup) ops.push({ code: Op.UNSHARE, ints: [0x02000000], what: "linux.namespaces (cgroup)" });

  const hasMountNs = ns.has("mount");
  if (hasMountNs) {
    ops.push(...planRootfsPrepare(spec));
    ops.push(...planMounts(spec, inp.cgroupViews, ns.has("cgroup")));
    const devMounted = spec.mounts.some((m) => m.destination === "/dev");
    const devBound = spec.mounts.some((m) => m.destination === "/dev" && (m.type === "bind" || m.options.includes("bind") || m.options.includes("rbind")));
    if (!devBound) {
      ops.push(...planDevices(spec.linux.devices, {
        inUserns: ns.newUser || ns.has("user"),
        hasProcKcore: inp.host.hasProcKcore && devMounted,
      }));
    }
    // runc creates a missing cwd in the rootfs
    ops.push({ code: Op.MKDIR, ints: [0o755], blobs: [p.cwd], what: "process.cwd" });
    ops.push(...planCreateHooks(spec, inp.id));
    ops.push({ code: Op.PIVOT_ROOT, ints: [inp.noPivot ? 1 : 0], blobs: [spec.root.path], what: inp.noPivot ? "root.path (chroot, --no-pivot)" : "root.path (pivot_root)" });
    // as runc: private and slave were applied to the mount holding the rootfs
    // already; shared and unbindable must be set on the new / after pivot_root
    const after = spec.linux.rootfsPropagation ? propagationFlag(spec.linux.rootfsPropagation) : 0;
    if (after && !(after & (MS.PRIVATE | MS.SLAVE))) {
      ops.push({ code: Op.PROPAGATION, ints: [after], blobs: ["/"], what: "linux.rootfsPropagation" });
    }
  } else {
    // Without a mount namespace every mount would land in the host's mount table
    // and outlive the container: ocirt only changes root (runc would mount anyway).
    if (spec.linux.maskedPaths.length || spec.linux.readonlyPaths.length) {
      throw new ConfigError("unable to restrict paths without a private mount namespace", [], { where: spec.linux.maskedPaths.length ? "linux.maskedPaths" : "linux.readonlyPaths" });
    }
    if (spec.mounts.length || spec.root.readonly) {
      inp.warn("linux.namespaces: no mount namespace: mounts and root.readonly are not applied (they would change the host's mounts)");
    }
    ops.push(...planCreateHooks(spec, inp.id));
    ops.push({ code: Op.PIVOT_ROOT, ints: [2], blobs: [spec.root.path], what: "root.path (chroot, no mount namespace)" });
  }
  for (const [k, v] of Object.entries(spec.linux.sysctl)) {
    ops.push({ code: Op.WRITE_FILE, ints: [0], blobs: [`/proc/sys/${sysctlFile(k)}`, v], what: childPath("linux.sysctl", k) });
  }
  if (hasMountNs) {
    spec.linux.maskedPaths.forEach((m, i) => ops.push({ code: Op.MASK, blobs: [m], what: `linux.maskedPaths[${i}] (${m})` }));
    spec.linux.readonlyPaths.forEach((m, i) => ops.push({ code: Op.READONLY, blobs: [m], what: `linux.readonlyPaths[${i}] (${m})` }));
    if (spec.root.readonly) ops.push({ code: Op.REMOUNT_RO_ROOT, what: "root.readonly" });
  }
  if (spec.hostname !== undefined) ops.push({ code: Op.SETHOSTNAME, blobs: [spec.hostname], what: "hostname" });
  if (spec.domainname !== undefined) ops.push({ code: Op.SETDOMAINNAME, blobs: [spec.domainname], what: "domainname" });
  ops.push(...planProcessSetup(inp));
  return { cloneFlags: ns.cloneFlags, ns, ops };
}

/** Capabilities outside the host's bounding set cannot be granted by anyone: warn and drop them. */
function limitToHost(m: CapMasks, bounding: bigint, warn: (msg: string) => void): CapMasks {
  const missing = (m.bounding | m.effective | m.permitted | m.inheritable | m.ambient) & ~bounding;
  if (missing) {
    const names: string[] = [];
    for (let b = 0; b < 64; b++) if (missing & (1n << BigInt(b))) names.push(capName(b));
    warn(`process.capabilities: ${names.join(", ")} not in this host's bounding set: not granted`);
  }
  return { bounding: m.bounding & bounding, effective: m.effective & bounding, permitted: m.permitted & bounding, inheritable: m.inheritable & bounding, ambient: m.ambient & bounding };
}

/** sysctl.d(5): "net.ipv4.conf.eth0/100.forwarding" is net/ipv4/conf/eth0.100/forwarding; a key in the slash form is already the path. */
function sysctlFile(key: string): string {
  const first = key.search(/[./]/);
  if (first >= 0 && key[first] === "/") return key;
  return key.replace(/[./]/g, (c) => (c === "." ? "/" : "."));
}

/** runc's mapping: only the r-forms are recursive ("unbindable" on every mount would break the binds of masked paths). */
/**
 * prestart and createRuntime run in ocirt (HOOKS_PLS stage 1), createContainer in
 * the container's namespaces by the helper; all after the mounts, before pivot_root.
 * The SYNC also brings the init's host pid, which the helper's hooks report.
 */
function planCreateHooks(spec: Spec, id: string): PlanOp[] {
  const h = spec.hooks;
  const needsPid = h.createContainer.length || h.startContainer.length;
  if (!h.prestart.length && !h.createRuntime.length && !needsPid) return [];
  return [
    { code: Op.SYNC, ints: [Sync.HOOKS_PLS, 1], what: "hooks.prestart / hooks.createRuntime" },
    ...h.createContainer.map((hk, i) => hookOp(spec, id, "createContainer", i, hk, "creating")),
  ];
}

function hookOp(spec: Spec, id: string, stage: string, i: number, h: SpecHook, status: string): PlanOp {
  // the state around its pid, which the helper fills in (runtime.md: state on stdin)
  const before = `{"ociVersion":${JSON.stringify(spec.ociVersion)},"id":${JSON.stringify(id)},"status":"${status}","pid":`;
  const after = `,"bundle":${JSON.stringify(spec.bundle)}${Object.keys(spec.annotations).length ? `,"annotations":${JSON.stringify(spec.annotations)}` : ""}}`;
  return {
    code: Op.RUN_HOOK,
    ints: [h.timeout ?? 0, h.args.length, h.env.length],
    blobs: [h.path, ...h.args, ...h.env, before, after],
    what: `hooks.${stage}[${i}] (${h.path})`,
  };
}

function propagationFlag(p: string): number {
  return PROPAGATION[p] ?? MS.SLAVE | MS.REC;
}

/**
 * The process itself, shared by the container's init and `exec`: oom_score_adj,
 * rlimits, scheduling, seccomp, capabilities, user, cwd, labels, then EXEC.
 */
export function planProcessSetup(inp: Omit<PlanInput, "noPivot" | "cgroupViews">): PlanOp[] {
  const { spec } = inp;
  const p = spec.process;
  const ops: PlanOp[] = [];
  const lsm = planLsm(spec, inp.host.lsm);
  lsm.notes.forEach((n) => inp.debug?.(n));
  if (!inp.noNewKeyring) {
    // as runc: the container's own session keyring, searchable by its user (by uid,
    // or by "other" in a user namespace, where the uid may not map)
    const userns = spec.linux.namespaces.some((n) => n.type === "user");
    ops.push({ code: Op.SESSION_KEYRING, flags: inp.joinKeyringOnly ? 1 : 0, ints: [userns ? 0x8 : 0x80000], blobs: [`_ses.${inp.id}`], what: "process (session keyring; --no-new-keyring keeps the caller's)" });
  }
  if (p.terminal) {
    // a pty of the container's own devpts, owned by the process's user; a session of its own
    const size = p.consoleSize;
    ops.push({ code: Op.CONSOLE, ints: [size?.height ?? 0, size?.width ?? 0, p.user.uid, p.user.gid], what: "process.terminal" });
  } else {
    // as runc, init and exec alike: a session leader
    ops.push({ code: Op.SETSID, what: "process (setsid)" });
  }
  p.rlimits.forEach((r, i) => ops.push({ code: Op.SETRLIMIT, ints: [RLIMIT[r.type]!, r.soft, r.hard], what: `process.rlimits[${i}] (${r.type})` }));
  ops.push(...planProcessAttrs(spec));

  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we
  // still have it. With no_new_privs it waits until just before execve (runc does both).
  const early = inp.seccomp && !p.noNewPrivileges ? inp.seccomp : undefined;
  const late = inp.seccomp && p.noNewPrivileges ? inp.seccomp : undefined;
  if (early) {
    // the filter may refuse getcwd, which the cwd check after setuid relies on:
    // check the same path now, while nothing is filtered
    ops.push({ code: Op.CHDIR, blobs: [p.cwd], what: "process.cwd" });
    ops.push({ code: Op.SECCOMP, ints: [early.flags, early.notify ? 1 : 0], blobs: [early.program], what: "linux.seccomp" });
  }

  const caps = p.capabilities ? limitToHost(capMasks(p.capabilities, inp.host.lastCap, inp.warn), inp.host.bounding, inp.warn) : undefined;
  if (caps) ops.push({ code: Op.CAPS, flags: 1, ints: [caps.bounding, 0, 0, 0, 0], what: "process.capabilities.bounding" });
  ops.push({ code: Op.SETGROUPS, ints: inp.groups, what: "process.user.additionalGids" });
  ops.push({ code: Op.SETUSER, ints: [p.user.uid, p.user.gid], what: "process.user" });
  if (p.user.umask !== undefined) ops.push({ code: Op.UMASK, ints: [p.user.umask], what: "process.user.umask" });
  ops.push({ code: Op.CHDIR, flags: early ? 1 : 0, blobs: [p.cwd], what: "process.cwd" });
  if (caps) {
    ops.push({ code: Op.CAPS, flags: 2, ints: [caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient], what: "process.capabilities" });
  } else if (p.user.uid !== 0) {
    // no capabilities key: a non-root user keeps none, as after any setuid
  }
  if (p.noNewPrivileges) ops.push({ code: Op.NO_NEW_PRIVS, what: "process.noNewPrivileges" });
  ops.push(...lsm.ops);
  const blobs: (string | Buffer)[] = [...p.args, ...inp.env];
  if (late) blobs.push(late.program);
  const exec = (flags: number): PlanOp => ({
    code: Op.EXEC,
    flags,
    ints: [p.args.length, inp.fifoIndex, late?.flags ?? 0, late ? 1 | (late.notify ? 2 : 0) : 0],
    blobs,
    what: `process.args[0] (${p.args[0]})`,
  });
  const startHooks = spec.hooks.startContainer;
  if (startHooks.length) {
    // after start released the init, before the program: between the two halves of EXEC
    ops.push(exec(1), ...startHooks.map((h, i) => hookOp(spec, inp.id, "startContainer", i, h, "created")), exec(2));
  } else {
    ops.push(exec(0));
  }
  return ops;
}

/**
 * process.oomScoreAdj, written by the helper while it is still host root, before
 * any namespace op: in a user namespace its /proc file is not its own to write.
 */
export function planOomScoreAdj(spec: Spec): PlanOp[] {
  const adj = spec.process.oomScoreAdj;
  return adj === undefined ? [] : [{ code: Op.OOM_SCORE_ADJ, ints: [BigInt(adj)], what: "process.oomScoreAdj" }];
}

function timeOffsetLines(spec: Spec): string[] {
  const out: string[] = [];
  for (const [clock, o] of Object.entries(spec.linux.timeOffsets)) {
    if (!o) continue;
    out.push(`${clock === "boottime" ? "boottime" : "monotonic"} ${o.secs} ${o.nanosecs}`);
  }
  return out;
}
