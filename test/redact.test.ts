import { describe, expect, it } from "vitest";
import { collectSecrets, MASK, Redactor, redactUrl } from "../src/redact.js";

describe("Redactor", () => {
  const redactor = new Redactor(["hunter2-password", "p@ss word/+"]);
  it.each([
    ["known secret anywhere", "AUTH failed for hunter2-password!", "AUTH failed for ***!"],
    ["URL-encoded known secret", "redis://:p%40ss%20word%2F%2B@host", "redis://:***@host"],
    ["URL userinfo password", "postgres://app:unknownpw@db:5432/app", "postgres://app:***@db:5432/app"],
    ["redis URL with empty user", "connect to redis://:s3cret@10.0.0.3:6379 failed", "connect to redis://:***@10.0.0.3:6379 failed"],
    ["Bearer token", "Authorization: Bearer abc.def-123", "Authorization: Bearer ***"],
    ["Basic credentials", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"],
    ["password= in a connection string", "host=db password=topsecret user=app", "host=db password=*** user=app"],
    ["token query parameter", "wss://x/ws?token=abc123&room=1", "wss://x/ws?token=***&room=1"],
    ["JWT", "got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl back", `got ${MASK} back`],
    ["plain text untouched", "connection refused by 127.0.0.1:6379", "connection refused by 127.0.0.1:6379"],
  ])("%s", (_name, input, expected) => {
    expect(redactor.text(input)).toBe(expected);
  });

  it("redacts deeply, keys included", () => {
    const out = redactor.deep({ a: ["x hunter2-password"], b: { "hunter2-password": 1 }, n: 5, z: null });
    expect(JSON.stringify(out)).not.toContain("hunter2");
    expect(out.n).toBe(5);
    expect(out.z).toBeNull();
  });

  it("ignores secrets too short to mask safely", () => {
    const short = new Redactor(["ab"]);
    expect(short.text("table abc")).toBe("table abc");
  });

  it("secrets added at run time are masked from then on", () => {
    const live = new Redactor();
    live.add("resolved-from-secret-manager");
    expect(live.text("value resolved-from-secret-manager")).toBe("value ***");
  });
});

describe("redactUrl", () => {
  it.each([
    ["redis://:pw123@h:6379/0", "redis://:***@h:6379/0"],
    ["postgres://app:pw@db/app", "postgres://app:***@db/app"],
    ["https://api.example.com/health?token=abc&x=1", "https://api.example.com/health?token=***&x=1"],
    ["https://api.example.com/health", "https://api.example.com/health"],
  ])("%s → %s", (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe("collectSecrets", () => {
  it("a password is one secret, even when it reads like user:password@host", () => {
    expect(collectSecrets({ password: "app-S3cret/with:odd@chars" }, "db")).toEqual(["app-S3cret/with:odd@chars"]);
  });
  it("a URL's password is found in a field that is not a secret", () => {
    expect(collectSecrets({ url: "postgres://app:pw-in-url@db/app" }, "db")).toEqual(["pw-in-url"]);
  });
});
