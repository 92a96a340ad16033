/**
 * A configuration that would move roles between the nodes of a deployed stack is refused before
 * any resource is registered (lib/reshape.ts, preflight/deployedShape.ts); the deployed shape is
 * the stack's own `nodes` output, which the mock runtime gives as `deployedOutputs`.
 */
import { reshapeRefusal, roleMoves, type DeployedNodes } from "../lib/reshape";
import { planNodes } from "../lib/topology";
import type { ProgramRun, RecordedResource } from "../tools/plan/mockRuntime";
import { runIsolated, stackConfigWith } from "./helpers/isolatedRun";

const SHAPE = { nodeNamePrefix: "aws-", firstNodeNumber: 101, subnetCidr: "10.0.1.0/24", nodeIpOffset: 10 };
const plan = (managerCount: number, nodeCount: number, more: Partial<typeof SHAPE> = {}) =>
  planNodes({ ...SHAPE, ...more, managerCount, nodeCount });
const deployedAs = (managerCount: number, nodeCount: number): DeployedNodes =>
  Object.fromEntries(plan(managerCount, nodeCount).map((n) => [n.name, { role: n.role }]));
const DEV = { stack: "dev", managerCount: 3, nodeCount: 6 };

describe("which changes move roles (pure)", () => {
  test("managerCount 3 → 5: the control and Spark-master roles move, and two nodes become managers", () => {
    expect(roleMoves(deployedAs(3, 6), plan(5, 8))).toEqual([
      { node: "aws-104", before: "control", after: "manager" },
      { node: "aws-105", before: "sparkmaster", after: "manager" },
      { node: "aws-106", before: "worker", after: "control" },
      { node: "aws-107", before: "absent", after: "sparkmaster" },
    ]);
  });

  test("workers added or removed move nothing", () => {
    expect(roleMoves(deployedAs(3, 6), plan(3, 9))).toEqual([]);
    expect(roleMoves(deployedAs(3, 9), plan(3, 5))).toEqual([]);
    expect(reshapeRefusal(deployedAs(3, 6), plan(3, 9), { ...DEV, nodeCount: 9 })).toBeUndefined();
  });

  test("a platform switch of a deployed stack is refused, and says so (the control node appears or goes)", () => {
    const toCurrent = reshapeRefusal(
      deployedAs(3, 6),
      planNodes({ ...SHAPE, managerCount: 3, nodeCount: 6, platform: "current" }),
      DEV,
    );
    expect(toCurrent).toContain(
      "would move roles between its nodes: platform book → current (the deployed stack is a book cluster; a platform is chosen when a stack is created, docs/platforms.md).",
    );
    expect(toCurrent).toContain("aws-104 control → sparkmaster, aws-105 sparkmaster → worker");
    const current = Object.fromEntries(
      planNodes({ ...SHAPE, managerCount: 3, nodeCount: 6, platform: "current" }).map((n) => [n.name, { role: n.role }]),
    );
    expect(reshapeRefusal(current, plan(3, 6), DEV)).toContain("platform current → book");
    expect(
      reshapeRefusal(current, planNodes({ ...SHAPE, managerCount: 3, nodeCount: 8, platform: "current" }), DEV),
    ).toBeUndefined();
  });

  test("a first deployment (no nodes output) passes whatever the shape", () => {
    expect(reshapeRefusal(undefined, plan(5, 8), DEV)).toBeUndefined();
    expect(reshapeRefusal({}, plan(5, 8), DEV)).toBeUndefined();
  });

  test("a rename (nodeNamePrefix or firstNodeNumber) is refused, naming the keys and both sets of names", () => {
    const refusal = reshapeRefusal(deployedAs(3, 5), plan(3, 5, { firstNodeNumber: 201 }), { ...DEV, nodeCount: 5 });
    expect(refusal).toContain(
      "nodeNamePrefix/firstNodeNumber: no deployed node keeps its name (aws-101, aws-102, aws-103, aws-104, aws-105 → aws-201, aws-202, aws-203, aws-204, aws-205)",
    );
    expect(refusal).toContain("aws-104 control → absent");
  });

  test("managerCount down moves roles too, and says so with the deployed count", () => {
    const refusal = reshapeRefusal(deployedAs(3, 6), plan(1, 6), { ...DEV, managerCount: 1 });
    expect(refusal).toContain("managerCount 3 → 1 (the deployed stack has 3 managers)");
    expect(refusal).toContain("aws-102 manager → control");
  });
});

describe("the program on a deployed dev stack", () => {
  let deployed: ProgramRun;
  beforeAll(async () => {
    deployed = await runIsolated("dev");
  });

  async function runDeployed(overrides: Record<string, string>) {
    const record: RecordedResource[] = [];
    let error: Error | undefined;
    let run: ProgramRun | undefined;
    await jest.isolateModulesAsync(async () => {
      const { runProgram } = require("../tools/plan/mockRuntime") as typeof import("../tools/plan/mockRuntime");
      try {
        run = await runProgram({
          stack: "dev",
          config: stackConfigWith("dev", overrides),
          record,
          deployedOutputs: deployed.outputs,
        });
      } catch (caught) {
        error = caught as Error;
      }
    });
    return { record, error, run };
  }

  test("managerCount 3 → 5 is refused before any resource, naming the key, the nodes that would move and what to do", async () => {
    const { record, error } = await runDeployed({ managerCount: "5" });
    expect(error?.constructor.name).toBe("RunError");
    expect(error?.message).toContain(
      "stack dev is deployed, and this configuration would move roles between its nodes: managerCount 3 → 5 (the deployed stack has 3 managers).",
    );
    expect(error?.message).toContain(
      "Nodes that would change: aws-104 control → manager, aws-105 sparkmaster → manager, aws-106 worker → control, aws-107 worker → sparkmaster.",
    );
    expect(error?.message).toContain(`docs/operations.md, "Changing a deployed cluster's shape"`);
    expect(record.filter((r) => r.custom)).toEqual([]);
  });

  test("adding workers (nodeCount up) on the deployed stack passes", async () => {
    const { error, run } = await runDeployed({ nodeCount: "11" });
    expect(error).toBeUndefined();
    expect(Object.keys(run!.outputs.nodes as object)).toHaveLength(11);
  });

  test("the same configuration as deployed passes, and a first deployment (no outputs) of managerCount 5 passes", async () => {
    expect((await runDeployed({})).error).toBeUndefined();
    expect((await runIsolated("dev", { managerCount: "5" })).outputs.nodes).toBeDefined();
  });
});
