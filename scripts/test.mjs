// The whole test suite: unit tests (no root), then integration tests (real
// containers, as root; skipped with the reason otherwise). Prints one closing
// line "N passed, N failed, N skipped" and exits non-zero on any failure.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const uvu = join(root, "node_modules", "uvu", "bin.js");
const only = process.argv[2]; // "unit" or "integration"
const suites = [
  { name: "unit", dir: "test/unit" },
  { name: "integration", dir: "test/integration", needsRoot: true },
].filter((s) => !only || s.name === only);

let passed = 0, failed = 0, skipped = 0, broken = false;

// the whole tree type-checks (strict), or the suite fails
if (!only || only === "unit") {
  console.log("== typecheck (tsc --noEmit)");
  const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", join(root, "tsconfig.json")], { cwd: root, stdio: "inherit" });
  if (tsc.status === 0) passed += 1;
  else failed += 1;
}
for (const s of suites) {
  if (s.needsRoot && process.getuid() !== 0) {
    console.log(`\n== ${s.name}: skipped (needs root: real containers need namespaces, mounts and cgroups)`);
    continue;
  }
  console.log(`\n== ${s.name} (${s.dir})`);
  const r = spawnSync(process.execPath, [uvu, "-r", "tsx/cjs", s.dir, "\\.test\\.ts$"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    maxBuffer: 256 * 1024 * 1024,
  });
  const out = r.stdout.toString();
  process.stdout.write(out);
  const num = (re) => Number((re.exec(out) ?? [])[1] ?? 0);
  const total = num(/Total:\s+(\d+)/), ok = num(/Passed:\s+(\d+)/), skip = num(/Skipped:\s+(\d+)/);
  passed += ok;
  skipped += skip;
  failed += Math.max(0, total - ok - skip);
  if (r.status !== 0 && total - ok - skip <= 0) {
    // crashed before its totals: count the suite as one failure so the line says so
    broken = true;
    failed += 1;
  }
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed || broken ? 1 : 0);
