/** Waves and critical path of a dependency graph. */
import { criticalPath, stepGraph, waves } from "../tools/plan/graph";
import type { RecordedResource } from "../tools/plan/mockRuntime";
import { collapseNodeNames, wrapList } from "../tools/plan/planReport";

function resource(name: string, dependsOn: string[] = [], custom = true, parent?: string): RecordedResource {
  return {
    urn: `urn:${name}`,
    type: custom ? "test:index:Step" : "test:index:Component",
    name,
    parent: parent ? `urn:${parent}` : undefined,
    custom,
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
  };
}

//   a ─┬─ b ── d
//      └─ c ───┘   e (alone)      component "group" is not a step
const sample = [
  resource("group", [], false),
  resource("a", [], true, "group"),
  resource("b", ["a"]),
  resource("c", ["a", "group"]),
  resource("d", ["b", "c", "a"]),
  resource("e"),
];

test("components are not steps, and dependencies on them are dropped", () => {
  const graph = stepGraph(sample);
  expect([...graph.values()].map((s) => s.name).sort()).toEqual(["a", "b", "c", "d", "e"]);
  expect(graph.get("urn:c")!.dependsOn).toEqual(["urn:a"]);
});

test("each step knows its top-level component", () => {
  const graph = stepGraph(sample);
  expect(graph.get("urn:a")!.component).toBe("group");
  expect(graph.get("urn:b")!.component).toBe("(stack)");
});

test("waves group steps that can run at once", () => {
  expect(waves(stepGraph(sample)).map((w) => w.map((s) => s.name))).toEqual([["a", "e"], ["b", "c"], ["d"]]);
});

test("the critical path by count and by weight", () => {
  const graph = stepGraph(sample);
  expect(criticalPath(graph).steps.map((s) => s.name)).toEqual(["a", "b", "d"]);
  expect(criticalPath(graph).total).toBe(3);
  const weighted = criticalPath(graph, (s) => (s.name === "c" ? 10 : 1));
  expect(weighted.steps.map((s) => s.name)).toEqual(["a", "c", "d"]);
  expect(weighted.total).toBe(12);
});

test("a cycle is reported, not looped on", () => {
  expect(() => waves(stepGraph([resource("x", ["y"]), resource("y", ["x"])]))).toThrow(/cycle/);
});

test("per-node step names collapse into one line per kind of step", () => {
  expect(
    collapseNodeNames(["nodes-aws-101-boot", "nodes-aws-102-boot", "swarm-init", "nodes-aws-1010-boot"], ["aws-101", "aws-102"]),
  ).toEqual(["nodes-*-boot ×2", "nodes-aws-1010-boot", "swarm-init"]);
});

test("long wave lists and paths wrap under their indent at 100 columns", () => {
  const steps = Array.from({ length: 30 }, (_, i) => `step-${i}`);
  const lines = wrapList(steps, ", ", "   1. ", "      ", 60);
  expect(lines[0]).toBe("   1. step-0, step-1, step-2, step-3, step-4, step-5,");
  expect(lines.slice(1).every((line) => line.startsWith("      step-"))).toBe(true);
  expect(lines.every((line) => line.length <= 60)).toBe(true);
  expect(lines.join(" ").replace(/\s+/g, " ")).toBe(`   1. ${steps.join(", ")}`.replace(/\s+/g, " "));
  expect(wrapList(["a", "b", "c"], " →", "  ", "  ")).toEqual(["  a → b → c"]);
});
