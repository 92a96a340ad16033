/**
 * The EC2 side of `npm run restore`: the snapshot checked against the dataset, the Spark master's
 * instance found, and the restore volume's short life — made from the snapshot in that instance's
 * zone, attached, detached, deleted —, every wait bounded. Calls go through the AWS CLI
 * (tools/common/awsCli.ts) with the operator's credentials.
 */
import { AwsCliError, type AwsRunner } from "../common/awsCli";

/** The tag Flocker's EBS driver gives a dataset's volume; the snapshot policy copies it to the snapshots. */
export const FLOCKER_DATASET_TAG = "flocker-dataset-id";

/**
 * The tag that names a dataset on its volume and on every snapshot of it, with its value: a Flocker
 * dataset's FLOCKER_DATASET_TAG and id (book), the Spark dataset volume's swarm-flocker-spark-data
 * and the cluster's name (current, lib/sparkData.ts).
 */
export interface DatasetTag {
  readonly key: string;
  readonly value: string;
}
/** Marks the restore's own volume (value: the stack), so that a kept or left-over one is found. */
export const RESTORE_VOLUME_TAG = "swarm-flocker-restore";
/**
 * Where the restore volume is attached. Flocker attaches its datasets at the lowest free letter
 * of /dev/sd[f-z] and the Flocker control state volume sits at /dev/sdz: y stays clear of both.
 */
export const RESTORE_DEVICE = "/dev/sdy";
/** How a Xen instance — the only kind Flocker's EBS driver supports — shows RESTORE_DEVICE. */
export const RESTORE_DEVICE_ON_NODE = "/dev/xvdy";

/** Volume states are polled this often, at most VOLUME_WAIT_POLLS times (5 minutes). */
const VOLUME_POLL_MS = 5_000;
const VOLUME_WAIT_POLLS = 60;

const SNAPSHOT_ID = /^snap-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** The snapshot cannot be restored into the dataset: nothing was changed. */
export class SnapshotRefused extends Error {}

/** The AWS CLI, the stack's region, and how to wait between polls (the tests do not). */
export interface Ec2 {
  readonly aws: AwsRunner;
  readonly region: string;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface Snapshot {
  readonly id: string;
  readonly state: string;
  readonly progress: string;
  readonly sizeGiB: number;
  readonly startTime: string;
  /** Its dataset tag's value (flocker-dataset-id, or swarm-flocker-spark-data), when it has one. */
  readonly datasetId: string | undefined;
}

interface Tag {
  readonly Key: string;
  readonly Value: string;
}

/** `snap-` and 8 or 17 hex digits, as EC2 names snapshots. */
export function isSnapshotId(id: string): boolean {
  return SNAPSHOT_ID.test(id);
}

/** How the operator finds the dataset's snapshots. */
function listSnapshotsCommand(region: string, tag: DatasetTag): string {
  return `aws ec2 describe-snapshots --region ${region} --owner-ids self --filters Name=tag:${tag.key},Values=${tag.value}`;
}

export async function describeSnapshot(ec2: Ec2, snapshotId: string, tag: DatasetTag): Promise<Snapshot> {
  let answer: { Snapshots?: Array<Record<string, unknown>> };
  try {
    answer = (await ec2.aws([
      "ec2",
      "describe-snapshots",
      "--region",
      ec2.region,
      "--snapshot-ids",
      snapshotId,
    ])) as typeof answer;
  } catch (error) {
    if (error instanceof AwsCliError && error.code === "InvalidSnapshot.NotFound") {
      throw new SnapshotRefused(
        `snapshot ${snapshotId} does not exist in ${ec2.region} (or this account cannot see it); the dataset's snapshots: ${listSnapshotsCommand(ec2.region, tag)}`,
      );
    }
    throw error;
  }
  const found = answer?.Snapshots?.[0];
  if (!found) throw new SnapshotRefused(`snapshot ${snapshotId} does not exist in ${ec2.region}`);
  const tags = (found.Tags ?? []) as Tag[];
  return {
    id: String(found.SnapshotId),
    state: String(found.State),
    progress: String(found.Progress ?? ""),
    sizeGiB: Number(found.VolumeSize),
    startTime: String(found.StartTime ?? ""),
    datasetId: tags.find((t) => t.Key === tag.key)?.Value,
  };
}

/** Refuses a snapshot that is not complete or not of this dataset, naming both ids. */
export function checkSnapshot(
  snapshot: Snapshot,
  dataset: { readonly name: string; readonly tag: DatasetTag },
  region: string,
): void {
  const { key, value } = dataset.tag;
  const list = `the dataset's snapshots: ${listSnapshotsCommand(region, dataset.tag)}`;
  if (snapshot.datasetId === undefined) {
    throw new SnapshotRefused(
      `snapshot ${snapshot.id} has no ${key} tag, so nothing says it holds dataset ${dataset.name} (${value}); ${list}`,
    );
  }
  if (snapshot.datasetId !== value) {
    throw new SnapshotRefused(
      `snapshot ${snapshot.id} is of dataset ${snapshot.datasetId} (its ${key} tag), not of dataset ${dataset.name} (${value}); ${list}`,
    );
  }
  if (snapshot.state !== "completed") {
    throw new SnapshotRefused(
      `snapshot ${snapshot.id} is ${snapshot.state}${snapshot.progress ? ` (${snapshot.progress})` : ""}, not completed: wait for it (aws ec2 wait snapshot-completed --region ${region} --snapshot-ids ${snapshot.id}) or pick a completed one`,
    );
  }
}

export interface NodeInstance {
  readonly instanceId: string;
  readonly zone: string;
}

/** The running instance of node `name` of this stack (its Name, Stack and Project tags, its private address). */
export async function findNodeInstance(
  ec2: Ec2,
  node: { readonly name: string; readonly privateIp: string },
  stack: { readonly name: string; readonly project: string },
): Promise<NodeInstance> {
  const answer = (await ec2.aws([
    "ec2",
    "describe-instances",
    "--region",
    ec2.region,
    "--filters",
    `Name=private-ip-address,Values=${node.privateIp}`,
    `Name=tag:Name,Values=${node.name}`,
    `Name=tag:Stack,Values=${stack.name}`,
    `Name=tag:Project,Values=${stack.project}`,
    "Name=instance-state-name,Values=running",
  ])) as { Reservations?: Array<{ Instances?: Array<{ InstanceId: string; Placement?: { AvailabilityZone?: string } }> }> };
  const instances = (answer?.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  if (instances.length !== 1) {
    const found = instances.length === 0 ? "no running instance" : `${instances.length} running instances, not one,`;
    throw new Error(
      `found ${found} of node ${node.name} (${node.privateIp}, tagged Stack=${stack.name}, Project=${stack.project}) in ${ec2.region}: check the stack's region and the node (npm run status -- --stack ${stack.name})`,
    );
  }
  const zone = instances[0].Placement?.AvailabilityZone;
  if (!zone) throw new Error(`describe-instances gave no availability zone for ${instances[0].InstanceId}`);
  return { instanceId: instances[0].InstanceId, zone };
}

/**
 * A volume made from the snapshot, in the node's zone, encrypted. It carries none of Flocker's
 * tags: a second volume with the cluster's flocker-cluster-id would be taken for a dataset (and
 * snapshotted by the policy); its own tag marks it as the stack's restore volume instead.
 */
export async function createRestoreVolume(
  ec2: Ec2,
  input: { readonly snapshotId: string; readonly zone: string; readonly stack: string; readonly dataset: string },
): Promise<string> {
  const tags = [
    { Key: "Name", Value: `${input.stack}-restore-${input.dataset}-${input.snapshotId}` },
    { Key: RESTORE_VOLUME_TAG, Value: input.stack },
  ];
  const answer = (await ec2.aws([
    "ec2",
    "create-volume",
    "--region",
    ec2.region,
    "--snapshot-id",
    input.snapshotId,
    "--availability-zone",
    input.zone,
    "--volume-type",
    "gp3",
    "--encrypted",
    "--tag-specifications",
    JSON.stringify([{ ResourceType: "volume", Tags: tags }]),
  ])) as { VolumeId?: string };
  if (!answer?.VolumeId) throw new Error("create-volume answered without a VolumeId");
  return answer.VolumeId;
}

interface VolumeView {
  readonly State: string;
  readonly Attachments?: ReadonlyArray<{ readonly State: string }>;
}

async function describeVolume(ec2: Ec2, volumeId: string): Promise<VolumeView> {
  const answer = (await ec2.aws(["ec2", "describe-volumes", "--region", ec2.region, "--volume-ids", volumeId])) as {
    Volumes?: VolumeView[];
  };
  const volume = answer?.Volumes?.[0];
  if (!volume) throw new Error(`describe-volumes does not know ${volumeId}`);
  return volume;
}

/** Polls until the volume is `available` (made, or detached again); at most VOLUME_WAIT_POLLS polls. */
export async function waitUntilAvailable(ec2: Ec2, volumeId: string, what: string): Promise<void> {
  let state = "";
  for (let poll = 1; poll <= VOLUME_WAIT_POLLS; poll++) {
    state = (await describeVolume(ec2, volumeId)).State;
    if (state === "available") return;
    if (state === "error" || state === "deleted" || state === "deleting") {
      throw new Error(`${volumeId} is ${state} while waiting for it to be ${what}`);
    }
    if (poll < VOLUME_WAIT_POLLS) await ec2.sleep(VOLUME_POLL_MS);
  }
  throw new Error(
    `${volumeId} is still ${state}, not available, ${(VOLUME_WAIT_POLLS * VOLUME_POLL_MS) / 1000} s after it was ${what}`,
  );
}

export async function attachRestoreVolume(ec2: Ec2, volumeId: string, instanceId: string): Promise<void> {
  await ec2.aws([
    "ec2",
    "attach-volume",
    "--region",
    ec2.region,
    "--volume-id",
    volumeId,
    "--instance-id",
    instanceId,
    "--device",
    RESTORE_DEVICE,
  ]);
}

/** Detaches the volume and waits until it is available; one that is not attached is left as it is. */
export async function detachRestoreVolume(ec2: Ec2, volumeId: string): Promise<void> {
  try {
    await ec2.aws(["ec2", "detach-volume", "--region", ec2.region, "--volume-id", volumeId]);
  } catch (error) {
    // An attach that never happened: the volume is 'available' already.
    if (!(error instanceof AwsCliError && error.code === "IncorrectState" && /'available'/.test(error.message))) throw error;
  }
  await waitUntilAvailable(ec2, volumeId, "detached");
}

export async function deleteRestoreVolume(ec2: Ec2, volumeId: string): Promise<void> {
  await ec2.aws(["ec2", "delete-volume", "--region", ec2.region, "--volume-id", volumeId]);
}

/** How the operator deletes a volume the restore could not. */
export function deleteVolumeCommand(region: string, volumeId: string): string {
  return `aws ec2 delete-volume --region ${region} --volume-id ${volumeId}`;
}
