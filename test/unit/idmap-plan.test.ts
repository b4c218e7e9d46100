// Idmapped mounts, planned without root: which user namespace each mount's mapping
// comes from (its own uid/gidMappings, the container's, or the one it joins), the
// OP_IDMAP_MOUNT ops before any namespace op, and the OP_MOUNT that moves each
// detached mount into place.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultSpec } from "../../src/spec/default";
import { normaliseConfig, type Spec } from "../../src/spec/normalise";
import type { IDMapping, OciConfig } from "../../src/spec/types";
import { planContainer } from "../../src/planner/container";
import { Op, MountI, type PlanOp } from "../../src/plan/ops";
import { MS } from "../../src/linux/mount-options";
import { idMapText, planIdmaps } from "../../src/linux/idmap";
import { checkConfig } from "../../src/spec/validate";
import { ConfigError } from "../../src/errors";
import { features } from "../../src/commands/features";

const M5000: IDMapping[] = [{ containerID: 0, hostID: 5000, size: 100 }];
const C100K: IDMapping[] = [{ containerID: 0, hostID: 100000, size: 65536 }];

function specOf(patch: (c: OciConfig) => void): Spec {
  const cfg = defaultSpec({ rootless: false, cgroupNamespace: false });
  patch(cfg);
  return normaliseConfig(cfg, { bundle: "/bundle" });
}
const userns = (c: OciConfig) => {
  c.linux!.namespaces!.push({ type: "user" });
  c.linux!.uidMappings = C100K;
  c.linux!.gidMappings = C100K;
};

function planned(spec: Spec) {
  return planContainer({
    spec, id: "t", noPivot: false, fifoIndex: 0, cgroupSync: false,
    cgroupViews: [{ name: "", hostPath: "/sys/fs/cgroup/ctr", fsOptions: "", unified: true }],
    env: ["PATH=/bin"], groups: [],
    host: { lastCap: 40, bounding: (1n << 41n) - 1n, lsm: { apparmor: false, selinux: false }, hasProcKcore: true },
    warn: () => {},
  });
}

test("a bind with its own mappings: cloned (recursively for rbind), mapped with a user namespace of those mappings", () => {
  const spec = specOf((c) => c.mounts!.push({ destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "ro", "idmap"], uidMappings: M5000, gidMappings: M5000 }));
  const p = planIdmaps(spec, { extraBase: 3 });
  assert.equal(p.userns, [{ uidMappings: M5000, gidMappings: M5000 }]);
  assert.equal(p.slots, new Map([[7, 0]]));
  assert.equal(p.ops, [{ code: Op.IDMAP_MOUNT, ints: [0, 3, 1, 0], blobs: ["/srv/data", "", ""], what: "mounts[7] (/data) (idmapped)" }]);
  assert.is(idMapText(M5000), "0 5000 100\n");
});

test("ridmap maps submounts too; bind (not rbind) clones one mount; equal mappings share one user namespace", () => {
  const spec = specOf((c) => {
    c.mounts!.push({ destination: "/a", type: "bind", source: "/srv/a", options: ["bind", "ridmap"], uidMappings: M5000, gidMappings: M5000 });
    c.mounts!.push({ destination: "/b", type: "bind", source: "/srv/b", options: ["rbind", "idmap"], uidMappings: M5000, gidMappings: M5000 });
    c.mounts!.push({ destination: "/c", type: "bind", source: "/srv/c", options: ["rbind", "idmap"], uidMappings: C100K, gidMappings: C100K });
  });
  const p = planIdmaps(spec, { extraBase: 1 });
  assert.equal(p.ops.map((o) => o.ints), [[0, 1, 0, 1], [1, 1, 1, 0], [2, 2, 1, 0]]);
  assert.is(p.userns.length, 2);
});

test("no mappings on the mount: the container's user namespace's, or the one it joins by path", () => {
  const own = planIdmaps(specOf((c) => {
    userns(c);
    c.mounts!.push({ destination: "/data", type: "bind", source: "/srv", options: ["rbind", "idmap"] });
  }), { extraBase: 1 });
  assert.equal(own.userns, [{ uidMappings: C100K, gidMappings: C100K }]);
  const joined = planIdmaps(specOf((c) => {
    c.linux!.namespaces!.push({ type: "user", path: "/proc/1/ns/user" });
    c.mounts!.push({ destination: "/data", type: "bind", source: "/srv", options: ["rbind", "idmap"] });
  }), { extraBase: 4, joinedUserns: 1 });
  assert.equal(joined.userns, [], "nothing to make: the joined namespace is the mapping");
  assert.is(joined.ops[0]!.ints![1], 1);
  assert.throws(() => planIdmaps(specOf((c) => c.mounts!.push({ destination: "/d", type: "bind", source: "/srv", options: ["bind", "idmap"] })), { extraBase: 1 }),
    (e: unknown) => e instanceof ConfigError && /idmap needs uidMappings and gidMappings on the mount, or a user namespace/.test((e as Error).message));
  // the same rule is a validation error already, as the spec asks
  const cfg = defaultSpec({ rootless: false });
  cfg.mounts!.push({ destination: "/d", type: "bind", source: "/srv", options: ["bind", "idmap"] });
  assert.ok(checkConfig(cfg).problems.some((p) => p.path === "mounts[7].options"));
});

test("a new file system (tmpfs): made with fsopen, its options and the mount label for fsconfig", () => {
  const spec = specOf((c) => c.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["nosuid", "idmap", "mode=755", "size=1m"], uidMappings: M5000, gidMappings: M5000 }));
  const p = planIdmaps(spec, { extraBase: 1, mountLabel: "context=\"x\"" });
  assert.equal(p.ops[0]!.blobs, ["tmpfs", "tmpfs", "mode=755,size=1m,context=\"x\""]);
  assert.equal(p.ops[0]!.ints, [0, 1, 0, 0]);
  assert.throws(() => planIdmaps(specOf((c) => c.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "idmap"], uidMappings: M5000, gidMappings: M5000 })), { extraBase: 1 }),
    (e: unknown) => e instanceof ConfigError && /tmpcopyup cannot be combined/.test((e as Error).message));
});

test("the container's plan: idmapped mounts made before the first namespace op, moved into place by their OP_MOUNT", () => {
  const spec = specOf((c) => {
    userns(c);
    c.linux!.namespaces!.push({ type: "network", path: "/var/run/netns/x" });
    c.mounts!.push({ destination: "/data", type: "bind", source: "/srv", options: ["rbind", "nosuid", "idmap"], uidMappings: M5000, gidMappings: M5000 });
    c.mounts!.push({ destination: "/t", type: "tmpfs", source: "tmpfs", options: ["ro", "ridmap"] });
  });
  const p = planned(spec);
  const first = (pred: (o: PlanOp) => boolean) => p.ops.findIndex(pred);
  const idmaps = p.ops.filter((o) => o.code === Op.IDMAP_MOUNT);
  assert.is(idmaps.length, 2);
  const firstNs = first((o) => o.code === Op.SETNS || o.code === Op.UNSHARE);
  assert.ok(p.ops.lastIndexOf(idmaps[1]!) < firstNs, "both before the namespaces");
  // extra fds: 0 exec.fifo, 1 the joined netns, then the idmap user namespaces
  assert.equal(p.idmapUserns.map((u) => u.uidMappings), [M5000, C100K]);
  assert.equal(idmaps.map((o) => o.ints![1]), [2, 3]);
  const mount = (dst: string) => p.ops.find((o) => o.code === Op.MOUNT && o.blobs![1] === dst)!;
  const data = mount("/data"), t = mount("/t");
  assert.is(Number(data.ints![MountI.IDMAP]), 1);
  assert.is(Number(t.ints![MountI.IDMAP]), 2);
  assert.is(Number(data.ints![MountI.FLAGS]), MS.BIND | MS.NOSUID, "finished as a bind: its flags by remount");
  // a read-only tmpfs becomes read-only after pivot_root, as any (runc's order)
  assert.is(Number(t.ints![MountI.FLAGS]), MS.BIND);
  const pivot = p.ops.findIndex((o) => o.code === Op.PIVOT_ROOT);
  const late = p.ops.findIndex((o) => o.code === Op.MOUNT && o.blobs![1] === "/t" && (Number(o.ints![0]) & MS.REMOUNT) !== 0);
  assert.ok(late > pivot, "remounted read-only after pivot_root");
  assert.is(Number(p.ops[late]!.ints![0]) & MS.RDONLY, MS.RDONLY);
  assert.is(Number(data.ints![MountI.CREATE]), 3, "a bind's target is made like its source");
  assert.is(Number(t.ints![MountI.CREATE]), 1);
  assert.equal(t.blobs, ["tmpfs", "/t", "", ""]);
});

test("ocirt features: mountExtensions.idmap enabled, idmap and ridmap among the mount options", () => {
  const f = features() as { mountOptions: string[]; linux: { mountExtensions: { idmap: { enabled: boolean } } } };
  assert.is(f.linux.mountExtensions.idmap.enabled, true);
  assert.ok(f.mountOptions.includes("idmap") && f.mountOptions.includes("ridmap"));
  assert.equal(f.mountOptions, [...f.mountOptions].sort(), "sorted, as runc lists them");
});

test.run();
