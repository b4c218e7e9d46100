// Compiles linux.seccomp for the plan: in the parent, cached by the profile's hash.
import type { Spec } from "../spec/normalise";
import { compileSeccomp } from "../seccomp";
import { log } from "../log";

export function compileContainerSeccomp(spec: Spec): { program: Buffer; flags: number; notify: boolean } | undefined {
  if (!spec.linux.seccomp) return undefined;
  // the normalised profile keeps uint64 argument values exact
  const c = compileSeccomp(spec.linux.seccomp as never);
  if (!c) return undefined;
  log.debug(`seccomp filter flags: ${c.flags}`, { instructions: c.length, source: c.source });
  return { program: c.program, flags: c.flags, notify: c.notify };
}
