// Events to containerd: Forward calls on a stand-in for containerd's ttrpc events
// service, in order, retried while it fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:net";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TtrpcServer, TtrpcError, Code } from "../../src/shim/ttrpc";
import { ForwardRequest } from "../../src/shim/gen/events_service";
import { TaskExit, TaskStart } from "../../src/shim/gen/events";
import { Publisher, EVENTS_SERVICE } from "../../src/shim/events";
import { Any } from "../../src/shim/gen/google/protobuf/any";
import { TaskOOM } from "../../src/shim/gen/events";

const dir = mkdtempSync(join(tmpdir(), "ocirt-events-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

test("events go out in order as Envelopes (namespace, topic, Any named by the type), a failure is retried", async () => {
  const path = join(dir, "containerd.sock.ttrpc");
  const got: string[] = [];
  let failures = 1;
  const srv = new TtrpcServer();
  srv.register(EVENTS_SERVICE, {
    Forward: (p) => {
      const env = ForwardRequest.decode(p).envelope!;
      if (env.topic === "/tasks/start" && failures-- > 0) throw new TtrpcError(Code.Unavailable, "restarting");
      const detail = env.event!.typeUrl === "containerd.events.TaskExit" ? TaskExit.decode(env.event!.value).exitStatus : TaskStart.decode(env.event!.value).pid;
      got.push(`${env.namespace} ${env.topic} ${env.event!.typeUrl} ${detail} ${env.timestamp!.seconds > 0n}`);
      return new Uint8Array(0);
    },
  });
  const server = createServer();
  srv.serve(server);
  await new Promise<void>((r) => server.listen(path, r));
  const pub = new Publisher({ namespace: "k8s.io", ttrpcAddress: `unix://${path}`, retryMs: 10 });
  try {
    pub.publish("start", { containerId: "c", pid: 42 });
    pub.publish("exit", { containerId: "c", id: "c", pid: 42, exitStatus: 3 });
    await pub.flush(5000);
    assert.equal(got, [
      "k8s.io /tasks/start containerd.events.TaskStart 42 true",
      "k8s.io /tasks/exit containerd.events.TaskExit 3 true",
    ]);
  } finally {
    pub.close();
    srv.closeAll();
    server.close();
  }
});

test("without TTRPC_ADDRESS: `containerd --address A publish --topic T --namespace N` with the Any on stdin", async () => {
  const bin = join(dir, "containerd");
  writeFileSync(bin, `#!/bin/sh\necho "$@" > ${dir}/args\ncat > ${dir}/stdin\n`);
  chmodSync(bin, 0o755);
  const pub = new Publisher({ namespace: "default", publishBinary: bin, containerdAddress: "/run/containerd/containerd.sock" });
  pub.publish("oom", { containerId: "c9" });
  await pub.flush(5000);
  assert.is(readFileSync(join(dir, "args"), "utf8").trim(), "--address /run/containerd/containerd.sock publish --topic /tasks/oom --namespace default");
  const any = Any.decode(readFileSync(join(dir, "stdin")));
  assert.is(any.typeUrl, "containerd.events.TaskOOM");
  assert.is(TaskOOM.decode(any.value).containerId, "c9");
});

test.run();
