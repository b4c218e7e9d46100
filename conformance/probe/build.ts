// Builds the static probe binary that integration tests run inside containers.
// Usage: npx tsx conformance/probe/build.ts [--force]
// Rebuilds only when probe.c is newer than the binary, so every test file can
// call buildProbe() without paying for gcc each time.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { HostError } from "../../src/errors";

/** The checkout's root: the nearest directory above this file with ocirt's package.json. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, "utf8")).name === "ocirt") return dir;
      } catch {
        /* not ours; keep walking up */
      }
    }
    if (dirname(dir) === dir) throw new HostError(`no ocirt package.json above ${__dirname}`, { where: "probe build" });
  }
}

export function probeSourcePath(): string {
  return join(repoRoot(), "conformance", "probe", "probe.c");
}

export function probeOutputPath(): string {
  return join(repoRoot(), "build", "probe", "probe");
}

export const PROBE_CFLAGS: readonly string[] = ["-std=gnu11", "-static", "-O2", "-Wall", "-Wextra"];

/** True when the output is missing or older than the source. */
export function probeIsStale(src = probeSourcePath(), out = probeOutputPath()): boolean {
  if (!existsSync(out)) return true;
  return statSync(src).mtimeMs > statSync(out).mtimeMs;
}

/**
 * Compiles probe.c if needed and returns the binary's path. Compiles to a
 * temporary name and renames, so parallel test processes never see (or exec)
 * a half-written binary.
 */
export function buildProbe(opts: { force?: boolean } = {}): string {
  const src = probeSourcePath();
  const out = probeOutputPath();
  if (!opts.force && !probeIsStale(src, out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    execFileSync("gcc", [...PROBE_CFLAGS, "-o", tmp, src], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") {
      throw new HostError("gcc not found: install gcc and the static libc (libc6-dev)", { where: "probe build", cause: err });
    }
    const first = (e.stderr?.toString() ?? "").split("\n").find((l) => /error/.test(l)) ?? String(e.message).split("\n")[0];
    throw new HostError(`gcc failed on ${relative(repoRoot(), src)}: ${first}`, { where: "probe build", cause: err });
  }
  renameSync(tmp, out);
  return out;
}

if (require.main === module) {
  try {
    const out = buildProbe({ force: process.argv.includes("--force") });
    process.stdout.write(`${relative(process.cwd(), out) || out}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof HostError ? err.line() : String(err)}\n`);
    process.exit(1);
  }
}
