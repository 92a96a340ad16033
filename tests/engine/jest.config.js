// The engine tier (npm run test:engine, via tests/engine/run.sh): real Docker Engines in network
// namespaces, as root. One file at a time (--runInBand): the nodes share the machine's 2 cores.
// The fast tier (jest.config.js at the root) matches only *.test.ts, so it never picks these up.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: "../..",
  testEnvironment: "node",
  roots: ["<rootDir>/tests/engine"],
  testMatch: ["**/*.engine.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testTimeout: 600000,
};
