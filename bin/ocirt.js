'use strict';
// Run by bin/ocirt with the chosen engine (node or bun); `node bin/ocirt.js` works too.
// The phase profile (src/profile.ts) starts here: the engine's own start ends now.
const cpu = process.cpuUsage();
globalThis.__ocirtLaunch = { engineMs: process.uptime() * 1000, t0: process.hrtime.bigint(), cpuMs: (cpu.user + cpu.system) / 1000 };
const fs = require('fs');
const path = require('path');

const dir = path.join(__dirname, '..', 'dist');
const file = path.join(dir, 'ocirt.js');
if (!fs.existsSync(file)) {
  fs.writeSync(2, `ocirt is not built (${file} is missing): run 'npm run build'\n`);
  process.exit(1);
}
if (process.versions.bun) {
  // JavaScriptCore has no use for V8's code cache. The build made a twin of the
  // bundle with its bytecode beside it (scripts/bun-bytecode.mjs), which Bun loads
  // instead of parsing the source.
  const twin = path.join(dir, 'ocirt.bun.js');
  require(fs.existsSync(twin) ? twin : file);
} else {
  // Node: the bundle loads through a V8 code cache made at build time, so a start
  // pays for deserialising compiled code rather than parsing and compiling it.
  const vm = require('vm');
  const source = fs.readFileSync(file, 'utf8');
  let cachedData;
  try { cachedData = fs.readFileSync(file + '.cache'); } catch { /* no cache: V8 compiles as usual */ }
  // The same wrapper node's CJS loader uses; the bundle only requires builtins and
  // absolute paths, so this file's own require serves it.
  const script = new vm.Script('(function (exports, require, module, __filename, __dirname) { ' + source + '\n})', { filename: file, cachedData });
  if (process.env.OCIRT_WRITE_CODE_CACHE === '1') {
    process.once('exit', () => fs.writeFileSync(file + '.cache', script.createCachedData()));
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, file, dir);
}
