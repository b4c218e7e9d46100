#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
'use strict';
// containerd's runtime v2 shim for ocirt (runtime type io.containerd.ocirt.v2), the
// long-lived part: bin/containerd-shim-ocirt-v2 (addon/shim/launcher.c, built by
// node-gyp) does `start` and a clean `delete` itself and execs node on this file for
// the rest. It loads dist/containerd-shim-ocirt-v2.js through the V8 code cache made
// at build time, as bin/ocirt loads ocirt's own bundle.
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const dir = path.join(__dirname, '..', 'dist');
const file = path.join(dir, 'containerd-shim-ocirt-v2.js');
let source;
try {
  source = fs.readFileSync(file, 'utf8');
} catch (err) {
  fs.writeSync(2, `containerd-shim-ocirt-v2 is not built (${file} is missing): run 'npm run build'\n`);
  process.exit(1);
}
let cachedData;
try { cachedData = fs.readFileSync(file + '.cache'); } catch { /* no cache: V8 compiles as usual */ }
const writeCache = process.env.OCIRT_WRITE_CODE_CACHE === '1';
// The cache is made at build time without root, where the shim cannot run a
// container: compiling every function eagerly puts the whole create/exec path in
// it (the flag is back to lazy before the cache is written, so the flags it is
// stamped with are those of every later start).
if (writeCache) require('v8').setFlagsFromString('--no-lazy');
const script = new vm.Script('(function (exports, require, module, __filename, __dirname) { ' + source + '\n})', { filename: file, cachedData: writeCache ? undefined : cachedData });
if (writeCache) {
  require('v8').setFlagsFromString('--lazy');
  process.once('exit', () => fs.writeFileSync(file + '.cache', script.createCachedData()));
}
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, file, dir);
