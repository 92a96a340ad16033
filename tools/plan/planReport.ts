/**
 * The offline plan's report, built from a recorded program run: nodes, resources per component,
 * bring-up waves, the critical path.
 */
import { criticalPath, CriticalPath, StepGraph, stepGraph, topLevelComponent, waves } from "./graph";
import type { ProgramRun } from "./mockRuntime";
import { assumedSeconds } from "./stepDurations";

export interface PlanReport {
  readonly stack: string;
  readonly nodes: ReadonlyArray<{ name: string; role: string; swarmRole: string; privateIp: string }>;
  readonly resourcesByComponent: ReadonlyArray<{ component: string; resources: number }>;
  readonly waves: ReadonlyArray<ReadonlyArray<string>>;
  /** The longest chain counted in steps: what the design bounds (it must not grow with nodes). */
  readonly criticalPath: { readonly steps: readonly string[]; readonly stepCount: number; readonly estimatedSeconds: number };
  /** The longest chain by assumed step durations: the estimate of bring-up wall time. */
  readonly slowestPath: { readonly steps: readonly string[]; readonly stepCount: number; readonly estimatedSeconds: number };
  readonly resourceCount: number;
  readonly graph: StepGraph;
}

/** Node names in step names become `*`, so ten identical per-node steps read as one line. */
export function collapseNodeNames(names: readonly string[], nodeNames: readonly string[]): string[] {
  if (nodeNames.length === 0) return [...names].sort();
  const pattern = new RegExp(`(${nodeNames.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})(?![0-9])`, "g");
  const counts = new Map<string, number>();
  for (const name of names) {
    const key = name.replace(pattern, "*");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([key, n]) => (n > 1 ? `${key} ×${n}` : key));
}

export function buildPlanReport(stack: string, run: ProgramRun): PlanReport {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const custom = run.resources.filter((r) => r.custom);
  const counts = new Map<string, number>();
  for (const r of custom) {
    const component = topLevelComponent(r, byUrn);
    counts.set(component, (counts.get(component) ?? 0) + 1);
  }
  const nodesOutput = (run.outputs.nodes ?? {}) as Record<string, { role: string; swarmRole?: string; privateIp: string }>;
  const nodes = Object.entries(nodesOutput).map(([name, n]) => ({
    name,
    role: n.role,
    swarmRole: n.swarmRole ?? "-",
    privateIp: n.privateIp,
  }));
  const nodeNames = nodes.map((n) => n.name);
  const graph = stepGraph(run.resources);
  const path: CriticalPath = criticalPath(graph);
  const slowest: CriticalPath = criticalPath(graph, assumedSeconds);
  const estimatedSeconds = path.steps.reduce((sum, step) => sum + assumedSeconds(step), 0);
  return {
    stack,
    nodes,
    resourcesByComponent: [...counts.entries()].map(([component, resources]) => ({ component, resources })),
    waves: waves(graph).map((wave) =>
      collapseNodeNames(
        wave.map((s) => s.name),
        nodeNames,
      ),
    ),
    criticalPath: { steps: path.steps.map((s) => s.name), stepCount: path.total, estimatedSeconds },
    slowestPath: { steps: slowest.steps.map((s) => s.name), stepCount: slowest.steps.length, estimatedSeconds: slowest.total },
    resourceCount: custom.length,
    graph,
  };
}

/** Lines of at most `width` characters: `items` joined by `separator`, continued under `indent`. */
export function wrapList(items: readonly string[], separator: string, first: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  items.forEach((item, i) => {
    const piece = i < items.length - 1 ? `${item}${separator.trimEnd()}` : item;
    if (!empty && `${line} ${piece}`.length > width) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    line += empty ? piece : ` ${piece}`;
    empty = false;
  });
  lines.push(line);
  return lines;
}

/** The report as text; `about` follows the stack's name (why this stack, which overrides). */
export function formatPlanReport(report: PlanReport, about = ""): string {
  const lines: string[] = [];
  lines.push(`Offline plan of stack "${report.stack}"${about} — Pulumi mocks: no cloud, no CLI`, "");
  lines.push("Nodes");
  lines.push(`  ${"name".padEnd(12)}${"role".padEnd(13)}${"swarm".padEnd(9)}private ip`);
  for (const n of report.nodes) lines.push(`  ${n.name.padEnd(12)}${n.role.padEnd(13)}${n.swarmRole.padEnd(9)}${n.privateIp}`);
  lines.push("", `Resources: ${report.resourceCount}`);
  const width = Math.max(12, ...report.resourcesByComponent.map(({ component }) => component.length + 2));
  for (const { component, resources } of report.resourcesByComponent) lines.push(`  ${component.padEnd(width)}${resources}`);
  lines.push("", `Bring-up in ${report.waves.length} waves (each wave's steps run in parallel)`);
  report.waves.forEach((wave, i) => lines.push(...wrapList(wave, ", ", `  ${String(i + 1).padStart(2)}. `, "      ")));
  const minutes = (seconds: number) => (seconds / 60).toFixed(1);
  const { criticalPath: cp, slowestPath: slow } = report;
  lines.push("", `Critical path: ${cp.stepCount} sequential steps`);
  lines.push(...wrapList(cp.steps, " →", "  ", "  "));
  lines.push(
    "",
    `Slowest path: ${slow.stepCount} steps, ≈ ${minutes(slow.estimatedSeconds)} min (assumed step durations, tools/plan/stepDurations.ts)`,
  );
  lines.push(...wrapList(slow.steps, " →", "  ", "  "));
  return lines.join("\n") + "\n";
}
