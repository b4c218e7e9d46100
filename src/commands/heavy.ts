// Every command but the light ones (state, list, start): bundled on their own as
// dist/ocirt-commands.js, so that `state` neither reads nor deserialises them.
import type { Context } from "../context";

export type CommandModule = { default: (ctx: Context) => Promise<void> | void };

export { cgroupKiller } from "../lifecycle/kill-cgroup";
export { deleteContainer } from "../lifecycle/delete";

export const HEAVY: Record<string, () => Promise<CommandModule>> = {
  create: () => import("./create"),
  delete: () => import("./delete"),
  run: () => import("./run"),
  exec: () => import("./exec"),
  spec: () => import("./spec"),
  validate: () => import("./validate"),
  features: () => import("./features"),
  ps: () => import("./ps"),
  pause: () => import("./pause"),
  resume: () => import("./resume"),
  update: () => import("./update"),
  events: () => import("./events"),
  checkpoint: () => import("./checkpoint"),
  restore: () => import("./restore"),
};
