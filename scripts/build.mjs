// Build: generated tables and the config validator (ahead of time, so nothing
// compiles a schema at run time), one CommonJS bundle, and a V8 code cache for it.
// The addon itself is built by node-gyp before this runs (see package.json).
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);
const pkg = JSON.parse(readFileSync("package.json", "utf8"));

for (const gen of ["scripts/gen-validator.mjs", "scripts/gen-syscalls.mjs"]) {
  if (existsSync(gen)) execFileSync(process.execPath, [gen], { stdio: "inherit" });
}

let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
} catch {
  /* not a git checkout (npm tarball): keep "unknown" */
}

mkdirSync("dist", { recursive: true });
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  // no esbuild keepNames: it names every function and class of a bundle as the bundle loads
  // (~700 defineProperty calls, ~0.5 ms of every command); the error classes name themselves
  // (src/errors.ts)
  keepNames: false,
  sourcemap: false,
  legalComments: "none",
  define: { __OCIRT_VERSION__: JSON.stringify(pkg.version), __OCIRT_COMMIT__: JSON.stringify(commit) },
  logLevel: "warning",
};
// yargs-parser reads util.format when it loads, for its error messages: under Bun
// that getter builds node:util's inspect module, ~8 ms of every start. It gets a
// util whose format loads the real one when first called.
const lazyUtilPlugin = {
  name: "lazy-util-format",
  setup(b) {
    b.onResolve({ filter: /^(node:)?util$/ }, (args) => (/[\\/]yargs-parser[\\/]/.test(args.importer) ? { path: "lazy-util", namespace: "ocirt-lazy-util" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "ocirt-lazy-util" }, () => ({
      contents: `module.exports = { format: (...a) => require("node:util").format(...a) };`,
      loader: "js",
    }));
  },
};
// node:fs in ocirt's bundles is src/fs.ts: node:fs itself under Node; under Bun the addon's
// syscalls for what ocirt calls, since Bun's node:fs costs ~2 ms to load (docs/speed.md)
const pathPolyfill = createRequire(join(root, "package.json")).resolve("path-browserify");
const fsPlugin = {
  name: "ocirt-fs",
  setup(b) {
    const facade = join(root, "src", "fs.ts");
    b.onResolve({ filter: /^(node:)?fs$/ }, (args) => (args.importer === facade ? undefined : { path: facade }));
    b.onResolve({ filter: /^(node:)?path$/ }, () => ({ path: pathPolyfill }));
  },
};
common.plugins = [lazyUtilPlugin, fsPlugin];
// The main bundle holds what every start needs; yargs (help screens only) is a
// bundle of its own so that its 120 kB are not read and cached on every start.
// The phase profile's clock (src/profile.ts) starts at the bundle's first line, unless
// bin/ocirt.js started it before loading the bundle
// (only when the profile is asked for, as profileRequested() asks: Bun's process.cpuUsage() alone
// is ~0.1 ms)
const launchClock =
  "\"use strict\"; if (!globalThis.__ocirtLaunch && (/^(?!0$)./.test(process.env.OCIRT_PROFILE || \"\") || process.argv.includes(\"--debug\") || process.argv.includes(\"-debug\"))) { const c = process.cpuUsage(); globalThis.__ocirtLaunch = { engineMs: process.uptime() * 1000, t0: process.hrtime.bigint(), cpuMs: (c.user + c.system) / 1000 }; }";
await build({ ...common, banner: { js: launchClock }, entryPoints: ["src/cli-entry.ts"], outfile: "dist/ocirt.js" });
await build({ ...common, entryPoints: ["src/cli/help.ts"], outfile: "dist/help.js" });
// Every other command in a bundle of its own, loaded only when it runs. The modules
// it shares with the main bundle come from there at run time (src/shared.ts), so
// there is one instance of each (one error class hierarchy, one log).
// The list itself is src/shared.ts's SHARED: read from a build of that module, so
// the two bundles can never disagree on it.
const SHARED = await sharedModules();
const sharedPlugin = {
  name: "ocirt-shared",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const abs = resolve(args.resolveDir, args.path).replace(/\.ts$/, "");
      const rel = relative(join(root, "src"), abs);
      return SHARED.includes(rel) ? { path: rel, namespace: "ocirt-shared" } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: "ocirt-shared" }, (args) => ({
      contents: `module.exports = globalThis.__ocirtShared[${JSON.stringify(args.path)}];`,
      loader: "js",
    }));
  },
};
async function sharedModules() {
  const out = await build({ ...common, minify: false, entryPoints: ["src/shared.ts"], write: false });
  const mod = { exports: {} };
  new Function("module", "exports", "require", out.outputFiles[0].text)(mod, mod.exports, createRequire(join(root, "src", "shared.ts")));
  return Object.keys(mod.exports.SHARED);
}
// node:fs and node:path too come from the main bundle (src/shared.ts), not a copy of their own
const sharedFsPlugin = {
  name: "ocirt-shared-fs",
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs$/ }, () => ({ path: "fs", namespace: "ocirt-shared" }));
    b.onResolve({ filter: /^(node:)?path$/ }, () => ({ path: "node:path", namespace: "ocirt-shared" }));
  },
};
await build({ ...common, entryPoints: ["src/commands/heavy.ts"], outfile: "dist/ocirt-commands.js", plugins: [lazyUtilPlugin, sharedFsPlugin, sharedPlugin] });
// create, run and exec: a bundle without the other commands' modules (its load is part of every create)
await build({ ...common, entryPoints: ["src/commands/create-bundle.ts"], outfile: "dist/ocirt-create.js", plugins: [lazyUtilPlugin, sharedFsPlugin, sharedPlugin] });
// pause and resume, and the cgroup library of kill's, start's and delete's rarer paths, need the
// state but no config: a third of the commands bundle's size
await build({ ...common, entryPoints: ["src/commands/cgroup-bundle.ts"], outfile: "dist/ocirt-cgroup.js", plugins: [lazyUtilPlugin, sharedFsPlugin, sharedPlugin] });
// containerd's shim (bin/containerd-shim-ocirt-v2): a bundle of its own, with ocirt's
// lifecycle library inside it, so the main bundle (and every `ocirt` start) does not grow
// (with keepNames: it logs its requests by their methods' names, and starts once per pod)
await build({ ...common, keepNames: true, plugins: [lazyUtilPlugin], entryPoints: ["src/shim/entry.ts"], outfile: "dist/containerd-shim-ocirt-v2.js" });
// generated artefacts beside the bundle, loaded only by the commands that need them
await build({ ...common, entryPoints: ["build/gen/config-validator.js"], outfile: "dist/config-validator.js" });
copyFileSync("build/gen/syscalls.json", "dist/syscalls.json");

// The code caches are produced by running representative commands once; V8 then
// stores the functions that ran already compiled. The validator's first (validating
// the default config runs it), then ocirt.js's from `state`, the hot path.
const tmpRoot = join(root, "build", "cache-warmup");
const warmBundle = join(root, "build", "cache-warmup-bundle");
const warm = (args) => {
  try {
    execFileSync(process.execPath, ["bin/ocirt.js", ...args], { env: { ...process.env, OCIRT_WRITE_CODE_CACHE: "1" }, stdio: "ignore" });
  } catch {
    /* `state` of no container exits 1: the caches are written at exit either way */
  }
};
for (const f of ["dist/ocirt.js.cache", "dist/config-validator.js.cache", "dist/ocirt-commands.js.cache", "dist/ocirt-create.js.cache", "dist/ocirt-cgroup.js.cache"]) rmSync(f, { force: true });
rmSync(warmBundle, { recursive: true, force: true });
mkdirSync(join(warmBundle, "rootfs"), { recursive: true });
warm(["spec", "-b", warmBundle]);
warm(["validate", "-b", warmBundle]);
// each command's modules load before it finds there is no such container or bundle,
// so these fill the commands bundle's cache without touching the host
for (const cmd of [["delete", "warmup"], ["kill", "warmup"], ["create", "-b", "/nonexistent-warmup", "warmup"], ["exec", "warmup", "x"], ["ps", "warmup"], ["pause", "warmup"], ["update", "warmup"], ["events", "--stats", "warmup"]]) {
  warm(["--root", tmpRoot, ...cmd]);
}
rmSync(warmBundle, { recursive: true, force: true });
// the main bundle's cache last, from its own commands only: the smaller it is, the faster `state`
rmSync("dist/ocirt.js.cache", { force: true });
warm(["--root", tmpRoot, "state", "warmup"]);
warm(["--root", tmpRoot, "start", "warmup"]);
warm(["--root", tmpRoot, "kill", "warmup"]);
warm(["--root", tmpRoot, "delete", "warmup"]);
rmSync(tmpRoot, { recursive: true, force: true });
// the shim's cache: its launcher compiles the whole bundle eagerly for it
rmSync("dist/containerd-shim-ocirt-v2.js.cache", { force: true });
try {
  execFileSync(process.execPath, ["bin/containerd-shim-ocirt-v2.js", "-v"], { env: { ...process.env, OCIRT_WRITE_CODE_CACHE: "1" }, stdio: "ignore" });
} catch { /* no cache: V8 compiles as usual */ }
const engine = chooseEngine();
for (const f of readdirSync("dist").filter((n) => n.includes(".bun.js"))) rmSync(join("dist", f));
if (engine.bun) {
  // Bun's bytecode twins of the bundles ocirt loads at run time
  execFileSync(engine.bun, ["scripts/bun-bytecode.mjs", "dist/ocirt.js", "dist/ocirt-commands.js", "dist/ocirt-create.js", "dist/ocirt-cgroup.js", "dist/config-validator.js"], { stdio: "inherit" });
}
writeFileSync("dist/engine", `${engine.name}\n`);
writeEntry(engine);
console.log(`built dist/ocirt.js${existsSync("dist/ocirt.js.cache") ? " and its code cache" : " (no code cache)"}`);

/**
 * The engine bin/ocirt runs (docs/speed.md): Bun when the binary npm installed with
 * ocirt (the `bun` dependency) runs here and runs ocirt, else Node. OCIRT_BUILD_ENGINE
 * (node or bun) decides instead. The launcher reads the word from dist/engine.
 */
function chooseEngine() {
  const want = process.env.OCIRT_BUILD_ENGINE;
  if (want === "node") return { name: "node" };
  const oven = join(root, "node_modules", "@oven");
  // the platform package's binary, or where bun's postinstall puts it when that
  // package came without one (it downloads it into bun/bin/bun.exe)
  const candidates = [
    ...(existsSync(oven) ? readdirSync(oven).filter((d) => d.startsWith("bun-linux-")).map((d) => join(oven, d, "bin", "bun")) : []),
    join(root, "node_modules", "bun", "bin", "bun.exe"),
  ];
  const found = candidates.find((b) => existsSync(b) && statSync(b).size > 1_000_000);
  if (found) {
    try {
      const out = execFileSync(found, ["bin/ocirt.js", "--version"], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
      if (out.startsWith("ocirt version")) {
        console.log(`engine: bun ${execFileSync(found, ["--version"], { encoding: "utf8" }).trim()} (${relative(root, found)})`);
        return { name: "bun", bun: found };
      }
    } catch (err) {
      console.log(`engine: node (${relative(root, found)} does not run ocirt here: ${err.message.split("\n")[0]})`);
      if (want === "bun") throw err;
      return { name: "node" };
    }
  }
  if (want === "bun") throw new Error("OCIRT_BUILD_ENGINE=bun, but there is no node_modules/@oven/bun-linux-*/bin/bun nor node_modules/bun/bin/bun.exe");
  console.log(`engine: node ${process.version}`);
  return { name: "node" };
}

/**
 * dist/ocirt, what bin/ocirt links to. On Bun, the main bundle's bytecode twin with a `#!` line
 * naming the Bun binary (made by scripts/bun-bytecode.mjs --entry), so that the kernel starts Bun
 * on it at once: the C launcher (build/Release/ocirt) costs an exec of its own and bin/ocirt.js a
 * module of its own, ~1 ms of every command together (docs/speed.md). An OCIRT_ENGINE override
 * is handed to the launcher from there (src/cli-entry.ts). On Node, or where the Bun binary's
 * path cannot be a `#!` line, dist/ocirt is the launcher itself.
 */
function writeEntry(engine) {
  const entry = join(root, "dist", "ocirt");
  rmSync(entry, { force: true });
  rmSync(entry + ".jsc", { force: true });
  const bun = engine.bun ? realpathSync(engine.bun) : "";
  // the kernel reads at most 255 bytes of a `#!` line, and splits it at the first blank
  if (engine.name === "bun" && /^\/[^\s]+$/.test(bun) && bun.length < 200) {
    execFileSync(engine.bun, ["scripts/bun-bytecode.mjs", "--entry", `#!${bun}`, "dist/ocirt.js", entry], { stdio: "inherit" });
  } else {
    symlinkSync(relative(dirname(entry), join(root, "build", "Release", "ocirt")), entry);
  }
}
