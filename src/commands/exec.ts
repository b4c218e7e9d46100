import type { Context } from "../context";
import { bool, str } from "../context";
import { StateStore } from "../state";
import { execInContainer, processFromFlags, readProcessFile } from "../lifecycle/exec";
import { native } from "../native";
import { forwardSignals, waitExit } from "../lifecycle/foreground";
import { CommandFailed, ConfigError, ExitStatus, UsageError } from "../errors";
import type { OciConfig } from "../spec/types";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"];

export default async function exec(ctx: Context): Promise<void> {
  try {
    await run(ctx);
  } catch (err) {
    if (err instanceof ExitStatus || err instanceof UsageError) throw err;
    throw new CommandFailed("exec", 255, err);
  }
}

async function run(ctx: Context): Promise<void> {
  const [id, ...args] = ctx.args;
  const h = new StateStore(ctx.globals.root).open(id!, { lock: false });
  const rec = h.read();
  const saved = (rec.runtime?.["config"] as OciConfig | undefined)?.process;
  const processFile = str(ctx, "process");
  // runc: "exec failed: process args cannot be empty", exit 255
  if (!processFile && !args.length) throw new ConfigError("process args cannot be empty: give a command, or --process FILE", [], { where: "process.args" });
  const proc = processFile
    ? readProcessFile(processFile)
    : processFromFlags(saved, args, {
        cwd: str(ctx, "cwd"),
        env: ctx.flags["env"] as string[] | undefined,
        user: str(ctx, "user"),
        additionalGids: ctx.flags["additional-gids"] as string[] | undefined,
        caps: ctx.flags["cap"] as string[] | undefined,
        noNewPrivs: bool(ctx, "no-new-privs"),
        apparmor: str(ctx, "apparmor"),
        processLabel: str(ctx, "process-label"),
        tty: bool(ctx, "tty"),
      });
  const detach = bool(ctx, "detach");
  const n = native();
  // the process is a grandchild when the helper forks into the pid namespace: as
  // subreaper we still wait for it
  if (!detach) n.setChildSubreaper(1);
  const { pid, consoleFd, pipes } = await execInContainer(h, rec, {
    consoleSocket: str(ctx, "console-socket"),
    subCgroups: ctx.flags["cgroup"] as string[] | undefined,
    process: proc,
    detach,
    pidFile: str(ctx, "pid-file"),
    preserveFds: Number(ctx.flags["preserve-fds"] ?? 0),
    ignorePaused: bool(ctx, "ignore-paused"),
  });
  if (detach) return;
  const stopForwarding = forwardSignals(pid, FORWARDED);
  const code = await waitExit(pid, consoleFd);
  stopForwarding();
  // as runc: all the output, until every holder of the pipes closed them (a process
  // the command left in the background included)
  await pipes?.finish();
  throw new ExitStatus(code);
}
