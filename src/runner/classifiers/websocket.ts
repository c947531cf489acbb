// Error rules of the websocket client. Owned by the websocket probe's author.
import type { ClassifiedError } from "../../types.js";
import type { ClassifyContext } from "../classify.js";

export function classifyWebsocketError(_error: unknown, _ctx: ClassifyContext): ClassifiedError | undefined {
  return undefined;
}
