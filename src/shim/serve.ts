// The long-lived shim: serves the Task service on the socket `start` bound (fd 3),
// reaps its containers' processes as their child subreaper, publishes events, and
// exits when containerd shuts it down after its last container was deleted (or on
// SIGTERM/SIGINT).
import { unlinkSync } from "node:fs";
import { createServer } from "node:net";
import type { ShimFlags } from "./flags";
import { socketPath } from "./flags";
import { Publisher } from "./events";
import { Reaper } from "./reaper";
import { TaskService, TASK_SERVICE } from "./service";
import { TtrpcServer } from "./ttrpc";
import { sys } from "./runtime";
import { configureShimLog, shimLog } from "./log";
import { startSpare, waitAsSpare } from "./spare";

/** The long-lived shim on the socket `start` bound (fd 3), or first a spare that waits to be handed one. */
export function serve(f: ShimFlags): void {
  if (f.spare) {
    waitAsSpare(f, (h) => serveOn(h.flags, h.listenFd, h.shimAddress));
    return;
  }
  const address = process.env["OCIRT_SHIM_ADDRESS"] ?? "";
  delete process.env["OCIRT_SHIM_ADDRESS"];
  serveOn(f, 3, address);
}

function serveOn(f: ShimFlags, listenFd: number, address: string): void {
  configureShimLog({ debug: f.debug, id: f.id, namespace: f.namespace });
  const n = sys();
  n.setChildSubreaper(1);
  const reaper = new Reaper(n);
  const publisher = new Publisher({
    namespace: f.namespace,
    ttrpcAddress: process.env["TTRPC_ADDRESS"],
    publishBinary: f.publishBinary,
    containerdAddress: f.address,
  });
  const ttrpc = new TtrpcServer();
  ttrpc.onError = (what, err) => shimLog.warn(`ttrpc ${what}`, { error: (err as Error)?.message ?? String(err) });
  const server = createServer();
  let exiting = false;
  let spared = false;
  const spare = () => {
    if (spared) return;
    spared = true;
    startSpare(f, (c) => service.adopt(c));
  };
  const shutdown = async (why: string) => {
    if (exiting) return;
    exiting = true;
    // the next container's shim, already started (off this one's path: after its Delete)
    spare();
    const ru = process.resourceUsage();
    shimLog.info("shim shutting down", { reason: why, cpuMs: ((ru.userCPUTime + ru.systemCPUTime) / 1000).toFixed(1), maxRssKb: ru.maxRSS });
    await publisher.flush(5000);
    publisher.close();
    // the socket file goes with the shim (a bound fd does not unlink it on close)
    if (address) {
      try { unlinkSync(socketPath(address)); } catch { /* gone */ }
    }
    server.close();
    ttrpc.closeAll();
    service.closeAll();
    // a stdin FIFO open still waiting on a worker thread would hold up exit()
    setTimeout(() => process.exit(0), 50);
  };
  const service = new TaskService({ namespace: f.namespace, reaper, publisher, shutdown: () => void shutdown("shutdown requested") });
  process.on("SIGCHLD", () => {
    const inits = new Set([...service.containers.values()].map((c) => c.init.pid));
    reaper.reap((pid) => inits.has(pid));
  });
  reaper.reap();
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  ttrpc.register(TASK_SERVICE, service.methods());
  ttrpc.serve(server);
  server.on("error", (err) => {
    shimLog.error("serving the shim socket", { error: err.message });
    void shutdown("socket error");
  });
  // `start` bound and listens on it; we take it over (and keep it from our children)
  n.setCloexec(listenFd);
  server.listen({ fd: listenFd });
  shimLog.debug("shim serving", { address });
  // the next container's shim is started now, off its critical path
  setTimeout(spare, 1000).unref();
}
