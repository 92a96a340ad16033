/** The plan's picture: lanes of identical nodes, merged steps, the marked paths, DOT and SVG. */
import { bringUpModel, laneTitle, lanesOf, ownerOf, transitiveReduction } from "../tools/plan/bringUpModel";
import { bringUpDot, renderSvg } from "../tools/plan/bringUpSvg";
import { criticalPath, stepGraph } from "../tools/plan/graph";
import type { RecordedResource } from "../tools/plan/mockRuntime";

function step(name: string, component: string, dependsOn: string[] = [], type = "command:remote:Command"): RecordedResource[] {
  return [
    {
      urn: `urn:${name}`,
      type,
      name,
      parent: `urn:${component}`,
      custom: true,
      inputs: {},
      wireInputs: {},
      dependencies: dependsOn.map((d) => `urn:${d}`),
      options: {
        deleteBeforeReplace: false,
        additionalSecretOutputs: [],
        ignoreChanges: [],
        replaceOnChanges: [],
        retainOnDelete: false,
        protect: false,
      },
    },
  ];
}

/** Two steps of components the picture has no colour for yet. */
const extraPhase = (): RecordedResource[] => [
  component("backup"),
  component("alerts"),
  ...step("backup-job", "backup"),
  ...step("alerts-rule", "alerts"),
];

const component = (name: string): RecordedResource => ({
  ...step(name, "none")[0],
  urn: `urn:${name}`,
  parent: undefined,
  custom: false,
});

/** A cluster shaped like the stack's: a VPC with three rules, a manager that inits, workers that join. */
function cluster(workers: number) {
  const nodes = [{ name: "aws-101", role: "manager" }];
  for (let i = 0; i < workers; i++) nodes.push({ name: `aws-${102 + i}`, role: "worker" });
  const resources: RecordedResource[] = ["network", "nodes", "swarm"].map(component);
  resources.push(...step("network-vpc", "network", [], "aws:ec2/vpc:Vpc"));
  resources.push(...step("network-node", "network", ["network-vpc"], "aws:ec2/securityGroup:SecurityGroup"));
  for (const port of ["22", "2377", "7946"])
    resources.push(
      ...step(
        `network-node-${port}-tcp`,
        "network",
        ["network-node"],
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      ),
    );
  for (const { name } of nodes) {
    resources.push(...step(`nodes-${name}-instance`, "nodes", ["network-node", "network-vpc"], "aws:ec2/instance:Instance"));
    resources.push(...step(`nodes-${name}-boot`, "nodes", [`nodes-${name}-instance`]));
  }
  resources.push(...step("swarm-init", "swarm", ["nodes-aws-101-boot"]));
  resources.push(...step("swarm-token", "swarm", ["swarm-init"]));
  for (const { name } of nodes.slice(1))
    resources.push(...step(`swarm-join-${name}`, "swarm", [`nodes-${name}-boot`, "swarm-token", `nodes-${name}-instance`]));
  const graph = stepGraph(resources);
  const path = criticalPath(graph).steps.map((s) => s.name);
  return { graph, nodes, path };
}

test("a step belongs to the node its name carries; aws-10 does not claim aws-101's steps", () => {
  expect(ownerOf("nodes-aws-101-boot", ["aws-10", "aws-101"])).toBe("aws-101");
  expect(ownerOf("swarm-join-aws-10", ["aws-10", "aws-101"])).toBe("aws-10");
  expect(ownerOf("swarm-init", ["aws-10", "aws-101"])).toBeUndefined();
});

test("nodes of one role and the same shape share a lane; a node that does something else keeps its own", () => {
  const { graph, nodes } = cluster(5);
  const { lanes } = lanesOf(graph, nodes);
  expect(lanes.map((l) => [l.role, l.nodes])).toEqual([
    ["manager", ["aws-101"]],
    ["worker", ["aws-102", "aws-103", "aws-104", "aws-105", "aws-106"]],
  ]);
  expect(lanes.map(laneTitle)).toEqual(["aws-101 (manager)", "aws-102…aws-106 (5 workers)"]);
  // Below the group size every node has its own lane.
  expect(lanesOf(graph, nodes, 6).lanes).toHaveLength(6);
});

test("the picture has the same size at 10 and at 100 nodes: identical nodes are drawn once, counted", () => {
  const small = cluster(9);
  const large = cluster(99);
  const at10 = bringUpModel({ graph: small.graph, nodes: small.nodes, criticalPath: small.path, slowestPath: [] });
  const at100 = bringUpModel({ graph: large.graph, nodes: large.nodes, criticalPath: large.path, slowestPath: [] });
  expect(at100.vertices.length).toBe(at10.vertices.length);
  expect(at100.edges.length).toBe(at10.edges.length);
  expect(at100.vertices.map((v) => v.label)).toEqual(
    expect.arrayContaining(["nodes-*-boot ×99", "swarm-join-* ×99", "nodes-aws-101-boot"]),
  );
  const joins = at100.vertices.find((v) => v.label === "swarm-join-* ×99")!;
  expect(joins.steps).toHaveLength(99);
  expect(joins.steps[0]).toBe("swarm-join-aws-102");
});

test("a security group's rules merge into one vertex; edges implied by others are left out", () => {
  const { graph, nodes, path } = cluster(3);
  const model = bringUpModel({ graph, nodes, criticalPath: path, slowestPath: [] });
  const rules = model.vertices.find((v) => v.label === "network-node-* ×3")!;
  expect(rules.steps).toEqual(["network-node-22-tcp", "network-node-2377-tcp", "network-node-7946-tcp"]);
  const edges = model.edges.map((e) => `${e.from} -> ${e.to}`);
  // instance waits for network-vpc too, but network-node already waits for it.
  expect(edges).toContain("network-node -> nodes-aws-101-instance");
  expect(edges).not.toContain("network-vpc -> nodes-aws-101-instance");
  // a join waits for its instance, implied by its boot.
  expect(edges.filter((e) => e.endsWith(":swarm-join-*"))).toEqual([
    "lane-aws-102:nodes-*-boot -> lane-aws-102:swarm-join-*",
    "swarm-token -> lane-aws-102:swarm-join-*",
  ]);
});

test("transitive reduction keeps only edges no longer path implies", () => {
  expect(
    transitiveReduction(
      ["a", "b", "c", "d"],
      [
        ["a", "b"],
        ["b", "c"],
        ["a", "c"],
        ["c", "d"],
        ["a", "d"],
      ],
    ),
  ).toEqual([
    ["a", "b"],
    ["b", "c"],
    ["c", "d"],
  ]);
});

test("the critical and slowest paths are marked on their vertices and edges", () => {
  const { graph, nodes, path } = cluster(4);
  expect(path).toEqual([
    "network-vpc",
    "network-node",
    "nodes-aws-101-instance",
    "nodes-aws-101-boot",
    "swarm-init",
    "swarm-token",
    "swarm-join-aws-102",
  ]);
  const model = bringUpModel({
    graph,
    nodes,
    criticalPath: path,
    slowestPath: ["network-vpc", "network-node", "network-node-22-tcp"],
  });
  expect(model.vertices.filter((v) => v.critical).map((v) => v.id)).toEqual(
    expect.arrayContaining(["network-vpc", "swarm-init", "lane-aws-102:swarm-join-*"]),
  );
  expect(model.edges.filter((e) => e.critical)).toHaveLength(path.length - 1);
  expect(model.edges.filter((e) => e.slowest).map((e) => e.to)).toEqual(["network-node", "network-node-* ×3"]);
  expect(model.waveCount).toBe(7);
});

describe("DOT and SVG", () => {
  const { graph, nodes, path } = cluster(9);
  const model = bringUpModel({ graph, nodes, criticalPath: path, slowestPath: [] });
  const title = {
    stack: "dev",
    nodeCount: 10,
    resourceCount: 42,
    criticalSteps: path.length,
    slowestMinutes: "1.5",
    cost: "$392.09 a month",
    overrides: { "swarm-flocker:nodeCount": "10" },
  };
  const dot = bringUpDot(model, title);

  test("one box per role holding its lanes, one per phase for cluster-wide steps, one column per wave", () => {
    expect(dot).toContain('subgraph "cluster_role_worker" {');
    expect(dot).toContain('label="aws-102…aws-110 (9 workers)"');
    expect(dot).toContain('subgraph "cluster_phase_swarm" {');
    expect(dot.match(/\{ rank=same; "wave \d+"/g)).toHaveLength(model.waveCount);
    expect(dot).toContain("Bring-up of stack dev (--set nodeCount=10)");
    expect(dot).toContain("$392.09 a month");
  });

  test("each phase present has its own colour and a place in the legend; absent phases are left out", () => {
    expect(dot).toMatch(/<td bgcolor="#dbe9f6"[^>]*>&nbsp;network&nbsp;<\/td><td bgcolor="#dff0d8"[^>]*>&nbsp;nodes&nbsp;<\/td>/);
    expect(dot).not.toContain("&nbsp;pki&nbsp;");
    const withNewPhase = bringUpModel({ graph: stepGraph(extraPhase()), nodes: [], criticalPath: [], slowestPath: [] });
    const colours = [...bringUpDot(withNewPhase, title).matchAll(/fillcolor="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(new Set(colours).size).toBe(2);
  });

  test("critical edges are red and thick", () => {
    expect(dot).toContain('"swarm-init" -> "swarm-token" [color="#d62728", penwidth=2.4, arrowsize=0.7];');
    expect(dot).toMatch(
      /"network-node-\* ×3" \[label="network-node-\* ×3", shape=box, style="filled", fillcolor="#dbe9f6", color="#7f7f7f"/,
    );
  });

  test("Graphviz (WebAssembly) renders it to SVG", async () => {
    const svg = await renderSvg(dot);
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg [\s\S]*<\/svg>\s*$/);
    // Graphviz writes "-" as &#45; in SVG text.
    expect(svg.replace(/&#45;/g, "-")).toContain("aws-102…aws-110 (9 workers)");
    expect(svg).toContain('stroke="#d62728"');
    await expect(renderSvg("digraph { a -> }")).rejects.toThrow(/syntax error/);
  });
});
