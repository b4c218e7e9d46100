// The commands that start a container's process: create, run and exec, bundled on their own
// as dist/ocirt-create.js, without what the others need (checkpoint's CRIU and protobuf,
// events' statistics, ...): the bundle's load is a fixed cost of every create (~0.7 ms less
// than with every command in one bundle, docs/speed.md).
import type { CommandModule } from "./heavy";

export const CREATE: Record<string, () => Promise<CommandModule>> = {
  create: () => import("./create"),
  run: () => import("./run"),
  exec: () => import("./exec"),
};
