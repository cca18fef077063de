/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }],
    // ESM-only packages the registry loads with require (Node >= 20.19 does that itself; Jest on Node 20 does not).
    "/node_modules/(openid-client|oauth4webapi|jose)/.+\\.js$": ["@swc/jest", { jsc: { target: "es2022" }, module: { type: "commonjs" } }],
  },
  transformIgnorePatterns: ["/node_modules/(?!(openid-client|oauth4webapi|jose)/)"],
  // PGlite instances hold ~200 MB each and never give it back inside a process.
  workerIdleMemoryLimit: "1GB",
  testTimeout: 60000,
  // Many integration tests wait on servers, browsers and timers rather than the CPU: on two cores a third worker
  // fills those waits; a fourth only adds contention (one machine, one code: 3 workers 762 s, 4 workers 793 s).
  // npm test prints the slowest suites at the end.
  maxWorkers: 3,
};
