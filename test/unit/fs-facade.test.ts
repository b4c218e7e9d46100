// src/fs.ts, the node:fs of ocirt's bundles under Bun (the addon's syscalls): every call ocirt
// makes must give what node:fs gives, results and errors alike. Here it runs under Node
// (OCIRT_FS=addon), side by side with the real node:fs, on a scratch tree.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as real from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getSystemErrorMap } from "node:util";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { testIf } from "../skip";

process.env["OCIRT_FS"] = "addon";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fx = require("../../src/fs") as typeof real;
delete process.env["OCIRT_FS"];

const dir = real.mkdtempSync(join(tmpdir(), "ocirt-fs-"));
test.after(() => real.rmSync(dir, { recursive: true, force: true }));

type Outcome = { ok?: unknown; err?: Record<string, unknown> };
function outcome(f: () => unknown): Outcome {
  try {
    return { ok: f() };
  } catch (e) {
    const x = e as NodeJS.ErrnoException & { dest?: string };
    return { err: { message: x.message, code: x.code, errno: x.errno, syscall: x.syscall, path: x.path, dest: x.dest } };
  }
}
/** the same call on both: same result, or the same error */
function same(what: string, call: (fs: typeof real) => unknown, reset?: () => void): void {
  reset?.();
  const a = outcome(() => call(real));
  reset?.();
  const b = outcome(() => call(fx));
  assert.equal(b, a, what);
}
const p = (...s: string[]) => join(dir, ...s);

test("it is the facade, not node:fs, and it has every name node:fs has", () => {
  assert.is.not(fx, real);
  for (const k of Object.keys(real).filter((k) => k !== "default")) assert.ok(k in fx, `node:fs.${k} missing`);
  assert.type(fx.watch, "function"); // served by node:fs itself
});

test("a bundler's copy of the facade (esbuild's __toESM: own properties, same prototype) has every name too, copying few", () => {
  const copy = Object.create(Object.getPrototypeOf(fx) as object) as Record<string, unknown>;
  for (const k of Object.getOwnPropertyNames(fx)) Object.defineProperty(copy, k, { get: () => (fx as unknown as Record<string, unknown>)[k], enumerable: true });
  for (const k of Object.keys(real).filter((k) => k !== "default")) assert.ok(k in copy, `node:fs.${k} missing in the copy`);
  assert.is(copy["readFileSync"], fx.readFileSync);
  assert.type(copy["createReadStream"], "function");
  const own = Object.getOwnPropertyNames(fx).length;
  assert.ok(own < 40, `${own} own properties: every importing module copies them`);
});

test("files: write, append, read (string, Buffer, fd), open flags, modes", () => {
  same("write + read", (fs) => (fs.writeFileSync(p("a"), "héllo\n"), fs.readFileSync(p("a"), "utf8")));
  same("read Buffer", (fs) => fs.readFileSync(p("a")));
  same("read {encoding}", (fs) => fs.readFileSync(p("a"), { encoding: "latin1" }));
  same("append", (fs) => (fs.appendFileSync(p("a"), "more"), fs.readFileSync(p("a"), "utf8")), () => real.writeFileSync(p("a"), "héllo\n"));
  same("mode", (fs) => (fs.rmSync(p("m"), { force: true }), fs.writeFileSync(p("m"), "", { mode: 0o640 }), fs.statSync(p("m")).mode));
  same("wx on an existing file", (fs) => fs.writeFileSync(p("a"), "x", { flag: "wx" }));
  same("open missing", (fs) => fs.openSync(p("nope"), "r"));
  same("read /proc (size 0)", (fs) => fs.readFileSync("/proc/self/status", "utf8").split("\n")[0]);
  // UTF-8 comes from the addon as a string (no Buffer): the same decoding as Buffer's toString
  const odd = Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x00, 0x62, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0x80, 0x7a]);
  same("read utf8: BOM, NUL, invalid and truncated sequences, a surrogate", (fs) => (real.writeFileSync(p("odd"), odd), fs.readFileSync(p("odd"), "utf8")));
  same("read utf-8 by options", (fs) => fs.readFileSync(p("odd"), { encoding: "utf-8" }));
  same("read latin1 and binary", (fs) => [fs.readFileSync(p("odd"), "latin1"), fs.readFileSync(p("odd"), { encoding: "binary" })]);
  same("read utf8 of a directory", (fs) => fs.readFileSync(dir, "utf8"));
  same("read utf8 of a missing file", (fs) => fs.readFileSync(p("nope"), "utf8"));
  same("readFileSync of a directory", (fs) => fs.readFileSync(dir));
  for (const flag of ["r", "r+", "w", "wx", "a", "a+", "ax"]) {
    same(`open ${flag}`, (fs) => {
      const fd = fs.openSync(p(`f-${flag}`), flag, 0o600);
      const st = fs.fstatSync(fd);
      fs.closeSync(fd);
      return [st.mode, st.size, st.isFile()];
    }, () => real.rmSync(p(`f-${flag}`), { force: true }));
  }
  same("numeric flags", (fs) => {
    const fd = fs.openSync(p("n"), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    fs.writeSync(fd, "abc");
    fs.writeSync(fd, Buffer.from("xyz"), 1, 1);
    fs.closeSync(fd);
    const r = fs.openSync(p("n"), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const buf = Buffer.alloc(8);
    const n = fs.readSync(r, buf, 0, 8, null);
    const m = fs.readSync(r, buf, 0, 2, 1);
    fs.closeSync(r);
    return [n, m, buf.toString("utf8", 0, n)];
  }, () => real.rmSync(p("n"), { force: true }));
  same("every fd close-on-exec", (fs) => {
    const fd = fs.openSync(p("a"), "r");
    const flags = real.readFileSync(`/proc/self/fdinfo/${fd}`, "utf8").match(/flags:\s+(\d+)/)![1]!;
    fs.closeSync(fd);
    return (parseInt(flags, 8) & 0o2000000) !== 0;
  });
  same("close a bad fd", (fs) => fs.closeSync(987654));
  same("readFileSync by fd", (fs) => {
    const fd = fs.openSync(p("a"), "r");
    try {
      return fs.readFileSync(fd, "utf8");
    } finally {
      fs.closeSync(fd);
    }
  });
});

test("stat, lstat, fstat, exists, access", () => {
  real.symlinkSync("a", p("link"));
  real.symlinkSync("nowhere", p("dangling"));
  const pick = (s: real.Stats | undefined) =>
    s && [s.dev, s.ino, s.mode, s.nlink, s.uid, s.gid, s.rdev, s.size, s.blksize, s.blocks, s.mtimeMs, s.ctimeMs, s.isFile(), s.isDirectory(), s.isSymbolicLink(), s.isFIFO(), s.isCharacterDevice(), s.mtime.getTime()];
  for (const f of [p("a"), p("link"), p("dangling"), dir, "/dev/null", p("nope"), p("a", "x")]) {
    same(`stat ${f}`, (fs) => pick(fs.statSync(f)));
    same(`lstat ${f}`, (fs) => pick(fs.lstatSync(f)));
    same(`stat ${f} throwIfNoEntry false`, (fs) => pick(fs.statSync(f, { throwIfNoEntry: false })));
    same(`exists ${f}`, (fs) => fs.existsSync(f));
    same(`access ${f}`, (fs) => fs.accessSync(f, fs.constants.W_OK));
  }
  same("fstat", (fs) => pick(fs.fstatSync(0)));
  same("readlink", (fs) => fs.readlinkSync(p("link")));
  same("readlink of a file", (fs) => fs.readlinkSync(p("a")));
  same("realpath", (fs) => fs.realpathSync(p("link")));
  // node:fs's realpath walks the path itself (its errors name lstat or stat of a part), Bun's and
  // this one ask realpath(3): the same code, which is what ocirt reads
  same("realpath missing", (fs) => outcome(() => fs.realpathSync(p("dangling"))).err?.["code"]);
});

test("directories: mkdir (recursive), readdir (types, order), rmdir, rm, rename, unlink, mkdtemp", () => {
  const reset = () => real.rmSync(p("t"), { recursive: true, force: true });
  same("mkdir", (fs) => fs.mkdirSync(p("t")), reset);
  same("mkdir missing parent", (fs) => fs.mkdirSync(p("t", "x", "y")), reset);
  same("mkdir recursive", (fs) => [fs.mkdirSync(p("t", "x", "y"), { recursive: true, mode: 0o700 }), fs.statSync(p("t", "x")).mode], reset);
  same("mkdir recursive again", (fs) => fs.mkdirSync(p("t"), { recursive: true }), () => (reset(), real.mkdirSync(p("t"))));
  same("mkdir recursive over a file", (fs) => fs.mkdirSync(p("a", "b"), { recursive: true }));
  same("mkdir recursive, a file in the way", (fs) => fs.mkdirSync(p("a"), { recursive: true }));
  same("mkdir existing", (fs) => fs.mkdirSync(dir));
  const tree = () => {
    reset();
    real.mkdirSync(p("t", "d", "e"), { recursive: true });
    for (const f of ["zeta", "alpha", "Beta", "d/e/f"]) real.writeFileSync(p("t", f), "");
    real.symlinkSync("/", p("t", "root-link"));
    real.symlinkSync(p("t", "d"), p("t", "d-link"));
  };
  same("readdir", (fs) => fs.readdirSync(p("t")), tree);
  same("readdir types", (fs) => fs.readdirSync(p("t"), { withFileTypes: true }).map((d) => [d.name, d.isFile(), d.isDirectory(), d.isSymbolicLink(), d.parentPath]), tree);
  same("readdir missing", (fs) => fs.readdirSync(p("nope")));
  same("readdir of a file", (fs) => fs.readdirSync(p("a")));
  same("rmdir not empty", (fs) => fs.rmdirSync(p("t")), tree);
  same("rm a directory without recursive", (fs) => fs.rmSync(p("t")), tree);
  // rm never follows a link: the target of t/d-link survives only because t/d goes with t
  same("rm recursive", (fs) => (fs.rmSync(p("t"), { recursive: true }), real.existsSync(p("t"))), tree);
  same("rm recursive, a link to /", (fs) => (fs.rmSync(p("t", "root-link"), { recursive: true }), real.existsSync("/etc")), tree);
  same("rm missing", (fs) => fs.rmSync(p("nope")));
  same("rm missing force", (fs) => fs.rmSync(p("nope"), { force: true }));
  same("rename", (fs) => (fs.renameSync(p("t", "zeta"), p("t", "omega")), real.readdirSync(p("t"))), tree);
  same("rename missing", (fs) => fs.renameSync(p("nope"), p("t", "x")), tree);
  same("unlink", (fs) => fs.unlinkSync(p("t", "zeta")), tree);
  same("unlink a directory", (fs) => fs.unlinkSync(p("t", "d")), tree);
  same("chmod", (fs) => (fs.chmodSync(p("t", "alpha"), 0o604), real.statSync(p("t", "alpha")).mode), tree);
  same("chmod missing", (fs) => fs.chmodSync(p("nope"), 0o600));
  same("chown missing", (fs) => fs.chownSync(p("nope"), 0, 0));
  const made = fx.mkdtempSync(p("tmp-"));
  assert.match(made, /\/tmp-[A-Za-z0-9]{6}$/);
  assert.ok(real.statSync(made).isDirectory());
  same("mkdtemp missing parent", (fs) => fs.mkdtempSync(p("nope", "x-")).length);
  reset();
});

test("errors: libuv's code and text (node:fs's), for every errno libuv knows", () => {
  const uvError = (fx as unknown as { uvError(errno: number, syscall: string, path?: string): NodeJS.ErrnoException }).uvError;
  let checked = 0;
  for (const [neg, [name, text]] of getSystemErrorMap()) {
    if (neg >= 0 || -neg > 200 || name === "EWOULDBLOCK" || name === "EDEADLOCK") continue;
    const e = uvError(-neg, "open", "/x");
    assert.is(e.code, name, `errno ${-neg}`);
    assert.is(e.message, `${name}: ${text}, open '/x'`);
    assert.is(e.errno, neg);
    checked++;
  }
  assert.ok(checked > 60, `${checked} errnos`);
});

// where scripts/build.mjs looks: the platform package's binary, or where bun's postinstall put it
const modules = join(__dirname, "../../node_modules");
const oven = join(modules, "@oven");
const bun = [
  ...(existsSync(oven) ? real.readdirSync(oven).filter((d) => d.startsWith("bun-linux-")).map((d) => join(oven, d, "bin", "bun")) : []),
  join(modules, "bun", "bin", "bun.exe"),
].find((b) => existsSync(b));
testIf(test, bun ? null : "no Bun binary (the bun dependency) to run the facade under", "under Bun, a UTF-8 or latin1 read is what Buffer's toString gives", () => {
  const file = p("odd-bun");
  real.writeFileSync(file, Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x00, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0x80, 0x7a, 0xce, 0xbb]));
  const script = `const fx = require(${JSON.stringify(join(__dirname, "../../src/fs.ts"))}); const f = ${JSON.stringify(file)};
    const a = fx.readFileSync(f, "utf8") + fx.readFileSync(f, "latin1"), b = require("node:fs").readFileSync(f).toString("utf8") + require("node:fs").readFileSync(f).toString("latin1");
    process.stdout.write(JSON.stringify([a === b, fx === require("node:fs"), [...a].map((c) => c.codePointAt(0))]));`;
  const r = spawnSync(bun!, ["-e", script], { encoding: "utf8", env: { ...process.env, OCIRT_FS: "addon" } });
  assert.is(r.status, 0, r.stderr);
  const [same, isNodeFs, points] = JSON.parse(r.stdout) as [boolean, boolean, number[]];
  assert.is(isNodeFs, false, "the facade ran, not node:fs");
  assert.ok(same, `facade ${JSON.stringify(points)}`);
});

test.run();
