// process.env as runc 1.1 sets it in the container's init (populateProcessEnvironment:
// os.Setenv for each entry). Pure; HOME's default is added by lifecycle/spawn.ts.

/** One entry per name, where the name first appears, with its last value (Go's Setenv). */
export function dedupeEnv(env: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const kv of env) {
    const eq = kv.indexOf("=");
    byName.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  return [...byName.values()];
}
