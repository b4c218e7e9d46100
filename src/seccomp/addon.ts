// The compiler half that lives in the addon (addon/seccomp/compile.cc).
import { HostError } from "../errors";
import { native } from "../native";
import { INPUT_VERSION } from "./encode";

export interface SeccompAddon {
  /** Compiler input (encode.ts) -> struct sock_filter[] bytes. Throws an Error with a one-line message. */
  compileSeccomp(input: Buffer): Buffer;
  seccompInputVersion: number;
}

let checked: SeccompAddon | undefined;

export function seccompAddon(): SeccompAddon {
  if (checked) return checked;
  const n = native() as unknown as Partial<SeccompAddon>;
  if (typeof n.compileSeccomp !== "function" || n.seccompInputVersion !== INPUT_VERSION) {
    throw new HostError("the ocirt addon's seccomp compiler is missing or out of date (run 'npm run build')");
  }
  return (checked = n as SeccompAddon);
}
