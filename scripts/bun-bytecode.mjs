// Run by Bun from scripts/build.mjs when Bun is the engine (docs/speed.md): each
// esbuild bundle X.js that ocirt loads at run time gets a Bun twin X.bun.js with
// its JavaScriptCore bytecode X.bun.js.jsc beside it, which Bun loads instead of
// parsing the source (what the V8 code cache is to Node). The twins stay in dist/,
// so __dirname (which native.ts and generated.ts resolve from) is the same.
// Usage: bun scripts/bun-bytecode.mjs dist/ocirt.js [dist/other.js ...]
//        bun scripts/bun-bytecode.mjs --entry '#!/path/to/bun' dist/ocirt.js dist/ocirt
// The second form makes one twin, named as given, whose first line is the `#!` line: the
// command the kernel starts Bun on (scripts/build.mjs writeEntry).
const args = process.argv.slice(2);
const entry = args[0] === "--entry" ? { banner: args[1], from: args[2], to: args[3] } : undefined;
const names = entry ? [entry.from] : args;
for (const file of names) {
  const out = entry ? entry.to : file.replace(/\.js$/, ".bun.js");
  const r = await Bun.build({
    ...(entry ? { banner: entry.banner } : {}),
    entrypoints: [file],
    target: "bun",
    format: "cjs",
    bytecode: true,
    minify: false, // already minified by esbuild (names kept: errors name themselves)
    plugins: [{
      name: "runtime-requires",
      setup(b) {
        // the bundles' own run-time requires (siblings in dist/, sources when
        // there is no dist/) are resolved when they run, as in the esbuild bundle
        b.onResolve({ filter: /^\.\.?\// }, (a) => ({ path: a.path, external: true }));
      },
    }],
  });
  if (!r.success) throw new Error(`bun build ${file}: ${r.logs.join("\n")}`);
  const js = r.outputs.find((o) => o.kind === "entry-point");
  const jsc = r.outputs.find((o) => o.kind === "bytecode");
  if (!js || !jsc) throw new Error(`bun build ${file}: no bytecode output`);
  await Bun.write(out, js);
  await Bun.write(out + ".jsc", jsc);
  if (entry) (await import("node:fs")).chmodSync(out, 0o755);
}
