import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  SPARK_DATA_DEVICE,
  SPARK_DATA_MOUNT,
  SPARK_DATA_TAG,
  SPARK_DATA_UID,
  SPARK_DATA_VOLUME_NAME,
  sparkDataRefusal,
  type DeployedSparkData,
} from "../lib/sparkData";
import type { NodeHost } from "./nodeHost";
import { scriptStep } from "./remoteStep";

/**
 * How long the volume's delete may retry while the volume is still attached: with the attachment's
 * skipDestroy, a destroy detaches it only by terminating the Spark master's node, which the
 * volume's delete does not wait for (the provider retries DeleteVolume on VolumeInUse up to this
 * bound).
 */
const VOLUME_DELETE_TIMEOUT = "20m";

export interface SparkDataArgs {
  /** The Spark master's node: the volume is attached to its instance and mounted there. */
  readonly host: Pick<NodeHost, "instance" | "target">;
  /** The cluster's zone: an EBS volume attaches only to instances in its own zone. */
  readonly availabilityZone: string;
  /** sparkVolumeSize, in GiB. */
  readonly sizeGiB: number;
  /** The cluster's name: the value of SPARK_DATA_TAG, which the snapshot policy and the day-2 tools select by. */
  readonly clusterName: string;
  /** Project/Stack/Cluster tags for the volume (Name and SPARK_DATA_TAG are added). */
  readonly tags: Record<string, pulumi.Input<string>>;
  /** What must have run on the node before the volume is mounted there (Docker). */
  readonly after: readonly pulumi.Resource[];
}

/**
 * The Spark dataset of the current platform (docs/storage.md): an encrypted gp3 EBS volume whose
 * life is the cluster's, attached to the Spark master's node, where scripts/spark-data.sh finds it
 * by its NVMe serial, formats it only when blank, mounts it by UUID and binds the `spark` Docker
 * volume to it.
 *
 * Replacing the master's node never touches the volume: the attachment (replaced with the
 * instance, the old one first, since a volume attaches to one instance at a time) is only
 * forgotten on delete, and the old instance's termination detaches the volume after its shutdown
 * has unmounted the file system; the new attachment and the data step's create on the new node
 * follow. The data step belongs to the cluster (`lifecycle: "cluster"`): its delete, `release`,
 * runs only when the dataset goes (a destroy), on the node that holds it then — never against a
 * replaced node, which may be gone. The volume itself is deleted only by a destroy; a change AWS
 * could only make by replacing it is refused before anything is registered (checkDeployedSparkData).
 *
 * `ready` is the data step: the `spark` Docker volume on the master's node is the bound EBS
 * volume. The master's service and the node's `sparkmaster` label wait for it, so the master's
 * task never starts where Docker would make an empty local `spark` volume instead.
 */
export class SparkData extends pulumi.ComponentResource {
  public readonly volumeId: pulumi.Output<string>;
  /** The volume is mounted and bound to the `spark` Docker volume on the master's node. */
  public readonly ready: command.remote.Command;

  constructor(name: string, args: SparkDataArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:spark:SparkData", name, {}, opts);

    const volume = new aws.ebs.Volume(
      `${name}-volume`,
      {
        availabilityZone: args.availabilityZone,
        size: args.sizeGiB,
        type: "gp3",
        encrypted: true,
        tags: { ...args.tags, Name: `${name}-volume`, [SPARK_DATA_TAG]: args.clusterName },
      },
      { parent: this, customTimeouts: { delete: VOLUME_DELETE_TIMEOUT } },
    );

    // The instance id is the attachment's replace-on-change input: a replaced master node gets a
    // new attachment; the volume is not touched. skipDestroy: the old attachment is only
    // forgotten, and the volume is detached by the instance's termination, which shuts the node
    // down (and so unmounts the file system) first. A plain detach would hang while the file
    // system is mounted (terraform-provider-aws ebs_volume_attachment.go waits in "detaching" up
    // to its delete timeout, then fails the update); forceDetach would pull it from under a
    // running master; stopInstanceBeforeDetaching would stop the node and leave it stopped when
    // only the attachment is replaced (docs/storage.md, "Replacing the master's node").
    const attachment = new aws.ec2.VolumeAttachment(
      `${name}-attachment`,
      {
        deviceName: SPARK_DATA_DEVICE,
        volumeId: volume.id,
        instanceId: args.host.instance.id,
        skipDestroy: true,
      },
      // A volume attaches to one instance at a time: the old attachment goes first.
      { parent: this, deleteBeforeReplace: true },
    );

    this.ready = scriptStep(
      `${name}-mount`,
      {
        target: args.host.target,
        script: "spark-data.sh",
        action: "create",
        env: {
          VOLUME_ID: volume.id,
          MOUNT_POINT: SPARK_DATA_MOUNT,
          VOLUME_NAME: SPARK_DATA_VOLUME_NAME,
          DATA_UID: SPARK_DATA_UID,
        },
        // The dataset is the cluster's, not the node's: a replaced node re-runs the create on its
        // successor (which finds the volume's file system and mounts it as it is) and never the
        // release against the old node, which a replacement must not need.
        deleteAction: "release",
        deleteBeforeReplace: true,
        lifecycle: "cluster",
        dependsOn: [attachment, ...args.after],
      },
      this,
    );

    this.volumeId = volume.id;
    this.registerOutputs({ volumeId: this.volumeId });
  }
}

/** The one volume of this stack tagged as its Spark dataset, as AWS describes it; undefined before the first deployment. */
async function deployedSparkData(
  clusterName: string,
  stack: { readonly project: string; readonly stack: string },
): Promise<DeployedSparkData | undefined> {
  const found = await aws.ebs.getEbsVolumes({
    filters: [
      { name: `tag:${SPARK_DATA_TAG}`, values: [clusterName] },
      { name: "tag:Project", values: [stack.project] },
      { name: "tag:Stack", values: [stack.stack] },
    ],
  });
  if (found.ids.length === 0) return undefined;
  if (found.ids.length > 1) {
    throw new pulumi.RunError(
      `${found.ids.length} volumes are tagged as the Spark dataset of stack ${stack.stack} (${SPARK_DATA_TAG}=${clusterName}): ` +
        `${found.ids.join(", ")}. The stack owns one; remove the tag from the others (aws ec2 delete-tags) before pulumi up`,
    );
  }
  const volume = await aws.ebs.getVolume({ filters: [{ name: "volume-id", values: [found.ids[0]] }] });
  return {
    volumeId: volume.volumeId,
    availabilityZone: volume.availabilityZone,
    sizeGiB: volume.size,
    encrypted: volume.encrypted,
  };
}

/**
 * Before any resource: refuses a configuration under which the deployed dataset's volume would be
 * replaced (another zone) or could not be modified (a smaller size) — lib/sparkData.ts says why.
 * The volume is found in AWS by its tags; none means a first deployment, which passes.
 */
export async function checkDeployedSparkData(planned: {
  readonly project: string;
  readonly stack: string;
  readonly clusterName: string;
  readonly availabilityZone: string;
  readonly sizeGiB: number;
}): Promise<void> {
  const refusal = sparkDataRefusal(await deployedSparkData(planned.clusterName, planned), planned);
  if (refusal !== undefined) throw new pulumi.RunError(refusal);
}
