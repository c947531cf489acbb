// Error rules of the postgres client. Owned by the postgres probe's author.
import type { ClassifiedError } from "../../types.js";
import type { ClassifyContext } from "../classify.js";

export function classifyPostgresError(_error: unknown, _ctx: ClassifyContext): ClassifiedError | undefined {
  return undefined;
}
