// The `options` of a task: runc's shim options (containerd.runc.v1.Options, what ctr
// and containerd's runtime config send for runc-like runtimes) with the fields that
// apply to ocirt; the per-task containerd.linux.runc.CreateOptions the client sends
// any other runtime for --no-pivot and the I/O owner; the generic
// runtimeoptions.v1.Options (a config file path, flat TOML of runc's option names)
// that the CRI plugin and `ctr --runtime-config-path` send; nothing. What the shim used is saved in the
// bundle, so that `delete` after a shim crash finds the container's state.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Any } from "./gen/google/protobuf/any";
import { Options as RuncOptions } from "./gen/runc_options";
import { Options as RuntimeOptions } from "./gen/runtime_options";
import { CreateOptions } from "./gen/runc_create_options";

export const RUNC_OPTIONS_URL = "containerd.runc.v1.Options";
export const RUNTIME_OPTIONS_URL = "runtimeoptions.v1.Options";
export const CREATE_OPTIONS_URL = "containerd.linux.runc.CreateOptions";
/** Where containers' state lives by default: <this>/<namespace>/<id>, as runc's shim uses /run/containerd/runc. */
export const DEFAULT_ROOT = "/run/containerd/ocirt";

export interface ShimOptions {
  /** the state root of this namespace's containers (ocirt --root) */
  root: string;
  systemdCgroup: boolean;
  noPivotRoot: boolean;
  noNewKeyring: boolean;
  ioUid: number;
  ioGid: number;
  shimCgroup: string;
  /** the criu binary (CriuPath; default criu on PATH) */
  criuPath: string;
  /** where a restore keeps criu's work files and log (CriuWorkPath; default the image's directory) */
  criuWorkPath: string;
  /** fields given that ocirt does not use (BinaryName, CriuImagePath), for the log */
  ignored: string[];
}

function typeName(url: string): string {
  // a type URL may carry a host prefix (type.googleapis.com/...)
  return url.slice(url.lastIndexOf("/") + 1);
}

/** A flat TOML file of runc option names (`SystemdCgroup = true`), as a CRI config_path points at. */
export function parseOptionsToml(text: string): Partial<RuncOptions> {
  const out: Record<string, unknown> = {};
  const names: Record<string, keyof RuncOptions> = {
    noPivotRoot: "noPivotRoot", noNewKeyring: "noNewKeyring", shimCgroup: "shimCgroup", ioUid: "ioUid", ioGid: "ioGid",
    binaryName: "binaryName", root: "root", criuPath: "criuPath", systemdCgroup: "systemdCgroup",
  };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const m = /^([A-Za-z_]+)\s*=\s*(.+)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const name = names[key.charAt(0).toLowerCase() + key.slice(1)];
    if (!name) continue;
    const v = m[2]!.trim();
    out[name] = v === "true" ? true : v === "false" ? false : /^\d+$/.test(v) ? Number(v) : v.replace(/^["']|["']$/g, "");
  }
  return out as Partial<RuncOptions>;
}

export function decodeOptions(any: Any | undefined, namespace: string): ShimOptions {
  let o: Partial<RuncOptions> = {};
  if (any && any.typeUrl) {
    const name = typeName(any.typeUrl);
    if (name === RUNC_OPTIONS_URL) o = RuncOptions.decode(any.value);
    else if (name === CREATE_OPTIONS_URL) {
      const c = CreateOptions.decode(any.value);
      o = { noPivotRoot: c.noPivotRoot, noNewKeyring: c.noNewKeyring, shimCgroup: c.shimCgroup, ioUid: c.ioUid, ioGid: c.ioGid };
    } else if (name === RUNTIME_OPTIONS_URL) {
      const ro = RuntimeOptions.decode(any.value);
      if (ro.configPath) o = parseOptionsToml(readFileSync(ro.configPath, "utf8"));
    } else throw new Error(`unsupported options type ${any.typeUrl} (ocirt's shim takes ${RUNC_OPTIONS_URL})`);
  }
  const ignored: string[] = [];
  if (o.binaryName) ignored.push("BinaryName");
  if (o.criuImagePath) ignored.push("CriuImagePath");
  return {
    root: join(o.root || DEFAULT_ROOT, namespace),
    systemdCgroup: !!o.systemdCgroup,
    noPivotRoot: !!o.noPivotRoot,
    noNewKeyring: !!o.noNewKeyring,
    ioUid: o.ioUid ?? 0,
    ioGid: o.ioGid ?? 0,
    shimCgroup: o.shimCgroup ?? "",
    criuPath: o.criuPath || "criu",
    criuWorkPath: o.criuWorkPath ?? "",
    ignored,
  };
}

const SAVED = "ocirt-shim.json";

export interface SavedState {
  root: string;
  rootfsMounted: boolean;
}

export function saveState(bundle: string, s: SavedState): void {
  const tmp = join(bundle, `.${SAVED}`);
  writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
  renameSync(tmp, join(bundle, SAVED));
}

export function readSavedState(bundle: string): SavedState | undefined {
  try {
    return JSON.parse(readFileSync(join(bundle, SAVED), "utf8")) as SavedState;
  } catch {
    return undefined;
  }
}
