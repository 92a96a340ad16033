/**
 * The monthly cost ceiling (monthlyCostCeilingUsd, config/checks/cost.ts): cost-heavy values stop
 * the program before any resource exists, with the estimate and the key to raise; an estimate that
 * cannot be made stops it too. And the estimate covers every billable thing the program creates.
 */
import { costDemandOf, costNotice } from "../config/checks/cost";
import { validateConfig, type ConfigProblem } from "../config/validate";
import type { ProgramRun, RecordedResource } from "../tools/plan/mockRuntime";
import { readStackConfig } from "../tools/common/stackConfig";
import { TYPES, ofType } from "./helpers/program";
import { runIsolated, stackConfigWith } from "./helpers/isolatedRun";

const devValues = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(readStackConfig("dev"))
      .filter(([key]) => key.startsWith("swarm-flocker:"))
      .map(([key, value]) => [key.slice("swarm-flocker:".length), value]),
  );

function problemsWith(changes: Record<string, string>, region = "us-east-1"): ConfigProblem[] {
  return validateConfig({
    project: "swarm-flocker",
    stack: "dev",
    region,
    values: { ...devValues(), availabilityZone: `${region}a`, ...changes },
  }).problems;
}

const ceilingProblem = (problems: readonly ConfigProblem[]) => problems.find((p) => p.key === "monthlyCostCeilingUsd");

test("the dev stack ($392.09 a month) is under its default ceiling of $500", () => {
  expect(problemsWith({})).toEqual([]);
});

describe.each([
  ["200 nodes", { nodeCount: "200" }, "$7,764.47", "t2.medium instances (on-demand, Linux) 200 × 730 h: $6,774.40", "7800"],
  ["16 TiB root disks", { rootVolumeSizeGiB: "16384" }, "$13,486.49", "root volumes (gp3) 10 × 16384 GiB: $13,107.20", "13500"],
  [
    "a 16 TiB gold (io1) dataset",
    { sparkVolumeProfile: "gold", sparkVolumeSize: "16T" },
    "$3,736.34",
    "Flocker dataset (gold: io1) 16384 GiB: $2,048.00",
    "3800",
  ],
])("%s", (_label, changes, estimate, largest, raiseTo) => {
  test("are refused, naming the key, the estimate, what drives it and the command that raises the ceiling", () => {
    const problem = ceilingProblem(problemsWith(changes));
    expect(problem).toBeDefined();
    expect(problem!.message).toContain(
      `monthlyCostCeilingUsd: "500" is below the estimated monthly cost of ${estimate} in us-east-1`,
    );
    expect(problem!.message).toContain(largest);
    expect(problem!.message).toContain(`pulumi config set monthlyCostCeilingUsd ${raiseTo}`);
  });

  test("go through once the ceiling is raised above the estimate, or turned off with 0", () => {
    expect(problemsWith({ ...changes, monthlyCostCeilingUsd: raiseTo })).toEqual([]);
    expect(problemsWith({ ...changes, monthlyCostCeilingUsd: "0" })).toEqual([]);
  });
});

test("a ceiling exactly at the estimate passes; a dollar less does not", () => {
  expect(problemsWith({ nodeCount: "12", monthlyCostCeilingUsd: "470" })).toEqual([]);
  expect(ceilingProblem(problemsWith({ nodeCount: "12", monthlyCostCeilingUsd: "469" }))?.message).toContain("$469.");
});

test("a region the table cannot price completely is refused too: an unpriced volume could hide any amount", () => {
  const problem = ceilingProblem(problemsWith({}, "eu-west-2"));
  expect(problem?.message).toBe(
    'monthlyCostCeilingUsd: "500" cannot be checked: the monthly cost cannot be estimated: no price for public IPv4 addresses, ' +
      "gp3 storage, magnetic storage in eu-west-2 in the price table (the priced items alone: at least $379.60 a month). " +
      "Add the region's prices to the table (npm run prices, docs/cost.md), use a region it prices completely (eu-west-1, us-east-1), " +
      "or set monthlyCostCeilingUsd to 0 to deploy without a ceiling",
  );
  expect(problemsWith({ monthlyCostCeilingUsd: "0" }, "eu-west-2")).toEqual([]);
});

test("a preview or an update logs the estimate and the ceiling in one line", () => {
  const config = (changes: Record<string, string>, region = "us-east-1") =>
    validateConfig({
      project: "swarm-flocker",
      stack: "dev",
      region,
      values: { ...devValues(), availabilityZone: `${region}a`, ...changes },
    }).config!;
  expect(costNotice(config({}))).toBe(
    "Monthly cost estimate in us-east-1: $392.09 a month; ceiling $500.00 (monthlyCostCeilingUsd); npm run plan prints every line (docs/cost.md)",
  );
  expect(costNotice(config({ monthlyCostCeilingUsd: "0" }, "eu-west-2"))).toMatch(
    /^Monthly cost estimate in eu-west-2: cannot be estimated: no price for .*; no ceiling: monthlyCostCeilingUsd is 0;/,
  );
});

test("the ceiling is a whole, non-negative number of dollars", () => {
  expect(ceilingProblem(problemsWith({ monthlyCostCeilingUsd: "-1" }))?.message).toBe(
    'monthlyCostCeilingUsd: "-1" is not allowed: use a whole number of US dollars a month, or 0 for no ceiling',
  );
  expect(ceilingProblem(problemsWith({ monthlyCostCeilingUsd: "500.5" }))?.message).toContain("is not a whole number");
});

test("pulumi up stops before any resource exists: 40 nodes over the dev stack's ceiling", async () => {
  const record: RecordedResource[] = [];
  let error: Error | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../tools/plan/mockRuntime") as typeof import("../tools/plan/mockRuntime");
    try {
      await runProgram({ stack: "dev", config: stackConfigWith("dev", { nodeCount: "40" }), record });
    } catch (caught) {
      error = caught as Error;
    }
  });
  expect(error?.constructor.name).toBe("RunError");
  expect(error?.message).toContain('monthlyCostCeilingUsd: "500" is below the estimated monthly cost of $1,556.15 in us-east-1');
  expect(record.filter((r) => r.custom)).toEqual([]);
});

/** Resource types that AWS does not bill for by themselves (or that are not AWS at all). */
const FREE_TYPES = new Set<string>([
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  TYPES.securityGroup,
  TYPES.ingress,
  TYPES.egress,
  TYPES.keyPair,
  TYPES.ebsEncryption,
  TYPES.iamUser,
  TYPES.userPolicy,
  TYPES.accessKey,
  "aws:iam/role:Role",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  // Data Lifecycle Manager is free; the snapshots it takes are priced.
  "aws:dlm/lifecyclePolicy:LifecyclePolicy",
  "aws:ec2/volumeAttachment:VolumeAttachment",
]);
const BILLED_TYPES = new Set([TYPES.instance, "aws:ebs/volume:Volume"]);

// prod has snapshots on (the DLM policy); the dataset itself is created by Flocker, not the program.
describe.each(["dev", "prod"])("the estimate's demand is what the program creates: %s", (stack) => {
  const overrides = {};
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runIsolated(stack, overrides);
  });

  test("every AWS resource type is either priced or known to be free", () => {
    const aws = [...new Set(run.resources.filter((r) => r.custom && r.type.startsWith("aws:")).map((r) => r.type))];
    expect(aws.filter((type) => !FREE_TYPES.has(type) && !BILLED_TYPES.has(type))).toEqual([]);
  });

  test("nodes, their public addresses and root volumes, and the control-state volume, as priced", () => {
    const config = validateConfig({
      project: "swarm-flocker",
      stack,
      region: stackConfigWith(stack, overrides)["aws:region"],
      values: Object.fromEntries(
        Object.entries(stackConfigWith(stack, overrides))
          .filter(([key]) => key.startsWith("swarm-flocker:"))
          .map(([key, value]) => [key.slice("swarm-flocker:".length), value]),
      ),
    }).config!;
    const demand = costDemandOf(config);
    const instances = ofType(run, TYPES.instance);
    expect(instances).toHaveLength(demand.nodeCount);
    for (const instance of instances) {
      expect(instance.inputs).toMatchObject({
        instanceType: demand.instanceType,
        associatePublicIpAddress: true,
        rootBlockDevice: { volumeSize: demand.rootVolume.gib, volumeType: demand.rootVolume.volumeType },
      });
    }
    expect(demand.publicIpv4Count).toBe(instances.filter((i) => i.inputs.associatePublicIpAddress === true).length);
    const volumes = ofType(run, "aws:ebs/volume:Volume");
    // What the stack itself creates: the Flocker control state (book; Flocker creates the dataset's
    // volume), the Spark dataset's own volume (current: a dataset without a Flocker profile).
    const own = [demand.controlStateVolume, demand.dataset.profile === undefined ? demand.dataset : undefined];
    const priced = own.filter((v) => v !== undefined);
    expect(priced.length).toBeGreaterThan(0);
    expect(volumes.map((v) => ({ size: v.inputs.size, type: v.inputs.type }))).toEqual(
      priced.map((v) => ({ size: v.gib, type: v.volumeType })),
    );
    expect(ofType(run, "aws:dlm/lifecyclePolicy:LifecyclePolicy").length > 0).toBe(demand.snapshots !== undefined);
  });
});
