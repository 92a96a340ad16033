/** `npm run plan`: the offline plan, run as a user runs it. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parsePlanArgs } from "../tools/plan";

const root = path.join(__dirname, "..");

test("arguments: stack, overrides with the project namespace added, output directory", () => {
  expect(parsePlanArgs(["--stack", "prod", "--set", "nodeCount=30", "--set", "aws:region=eu-west-1", "--out", "/tmp/x"])).toEqual({
    stack: "prod",
    overrides: { "swarm-flocker:nodeCount": "30", "aws:region": "eu-west-1" },
    outDir: "/tmp/x",
  });
  expect(parsePlanArgs([]).stack).toBe("dev");
  expect(() => parsePlanArgs(["--set", "nodeCount"])).toThrow(/key=value/);
  expect(() => parsePlanArgs(["--bogus"])).toThrow();
});

test("prints nodes, resources, waves and the critical path, and writes the diagram", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
  const result = spawnSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "tools/plan.ts", "--stack", "dev", "--out", out], {
    cwd: root,
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const text = result.stdout;
  expect(text).toMatch(/aws-101 +manager +manager +172\.31\.0\.10/);
  expect(text).toMatch(/aws-104 +control +- +172\.31\.0\.13/);
  expect(text).toMatch(/Bring-up in \d+ waves/);
  expect(text).toContain("nodes-*-boot ×10");
  expect(text).toMatch(/Critical path: \d+ sequential steps/);
  expect(text).toMatch(/Slowest path: \d+ steps, ≈ [\d.]+ min/);
  const diagram = fs.readFileSync(path.join(out, "dev.mmd"), "utf8");
  expect(diagram).toContain('["swarm-join-aws-103"]');
  const json = JSON.parse(fs.readFileSync(path.join(out, "dev.json"), "utf8"));
  expect(json.nodes).toHaveLength(10);
  expect(json.criticalPath.steps.at(-1)).toBe("spark-smoke");
  fs.rmSync(out, { recursive: true, force: true });
});

test("an unknown stack is a clear error", () => {
  const result = spawnSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "tools/plan.ts", "--stack", "nope"], {
    cwd: root,
    encoding: "utf8",
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('no stack "nope": Pulumi.nope.yaml does not exist (stacks: dev, prod)');
});
