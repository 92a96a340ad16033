/**
 * Scaling by config: more nodes add workers that join in parallel; the bring-up's critical path
 * does not grow with the number of nodes; existing nodes keep their resource names (renaming one
 * would replace real infrastructure).
 */
import { criticalPath, stepGraph } from "../tools/plan/graph";
import type { ProgramRun } from "../tools/plan/mockRuntime";
import { named, waitsFor } from "./helpers/program";
import { runIsolated } from "./helpers/isolatedRun";

let ten: ProgramRun;
let thirty: ProgramRun;

beforeAll(async () => {
  ten = await runIsolated("dev");
  // Thirty nodes cost more than the dev stack's ceiling (about $1,180 a month): raised, as an operator would.
  thirty = await runIsolated("dev", { nodeCount: "30", monthlyCostCeilingUsd: "1500" });
});

const names = (run: ProgramRun) => new Set(run.resources.map((r) => r.name));

test("raising nodeCount only adds resources: every resource of the 10-node cluster keeps its name", () => {
  const larger = names(thirty);
  const missing = [...names(ten)].filter((name) => !larger.has(name));
  expect(missing).toEqual([]);
  expect(larger.size).toBeGreaterThan(names(ten).size);
});

test("the added nodes are workers that join with the worker token and are drained and removed on scale-down", () => {
  for (const node of ["aws-111", "aws-120", "aws-130"]) {
    expect(named(thirty, `nodes-${node}-instance`).inputs.tags).toMatchObject({ Name: node, Role: "worker" });
    expect(waitsFor(thirty, `swarm-join-${node}`, "swarm-token-worker")).toBe(true);
    expect(String(named(thirty, `swarm-member-${node}`).inputs.delete)).toMatch(/swarm-member\.sh remove$/);
    expect(named(thirty, `swarm-join-${node}`).inputs.delete).toBeUndefined();
  }
  expect(named(thirty, "nodes-aws-130-instance").inputs.privateIp).toBe("172.31.0.39");
});

test("the critical path is the same length at 10 and 30 nodes", () => {
  const at10 = criticalPath(stepGraph(ten.resources));
  const at30 = criticalPath(stepGraph(thirty.resources));
  expect(at30.total).toBe(at10.total);
  // One node's chain (its ssh-key step first), the Swarm formation and the Spark steps: a fixed
  // number, not per node.
  expect(at10.total).toBeLessThanOrEqual(17);
});

test("no step of one worker waits for another worker's steps", () => {
  const byUrn = new Map(thirty.resources.map((r) => [r.urn, r]));
  const workerOf = (name: string) => /aws-(1[0-9]{2})/.exec(name)?.[0];
  for (const resource of thirty.resources.filter((r) => /^(nodes|flocker|swarm-join)-aws-1(0[6-9]|[1-3][0-9])/.test(r.name))) {
    const own = workerOf(resource.name);
    for (const dependency of resource.dependencies.map((urn) => byUrn.get(urn)!)) {
      const other = workerOf(dependency.name);
      // Cross-node edges allowed: Flocker's control node (aws-104), and the first manager's tokens.
      if (other && other !== own) expect(["aws-104"]).toContain(other);
    }
  }
});
