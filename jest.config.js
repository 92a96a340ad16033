// Tests are transpiled only (tsconfig sets isolatedModules, so ts-jest skips type-checking per
// file); `npm test` type-checks the whole tree once with `tsc --noEmit` instead, which is several
// times faster than letting ts-jest check every test file against @pulumi/aws's typings.
const os = require("os");
const path = require("path");

// What tests keep between runs lives in one directory (docs/testing.md): jest's transform cache
// here, the shared program runs in tests/helpers/isolatedRun.ts. Set in the environment, so that
// the workers, which inherit it, use the same one; tests/run-all.sh sets it the same way.
process.env.SWARM_FLOCKER_TEST_CACHE ??= path.join(os.tmpdir(), `swarm-flocker-test-cache-${os.userInfo().uid}`);

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // tests/engine/ is a tier of its own (npm run test:engine), not part of npm test. tests/run-all.sh
  // repeats these when it adds a suite to skip.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/engine/"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  cacheDirectory: path.join(process.env.SWARM_FLOCKER_TEST_CACHE, "jest"),
  // A hook that evaluates the program for several configurations (day2.test.ts: six) waits on the
  // program server for each; on a busy 2-core machine that is more than 30 s.
  testTimeout: 120000,
  // The suites' program evaluations run in one plain-Node server per worker (tests/helpers/programServers.ts).
  globalSetup: "<rootDir>/tests/helpers/startProgramServers.ts",
  globalTeardown: "<rootDir>/tests/helpers/stopProgramServers.ts",
  // Jest's default (cores - 1) is one worker on the 2-core machines CI and developers use; the
  // suites that evaluate the program are CPU-bound and independent, so use both cores.
  maxWorkers: 2,
};
