// The runner's container and its docs stay in step with the package: the
// Dockerfile runs infra-check as a non-root user on a supported Node, from
// what the package ships; the README and the docs index point at runners.md.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

describe("the runner's image and docs", () => {
  const dockerfile = read("Dockerfile");
  const pkg = JSON.parse(read("package.json")) as { files: string[]; engines: { node: string }; bin: Record<string, string> };

  it("runs infra-check as its entrypoint, as a non-root user, on a Node the package supports", () => {
    const minimum = Number(/>=\s*(\d+)/.exec(pkg.engines.node)![1]);
    for (const [, version] of dockerfile.matchAll(/^FROM node:(\d+)/gm)) expect(Number(version)).toBeGreaterThanOrEqual(minimum);
    const stages = dockerfile.split(/^FROM /m);
    const final = stages[stages.length - 1];
    expect(final).toMatch(/^USER (?!root\b)\S+/m);
    expect(final).toContain(`ENTRYPOINT ["node", "/app/${pkg.bin["infra-check"]}"]`);
  });

  it("copies into the image what the package ships (and its runtime dependencies)", () => {
    const copied = [...dockerfile.matchAll(/^COPY --from=build \/src\/(\S+) /gm)].map((match) => match[1]);
    for (const shipped of pkg.files.filter((file) => file !== "docs")) expect(copied).toContain(shipped);
    expect(copied).toContain("node_modules");
  });

  it("README and the architecture page link docs/runners.md", () => {
    expect(read("README.md")).toContain("(docs/runners.md)");
    expect(read("docs/architecture.md")).toContain("(runners.md)");
  });
});
