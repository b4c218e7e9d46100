import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function resume(_ctx: Context): void {
  throw new NotImplementedError("resume");
}
