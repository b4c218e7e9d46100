import type { Context } from "../context";
import { NotImplementedError } from "../errors";

export default function validate(_ctx: Context): void {
  throw new NotImplementedError("validate");
}
