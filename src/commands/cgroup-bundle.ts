// The commands that need the container's state and its cgroup but nothing of a
// config (no validator, planner or spawn): pause, resume, and the cgroup library the
// light commands load on their rarer paths (kill's cgroup part; delete's, and start's
// remover's, for a paused, busy or systemd cgroup). Bundled on their own as
// dist/ocirt-cgroup.js, a third of the commands bundle's size.
import type { CommandModule } from "./heavy";

export { cgroupKiller } from "../lifecycle/kill-cgroup";
export { cgroupRemoval } from "../lifecycle/cgroup-removal";

export const CGROUP_COMMANDS: Record<string, () => Promise<CommandModule>> = {
  pause: () => import("./pause"),
  resume: () => import("./resume"),
};
