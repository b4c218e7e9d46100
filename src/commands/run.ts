import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function run(_ctx: Context): void {
  throw new NotImplementedError("run");
}
