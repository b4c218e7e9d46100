// The VM lane's one entry point (run by tsx; `npm run vm -- ...`, `npm run test:vm`):
//   tsx vm/vm.ts [options] [--] COMMAND...   one command as root in a throwaway VM
//   tsx vm/vm.ts setup [--systemd] [--scratch ext4] [--kernel-package PKG]
//   tsx vm/vm.ts test [--systemd] [options] [FILE_PATTERN]
import { lane } from "./lane";
import { parseVmArgs, UsageError, USAGE } from "./plan";
import { runVm } from "./run";
import { ensureHostPackages, ensureInitrd, installKernel, resolveKernel, VmSetupError } from "./setup";

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "-h" || argv[0] === "--help" || argv.length === 0) {
    console.log(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === "setup") {
    const rest = argv.slice(1);
    const i = rest.indexOf("--kernel-package");
    const pkg = i >= 0 ? rest[i + 1] : undefined;
    if (i >= 0) {
      if (!pkg) throw new UsageError("--kernel-package needs a package name");
      rest.splice(i, 2);
    }
    const o = parseVmArgs(rest);
    if (o.command.length) throw new UsageError(`setup takes no command: ${o.command.join(" ")}`);
    ensureHostPackages(o.mode, o.scratch);
    if (pkg) installKernel(pkg);
    const k = resolveKernel(o.kernel);
    console.log(`kernel ${k.kver} in ${k.dir}`);
    console.log(`initramfs ${ensureInitrd(k.dir, k.kver, o.scratch)}`);
    return 0;
  }
  if (argv[0] === "test") return lane(parseVmArgs(argv.slice(1)));
  const o = parseVmArgs(argv[0] === "run" ? argv.slice(1) : argv);
  if (o.command.length === 0) throw new UsageError("no command given");
  return (await runVm(o)).status;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`vm: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`vm: ${err instanceof VmSetupError ? err.message : (err as Error).stack ?? err}`);
    process.exit(125);
  },
);
