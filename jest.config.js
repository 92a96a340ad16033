// Tests are transpiled only (tsconfig sets isolatedModules, so ts-jest skips type-checking per
// file); `npm test` type-checks the whole tree once with `tsc --noEmit` instead, which is several
// times faster than letting ts-jest check every test file against @pulumi/aws's typings.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // The engine tier (tests/engine, npm run test:engine) needs root and real daemons: never here.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/engine/"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testTimeout: 30000,
  // Jest's default (cores - 1) is one worker on the 2-core machines CI and developers use; the
  // suites that evaluate the program are CPU-bound and independent, so use both cores.
  maxWorkers: 2,
};
