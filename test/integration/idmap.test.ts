// Idmapped mounts (runtime-spec 1.2: mounts[].uidMappings/gidMappings, idmap and
// ridmap): the owners a container sees through them, with and without a user
// namespace of its own, for binds (one mount or recursively) and new tmpfs mounts,
// and the kernel's refusals on one line. As root; busybox's stat shows the owners.
import { hostSuite, testIf } from "../skip";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { chownSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, type Sandbox } from "./harness";
import { assertNoHostMountUnder, createFails, run } from "./util";
import type { IDMapping, OciConfig } from "../../src/spec/types";

const kernelHasIdmap = (() => {
  const [maj, min] = (spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout ?? "0.0").split(".").map(Number);
  return maj! > 5 || (maj === 5 && min! >= 12);
})();

const t = hostSuite<{ sb: Sandbox }>("idmap", process.getuid?.() !== 0 ? "needs root (real containers)" : !kernelHasIdmap ? "the kernel has no mount_setattr (Linux 5.12 or later)" : null);
t.before((ctx) => {
  ctx.sb = sandbox("idmap");
});
t.after.each((ctx) => assertNoHostMountUnder(ctx.sb.dir));
t.after((ctx) => ctx.sb.cleanup());

const M5000: IDMapping[] = [{ containerID: 0, hostID: 5000, size: 100 }];
const C300K: IDMapping[] = [{ containerID: 0, hostID: 300000, size: 65536 }];

let seq = 0;
/** A host directory with f (owned 7:7) and far (owned 200:200, outside a 100-id mapping). */
function source(sb: Sandbox): string {
  const d = join(sb.dir, `src-${++seq}`);
  mkdirSync(d);
  writeFileSync(join(d, "f"), "f\n");
  chownSync(join(d, "f"), 7, 7);
  writeFileSync(join(d, "far"), "far\n");
  chownSync(join(d, "far"), 200, 200);
  return d;
}

function withUserns(c: OciConfig): void {
  c.linux!.namespaces!.push({ type: "user" });
  c.linux!.uidMappings = C300K;
  c.linux!.gidMappings = C300K;
  // the host's cgroup hierarchies cannot be mounted fresh without a cgroup namespace
  c.mounts = c.mounts!.filter((m) => m.type !== "cgroup");
}

/** busybox runs sh -c script in the container; its stdout (run must succeed). */
function sh(sb: Sandbox, script: string, patch: (c: OciConfig) => void): string {
  const r = run(sb, (c) => {
    c.process!.args = ["/bin/sh", "-c", script];
    patch(c);
  }, { busybox: true });
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

t("a bind with its own mappings, no user namespace: the container sees the mapped owners", ({ sb }) => {
  const src = source(sb);
  const out = sh(sb, "stat -c '%u:%g %n' /mnt/f /mnt/far; grep ' /mnt ' /proc/self/mountinfo", (c) => {
    c.mounts!.push({ destination: "/mnt", type: "bind", source: src, options: ["rbind", "ro", "idmap"], uidMappings: M5000, gidMappings: M5000 });
  });
  const lines = out.trim().split("\n");
  assert.is(lines[0], "5007:5007 /mnt/f", "on-disk 7 shows as 5000 + 7");
  assert.is(lines[1], "65534:65534 /mnt/far", "an id outside the mapping shows as the overflow id");
  assert.match(lines[2]!, /\bro\b.*\bidmapped\b/, "mounted read-only and idmapped");
  // the host's files are untouched
  assert.is(statSync(join(src, "f")).uid, 7);
});

t("idmap without mappings on the mount takes the container's user namespace: its root owns what host root owns", ({ sb }) => {
  const src = source(sb);
  const out = sh(sb, "id -u; stat -c '%u:%g %n' /mnt/f /mnt; touch /mnt/made-inside && stat -c '%u:%g %n' /mnt/made-inside", (c) => {
    withUserns(c);
    c.mounts!.push({ destination: "/mnt", type: "bind", source: src, options: ["rbind", "idmap"] });
  });
  assert.equal(out.trim().split("\n"), ["0", "7:7 /mnt/f", "0:0 /mnt", "0:0 /mnt/made-inside"]);
  // written through the mapping: on disk it is host root's, not 300000's
  const st = statSync(join(src, "made-inside"));
  assert.equal([st.uid, st.gid], [0, 0]);
});

t("the mount's own mappings win over the container's user namespace", ({ sb }) => {
  const src = source(sb);
  const own: IDMapping[] = [{ containerID: 7, hostID: 300042, size: 1 }];
  const out = sh(sb, "stat -c '%u %n' /mnt/f", (c) => {
    withUserns(c);
    c.mounts!.push({ destination: "/mnt", type: "bind", source: src, options: ["bind", "idmap"], uidMappings: own, gidMappings: own });
  });
  assert.is(out.trim(), "42 /mnt/f", "on-disk 7 -> host 300042 -> 42 in the container");
});

t("rbind: idmap maps the top mount only, ridmap the submounts too", ({ sb }) => {
  const src = source(sb);
  const sub = join(src, "sub");
  mkdirSync(sub);
  spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "ocitest-idmap-sub", sub]);
  try {
    writeFileSync(join(sub, "g"), "g\n");
    chownSync(join(sub, "g"), 9, 9);
    const look = (opt: string) =>
      sh(sb, "stat -c '%u %n' /mnt/f /mnt/sub/g", (c) => c.mounts!.push({ destination: "/mnt", type: "bind", source: src, options: ["rbind", opt], uidMappings: M5000, gidMappings: M5000 })).trim().split("\n");
    assert.equal(look("idmap"), ["5007 /mnt/f", "9 /mnt/sub/g"]);
    assert.equal(look("ridmap"), ["5007 /mnt/f", "5009 /mnt/sub/g"]);
  } finally {
    spawnSync("umount", ["-l", sub]);
  }
});

t("a new tmpfs, idmapped: its root shows as the mapped owner; with the container's mapping, what root makes is root's", ({ sb }) => {
  const own = sh(sb, "stat -c '%u:%g %a' /mnt; grep ' /mnt ' /proc/self/mountinfo", (c) => {
    c.mounts!.push({ destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["idmap", "mode=750", "size=1m"], uidMappings: M5000, gidMappings: M5000 });
  }).trim().split("\n");
  assert.is(own[0], "5000:5000 750");
  assert.match(own[1]!, /\bidmapped\b.* - tmpfs tmpfs .*size=1024k/);
  const inNs = sh(sb, "touch /mnt/x && stat -c '%u:%g' /mnt/x /mnt", (c) => {
    withUserns(c);
    c.mounts!.push({ destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["ridmap"] });
  });
  assert.equal(inNs.trim().split("\n"), ["0:0", "0:0"]);
});

t("overlay: idmapped where the kernel can, else refused in one line that says so", ({ sb }) => {
  const base = join(sb.dir, `ov-${++seq}`);
  for (const d of ["lower", "upper", "work"]) mkdirSync(join(base, d), { recursive: true });
  writeFileSync(join(base, "lower", "f"), "f\n");
  chownSync(join(base, "lower", "f"), 7, 7);
  const overlay = (c: OciConfig) => c.mounts!.push({
    destination: "/mnt", type: "overlay", source: "overlay",
    options: [`lowerdir=${base}/lower`, `upperdir=${base}/upper`, `workdir=${base}/work`, "idmap"], uidMappings: M5000, gidMappings: M5000,
  });
  const r = run(sb, (c) => {
    c.process!.args = ["/bin/stat", "-c", "%u", "/mnt/f"];
    overlay(c);
  }, { busybox: true });
  if (r.status === 0) {
    assert.is(r.stdout.trim(), "5007", "this kernel idmaps overlay mounts");
  } else {
    const line = createFails(sb, overlay, { busybox: true });
    assert.match(line, /^mounts\[7\] \(\/mnt\) \(idmapped\): idmapping overlay: the kernel cannot idmap this mount \(its file system type does not support idmapped mounts, or the mapping is the file system's own\): invalid argument \(EINVAL\)$/);
  }
});

t("refused before anything is made: idmap with no mapping and no user namespace; uidMappings without gidMappings", ({ sb }) => {
  const none = createFails(sb, (c) => c.mounts!.push({ destination: "/mnt", type: "bind", source: "/tmp", options: ["rbind", "idmap"] }), { busybox: true });
  assert.match(none, /^mounts\[7\]\.options: idmap needs uidMappings and gidMappings on the mount, or a user namespace in linux\.namespaces/);
  const half = createFails(sb, (c) => c.mounts!.push({ destination: "/mnt", type: "bind", source: "/tmp", options: ["rbind", "idmap"], uidMappings: M5000 }), { busybox: true });
  assert.match(half, /^mounts\[7\]\.gidMappings: required when uidMappings is given/);
});

testIf(t, null, "a source that does not exist: the mount is named, before any namespace is made", ({ sb }) => {
  const line = createFails(sb, (c) => c.mounts!.push({ destination: "/mnt", type: "bind", source: join(sb.dir, "missing"), options: ["rbind", "idmap"], uidMappings: M5000, gidMappings: M5000 }), { busybox: true });
  assert.match(line, /^mounts\[7\] \(\/mnt\) \(idmapped\): idmapped mount: cloning .*\/missing: no such file or directory \(ENOENT\)$/);
});

t.run();
