// The benchmark's bundles: config.json only, root.path pointing at the shared,
// read-only probe rootfs (conformance/rootfs.ts), as the integration harness does.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureProbeRootfs } from "../conformance/rootfs";
import { defaultSpec } from "../src/spec/default";
import type { OciConfig } from "../src/spec/types";

export type BundleKind = "plain" | "userns" | "seccomp" | "sleep";

export const SECCOMP_FIXTURE = join(__dirname, "..", "..", "shared", "fixtures", "docker-default-seccomp.json");

/** Host ids the user-namespace container's 0..65535 map to (as a typical subuid range). */
export const USERNS_HOST_BASE = 100_000;

/**
 * Pure: runc's `spec` config running `/bin/probe exit 0`, readonly root, no
 * terminal; with a user namespace or Docker's default seccomp profile on request.
 */
export function planConfig(kind: BundleKind, rootfs: string, seccomp?: unknown): OciConfig {
  const cfg = defaultSpec({ rootless: false });
  cfg.root = { path: rootfs, readonly: true };
  cfg.process!.terminal = false;
  cfg.process!.args = kind === "sleep" ? ["/bin/probe", "sleep", "inf"] : ["/bin/probe", "exit", "0"];
  if (kind === "userns") {
    cfg.linux!.namespaces!.push({ type: "user" });
    cfg.linux!.uidMappings = [{ containerID: 0, hostID: USERNS_HOST_BASE, size: 65536 }];
    cfg.linux!.gidMappings = [{ containerID: 0, hostID: USERNS_HOST_BASE, size: 65536 }];
  }
  if (kind === "seccomp") cfg.linux!.seccomp = seccomp as NonNullable<OciConfig["linux"]>["seccomp"];
  return cfg;
}

/** The Docker default profile, or null when the fixture is absent. */
export function loadSeccompFixture(): unknown | null {
  if (!existsSync(SECCOMP_FIXTURE)) return null;
  return JSON.parse(readFileSync(SECCOMP_FIXTURE, "utf8"));
}

/** Writes <dir>/<kind>/config.json and returns the bundle path. */
export function writeBundle(dir: string, kind: BundleKind, seccomp?: unknown): string {
  const b = join(dir, `bundle-${kind}`);
  mkdirSync(b, { recursive: true });
  writeFileSync(join(b, "config.json"), JSON.stringify(planConfig(kind, ensureProbeRootfs(), seccomp), null, 2));
  return b;
}
