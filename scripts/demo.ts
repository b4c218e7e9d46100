// `npm run demo`: builds the demo bundle (busybox when the host has busybox-static,
// the project's probe otherwise) under build/demo and runs it with ocirt.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { busyboxAvailable, ensureBusyboxRootfs, ensureProbeRootfs } from "../conformance/rootfs";
import { defaultSpec } from "../src/spec/default";

const repo = join(__dirname, "..");
const bundle = join(repo, "build", "demo");
mkdirSync(bundle, { recursive: true });
const cfg = defaultSpec({ rootless: false });
const busybox = busyboxAvailable();
cfg.root = { path: busybox ? ensureBusyboxRootfs() : ensureProbeRootfs(), readonly: true };
cfg.hostname = "ocirt-demo";
cfg.process!.terminal = false;
cfg.process!.args = busybox
  ? ["/bin/sh", "-c", "echo \"hello from a container run by ocirt\"; echo; echo \"hostname: $(hostname)\"; echo \"user:     $(id)\"; echo \"pid:      $$\"; echo; echo 'mounts:'; cat /proc/self/mounts"]
  : ["/bin/probe", "report"];
writeFileSync(join(bundle, "config.json"), JSON.stringify(cfg, null, 2));
const id = `demo-${process.pid}`;
console.log(`$ ocirt run -b ${bundle} ${id}\n`);
const r = spawnSync(join(repo, "bin", "ocirt"), ["run", "-b", bundle, id], { stdio: "inherit" });
process.exit(r.status ?? 1);
