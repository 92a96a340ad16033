/**
 * The Spark dataset of the current platform (docs/storage.md): an EBS volume the stack owns for the
 * cluster's life, attached to the Spark master's node, found there by its NVMe serial, mounted by
 * UUID and bound to the `spark` Docker volume the master mounts at /data. The program
 * (components/sparkData.ts), the node script (scripts/spark-data.sh, through its environment), the
 * snapshot policy and the day-2 tools share these facts from here.
 */

/**
 * The tag that marks the dataset's volume, with the cluster's name as its value: the snapshot
 * policy selects the volume by it, `npm run status` and `npm run restore` find it by it (with the
 * stack's Project and Stack tags), and snapshots copy it, which is how a restore tells the
 * dataset's snapshots from any other.
 */
export const SPARK_DATA_TAG = "swarm-flocker-spark-data";

/**
 * The device name the volume is attached under. On Nitro (every instance type the current platform
 * allows) the name is only an attachment slot: the node sees an NVMe namespace whose name depends
 * on the attachment order, so the node script finds the volume by its serial (sparkDataDeviceById)
 * and never by this name. /dev/sdf is the first of the names AWS recommends for data volumes.
 */
export const SPARK_DATA_DEVICE = "/dev/sdf";

/** Where the volume's file system is mounted on the Spark master's node. */
export const SPARK_DATA_MOUNT = "/srv/spark-data";

/** The Docker volume the master mounts at /data (the book's name, kept). */
export const SPARK_DATA_VOLUME_NAME = "spark";

/**
 * The uid apache/spark's images run as (their Dockerfile: `ARG spark_uid=185`, `USER ${spark_uid}`):
 * the owner of the dataset's directory, so that the master can write to /data.
 */
export const SPARK_DATA_UID = 185;

/**
 * The link udev makes for an EBS volume on a Nitro instance: the NVMe controller's model is
 * "Amazon Elastic Block Store" and its serial the volume id without its dash.
 */
export function sparkDataDeviceById(volumeId: string): string {
  return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;
}

/** The dataset's volume as AWS describes it, for the check before anything changes. */
export interface DeployedSparkData {
  readonly volumeId: string;
  readonly availabilityZone: string;
  readonly sizeGiB: number;
  readonly encrypted: boolean;
}

/** What the configuration asks of the volume. */
export interface PlannedSparkData {
  readonly availabilityZone: string;
  readonly sizeGiB: number;
}

/**
 * Why the deployed dataset's volume cannot become the planned one, or undefined when it can. AWS
 * moves a volume to another zone only by replacing it (a new, empty volume: the data would be
 * gone), and never shrinks one (ModifyVolume refuses a smaller size, half-way through an update).
 * Both are refused before any resource is registered, naming the key, the values and what to do.
 */
export function sparkDataRefusal(deployed: DeployedSparkData | undefined, planned: PlannedSparkData): string | undefined {
  if (deployed === undefined) return undefined;
  const problems: string[] = [];
  if (deployed.availabilityZone !== planned.availabilityZone) {
    problems.push(
      `availabilityZone: "${planned.availabilityZone}" would replace the Spark dataset's volume ${deployed.volumeId} in ` +
        `${deployed.availabilityZone} with an empty one (an EBS volume cannot move between zones). Keep ` +
        `availabilityZone ${deployed.availabilityZone}; to move the cluster, deploy a new stack in the other zone and ` +
        `copy the data over from a snapshot (docs/storage.md, "Moving or shrinking the dataset")`,
    );
  }
  if (planned.sizeGiB < deployed.sizeGiB) {
    problems.push(
      `sparkVolumeSize: ${planned.sizeGiB} GiB is smaller than the deployed volume ${deployed.volumeId} ` +
        `(${deployed.sizeGiB} GiB), and EBS volumes only grow. Keep ${deployed.sizeGiB}G or more; for a smaller ` +
        `volume, deploy a new stack and copy the data over (docs/storage.md, "Moving or shrinking the dataset")`,
    );
  }
  if (!deployed.encrypted) {
    problems.push(
      `the Spark dataset's volume ${deployed.volumeId} is not encrypted, and the program would replace it with an ` +
        `encrypted, empty one: this stack did not create it that way (is its ${SPARK_DATA_TAG} tag on another volume?)`,
    );
  }
  if (problems.length === 0) return undefined;
  return `The deployed Spark dataset would be lost:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}
