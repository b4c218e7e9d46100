// The modules the main bundle, dist/ocirt-create.js, dist/ocirt-commands.js and dist/ocirt-cgroup.js
// share. The other bundles are built with these mapped to globalThis.__ocirtShared (scripts/build.mjs),
// so all see one instance of each: one error class hierarchy, one log, one store.
import * as errors from "./errors";
import * as log from "./log";
import * as io from "./io";
import * as native from "./native";
import * as state from "./state";
import * as version from "./version";
import * as generated from "./generated";
import * as status from "./lifecycle/status";
import * as profile from "./profile";
import * as attachHeadStart from "./linux/cgroups/attach-head-start";

// node:fs and node:path as the bundles see them (src/fs.ts, path-browserify under Bun: the build
// maps them), made once: their set-up is ~0.2 ms of every start
const fs = require("./fs") as typeof import("node:fs");
const path = require("node:path") as typeof import("node:path");

// attach-head-start: the host create's first head start probed (main.ts) is the one create uses
export const SHARED = { errors, log, io, native, state, version, generated, "lifecycle/status": status, profile, "linux/cgroups/attach-head-start": attachHeadStart, fs, "node:path": path };

export function publishShared(): void {
  (globalThis as { __ocirtShared?: unknown }).__ocirtShared = SHARED;
}
