// Every command but the light ones (state, list, start, kill, delete), those of
// cgroup-bundle.ts (pause, resume) and of create-bundle.ts (create, run, exec): bundled on
// their own as dist/ocirt-commands.js, so that neither `state` nor `create` reads them.
import type { Context } from "../context";

export type CommandModule = { default: (ctx: Context) => Promise<void> | void };

export const HEAVY: Record<string, () => Promise<CommandModule>> = {
  spec: () => import("./spec"),
  validate: () => import("./validate"),
  features: () => import("./features"),
  ps: () => import("./ps"),
  update: () => import("./update"),
  events: () => import("./events"),
  checkpoint: () => import("./checkpoint"),
  restore: () => import("./restore"),
};
