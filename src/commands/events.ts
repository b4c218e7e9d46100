import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function events(_ctx: Context): void {
  throw new NotImplementedError("events");
}
