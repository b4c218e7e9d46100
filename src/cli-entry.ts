import { stderr } from "./io";
import { main } from "./main";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    stderr(`internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
