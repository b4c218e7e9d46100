import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function features(_ctx: Context): void {
  throw new NotImplementedError("features");
}
