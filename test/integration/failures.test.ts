// Every way create can fail ends the same: exit 1, one line that names the
// config field or step, and nothing left (state dir, mount, process, cgroup).
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertNothingLeft, sandbox, statePid, uniqueId, waitFor, type Sandbox } from "./harness";
import { createFails } from "./util";
import type { OciConfig } from "../../src/spec/types";

const t = hostSuite<{ sb: Sandbox }>("failures");
t.before((ctx) => {
  ctx.sb = sandbox("failures");
});
t.after((ctx) => ctx.sb.cleanup());

const userns = (c: OciConfig) => {
  c.linux!.namespaces!.push({ type: "user" });
  c.linux!.uidMappings = [{ containerID: 0, hostID: 600000, size: 1000 }];
  c.linux!.gidMappings = [{ containerID: 0, hostID: 600000, size: 1000 }];
};

t("a bind mount whose source does not exist", ({ sb }) => {
  const line = createFails(sb, (c) => c.mounts!.push({ destination: "/x", type: "bind", source: "/nonexistent/ocitest", options: ["bind"] }));
  assert.match(line, /^mounts\[7\] \(\/x\): .*\/nonexistent\/ocitest.*ENOENT/);
});

t("a mount of a filesystem type the kernel does not know", ({ sb }) => {
  const line = createFails(sb, (c) => c.mounts!.push({ destination: "/mnt", type: "nosuchfs", source: "none", options: [] }));
  assert.match(line, /^mounts\[7\] \(\/mnt\): .*ENODEV/);
});

t("a mount that fails after the helper forked (user and pid namespaces) leaves no process", ({ sb }) => {
  const line = createFails(sb, (c) => {
    userns(c);
    c.mounts!.push({ destination: "/x", type: "bind", source: "/nonexistent/ocitest", options: ["bind"] });
  });
  assert.match(line, /^mounts\[7\] \(\/x\): /);
});

t("a binary that does not exist, is not executable, or is not in PATH", ({ sb }) => {
  let line = createFails(sb, (c) => (c.process!.args = ["/bin/nope", "arg"]));
  assert.match(line, /^process\.args\[0\] \(\/bin\/nope\): .*ENOENT/);
  line = createFails(sb, (c) => (c.process!.args = ["/etc/passwd"]));
  assert.match(line, /^process\.args\[0\] \(\/etc\/passwd\): .*EACCES/);
  line = createFails(sb, (c) => (c.process!.args = ["nope"]));
  assert.match(line, /^process\.args\[0\] \(nope\): .*not found in \$PATH/);
  line = createFails(sb, (c) => {
    userns(c);
    c.process!.args = ["/bin/nope"];
  });
  assert.match(line, /^process\.args\[0\] \(\/bin\/nope\): /);
});

t("a cwd that is a file", ({ sb }) => {
  const line = createFails(sb, (c) => (c.process!.cwd = "/etc/passwd"));
  assert.match(line, /^process\.cwd: .*\/etc\/passwd.*ENOTDIR/);
});

t("a namespace path that does not exist", ({ sb }) => {
  const line = createFails(sb, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: "/nonexistent/netns" } : n));
  });
  assert.match(line, /^linux\.namespaces \(network\): .*\/nonexistent\/netns.*ENOENT/);
});

t("a user the user namespace does not map", ({ sb }) => {
  const line = createFails(sb, (c) => {
    userns(c);
    c.process!.user = { uid: 5000, gid: 5000 };
  });
  assert.match(line, /^process\.user: setgid 5000 \(not mapped in the user namespace\)/);
});

t("a sysctl the kernel refuses", ({ sb }) => {
  const line = createFails(sb, (c) => (c.linux!.sysctl = { "net.ipv4.ip_forward": "not-a-number" }));
  assert.match(line, /^linux\.sysctl\["net\.ipv4\.ip_forward"\]: .*EINVAL/);
});

t("bad config: schema errors name the field; no JSON; no config; no rootfs", ({ sb }) => {
  let line = createFails(sb, (c) => (c.process!.args = []));
  assert.match(line, /process\.args/);
  line = createFails(sb, (c) => ((c.process!.rlimits as unknown as { type: string }[]) = [{ type: "RLIMIT_NOPE" }]));
  assert.match(line, /process\.rlimits\[0\]/);
  line = createFails(sb, (c) => c.mounts!.push({ destination: 42 } as never));
  assert.match(line, /mounts\[7\]\.destination/);
  line = createFails(sb, (c) => (c.root!.path = "/nonexistent/rootfs"));
  assert.match(line, /root\.path/);
  // broken and missing config.json
  for (const [what, re] of [["{ not json", /config\.json/], [null, /config\.json/]] as const) {
    const id = uniqueId("f");
    const b = mkdtempSync(join(sb.dir, "bad-"));
    if (what !== null) writeFileSync(join(b, "config.json"), what);
    const r = sb.ocirt(["create", "-b", b, id]);
    assert.is(r.status, 1);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, re);
    assertNothingLeft(sb.root, [id]);
  }
});

t("a second create with an existing id fails without touching the first container", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.process!.args = ["/bin/probe", "sleep", "inf"]));
  assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
  try {
    const before = readFileSync(join(sb.root, id, "state.json"), "utf8");
    const pid = statePid(sb, id);
    // a bundle that would fail anyway, and a good one
    for (const b2 of [sb.bundle((c) => (c.process!.args = ["/bin/nope"])), b]) {
      const r = sb.ocirt(["create", "-b", b2, id]);
      assert.is(r.status, 1);
      assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, "exists");
    }
    assert.is(readFileSync(join(sb.root, id, "state.json"), "utf8"), before, "state.json unchanged");
    assert.is(statePid(sb, id), pid);
    assert.is(JSON.parse(sb.ocirt(["state", id]).stdout).status, "created");
    assert.is(sb.ocirt(["start", id]).status, 0, "the first still starts");
    assert.is(JSON.parse(sb.ocirt(["state", id]).stdout).status, "running");
  } finally {
    assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  }
});

t("run fails the same way and removes what create made", ({ sb }) => {
  const id = uniqueId("f");
  const b = sb.bundle((c) => c.mounts!.push({ destination: "/x", type: "bind", source: "/nonexistent/ocitest", options: ["bind"] }));
  const r = sb.ocirt(["run", "-b", b, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^mounts\[7\] \(\/x\): [^\n]*\n$/);
  assertNothingLeft(sb.root, [id]);
});

t("a cgroupsPath where processes already run is refused, and that cgroup is left as it was", ({ sb }) => {
  const a = uniqueId("busy");
  sb.ids.push(a);
  const path = `/${a}`;
  assert.is(sb.ocirt(["create", "-b", sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    c.linux!.cgroupsPath = path;
  }), a]).status, 0);
  const b = uniqueId("busy2");
  sb.ids.push(b);
  // its own check, not createFails: the first container stays in this root
  const r = sb.ocirt(["create", "-b", sb.bundle((c) => (c.linux!.cgroupsPath = path)), b]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^linux\.cgroupsPath: container's cgroup .* is not empty: 1 process\(es\) found\n$/);
  assert.is(sb.ocirt(["state", b]).status, 1, "no state of the refused one");
  assert.is(JSON.parse(sb.ocirt(["state", a]).stdout).status, "created", "the first container is untouched");
  assert.is(sb.ocirt(["delete", a]).status, 0);
});

t("a create killed half-way leaves a state that delete cleans up completely", async ({ sb }) => {
  const id = uniqueId("killed");
  sb.ids.push(id);
  const marker = join(sb.dir, `${id}.hook-started`);
  // the prestart hook runs while the init waits in its namespaces and cgroup
  const b = sb.bundle((c) => (c.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", `touch ${marker}; sleep 30`] }] }));
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  const { OCIRT, waitFor } = require("./harness") as typeof import("./harness");
  const child = spawn(OCIRT, ["--root", sb.root, "create", "-b", b, id], { stdio: "ignore", detached: true });
  assert.ok(waitFor(() => require("node:fs").existsSync(marker), 10_000), "the hook started");
  process.kill(-child.pid!, "SIGKILL"); // ocirt and its hook
  await new Promise<void>((res) => child.on("exit", () => res()));
  const st = sb.ocirt(["state", id]);
  assert.is(st.status, 0, st.stderr);
  assert.is(JSON.parse(st.stdout).status, "stopped", "the creator is gone");
  const d = sb.ocirt(["delete", id]);
  assert.is(d.status, 0, d.stderr);
  assertNothingLeft(sb.root, [id]);
});

t("an init that dies after READY (its seccomp filter refuses the exec.fifo open): create succeeds, the container is stopped, as runc's", ({ sb }) => {
  const id = uniqueId("fifo-eperm");
  sb.ids.push(id);
  // no_new_privs: the filter is loaded before READY, so the fifo's openat after it fails
  const b = sb.bundle((c) => {
    c.process!.noNewPrivileges = true;
    c.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["openat", "open"], action: "SCMP_ACT_ERRNO" }] };
  });
  const r = sb.ocirt(["create", "-b", b, id]);
  assert.is(r.status, 0, r.stderr);
  // the init's own line (runc's says "open exec fifo /proc/self/fd/N: operation not permitted")
  assert.match(r.stderr, /^ocirt-init: opening exec\.fifo: Operation not permitted\n$/);
  assert.ok(waitFor(() => JSON.parse(sb.ocirt(["state", id]).stdout).status === "stopped"), "the container is stopped");
  const st = sb.ocirt(["start", id]);
  assert.is(st.status, 1);
  assert.is(st.stderr, "cannot start a container that has stopped\n");
  assert.is(sb.ocirt(["delete", id]).status, 0);
  assertNothingLeft(sb.root, [id]);
});

t.run();
