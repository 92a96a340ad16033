/**
 * The Flocker user's IAM policy (lib/flockerIamPolicy.ts), read as AWS would read it: every call
 * Flocker 1.15's EBS driver makes is allowed, and what a leaked access key could do beyond that is
 * refused — except the documented gap (tagging an untagged volume into the cluster).
 */
import { flockerPolicyDocument } from "../lib/flockerIamPolicy";
import { STORAGE_PROFILES, volumeRequestFor } from "../lib/ebsProfiles";
import { IamRequest, IamStatement, isAllowed } from "./helpers/iamEval";

const CLUSTER = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f";
const OTHER_CLUSTER = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d";
const doc = flockerPolicyDocument({ partition: "aws", region: "us-east-1", accountId: "111122223333", clusterId: CLUSTER });
const statements = doc.Statement as readonly IamStatement[];
const allowed = (request: IamRequest) => isAllowed(statements, request);

const volume = (id: string, tags: Record<string, string> = {}) => ({
  arn: `arn:aws:ec2:us-east-1:111122223333:volume/${id}`,
  context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`ec2:ResourceTag/${k}`, v])),
});
const instance = (id: string, tags: Record<string, string> = {}) => ({
  arn: `arn:aws:ec2:us-east-1:111122223333:instance/${id}`,
  context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`ec2:ResourceTag/${k}`, v])),
});
const ours = { "flocker-cluster-id": CLUSTER };
const theirs = { "flocker-cluster-id": OTHER_CLUSTER };

function createVolume(type: string, gib: number, iops?: number): IamRequest {
  const context: Record<string, string> = {
    "ec2:VolumeType": type,
    "ec2:VolumeSize": String(gib),
    "ec2:AvailabilityZone": "us-east-1a",
  };
  if (iops !== undefined) context["ec2:VolumeIops"] = String(iops);
  return { action: "ec2:CreateVolume", resources: [volume("*")], context };
}

/** Flocker's one CreateTags call after CreateVolume (ebs.py create_volume_with_profile). */
function flockerTags(clusterId = CLUSTER): Record<string, string> {
  return { "flocker-metadata-version": "1", "flocker-cluster-id": clusterId, "flocker-dataset-id": "d-1", Name: "flocker-d-1" };
}
function createTags(target: ReturnType<typeof volume>, tags: Record<string, string>): IamRequest {
  const context: Record<string, string | string[]> = { "aws:TagKeys": Object.keys(tags) };
  for (const [key, value] of Object.entries(tags)) context[`aws:RequestTag/${key}`] = value;
  return { action: "ec2:CreateTags", resources: [target], context };
}

describe("everything Flocker does is allowed", () => {
  test.each(
    Object.values(STORAGE_PROFILES).flatMap((p) =>
      [p.minGiB, 75, p.maxGiB].filter((g) => g >= p.minGiB && g <= p.maxGiB).map((g) => [p.name, g] as const),
    ),
  )("CreateVolume for profile %s, %i GiB", (profile, gib) => {
    const request = volumeRequestFor(profile, gib);
    expect(allowed(createVolume(request.volumeType, gib, request.iops))).toBe(true);
  });

  test("tagging the new, untagged volume into this cluster", () => {
    expect(allowed(createTags(volume("vol-new"), flockerTags()))).toBe(true);
  });

  test("attach, detach and delete this cluster's volumes on this cluster's instances", () => {
    for (const action of ["ec2:AttachVolume", "ec2:DetachVolume"]) {
      expect(allowed({ action, resources: [volume("vol-1", ours), instance("i-1", ours)] })).toBe(true);
    }
    expect(allowed({ action: "ec2:DeleteVolume", resources: [volume("vol-1", ours)] })).toBe(true);
  });

  test("the three Describe calls, in the stack's region only", () => {
    for (const action of ["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeVolumes"]) {
      expect(allowed({ action, resources: [{ arn: "*" }], context: { "aws:RequestedRegion": "us-east-1" } })).toBe(true);
      expect(allowed({ action, resources: [{ arn: "*" }], context: { "aws:RequestedRegion": "eu-west-1" } })).toBe(false);
    }
  });
});

describe("what a leaked key cannot do", () => {
  test.each([
    ["an io2 volume", createVolume("io2", 100, 1000)],
    ["a gp3 volume", createVolume("gp3", 100)],
    ["a volume larger than any profile", createVolume("gp2", 16385)],
    ["an io1 volume with more IOPS than gold ever asks for", createVolume("io1", 16384, 64000)],
    [
      "a volume with no type in the request",
      { action: "ec2:CreateVolume", resources: [volume("*")], context: { "ec2:VolumeSize": "10" } },
    ],
  ])("create %s", (_what, request) => {
    expect(allowed(request as IamRequest)).toBe(false);
  });

  test("claim another Flocker cluster's volume by re-tagging it", () => {
    expect(allowed(createTags(volume("vol-theirs", theirs), flockerTags()))).toBe(false);
  });

  test("tag a volume into another cluster, or with keys Flocker never writes", () => {
    expect(allowed(createTags(volume("vol-new"), flockerTags(OTHER_CLUSTER)))).toBe(false);
    expect(allowed(createTags(volume("vol-new"), { ...flockerTags(), Owner: "attacker" }))).toBe(false);
    expect(allowed(createTags(volume("vol-new"), { Name: "x" }))).toBe(false);
  });

  test("detach or delete a volume that is not this cluster's, or attach to a foreign instance", () => {
    expect(allowed({ action: "ec2:DeleteVolume", resources: [volume("vol-2", theirs)] })).toBe(false);
    expect(allowed({ action: "ec2:DeleteVolume", resources: [volume("vol-3")] })).toBe(false);
    expect(allowed({ action: "ec2:DetachVolume", resources: [volume("vol-1", ours), instance("i-9", theirs)] })).toBe(false);
    expect(allowed({ action: "ec2:AttachVolume", resources: [volume("vol-1", ours), instance("i-9")] })).toBe(false);
  });

  test("any call Flocker does not make", () => {
    for (const action of [
      "ec2:RunInstances",
      "ec2:CreateSnapshot",
      "ec2:ModifyVolume",
      "ec2:DeleteTags",
      "iam:CreateAccessKey",
    ]) {
      expect(allowed({ action, resources: [volume("vol-1", ours)] })).toBe(false);
    }
  });
});

test("the documented gap: an untagged volume can be tagged into the cluster, and then deleted", () => {
  // Flocker tags in a second call after CreateVolume, so untagged volumes must be taggable.
  expect(allowed(createTags(volume("vol-unrelated"), flockerTags()))).toBe(true);
  expect(allowed({ action: "ec2:DeleteVolume", resources: [volume("vol-unrelated", ours)] })).toBe(true);
});

test("scoped to the partition, region and account it is given", () => {
  const gov = flockerPolicyDocument({
    partition: "aws-us-gov",
    region: "us-gov-west-1",
    accountId: "444455556666",
    clusterId: "c-1",
  });
  expect(gov.Statement.map((s) => s.Resource)).toEqual([
    "*",
    "arn:aws-us-gov:ec2:us-gov-west-1:444455556666:volume/*",
    "arn:aws-us-gov:ec2:us-gov-west-1:444455556666:volume/*",
    ["arn:aws-us-gov:ec2:us-gov-west-1:444455556666:volume/*", "arn:aws-us-gov:ec2:us-gov-west-1:444455556666:instance/*"],
  ]);
  expect(gov.Statement[0].Condition).toEqual({ StringEquals: { "aws:RequestedRegion": "us-gov-west-1" } });
  expect(gov.Statement[3].Condition).toEqual({ StringEquals: { "ec2:ResourceTag/flocker-cluster-id": "c-1" } });
  expect(gov.Statement[1].Condition).toEqual({
    StringEquals: { "ec2:VolumeType": ["io1", "gp2", "standard"] },
    NumericLessThanEquals: { "ec2:VolumeSize": "16384" },
    NumericLessThanEqualsIfExists: { "ec2:VolumeIops": "20000" },
  });
});

test("the evaluator refuses operators it does not know, so no document passes untested", () => {
  const odd: IamStatement[] = [
    {
      Effect: "Allow",
      Action: "ec2:CreateVolume",
      Resource: "*",
      Condition: { DateLessThan: { "aws:CurrentTime": "2030-01-01" } },
    },
  ];
  expect(() => isAllowed(odd, createVolume("gp2", 1))).toThrow(/DateLessThan/);
});
