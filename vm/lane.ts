// `npm run test:vm`: the project's tests in a pure cgroup v2 guest.
//   plain guest (default): the integration suite (scripts/test.mjs integration)
//   --systemd: the systemd guest's own suite (scripts/test.mjs systemd, test/systemd)
// The rootfs trees the tests use are built on the host first (build/, seen by the
// guest through its read-only root); the guest prints the suite's closing line,
// and when the VM fails before that, the lane prints one that counts the failure.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { busyboxAvailable, ensureBusyboxRootfs, ensureProbeRootfs } from "../conformance/rootfs";
import { closingLine, type VmOptions } from "./plan";
import { runVm, STDIO } from "./run";
import { REPO, VmSetupError } from "./setup";

/** The command the guest runs for a lane: the suite, optionally narrowed to files matching a pattern. */
export function laneCommand(mode: VmOptions["mode"], pattern?: string): string[] {
  const suite = mode === "systemd" ? "systemd" : "integration";
  return ["node", "scripts/test.mjs", suite, ...(pattern ? [pattern] : [])];
}

function fmt(s: number | undefined): string {
  return s === undefined ? "-" : `${s.toFixed(1)} s`;
}

export async function lane(o: VmOptions): Promise<number> {
  if (o.command.length > 1) throw new VmSetupError(`test takes at most one FILE_PATTERN, got: ${o.command.join(" ")}`);
  if (!existsSync(join(REPO, "dist", "ocirt.js"))) throw new VmSetupError("no dist/ocirt.js: build first (npm run build)");
  const t0 = Date.now();
  // native speed here, ~15x slower in the guest; and the guest's writes would vanish
  ensureProbeRootfs();
  if (busyboxAvailable()) ensureBusyboxRootfs();
  const opts: VmOptions = { ...o, cwd: REPO, command: laneCommand(o.mode, o.command[0]), env: [...o.env, `OCIRT_VM=${o.mode}`] };
  let out = "";
  const res = await runVm(opts, {
    stdout: (b) => {
      out += b.toString("utf8");
      STDIO.stdout(b);
    },
    stderr: STDIO.stderr,
  });
  const t = res.timings;
  const suite = t.start !== undefined && t.end !== undefined ? t.end - t.start : undefined;
  process.stderr.write(
    `vm: ${o.mode} guest (kernel ${res.kernelVersion}): booted to the command in ${fmt(t.start)} (guest uptime), ` +
      `suite ${fmt(suite)}, VM ${fmt(t.wall)}, whole lane ${fmt((Date.now() - t0) / 1000)}\n`,
  );
  if (res.problem && !closingLine(out)) {
    // the suite never printed its line: say so in the same shape
    console.log(`\n0 passed, 1 failed, 0 skipped`);
    return res.status || 1;
  }
  return res.status;
}
