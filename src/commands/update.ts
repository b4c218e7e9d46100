import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function update(_ctx: Context): void {
  throw new NotImplementedError("update");
}
