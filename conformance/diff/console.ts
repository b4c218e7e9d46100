// Terminals: process.terminal with --console-socket, as containerd's shim does it. The
// engine's side is the probe's `console-recv` (static, run on the host): it takes the
// pty master over SCM_RIGHTS and reads the container's output. Compared: the hand-off
// (message, what the fd is), the output's line endings, and the probe's report as seen
// through the terminal (its stdio, controlling tty, /dev/pts, window size).

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseProbeReport, type ConsoleRecord } from "../probe/report";
import type { OciConfig } from "../../src/spec/types";
import { classifyStderr } from "./compare";
import { baseConfig, finish } from "./corpus";
import type { Harness } from "./env";
import { writeBundle } from "./inside";
import { normaliseReport, normaliseString } from "./normalise";
import { waitFor, waitGone, type Runtime } from "./runtime";
import type { Tally } from "./tally";

interface ConsoleCase {
  name: string;
  patch(c: OciConfig): void;
  /** Run the probe report through `exec -t` in a running container instead. */
  exec?: boolean;
}

export function consoleCases(): ConsoleCase[] {
  return [
    { name: "terminal", patch: () => {} },
    { name: "terminal + consoleSize 30x100", patch: (c) => { c.process!.consoleSize = { height: 30, width: 100 }; } },
    { name: "terminal + user 1000", patch: (c) => { c.process!.user = { uid: 1000, gid: 1000, additionalGids: [5] }; } },
    { name: "terminal without /dev/pts mount", patch: (c) => { c.mounts = c.mounts!.filter((m) => m.destination !== "/dev/pts"); } },
    { name: "exec --tty --console-socket", patch: () => {}, exec: true },
  ];
}

const FILES = "PROBE_FILES=/dev/console,/dev/ptmx,/dev/pts/ptmx,/dev/pts/0,/dev/pts/1,/dev/tty";

function recvConsole(h: Harness, sock: string): { done: Promise<ConsoleRecord> } {
  const p = spawn(h.probe, ["console-recv", sock, "30"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  // "close", not "exit": the exit can come before the last of its stdout was read (seen under load)
  const done = new Promise<ConsoleRecord>((resolve) =>
    p.on("close", () => {
      try {
        resolve(JSON.parse(out.split("\n")[0] ?? "") as ConsoleRecord);
      } catch {
        resolve({ error: `console-recv: ${out.slice(0, 100)}` });
      }
    }),
  );
  return { done };
}

async function runCase(h: Harness, rt: Runtime, cc: ConsoleCase): Promise<Record<string, unknown>> {
  const id = h.newId(rt, "tty");
  const c = baseConfig(h.corpusEnv);
  c.process!.terminal = true;
  c.process!.args = cc.exec ? ["/bin/probe", "sleep", "inf"] : ["/bin/probe", "report"];
  cc.patch(c);
  finish(c);
  c.process!.env!.push(FILES);
  const bundle = writeBundle(rt, id, c, { rootfs: h.corpusEnv.rootfs });
  const sock = join(rt.work, "io", `${id}.sock`);
  const pidFile = join(rt.work, "io", `${id}.pid`);
  const res: Record<string, unknown> = {};
  let recv = recvConsole(h, sock);
  await waitFor(() => existsSync(sock), 5000);
  const cr = await rt.exec(["create", "--bundle", bundle, "--pid-file", pidFile, "--console-socket", sock, id]);
  res.create = { status: cr.status, error: cr.status ? classifyStderr(cr.stderr, cr.status).keywords : [] };
  let rec: ConsoleRecord | null = null;
  if (cr.status === 0) {
    const st = await rt.exec(["start", id]);
    res.start = st.status;
    if (cc.exec) {
      // the container's own terminal is left alone; exec gets a terminal of its own
      const first = await recv.done;
      res.containerConsole = { name: first.name === undefined ? null : normaliseString(String(first.name), h.norm(rt)), fds: first.fds };
      recv = recvConsole(h, sock);
      await waitFor(() => existsSync(sock), 5000);
      const ex = await rt.exec(["exec", "--tty", "--console-socket", sock, "--detach", "--pid-file", join(rt.work, "io", `${id}.epid`), id, "/bin/probe", "report"]);
      res.exec = { status: ex.status, error: ex.status ? classifyStderr(ex.stderr, ex.status).keywords : [] };
      rec = await recv.done;
    } else {
      rec = await recv.done;
      if (existsSync(pidFile)) await waitGone(Number(readFileSync(pidFile, "utf8")), 5000);
    }
  } else {
    // nothing will connect: stop the listener by connecting once ourselves
    require("node:net").connect(sock).on("error", () => undefined).end();
    await recv.done;
  }
  if (rec) {
    res.message = rec.name === undefined || rec.name === null ? rec.name ?? null : normaliseString(rec.name, h.norm(rt));
    res.fds = rec.fds;
    res.fd = rec.fd;
    const output = rec.output ?? "";
    res.lineEndings = output.includes("\r\n") ? "CRLF" : output.includes("\n") ? "LF" : "none";
    try {
      const r = normaliseReport(parseProbeReport(output.replace(/\r\n/g, "\n")), h.norm(rt), h.hostNs);
      for (const k of ["stdio", "tty", "ctty", "files", "pgid", "sid", "fds", "dev", "mounts", "env", "uid", "gid", "groups"]) res[`report.${k}`] = r[k];
    } catch {
      res.output = normaliseString(output.slice(0, 200), h.norm(rt));
    }
  }
  await rt.exec(["delete", "--force", id]);
  return res;
}

export async function consoleCategory(h: Harness, t: Tally, args: { quick: boolean; filter: string | null }): Promise<void> {
  let cases = consoleCases();
  if (args.quick) cases = cases.slice(0, 2);
  if (args.filter) cases = cases.filter((c) => c.name.includes(args.filter!) || "console".includes(args.filter!));
  for (const cc of cases) {
    const [a, b] = await Promise.all([runCase(h, h.runc, cc), runCase(h, h.ocirt, cc)]);
    t.cells("console", cc.name, a, b);
  }
}
