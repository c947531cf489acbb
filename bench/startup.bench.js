// `infra-check --help` against bare `node -e 0`: the price of our start-up.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { timeCommands } from "./lib.js";

export const title = "start-up: infra-check --help vs node -e 0";
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bin/infra-check.js");

export default async function ({ runs }) {
  const [node, help] = timeCommands([`${process.execPath} -e 0`, `${process.execPath} ${bin} --help`], { runs: Math.max(runs * 4, 20) });
  const ratio = help.median / node.median;
  return [
    {
      figure: "infra-check --help wall time",
      value: help.median,
      unit: "ms",
      min: help.min,
      max: help.max,
      baseline: { label: "node -e 0", value: node.median },
      ratio,
      target: "≤ 1.3×",
      ok: ratio <= 1.3,
    },
  ];
}
