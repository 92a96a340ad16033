/**
 * The current stack (Pulumi.current.yaml, with its node image pinned), recorded under mocks, against
 * every rule of the policy pack: no Flocker, IMDSv2 on every node, must pass as the book's stacks
 * do (tests/policy.test.ts), and the rules that only concern Flocker must not pass by looking away
 * from what they guard on a book stack. A separate file: the Pulumi runtime runs one program per process.
 */
import { policies } from "../policy/policies";
import { RecordedResource } from "../tools/plan/mockRuntime";
import { fired, validateAll, variant } from "./helpers/policyArgs";
import { runIsolated } from "./helpers/isolatedRun";

let recorded: readonly RecordedResource[];

beforeAll(async () => {
  recorded = (await runIsolated("current", { nodeImageId: "ami-0123456789abcdef0" })).resources;
}, 300_000);

const ofType = (type: string) => recorded.filter((r) => r.type === type);

test("the current stack passes every policy with zero violations", async () => {
  const result = await validateAll(policies, recorded);
  expect(Object.keys(result).sort()).toEqual(policies.map((p) => p.name).sort());
  expect(fired(result)).toEqual({});
});

test("it holds what the rules look at, so that passing is not vacuous", () => {
  const instances = ofType("aws:ec2/instance:Instance");
  expect(instances).toHaveLength(10);
  for (const instance of instances) expect(instance.inputs.metadataOptions).toMatchObject({ httpTokens: "required" });
  expect(ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").length).toBeGreaterThan(5);
  expect(ofType("aws:iam/user:User")).toHaveLength(0);
});

test("a current node that opens IMDSv1 is refused: the exception is Flocker's, and the current platform has none", async () => {
  const instance = recorded.find((r) => r.type === "aws:ec2/instance:Instance")!;
  const opened = variant(instance, (inputs) => {
    inputs.metadataOptions = { ...inputs.metadataOptions, httpTokens: "optional" };
  });
  const result = fired(await validateAll(policies, [...recorded.filter((r) => r.urn !== instance.urn), opened]));
  expect(Object.keys(result)).toEqual(["imdsv2-required"]);
  expect(result["imdsv2-required"][0]).toContain('has metadataOptions.httpTokens "optional", which allows IMDSv1');
});

test("EBS encryption by default is Flocker's guard: a stack that runs Flocker without it is still refused", async () => {
  const flocker = {
    ...recorded.find((r) => r.type === "swarm-flocker:spark:Spark")!,
    type: "swarm-flocker:flocker:Flocker",
    name: "flocker",
    urn: "urn:pulumi:current::swarm-flocker::swarm-flocker:flocker:Flocker::flocker",
  };
  const result = fired(await validateAll(policies, [...recorded, flocker]));
  expect(result["ebs-encryption-by-default"]).toEqual([
    "the stack has no aws.ebs.EncryptionByDefault, so the volumes Flocker creates are unencrypted. Fix: add `new aws.ebs.EncryptionByDefault(name, { enabled: true }, { retainOnDelete: true })`.",
  ]);
});
