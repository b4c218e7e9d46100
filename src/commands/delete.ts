import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function del(_ctx: Context): void {
  throw new NotImplementedError("delete");
}
