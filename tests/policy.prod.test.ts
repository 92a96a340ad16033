/**
 * The prod stack, recorded under mocks, against every rule of the policy pack: packages mode, two
 * admin networks and twenty nodes must pass as the dev stack does
 * (tests/policy.test.ts). A separate file: the Pulumi runtime runs one program per process.
 */
import { policies } from "../policy/policies";
import { RecordedResource } from "../tools/plan/mockRuntime";
import { fired, validateAll } from "./helpers/policyArgs";
import { runIsolated } from "./helpers/isolatedRun";

let recorded: readonly RecordedResource[];

beforeAll(async () => {
  recorded = (await runIsolated("prod")).resources;
}, 300_000);

test("the prod stack passes every policy with zero violations", async () => {
  const result = await validateAll(policies, recorded);
  expect(Object.keys(result).sort()).toEqual(policies.map((p) => p.name).sort());
  expect(fired(result)).toEqual({});
});

test("it holds what the new rules look at, so that passing is not vacuous", () => {
  const ofType = (type: string) => recorded.filter((r) => r.type === type);
  expect(ofType("aws:ec2/instance:Instance")).toHaveLength(20);
  const adminSources = ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    .map((r) => r.inputs.cidrIpv4)
    .filter((cidr) => cidr !== undefined);
  expect(new Set(adminSources)).toEqual(new Set(["198.51.100.0/24", "192.0.2.44/32"]));
  expect(ofType("aws:iam/user:User")).toHaveLength(1);
});
