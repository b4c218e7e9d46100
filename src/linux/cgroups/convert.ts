// The spec was designed around cgroup v1; these are runc's conversions of its
// values for cgroup v2, kept bit-for-bit so both runtimes produce the same files.
import { ConfigError } from "../../errors";
import type { Int } from "./types";

export const INT64_MAX = (1n << 63n) - 1n;
export const UINT64_MAX = (1n << 64n) - 1n;

/**
 * An int64 field as bigint. JSON numbers above 2^53 arrive rounded (2^63-1
 * becomes 2^63), so anything at or past 2^63 is taken to mean int64 max.
 */
export function int64(v: Int): bigint {
  const b = typeof v === "bigint" ? v : BigInt(Math.trunc(v));
  return b > INT64_MAX ? INT64_MAX : b;
}

export function uint64(v: Int): bigint {
  const b = typeof v === "bigint" ? v : BigInt(Math.trunc(v));
  if (b < 0n) return 0n;
  return b > UINT64_MAX ? UINT64_MAX : b;
}

/**
 * cgroup v1 cpu.shares [2, 262144] (default 1024) -> cgroup v2 cpu.weight
 * [1, 10000] (default 100): runc's quadratic fit through min, max and default.
 */
export function cpuSharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  if (shares <= 2n) return 1n;
  if (shares >= 262144n) return 10000n;
  const l = Math.log2(Number(shares));
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return BigInt(Math.ceil(Math.pow(10, exponent)));
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000], linearly. */
export function blkioWeightToIoWeight(weight: bigint): bigint {
  if (weight === 0n) return 0n;
  return 1n + ((weight - 10n) * 9999n) / 990n;
}

/**
 * The spec's memory.swap is memory+swap (v1 memsw); v2's memory.swap.max is
 * swap alone. runc's ConvertMemorySwapToCgroupV2Value.
 */
export function memorySwapToV2(swap: bigint, memory: bigint): bigint {
  if (memory === -1n && swap === 0n) return -1n;
  if (swap === -1n || swap === 0n) return swap;
  if (memory === -1n) return swap;
  const where = "linux.resources.memory.swap";
  if (memory === 0n) throw new ConfigError("unable to set swap limit without memory limit", [], { where });
  if (memory < 0n) throw new ConfigError(`invalid memory value: ${memory}`, [], { where: "linux.resources.memory.limit" });
  if (swap < memory) throw new ConfigError("memory+swap limit should be >= memory limit", [], { where });
  return swap - memory;
}

/** v2 values: -1 means "max", 0 means unset (""). */
export function v2Limit(v: bigint): string {
  if (v === 0n) return "";
  if (v === -1n) return "max";
  return v.toString();
}
