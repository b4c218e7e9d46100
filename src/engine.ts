// The engine ocirt runs on (docs/speed.md). Bun starts the bundle directly from the `#!` line
// of dist/ocirt; OCIRT_ENGINE (node, bun or a path: the C launcher's variable) can ask for
// another, which the launcher (build/Release/ocirt) runs: this process becomes it (same pid).
import { native } from "./native";
import { parseArgv } from "./cli/parse";
import { socketActivationFds } from "./host";

export function handOffEngine(argv: string[] = process.argv.slice(2)): void {
  const want = process.env["OCIRT_ENGINE"];
  if (!want || want === "bun" || want === process.execPath) return;
  const n = native();
  // Bun marks every fd it inherits from 4 up close-on-exec when it starts (close_range(4, ~0,
  // CLOSE_RANGE_CLOEXEC)): the ones this command passes on (LISTEN_FDS, --preserve-fds: 3..)
  // must outlive the exec into the other engine
  for (let fd = 3; fd < 3 + passedFds(argv); fd++) {
    try {
      n.setCloexec(fd, false);
    } catch { /* not open: the command reports it */ }
  }
  const launcher = `${__dirname}/../build/Release/ocirt`;
  n.execv(launcher, [launcher, ...argv]);
}

/** How many fds from 3 the command passes to a container (create, run, exec), as they count them. */
export function passedFds(argv: string[]): number {
  try {
    const p = parseArgv(argv);
    if (p.kind !== "command") return 0;
    const preserve = Number(p.flags["preserve-fds"] ?? 0) || 0;
    return (p.command.name === "exec" ? 0 : socketActivationFds()) + preserve;
  } catch {
    return 0; // a usage error: the command says so itself
  }
}
