import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function ps(_ctx: Context): void {
  throw new NotImplementedError("ps");
}
