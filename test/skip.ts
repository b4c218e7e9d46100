// The one way a test says it cannot run here. A skipped test is registered with
// uvu's skip (so the suite's "Skipped" count has it) and its reason is printed as
// a line "skip: <file>: <name>: <reason>" that scripts/test.mjs lists after the
// closing count. Never `return` from a test as if it passed.
import { basename } from "node:path";
import { suite as uvuSuite, test as uvuTest, type Callback, type Test } from "uvu";

/** The file that registers the test (for the reason line). */
function caller(): string {
  const line = new Error().stack?.split("\n").find((l) => /\.test\.ts/.test(l)) ?? "";
  const m = /([^/( ]+\.test\.ts)/.exec(line);
  return m ? basename(m[1]!) : "?";
}

/** Records a skip with its reason (a test that cannot run on this host). */
export function skip<T>(t: Test<T>, name: string, reason: string): void {
  // a suite that skips everything records the test itself, with its own reason, once
  if ((t as { [SKIPPING]?: boolean })[SKIPPING]) return t.skip(name);
  process.stdout.write(`skip: ${caller()}: ${name}: ${reason}\n`);
  t.skip(name);
}

/**
 * Registers the test, or records it as skipped when `reason` is a string:
 * `testIf(t, hasTimeNs ? null : "the kernel lacks time namespaces", "name", fn)`.
 */
export function testIf<T>(t: Test<T>, reason: string | null | undefined | false, name: string, fn: Callback<T>): void {
  if (typeof reason === "string") skip(t, name, reason);
  else t(name, fn);
}

const NEEDS_ROOT = process.getuid?.() === 0 ? null : "needs root (real containers need namespaces, mounts and cgroups)";

/**
 * uvu's suite, or where `reason` holds (by default: not root) one whose every test
 * is recorded as skipped with that reason and whose hooks do not run.
 */
export function hostSuite<T = Record<string, unknown>>(name: string, reason: string | null | undefined | false = NEEDS_ROOT): Test<T> {
  const s = uvuSuite<T>(name);
  return typeof reason === "string" ? skippingAll(s, reason) : s;
}

/** uvu's own `test`, or one that records every test as skipped with `reason` (by default: not root). */
export function hostTest(reason: string | null | undefined | false = NEEDS_ROOT): Test {
  return typeof reason === "string" ? skippingAll(uvuTest, reason) : uvuTest;
}

const SKIPPING = Symbol("skips every test");

function skippingAll<T>(s: Test<T>, reason: string): Test<T> {
  const noop = Object.assign(() => {}, { each: () => {} });
  const w = Object.assign((name: string) => skip(s, name, reason), {
    [SKIPPING]: true,
    skip: (name?: string) => skip(s, name ?? "", reason),
    only: (name: string) => skip(s, name, reason),
    before: noop,
    after: noop,
    run: () => s.run(),
  });
  return w as Test<T>;
}
