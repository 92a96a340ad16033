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

/** Runs tests/ensure-tools.sh with a PATH that holds only `tools`. */
function ensureTools(tools: string[], env: Record<string, string> = {}) {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "ensure-tools-"));
  for (const tool of tools) fs.symlinkSync(process.execPath, path.join(bin, tool));
  const result = spawnSync("/bin/bash", [path.join(root, "tests/ensure-tools.sh")], {
    encoding: "utf8",
    env: { PATH: bin, ...env },
  });
  fs.rmSync(bin, { recursive: true, force: true });
  return result;
}

test("with every tool present: nothing to report", () => {
  expect(ensureTools(["shellcheck", "jq", "docker"])).toMatchObject({ status: 0, stdout: "", stderr: "" });
});

test("outside CI a missing tool is listed for run-all.sh to skip its steps; nothing is installed", () => {
  expect(ensureTools(["jq"])).toMatchObject({ status: 0, stdout: "shellcheck\ndocker\n", stderr: "" });
  expect(read("tests/ensure-tools.sh")).not.toMatch(/^\s*(sudo\s+)?apt-get /m);
});

test("under CI=true a missing tool fails, with the command that installs it", () => {
  const result = ensureTools(["shellcheck"], { CI: "true" });
  expect(result.status).toBe(1);
  expect(result.stderr).toBe(
    "npm test under CI needs jq docker: install with: sudo apt-get update && sudo apt-get install -y jq docker.io (.ci/run does)\n",
  );
});

test("run-all.sh checks the install, skips only the steps a missing tool stops, and reports them once with the install command", () => {
  const runAll = read("tests/run-all.sh");
  expect(runAll).toContain("node tools/checkInstall.js");
  expect(runAll).toContain("node_modules/bats/bin/bats tests/bats");
  expect(runAll).toMatch(/if lacks docker \|\| lacks jq; then\n\s+skipped\+=\(bats\)/);
  expect(runAll).toMatch(/if lacks shellcheck; then\n\s+skipped\+=\(shellcheck\)/);
  expect(runAll).toContain('echo "== SKIPPED: ${skipped[*]}');
  expect(runAll).toContain("install with: sudo apt-get update && sudo apt-get install -y");
  // Two jest workers measured faster than one on the 2-core machines.
  expect(require(path.join(root, "jest.config.js")).maxWorkers).toBe(2);
});

test("bats and its helpers are pinned npm devDependencies; the helpers load from node_modules", () => {
  const pkg = JSON.parse(read("package.json")) as { devDependencies: Record<string, string> };
  expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(["bats", "bats-support", "bats-assert"]));
  const helpers = read("tests/bats/helpers.bash");
  expect(helpers).toContain('load "$BATS_TEST_DIRNAME/../../node_modules/bats-support/load.bash"');
  expect(helpers).toContain('load "$BATS_TEST_DIRNAME/../../node_modules/bats-assert/load.bash"');
  expect(helpers).not.toContain("/usr/lib/bats");
});

test(".ci/run installs only the system packages, docker.io only without a Docker CLI, and runs npm test with CI=true", () => {
  const ci = read(".ci/run");
  expect(ci).toContain("apt_packages=(shellcheck jq)");
  expect(ci).toContain("command -v docker >/dev/null || apt_packages+=(docker.io)");
  expect(ci).toContain("export CI=true");
  expect(ci.trim().endsWith("npm test")).toBe(true);
});
