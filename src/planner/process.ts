// The process itself, shared by the container's init and `exec`: session keyring,
// terminal or session, rlimits, scheduling, seccomp, capabilities, user, cwd,
// labels, then EXEC. Pure.
import type { Spec } from "../spec/normalise";
import { Op, type PlanOp } from "../plan/ops";
import type { HostFacts } from "../host";
import { capMasks, type CapMasks } from "../capabilities/sets";
import { capName } from "../capabilities/names";
import { planProcessAttrs } from "../linux/process-attrs";
import { planRlimits } from "../linux/rlimits";
import { planLsm } from "../linux/lsm";
import { planStartHooks } from "./hooks";

export interface ProcessPlanInput {
  spec: Spec;
  /** The container id, for the state hooks receive and the session keyring's name. */
  id: string;
  /** --no-new-keyring: keep the caller's session keyring. */
  noNewKeyring?: boolean | undefined;
  /** `exec`: join the init's session keyring, leaving its permissions (only its owner may set them). */
  joinKeyringOnly?: boolean | undefined;
  /** Extra fd index of exec.fifo (O_PATH); -1: none (exec). */
  fifoIndex: number;
  /** Environment after defaults (HOME) were added. */
  env: string[];
  /** Supplementary groups: process.user.additionalGids. */
  groups: number[];
  seccomp?: { program: Buffer; flags: number; notify: boolean } | undefined;
  host: HostFacts;
  warn: (msg: string) => void;
}

export function planProcessSetup(inp: ProcessPlanInput): PlanOp[] {
  const { spec } = inp;
  const p = spec.process;
  const ops: PlanOp[] = [];
  const lsm = planLsm(spec, inp.host.lsm);
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
  ops.push(...planRlimits(p.rlimits));
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

  // no capabilities key: no capabilities at all, bounding set included, as runc
  // (its init applies the empty lists it then has)
  const caps = p.capabilities ? limitToHost(capMasks(p.capabilities, inp.host.lastCap, inp.warn), inp.host.bounding, inp.warn) : NO_CAPS;
  ops.push({ code: Op.CAPS, flags: 1, ints: [caps.bounding, 0, 0, 0, 0], what: "process.capabilities.bounding" });
  ops.push({ code: Op.SETGROUPS, ints: inp.groups, what: "process.user.additionalGids" });
  ops.push({ code: Op.SETUSER, ints: [p.user.uid, p.user.gid], what: "process.user" });
  if (p.user.umask !== undefined) ops.push({ code: Op.UMASK, ints: [p.user.umask], what: "process.user.umask" });
  ops.push({ code: Op.CHDIR, flags: early ? 1 : 0, blobs: [p.cwd], what: "process.cwd" });
  ops.push({ code: Op.CAPS, flags: 2, ints: [caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient], what: "process.capabilities" });
  if (p.noNewPrivileges) ops.push({ code: Op.NO_NEW_PRIVS, what: "process.noNewPrivileges" });
  ops.push(...lsm);
  const blobs: (string | Buffer)[] = [...p.args, ...inp.env];
  if (late) blobs.push(late.program);
  const exec = (flags: number): PlanOp => ({
    code: Op.EXEC,
    flags,
    ints: [p.args.length, inp.fifoIndex, late?.flags ?? 0, late ? 1 | (late.notify ? 2 : 0) : 0],
    blobs,
    what: `process.args[0] (${p.args[0]})`,
  });
  // the init's only (fifoIndex >= 0): an exec'd process runs no startContainer hooks
  const startHooks = inp.fifoIndex >= 0 ? planStartHooks(spec, inp.id, inp.env) : [];
  // after start released the init, before the program: between the two halves of EXEC
  if (startHooks.length) ops.push(exec(1), ...startHooks, exec(2));
  else ops.push(exec(0));
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

const NO_CAPS: CapMasks = { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n };

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
