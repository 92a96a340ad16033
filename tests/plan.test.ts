/** `npm run plan`: the offline plan, run as a user runs it. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "../tools/common/cli";
import { stepGraph } from "../tools/plan/graph";
import { outputBaseName, parsePlanArgs } from "../tools/plan/plan";
import { readStackConfig } from "../tools/common/stackConfig";
import { namedDuration } from "../tools/plan/stepDurations";
import { runIsolated } from "./helpers/isolatedRun";

const root = path.join(__dirname, "..");
const tsx = path.join(root, "node_modules/tsx/dist/cli.mjs");
const plan = (args: string[]) =>
  spawnSync(process.execPath, [tsx, "tools/plan/plan.ts", ...args], { cwd: root, encoding: "utf8" });

test("arguments: the stack in either form, overrides with the project namespace added, output directory", () => {
  expect(parsePlanArgs(["--stack", "prod", "--set", "nodeCount=30", "--set", "aws:region=eu-west-1", "--out", "/tmp/x"])).toEqual(
    {
      help: false,
      stack: "prod",
      stackDefaulted: false,
      overrides: { "swarm-flocker:nodeCount": "30", "aws:region": "eu-west-1" },
      outDir: "/tmp/x",
    },
  );
  expect(parsePlanArgs(["prod"]).stack).toBe("prod");
  expect(parsePlanArgs([])).toMatchObject({ stack: "dev", stackDefaulted: true });
  expect(() => parsePlanArgs(["--set", "nodeCount"])).toThrow('--set takes KEY=VALUE, got "nodeCount" (e.g. --set nodeCount=30)');
  expect(() => parsePlanArgs(["--bogus"])).toThrow(UsageError);
  expect(() => parsePlanArgs(["--stack", "nope"])).toThrow(
    'no stack "nope": Pulumi.nope.yaml does not exist (stacks: current, dev, prod); for a new stack, copy one: cp Pulumi.dev.yaml Pulumi.nope.yaml',
  );
});

test("a --set of a key this stack does not read is refused before the run, with the --set meant (not a pulumi config command)", () => {
  expect(() => parsePlanArgs(["--set", "nodecount=30", "--set", "colour=blue", "--set", "aws:profile=x"])).toThrow(
    new UsageError(
      "--set nodecount=30: nodecount is not a setting of this stack; did you mean --set nodeCount=30?; " +
        "--set colour=blue: colour is not a setting of this stack (the keys it reads are listed in docs/configuration.md)",
    ),
  );
});

test("a stack file key without the project's namespace is refused, naming the file and each key's right spelling", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"));
  try {
    fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const file = "config:\n  aws:region: us-east-1\n  nodeCount: 5\n  swarm-flocker:managerCount: 3\n  sparkWorkerReplicas: 2\n";
    fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), file);
    expect(() => readStackConfig("t", dir)).toThrow(
      "Pulumi.t.yaml has config keys without a namespace, which Pulumi does not read as this project's: " +
        "nodeCount → swarm-flocker:nodeCount, sparkWorkerReplicas → swarm-flocker:sparkWorkerReplicas " +
        "(a key of this stack is written swarm-flocker:<key>, as pulumi config set writes it)",
    );
    fs.writeFileSync(
      path.join(dir, "Pulumi.t.yaml"),
      file.replace(/^ {2}(nodeCount|sparkWorkerReplicas)/gm, "  swarm-flocker:$1"),
    );
    expect(readStackConfig("t", dir)["swarm-flocker:nodeCount"]).toBe("5");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("outputs are named per stack and per set of overrides, so runs do not overwrite each other", () => {
  expect(outputBaseName("dev", {})).toBe("dev");
  const a = outputBaseName("dev", { "swarm-flocker:nodeCount": "30", "aws:region": "us-west-2" });
  expect(a).toMatch(/^dev-[0-9a-f]{8}$/);
  expect(outputBaseName("dev", { "aws:region": "us-west-2", "swarm-flocker:nodeCount": "30" })).toBe(a);
  expect(outputBaseName("dev", { "swarm-flocker:nodeCount": "31", "aws:region": "us-west-2" })).not.toBe(a);
  expect(outputBaseName("prod", { "swarm-flocker:nodeCount": "30", "aws:region": "us-west-2" })).not.toBe(a);
});

test("prints nodes, resources, waves, paths and the cost estimate; writes the picture and the report", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
  const result = plan(["dev", "--set", "nodeCount=12", "--out", out]);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const text = result.stdout;
  expect(text).toMatch(/^Offline plan of stack "dev", with swarm-flocker:nodeCount=12 — Pulumi mocks: no cloud, no CLI\n/);
  expect(text).toMatch(/aws-101 +manager +manager +172\.31\.0\.10/);
  expect(text).toMatch(/aws-104 +control +- +172\.31\.0\.13/);
  expect(text).toContain("nodes-*-boot ×12");
  expect(text).toMatch(/Critical path: \d+ sequential steps/);
  expect(text).toMatch(/Slowest path: \d+ steps, ≈ [\d.]+ min/);
  expect(text).toContain("Monthly cost estimate in us-east-1: $469.69 a month");
  expect(text).toMatch(/t2\.medium instances \(on-demand, Linux\) +12 × 730 h/);

  const base = path.join(out, outputBaseName("dev", { "swarm-flocker:nodeCount": "12" }));
  expect(text).toContain(`Wrote ${path.relative(root, `${base}.svg`)}`);
  const svg = fs.readFileSync(`${base}.svg`, "utf8").replace(/&#45;/g, "-");
  expect(svg).toContain("<svg");
  expect(svg).toContain("Bring-up of stack dev (--set nodeCount=12)");
  expect(svg).toMatch(/aws-10\d…aws-112 \(\d+ workers\)/);
  const json = JSON.parse(fs.readFileSync(`${base}.json`, "utf8"));
  expect(json.nodes).toHaveLength(12);
  expect(json.overrides).toEqual({ "swarm-flocker:nodeCount": "12" });
  expect(json.criticalPath.steps.at(-1)).toBe("spark-smoke");
  expect(json.cost).toMatchObject({ totalUsd: 469.69, missing: [] });
  expect(json.cost.lines[0].item).toBe("t2.medium instances (on-demand, Linux)");
  fs.rmSync(out, { recursive: true, force: true });
});

test("--stack current: the whole cluster without Flocker, its picture, a complete cost, and the image pin to set", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
  const result = plan(["--stack", "current", "--out", out]);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const text = result.stdout;
  expect(text).toMatch(/^Offline plan of stack "current" — Pulumi mocks: no cloud, no CLI\n/);
  expect(text).toMatch(/aws-101 +manager +manager +172\.31\.0\.10/);
  expect(text).toMatch(/aws-104 +sparkmaster +worker +172\.31\.0\.13/);
  expect(text).not.toMatch(/ control /);
  expect(text).toContain("nodes-*-boot ×10");
  expect(text).not.toMatch(/flocker|pki-/i);
  // The headline is the whole cost, every line priced: no Flocker line, the Spark data volume in.
  expect(text).toContain("Monthly cost estimate in us-east-1: $358.98 a month");
  expect(text).toMatch(/t3\.medium instances \(on-demand, Linux\) +10 × 730 h +\$303\.68/);
  expect(text).toMatch(/Spark dataset volume \(gp3\) +75 GiB +\$6\.00/);
  expect(text).toMatch(
    /- nodeImageId: "" is not set: Canonical's Ubuntu 24\.04 image in us-east-1 is ami-\w+ today .*pulumi config set nodeImageId ami-\w+ --stack current/,
  );
  const base = path.join(out, outputBaseName("current", {}));
  const svg = fs.readFileSync(`${base}.svg`, "utf8").replace(/&#45;/g, "-");
  expect(svg).toContain("Bring-up of stack current");
  expect(svg).not.toMatch(/flocker/i);
  const json = JSON.parse(fs.readFileSync(`${base}.json`, "utf8"));
  expect(json.nodes).toHaveLength(10);
  expect(json.criticalPath.steps.at(-1)).toBe("spark-smoke");
  expect(json.cost).toMatchObject({ totalUsd: 358.98, missing: [] });
  fs.rmSync(out, { recursive: true, force: true });
});

test("the default stack is said, not silent; piping into head ends quietly", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
  const piped = spawnSync("bash", ["-c", `set -o pipefail; node ${tsx} tools/plan/plan.ts --out ${out} | head -1`], {
    cwd: root,
    encoding: "utf8",
  });
  expect(piped.stdout).toBe(
    'Offline plan of stack "dev" (the default; --stack NAME for another: current, dev, prod) — Pulumi mocks: no cloud, no CLI\n',
  );
  expect(piped.stderr).toBe("");
  expect(piped.status).toBe(0);
  fs.rmSync(out, { recursive: true, force: true });
});

test("an unknown stack or a bad option is a usage error: exit 2, the right form, nothing run", () => {
  const unknown = plan(["--stack", "prd"]);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toBe(
    'plan: no stack "prd": Pulumi.prd.yaml does not exist (stacks: current, dev, prod); did you mean prod? Or, for a new stack, copy one: cp Pulumi.dev.yaml Pulumi.prd.yaml\n' +
      "Usage: npm run plan -- [--stack NAME] [--set KEY=VALUE ...] [--out DIR]\n(npm run plan -- --help for more)\n",
  );
  const typo = plan(["--sett", "nodeCount=3"]);
  expect(typo.status).toBe(2);
  expect(typo.stderr).toMatch(/^plan: unknown option --sett: did you mean --set\?\n/);
});

test("--help: options, examples, exit codes", () => {
  const help = plan(["--help"]);
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/^Usage: npm run plan -- \[--stack NAME\] \[--set KEY=VALUE \.\.\.\] \[--out DIR\]\n/);
  expect(help.stdout).toContain("npm run plan -- dev --set nodeCount=100");
  expect(help.stdout).toMatch(
    /Exit codes:\n {2}0 +the plan was printed.*\n {2}1 +the program failed under mocks.*\n {2}2 +usage error or unknown stack/,
  );
});

test("every command the program runs has an assumed duration of its own, so the slowest path is not guessed from defaults", async () => {
  for (const stack of ["dev", "prod"]) {
    const run = await runIsolated(stack);
    const commands = [...stepGraph(run.resources).values()].filter((step) => step.type.startsWith("command:"));
    expect(commands.length).toBeGreaterThan(50);
    expect(commands.filter((step) => namedDuration(step) === undefined).map((step) => step.name)).toEqual([]);
  }
  // Names are anchored to their component: a security group called "control" is not the control service.
  expect(namedDuration({ name: "network-control" })).toBeUndefined();
  expect(namedDuration({ name: "flocker-aws-104-control" })).toBe(20);
}, 120_000);
