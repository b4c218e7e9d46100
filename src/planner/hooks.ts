// The hooks the init helper runs itself (createContainer, startContainer), and the
// sync point where ocirt runs prestart and createRuntime. Pure.
import type { Spec, SpecHook } from "../spec/normalise";
import { Op, Sync, type PlanOp } from "../plan/ops";
import { dedupeEnv } from "./env";

/**
 * prestart and createRuntime run in ocirt (HOOKS_PLS stage 1), createContainer in
 * the container's namespaces by the helper; all after the mounts, before pivot_root.
 * The SYNC also brings the init's host pid, which the helper's hooks report.
 */
export function planCreateHooks(spec: Spec, id: string): PlanOp[] {
  const h = spec.hooks;
  const needsPid = h.createContainer.length || h.startContainer.length;
  if (!h.prestart.length && !h.createRuntime.length && !needsPid) return [];
  // a hook without env gets the environment its runner has: in runc's init that is
  // process.env as set so far (HOME is only added with the user, later)
  const env = dedupeEnv(spec.process.env);
  return [
    { code: Op.SYNC, ints: [Sync.HOOKS_PLS, 1], what: "hooks.prestart / hooks.createRuntime" },
    ...h.createContainer.map((hk, i) => hookOp(spec, id, "createContainer", i, hk, "creating", env)),
  ];
}

/**
 * startContainer: run by the helper after start released it, before the program.
 * `env` is the program's (with HOME): what runc's init has by then, for hooks without env.
 */
export function planStartHooks(spec: Spec, id: string, env: readonly string[]): PlanOp[] {
  return spec.hooks.startContainer.map((h, i) => hookOp(spec, id, "startContainer", i, h, "created", env));
}

function hookOp(spec: Spec, id: string, stage: string, i: number, h: SpecHook, status: string, inherited: readonly string[]): PlanOp {
  // the state around its pid, which the helper fills in (runtime.md: state on stdin)
  const before = `{"ociVersion":${JSON.stringify(spec.ociVersion)},"id":${JSON.stringify(id)},"status":"${status}","pid":`;
  const after = `,"bundle":${JSON.stringify(spec.bundle)}${Object.keys(spec.annotations).length ? `,"annotations":${JSON.stringify(spec.annotations)}` : ""}}`;
  const env = h.env ?? inherited;
  return {
    code: Op.RUN_HOOK,
    ints: [h.timeout ?? 0, h.args.length, env.length],
    blobs: [h.path, ...h.args, ...env, before, after],
    what: `hooks.${stage}[${i}] (${h.path})`,
  };
}
