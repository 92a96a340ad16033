/**
 * `npm run figures`: the figures and counts of the README and docs/ come from a real run, never
 * from memory. It runs the jest suites, counts the bats cases, runs the offline plan at 10, 30
 * and 100 nodes and renders the config reference from config/schema.ts, then rewrites the
 * generated blocks (between `<!-- figures:start NAME -->` and `<!-- figures:end -->`) in the
 * documents BLOCK_DOCUMENTS names.
 * tests/readmeFigures.test.ts fails when a block's deterministic part is stale; timings are shown
 * but not compared.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONFIG_SCHEMA, type ConfigKey } from "../../config/schema";
import { formatProblems, validateConfig } from "../../config/validate";
import { EXIT_OK, helpText, parseCommandLine, runAsProcess, type ToolSpec } from "../common/cli";
import { runProgram } from "../plan/mockRuntime";
import { formatUsd } from "../../lib/costEstimate";
import { planCost } from "../plan/plan";
import { slowTierEntries, tierOf } from "./testTiers";
import { buildPlanReport, formatPlanReport } from "../plan/planReport";
import { PROJECT_ROOT, availableStacks, qualifiedConfigKey, readStackConfig } from "../common/stackConfig";

/** Where each generated block lives: the README keeps the summary, docs/ the references. */
export const BLOCK_DOCUMENTS: Readonly<Record<string, string>> = {
  "plan-scaling": "README.md",
  "config-table": "docs/configuration.md",
  "config-error-example": "docs/configuration.md",
  "plan-example": "docs/plan.md",
  "test-counts": "docs/testing.md",
};

/** The text of the document that holds a generated block. */
export function documentOf(block: string): string {
  const file = BLOCK_DOCUMENTS[block];
  if (file === undefined) throw new Error(`no document holds the generated block "${block}"`);
  return fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
}
/** The node counts of the scaling table. */
export const PLAN_SIZES = [10, 30, 100] as const;
/** The stack the figures describe. */
const STACK = "dev";

export const FIGURES_SPEC: ToolSpec = {
  name: "figures",
  summary:
    "Rewrites the generated blocks of README.md and docs/ from a real run: test counts, plan figures, the config reference.",
  description: [
    "Runs jest (all suites), counts the bats cases, runs the offline plan of the dev stack at 10, 30",
    "and 100 nodes, and renders the config table from config/schema.ts. Takes a few minutes.",
  ],
  stack: { required: false, default: STACK },
  options: { quick: { type: "boolean", description: "skip the jest run: the test counts block is left as it is" } },
  examples: ["npm run figures", "npm run figures -- --quick && git diff README.md docs/"],
  exitCodes: [
    [EXIT_OK, "the generated blocks were rewritten"],
    [1, "a run failed (a failing jest suite still gives its counts, and is reported)"],
    [2, "usage error"],
  ],
};

// ---------------------------------------------------------------------------------------------
// Blocks

const startMarker = (name: string) => `<!-- figures:start ${name} -->\n`;
const END_MARKER = "<!-- figures:end -->";

function blockBounds(text: string, name: string): { from: number; to: number } {
  const start = text.indexOf(startMarker(name));
  if (start < 0) throw new Error(`no generated block "${name}" (${startMarker(name).trim()} … ${END_MARKER})`);
  const from = start + startMarker(name).length;
  const to = text.indexOf(END_MARKER, from);
  if (to < 0) throw new Error(`the block "${name}" has no ${END_MARKER}`);
  return { from, to };
}

/** The text between a block's markers. */
export function readBlock(text: string, name: string): string {
  const { from, to } = blockBounds(text, name);
  return text.slice(from, to);
}

/** The text with a block's content replaced (content ends with a newline). */
export function replaceBlock(text: string, name: string, content: string): string {
  const { from, to } = blockBounds(text, name);
  return text.slice(0, from) + (content.endsWith("\n") ? content : `${content}\n`) + text.slice(to);
}

// ---------------------------------------------------------------------------------------------
// The config reference

function formatDefault(spec: { type: string; default?: unknown }): string {
  if (!("default" in spec) || spec.default === undefined) return "**required**";
  const value = spec.default;
  if (value === "") return "(empty)";
  if (Array.isArray(value)) return value.length === 0 ? "(none)" : `\`${JSON.stringify(value)}\``;
  return `\`${String(value)}\``;
}

/** The config table (docs/configuration.md), from config/schema.ts (the single source, with Pulumi.yaml's schema). */
export function configTable(): string {
  const escape = (text: string) => text.replace(/\|/g, "\\|");
  const rows = Object.entries(CONFIG_SCHEMA).map(
    ([key, spec]) => `| \`${key}\` | ${spec.type} | ${formatDefault(spec)} | ${escape(spec.description)} |`,
  );
  return ["| key | type | default | meaning |", "|---|---|---|---|", ...rows].join("\n") + "\n";
}

/** The values of the example of a refused configuration: two mistakes, on top of a valid dev stack. */
export const EXAMPLE_MISTAKES: Readonly<Partial<Record<ConfigKey, string>>> = { managerCount: "4", instanceType: "t3.medium" };

/** The validator's own message for the example mistakes, as `pulumi up` prints it. */
export function configErrorExample(): string {
  const project = "swarm-flocker";
  const dev = readStackConfig(STACK);
  const values = Object.fromEntries(
    Object.entries(dev)
      .filter(([key]) => key.startsWith(`${project}:`))
      .map(([key, value]) => [key.slice(project.length + 1), value]),
  );
  const { problems } = validateConfig({
    project,
    stack: STACK,
    region: dev["aws:region"],
    values: { ...values, ...EXAMPLE_MISTAKES },
  });
  return "```\n" + `Invalid configuration for stack ${STACK}:\n${formatProblems(problems)}\n` + "```\n";
}

// ---------------------------------------------------------------------------------------------
// Plan figures

export interface PlanFigures {
  readonly nodes: number;
  readonly resources: number;
  readonly waves: number;
  readonly criticalSteps: number;
  readonly slowestMinutes: number;
  /** Undefined when the estimate cannot be made (something has no price). */
  readonly monthlyUsd?: number;
  readonly evaluationMs: number;
  /** The plan's text (no timings in it), for the README's example. */
  readonly text: string;
}

/** Runs the program once in this process (the Pulumi runtime is per process). */
async function measurePlan(nodeCount: number): Promise<PlanFigures> {
  const config = readStackConfig(STACK);
  config[qualifiedConfigKey("nodeCount")] = String(nodeCount);
  // The table shows what each size costs; the ceiling would stop the larger ones before they are planned.
  config[qualifiedConfigKey("monthlyCostCeilingUsd")] = "0";
  const run = await runProgram({ stack: STACK, config });
  const report = buildPlanReport(STACK, run);
  const cost = planCost(STACK, config);
  return {
    nodes: report.nodes.length,
    resources: report.resourceCount,
    waves: report.waves.length,
    criticalSteps: report.criticalPath.stepCount,
    slowestMinutes: Math.round(report.slowestPath.estimatedSeconds / 6) / 10,
    ...(cost.totalUsd === undefined ? {} : { monthlyUsd: cost.totalUsd }),
    evaluationMs: Math.round(run.elapsedMs),
    text: formatPlanReport(report),
  };
}

const TSX = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");

/** The figures of the dev stack at `nodeCount` nodes, from a child process. */
export function planFigures(nodeCount: number): Promise<PlanFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, __filename, "--measure-plan", String(nodeCount)], { cwd: PROJECT_ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`the plan at ${nodeCount} nodes failed: ${stderr.trim() || `exit ${code}`}`));
      else resolve(JSON.parse(stdout) as PlanFigures);
    });
  });
}

export function planScalingTable(rows: readonly PlanFigures[]): string {
  const lines = [
    "| nodes | resources | waves | critical path | slowest path (assumed durations) | monthly estimate | program evaluation |",
    "|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.nodes} | ${r.resources} | ${r.waves} | ${r.criticalSteps} steps | ≈ ${r.slowestMinutes.toFixed(1)} min | ${r.monthlyUsd === undefined ? "cannot be estimated" : formatUsd(r.monthlyUsd)} | ${(r.evaluationMs / 1000).toFixed(1)} s |`,
    ),
  ];
  return lines.join("\n") + "\n";
}

/** The deterministic columns of the scaling table: nodes, resources, waves, critical path. */
export function scalingCounts(table: string): string[] {
  return table
    .split("\n")
    .filter((line) => /^\| \d/.test(line))
    .map((line) =>
      line
        .split("|")
        .slice(1, 5)
        .map((cell) => cell.trim())
        .join(" | "),
    );
}

/** The example output (docs/plan.md): the plan's text up to and including the critical path. */
export function planExample(text: string): string {
  const end = text.indexOf("\nSlowest path:");
  return "```\n" + (end < 0 ? text : text.slice(0, end)).trimEnd() + "\n```\n";
}

// ---------------------------------------------------------------------------------------------
// Test counts

export interface SuiteCount {
  readonly file: string;
  readonly tests: number;
  readonly failed: number;
}

/** Runs every jest suite once, with the project's settings (2 workers). */
function jestCounts(): { suites: SuiteCount[]; seconds: number } {
  const output = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "figures-")), "jest.json");
  const started = Date.now();
  spawnSync(
    process.execPath,
    [path.join(PROJECT_ROOT, "node_modules", "jest", "bin", "jest.js"), "--silent", "--json", "--outputFile", output],
    {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  const report = JSON.parse(fs.readFileSync(output, "utf8")) as {
    testResults: Array<{ name: string; assertionResults: Array<{ status: string }> }>;
  };
  fs.rmSync(path.dirname(output), { recursive: true, force: true });
  const suites = report.testResults
    .map((suite) => ({
      file: path.relative(PROJECT_ROOT, suite.name),
      tests: suite.assertionResults.length,
      failed: suite.assertionResults.filter((a) => a.status === "failed").length,
    }))
    .sort((a, b) => a.file.localeCompare(b.file));
  return { suites, seconds };
}

/** bats' own count of the cases in each file (no test runs). */
export function batsCounts(): SuiteCount[] {
  const dir = path.join(PROJECT_ROOT, "tests", "bats");
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith(".bats"))
    .sort()
    .map((file) => {
      const result = spawnSync(
        path.join(PROJECT_ROOT, "node_modules", "bats", "bin", "bats"),
        ["--count", path.join(dir, file)],
        { encoding: "utf8" },
      );
      if (result.status !== 0) throw new Error(`bats --count ${file} failed: ${result.stderr.trim()}`);
      return { file: `tests/bats/${file}`, tests: Number(result.stdout.trim()), failed: 0 };
    });
}

export function testCountsBlock(jest: { suites: SuiteCount[]; seconds: number }, bats: SuiteCount[]): string {
  const total = (list: SuiteCount[]) => list.reduce((sum, s) => sum + s.tests, 0);
  const failed = jest.suites.reduce((sum, s) => sum + s.failed, 0);
  const lines = [
    `jest: ${total(jest.suites)} tests in ${jest.suites.length} suites${failed ? ` (${failed} FAILED when counted)` : ""}, ${jest.seconds} s with two workers when counted; bats: ${total(bats)} cases in ${bats.length} files.`,
    "",
    "| suite | tests | tier | | bats file | cases | tier |",
    "|---|---|---|---|---|---|---|",
  ];
  const entries = slowTierEntries();
  for (let i = 0; i < Math.max(jest.suites.length, bats.length); i++) {
    const j = jest.suites[i];
    const b = bats[i];
    const jestCells = j ? [`\`${j.file}\``, j.tests, tierOf(j.file, entries)] : ["", "", ""];
    const batsCells = b ? [`\`${b.file}\``, b.tests, tierOf(b.file, entries)] : ["", "", ""];
    lines.push(`| ${jestCells.join(" | ")} | | ${batsCells.join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}

/** The bats rows of the test-counts block: `file cases` per line. */
export function batsRows(block: string): string[] {
  return [...block.matchAll(/\| `(tests\/bats\/[^`]+)` \| (\d+) \|/g)].map((m) => `${m[1]} ${m[2]}`);
}

// ---------------------------------------------------------------------------------------------

/** Replaces blocks in their documents as they are now. */
function writeBlocks(blocks: ReadonlyMap<string, string>): void {
  for (const [name, content] of blocks) {
    const file = path.join(PROJECT_ROOT, BLOCK_DOCUMENTS[name]);
    fs.writeFileSync(file, replaceBlock(fs.readFileSync(file, "utf8"), name, content));
  }
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "--measure-plan") {
    process.stdout.write(JSON.stringify(await measurePlan(Number(argv[1]))));
    return EXIT_OK;
  }
  const line = parseCommandLine(FIGURES_SPEC, argv, availableStacks());
  if (line.help) {
    process.stdout.write(helpText(FIGURES_SPEC, availableStacks()));
    return EXIT_OK;
  }
  const say = (text: string) => process.stderr.write(`figures: ${text}\n`);
  const blocks = new Map<string, string>();
  say("config table and example message from config/schema.ts and the validator");
  blocks.set("config-table", configTable());
  blocks.set("config-error-example", configErrorExample());

  say(`offline plan of ${STACK} at ${PLAN_SIZES.join(", ")} nodes (one at a time: timings stay comparable)`);
  const rows: PlanFigures[] = [];
  for (const size of PLAN_SIZES) rows.push(await planFigures(size));
  blocks.set("plan-example", planExample(rows[0].text));
  blocks.set("plan-scaling", planScalingTable(rows));

  if (line.values.quick === true) {
    writeBlocks(blocks);
    say("generated blocks rewritten (test counts left as they were: --quick)");
    return EXIT_OK;
  }
  // Written before jest runs, so that tests/readmeFigures.test.ts counts as passing in the run it
  // is counted in; each document is read just before each write (it may be edited meanwhile).
  const bats = batsCounts();
  blocks.set("test-counts", testCountsBlock({ suites: [], seconds: 0 }, bats));
  writeBlocks(blocks);

  say("jest, every suite (this takes a while)");
  const jest = jestCounts();
  writeBlocks(new Map([["test-counts", testCountsBlock(jest, bats)]]));
  const failed = jest.suites.filter((s) => s.failed > 0);
  say(
    `generated blocks rewritten${failed.length ? `; failing suites when counted: ${failed.map((s) => s.file).join(", ")}` : ""}`,
  );
  return failed.length ? 1 : EXIT_OK;
}

if (require.main === module) {
  runAsProcess(FIGURES_SPEC, () => main(process.argv.slice(2)));
}
