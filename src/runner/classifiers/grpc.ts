// Error rules of the grpc client. Owned by the grpc probe's author.
import type { ClassifiedError } from "../../types.js";
import type { ClassifyContext } from "../classify.js";

export function classifyGrpcError(_error: unknown, _ctx: ClassifyContext): ClassifiedError | undefined {
  return undefined;
}
