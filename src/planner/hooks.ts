// The hooks the init helper runs itself (createContainer, startContainer), and the
// sync point where ocirt runs prestart and createRuntime. Pure.
import type { Spec, SpecHook } from "../spec/normalise";
import { Op, Sync, type PlanOp } from "../plan/ops";

/**
 * prestart and createRuntime run in ocirt (HOOKS_PLS stage 1), createContainer in
 * the container's namespaces by the helper; all after the mounts, before pivot_root.
 * The SYNC also brings the init's host pid, which the helper's hooks report.
 */
export function planCreateHooks(spec: Spec, id: string): PlanOp[] {
  const h = spec.hooks;
  const needsPid = h.createContainer.length || h.startContainer.length;
  if (!h.prestart.length && !h.createRuntime.length && !needsPid) return [];
  return [
    { code: Op.SYNC, ints: [Sync.HOOKS_PLS, 1], what: "hooks.prestart / hooks.createRuntime" },
    ...h.createContainer.map((hk, i) => hookOp(spec, id, "createContainer", i, hk, "creating")),
  ];
}

/** startContainer: run by the helper after start released it, before the program. */
export function planStartHooks(spec: Spec, id: string): PlanOp[] {
  return spec.hooks.startContainer.map((h, i) => hookOp(spec, id, "startContainer", i, h, "created"));
}

function hookOp(spec: Spec, id: string, stage: string, i: number, h: SpecHook, status: string): PlanOp {
  // the state around its pid, which the helper fills in (runtime.md: state on stdin)
  const before = `{"ociVersion":${JSON.stringify(spec.ociVersion)},"id":${JSON.stringify(id)},"status":"${status}","pid":`;
  const after = `,"bundle":${JSON.stringify(spec.bundle)}${Object.keys(spec.annotations).length ? `,"annotations":${JSON.stringify(spec.annotations)}` : ""}}`;
  return {
    code: Op.RUN_HOOK,
    ints: [h.timeout ?? 0, h.args.length, h.env?.length ?? 0],
    blobs: [h.path, ...h.args, ...(h.env ?? []), before, after],
    what: `hooks.${stage}[${i}] (${h.path})`,
  };
}
