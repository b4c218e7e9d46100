// The init helper built against the recording fake of its system calls
// (test/unit/init/sys_fake.c): runs an op list, returns the calls it made.
// No root needed: nothing reaches the kernel but the plan's own fd.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePlan } from "../../../src/plan/encode";
import type { PlanOp } from "../../../src/plan/ops";

const REPO = join(__dirname, "..", "..", "..");
const INIT_SOURCES = ["init", "sync", "paths", "procfs", "rootfs", "idmap", "process", "exec", "ops"].map((f) => join(REPO, "addon", "init", `${f}.c`));
const FAKE = join(__dirname, "sys_fake.c");
const HEADERS = [join(REPO, "addon", "plan.h"), join(REPO, "addon", "scm.h"), join(REPO, "addon", "init", "init.h"), join(REPO, "addon", "init", "sys.h")];

let built: string | undefined;

/** gcc the helper's sources with the fake table (cached by the sources' hash). */
export function fakeHelper(): string {
  if (built) return built;
  const h = createHash("sha256");
  for (const f of [...INIT_SOURCES, FAKE, ...HEADERS]) h.update(readFileSync(f));
  const dir = join(REPO, "build", "test");
  const out = join(dir, `ocirt-init-fake-${h.digest("hex").slice(0, 16)}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}`;
    execFileSync("gcc", ["-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
      "-I", join(REPO, "addon"), "-I", join(REPO, "addon", "init"), ...INIT_SOURCES, FAKE, "-o", tmp], { stdio: "pipe" });
    renameSync(tmp, out);
  }
  return (built = out);
}

export interface FakeOptions {
  /** "kind path [target]" lines: d dir, f file, l symlink, c char device (1:3) */
  fs?: string[];
  /** extra mounts: "type path [hex MS flags]" */
  mounts?: string[];
  /** names of the extra fds, in order (own+2 ...): the fake shows them by these */
  extra?: string[];
  /** what fds 0, 1, 2 stand for ("" : nothing the fake knows), e.g. ["/dev/null"] with "c /dev/null" in fs */
  stdio?: string[];
  /** what each fork returns: "parent" (default) or "child" */
  fork?: string[];
  hookStatus?: number;
  /** "call=errno" */
  fail?: string[];
  mountinfo?: string;
  writeEpipe?: string[];
  /** "name=text": the first read of the fd of that name (a pipe: "pipe2:r") returns text */
  read?: string;
  /** a raw plan instead of encoding ops */
  raw?: Buffer;
}

export interface FakeRun {
  status: number;
  /** every call, one per line */
  calls: string[];
  stderr: string;
  /** the ERROR the helper sent, if any */
  error?: string;
}

/** Runs the plan; the helper's fds: 3 sync (faked), 4 the plan, 5... extra. */
export function runFake(ops: PlanOp[], o: FakeOptions = {}): FakeRun {
  const bin = fakeHelper();
  const planPath = join(tmpdir(), `ocirt-fake-plan-${process.pid}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(planPath, o.raw ?? encodePlan(ops));
  const planFd = openSync(planPath, "r");
  const nullFd = openSync("/dev/null", "r");
  const extra = o.extra ?? [];
  try {
    const stdio: ("ignore" | "pipe" | number)[] = ["ignore", "pipe", "pipe", nullFd, planFd, ...extra.map(() => nullFd)];
    const env: Record<string, string> = {
      FAKE_FS: (o.fs ?? []).join("\n"),
      FAKE_MOUNTS: (o.mounts ?? []).join("\n"),
      FAKE_FDS: [...(o.stdio ?? []).map((p, i) => (p ? `${i}=${p}` : "")), ...extra.map((p, i) => `${5 + i}=${p}`)].filter(Boolean).join(","),
      FAKE_FORK: (o.fork ?? []).join(","),
      FAKE_FAIL: (o.fail ?? []).join(","),
      FAKE_WRITE_EPIPE: (o.writeEpipe ?? []).join(" "),
    };
    if (o.hookStatus !== undefined) env.FAKE_HOOK_STATUS = String(o.hookStatus);
    if (o.mountinfo !== undefined) env.FAKE_MOUNTINFO = o.mountinfo;
    if (o.read !== undefined) env.FAKE_READ = o.read;
    const r = spawnSync(bin, ["0", String(2 + extra.length)], { stdio, env, maxBuffer: 64 << 20, timeout: 20_000 });
    if (r.error) throw r.error;
    const calls = r.stdout.toString().split("\n").filter((l) => l !== "");
    const err = calls.find((l) => l.startsWith("send ERROR"));
    return { status: r.status ?? -1, calls, stderr: r.stderr.toString(), ...(err ? { error: err.replace(/^send ERROR op=\d+ /, "") } : {}) };
  } finally {
    closeSync(planFd);
    closeSync(nullFd);
    rmSync(planPath, { force: true });
  }
}

/** Index of the first call matching re at or after from; -1 if none. */
export function indexOf(calls: string[], re: RegExp, from = 0): number {
  for (let i = from; i < calls.length; i++) if (re.test(calls[i]!)) return i;
  return -1;
}

/** The calls match these patterns in this order (others may come between). Returns their indexes. */
export function inOrder(calls: string[], res: RegExp[]): number[] {
  const at: number[] = [];
  let from = 0;
  for (const re of res) {
    const i = indexOf(calls, re, from);
    if (i < 0) throw new Error(`no call matching ${re} after #${from} (${at.length} of ${res.length} found) in:\n  ${calls.join("\n  ")}`);
    at.push(i);
    from = i + 1;
  }
  return at;
}

/** A rootfs for the fake: /rootfs with the usual directories and a /dev/null. */
export const ROOTFS_FS = ["f /bin/sh", "d /rootfs/proc", "d /rootfs/sys", "d /rootfs/dev", "c /rootfs/dev/null", "d /rootfs/etc", "d /rootfs/bin", "f /rootfs/bin/sh", "d /host/data", "f /host/file"];
