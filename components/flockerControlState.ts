import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { CONTROL_STATE_DEVICE, CONTROL_STATE_DIR, CONTROL_STATE_MOUNT, CONTROL_STATE_TAG } from "../lib/flockerControlState";
import { FLOCKER_CLUSTER_TAG } from "../lib/flockerIamPolicy";
import { NodeHost } from "./nodeHost";
import { scriptStep } from "./remoteStep";

/**
 * How long the volume's delete may retry while the volume is still attached: with the attachment's
 * skipDestroy, a destroy detaches it only by terminating the control node, which the volume's
 * delete does not wait for (the provider retries DeleteVolume on VolumeInUse up to this bound).
 */
const VOLUME_DELETE_TIMEOUT = "20m";

export interface FlockerControlStateArgs {
  /** The control node: the volume is attached to its instance, and mounted there. */
  readonly host: NodeHost;
  /** The cluster's zone: an EBS volume attaches only to instances in its own zone. */
  readonly availabilityZone: string;
  /** flockerControlVolumeSizeGiB. */
  readonly sizeGiB: number;
  /** The Flocker cluster UUID: the value of CONTROL_STATE_TAG, which the snapshot policy selects by. */
  readonly clusterId: pulumi.Input<string>;
  /** Name/Stack/Cluster… for the volume; never the Flocker cluster tag. */
  readonly tags: Record<string, pulumi.Input<string>>;
  /** flockerInstall: where the state was before (migrated once) and how the service reaches it. */
  readonly install: "containers" | "packages";
  /** What must have run on the node before the state moves (Docker; the packages' install). */
  readonly after: readonly pulumi.Resource[];
}

/**
 * The Flocker control service's state (which dataset is which, its size and profile) on an EBS
 * volume whose life is the cluster's, not the control node's: the volume outlives any instance,
 * the attachment follows the control node's instance (a replaced instance gets a new attachment of
 * the same volume), and the mount step (scripts/flocker-control-volume.sh) formats it once, moves
 * the state that was on the node onto it, and mounts it where the control service reads its state.
 * A replaced control node mounts the same file system, and its control service comes back with the
 * datasets it knew.
 */
export class FlockerControlState extends pulumi.ComponentResource {
  public readonly volumeId: pulumi.Output<string>;
  /** The volume is mounted and holds the state: the control service may start. */
  public readonly mounted: command.remote.Command;

  constructor(name: string, args: FlockerControlStateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:flocker:FlockerControlState", name, {}, opts);
    if (FLOCKER_CLUSTER_TAG in args.tags) {
      throw new Error(
        `the control-state volume must not carry the tag ${FLOCKER_CLUSTER_TAG}: Flocker would take it for one of its datasets`,
      );
    }

    const volume = new aws.ebs.Volume(
      `${name}-volume`,
      {
        availabilityZone: args.availabilityZone,
        size: args.sizeGiB,
        type: "gp3",
        encrypted: true,
        tags: { ...args.tags, Name: `${name}-volume`, [CONTROL_STATE_TAG]: args.clusterId },
      },
      { parent: this, customTimeouts: { delete: VOLUME_DELETE_TIMEOUT } },
    );

    // The instance id is the attachment's replace-on-change input: a replaced control node gets a
    // new attachment; the volume is not touched. skipDestroy: the old attachment is only forgotten,
    // and the volume is detached by the instance's termination, which shuts the node down (and so
    // unmounts the file system) first. A plain detach would hang while the file system is mounted
    // (terraform-provider-aws ebs_volume_attachment.go waits up to its delete timeout in
    // "detaching", then fails the update); forceDetach would detach it under a running control
    // service, risking the very state this volume keeps; stopInstanceBeforeDetaching stops an
    // instance that is terminated right after anyway, and leaves it stopped when only the volume
    // changes.
    const attachment = new aws.ec2.VolumeAttachment(
      `${name}-attachment`,
      {
        deviceName: CONTROL_STATE_DEVICE,
        volumeId: volume.id,
        instanceId: args.host.instance.id,
        skipDestroy: true,
      },
      // A volume attaches to one instance at a time: the old attachment goes first.
      { parent: this, deleteBeforeReplace: true },
    );

    // The node's own step (replaced with the instance), with no delete: a delete that runs on the
    // node would block when the node is unreachable, and the node is terminated right after.
    this.mounted = scriptStep(
      `${name}-mount`,
      {
        target: args.host.target,
        script: "flocker-control-volume.sh",
        env: {
          CONTROL_STATE_DEVICE,
          CONTROL_STATE_MOUNT,
          CONTROL_STATE_DIR,
          CONTROL_STATE_VOLUME_ID: volume.id,
          FLOCKER_INSTALL: args.install,
        },
        dependsOn: [attachment, ...args.after],
      },
      this,
    );

    this.volumeId = volume.id;
    this.registerOutputs({ volumeId: this.volumeId });
  }
}
