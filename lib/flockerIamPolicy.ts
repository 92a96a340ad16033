/**
 * The least-privilege IAM policy of the Flocker dataset agents: the EC2 calls its EBS driver makes
 * (listed in docs/flocker.md), and nothing else.
 *
 * Flocker tags every volume it creates with `flocker-cluster-id`; the stack tags its instances the
 * same way. Mutating calls on existing volumes and instances are therefore limited to this
 * cluster's. The three Describe calls do not support resource-level permissions in IAM, so they
 * need `Resource: "*"`; they are read-only and limited to the stack's region.
 */

/**
 * Marks the one IAM user allowed to hold an access key (the policy pack checks it): Flocker 1.15
 * cannot use an instance role, so its dataset agents need a static key.
 */
export const FLOCKER_USER_PURPOSE_TAG = { key: "Purpose", value: "flocker-ebs-backend" } as const;

/** The tag Flocker puts on its volumes (and we on our instances). */
export const FLOCKER_CLUSTER_TAG = "flocker-cluster-id";

export const FLOCKER_EC2_ACTIONS = {
  describe: ["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeVolumes"],
  create: ["ec2:CreateVolume", "ec2:CreateTags"],
  manage: ["ec2:AttachVolume", "ec2:DetachVolume", "ec2:DeleteVolume"],
} as const;

export interface FlockerPolicyInput {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly clusterId: string;
}

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

export function flockerPolicyDocument(input: FlockerPolicyInput): PolicyDocument {
  const arn = (resource: string) => `arn:${input.partition}:ec2:${input.region}:${input.accountId}:${resource}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DescribeIsReadOnlyAndCannotBeScoped",
        Effect: "Allow",
        Action: [...FLOCKER_EC2_ACTIONS.describe],
        Resource: "*",
        Condition: { StringEquals: { "aws:RequestedRegion": input.region } },
      },
      {
        Sid: "CreateAndTagVolumes",
        Effect: "Allow",
        Action: [...FLOCKER_EC2_ACTIONS.create],
        Resource: arn("volume/*"),
      },
      {
        Sid: "ManageThisClustersVolumesOnThisClustersInstances",
        Effect: "Allow",
        Action: [...FLOCKER_EC2_ACTIONS.manage],
        Resource: [arn("volume/*"), arn("instance/*")],
        Condition: { StringEquals: { [`ec2:ResourceTag/${FLOCKER_CLUSTER_TAG}`]: input.clusterId } },
      },
    ],
  };
}
