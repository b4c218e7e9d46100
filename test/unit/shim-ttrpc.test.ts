// ttrpc framing and the server/client over a real unix socket (no root needed).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, FrameDecoder, MAX_DATA, MSG_REQUEST, TtrpcClient, TtrpcError, TtrpcServer, encodeFrame } from "../../src/shim/ttrpc";
import { Request } from "../../src/shim/gen/ttrpc";

const dir = mkdtempSync(join(tmpdir(), "ocirt-ttrpc-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

test("a frame is 10 header bytes (length, stream id big-endian, type, flags) and the data", () => {
  const f = encodeFrame(3, MSG_REQUEST, 0, Buffer.from("abc"));
  assert.equal([...f], [0, 0, 0, 3, 0, 0, 0, 3, 1, 0, 0x61, 0x62, 0x63]);
  const big = encodeFrame(0x01020304, 2, 0, new Uint8Array(0x0105));
  assert.equal([...big.subarray(0, 10)], [0, 0, 1, 5, 1, 2, 3, 4, 2, 0]);
});

test("the decoder reassembles frames split anywhere and refuses one over 4 MiB", () => {
  const a = encodeFrame(1, 1, 0, Buffer.from("hello"));
  const b = encodeFrame(3, 1, 0, Buffer.from("world!"));
  const all = Buffer.concat([a, b]);
  for (let cut = 0; cut <= all.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
    assert.equal(frames.map((f) => [f.streamId, f.data.toString()]), [[1, "hello"], [3, "world!"]], `cut at ${cut}`);
  }
  const d = new FrameDecoder();
  const header = Buffer.alloc(10);
  header.writeUInt32BE(MAX_DATA + 1, 0);
  assert.throws(() => d.push(header), /exceeds the ttrpc limit/);
  assert.throws(() => encodeFrame(1, 1, 0, new Uint8Array(MAX_DATA + 1)), /exceeds/);
});

function listen(path: string, srv: TtrpcServer): Promise<Server> {
  const s = createServer();
  srv.serve(s);
  return new Promise((res) => s.listen(path, () => res(s)));
}

test("server and client: unary calls answered out of order, errors as gRPC codes", async () => {
  const path = join(dir, "a.sock");
  const srv = new TtrpcServer();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  srv.register("test.v1.Echo", {
    Echo: (p) => Buffer.concat([Buffer.from("echo:"), Buffer.from(p)]),
    Slow: async (p) => (await gate, p),
    Fail: () => { throw new TtrpcError(Code.NotFound, "no such thing"); },
    Crash: () => { throw new Error("boom"); },
    Meta: (_p, md) => Buffer.from(JSON.stringify(md)),
  });
  const server = await listen(path, srv);
  const c = new TtrpcClient(path);
  try {
    const slow = c.call("test.v1.Echo", "Slow", Buffer.from("late"), 2000);
    assert.is(Buffer.from(await c.call("test.v1.Echo", "Echo", Buffer.from("x"))).toString(), "echo:x", "a later call is not held up by a pending one");
    release();
    assert.is(Buffer.from(await slow).toString(), "late");
    const err = async (m: string, svc = "test.v1.Echo") => {
      try {
        await c.call(svc, m, new Uint8Array(0));
      } catch (e) {
        return e as TtrpcError;
      }
      throw new Error("no error");
    };
    assert.equal([(await err("Fail")).code, (await err("Fail")).message], [Code.NotFound, "no such thing"]);
    assert.is((await err("Crash")).code, Code.Unknown);
    assert.is((await err("Nope")).code, Code.Unimplemented);
    assert.is((await err("Echo", "other.Service")).code, Code.Unimplemented);
    assert.is((await err("toString")).code, Code.Unimplemented, "inherited properties are not methods");
    const md = JSON.parse(Buffer.from(await c.call("test.v1.Echo", "Meta", new Uint8Array(0), 1000, { "containerd-namespace-ttrpc": "k8s.io" })).toString());
    assert.equal(md, { "containerd-namespace-ttrpc": ["k8s.io"] });
  } finally {
    c.close();
    srv.closeAll();
    server.close();
  }
});

test("the client reconnects after the server went away, and a timeout rejects", async () => {
  const path = join(dir, "b.sock");
  const srv = new TtrpcServer();
  srv.register("s", { Hang: () => new Promise<Uint8Array>(() => {}), Ok: () => Buffer.from("ok") });
  let server = await listen(path, srv);
  const c = new TtrpcClient(path);
  try {
    await assert.not.throws(async () => c.call("s", "Ok", new Uint8Array(0)));
    await c.call("s", "Hang", new Uint8Array(0), 50).then(() => assert.unreachable(), (e: TtrpcError) => assert.is(e.code, Code.DeadlineExceeded));
    srv.closeAll();
    server.close();
    await new Promise((r) => setTimeout(r, 20));
    server = await listen(path, srv);
    assert.is(Buffer.from(await c.call("s", "Ok", new Uint8Array(0))).toString(), "ok");
  } finally {
    c.close();
    srv.closeAll();
    server.close();
  }
});

test("a request on the wire carries service, method, payload and the timeout in ns", () => {
  const bytes = Request.encode({ service: "containerd.task.v2.Task", method: "State", payload: Buffer.from([0x0a, 0x01, 0x63]), timeoutNano: 5_000_000_000n, metadata: [] }).finish();
  const r = Request.decode(bytes);
  assert.equal([r.service, r.method, [...r.payload], r.timeoutNano], ["containerd.task.v2.Task", "State", [0x0a, 0x01, 0x63], 5_000_000_000n]);
  // field 1 (service) is the first thing on the wire: tag 0x0a, length 23
  assert.equal([...bytes.subarray(0, 2)], [0x0a, 23]);
});

test.run();
