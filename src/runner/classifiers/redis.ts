// Error rules of the redis client. Owned by the redis probe's author.
import type { ClassifiedError } from "../../types.js";
import type { ClassifyContext } from "../classify.js";

export function classifyRedisError(_error: unknown, _ctx: ClassifyContext): ClassifiedError | undefined {
  return undefined;
}
