// Compiles linux.seccomp for the plan: in the parent, cached by the profile's hash.
import type { Spec } from "../spec/normalise";
import { compileSeccomp } from "../seccomp";

export function compileContainerSeccomp(spec: Spec): { program: Buffer; flags: number; notify: boolean } | undefined {
  const raw = spec.config.linux?.seccomp;
  if (!raw) return undefined;
  const c = compileSeccomp(raw as never);
  return c ? { program: c.program, flags: c.flags, notify: c.notify } : undefined;
}
