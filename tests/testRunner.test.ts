/**
 * `npm test` without root: which system tools it looks for, what it does when one is missing
 * (skip outside CI, fail under CI=true), and where bats and its helpers come from.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { testCountsBlock } from "../tools/dev/figures";
import { slowTierEntries, tierOf } from "../tools/dev/testTiers";

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

/** tests/run-all.sh's plan for a tier (--dry-run): each part's command line, by part name. */
function planOf(args: string[], env: Record<string, string> = {}): Record<string, string[]> {
  const result = spawnSync("/bin/bash", [path.join(root, "tests/run-all.sh"), ...args, "--dry-run"], {
    encoding: "utf8",
    env: { ...process.env, CI: "", ...env },
  });
  expect(result).toMatchObject({ status: 0, stderr: "" });
  return Object.fromEntries(
    result.stdout
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2).split(" ")]),
  );
}
const slowTier = slowTierEntries();
const allJestSuites = fs
  .readdirSync(path.join(root, "tests"))
  .filter((file) => file.endsWith(".test.ts"))
  .map((file) => `tests/${file}`);
const allBatsFiles = fs
  .readdirSync(path.join(root, "tests/bats"))
  .filter((file) => file.endsWith(".bats"))
  .map((file) => `tests/bats/${file}`);
const inSlowTier = (file: string) => tierOf(file, slowTier) === "slow";
/** The suites a jest command line runs: the ones it names, or all but the ones it ignores. */
function jestSuites(command: string[]): string[] {
  const byPath = command.indexOf("--runTestsByPath");
  if (byPath >= 0) return command.slice(byPath + 1);
  const ignored = command
    .slice(command.indexOf("--testPathIgnorePatterns") + 1)
    .map((pattern) => new RegExp(pattern.replace("<rootDir>", root)));
  return allJestSuites.filter((suite) => !ignored.some((pattern) => pattern.test(path.join(root, suite))));
}

describe("run-all.sh's tiers: npm test (fast), npm run test:slow, npm run test:all", () => {
  test("every jest suite and bats file runs in exactly one of the fast and the slow tier, and all of them in all", () => {
    const fast = planOf([]);
    const slow = planOf(["--tier", "slow"]);
    const all = planOf(["--tier", "all"]);
    expect(jestSuites(fast.jest).sort()).toEqual(allJestSuites.filter((suite) => !inSlowTier(suite)).sort());
    expect(jestSuites(slow.jest).sort()).toEqual(allJestSuites.filter(inSlowTier).sort());
    expect(jestSuites(all.jest).sort()).toEqual([...allJestSuites].sort());
    // bats runs as two halves (bats-1, bats-2) of alternate files.
    const batsFiles = (plan: Record<string, string[]>) =>
      [...(plan["bats-1"] ?? []).slice(1), ...(plan["bats-2"] ?? []).slice(1)].sort();
    expect(batsFiles(fast)).toEqual(allBatsFiles.filter((file) => !inSlowTier(file)).sort());
    expect(batsFiles(slow)).toEqual(allBatsFiles.filter(inSlowTier).sort());
    expect(Math.abs((slow["bats-1"] ?? []).length - (slow["bats-2"] ?? []).length)).toBeLessThanOrEqual(1);
    expect([...batsFiles(all)].sort()).toEqual([...allBatsFiles].sort());
    // tests/engine/ is a tier of its own in every one; the static checks run once, with the fast tier.
    for (const plan of [fast, slow, all])
      expect(jestSuites(plan.jest).some((suite) => suite.startsWith("tests/engine/"))).toBe(false);
    expect(Object.keys(fast).sort()).toEqual(expect.arrayContaining(["jest", "lint", "types"]));
    expect([slow.types, slow.lint]).toEqual([undefined, undefined]);
    expect([all.types, all.lint]).toEqual([
      ["tsc", "knip"],
      ["shellcheck", "eslint", "prettier"],
    ]);
  });

  test("the slow tier names only suites that exist", () => {
    for (const entry of slowTier) expect([entry, fs.existsSync(path.join(root, entry))]).toEqual([entry, true]);
  });

  test("a tier it does not know is refused, naming the ones it does", () => {
    const result = spawnSync("/bin/bash", [path.join(root, "tests/run-all.sh"), "--tier", "quick"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--tier is fast, slow or all, got: quick");
  });

  test("without jq and a Docker CLI, bats and the rehearsal suite are left out of the tier that holds them, and reported", () => {
    // A PATH with what run-all.sh itself needs, and neither jq, docker nor shellcheck.
    const bin = tempDir("run-all-path-");
    for (const tool of ["bash", "node", "dirname", "grep", "sed", "mktemp", "rm", "mkdir", "tr", "cat"]) {
      const found = spawnSync("/bin/bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
      fs.symlinkSync(found, path.join(bin, tool));
    }
    const env = { PATH: bin, REAL_DOCKER: "", SWARM_FLOCKER_TEST_CACHE: tempDir("test-cache-") };
    const slow = planOf(["--tier", "slow"], env);
    expect([slow["bats-1"], slow["bats-2"]]).toEqual([undefined, undefined]);
    expect(jestSuites(slow.jest)).not.toContain("tests/rehearsal.test.ts");
    expect(jestSuites(slow.jest).length).toBe(allJestSuites.filter(inSlowTier).length - 1);
    expect(slow.skipped.join(" ")).toBe("bats jest tests/rehearsal.test.ts");
    const all = planOf(["--tier", "all"], env);
    expect(jestSuites(all.jest)).not.toContain("tests/rehearsal.test.ts");
    expect(all.skipped.join(" ")).toBe("bats jest tests/rehearsal.test.ts shellcheck");
    // The fast tier holds no bats file and not the rehearsal: only shellcheck is missing for it.
    expect(planOf([], env).skipped).toEqual(["shellcheck"]);
  });

  test("the install is checked first, and what was skipped is reported once with the line that provides it", () => {
    const runAll = read("tests/run-all.sh");
    expect(runAll.indexOf("node tools/dev/checkInstall.js")).toBeLessThan(runAll.indexOf('part "bats-'));
    expect(runAll).toContain("provide them with: $(bash tests/ensure-tools.sh --install)");
    const config = require(path.join(root, "jest.config.js"));
    // run-all.sh's ignores start with the config's own, so that tests/engine/ stays out of npm test.
    expect(config.testPathIgnorePatterns).toEqual(["/node_modules/", "<rootDir>/tests/engine/"]);
    // Two jest workers measured faster than one on the 2-core machines.
    expect(config.maxWorkers).toBe(2);
  });
});

test("bats and its helpers are pinned npm devDependencies; the helpers load from node_modules", () => {
  const pkg = JSON.parse(read("package.json")) as { devDependencies: Record<string, string> };
  expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(["bats", "bats-support", "bats-assert"]));
  const helpers = read("tests/bats/helpers.bash");
  expect(helpers).toContain('load "$BATS_TEST_DIRNAME/../../node_modules/bats-support/load.bash"');
  expect(helpers).toContain('load "$BATS_TEST_DIRNAME/../../node_modules/bats-assert/load.bash"');
  expect(helpers).not.toContain("/usr/lib/bats");
});

test(".ci/run installs the system packages, runs npm test and the slow tier with CI=true, then the engine tier on Debian's Docker Engine", () => {
  const ci = read(".ci/run");
  expect(ci).toContain("apt_packages=(shellcheck jq)");
  expect(ci).toMatch(/apt_packages\+=\(docker\.io openssh-server [^)]*busybox-static[^)]*sudo/);
  expect(ci).toContain("export CI=true");
  const lines = ci.trim().split("\n");
  expect(lines.at(-1)).toBe('"${sudo_cmd[@]}" env "PATH=$PATH" CI=true npm run test:engine');
  expect(lines.indexOf("npm test")).toBeGreaterThan(lines.findIndex((line) => line.startsWith("npm ci")));
  expect(lines.indexOf("npm test")).toBeLessThan(lines.indexOf("npm run test:slow"));
  expect(lines.indexOf("npm run test:slow")).toBeLessThan(lines.length - 1);
});

test("the test-counts block (docs/testing.md) names each suite's tier", () => {
  const block = testCountsBlock(
    {
      suites: [
        { file: "tests/cidr.test.ts", tests: 3, failed: 0 },
        { file: "tests/rehearsal.test.ts", tests: 4, failed: 0 },
      ],
      seconds: 1,
    },
    [{ file: "tests/bats/common.bats", tests: 7, failed: 0 }],
  );
  expect(block).toContain("| `tests/cidr.test.ts` | 3 | fast | | `tests/bats/common.bats` | 7 | slow |");
  expect(block).toContain("| `tests/rehearsal.test.ts` | 4 | slow | |  |  |  |");
});
