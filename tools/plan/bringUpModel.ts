/**
 * The bring-up graph as the plan's picture shows it: the steps of nodes that do the same thing in
 * the same order (95 workers at 100 nodes) drawn once, equivalent cluster-wide steps (the rules of
 * one security group) merged, edges implied by others left out, and the critical and slowest paths
 * marked. Pure: tools/plan/bringUpSvg.ts turns it into DOT and SVG.
 */
import { levels, type Step, type StepGraph } from "./graph";

export interface PlanNode {
  readonly name: string;
  readonly role: string;
}

/** A lane: one node, or several nodes of one role whose steps have the same shape. */
export interface Lane {
  readonly id: string;
  readonly role: string;
  readonly nodes: readonly string[];
}

export interface Vertex {
  readonly id: string;
  readonly label: string;
  /** Component of the steps ("network", "flocker", …): the colour. */
  readonly component: string;
  readonly type: string;
  /** The lane the vertex is drawn in; undefined for cluster-wide steps. */
  readonly lane?: string;
  /** The resource names it stands for. */
  readonly steps: readonly string[];
  /** Bring-up wave, from 0. */
  readonly wave: number;
  readonly critical: boolean;
  readonly slowest: boolean;
}

export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly critical: boolean;
  readonly slowest: boolean;
}

export interface BringUpModel {
  readonly lanes: readonly Lane[];
  readonly vertices: readonly Vertex[];
  readonly edges: readonly Edge[];
  readonly waveCount: number;
}

export interface ModelInput {
  readonly graph: StepGraph;
  readonly nodes: readonly PlanNode[];
  /** Step names of the critical path (most sequential steps), in order. */
  readonly criticalPath: readonly string[];
  /** Step names of the slowest path (assumed durations), in order. */
  readonly slowestPath: readonly string[];
  /** Lanes of fewer nodes than this stay one lane per node. @default 2 */
  readonly minGroup?: number;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The node a step belongs to: the node whose name appears in the step's name (aws-101 in nodes-aws-101-boot). */
export function ownerOf(stepName: string, nodeNames: readonly string[]): string | undefined {
  let owner: string | undefined;
  for (const node of nodeNames) {
    // aws-10 must not claim nodes-aws-101-boot: the name ends where no digit follows.
    if (new RegExp(`(^|-)${escapeRegExp(node)}(?![0-9])`).test(stepName) && (owner === undefined || node.length > owner.length)) {
      owner = node;
    }
  }
  return owner;
}

const asPattern = (stepName: string, node: string) => stepName.replace(new RegExp(`${escapeRegExp(node)}(?![0-9])`, "g"), "*");

/** Nodes grouped into lanes: same role and same shape (step kinds and what each waits for, own node abstracted). */
export function lanesOf(
  graph: StepGraph,
  nodes: readonly PlanNode[],
  minGroup = 2,
): { lanes: Lane[]; laneOfNode: Map<string, string> } {
  const nodeNames = nodes.map((n) => n.name);
  const byOwner = new Map<string, Step[]>();
  for (const step of graph.values()) {
    const owner = ownerOf(step.name, nodeNames);
    if (owner !== undefined) (byOwner.get(owner) ?? byOwner.set(owner, []).get(owner)!).push(step);
  }
  const shapeOf = (node: string): string =>
    (byOwner.get(node) ?? [])
      .map(
        (step) =>
          `${asPattern(step.name, node)}<-${step.dependsOn
            .map((urn) => asPattern(graph.get(urn)!.name, node))
            .sort()
            .join(",")}`,
      )
      .sort()
      .join(";");

  const groups = new Map<string, string[]>();
  for (const node of nodes) {
    const key = `${node.role}|${shapeOf(node.name)}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(node.name);
  }
  const roleOf = new Map(nodes.map((n) => [n.name, n.role]));
  const lanes: Lane[] = [];
  for (const members of groups.values()) {
    const split = members.length >= minGroup ? [members] : members.map((m) => [m]);
    for (const part of split) lanes.push({ id: `lane-${part[0]}`, role: roleOf.get(part[0])!, nodes: part });
  }
  const order = new Map(nodeNames.map((name, i) => [name, i]));
  lanes.sort((a, b) => order.get(a.nodes[0])! - order.get(b.nodes[0])!);
  const laneOfNode = new Map<string, string>();
  for (const lane of lanes) for (const node of lane.nodes) laneOfNode.set(node, lane.id);
  return { lanes, laneOfNode };
}

/** "aws-106…aws-110 (5 workers)", "aws-101 (manager)". */
export function laneTitle(lane: Lane): string {
  if (lane.nodes.length === 1) return `${lane.nodes[0]} (${lane.role})`;
  return `${lane.nodes[0]}…${lane.nodes.at(-1)} (${lane.nodes.length} ${lane.role}s)`;
}

/** Keeps only edges that no longer path implies (the graph must be acyclic). */
export function transitiveReduction(
  ids: readonly string[],
  edges: ReadonlyArray<readonly [string, string]>,
): Array<[string, string]> {
  const succ = new Map(ids.map((id) => [id, new Set<string>()]));
  for (const [from, to] of edges) if (from !== to) succ.get(from)!.add(to);
  const reachable = new Map<string, Set<string>>();
  const reach = (id: string): Set<string> => {
    const known = reachable.get(id);
    if (known) return known;
    const set = new Set<string>();
    for (const next of succ.get(id)!) {
      set.add(next);
      for (const further of reach(next)) set.add(further);
    }
    reachable.set(id, set);
    return set;
  };
  const kept: Array<[string, string]> = [];
  for (const [from, targets] of succ) {
    for (const to of targets) {
      const implied = [...targets].some((other) => other !== to && reach(other).has(to));
      if (!implied) kept.push([from, to]);
    }
  }
  return kept;
}

/** The longest common prefix of names, cut back to a `-` boundary. */
function commonPrefix(names: readonly string[]): string {
  let prefix = names[0];
  for (const name of names) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const cut = prefix.lastIndexOf("-");
  return cut >= 0 ? prefix.slice(0, cut + 1) : prefix;
}

export function bringUpModel(input: ModelInput): BringUpModel {
  const { graph, nodes } = input;
  const nodeNames = nodes.map((n) => n.name);
  const { lanes, laneOfNode } = lanesOf(graph, nodes, input.minGroup ?? 2);
  const laneById = new Map(lanes.map((l) => [l.id, l]));
  const depth = levels(graph);

  // 1. Each step's vertex: per lane and step kind, or the step itself.
  const vertexOf = new Map<string, string>();
  const members = new Map<string, Step[]>();
  const laneOfVertex = new Map<string, string | undefined>();
  for (const step of graph.values()) {
    const owner = ownerOf(step.name, nodeNames);
    const lane = owner === undefined ? undefined : laneById.get(laneOfNode.get(owner)!)!;
    const id = lane && lane.nodes.length > 1 ? `${lane.id}:${asPattern(step.name, owner!)}` : step.name;
    vertexOf.set(step.urn, id);
    (members.get(id) ?? members.set(id, []).get(id)!).push(step);
    laneOfVertex.set(id, lane?.id);
  }
  let edgePairs = new Map<string, [string, string]>();
  const addEdges = () => {
    edgePairs = new Map();
    for (const step of graph.values()) {
      for (const dep of step.dependsOn) {
        const from = vertexOf.get(dep)!;
        const to = vertexOf.get(step.urn)!;
        if (from !== to) edgePairs.set(`${from}\u0000${to}`, [from, to]);
      }
    }
  };
  addEdges();

  // 2. Cluster-wide steps of one type that wait for the same things and that nothing waits for
  // differently (a security group's rules) become one vertex.
  const inputsOf = (id: string) =>
    [...edgePairs.values()]
      .filter(([, to]) => to === id)
      .map(([from]) => from)
      .sort()
      .join(",");
  const outputsOf = (id: string) =>
    [...edgePairs.values()]
      .filter(([from]) => from === id)
      .map(([, to]) => to)
      .sort()
      .join(",");
  const siblings = new Map<string, string[]>();
  for (const [id, steps] of members) {
    if (laneOfVertex.get(id) !== undefined || steps.length !== 1) continue;
    const key = `${steps[0].component}|${steps[0].type}|${inputsOf(id)}|${outputsOf(id)}`;
    (siblings.get(key) ?? siblings.set(key, []).get(key)!).push(id);
  }
  for (const ids of siblings.values()) {
    if (ids.length < 3) continue;
    const merged = `${commonPrefix(ids)}* ×${ids.length}`;
    const steps = ids.flatMap((id) => members.get(id)!);
    for (const id of ids) members.delete(id);
    members.set(merged, steps);
    laneOfVertex.set(merged, undefined);
    for (const step of steps) vertexOf.set(step.urn, merged);
  }
  addEdges();

  // 3. Paths to highlight, as vertices and consecutive pairs.
  const urnByName = new Map([...graph.values()].map((s) => [s.name, s.urn]));
  const pathVertices = (path: readonly string[]) => path.map((name) => vertexOf.get(urnByName.get(name)!)!);
  const critical = pathVertices(input.criticalPath);
  const slowest = pathVertices(input.slowestPath);
  const pairs = (path: string[]) => new Set(path.slice(1).map((to, i) => `${path[i]}\u0000${to}`));
  const criticalPairs = pairs(critical);
  const slowestPairs = pairs(slowest);

  const ids = [...members.keys()];
  const vertices: Vertex[] = ids.map((id) => {
    const steps = members.get(id)!;
    const lane = laneOfVertex.get(id);
    const first = steps[0];
    const groupOfNodes = lane !== undefined && laneById.get(lane)!.nodes.length > 1;
    const owner = groupOfNodes ? ownerOf(first.name, nodeNames)! : undefined;
    const label = groupOfNodes ? `${asPattern(first.name, owner!)} ×${steps.length}` : steps.length > 1 ? id : first.name;
    return {
      id,
      label,
      component: first.component,
      type: first.type,
      lane,
      steps: steps.map((s) => s.name).sort(),
      wave: Math.max(...steps.map((s) => depth.get(s.urn)!)),
      critical: critical.includes(id),
      slowest: slowest.includes(id),
    };
  });
  const edges: Edge[] = transitiveReduction(ids, [...edgePairs.values()]).map(([from, to]) => ({
    from,
    to,
    critical: criticalPairs.has(`${from}\u0000${to}`),
    slowest: slowestPairs.has(`${from}\u0000${to}`),
  }));
  const waveCount = Math.max(0, ...[...depth.values()].map((d) => d + 1));
  return { lanes, vertices, edges, waveCount };
}
