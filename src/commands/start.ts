import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function start(_ctx: Context): void {
  throw new NotImplementedError("start");
}
