// mount(8)-style option strings -> mount(2) flags, propagation, recursive
// mount_setattr attributes and the fs-specific data string. Pure.
export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128,
  NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192, REC: 16384, SILENT: 32768,
  POSIXACL: 1 << 16, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20,
  RELATIME: 1 << 21, I_VERSION: 1 << 23, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME_MASK: 0x70, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 } as const;

const FLAGS: Record<string, { set?: number; clear?: number }> = {
  acl: { set: MS.POSIXACL }, noacl: { clear: MS.POSIXACL },
  async: { clear: MS.SYNCHRONOUS }, sync: { set: MS.SYNCHRONOUS },
  atime: { clear: MS.NOATIME }, noatime: { set: MS.NOATIME },
  bind: { set: MS.BIND }, rbind: { set: MS.BIND | MS.REC },
  defaults: {},
  dev: { clear: MS.NODEV }, nodev: { set: MS.NODEV },
  diratime: { clear: MS.NODIRATIME }, nodiratime: { set: MS.NODIRATIME },
  dirsync: { set: MS.DIRSYNC },
  exec: { clear: MS.NOEXEC }, noexec: { set: MS.NOEXEC },
  iversion: { set: MS.I_VERSION }, noiversion: { clear: MS.I_VERSION },
  lazytime: { set: MS.LAZYTIME }, nolazytime: { clear: MS.LAZYTIME },
  loud: { clear: MS.SILENT }, silent: { set: MS.SILENT },
  mand: { set: MS.MANDLOCK }, nomand: { clear: MS.MANDLOCK },
  relatime: { set: MS.RELATIME }, norelatime: { clear: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME }, nostrictatime: { clear: MS.STRICTATIME },
  nosymfollow: { set: MS.NOSYMFOLLOW }, symfollow: { clear: MS.NOSYMFOLLOW },
  remount: { set: MS.REMOUNT },
  ro: { set: MS.RDONLY }, rw: { clear: MS.RDONLY },
  suid: { clear: MS.NOSUID }, nosuid: { set: MS.NOSUID },
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

const RECURSIVE: Record<string, { set?: number; clear?: number }> = {
  rro: { set: MOUNT_ATTR.RDONLY }, rrw: { clear: MOUNT_ATTR.RDONLY },
  rnosuid: { set: MOUNT_ATTR.NOSUID }, rsuid: { clear: MOUNT_ATTR.NOSUID },
  rnodev: { set: MOUNT_ATTR.NODEV }, rdev: { clear: MOUNT_ATTR.NODEV },
  rnoexec: { set: MOUNT_ATTR.NOEXEC }, rexec: { clear: MOUNT_ATTR.NOEXEC },
  rnodiratime: { set: MOUNT_ATTR.NODIRATIME }, rdiratime: { clear: MOUNT_ATTR.NODIRATIME },
  rrelatime: { set: MOUNT_ATTR.RELATIME, clear: MOUNT_ATTR.ATIME_MASK }, rnorelatime: {},
  rnoatime: { set: MOUNT_ATTR.NOATIME, clear: MOUNT_ATTR.ATIME_MASK }, ratime: { clear: MOUNT_ATTR.NOATIME },
  rstrictatime: { set: MOUNT_ATTR.STRICTATIME, clear: MOUNT_ATTR.ATIME_MASK }, rnostrictatime: {},
  rnosymfollow: { set: MOUNT_ATTR.NOSYMFOLLOW }, rsymfollow: { clear: MOUNT_ATTR.NOSYMFOLLOW },
};

export interface ParsedOptions {
  flags: number;
  propagation: number;
  attrSet: number;
  attrClr: number;
  data: string[];
  /** runc extensions that are not mount(2) options */
  extensions: string[];
}

const EXTENSIONS = new Set(["tmpcopyup", "idmap", "ridmap"]);

export function parseMountOptions(options: readonly string[]): ParsedOptions {
  const out: ParsedOptions = { flags: 0, propagation: 0, attrSet: 0, attrClr: 0, data: [], extensions: [] };
  for (const o of options) {
    const f = FLAGS[o];
    if (f) {
      if (f.set) out.flags |= f.set;
      if (f.clear) out.flags &= ~f.clear;
      continue;
    }
    const p = PROPAGATION[o];
    if (p !== undefined) {
      out.propagation = p; // the last one wins, as with mount(8)
      continue;
    }
    const r = RECURSIVE[o];
    if (r) {
      if (r.clear) {
        out.attrClr |= r.clear;
        out.attrSet &= ~r.clear;
      }
      if (r.set) {
        out.attrSet |= r.set;
        // an atime mode is set by clearing the whole atime mask (mount_setattr(2))
        if (!r.clear) out.attrClr &= ~r.set;
      }
      continue;
    }
    if (EXTENSIONS.has(o)) out.extensions.push(o);
    else out.data.push(o);
  }
  return out;
}

export function isBind(type: string | undefined, options: readonly string[]): boolean {
  return type === "bind" || options.includes("bind") || options.includes("rbind");
}
