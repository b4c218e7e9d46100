// cgroups for ocirt: one interface over cgroup v1, v2 and the hybrid layout.
//
//   const host = probeCgroupHost();                      // once per command
//   const plan = planCgroup(spec, id, { host, systemd }); // pure
//   const cg = createCgroup(plan);                        // mkdir + limits
//   cg.addProcess(pid)  /  cg.openV2DirFd() for CLONE_INTO_CGROUP
//   state.cgroup = cg.toState();  ...  Cgroup.fromState(state.cgroup)
//   cg.freeze() / cg.thaw() / cg.state() / cg.stats() / cg.applyResources(r)
//   destroyCgroup(cg);
export { probeCgroupHost, parseCgroupHost, parseMountinfo, parseProcCgroup, hugePageSizeName } from "./host";
export type { CgroupHost, CgroupMount, ProbeOptions } from "./host";
export { planCgroup } from "./plan";
export type { CgroupPlan, PlanOptions } from "./plan";
export { planResources, FRESH_SNAPSHOT } from "./resources";
export type { ResourceTarget } from "./resources";
export { Cgroup } from "./cgroup";
export { createCgroup, destroyCgroup, pendingCgroup } from "./dirs";
export type { CgroupOptions, ApplyResult } from "./cgroup";
export { readStats, statsToRuncJSON, encodeJSON, emptyStats } from "./stats";
export type { CgroupStats } from "./stats";
export { cleanPath, innerPath } from "./paths";
export { expandSlice, parseSystemdCgroupsPath, SYSTEMD_NOT_RUNNING } from "./systemd";
export type { SystemdUnit } from "./systemd";
export { DEFAULT_DEVICE_RULES, DeviceEmulator, defaultDeviceCgroups, deviceWritesV1, parseDeviceRules, ruleString } from "./devices";
export { compileDeviceFilter, deviceFilterProgram, encodeBpf, decodeBpf } from "./devices-bpf";
export type { BpfInsn } from "./devices-bpf";
export { cpuSharesToWeight, blkioWeightToIoWeight, memorySwapToV2 } from "./convert";
export { realFs } from "./fsio";
export type { CgroupFs } from "./fsio";
export type * from "./types";
