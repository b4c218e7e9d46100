import { stderr } from "./io";
import { main } from "./main";

// The process lives until main settles: a native module's async work (waitpid of the
// container's or exec's process on a worker thread) is not pending work to every engine,
// and an engine whose event loop looks empty ends the process with status 0 meanwhile.
// Seen as a lost exit status of a foreground exec under Bun, now and then.
const keepAlive = setInterval(() => {}, 1 << 30);

main(process.argv.slice(2)).then(
  (code) => {
    clearInterval(keepAlive);
    process.exitCode = code;
  },
  (err) => {
    clearInterval(keepAlive);
    stderr(`internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
