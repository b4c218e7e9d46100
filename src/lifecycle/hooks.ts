// OCI hooks run by ocirt itself (runtime namespace): prestart and createRuntime
// during create, poststart after start, poststop at delete. createContainer and
// startContainer run inside the container and are ops of the init helper.
// Each hook gets the container's state on stdin (runtime.md "Lifecycle").
import type { SpecHook } from "../spec/normalise";
import { SetupError } from "../errors";
import { log } from "../log";
import type { ContainerRecord } from "../state";
import { strerror } from "./errno";
import { readdirSync, readFileSync } from "node:fs";
import { native } from "../native";

export type HookStage = "prestart" | "createRuntime" | "createContainer" | "startContainer" | "poststart" | "poststop";

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export interface HookRunOptions {
  /**
   * The hooks' working directory. runc runs create's hooks (prestart, createRuntime,
   * and poststart, which it runs there too) from the bundle it chdir'ed into, and
   * delete's poststop from wherever delete was called (undefined: ours).
   */
  cwd?: string | undefined;
}

/** Runs the hooks of one stage in order; the first failure throws, naming the hook. */
export function runHooks(stage: HookStage, hooks: SpecHook[], state: HookState, opts: HookRunOptions = {}): void {
  if (!hooks.length) return;
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  hooks.forEach((h, i) => {
    const where = `hooks.${stage}[${i}] (${h.path})`;
    // a hook with a timeout: we become the subreaper of whatever it starts, so that
    // when the timeout kills it, its children come to us and die with it (a shell
    // hook's children were left running); the hook stays in our process group
    const before = h.timeout ? ownChildren() : undefined;
    if (before) native().setChildSubreaper(1);
    const r = spawnSync(h.path, h.args.slice(1), {
      argv0: h.args[0] ?? h.path,
      cwd: opts.cwd,
      input: JSON.stringify(state),
      // no env in the config: the runtime's own, as runc's hooks get it
      env: h.env ? Object.fromEntries(h.env.map((e) => [e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("=")), e.slice(e.indexOf("=") + 1)])) : process.env,
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      killSignal: "SIGKILL",
      stdio: ["pipe", "pipe", "pipe"],
      maxBuffer: 1 << 20,
    });
    if (before && (r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT") killOrphans(before);
    const err = r.stderr?.toString().trim().split("\n").pop() ?? "";
    // a hook that exits without reading its stdin is no failure (Go ignores EPIPE there too)
    if (r.error && !((r.error as NodeJS.ErrnoException).code === "EPIPE" && (r.status !== null || r.signal !== null))) {
      const e = r.error as NodeJS.ErrnoException;
      if (e.code === "ETIMEDOUT") throw new SetupError(`timed out after ${h.timeout} s`, undefined, { where });
      // as Go's os/exec words it: "fork/exec <path>: no such file or directory"
      throw new SetupError(`fork/exec ${h.path}: ${typeof e.errno === "number" ? strerror(-e.errno) : e.message}`, undefined, { where });
    }
    if (r.signal) throw new SetupError(`killed by ${r.signal}${err ? `: ${err}` : ""}`, undefined, { where });
    if (r.status !== 0) throw new SetupError(`exit status ${r.status}${err ? `: ${err}` : ""}`, undefined, { where });
  });
}

/** Our children (/proc/self/task/<tid>/children of every thread; a walk of /proc without them). */
function ownChildren(): Set<number> {
  const out = new Set<number>();
  try {
    for (const t of readdirSync(`/proc/${process.pid}/task`)) {
      for (const c of readFileSync(`/proc/${process.pid}/task/${t}/children`, "latin1").split(" ")) if (c) out.add(Number(c));
    }
    return out;
  } catch { /* a kernel without CONFIG_PROC_CHILDREN */ }
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "latin1");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid) out.add(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

/**
 * SIGKILLs and reaps our children that were not there before the hook ran: the
 * orphans of a hook killed on its timeout, handed to us as subreaper. Their own
 * children come to us as they die, so until none is left.
 */
function killOrphans(before: Set<number>): void {
  const n = native();
  for (let round = 0; round < 100; round++) {
    const orphans = [...ownChildren()].filter((p) => !before.has(p));
    if (!orphans.length) return;
    for (const p of orphans) {
      try { n.kill(p, 9); } catch { /* gone */ }
      try { n.waitpid(p, 0); } catch { /* reaped */ }
    }
  }
}

/** poststop: a failure is a warning and the rest still run (runtime.md "Lifecycle" step 13). */
export function runHooksWarn(stage: HookStage, hooks: SpecHook[], state: HookState, opts: HookRunOptions = {}): void {
  for (let i = 0; i < hooks.length; i++) {
    try {
      runHooks(stage, [hooks[i]!], state, opts);
    } catch (err) {
      log.warn(`hooks.${stage}[${i}] (${hooks[i]!.path}): ${(err as SetupError).message}`);
    }
  }
}

/** The hooks create saved in state.json (poststart, poststop). */
export function savedHooks(rec: ContainerRecord, stage: "poststart" | "poststop"): SpecHook[] {
  const h = rec.runtime?.["hooks"] as Partial<Record<string, SpecHook[]>> | undefined;
  return h?.[stage] ?? [];
}

/**
 * The state a hook reads on stdin, as runc's: no pid once the container stopped
 * (poststop), no annotations when the config has none.
 */
export function hookState(o: { ociVersion: string; id: string; status: string; pid?: number | undefined; bundle: string; annotations?: Record<string, string> | undefined }): HookState {
  return {
    ociVersion: o.ociVersion,
    id: o.id,
    status: o.status,
    ...(o.status !== "stopped" && o.pid ? { pid: o.pid } : {}),
    bundle: o.bundle,
    ...(o.annotations && Object.keys(o.annotations).length ? { annotations: o.annotations } : {}),
  };
}

export function stateOf(rec: ContainerRecord, status: string): HookState {
  return hookState({ ...rec, status });
}
