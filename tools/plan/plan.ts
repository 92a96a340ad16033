/**
 * `npm run plan -- [--stack S] [--set key=value …] [--out DIR]`: runs the program under Pulumi's
 * mocks with a stack's configuration and prints what it would build — nodes and addresses,
 * resources per component, bring-up waves, the critical and slowest paths, a monthly cost
 * estimate — and draws the bring-up as an SVG. No cloud account, no Pulumi CLI.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { costDemandOf } from "../../config/checks/cost";
import { nearestKnownKey } from "../../config/checks/keys";
import { CONFIG_SCHEMA, type ClusterConfig } from "../../config/schema";
import { validateConfig } from "../../config/validate";
import { costHeadline, estimateMonthlyCost, formatCostEstimate, type CostEstimate } from "../../lib/costEstimate";
import { bringUpModel } from "./bringUpModel";
import { bringUpDot, renderSvg } from "./bringUpSvg";
import {
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  helpText,
  parseCommandLine,
  runAsProcess,
  type ToolSpec,
} from "../common/cli";
import { runProgram } from "./mockRuntime";
import { buildPlanReport, formatPlanReport, type PlanReport } from "./planReport";
import { formatPlaceholders } from "../../preflight/placeholders";
import { PROJECT_ROOT, availableStacks, projectName, qualifiedConfigKey, readStackConfig } from "../common/stackConfig";

export const PLAN_SPEC: ToolSpec = {
  name: "plan",
  summary:
    "The offline plan: runs the program under Pulumi's mocks (no cloud account, no Pulumi CLI) and shows what it would build.",
  description: [
    "Prints the nodes, resources per component, bring-up waves, the critical and slowest paths and a",
    "monthly cost estimate; writes the bring-up picture (SVG) and the report (JSON) named after the",
    "stack and, with --set, a hash of the overrides, so runs with different settings keep their files.",
  ],
  stack: { required: false, default: "dev" },
  options: {
    set: {
      type: "string",
      multiple: true,
      value: "KEY=VALUE",
      description: "override a config key for this run (repeatable), e.g. nodeCount=30",
    },
    out: { type: "string", value: "DIR", description: "where to write the SVG and JSON (default: plan-output/)" },
  },
  examples: [
    "npm run plan                                     # the dev stack",
    "npm run plan -- --stack prod",
    "npm run plan -- dev --set nodeCount=100 --set monthlyCostCeilingUsd=4000   # writes plan-output/dev-<hash>.svg",
    "npm run plan -- --stack dev | head -20",
  ],
  exitCodes: [
    [EXIT_OK, "the plan was printed and its files written"],
    [EXIT_FAILED, "the program failed under mocks (e.g. invalid configuration: the message names each key)"],
    [EXIT_USAGE, "usage error or unknown stack: nothing was run"],
  ],
};

export interface PlanArgs {
  readonly help: boolean;
  readonly stack: string;
  readonly stackDefaulted: boolean;
  readonly overrides: Record<string, string>;
  readonly outDir: string;
}

/** `--set nodecount=30`: not a key of this stack, with the --set that was meant. */
function unknownSetMessage(key: string, value: string): string {
  const nearest = nearestKnownKey(key, Object.keys(CONFIG_SCHEMA));
  return nearest !== undefined
    ? `--set ${key}=${value}: ${key} is not a setting of this stack; did you mean --set ${nearest}=${value}?`
    : `--set ${key}=${value}: ${key} is not a setting of this stack (the keys it reads are listed in docs/configuration.md)`;
}

export function parsePlanArgs(argv: readonly string[], knownStacks: readonly string[] = availableStacks()): PlanArgs {
  const line = parseCommandLine(PLAN_SPEC, argv, knownStacks);
  const overrides: Record<string, string> = {};
  const unknown: string[] = [];
  const project = `${projectName()}:`;
  for (const assignment of (line.values.set as string[] | undefined) ?? []) {
    const match = /^([^=]+)=(.*)$/.exec(assignment);
    if (!match) throw new UsageError(`--set takes KEY=VALUE, got "${assignment}" (e.g. --set nodeCount=30)`);
    const key = qualifiedConfigKey(match[1].trim());
    overrides[key] = match[2];
    if (key.startsWith(project) && !(key.slice(project.length) in CONFIG_SCHEMA))
      unknown.push(unknownSetMessage(key.slice(project.length), match[2]));
  }
  // The validator's hint for a stack's own key is a `pulumi config` command; a --set is fixed on this command line.
  if (unknown.length > 0) throw new UsageError(unknown.join("; "));
  const outDir = typeof line.values.out === "string" ? line.values.out : path.join(PROJECT_ROOT, "plan-output");
  return { help: line.help, stack: line.stack, stackDefaulted: line.stackDefaulted, overrides, outDir };
}

/** `dev` without overrides; `dev-1a2b3c4d` with them (the same overrides give the same name). */
export function outputBaseName(stack: string, overrides: Readonly<Record<string, string>>): string {
  const keys = Object.keys(overrides).sort();
  if (keys.length === 0) return stack;
  const canonical = JSON.stringify(keys.map((k) => [k, overrides[k]]));
  return `${stack}-${crypto.createHash("sha256").update(canonical).digest("hex").slice(0, 8)}`;
}

/** The stack's configuration as the program validates it (undefined when it does not validate). */
export function clusterConfigOf(stack: string, config: Record<string, string>): ClusterConfig | undefined {
  const project = projectName();
  const values = Object.fromEntries(
    Object.entries(config)
      .filter(([key]) => key.startsWith(`${project}:`))
      .map(([key, value]) => [key.slice(project.length + 1), value]),
  );
  return validateConfig({ project, stack, region: config["aws:region"], values }).config;
}

/** The monthly cost estimate of a configuration the program accepted. */
export function planCost(stack: string, config: Record<string, string>): CostEstimate {
  const valid = clusterConfigOf(stack, config);
  if (valid === undefined) throw new Error(`the configuration of stack ${stack} does not validate, so it has no cost estimate`);
  return estimateMonthlyCost(costDemandOf(valid));
}

export interface PlanFiles {
  readonly svg: string;
  readonly json: string;
}

/** Writes the picture and the JSON report; returns their paths. */
export async function writePlanFiles(
  report: PlanReport,
  cost: CostEstimate,
  args: PlanArgs,
  evaluationMs: number,
): Promise<PlanFiles> {
  const model = bringUpModel({
    graph: report.graph,
    nodes: report.nodes,
    criticalPath: report.criticalPath.steps,
    slowestPath: report.slowestPath.steps,
  });
  const dot = bringUpDot(model, {
    stack: report.stack,
    nodeCount: report.nodes.length,
    resourceCount: report.resourceCount,
    criticalSteps: report.criticalPath.stepCount,
    slowestMinutes: (report.slowestPath.estimatedSeconds / 60).toFixed(1),
    cost: `${costHeadline(cost)} (estimate, lib/priceTable.json)`,
    overrides: args.overrides,
  });
  const svg = await renderSvg(dot);
  fs.mkdirSync(args.outDir, { recursive: true });
  const base = path.join(args.outDir, outputBaseName(args.stack, args.overrides));
  fs.writeFileSync(`${base}.svg`, svg);
  const { graph: _graph, ...json } = report;
  const document = { ...json, overrides: args.overrides, cost, evaluationMs: Math.round(evaluationMs) };
  fs.writeFileSync(`${base}.json`, JSON.stringify(document, null, 2) + "\n");
  return { svg: `${base}.svg`, json: `${base}.json` };
}

export async function runPlan(argv: readonly string[], out: (text: string) => void): Promise<number> {
  const args = parsePlanArgs(argv);
  if (args.help) {
    out(helpText(PLAN_SPEC, availableStacks()));
    return EXIT_OK;
  }
  const config = { ...readStackConfig(args.stack), ...args.overrides };
  const run = await runProgram({ stack: args.stack, config });
  const report = buildPlanReport(args.stack, run);
  const cost = planCost(args.stack, config);

  const heading = args.stackDefaulted ? ` (the default; --stack NAME for another: ${availableStacks().join(", ")})` : "";
  const overrides = Object.keys(args.overrides).length
    ? `, with ${Object.entries(args.overrides)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`
    : "";
  out(formatPlanReport(report, `${heading}${overrides}`));
  out(formatPlaceholders(run.placeholders));
  out("\n" + formatCostEstimate(cost));

  const drawing = process.hrtime.bigint();
  const files = await writePlanFiles(report, cost, args, run.elapsedMs);
  const drawMs = Number(process.hrtime.bigint() - drawing) / 1e6;
  const shown = (file: string) => path.relative(process.cwd(), file) || file;
  out(
    `\nProgram evaluated in ${Math.round(run.elapsedMs)} ms, picture drawn in ${Math.round(drawMs)} ms.\n` +
      `Wrote ${shown(files.svg)} (open it in a browser: steps have tooltips) and ${shown(files.json)}.\n`,
  );
  return EXIT_OK;
}

if (require.main === module) {
  runAsProcess(PLAN_SPEC, () => runPlan(process.argv.slice(2), (text) => process.stdout.write(text)));
}
