/**
 * `npm run plan [-- --stack S] [--set key=value …] [--out DIR]`: runs the program under Pulumi's
 * mocks with a stack's configuration and prints what it would build — nodes and addresses,
 * resources per component, bring-up waves and the critical path — and writes a Mermaid diagram
 * of the dependency graph plus the report as JSON. No cloud account, no Pulumi CLI.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { mermaid } from "./graph";
import { runProgram } from "./mockRuntime";
import { buildPlanReport, formatPlanReport } from "./planReport";
import { PROJECT_ROOT, qualifiedConfigKey, readStackConfig } from "./stackConfig";

export interface PlanArgs {
  readonly stack: string;
  readonly overrides: Record<string, string>;
  readonly outDir: string;
}

export function parsePlanArgs(argv: readonly string[]): PlanArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      stack: { type: "string", short: "s", default: "dev" },
      set: { type: "string", multiple: true, default: [] },
      out: { type: "string", default: path.join(PROJECT_ROOT, "plan-output") },
    },
    strict: true,
  });
  const overrides: Record<string, string> = {};
  for (const assignment of values.set ?? []) {
    const match = /^([^=]+)=(.*)$/.exec(assignment);
    if (!match) throw new Error(`--set takes key=value, got "${assignment}"`);
    overrides[qualifiedConfigKey(match[1])] = match[2];
  }
  return { stack: values.stack!, overrides, outDir: values.out! };
}

async function main(): Promise<void> {
  const args = parsePlanArgs(process.argv.slice(2));
  const config = { ...readStackConfig(args.stack), ...args.overrides };
  const run = await runProgram({ stack: args.stack, config });
  const report = buildPlanReport(args.stack, run);
  process.stdout.write(formatPlanReport(report));

  fs.mkdirSync(args.outDir, { recursive: true });
  const diagram = path.join(args.outDir, `${args.stack}.mmd`);
  fs.writeFileSync(diagram, mermaid(report.graph));
  const { graph: _graph, ...json } = report;
  const jsonFile = path.join(args.outDir, `${args.stack}.json`);
  fs.writeFileSync(jsonFile, JSON.stringify({ ...json, evaluationMs: Math.round(run.elapsedMs) }, null, 2) + "\n");
  process.stdout.write(`\nProgram evaluated in ${Math.round(run.elapsedMs)} ms. Wrote ${path.relative(process.cwd(), diagram)} and ${path.relative(process.cwd(), jsonFile)}.\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`plan failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
