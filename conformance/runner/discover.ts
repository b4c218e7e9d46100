// Finds the built validation executables in a runtime-tools tree and checks
// that the files they load by relative path (runtimetest, the rootfs tarball)
// are where the executables will look: in their cwd, the tree root.
import * as fs from "node:fs";
import * as path from "node:path";
import { HostError, UsageError } from "../../src/errors";

export interface ValidationFile {
  /** "create", "linux_cgroups_pids", ... */
  name: string;
  /** Path relative to the tree root, e.g. "validation/create/create.t". */
  rel: string;
}

export interface Discovery {
  files: ValidationFile[];
  /** Sources that have no built executable next to them. */
  unbuilt: string[];
}

export function discoverValidation(tree: string): Discovery {
  const dir = path.join(tree, "validation");
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new HostError(`cannot read ${dir}: ${(e as Error).message}`, { where: "--tree", cause: e });
  }
  const files: ValidationFile[] = [];
  const unbuilt: string[] = [];
  for (const e of entries) {
    // Current layout: validation/<name>/<name>.t; older trees: validation/<name>.t.
    if (e.isDirectory()) {
      if (e.name === "util") continue;
      const rel = path.join("validation", e.name, `${e.name}.t`);
      if (isExecutable(path.join(tree, rel))) files.push({ name: e.name, rel });
      else if (fs.existsSync(path.join(dir, e.name, `${e.name}.go`))) unbuilt.push(e.name);
    } else if (e.name.endsWith(".t") && isExecutable(path.join(dir, e.name))) {
      files.push({ name: e.name.slice(0, -2), rel: path.join("validation", e.name) });
    }
  }
  files.sort((a, b) => a.name.localeCompare(b.name));
  unbuilt.sort();
  return { files, unbuilt };
}

export function selectFiles(all: readonly ValidationFile[], only: readonly string[] | undefined, exclude: readonly string[]): ValidationFile[] {
  const known = new Set(all.map((f) => f.name));
  for (const n of [...(only ?? []), ...exclude]) {
    if (!known.has(n)) throw new UsageError(`no built validation file named ${JSON.stringify(n)} (known: ${[...known].join(", ")})`, { where: "--only/--exclude" });
  }
  return all.filter((f) => (only === undefined || only.includes(f.name)) && !exclude.includes(f.name));
}

/**
 * errors: missing files that would make every validation file fail for reasons
 * unrelated to the runtime. warnings: conditions that only make some fail.
 */
export function preflight(tree: string): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!isExecutable(path.join(tree, "runtimetest"))) errors.push(`${path.join(tree, "runtimetest")} is missing or not executable (make runtimetest)`);
  const tarball = `rootfs-${goArch()}.tar.gz`;
  if (!fs.existsSync(path.join(tree, tarball))) errors.push(`${path.join(tree, tarball)} is missing`);
  if (typeof process.getuid === "function" && process.getuid() !== 0) warnings.push("not running as root: the validation files create containers and cgroups");
  return { errors, warnings };
}

/**
 * Resolves a runtime command the way Go's exec.LookPath does, so that a typo
 * is reported once here: a missing runtime would otherwise "pass" the files
 * that only check that the runtime refuses a config.
 */
export function lookPath(command: string, pathVar: string = process.env.PATH ?? ""): string | undefined {
  if (command.includes("/")) return isExecutable(command) ? command : undefined;
  for (const dir of pathVar.split(":")) {
    const p = path.join(dir || ".", command);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** The GOARCH name runtime-tools uses in rootfs-<arch>.tar.gz. */
export function goArch(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return map[arch] ?? arch;
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
