// The parent's side of the sync-socket protocol with the init helper (addon/plan.h):
// answer its requests until READY, turn ERROR into one line naming the config field.
import { SetupError } from "../errors";
import { native } from "../native";
import { Sync, type PlanOp } from "../plan/ops";
import { strerror } from "./errno";
import { phase } from "../profile";

export interface ProtocolHandlers {
  /** write the uid/gid maps of the (cloned) process */
  usermap?(pid: number): void;
  /** put the process in its cgroup (the systemd driver answers once its unit is started) */
  cgroup(pid: number): void | Promise<void>;
  /** runtime-namespace hooks of a stage the helper reached */
  hooks?(stage: number, pid: number): void;
  /** the seccomp notify fd, to hand to the listener */
  seccompFd?(fd: number, pid: number): Promise<void>;
  /** the pty master of process.terminal (kept by the handler when it returns true) */
  console?(fd: number, name: string): boolean;
}

/** The helper's messages by name, for the phase profile. */
const SYNC_NAMES: Record<number, string> = {
  [Sync.USERMAP_PLS]: "USERMAP_PLS", [Sync.CGROUP_PLS]: "CGROUP_PLS", [Sync.HOOKS_PLS]: "HOOKS_PLS", [Sync.READY]: "READY", [Sync.ERROR]: "ERROR",
  [Sync.CHILD_PID]: "CHILD_PID", [Sync.SECCOMP_FD]: "SECCOMP_FD", [Sync.CONSOLE_FD]: "CONSOLE_FD", 0: "EOF",
};

/** Returns the pid of the process that will run the program (differs after OP_FORK). */
export async function driveProtocol(syncFd: number, pid: number, ops: PlanOp[], h: ProtocolHandlers, step = "create"): Promise<number> {
  const n = native();
  let finalPid = pid;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const msg = n.syncRecv(syncFd, Math.max(1, deadline - Date.now()));
    if (!msg) throw new SetupError("the container's init did not report within 60 s", undefined, { where: step });
    phase(`init → ${SYNC_NAMES[msg.type] ?? msg.type}`);
    switch (msg.type) {
      case 0:
        throw new SetupError("the container's init exited during setup without saying why", undefined, { where: step });
      case Sync.USERMAP_PLS:
        h.usermap?.(pid);
        break;
      case Sync.CGROUP_PLS:
        await h.cgroup(pid);
        break;
      case Sync.CHILD_PID:
        finalPid = msg.errno;
        try { n.waitpid(pid, 0); } catch { /* reaped */ }
        continue; // no answer expected
      case Sync.SECCOMP_FD:
        try {
          await h.seccompFd?.(msg.fd, finalPid);
        } finally {
          n.close(msg.fd);
        }
        break;
      case Sync.CONSOLE_FD: {
        let kept = false;
        try {
          if (!h.console) throw new SetupError("process.terminal is set but nothing takes the console", undefined, { where: "process.terminal" });
          kept = h.console(msg.fd, msg.message);
        } finally {
          if (!kept) n.close(msg.fd);
        }
        break;
      }
      case Sync.HOOKS_PLS:
        h.hooks?.(msg.errno, finalPid);
        break;
      case Sync.READY:
        return finalPid;
      case Sync.ERROR: {
        const op = ops[msg.op];
        const detail = msg.errno ? `${msg.message}: ${strerror(msg.errno)}` : msg.message;
        throw new SetupError(detail, msg.errno, { where: op?.what ?? `step ${msg.op}` });
      }
      default:
        throw new SetupError(`unexpected message ${msg.type} from the container's init`, undefined, { where: step });
    }
    // every request is answered with ACK carrying the pid the program will have
    n.syncSend(syncFd, Sync.ACK, finalPid);
    phase(`answer ${SYNC_NAMES[msg.type] ?? msg.type}`);
  }
}
