/**
 * `npm test` without root: which system tools it looks for, what it does when one is missing
 * (skip outside CI, fail under CI=true), and where bats and its helpers come from.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.join(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");

const sudo = process.getuid?.() === 0 ? "" : "sudo ";

/** A temporary directory, removed after the test. */
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** Runs a script of tests/ with a PATH that holds only `tools`, and an empty test cache unless given. */
function runWith(script: string, args: string[], tools: string[], env: Record<string, string> = {}) {
  const bin = tempDir("ensure-tools-");
  for (const tool of tools) fs.symlinkSync(process.execPath, path.join(bin, tool));
  return spawnSync("/bin/bash", [path.join(root, "tests", script), ...args], {
    encoding: "utf8",
    env: { PATH: bin, SWARM_FLOCKER_TEST_CACHE: tempDir("test-cache-"), ...env },
  });
}
const ensureTools = (tools: string[], env: Record<string, string> = {}, args: string[] = []) =>
  runWith("ensure-tools.sh", args, tools, env);

test("with every tool present: nothing to report", () => {
  expect(ensureTools(["shellcheck", "jq", "docker"])).toMatchObject({ status: 0, stdout: "", stderr: "" });
});

test("outside CI a missing tool is listed for run-all.sh to skip its steps; nothing is installed", () => {
  expect(ensureTools(["jq"])).toMatchObject({ status: 0, stdout: "shellcheck\ndocker\n", stderr: "" });
  expect(read("tests/ensure-tools.sh")).not.toMatch(/^\s*(sudo\s+)?apt-get /m);
});

test("the line that provides them works as printed: sudo only for a user who is not root, the Docker CLI without an engine", () => {
  expect(ensureTools(["jq"], {}, ["--install"]).stdout).toBe(
    `${sudo}apt-get update && ${sudo}apt-get install -y shellcheck && bash tests/docker-cli.sh --fetch\n`,
  );
  expect(ensureTools(["docker"], {}, ["--install"]).stdout).toBe(
    `${sudo}apt-get update && ${sudo}apt-get install -y shellcheck jq\n`,
  );
  expect(ensureTools(["shellcheck", "jq"], {}, ["--install"]).stdout).toBe(
    `${sudo}apt-get update && bash tests/docker-cli.sh --fetch\n`,
  );
  expect(ensureTools(["shellcheck", "jq"], {}, ["--install"]).stdout).not.toContain("docker.io");
});

test("under CI=true a missing tool fails, with the command that provides it", () => {
  const result = ensureTools(["shellcheck"], { CI: "true" });
  expect(result.status).toBe(1);
  expect(result.stderr).toBe(
    `npm test under CI needs jq docker: ${sudo}apt-get update && ${sudo}apt-get install -y jq && bash tests/docker-cli.sh --fetch (.ci/run does)\n`,
  );
});

test("the Docker CLI: $REAL_DOCKER, else docker on PATH, else the one fetched into the test cache; none is reported", () => {
  const none = runWith("docker-cli.sh", [], []);
  expect(none).toMatchObject({ status: 1, stdout: "" });
  const onPath = runWith("docker-cli.sh", [], ["docker"]);
  expect(onPath.status).toBe(0);
  expect(onPath.stdout).toMatch(/\/docker\n$/);
  expect(runWith("docker-cli.sh", [], ["docker"], { REAL_DOCKER: process.execPath }).stdout).toBe(`${process.execPath}\n`);

  const cache = tempDir("test-cache-");
  fs.mkdirSync(path.join(cache, "docker-cli"));
  fs.symlinkSync(process.execPath, path.join(cache, "docker-cli", "docker"));
  expect(runWith("docker-cli.sh", [], [], { SWARM_FLOCKER_TEST_CACHE: cache }).stdout).toBe(`${cache}/docker-cli/docker\n`);
  // A fetched CLI counts as present: npm test runs the steps that need it.
  expect(ensureTools(["shellcheck", "jq"], { SWARM_FLOCKER_TEST_CACHE: cache })).toMatchObject({ status: 0, stdout: "" });
  // With one already there, --fetch downloads nothing (no apt-get on this PATH).
  expect(runWith("docker-cli.sh", ["--fetch"], [], { SWARM_FLOCKER_TEST_CACHE: cache })).toMatchObject({ status: 0 });
});

test("run-all.sh checks the install, skips only the steps a missing tool stops, and reports them once with the line that provides them", () => {
  const runAll = read("tests/run-all.sh");
  expect(runAll).toContain("node tools/dev/checkInstall.js");
  expect(runAll).toContain("part bats node_modules/bats/bin/bats tests/bats");
  // The rehearsal suite runs the node scripts with the bats stubs: skipped with bats, and only it.
  expect(runAll).toMatch(
    /if lacks docker \|\| lacks jq; then\n\s+skipped\+=\("bats" "jest tests\/rehearsal\.test\.ts"\)\n\s+jest_skip=\(--testPathIgnorePatterns '\/node_modules\/' '<rootDir>\/tests\/engine\/' '<rootDir>\/tests\/rehearsal\\\.test\\\.ts\$'\)/,
  );
  expect(runAll).toMatch(/if lacks shellcheck; then skipped\+=\(shellcheck\); fi/);
  expect(runAll).toContain("provide them with: $(bash tests/ensure-tools.sh --install)");
  const config = require(path.join(root, "jest.config.js"));
  // The skip list repeats the config's own ignores, so that tests/engine/ stays out of npm test.
  expect(config.testPathIgnorePatterns).toEqual(["/node_modules/", "<rootDir>/tests/engine/"]);
  // Two jest workers measured faster than one on the 2-core machines.
  expect(config.maxWorkers).toBe(2);
});

test("bats and its helpers are pinned npm devDependencies; the helpers load from node_modules", () => {
  const pkg = JSON.parse(read("package.json")) as { devDependencies: Record<string, string> };
  expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(["bats", "bats-support", "bats-assert"]));
  const helpers = read("tests/bats/helpers.bash");
  expect(helpers).toContain('load "$BATS_TEST_DIRNAME/../../node_modules/bats-support/load.bash"');
  expect(helpers).toContain('load "$BATS_TEST_DIRNAME/../../node_modules/bats-assert/load.bash"');
  expect(helpers).not.toContain("/usr/lib/bats");
});

test(".ci/run installs the system packages, runs npm test with CI=true, then the engine tier on Debian's Docker Engine", () => {
  const ci = read(".ci/run");
  expect(ci).toContain("apt_packages=(shellcheck jq)");
  expect(ci).toMatch(/apt_packages\+=\(docker\.io openssh-server [^)]*busybox-static[^)]*sudo/);
  expect(ci).toContain("export CI=true");
  const lines = ci.trim().split("\n");
  expect(lines.at(-1)).toBe('"${sudo_cmd[@]}" env "PATH=$PATH" CI=true npm run test:engine');
  expect(lines.indexOf("npm test")).toBeGreaterThan(lines.findIndex((line) => line.startsWith("npm ci")));
  expect(lines.indexOf("npm test")).toBeLessThan(lines.length - 1);
});
