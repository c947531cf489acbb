// Output formats: one file each, loaded lazily. A reporter is a pure
// (report, options) → string; it never decides the exit code.
import type { AsyncReporter, Reporter } from "../report/schema.js";
import { ConfigError } from "../util/errors.js";

export const REPORTERS = {
  table: () => import("./table.js"),
  json: () => import("./json.js"),
  junit: () => import("./junit.js"),
  markdown: () => import("./markdown.js"),
  github: () => import("./github.js"),
  prometheus: () => import("./prometheus.js"),
} satisfies Record<string, () => Promise<{ default: Reporter | AsyncReporter }>>;

export type FormatName = keyof typeof REPORTERS;
export const FORMATS = Object.keys(REPORTERS) as FormatName[];

export function isFormat(name: string): name is FormatName {
  return Object.hasOwn(REPORTERS, name);
}

type Loaded<N extends FormatName> = Awaited<ReturnType<(typeof REPORTERS)[N]>>["default"];

export async function loadReporter<N extends FormatName>(name: N): Promise<Loaded<N>>;
export async function loadReporter(name: string): Promise<Reporter | AsyncReporter>;
export async function loadReporter(name: string): Promise<Reporter | AsyncReporter> {
  if (!isFormat(name)) throw new ConfigError(`--format: unknown format "${name}"; formats: ${FORMATS.join(", ")}`);
  return (await REPORTERS[name]()).default;
}
