// Building blocks of a kind's passLine (ProbeDefinition.passLine): figures
// read from a measurement, joined with " · ". A figure the probe did not
// measure is left out, never shown as 0 or "undefined".
import type { MetricValue } from "../../diagnose/vocabulary.js";
import { formatMs } from "../../util/duration.js";

/** `label 0.19 ms` when the metric is a number, else nothing. */
export function msFigure(label: string, value: MetricValue | undefined): string | undefined {
  return typeof value === "number" && Number.isFinite(value) ? `${label ? `${label} ` : ""}${formatMs(value)}` : undefined;
}

/** The figures that exist, in order, as one line. */
export function figures(...parts: (string | undefined | false | null)[]): string | undefined {
  const shown = parts.filter((part): part is string => typeof part === "string" && part.length > 0);
  return shown.length ? shown.join(" · ") : undefined;
}

/** A certificate that will expire: `cert 41 days`, shown only when TLS was spoken. */
export function certFigure(metrics: Record<string, MetricValue>): string | undefined {
  const days = metrics.certExpiresInDays;
  return typeof days === "number" ? `cert ${Math.floor(days)} day${Math.floor(days) === 1 ? "" : "s"} left` : undefined;
}
