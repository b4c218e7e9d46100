// Every command but the light ones (state, list, start, kill, delete) and those of
// cgroup-bundle.ts (pause, resume): bundled on their own as
// dist/ocirt-commands.js, so that `state` neither reads nor deserialises them.
import type { Context } from "../context";

export type CommandModule = { default: (ctx: Context) => Promise<void> | void };

export const HEAVY: Record<string, () => Promise<CommandModule>> = {
  create: () => import("./create"),
  run: () => import("./run"),
  exec: () => import("./exec"),
  spec: () => import("./spec"),
  validate: () => import("./validate"),
  features: () => import("./features"),
  ps: () => import("./ps"),
  update: () => import("./update"),
  events: () => import("./events"),
  checkpoint: () => import("./checkpoint"),
  restore: () => import("./restore"),
};
