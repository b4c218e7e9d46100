import { stderr } from "./io";
import { main } from "./main";
import { handOffEngine } from "./engine";

// dist/ocirt, the bundle Bun runs from its `#!` line (scripts/build.mjs writeEntry): an
// OCIRT_ENGINE naming another engine goes to the C launcher, which runs that one.
if (process.versions["bun"] && require.main === module) handOffEngine();

// The process lives until main settles, whatever an engine counts as pending work: a
// native module's async work (waitpid of the container's or exec's process on a worker
// thread) may not keep every engine's loop alive. Added after a foreground exec's exit
// status came back 0 twice under Bun; the cause found later was the helper's fork
// (addon/init/exec.c op_fork: ocirt could take the helper's pid, exit 0, for the
// program's); this stays as a guard.
const keepAlive = setInterval(() => {}, 1 << 30);

main(process.argv.slice(2)).then(
  (code) => {
    clearInterval(keepAlive);
    // nothing is left to run once main has settled (output is written synchronously): exit
    // now rather than wait for the engine to wind its loop down (~0.25 ms under Bun)
    process.exit(code);
  },
  (err) => {
    clearInterval(keepAlive);
    stderr(`internal error: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
