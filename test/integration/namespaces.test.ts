// linux.namespaces: new ones differ from the host's, absent ones are the host's,
// joined ones are the given ones; user namespaces with id maps; time offsets.
import { hostSuite, skip, testIf } from "../skip";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, statePid, uniqueId, type Sandbox } from "./harness";
import { commandExists, createFails, hostNs, probeEnv, run, runReport } from "./util";
import type { LinuxNamespace, OciConfig } from "../../src/spec/types";
import type { NamespaceKind } from "../../conformance/probe/report";

const t = hostSuite<{ sb: Sandbox }>("namespaces");
t.before((ctx) => {
  ctx.sb = sandbox("namespaces");
});
t.after((ctx) => ctx.sb.cleanup());

type NsType = LinuxNamespace["type"];
const KIND: Record<string, NamespaceKind> = { pid: "pid", network: "net", ipc: "ipc", uts: "uts", mount: "mnt", cgroup: "cgroup", user: "user", time: "time" };
const hasTimeNs = existsSync("/proc/self/ns/time");

function withNamespaces(c: OciConfig, types: NsType[]): void {
  c.linux!.namespaces = types.map((type) => ({ type }));
  if (!types.includes("uts")) delete c.hostname;
  if (types.includes("user")) {
    c.linux!.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
  }
}

t("each namespace type, when new, differs from the host's; the others are the host's", ({ sb }) => {
  const all: NsType[] = ["pid", "network", "ipc", "uts", "cgroup", "user", ...(hasTimeNs ? (["time"] as NsType[]) : [])];
  for (const type of all) {
    // a new user namespace may mount proc, sysfs and mqueue only with pid, network
    // and ipc namespaces of its own (the kernel's rule, runc's too)
    const fresh: NsType[] = ["mount", type, ...(type === "user" ? (["pid", "network", "ipc"] as NsType[]) : [])];
    const r = runReport(sb, (c) => withNamespaces(c, fresh));
    for (const other of ["mount", ...all] as NsType[]) {
      const kind = KIND[other]!;
      const mine = r.namespaces[kind], host = hostNs(kind);
      if (fresh.includes(other)) assert.is.not(mine, host, `new ${other} (with ${fresh.join(", ")})`);
      else assert.is(mine, host, `${other} is the host's (with only ${fresh.join(", ")} new)`);
    }
    if (type === "pid") assert.is(r.pid, 1);
  }
});
if (!hasTimeNs) skip(t, "each namespace type: time", "the kernel lacks time namespaces");

t("runc's default set (pid, network, ipc, uts, mount) all new at once", ({ sb }) => {
  const r = runReport(sb, (c) => withNamespaces(c, ["pid", "network", "ipc", "uts", "mount"]));
  for (const kind of ["pid", "net", "ipc", "uts", "mnt"] as NamespaceKind[]) assert.is.not(r.namespaces[kind], hostNs(kind), kind);
  for (const kind of ["user", "cgroup"] as NamespaceKind[]) assert.is(r.namespaces[kind], hostNs(kind), kind);
  assert.is(r.pid, 1);
  assert.equal(r.nspid?.length, 1, "the probe sees only its own pid namespace");
});

t("without a mount namespace: the host's, a chroot, and a warning that mounts are not applied", ({ sb }) => {
  const id = uniqueId("nomnt");
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    withNamespaces(c, ["pid", "uts"]);
    c.root!.readonly = false;
    c.linux!.maskedPaths = [];
    c.linux!.readonlyPaths = [];
    c.process!.args = ["/bin/probe", "sleep", "inf"];
  });
  const r = sb.ocirt(["run", "-d", "-b", b, id]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /no mount namespace/);
  try {
    const pid = statePid(sb, id);
    assert.is(readlinkSync(`/proc/${pid}/ns/mnt`), hostNs("mnt"));
    assert.is.not(readlinkSync(`/proc/${pid}/ns/pid`), hostNs("pid"));
    assert.is(readlinkSync(`/proc/${pid}/root`), JSON.parse(readFileSync(join(b, "config.json"), "utf8")).root.path);
  } finally {
    assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  }
});

/** A container that sleeps: its pid, for joining its namespaces. */
function sleeper(sb: Sandbox, patch: (c: OciConfig) => void): { id: string; pid: number } {
  const id = uniqueId("a");
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    patch(c);
  });
  const r = sb.ocirt(["run", "-d", "-b", b, id]);
  assert.is(r.status, 0, r.stderr);
  return { id, pid: statePid(sb, id) };
}

t("joining another container's namespaces by /proc/<pid>/ns path", ({ sb }) => {
  const a = sleeper(sb, (c) => withNamespaces(c, ["pid", "network", "ipc", "uts", "mount", "cgroup"]));
  const ns = (k: string) => readlinkSync(`/proc/${a.pid}/ns/${k}`);
  const r = runReport(sb, (c) => {
    c.linux!.namespaces = [
      { type: "mount" },
      { type: "network", path: `/proc/${a.pid}/ns/net` },
      { type: "ipc", path: `/proc/${a.pid}/ns/ipc` },
      { type: "uts", path: `/proc/${a.pid}/ns/uts` },
      { type: "pid", path: `/proc/${a.pid}/ns/pid` },
      { type: "cgroup", path: `/proc/${a.pid}/ns/cgroup` },
    ];
    delete c.hostname;
  });
  try {
    for (const k of ["net", "ipc", "uts", "pid", "cgroup"] as NamespaceKind[]) assert.is(r.namespaces[k], ns(k), k);
    assert.is.not(r.namespaces.mnt, ns("mnt"), "its own new mount namespace");
    assert.is(r.hostname, "ocitest", "A's hostname, through A's uts namespace");
    assert.is.not(r.pid, 1, "A's init is 1 in that pid namespace");
    assert.is(r.ppid, 0, "its parent is outside that pid namespace");
  } finally {
    assert.is(sb.ocirt(["delete", "-f", a.id]).status, 0);
  }
});

t("joining a user namespace by path (the others it owns are joined with its rights)", ({ sb }) => {
  const a = sleeper(sb, (c) => withNamespaces(c, ["user", "network", "uts", "mount", "pid", "ipc"]));
  const r = runReport(sb, (c) => {
    c.linux!.namespaces = [
      { type: "mount" },
      { type: "pid" },
      { type: "ipc" },
      { type: "user", path: `/proc/${a.pid}/ns/user` },
      { type: "network", path: `/proc/${a.pid}/ns/net` },
    ];
    delete c.hostname;
  });
  try {
    assert.is(r.namespaces.user, readlinkSync(`/proc/${a.pid}/ns/user`));
    assert.is(r.namespaces.net, readlinkSync(`/proc/${a.pid}/ns/net`));
    assert.equal(r.uid_map, [[0, 300000, 65536]]);
    assert.is(r.uid, 0);
  } finally {
    assert.is(sb.ocirt(["delete", "-f", a.id]).status, 0);
  }
});

testIf(t, commandExists("unshare") ? null : "no unshare(1) on this host", "joining namespaces kept by bind mounts (ip netns style nsfs files)", ({ sb }) => {
  const net = join(sb.dir, "netns-file"), uts = join(sb.dir, "utsns-file");
  writeFileSync(net, "");
  writeFileSync(uts, "");
  try {
    execFileSync("unshare", [`--net=${net}`, `--uts=${uts}`, "hostname", "kept-uts"]);
    const r = runReport(sb, (c) => {
      c.linux!.namespaces = [{ type: "mount" }, { type: "pid" }, { type: "network", path: net }, { type: "uts", path: uts }];
      delete c.hostname;
    });
    const inode = (p: string) => spawnSync("stat", ["-L", "-c", "%i", p], { encoding: "utf8" }).stdout.trim();
    assert.is(r.namespaces.net, `net:[${inode(net)}]`);
    assert.is(r.namespaces.uts, `uts:[${inode(uts)}]`);
    assert.is(r.hostname, "kept-uts");
    // such a file of the wrong type: refused before anything runs, naming both kinds
    const line = createFails(sb, (c) => {
      c.linux!.namespaces = [{ type: "mount" }, { type: "uts", path: net }];
      delete c.hostname;
    });
    assert.match(line, /^linux\.namespaces \(uts\): .* is not a uts namespace \(it is a network namespace\)$/);
  } finally {
    spawnSync("umount", [net]);
    spawnSync("umount", [uts]);
  }
});

t("a namespace path of the wrong type, or that is no namespace, is an error", ({ sb }) => {
  let line = createFails(sb, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: `/proc/${process.pid}/ns/uts` } : n));
  });
  assert.match(line, /linux\.namespaces.*network/);
  assert.match(line, /not a network namespace/);
  line = createFails(sb, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === "ipc" ? { type: "ipc", path: "/etc/hostname" } : n));
  });
  assert.match(line, /linux\.namespaces.*ipc/);
  assert.match(line, /not a(n ipc)? namespace/);
});

t("a sysctl of a namespace joined by path that is the host's own is refused, as runc refuses it", ({ sb }) => {
  // the values are the host's current ones: even where ocirt wrongly wrote them, nothing changes
  const cases: [NsType, string, string][] = [
    ["network", "net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"],
    ["ipc", "kernel.shmmni", "/proc/sys/kernel/shmmni"],
    ["uts", "kernel.domainname", "/proc/sys/kernel/domainname"],
  ];
  for (const [type, key, file] of cases) {
    const value = readFileSync(file, "utf8").trim();
    for (const path of [`/proc/${process.pid}/ns/${KIND[type]}`, `/proc/self/ns/${KIND[type]}`]) {
      const line = createFails(sb, (c) => {
        c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === type ? { type, path } : n));
        c.linux!.sysctl = { [key]: value };
      });
      assert.match(line, new RegExp(`^linux\\.sysctl\\["${key.replace(/\./g, "\\.")}"\\]: not allowed in the host's ${type} namespace`), `${type} ${path}: ${line}`);
      assert.is(readFileSync(file, "utf8").trim(), value);
    }
  }
  // another container's (not the host's) namespace takes them
  const id = uniqueId("ns-owner");
  sb.ids.push(id);
  assert.is(sb.ocirt(["run", "-d", "-b", sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"])), id]).status, 0);
  const r = runReport(sb, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: `/proc/${statePid(sb, id)}/ns/net` } : n));
    c.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
    probeEnv(c, { sysctls: ["net.ipv4.ip_forward"] });
  });
  assert.equal(r.sysctls["net.ipv4.ip_forward"], { value: "1" });
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("user namespace with uid and gid maps; a mapped non-root user", ({ sb }) => {
  let r = runReport(sb, (c) => {
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 400000, size: 1000 }, { containerID: 1000, hostID: 401000, size: 1 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 500000, size: 2000 }];
  });
  assert.equal(r.uid_map, [[0, 400000, 1000], [1000, 401000, 1]]);
  assert.equal(r.gid_map, [[0, 500000, 2000]]);
  assert.is.not(r.namespaces.user, hostNs("user"));
  assert.equal([r.uid, r.gid], [0, 0]);
  assert.is(r.capabilities.CapEff, "0000000020000420", "the config's capabilities, in the new user namespace");
  r = runReport(sb, (c) => {
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 400000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 400000, size: 65536 }];
    c.process!.user = { uid: 1000, gid: 1000, additionalGids: [29] };
  });
  assert.equal([r.uid, r.gid, r.groups], [1000, 1000, [29]]);
});

t("a user namespace container started from a directory its root may not search (sudo in /root): the helper starts in the rootfs, as runc's init", ({ sb }) => {
  const cwd = join(sb.dir, "private-cwd");
  mkdirSync(cwd);
  chmodSync(cwd, 0o700);
  const userns = (c: OciConfig) => {
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 400000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 400000, size: 65536 }];
  };
  const id = uniqueId("cwd");
  sb.ids.push(id);
  const r = sb.ocirt(["run", "-b", sb.bundle(userns), id], { cwd });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /"uid_map"/);
  // exec's helper starts there too
  const c = uniqueId("cwdx");
  sb.ids.push(c);
  const b = sb.bundle((cfg) => {
    userns(cfg);
    cfg.process!.args = ["/bin/probe", "sleep", "100"];
  });
  assert.is(sb.ocirt(["run", "-d", "-b", b, c], { cwd }).status, 0);
  const x = sb.ocirt(["exec", c, "/bin/probe", "cat", "/proc/self/uid_map"], { cwd });
  assert.is(x.status, 0, x.stderr);
  assert.match(x.stdout, /400000/);
  assert.is(sb.ocirt(["delete", "-f", c]).status, 0);
});

testIf(t, hasTimeNs ? null : "the kernel lacks time namespaces", "time namespace with timeOffsets (monotonic and boottime)", ({ sb }) => {
  const res = run(sb, (c) => {
    c.linux!.namespaces!.push({ type: "time" });
    c.linux!.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: 7 * 86400, nanosecs: 500 } };
    c.process!.args = ["/bin/probe", "cat", "/proc/self/timens_offsets"];
  });
  assert.is(res.status, 0, res.stderr);
  const offsets = Object.fromEntries(res.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)).map(([k, s, n]) => [k, [Number(s), Number(n)]]));
  assert.equal(offsets, { monotonic: [86400, 0], boottime: [7 * 86400, 500] });
  const up = run(sb, (c) => {
    c.linux!.namespaces!.push({ type: "time" });
    c.linux!.timeOffsets = { boottime: { secs: 7 * 86400, nanosecs: 0 } };
    c.process!.args = ["/bin/probe", "cat", "/proc/uptime"];
  });
  assert.is(up.status, 0, up.stderr);
  const hostUp = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const inUp = Number(up.stdout.split(" ")[0]);
  assert.ok(Math.abs(inUp - hostUp - 7 * 86400) < 30, `uptime ${inUp} vs host ${hostUp} + 7 days`);
});

t.run();
