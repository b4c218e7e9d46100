// The five capability sets of process.capabilities as bit masks. As runc does, a
// name this kernel/ocirt does not know is ignored with a warning rather than fatal,
// so configs written for newer kernels still run.
import { capNumber } from "./names";
import type { SpecCapabilities } from "../spec/normalise";

export interface CapMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export function capMasks(caps: SpecCapabilities, lastCap: number, warn: (msg: string) => void): CapMasks {
  const mask = (field: keyof SpecCapabilities): bigint => {
    let m = 0n;
    for (const name of caps[field]) {
      const n = capNumber(name);
      if (n === undefined || n > lastCap) {
        warn(`process.capabilities.${field}: unknown or unsupported capability ${JSON.stringify(name)} ignored`);
        continue;
      }
      m |= 1n << BigInt(n);
    }
    return m;
  };
  return { bounding: mask("bounding"), effective: mask("effective"), permitted: mask("permitted"), inheritable: mask("inheritable"), ambient: mask("ambient") };
}
