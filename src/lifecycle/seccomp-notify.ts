// Hands the seccomp notify fd to the agent at linux.seccomp.listenerPath.
import type { Spec } from "../spec/normalise";
import { NotImplementedError } from "../errors";

export async function sendSeccompListener(_spec: Spec, _fd: number, _pid: number): Promise<void> {
  throw new NotImplementedError("linux.seccomp.listenerPath");
}
