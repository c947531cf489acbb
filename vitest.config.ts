import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real servers (redis-server, postgres, emulator) start per file; 2-core machines.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    env: { METADATA_SERVER_DETECTION: "none", NO_COLOR: "1" },
  },
});
