/**
 * The least-privilege IAM policy of the Flocker dataset agents (the EC2 calls its EBS driver
 * makes, listed in docs/flocker.md, and nothing else). What it allows, and what a leaked key could still do:
 *
 * - Describe* on "*": these calls support no resource-level permissions; read-only, one region.
 * - CreateVolume only of the three types Flocker's profiles use (io1, gp2, standard), at most the
 *   largest size and IOPS those profiles ever request (lib/ebsProfiles.ts).
 * - CreateTags only on a volume that carries no flocker-cluster-id tag yet, only with Flocker's own
 *   four keys, and only tagging it into this cluster: a volume of another Flocker cluster cannot
 *   be claimed, nor the control service's state volume (it carries CONTROL_STATE_TAG instead).
 * - Attach, detach and delete only volumes and instances tagged with this cluster's id (the stack
 *   tags its instances the same way).
 *
 * The gap that stays (docs/security.md): Flocker creates a volume and tags it in a second call
 * (ebs.py create_volume_with_profile), so the key must be allowed to tag volumes that have no
 * cluster tag yet. A leaked key can therefore tag any *untagged* volume of the account and region
 * into the cluster, and then detach or delete it. Tag-on-create (CreateVolume TagSpecifications
 * with ec2:CreateAction) would close it, but Flocker 1.15 does not use it.
 */
import { STORAGE_PROFILES } from "./ebsProfiles";
import { CONTROL_STATE_TAG } from "./flockerControlState";

/**
 * Marks the one IAM user allowed to hold an access key (the policy pack checks it): Flocker 1.15
 * cannot use an instance role, so its dataset agents need a static key.
 */
export const FLOCKER_USER_PURPOSE_TAG = { key: "Purpose", value: "flocker-ebs-backend" } as const;

/** The tag Flocker puts on its volumes (and we on our instances). */
export const FLOCKER_CLUSTER_TAG = "flocker-cluster-id";

/** Every tag Flocker 1.15 writes, all in the one CreateTags call after CreateVolume (ebs.py). */
const FLOCKER_VOLUME_TAG_KEYS = ["flocker-metadata-version", FLOCKER_CLUSTER_TAG, "flocker-dataset-id", "Name"] as const;

const profiles = Object.values(STORAGE_PROFILES);
/** The volume types of Flocker's gold, silver and bronze profiles. */
const FLOCKER_VOLUME_TYPES: readonly string[] = [...new Set(profiles.map((p) => p.volumeType))];
/** The largest volume any profile requests, GiB. */
const FLOCKER_MAX_VOLUME_GIB = Math.max(...profiles.map((p) => p.maxGiB));
/** The most IOPS any profile requests (gold: 30 per GiB, capped). */
const FLOCKER_MAX_VOLUME_IOPS = Math.max(...profiles.map((p) => p.iopsFor(p.maxGiB) ?? 0));

const FLOCKER_EC2_ACTIONS = {
  describe: ["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeVolumes"],
  create: ["ec2:CreateVolume"],
  tag: ["ec2:CreateTags"],
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
  /** Operator → condition key → value(s), as IAM spells them. */
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
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
        Sid: "CreateVolumesOfFlockerProfilesOnly",
        Effect: "Allow",
        Action: [...FLOCKER_EC2_ACTIONS.create],
        Resource: arn("volume/*"),
        Condition: {
          StringEquals: { "ec2:VolumeType": [...FLOCKER_VOLUME_TYPES] },
          NumericLessThanEquals: { "ec2:VolumeSize": String(FLOCKER_MAX_VOLUME_GIB) },
          // Only io1 requests carry IOPS.
          NumericLessThanEqualsIfExists: { "ec2:VolumeIops": String(FLOCKER_MAX_VOLUME_IOPS) },
        },
      },
      {
        Sid: "TagUnclaimedVolumesIntoThisClusterOnly",
        Effect: "Allow",
        Action: [...FLOCKER_EC2_ACTIONS.tag],
        Resource: arn("volume/*"),
        Condition: {
          Null: { [`ec2:ResourceTag/${FLOCKER_CLUSTER_TAG}`]: "true", [`ec2:ResourceTag/${CONTROL_STATE_TAG}`]: "true" },
          StringEquals: { [`aws:RequestTag/${FLOCKER_CLUSTER_TAG}`]: input.clusterId },
          "ForAllValues:StringEquals": { "aws:TagKeys": [...FLOCKER_VOLUME_TAG_KEYS] },
        },
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
