import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SnapshotSchedule } from "../config/schema";
import { CONTROL_STATE_TAG } from "../lib/flockerControlState";
import { FLOCKER_CLUSTER_TAG } from "../lib/flockerIamPolicy";
import { SPARK_DATA_TAG } from "../lib/sparkData";

/** AWS's managed policy for Data Lifecycle Manager's snapshot policies (create, tag, delete). */
const DLM_SERVICE_POLICY = "policy/service-role/AWSDataLifecycleManagerServiceRole";

/**
 * Tags Flocker's EBS driver puts on every volume it creates (ClusterHQ/flocker
 * `flocker/node/agents/ebs.py`, `create_volume`): the cluster's UUID (CLUSTER_ID_LABEL, the CA's
 * OU), the dataset's id (DATASET_ID_LABEL) and `Name=flocker-<dataset id>`. Snapshots copy them,
 * which is how a restore finds a dataset's snapshots and how Flocker recognises the restored volume.
 */
const FLOCKER_VOLUME_TAGS = { clusterId: FLOCKER_CLUSTER_TAG, datasetId: "flocker-dataset-id" } as const;

export interface FlockerSnapshotsArgs {
  /**
   * What the policy snapshots. "flocker" (the book platform): the Flocker datasets and the control
   * service's state, by clusterId. "sparkData" (the current platform): the Spark dataset's volume
   * (components/sparkData.ts), by its SPARK_DATA_TAG, whose value is clusterName.
   * @default "flocker"
   */
  readonly datasets?: "flocker" | "sparkData";
  /**
   * The Flocker cluster UUID: the policy targets the EBS volumes Flocker tagged with it, and the
   * control service's state volume (components/flockerControlState.ts), tagged with it under its own
   * key. Required with datasets "flocker", refused with "sparkData".
   */
  readonly clusterId?: pulumi.Input<string>;
  /** For the policy's description, and the Spark dataset volume's tag value. */
  readonly clusterName: string;
  readonly schedule: SnapshotSchedule;
  /** Tags for the role and the policy, also added to every snapshot. @default {} */
  readonly tags?: Record<string, pulumi.Input<string>>;
}

/**
 * Scheduled EBS snapshots of this cluster's Flocker datasets and of the control service's state
 * (the record of which dataset is which): a Data Lifecycle Manager policy that targets the volumes
 * carrying this cluster's `flocker-cluster-id` tag (Flocker tags its volumes; the stack creates none
 * of them) or its control-state tag (the stack's one volume, which must not carry Flocker's tag),
 * every `intervalHours` from `time` (UTC), keeping the newest `retainCount` per volume, with the
 * volume's tags copied so that each snapshot names its dataset. DLM runs the policy with a role of
 * its own holding AWS's managed DLM policy.
 *
 * One policy with two target tags, not two policies: DLM targets the volumes that carry *any* of a
 * policy's target tags (pulumi-aws, `LifecyclePolicyPolicyDetails.targetTags`), and both kinds of
 * volume want the same schedule and retention, so a restore finds a dataset and the control state
 * of the same moments.
 *
 * On the current platform (`datasets: "sparkData"`) the same policy selects the one volume the
 * stack owns as the Spark dataset, by its swarm-flocker-spark-data tag (docs/storage.md).
 *
 * Snapshots outlive the stack: deleting the policy keeps them, and when a dataset's volume is
 * deleted DLM keeps its newest snapshot (docs/operations.md, "Snapshots and restoring a dataset").
 */
export class FlockerSnapshots extends pulumi.ComponentResource {
  public readonly policyId: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: FlockerSnapshotsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:snapshots:FlockerSnapshots", name, {}, opts);
    const tags = args.tags ?? {};
    const target = snapshotTarget(args);
    const partition = aws.getPartitionOutput({}, { parent: this });

    const role = new aws.iam.Role(
      `${name}-dlm-role`,
      {
        path: "/swarm-flocker/",
        description: `Data Lifecycle Manager: snapshots of the ${target.what} of ${args.clusterName}`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags: { ...tags, Name: `${name}-dlm-role` },
      },
      { parent: this },
    );
    const access = new aws.iam.RolePolicyAttachment(
      `${name}-dlm-access`,
      { role: role.name, policyArn: pulumi.interpolate`arn:${partition.partition}:iam::aws:${DLM_SERVICE_POLICY}` },
      { parent: role },
    );

    const { intervalHours, time, retainCount } = args.schedule;
    const policy = new aws.dlm.LifecyclePolicy(
      `${name}-policy`,
      {
        // DLM allows only letters, digits, spaces, '_' and '-' here (cluster names qualify).
        description: `Snapshots of the ${target.policyWhat} of ${args.clusterName}`,
        executionRoleArn: role.arn,
        state: "ENABLED",
        policyDetails: {
          policyType: "EBS_SNAPSHOT_MANAGEMENT",
          resourceTypes: ["VOLUME"],
          targetTags: target.tags,
          schedules: [
            {
              name: `Every ${intervalHours}h keep ${retainCount}`,
              createRule: { interval: intervalHours, intervalUnit: "HOURS", times: time },
              retainRule: { count: retainCount },
              copyTags: true,
              tagsToAdd: tags,
            },
          ],
        },
        tags: { ...tags, Name: `${name}-policy` },
      },
      { parent: this, dependsOn: [access] },
    );

    this.policyId = policy.id;
    this.roleArn = role.arn;
    this.registerOutputs({ policyId: this.policyId, roleArn: this.roleArn });
  }
}

/** What a policy selects, and how its descriptions name it. */
function snapshotTarget(args: FlockerSnapshotsArgs): {
  readonly tags: Record<string, pulumi.Input<string>>;
  readonly what: string;
  readonly policyWhat: string;
} {
  const datasets = args.datasets ?? "flocker";
  if (datasets === "sparkData") {
    if (args.clusterId !== undefined) throw new Error('FlockerSnapshots: clusterId is for datasets "flocker", not "sparkData"');
    // The one volume the stack tagged as its Spark dataset (DLM copies the tag to each snapshot).
    const what = "Spark dataset";
    return { tags: { [SPARK_DATA_TAG]: args.clusterName }, what, policyWhat: what };
  }
  if (args.clusterId === undefined)
    throw new Error('FlockerSnapshots: datasets "flocker" needs the Flocker cluster\'s clusterId');
  return {
    tags: { [FLOCKER_VOLUME_TAGS.clusterId]: args.clusterId, [CONTROL_STATE_TAG]: args.clusterId },
    what: "Flocker datasets",
    policyWhat: "Flocker datasets and control state",
  };
}
