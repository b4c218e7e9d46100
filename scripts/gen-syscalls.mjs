// Generates build/gen/syscalls.json: per seccomp architecture, its AUDIT_ARCH_*
// value and the syscall name -> number table, read from the installed kernel uapi
// headers. The C preprocessor expands each header the way a compiler for that
// architecture would (asm-generic/unistd.h is full of #if on __BITS_PER_LONG and
// __ARCH_WANT_*), and we evaluate the resulting __NR_* macros here, so the tables
// follow the headers exactly instead of a hand-kept list.
//
// The foreign architectures need Debian's cross headers:
//   apt-get install linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross
// Usage: node scripts/gen-syscalls.mjs [--out FILE]
// Env: CPP (preprocessor command, default "cpp"), OCIRT_UAPI_<ARCH>=<include dir>
// to point an architecture at other headers (e.g. OCIRT_UAPI_AARCH64=/opt/x/include).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? process.argv[outArg + 1] : join(root, "build", "gen", "syscalls.json");

const X32_SYSCALL_BIT = 0x40000000;

/**
 * Where each architecture's headers live. The first directory that has
 * asm/unistd.h wins: the native multiarch directory when building on that
 * architecture, Debian's cross-header directory otherwise.
 */
const ARCHES = [
  {
    token: "SCMP_ARCH_X86_64",
    env: "X86_64",
    dirs: ["/usr/include/x86_64-linux-gnu", "/usr/x86_64-linux-gnu/include"],
    defines: ["__x86_64__", "__LP64__"],
    audit: "AUDIT_ARCH_X86_64",
    bits: 64,
    pkg: "linux-libc-dev (amd64) or linux-libc-dev-amd64-cross",
  },
  {
    token: "SCMP_ARCH_X86",
    env: "X86",
    dirs: ["/usr/include/x86_64-linux-gnu", "/usr/include/i386-linux-gnu", "/usr/i686-linux-gnu/include", "/usr/x86_64-linux-gnu/include"],
    defines: ["__i386__"],
    audit: "AUDIT_ARCH_I386",
    bits: 32,
    // i386 multiplexes the socket and SysV IPC calls through socketcall(2) and
    // ipc(2); libseccomp filters both forms, so the tables carry the sub-call numbers.
    multiplexed: true,
    pkg: "linux-libc-dev (amd64 or i386)",
  },
  {
    token: "SCMP_ARCH_X32",
    env: "X32",
    dirs: ["/usr/include/x86_64-linux-gnu", "/usr/x86_64-linux-gnu/include"],
    defines: ["__x86_64__", "__ILP32__"],
    audit: "AUDIT_ARCH_X86_64", // x32 shares x86_64's audit arch; numbers carry __X32_SYSCALL_BIT
    bits: 32,
    x32: true,
    pkg: "linux-libc-dev (amd64)",
  },
  {
    token: "SCMP_ARCH_AARCH64",
    env: "AARCH64",
    dirs: ["/usr/include/aarch64-linux-gnu", "/usr/aarch64-linux-gnu/include"],
    defines: ["__aarch64__", "__LP64__"],
    audit: "AUDIT_ARCH_AARCH64",
    bits: 64,
    pkg: "linux-libc-dev-arm64-cross",
  },
  {
    token: "SCMP_ARCH_ARM",
    env: "ARM",
    dirs: ["/usr/include/arm-linux-gnueabihf", "/usr/arm-linux-gnueabihf/include", "/usr/arm-linux-gnueabi/include"],
    defines: ["__arm__", "__ARM_EABI__"],
    audit: "AUDIT_ARCH_ARM",
    bits: 32,
    // ARM's private calls (__ARM_NR_cacheflush, set_tls, ...) are filterable by
    // name in libseccomp and in Docker's profile.
    armPrivate: true,
    pkg: "linux-libc-dev-armhf-cross",
  },
];

/** Macros that look like syscalls but are table bookkeeping. */
const NOT_SYSCALLS = new Set(["syscalls", "arch_specific_syscall", "SYSCALL_BASE", "OABI_SYSCALL_BASE", "SYSCALL_MASK", "BASE"]);

function cppDefines(includeDir, defines, header) {
  const cpp = (process.env.CPP ?? "cpp").split(/\s+/).filter(Boolean);
  // -nostdinc -undef: only this architecture's headers and only the macros we
  // pass, never the host compiler's own target macros.
  // linux/*.h is architecture-independent; take it from the arch's directory when
  // it has one (cross layout), else from the parent /usr/include (multiarch layout).
  const incs = ["-I", includeDir];
  if (!existsSync(join(includeDir, "linux", "audit.h"))) incs.push("-I", join(includeDir, ".."));
  const args = [...cpp.slice(1), "-dM", "-nostdinc", "-undef", ...defines.map((d) => `-D${d}`), ...incs, "-include", header, "/dev/null"];
  const text = execFileSync(cpp[0], args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const macros = new Map();
  for (const line of text.split("\n")) {
    const m = /^#define\s+([A-Za-z_]\w*)(?!\()\s*(.*)$/.exec(line);
    if (m) macros.set(m[1], m[2].trim());
  }
  return macros;
}

/** Evaluates an integer constant expression over object-like macros (BigInt, no overflow). */
function evaluate(expr, macros, seen = new Set()) {
  const tokens = [];
  const re = /\s*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*|\s*([A-Za-z_]\w*)|\s*(<<|>>|[-+*/%&|^~()])/y;
  let pos = 0;
  const src = expr.trim();
  while (pos < src.length) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new Error(`cannot parse "${expr}" at ${pos}`);
    pos = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ num: BigInt(/^0\d/.test(m[1]) ? "0o" + m[1].slice(1) : m[1]) });
    else if (m[2] !== undefined) {
      if (seen.has(m[2])) throw new Error(`recursive macro ${m[2]}`);
      const body = macros.get(m[2]);
      if (body === undefined) throw new Error(`undefined macro ${m[2]} in "${expr}"`);
      tokens.push({ num: evaluate(body, macros, new Set([...seen, m[2]])) });
    } else tokens.push({ op: m[3] });
    while (pos < src.length && /\s/.test(src[pos])) pos++;
  }
  let i = 0;
  const peek = () => tokens[i]?.op;
  const levels = [["|"], ["^"], ["&"], ["<<", ">>"], ["+", "-"], ["*", "/", "%"]];
  function apply(op, a, b) {
    switch (op) {
      case "|": return a | b;
      case "^": return a ^ b;
      case "&": return a & b;
      case "<<": return a << b;
      case ">>": return a >> b;
      case "+": return a + b;
      case "-": return a - b;
      case "*": return a * b;
      case "/": return a / b;
      default: return a % b;
    }
  }
  function unary() {
    const t = tokens[i++];
    if (!t) throw new Error(`truncated expression "${expr}"`);
    if (t.num !== undefined) return t.num;
    if (t.op === "(") {
      const v = binary(0);
      if (tokens[i++]?.op !== ")") throw new Error(`missing ) in "${expr}"`);
      return v;
    }
    if (t.op === "-") return -unary();
    if (t.op === "+") return unary();
    if (t.op === "~") return ~unary();
    throw new Error(`unexpected ${t.op} in "${expr}"`);
  }
  function binary(level) {
    if (level === levels.length) return unary();
    let v = binary(level + 1);
    while (levels[level].includes(peek())) v = apply(tokens[i++].op, v, binary(level + 1));
    return v;
  }
  const v = binary(0);
  if (i !== tokens.length) throw new Error(`trailing tokens in "${expr}"`);
  return v;
}

function u32(v, what) {
  if (v < 0n || v > 0xffffffffn) throw new Error(`${what} = ${v} is not a 32-bit value`);
  return Number(v);
}

function findDir(arch) {
  const override = process.env[`OCIRT_UAPI_${arch.env}`];
  const dirs = override ? [override] : arch.dirs;
  return dirs.find((d) => existsSync(join(d, "asm", "unistd.h")));
}

function tableFor(arch) {
  const dir = findDir(arch);
  if (!dir) {
    throw new Error(
      `${arch.token}: no kernel headers (asm/unistd.h) in ${arch.dirs.join(", ")}; install ${arch.pkg}` +
        ` or set OCIRT_UAPI_${arch.env} to an include directory`,
    );
  }
  const macros = cppDefines(dir, arch.defines, "asm/unistd.h");
  const syscalls = {};
  for (const [name, body] of macros) {
    let sys;
    if (name.startsWith("__NR_")) sys = name.slice(5);
    else if (arch.armPrivate && name.startsWith("__ARM_NR_")) sys = name.slice(9);
    else continue;
    if (NOT_SYSCALLS.has(sys) || sys.startsWith("3264_")) continue;
    const nr = u32(evaluate(body, macros), name);
    // A regular syscall of the same name wins over an ARM private alias.
    if (name.startsWith("__ARM_NR_") && sys in syscalls) continue;
    syscalls[sys] = nr;
  }
  const count = Object.keys(syscalls).length;
  if (count < 200) throw new Error(`${arch.token}: only ${count} syscalls found in ${dir}: wrong headers?`);
  if (arch.x32 && Object.values(syscalls).some((n) => (n & X32_SYSCALL_BIT) === 0)) {
    throw new Error(`${arch.token}: numbers without __X32_SYSCALL_BIT in ${dir}`);
  }

  const audit = cppDefines(dir, arch.defines, "linux/audit.h");
  const auditArch = u32(evaluate(arch.audit, audit), arch.audit);
  const entry = {
    auditArch,
    auditName: arch.audit,
    bits: arch.bits,
    endian: (auditArch & 0x40000000) !== 0 ? "little" : "big", // __AUDIT_ARCH_LE
    headers: dir,
    syscalls: Object.fromEntries(Object.entries(syscalls).sort(([, a], [, b]) => a - b)),
  };
  if (arch.multiplexed) {
    const net = cppDefines(dir, arch.defines, "linux/net.h");
    const ipc = cppDefines(dir, arch.defines, "linux/ipc.h");
    const socketcalls = {};
    for (const [name, body] of net) if (/^SYS_[A-Z0-9]+$/.test(name)) socketcalls[name.slice(4).toLowerCase()] = u32(evaluate(body, net), name);
    const ipcCalls = {};
    for (const name of ["SEMOP", "SEMGET", "SEMCTL", "SEMTIMEDOP", "MSGSND", "MSGRCV", "MSGGET", "MSGCTL", "SHMAT", "SHMDT", "SHMGET", "SHMCTL"]) {
      ipcCalls[name.toLowerCase()] = u32(evaluate(ipc.get(name) ?? name, ipc), name);
    }
    entry.multiplexed = {
      socketcall: { nr: syscalls.socketcall, calls: socketcalls },
      ipc: { nr: syscalls.ipc, calls: ipcCalls },
    };
    if (entry.multiplexed.socketcall.nr === undefined || entry.multiplexed.ipc.nr === undefined) {
      throw new Error(`${arch.token}: socketcall/ipc missing from ${dir}`);
    }
  }
  return entry;
}

function linuxVersion() {
  try {
    const m = cppDefines(ARCHES.map(findDir).find(Boolean) ?? "/usr/include", [], "linux/version.h");
    const code = Number(evaluate(m.get("LINUX_VERSION_CODE") ?? "0", m));
    return `${code >> 16}.${(code >> 8) & 0xff}.${code & 0xff}`;
  } catch {
    return "unknown";
  }
}

const arches = {};
for (const arch of ARCHES) arches[arch.token] = tableFor(arch);
const result = { comment: "generated by scripts/gen-syscalls.mjs from the kernel uapi headers; do not edit", linux: linuxVersion(), x32SyscallBit: X32_SYSCALL_BIT, arches };

mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
writeFileSync(tmp, JSON.stringify(result) + "\n");
renameSync(tmp, out);
const summary = Object.entries(arches).map(([k, v]) => `${k.replace("SCMP_ARCH_", "")}:${Object.keys(v.syscalls).length}`).join(" ");
console.log(`gen-syscalls: ${out} (linux ${result.linux} headers; ${summary})`);
