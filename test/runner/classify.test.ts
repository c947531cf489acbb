import { describe, expect, it } from "vitest";
import { classify, type ClassifyContext } from "../../src/diagnose/classify.js";
import { BudgetExceeded } from "../../src/util/deadline.js";
import { Diagnosed } from "../../src/diagnose/catalogue.js";

const ctx = (over: Partial<ClassifyContext> = {}): ClassifyContext => ({ kind: "http", completedPhases: [], budgetMs: 2000, endpoint: "db.internal:5432", ...over });
const errno = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${code} something`), { code, ...extra });

describe("classify (generic network, TLS and deadline rules)", () => {
  it.each([
    ["ENOTFOUND", errno("ENOTFOUND", { hostname: "db.internal" }), ctx({ phase: "dns" }), "dns", /"db.internal" does not resolve/],
    ["EAI_AGAIN is a temporary DNS failure", errno("EAI_AGAIN", { hostname: "redis.internal" }), ctx({ phase: "dns" }), "dns", /temporary DNS failure resolving "redis.internal".*not the service being down/],
    ["ECONNREFUSED", errno("ECONNREFUSED"), ctx({ phase: "connect" }), "refused", /refused by db.internal:5432.*nothing is listening/],
    ["AggregateError(ECONNREFUSED) with empty message", Object.assign(new AggregateError([errno("ECONNREFUSED")], ""), { code: "ECONNREFUSED" }), ctx(), "refused", /refused/],
    ["EHOSTUNREACH", errno("EHOSTUNREACH"), ctx(), "unreachable", /no network path.*EHOSTUNREACH/],
    ["ENETUNREACH", errno("ENETUNREACH"), ctx(), "unreachable", /ENETUNREACH/],
    ["kernel ETIMEDOUT", errno("ETIMEDOUT"), ctx(), "unreachable", /ETIMEDOUT/],
    ["ECONNRESET", errno("ECONNRESET"), ctx({ phase: "auth" }), "protocol", /reset the connection.*during auth/],
    ["self-signed certificate", errno("DEPTH_ZERO_SELF_SIGNED_CERT"), ctx({ phase: "tls" }), "tls", /self-signed/],
    ["expired certificate", errno("CERT_HAS_EXPIRED"), ctx({ phase: "tls" }), "tls", /expired/],
    ["hostname mismatch", errno("ERR_TLS_CERT_ALTNAME_INVALID"), ctx({ phase: "tls" }), "tls", /does not match the host name/],
    ["plaintext server on a TLS port", errno("ERR_SSL_WRONG_VERSION_NUMBER"), ctx({ phase: "tls" }), "tls", /did not answer with TLS/],
    ["bare EPROTO wrong version number", Object.assign(new Error("write EPROTO 40E7:error:0A00010B:SSL routines::wrong version number"), { code: "EPROTO" }), ctx({ phase: "tls" }), "tls", /did not answer with TLS/],
    ["unknown CA", errno("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), ctx({ phase: "tls" }), "tls", /issuer is unknown/],
    ["budget spent during dns", new BudgetExceeded(2000, false), ctx({ phase: "dns" }), "dns", /DNS lookup db.internal:5432 did not answer within 2.00 s/],
    ["budget spent before TCP connected", new BudgetExceeded(2000, false), ctx({ phase: "connect", completedPhases: ["dns"] }), "unreachable", /no TCP connection to db.internal:5432 within 2.00 s/],
    ["budget spent in TLS handshake", new BudgetExceeded(1500, false), ctx({ phase: "tls", completedPhases: ["connect"] }), "tls", /TLS handshake did not finish within 1.50 s/],
    ["budget spent after connecting", new BudgetExceeded(2000, false), ctx({ phase: "query", completedPhases: ["connect", "auth"] }), "timeout", /connected db.internal:5432 but no answer during query within 2.00 s/],
    ["cut by the run deadline", new BudgetExceeded(800, true), ctx({ phase: "welcome", completedPhases: ["connect", "upgrade"] }), "timeout", /cut short by the run deadline/],
    ["AbortError after connect", Object.assign(new Error("aborted"), { name: "AbortError" }), ctx({ phase: "ttfb", completedPhases: ["connect"] }), "timeout", /no answer during ttfb/],
    ["ProbeFailure passes through", new Diagnosed({ class: "protocol", message: "server selected no subprotocol", hint: "h" }), ctx(), "protocol", /no subprotocol/],
    ["anything else is internal, never hidden", new TypeError("x is not a function"), ctx({ phase: "query" }), "internal", /unexpected error during query: TypeError: x is not a function/],
  ])("%s", (_name, error, context, expectedClass, message) => {
    const classified = classify(error, context);
    expect(classified.class).toBe(expectedClass);
    expect(classified.message).toMatch(message);
  });

  it("every timeout says how long it waited and in which phase", () => {
    const classified = classify(new BudgetExceeded(3000, false), ctx({ phase: "welcome", completedPhases: ["connect", "upgrade"] }));
    expect(classified.message).not.toBe("timeout");
    expect(classified.phase).toBe("welcome");
    expect(classified.message).toContain("3.00 s");
  });
});
