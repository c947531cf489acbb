// A strict reader of the Prometheus text exposition format (0.0.4): throws on
// anything a Prometheus scrape would reject — a sample outside its family, a
// family declared twice, HELP/TYPE out of order, a label value with a raw
// quote or newline, a duplicate series, a value that is no float, histogram
// buckets that are not cumulative or lack +Inf. Empty lines are ignored, as
// Prometheus ignores them.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: "gauge" | "counter" | "histogram" | "summary" | "untyped";
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_VALUE = '"((?:[^"\\\\\\n]|\\\\["\\\\n])*)"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE},?)*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)=${LABEL_VALUE}`, "g");
const SUFFIXES: Record<Family["type"], string[]> = {
  gauge: [""],
  counter: ["", "_total"],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

export function parsePromText(text: string): Family[] {
  if (!text.endsWith("\n")) throw new Error("exposition does not end with a newline");
  const families: Family[] = [];
  const byName = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | undefined;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      const [, keyword, name, rest] = comment;
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`bad metric name ${name}`);
      if (keyword === "HELP") {
        if (byName.has(name)) throw new Error(`family ${name} appears twice`);
        current = { name, help: rest.replace(/\\(\\|n)/g, (_m, c: string) => (c === "n" ? "\n" : "\\")), type: "untyped", samples: [] };
        byName.set(name, current);
        families.push(current);
      } else {
        if (current?.name !== name || current.samples.length) throw new Error(`TYPE ${name} not right after its HELP`);
        if (!["gauge", "counter", "histogram", "summary", "untyped"].includes(rest)) throw new Error(`bad type ${rest}`);
        current.type = rest as Family["type"];
      }
      continue;
    }
    if (line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a valid sample line: ${line}`);
    const [, name, labelText = "", , valueText] = match;
    if (!current || !SUFFIXES[current.type].some((suffix) => name === current!.name + suffix)) throw new Error(`sample ${name} outside its family (current ${current?.name})`);
    const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== "NaN") throw new Error(`bad value ${valueText} in ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of labelText.matchAll(LABEL)) {
      if (key in labels) throw new Error(`label ${key} twice in ${line}`);
      labels[key] = raw.replace(/\\(["\\n])/g, (_m, c: string) => (c === "n" ? "\n" : c));
    }
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(id)) throw new Error(`duplicate series ${line}`);
    series.add(id);
    current.samples.push({ name, labels, value });
  }
  for (const family of families) if (family.type === "histogram") checkHistogram(family);
  return families;
}

/** Buckets cumulative per series, ending in +Inf equal to _count. */
function checkHistogram(family: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const sample of family.samples.filter((s) => s.name.endsWith("_bucket"))) {
    const { le, ...rest } = sample.labels;
    if (le === undefined) throw new Error(`${family.name}_bucket without le`);
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  for (const [key, buckets] of groups) {
    let previous = -Infinity;
    for (const bucket of buckets) {
      if (bucket.value < previous) throw new Error(`${family.name}: buckets not cumulative`);
      previous = bucket.value;
    }
    const inf = buckets.find((bucket) => bucket.labels.le === "+Inf");
    const count = family.samples.find((s) => s.name === `${family.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key);
    if (!inf || !count || inf.value !== count.value) throw new Error(`${family.name}: +Inf bucket missing or not equal to _count`);
  }
}

/** Every sample of every family, flat. */
export function samplesOf(text: string): Sample[] {
  return parsePromText(text).flatMap((family) => family.samples);
}

/** Samples named `name` whose labels include `labels`. */
export function findSamples(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}
