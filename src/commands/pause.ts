import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function pause(_ctx: Context): void {
  throw new NotImplementedError("pause");
}
