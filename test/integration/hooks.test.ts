// OCI hooks: each stage runs where and when the spec says, gets the state on
// stdin, and a failing create-time hook fails create and leaves nothing.
import { hostSuite } from "../skip";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox, uniqueId, waitFor, type Sandbox } from "./harness";

const t = hostSuite<{ sb: Sandbox }>("hooks");
t.before((ctx) => {
  ctx.sb = sandbox("hooks");
});
t.after((ctx) => ctx.sb.cleanup());

const sh = (script: string) => ({ path: "/bin/sh", args: ["sh", "-c", script] });

t("every stage runs in order with the state on stdin", ({ sb }) => {
  const out = join(sb.dir, "hooks-out");
  mkdirSync(out);
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle(
    (c) => {
      c.process!.args = ["/bin/sh", "-c", "echo process >> /out/order"];
      c.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
      c.hooks = {
        prestart: [sh(`cat > ${out}/prestart.json; echo prestart >> ${out}/order`)],
        createRuntime: [sh(`cat > ${out}/createRuntime.json; echo createRuntime >> ${out}/order`)],
        // runs in the container's mount namespace before pivot_root: host paths still resolve
        createContainer: [sh(`cat > ${out}/createContainer.json; echo createContainer >> ${out}/order`)],
        // runs in the container after start: the container's /bin/sh and /out
        startContainer: [sh("cat > /out/startContainer.json; echo startContainer >> /out/order")],
        poststart: [sh(`cat > ${out}/poststart.json; echo poststart >> ${out}/order`)],
        poststop: [sh(`cat > ${out}/poststop.json; echo poststop >> ${out}/order`)],
      };
    },
    { busybox: true },
  );
  assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
  const pid = JSON.parse(sb.ocirt(["state", id]).stdout).pid;
  assert.equal(readFileSync(join(out, "order"), "utf8").split("\n").filter(Boolean), ["prestart", "createRuntime", "createContainer"]);
  for (const stage of ["prestart", "createRuntime", "createContainer"]) {
    const st = JSON.parse(readFileSync(join(out, `${stage}.json`), "utf8"));
    assert.is(st.id, id, stage);
    assert.is(st.pid, pid, `${stage} pid`);
    assert.is(st.status, "creating", stage);
    assert.is(st.bundle, b, stage);
  }
  const r = sb.ocirt(["start", id]);
  assert.is(r.status, 0, r.stderr);
  const order = () => readFileSync(join(out, "order"), "utf8").split("\n").filter(Boolean);
  const end = Date.now() + 5000;
  while (Date.now() < end && !order().includes("process")) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  assert.ok(order().indexOf("startContainer") > order().indexOf("createContainer"));
  assert.ok(order().indexOf("process") > order().indexOf("startContainer"), "startContainer before the program");
  assert.ok(order().includes("poststart"));
  assert.is(JSON.parse(readFileSync(join(out, "poststart.json"), "utf8")).status, "running");
  assert.is(JSON.parse(readFileSync(join(out, "startContainer.json"), "utf8")).pid, pid);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  assert.is(order().at(-1), "poststop");
  assert.is(JSON.parse(readFileSync(join(out, "poststop.json"), "utf8")).status, "stopped");
});

t("a failing create-time hook fails create, names the hook, and leaves nothing", ({ sb }) => {
  for (const stage of ["prestart", "createRuntime", "createContainer"] as const) {
    const id = uniqueId();
    sb.ids.push(id);
    const b = sb.bundle((c) => (c.hooks = { [stage]: [sh("echo bad hook >&2; exit 3")] }), { busybox: true });
    const r = sb.ocirt(["create", "-b", b, id]);
    assert.is(r.status, 1, stage);
    // the last line is ocirt's (a hook run in the container writes to the container's stderr)
    const last = r.stderr.trim().split("\n").at(-1)!;
    assert.match(last, new RegExp(`^hooks\\.${stage}\\[0\\] \\(/bin/sh\\): exit status 3`), r.stderr);
    assert.not.ok(existsSync(join(sb.root, id)), `${stage}: no state dir`);
  }
});

t("a hook that outlives its timeout is killed and fails create", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => (c.hooks = { prestart: [{ ...sh("sleep 30"), timeout: 1 }] }), { busybox: true });
  const t0 = Date.now();
  const r = sb.ocirt(["create", "-b", b, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /hooks\.prestart\[0\].*timed out after 1 s/);
  assert.ok(Date.now() - t0 < 10_000);
});

t("a hook that outlives its timeout is killed with every process it started", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  // the hook's child carries the id in its command line ($0 of the inner sh)
  const marker = `${id}-hook-child`;
  const b = sb.bundle((c) => (c.hooks = { createRuntime: [{ ...sh(`/bin/sh -c 'sleep 30; true' ${marker} & wait`), timeout: 1 }] }));
  const r = sb.ocirt(["create", "-b", b, id]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /hooks\.createRuntime\[0\].*timed out after 1 s/);
  const alive = () => readdirSync("/proc").filter((p) => /^\d+$/.test(p)).some((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(marker);
    } catch {
      return false;
    }
  });
  assert.ok(waitFor(() => !alive(), 2000), "the hook's child was killed with it");
});

t("a failing poststart hook fails start: the container is stopped and removed, poststop runs (spec 1.3, runc)", ({ sb }) => {
  const out = join(sb.dir, `poststart-fails-${uniqueId("o")}`);
  mkdirSync(out);
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    c.hooks = {
      poststart: [sh(`echo poststart0 >> ${out}/order; exit 1`), sh(`echo poststart1 >> ${out}/order`)],
      poststop: [sh(`echo poststop >> ${out}/order`)],
    };
  }, { busybox: true });
  assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
  const pid = JSON.parse(sb.ocirt(["state", id]).stdout).pid;
  const r = sb.ocirt(["start", id]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr.trim().split("\n").at(-1)!, /^hooks\.poststart\[0\] \(\/bin\/sh\): exit status 1/);
  assert.equal(readFileSync(join(out, "order"), "utf8").split("\n").filter(Boolean), ["poststart0", "poststop"], "the rest of poststart does not run");
  assert.is(sb.ocirt(["state", id]).status, 1, "the container is gone");
  assert.not.ok(existsSync(`/proc/${pid}/stat`) && !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8")), "its process is gone");
});

t("a failing poststop hook is a warning: delete succeeds and the rest run", ({ sb }) => {
  const out = join(sb.dir, `poststop-fails-${uniqueId("o")}`);
  mkdirSync(out);
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    c.hooks = { poststop: [sh("exit 1"), sh(`echo poststop1 >> ${out}/order`)] };
  }, { busybox: true });
  assert.is(sb.ocirt(["run", "-d", "-b", b, id]).status, 0);
  const r = sb.ocirt(["delete", "-f", id]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /hooks\.poststop\[0\]/);
  assert.equal(readFileSync(join(out, "order"), "utf8").split("\n").filter(Boolean), ["poststop1"]);
  assert.is(sb.ocirt(["state", id]).status, 1);
});

t("poststop hooks run after a failed create (a failing hook, or any later step), not for a refused config", ({ sb }) => {
  const out = join(sb.dir, `failed-create-${uniqueId("o")}`);
  mkdirSync(out);
  const cases: [string, (c: import("../../src/spec/types").OciConfig) => void, boolean][] = [
    ["prestart", (c) => (c.hooks!.prestart = [sh("exit 2")]), true],
    ["createContainer", (c) => (c.hooks!.createContainer = [sh("exit 2")]), true],
    ["a mount", (c) => c.mounts!.push({ destination: "/mnt", type: "ocidiff-nosuchfs", source: "none" }), true],
    ["an invalid config", (c) => (c.process!.cwd = "relative"), false],
  ];
  for (const [what, patch, runs] of cases) {
    const id = uniqueId();
    sb.ids.push(id);
    const mark = join(out, id);
    const b = sb.bundle((c) => {
      c.hooks = { poststop: [sh(`cat > ${mark}`)] };
      patch(c);
    }, { busybox: true });
    assert.is(sb.ocirt(["create", "-b", b, id]).status, 1, what);
    assert.is(existsSync(mark), runs, `${what}: poststop ${runs ? "runs" : "does not run"}`);
    if (runs) {
      const st = JSON.parse(readFileSync(mark, "utf8"));
      assert.equal(Object.keys(st), ["ociVersion", "id", "status", "bundle"], `${what}: runc's stopped state: no pid, no empty annotations`);
      assert.is(st.status, "stopped");
    }
  }
});

t("host hooks run in the bundle dir (runc chdirs there) and get runc's state: no pid once stopped, no empty annotations", ({ sb }) => {
  const out = join(sb.dir, `cwd-${uniqueId("o")}`);
  mkdirSync(out);
  const id = uniqueId();
  sb.ids.push(id);
  const rec = (stage: string) => [sh(`pwd > ${out}/${stage}.cwd; cat > ${out}/${stage}.json`)];
  const b = sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    c.hooks = { prestart: rec("prestart"), createRuntime: rec("createRuntime"), poststart: rec("poststart"), poststop: rec("poststop") };
  }, { busybox: true });
  assert.is(sb.ocirt(["create", "-b", b, id], { cwd: sb.dir }).status, 0);
  assert.is(sb.ocirt(["start", id], { cwd: sb.dir }).status, 0);
  assert.is(sb.ocirt(["delete", "-f", id], { cwd: out }).status, 0);
  for (const stage of ["prestart", "createRuntime", "poststart"]) {
    assert.is(readFileSync(join(out, `${stage}.cwd`), "utf8").trim(), b, `${stage} cwd`);
    const st = JSON.parse(readFileSync(join(out, `${stage}.json`), "utf8"));
    assert.equal(Object.keys(st), ["ociVersion", "id", "status", "pid", "bundle"], stage);
  }
  assert.is(readFileSync(join(out, "poststop.cwd"), "utf8").trim(), out, "poststop: delete's own cwd, as runc's");
  assert.equal(Object.keys(JSON.parse(readFileSync(join(out, "poststop.json"), "utf8"))), ["ociVersion", "id", "status", "bundle"]);
  // annotations, when there are some, are there
  const id2 = uniqueId();
  sb.ids.push(id2);
  const b2 = sb.bundle((c) => {
    c.annotations = { "org.example": "1" };
    c.hooks = { prestart: [sh(`cat > ${out}/annotated.json`)] };
  }, { busybox: true });
  assert.is(sb.ocirt(["create", "-b", b2, id2]).status, 0);
  assert.equal(JSON.parse(readFileSync(join(out, "annotated.json"), "utf8")).annotations, { "org.example": "1" });
  assert.is(sb.ocirt(["delete", "-f", id2]).status, 0);
});

t("host hooks without env inherit ocirt's environment as the caller gave it: same order, nothing added (runc's inherit the runtime's)", ({ sb }) => {
  const rec = join(sb.dir, `inherit-${uniqueId("o")}.jsonl`);
  const id = uniqueId();
  sb.ids.push(id);
  const probe = join(__dirname, "..", "..", "build", "probe", "probe");
  const b = sb.bundle((c) => (c.hooks = { prestart: [{ path: probe, args: ["probe-hook", "hook-record", "prestart", "0", rec] }] }));
  // an order no sorting gives, and no PWD (a shell as launcher would re-order and add one)
  const env = { ZZ_FIRST: "1", PATH: "/usr/sbin:/usr/bin:/sbin:/bin", AA_LAST: "2" };
  const r = sb.ocirt(["create", "-b", b, id], { env });
  assert.is(r.status, 0, r.stderr);
  const seen = JSON.parse(readFileSync(rec, "utf8").split("\n")[0]!).env as string[];
  assert.equal(seen, ["ZZ_FIRST=1", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "AA_LAST=2"]);
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t("in-container hooks without env get the process's environment (createContainer: before HOME is added); exec runs no startContainer hook", ({ sb }) => {
  const out = join(sb.dir, `env-${uniqueId("o")}`);
  mkdirSync(out);
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    c.process!.env = ["PATH=/bin", "A=1", "A=2"];
    c.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
    c.hooks = {
      // before pivot_root: the host's sh and env, host paths
      createContainer: [sh(`/usr/bin/env > ${out}/createContainer.env`)],
      // after start, in the container: its busybox
      startContainer: [sh("env > /out/startContainer.env; echo x >> /out/startContainer.count")],
    };
  }, { busybox: true });
  assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
  assert.is(sb.ocirt(["start", id]).status, 0);
  // what the shells add themselves (PWD, SHLVL, ...) left out
  const lines = (f: string) => readFileSync(join(out, f), "utf8").split("\n").filter((l) => /^(A|PATH|HOME)=/.test(l));
  assert.equal(lines("createContainer.env").sort(), ["A=2", "PATH=/bin"]);
  const end = Date.now() + 5000;
  // the count is written after env has written all of its file
  while (Date.now() < end && !existsSync(join(out, "startContainer.count"))) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  assert.equal(lines("startContainer.env").sort(), ["A=2", "HOME=/root", "PATH=/bin"]);
  const e = sb.ocirt(["exec", id, "/bin/true"]);
  assert.is(e.status, 0, e.stderr);
  assert.is(readFileSync(join(out, "startContainer.count"), "utf8"), "x\n", "startContainer ran once, for the init only");
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
});

t.run();
