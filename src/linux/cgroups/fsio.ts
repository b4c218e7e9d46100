// The only place that touches cgroupfs. Everything above it takes a CgroupFs so
// unit tests can run the same code against a fake tree (see fakefs.ts).
//
// cgroupfs wants one write(2) per value, no O_CREAT (it cannot create files
// and would report a confusing error) and no O_TRUNC.
import * as fs from "node:fs";
import { native } from "../../native";

export interface CgroupFs {
  readFile(path: string): string;
  /** One write(2) of data on an O_WRONLY descriptor. Throws the errno error. */
  writeFile(path: string, data: string): void;
  exists(path: string): boolean;
  /** mkdir(2) of one level; throws EEXIST if present. */
  mkdir(path: string): void;
  rmdir(path: string): void;
  /** Entries of a cgroup directory: files are knobs, directories child cgroups. */
  list(path: string): { name: string; isDir: boolean }[];
  /** An O_RDONLY|O_DIRECTORY|O_CLOEXEC descriptor of the cgroup directory. */
  openDir(path: string): number;
  kill(pid: number, signal: NodeJS.Signals | number): void;
  sleep(ms: number): void;
  /**
   * cgroup v2: attaches the eBPF device program (struct bpf_insn[]) to the
   * cgroup dir in place of the device programs attached there before.
   */
  setDeviceFilter(path: string, program: Buffer): void;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export const realFs: CgroupFs = {
  readFile: (path) => fs.readFileSync(path, "utf8"),
  writeFile(path, data) {
    const fd = fs.openSync(path, fs.constants.O_WRONLY);
    try {
      const buf = Buffer.from(data);
      const n = fs.writeSync(fd, buf, 0, buf.length);
      if (n !== buf.length) {
        throw Object.assign(new Error(`short write to ${path}`), { code: "EIO" });
      }
    } finally {
      fs.closeSync(fd);
    }
  },
  exists: (path) => fs.existsSync(path),
  mkdir: (path) => fs.mkdirSync(path, { mode: 0o755 }),
  rmdir: (path) => fs.rmdirSync(path),
  list(path) {
    return fs.readdirSync(path, { withFileTypes: true }).map((d) => ({ name: d.name, isDir: d.isDirectory() }));
  },
  openDir: (path) => fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY),
  kill: (pid, signal) => process.kill(pid, signal),
  sleep: (ms) => {
    Atomics.wait(sleeper, 0, 0, ms);
  },
  setDeviceFilter(path, program) {
    const dirFd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      // The attachment holds the program; our fd would only leak into the container.
      const { progFd } = native().loadDeviceFilter(dirFd, program);
      native().close(progFd);
    } finally {
      fs.closeSync(dirFd);
    }
  },
};

export function join(dir: string, file: string): string {
  if (file.includes("/")) throw new Error(`internal: cgroup file name with a slash: ${file}`);
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}
