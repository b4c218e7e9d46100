import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function create(_ctx: Context): void {
  throw new NotImplementedError("create");
}
