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

t("poststart and poststop failures are warnings: the container still runs and is removed", ({ sb }) => {
  const id = uniqueId();
  sb.ids.push(id);
  const b = sb.bundle((c) => {
    c.process!.args = ["/bin/probe", "sleep", "inf"];
    c.hooks = { poststart: [sh("exit 1")], poststop: [sh("exit 1")] };
  }, { busybox: true });
  assert.is(sb.ocirt(["create", "-b", b, id]).status, 0);
  const r = sb.ocirt(["start", id]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /hooks\.poststart\[0\]/);
  assert.is(JSON.parse(sb.ocirt(["state", id]).stdout).status, "running");
  assert.is(sb.ocirt(["delete", "-f", id]).status, 0);
  assert.is(sb.ocirt(["state", id]).status, 1);
});

t.run();
