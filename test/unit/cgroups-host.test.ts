import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCgroupHost, parseMountinfo, parseProcCgroup, hugePageSizeName } from "../../src/linux/cgroups/host";
import { cleanPath, innerPath, fsPaths, systemdPaths } from "../../src/linux/cgroups/paths";
import { expandSlice, parseSystemdCgroupsPath, SYSTEMD_NOT_RUNNING } from "../../src/linux/cgroups/systemd";
import { planCgroup } from "../../src/linux/cgroups/plan";
import { FRESH_SNAPSHOT, planResources } from "../../src/linux/cgroups/resources";
import { ConfigError, HostError } from "../../src/errors";

/** uvu's throws() takes a predicate, not a class. */
const is = (cls: abstract new (...a: never[]) => unknown, re?: RegExp) => (e: unknown) =>
  e instanceof cls && (!re || re.test((e as Error & { line?: () => string }).line?.() ?? String(e)));

// This project's CI host, verbatim: v1 controllers + an empty cgroup2 at unified.
const HYBRID_MOUNTINFO = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_SELF = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/f6685c
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;

// A classic systemd v1 host: cpu,cpuacct co-mounted and exposed through a symlink.
const V1_MOUNTINFO = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,devices
32 25 0:29 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,net_cls,net_prio
33 25 0:30 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,hugetlb
34 25 0:31 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,freezer
`;
const V1_SELF = `8:freezer:/
7:hugetlb:/
6:net_cls,net_prio:/
5:devices:/user.slice
4:memory:/user.slice/user-1000.slice/session-1.scope
3:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/user-1000.slice/session-1.scope
0::/user.slice/user-1000.slice/session-1.scope
`;

const V2_MOUNTINFO = `24 18 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const V2_SELF = `0::/user.slice/user-1000.slice/session-1.scope\n`;

test("mountinfo lines are split around the optional fields and unescaped", () => {
  const m = parseMountinfo(`40 31 0:37 / /sys/fs/cgroup/with\\040space rw shared:1 master:2 - cgroup cgroup rw,name=systemd\n`);
  assert.equal(m, [{ root: "/", mountpoint: "/sys/fs/cgroup/with space", fstype: "cgroup", superOptions: ["rw", "name=systemd"] }]);
  assert.equal(parseProcCgroup("3:cpu,cpuacct:/a\n0::/b\n"), { cpu: "/a", cpuacct: "/a", "": "/b" });
  assert.throws(() => parseProcCgroup("garbage\n"), is(HostError));
});

test("this host's layout is detected as hybrid", () => {
  const h = parseCgroupHost(HYBRID_MOUNTINFO, HYBRID_SELF);
  assert.is(h.mode, "hybrid");
  assert.equal(h.unified, { mountpoint: "/sys/fs/cgroup/unified", root: "/" });
  assert.equal(Object.keys(h.v1).sort(), ["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "name=systemd", "pids"]);
  assert.is(h.own["memory"], "/process_api/f6685c");
  assert.is(h.own[""], "/");
});

test("v1 without the unified mount, co-mounted controllers share a mount", () => {
  const h = parseCgroupHost(V1_MOUNTINFO, V1_SELF);
  assert.is(h.mode, "v1");
  assert.is(h.unified, undefined);
  assert.is(h.v1["cpu"]!.mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  assert.is(h.v1["cpuacct"]!.mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  assert.is(h.v1["net_prio"]!.mountpoint, "/sys/fs/cgroup/net_cls,net_prio");
  assert.is(h.v1["name=systemd"]!.mountpoint, "/sys/fs/cgroup/systemd");
});

test("pure v2, and the test root rebases mount points", () => {
  const h = parseCgroupHost(V2_MOUNTINFO, V2_SELF, { root: "/tmp/fake" });
  assert.is(h.mode, "v2");
  assert.equal(h.unified, { mountpoint: "/tmp/fake", root: "/" });
  assert.equal(h.v1, {});
  const hy = parseCgroupHost(HYBRID_MOUNTINFO, HYBRID_SELF, { root: "/tmp/x" });
  assert.is(hy.v1["memory"]!.mountpoint, "/tmp/x/memory");
  assert.is(hy.unified!.mountpoint, "/tmp/x/unified");
});

test("no cgroup filesystem at all is a HostError", () => {
  assert.throws(() => parseCgroupHost("22 1 254:0 / / rw - ext4 /dev/vda rw\n", "0::/\n"), is(HostError));
});

test("hugepage directory names become the kernel's size names", () => {
  assert.is(hugePageSizeName("hugepages-2048kB"), "2MB");
  assert.is(hugePageSizeName("hugepages-1048576kB"), "1GB");
  assert.is(hugePageSizeName("hugepages-64kB"), "64KB");
  assert.is(hugePageSizeName("other"), undefined);
});

test("cleanPath is runc's CleanPath", () => {
  assert.is(cleanPath("/a/../../b/"), "/b");
  assert.is(cleanPath("../../x/y"), "x/y");
  assert.is(cleanPath("a/./b"), "a/b");
  assert.is(cleanPath("/"), "/");
  assert.is(cleanPath(""), "");
  assert.is(innerPath(undefined, "ctr"), "ctr");
  assert.is(innerPath("/machine/ctr", "ctr"), "/machine/ctr");
  assert.throws(() => innerPath("/", "x"), is(ConfigError, /root cgroup/));
});

test("fs paths: absolute under each mount, relative under the runtime's own cgroup", () => {
  const h = parseCgroupHost(HYBRID_MOUNTINFO, HYBRID_SELF);
  const abs = fsPaths(h, "/a/b").paths;
  assert.is(abs["memory"], "/sys/fs/cgroup/memory/a/b");
  assert.is(abs["name=systemd"], "/sys/fs/cgroup/systemd/a/b");
  assert.is(abs[""], "/sys/fs/cgroup/unified/a/b");
  const rel = fsPaths(h, "ctr").paths;
  assert.is(rel["memory"], "/sys/fs/cgroup/memory/process_api/f6685c/ctr");
  assert.is(rel["cpu"], "/sys/fs/cgroup/cpu/ctr");
  // runc joins the unified hierarchy at its mount point, ignoring 0::.
  assert.is(rel[""], "/sys/fs/cgroup/unified/ctr");
  assert.equal(fsPaths(h, "ctr").missing, ["hugetlb", "net_cls", "net_prio", "perf_event", "rdma"]);
});

test("fs paths: v1 with co-mounted cpu,cpuacct and per-controller own cgroups", () => {
  const h = parseCgroupHost(V1_MOUNTINFO, V1_SELF);
  const p = fsPaths(h, "ctr").paths;
  assert.is(p["cpu"], "/sys/fs/cgroup/cpu,cpuacct/user.slice/ctr");
  assert.is(p["cpuacct"], "/sys/fs/cgroup/cpu,cpuacct/user.slice/ctr");
  assert.is(p["devices"], "/sys/fs/cgroup/devices/user.slice/ctr");
  assert.is(p["memory"], "/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-1.scope/ctr");
  assert.is(p["name=systemd"], "/sys/fs/cgroup/systemd/user.slice/user-1000.slice/session-1.scope/ctr");
  assert.is(p[""], undefined);
});

test("fs paths: v2 relative goes under the parent of the runtime's cgroup", () => {
  const h = parseCgroupHost(V2_MOUNTINFO, V2_SELF);
  assert.equal(fsPaths(h, "ctr").paths, { "": "/sys/fs/cgroup/user.slice/user-1000.slice/ctr" });
  assert.equal(fsPaths(h, "/x/ctr").paths, { "": "/sys/fs/cgroup/x/ctr" });
});

test("fs paths: nested mount roots hide the host part of /proc/self/cgroup", () => {
  const mi = `30 25 0:27 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
31 25 0:28 /docker/abc /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
`;
  const self = "5:devices:/docker/abc\n4:memory:/docker/abc/sub\n";
  const p = fsPaths(parseCgroupHost(mi, self), "ctr").paths;
  assert.is(p["memory"], "/sys/fs/cgroup/memory/sub/ctr");
  assert.is(p["devices"], "/sys/fs/cgroup/devices/ctr");
});

test("a host without the devices hierarchy is refused (device access would be unlimited)", () => {
  const mi = `30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n`;
  assert.throws(() => fsPaths(parseCgroupHost(mi, "4:memory:/\n"), "ctr"), is(HostError, /devices/));
});

test("systemd: slice expansion and the slice:prefix:name path", () => {
  assert.is(expandSlice("system.slice"), "/system.slice");
  assert.is(expandSlice("test-a-b.slice"), "/test.slice/test-a.slice/test-a-b.slice");
  assert.is(expandSlice("-.slice"), "/");
  for (const bad of ["test--a.slice", "-test.slice", "a/b.slice", "foo", ".slice"]) assert.throws(() => expandSlice(bad), is(ConfigError, /invalid slice name/), bad);
  assert.equal(parseSystemdCgroupsPath("system.slice:docker:1234", "x"), { slice: "system.slice", slicePath: "/system.slice", unit: "docker-1234.scope", name: "1234" });
  assert.equal(parseSystemdCgroupsPath(undefined, "ctr"), { slice: "system.slice", slicePath: "/system.slice", unit: "runc-ctr.scope", name: "ctr" });
  assert.equal(parseSystemdCgroupsPath(":pfx:my.slice", "x"), { slice: "system.slice", slicePath: "/system.slice", unit: "my.slice", name: "my.slice" });
  // names systemd would refuse are refused before anything is made
  for (const bad of ["system.slice:docker:a b", "my slice.slice:x:y", "system.slice:x:" + "n".repeat(260)]) {
    assert.throws(() => parseSystemdCgroupsPath(bad, "x"), is(ConfigError, /^linux\.cgroupsPath: invalid systemd unit name/), bad);
  }
  assert.throws(() => parseSystemdCgroupsPath("/not/systemd", "x"), is(ConfigError, /slice:prefix:name/));
  const h = parseCgroupHost(HYBRID_MOUNTINFO, HYBRID_SELF, { systemdRunning: true });
  const p = systemdPaths(h, parseSystemdCgroupsPath("a-b.slice:runc:c1", "c1")).paths;
  assert.is(p["memory"], "/sys/fs/cgroup/memory/a.slice/a-b.slice/runc-c1.scope");
  assert.is(p[""], "/sys/fs/cgroup/unified/a.slice/a-b.slice/runc-c1.scope");
});

test("systemd driver where systemd does not run: the documented HostError", () => {
  const h = parseCgroupHost(HYBRID_MOUNTINFO, HYBRID_SELF, { systemdRunning: false });
  try {
    planCgroup({ linux: { cgroupsPath: "system.slice:runc:x" } }, "x", { host: h, systemd: true });
    assert.unreachable();
  } catch (e) {
    assert.ok(e instanceof HostError);
    assert.is((e as HostError).line(), SYSTEMD_NOT_RUNNING);
  }
  const plan = planCgroup({}, "x", { host: { ...h, systemdRunning: true }, systemd: true });
  assert.is(plan.driver, "systemd");
  assert.is(plan.paths["pids"], "/sys/fs/cgroup/pids/system.slice/runc-x.scope");
});

test("planCgroup: default path is the id relative to the runtime's cgroups; optional hierarchies", () => {
  const h = parseCgroupHost(HYBRID_MOUNTINFO, HYBRID_SELF);
  const plan = planCgroup({}, "ctr1", { host: h });
  assert.is(plan.mode, "hybrid");
  assert.is(plan.driver, "fs");
  assert.is(plan.paths["freezer"], "/sys/fs/cgroup/freezer/ctr1");
  assert.is(plan.mounts["memory"], "/sys/fs/cgroup/memory");
  assert.equal(plan.optional.sort(), ["", "name=systemd"]);
  // Default device rules alone: deny all, then runc's allowed devices.
  const writes = planResources(plan.resources, { mode: plan.mode, paths: plan.paths }, FRESH_SNAPSHOT.v1).writes;
  assert.is(writes[0]!.file, "devices.deny");
  assert.is(writes[0]!.value, "a *:* rwm");
});

test.run();
