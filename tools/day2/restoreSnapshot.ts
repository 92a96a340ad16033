/**
 * The first change `npm run restore` makes: an EBS snapshot of the dataset's live volume, taken
 * before anything else, so that a failed or regretted restore is undone by restoring from it.
 * It carries the dataset's flocker-dataset-id tag (the restore accepts a snapshot only with it)
 * and the restore's own tag saying what it is; the wait for `completed` is bounded.
 */
import type { DatasetTag, Ec2 } from "./restoreVolume";

/** Marks a snapshot the restore took of what it was about to replace (value: the stack). */
export const PRE_RESTORE_SNAPSHOT_TAG = "swarm-flocker-pre-restore";

/** Snapshot states are polled this often, at most SNAPSHOT_WAIT_POLLS times (one hour: a first snapshot copies every block). */
export const SNAPSHOT_POLL_MS = 15_000;
export const SNAPSHOT_WAIT_POLLS = 240;

/** The one volume that carries the dataset's tag: Flocker's volume for it, or the stack's Spark dataset volume. */
export async function findDatasetVolume(ec2: Ec2, tag: DatasetTag): Promise<string> {
  const answer = (await ec2.aws([
    "ec2",
    "describe-volumes",
    "--region",
    ec2.region,
    "--filters",
    `Name=tag:${tag.key},Values=${tag.value}`,
  ])) as { Volumes?: Array<{ VolumeId: string }> };
  const volumes = answer?.Volumes ?? [];
  if (volumes.length !== 1) {
    const found = volumes.length === 0 ? "no volume" : `${volumes.length} volumes (${volumes.map((v) => v.VolumeId).join(", ")})`;
    throw new Error(
      `found ${found} tagged ${tag.key}=${tag.value} in ${ec2.region}, not one: the restore snapshots the dataset's volume before it changes anything, so it stops here`,
    );
  }
  return volumes[0].VolumeId;
}

/** Starts the snapshot of the dataset's volume; its id. */
export async function createPreRestoreSnapshot(
  ec2: Ec2,
  input: {
    readonly volumeId: string;
    readonly tag: DatasetTag;
    readonly stack: string;
    readonly dataset: string;
    readonly source: string;
  },
): Promise<string> {
  const tags = [
    { Key: "Name", Value: `${input.stack}-pre-restore-${input.dataset}` },
    { Key: input.tag.key, Value: input.tag.value },
    { Key: PRE_RESTORE_SNAPSHOT_TAG, Value: input.stack },
  ];
  const answer = (await ec2.aws([
    "ec2",
    "create-snapshot",
    "--region",
    ec2.region,
    "--volume-id",
    input.volumeId,
    "--description",
    `dataset ${input.dataset} of stack ${input.stack} before npm run restore from ${input.source}`,
    "--tag-specifications",
    JSON.stringify([{ ResourceType: "snapshot", Tags: tags }]),
  ])) as { SnapshotId?: string };
  if (!answer?.SnapshotId) throw new Error("create-snapshot answered without a SnapshotId");
  return answer.SnapshotId;
}

/** Polls until the snapshot is `completed`; at most SNAPSHOT_WAIT_POLLS polls. */
export async function waitUntilSnapshotCompleted(ec2: Ec2, snapshotId: string): Promise<void> {
  let state = "";
  let progress = "";
  for (let poll = 1; poll <= SNAPSHOT_WAIT_POLLS; poll++) {
    const answer = (await ec2.aws(["ec2", "describe-snapshots", "--region", ec2.region, "--snapshot-ids", snapshotId])) as {
      Snapshots?: Array<{ State?: string; Progress?: string }>;
    };
    state = answer?.Snapshots?.[0]?.State ?? "unknown";
    progress = answer?.Snapshots?.[0]?.Progress ?? "";
    if (state === "completed") return;
    if (state === "error" || state === "recoverable" || state === "unknown") {
      throw new Error(`snapshot ${snapshotId} of the dataset is ${state}, not completed`);
    }
    if (poll < SNAPSHOT_WAIT_POLLS) await ec2.sleep(SNAPSHOT_POLL_MS);
  }
  throw new Error(
    `snapshot ${snapshotId} of the dataset is still ${state}${progress ? ` (${progress})` : ""} ${(SNAPSHOT_WAIT_POLLS * SNAPSHOT_POLL_MS) / 60_000} minutes after it was started; wait for it (aws ec2 wait snapshot-completed --region ${ec2.region} --snapshot-ids ${snapshotId}), then run the restore again`,
  );
}
