import type { Context } from "../context";
import { str } from "../context";
import { stdout } from "../io";
import { resolve } from "node:path";
import { readConfigFile, loadSpec } from "../spec/load";
import { checkConfig, problemLine } from "../spec/validate";
import { ConfigError } from "../errors";

/** Prints "valid", or every problem with its JSON path (exit 1). */
export default function validate(ctx: Context): void {
  const bundle = resolve(str(ctx, "bundle") ?? process.cwd());
  const parsed = readConfigFile(bundle);
  const { problems, warnings } = checkConfig(parsed.value, { bigInts: parsed.bigInts });
  for (const w of warnings) stdout(`warning: ${problemLine(w)}\n`);
  if (problems.length) {
    const lines = problems.map(problemLine);
    stdout(lines.join("\n") + "\n");
    throw new ConfigError(`config.json has ${lines.length} error${lines.length > 1 ? "s" : ""}`, lines, { where: bundle });
  }
  loadSpec(bundle); // the checks that need the file system: rootfs exists, ...
  stdout("valid\n");
}
