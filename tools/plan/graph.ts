/**
 * The bring-up order of a recorded program run: the dependency graph of its custom resources,
 * grouped into waves (everything in a wave can run at once), and the critical path (the longest
 * chain of steps that must run one after the other).
 */
import type { RecordedResource } from "./mockRuntime";

export interface Step {
  readonly urn: string;
  readonly name: string;
  readonly type: string;
  /** The top-level component the step belongs to ("network", "nodes", …; "(stack)" for none). */
  readonly component: string;
  /** URNs of the custom resources this one waits for. */
  readonly dependsOn: readonly string[];
}

export type StepGraph = ReadonlyMap<string, Step>;

/** Custom resources only: components are groupings, they take no time of their own. */
export function stepGraph(resources: readonly RecordedResource[]): StepGraph {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const custom = new Map(resources.filter((r) => r.custom).map((r) => [r.urn, r]));
  const graph = new Map<string, Step>();
  for (const r of custom.values()) {
    const dependsOn = [...new Set(r.dependencies.filter((urn) => custom.has(urn) && urn !== r.urn))];
    graph.set(r.urn, { urn: r.urn, name: r.name, type: r.type, component: topLevelComponent(r, byUrn), dependsOn });
  }
  return graph;
}

/** The top-level component a resource belongs to ("network", "nodes", …). */
export function topLevelComponent(resource: RecordedResource, byUrn: ReadonlyMap<string, RecordedResource>): string {
  let current = resource;
  while (current.parent && byUrn.has(current.parent)) current = byUrn.get(current.parent)!;
  return current.custom ? "(stack)" : current.name;
}

/** Depth of every step: 0 for steps that wait for nothing. Throws on a cycle. */
export function levels(graph: StepGraph): Map<string, number> {
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (urn: string): number => {
    const known = level.get(urn);
    if (known !== undefined) return known;
    if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
    visiting.add(urn);
    const step = graph.get(urn)!;
    const depth = step.dependsOn.length === 0 ? 0 : 1 + Math.max(...step.dependsOn.map(visit));
    visiting.delete(urn);
    level.set(urn, depth);
    return depth;
  };
  for (const urn of graph.keys()) visit(urn);
  return level;
}

/** Steps grouped by depth: wave n can start once waves < n are done. */
export function waves(graph: StepGraph): Step[][] {
  const result: Step[][] = [];
  for (const [urn, depth] of levels(graph)) {
    (result[depth] ??= []).push(graph.get(urn)!);
  }
  return result.map((wave) => wave.sort((a, b) => a.name.localeCompare(b.name)));
}

export interface CriticalPath {
  readonly steps: readonly Step[];
  /** Sum of the steps' weights (the number of steps with the default weight). */
  readonly total: number;
}

/** The heaviest chain of dependent steps; ties go to the chain found first by name. */
export function criticalPath(graph: StepGraph, weight: (step: Step) => number = () => 1): CriticalPath {
  const best = new Map<string, { total: number; previous?: string }>();
  const order = [...levels(graph).entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  for (const [urn] of order) {
    const step = graph.get(urn)!;
    let previous: string | undefined;
    let before = 0;
    for (const dep of [...step.dependsOn].sort()) {
      const candidate = best.get(dep)!.total;
      if (candidate > before) {
        before = candidate;
        previous = dep;
      }
    }
    best.set(urn, { total: before + weight(step), previous });
  }
  let end: string | undefined;
  let total = 0;
  for (const [urn, { total: t }] of [...best.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (t > total) {
      total = t;
      end = urn;
    }
  }
  const steps: Step[] = [];
  for (let urn = end; urn !== undefined; urn = best.get(urn)!.previous) steps.unshift(graph.get(urn)!);
  return { steps, total };
}

/** Every step's transitive dependencies. */
export function ancestorSets(graph: StepGraph): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  const order = [...levels(graph).entries()].sort((a, b) => a[1] - b[1]);
  for (const [urn] of order) {
    const set = new Set<string>();
    for (const dep of graph.get(urn)!.dependsOn) {
      set.add(dep);
      for (const a of result.get(dep)!) set.add(a);
    }
    result.set(urn, set);
  }
  return result;
}
