// The engine ocirt runs on (docs/speed.md). Bun starts the bundle directly from the `#!` line
// of dist/ocirt; OCIRT_ENGINE (node, bun or a path: the C launcher's variable) can ask for
// another, which the launcher (build/Release/ocirt) runs: this process becomes it (same pid).
import { native } from "./native";

export function handOffEngine(): void {
  const want = process.env["OCIRT_ENGINE"];
  if (!want || want === "bun" || want === process.execPath) return;
  const launcher = `${__dirname}/../build/Release/ocirt`;
  native().execv(launcher, [launcher, ...process.argv.slice(2)]);
}
