import { describe, expect, it } from "vitest";
import { parseExpectation, satisfies } from "../../src/evaluate/expectations.js";
import { parseDurationMs } from "../../src/util/duration.js";

describe("parseExpectation", () => {
  it.each([
    [200, { op: "==", value: 200 }],
    [true, { op: "==", value: true }],
    [null, { op: "==", value: null }],
    ["healthy", { op: "==", value: "healthy" }],
    ["< 200ms", { op: "<", value: 200 }],
    ["<=2s", { op: "<=", value: 2000 }],
    ["> 1m", { op: ">", value: 60000 }],
    [">= 95%", { op: ">=", value: 95 }],
    ["== ok", { op: "==", value: "ok" }],
    ["!= 0", { op: "!=", value: 0 }],
    ["~ ^2\\d\\d$", { op: "~", value: "^2\\d\\d$" }],
    ["< 0.5", { op: "<", value: 0.5 }],
    ["== 'quoted'", { op: "==", value: "quoted" }],
  ])("%j → %j", (raw, expected) => {
    expect(parseExpectation(raw)).toMatchObject(expected);
  });

  it.each([
    ["< fast", /compares numbers or durations/],
    ["<", /needs a value/],
    ["~ (unclosed", /not a valid regular expression/],
    [{ a: 1 }, /expected a number, boolean, string/],
  ])("rejects %j", (raw, message) => {
    expect(() => parseExpectation(raw)).toThrow(message);
  });
});

describe("satisfies", () => {
  it.each([
    ["< 200ms", 150, true],
    ["< 200ms", 200, false],
    ["<= 200ms", 200, true],
    ["> 1s", 1001, true],
    [">= 95%", 94.9, false],
    [">= 95%", 95, true],
    [200, 200, true],
    [200, "200", true],
    ["200", 200, true],
    [200, 404, false],
    ["healthy", "healthy", true],
    ["healthy", "degraded", false],
    ["!= degraded", "healthy", true],
    ["!= degraded", "degraded", false],
    ["~ ^2\\d\\d$", 204, true],
    ["~ ^2\\d\\d$", 503, false],
    [true, true, true],
    [true, "true", true],
    [false, true, false],
    [null, null, true],
    ["< 200ms", "abc", false],
    ["< 200ms", undefined, false],
    ["healthy", undefined, false],
    ["!= x", undefined, false],
  ] as const)("%j vs %j → %s", (raw, actual, expected) => {
    expect(satisfies(actual as never, parseExpectation(raw))).toBe(expected);
  });
});

describe("parseDurationMs", () => {
  it.each([
    ["250ms", 250],
    ["2s", 2000],
    ["1.5s", 1500],
    ["1m", 60000],
    ["1h", 3600000],
    ["500us", 0.5],
    ["42", 42],
    [42, 42],
    ["2 s", 2000],
  ] as const)("%j → %d", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });
  it.each(["fast", "-1s", "1d", "", "1.s", -5])("rejects %j", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});
