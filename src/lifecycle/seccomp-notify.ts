// Hands the seccomp notify fd to the agent listening at linux.seccomp.listenerPath,
// with the container process state as the spec describes it (runtime.md).
import type { Spec } from "../spec/normalise";
import { SetupError } from "../errors";
import { native } from "../native";

export async function sendSeccompListener(spec: Spec, fd: number, pid: number, id: string): Promise<void> {
  const seccomp = spec.linux.seccomp;
  if (!seccomp?.listenerPath) throw new SetupError("an SCMP_ACT_NOTIFY rule needs linux.seccomp.listenerPath", undefined, { where: "linux.seccomp.listenerPath" });
  const state = {
    ociVersion: spec.ociVersion,
    fds: ["seccompFd"],
    pid,
    metadata: seccomp.listenerMetadata ?? "",
    state: { ociVersion: spec.ociVersion, id, status: "creating", pid, bundle: spec.bundle, annotations: spec.annotations },
  };
  try {
    native().sendFdTo(seccomp.listenerPath, Buffer.from(JSON.stringify(state)), fd);
  } catch (err) {
    throw new SetupError(`sending the seccomp notify fd to ${seccomp.listenerPath}: ${(err as Error).message}`, undefined, { where: "linux.seccomp.listenerPath", cause: err });
  }
}
