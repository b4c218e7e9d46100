// The design's one rule about the tree: every folder is a layer, and imports run
// only down (or within a folder). The order, bottom first; a file not listed in a
// layer of its own belongs to its folder's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = join(__dirname, "..", "..", "src");

export const LAYERS: string[][] = [
  ["errors.ts", "io.ts", "version.ts", "log.ts", "native.ts", "fs.ts", "generated.ts", "host.ts", "profile.ts"],
  ["spec"],
  ["capabilities"],
  ["seccomp"],
  ["plan"],
  ["linux"],
  ["planner"],
  ["criu"],
  ["state.ts"],
  ["lifecycle"],
  ["cli", "context.ts"],
  ["commands"],
  ["shim"],
  ["main.ts", "cli-entry.ts", "shared.ts", "engine.ts"],
];

function layerOf(rel: string): number {
  const top = rel.split("/")[0]!;
  const i = LAYERS.findIndex((l) => l.includes(top));
  if (i < 0) throw new Error(`src/${rel} is in no layer: add its folder to LAYERS in test/unit/layers.test.ts`);
  return i;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Relative imports of a file, static and dynamic, types included. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm)) out.push(m[1]!);
  return out;
}

test("imports run down the layers, never up", () => {
  const bad: string[] = [];
  for (const f of files(SRC)) {
    const rel = relative(SRC, f);
    const mine = layerOf(rel);
    for (const spec of importsOf(readFileSync(f, "utf8"))) {
      const target = relative(SRC, resolve(dirname(f), spec));
      if (target.startsWith("..")) continue;
      const isDir = (() => { try { return statSync(join(SRC, target)).isDirectory(); } catch { return false; } })();
      const theirs = layerOf(isDir ? `${target}/index.ts` : target.endsWith(".ts") || target.endsWith(".json") ? target : `${target}.ts`);
      if (theirs > mine) bad.push(`src/${rel} (${LAYERS[mine]!.join(",")}) imports ${spec} (${LAYERS[theirs]!.join(",")})`);
    }
  }
  assert.equal(bad, []);
});

test("the import scanner sees static, type-only and dynamic imports", () => {
  assert.equal(importsOf(`import { a } from "./x";\nimport type { B } from "../y";\nconst m = await import("./z");\nrequire("./w");\nimport "./side";`), ["./x", "../y", "./z", "./w", "./side"]);
});

test.run();
