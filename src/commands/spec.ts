import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function spec(_ctx: Context): void {
  throw new NotImplementedError("spec");
}
