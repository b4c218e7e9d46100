import { main } from "./main";

main(process.argv.slice(2), process.argv[1] ?? "").then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    process.stderr.write(`containerd-shim-ocirt-v2: internal error: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
