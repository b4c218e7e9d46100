'use strict';
// Run by bin/ocirt with the chosen engine (node or bun); `node bin/ocirt.js` works too.
// The phase profile (src/profile.ts) starts here: the engine's own start ends now.
const cpu = process.cpuUsage();
globalThis.__ocirtLaunch = { engineMs: process.uptime() * 1000, t0: process.hrtime.bigint(), cpuMs: (cpu.user + cpu.system) / 1000 };
const dir = __dirname + '/../dist';
const missing = (err, file) => err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(file);
const notBuilt = () => {
  require('fs').writeSync(2, `ocirt is not built (${require('path').resolve(dir, 'ocirt.js')} is missing): run 'npm run build'\n`);
  process.exit(1);
};
if (process.versions.bun) {
  // JavaScriptCore has no use for V8's code cache. The build made a twin of the
  // bundle with its bytecode beside it (scripts/bun-bytecode.mjs), which Bun loads
  // instead of parsing the source. No node:fs or node:path here: under Bun they cost
  // ~2.5 ms to load, and the bundle does without them (src/fs.ts, docs/speed.md).
  try {
    require(dir + '/ocirt.bun.js');
  } catch (err) {
    if (!missing(err, 'ocirt.bun.js')) throw err;
    try {
      require(dir + '/ocirt.js');
    } catch (err2) {
      if (!missing(err2, 'ocirt.js')) throw err2;
      notBuilt();
    }
  }
} else {
  // Node: the bundle loads through a V8 code cache made at build time, so a start
  // pays for deserialising compiled code rather than parsing and compiling it.
  const fs = require('fs');
  const path = require('path');
  const file = path.join(dir, 'ocirt.js');
  if (!fs.existsSync(file)) notBuilt();
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
  script.runInThisContext()(mod.exports, require, mod, file, path.dirname(file));
}
