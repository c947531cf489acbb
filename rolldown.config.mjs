// The one build the package ships (dist-bundle/): our compiled modules and
// their pure-JS dependencies in a few chunks, so a run resolves and reads a
// handful of files instead of ~340 (measured: a 4-check run 274 → 177 ms).
// What is inlined here is a devDependency: npm does not install it a second
// time. Dynamic imports stay chunk boundaries: a kind's client loads only
// when used. The Google client libraries stay outside (dependencies): they
// read their protos from their own folders at run time and load only for
// Google checks anyway. dist/ (tsc's output) is the bundle's input, and what
// the benchmarks import; it is not shipped.
export default {
  // The sampling worker is its own entry: a thread loads it by file name (src/net/sampler.ts).
  input: { cli: "dist/cli.js", "help-cache": "dist/help-cache.js", "sampler-worker": "dist/net/sampler-worker.js" },
  platform: "node",
  external: [/^@google-cloud\//, /^google-gax(\/|$)/, /^@grpc\//, /^google-auth-library/, /^protobufjs/, "pg-native", "bufferutil", "utf-8-validate"],
  // The demo stack imports postgres.ts statically (to find binaries) and lazily; both are fine in one chunk.
  checks: { ineffectiveDynamicImport: false },
  output: { dir: "dist-bundle", format: "esm", chunkFileNames: "[name]-[hash].js", cleanDir: true },
};
