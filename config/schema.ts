/**
 * The configuration contract: every key the stack reads, its type, default and meaning.
 *
 * This table is the single source for `Pulumi.yaml`'s project config schema (a test keeps the two
 * identical), for the config reference (docs/configuration.md) and for the validator. Keys are flat so that
 * `pulumi config set KEY VALUE` works for each of them.
 */

import { CURRENT_SPARK_IMAGE, PLATFORMS } from "../lib/platform";
import {
  STORAGE_PROFILE_NAMES,
  type FlockerImages,
  type FlockerPackageSource,
  type FlockerSource,
  type SnapshotSchedule,
  type StorageProfileName,
} from "../lib/clusterTypes";

/** The value types Pulumi's project config schema can express. */
export type ConfigKeyType = "string" | "integer" | "boolean" | "array";

/** ClusterConfig fields that combine several keys; a key marked `partOf` one is not a field itself. */
type CombinedField = "flocker" | "snapshots";

export interface ConfigKeySpec {
  readonly type: ConfigKeyType;
  /** Absent for required keys. */
  readonly default?: string | number | boolean | readonly string[];
  readonly description: string;
  /** The only values the key takes; its ClusterConfig field is typed as their union. */
  readonly values?: readonly string[];
  /** An empty value means "not set": the ClusterConfig field is then left out. */
  readonly emptyIsUnset?: true;
  /** The key is folded, with others, into this ClusterConfig field. */
  readonly partOf?: CombinedField;
}

export const CONFIG_SCHEMA = {
  platform: {
    type: "string",
    values: PLATFORMS,
    default: "book",
    description:
      "Which cluster this stack builds (docs/platforms.md): book (the chapter as written: Flocker, Ubuntu 16.04/18.04, Xen types) or current (the same Swarm and Spark on Ubuntu 24.04, Nitro types, IMDSv2 and a Pulumi-owned EBS volume for the Spark data; no Flocker). Keys of one platform are refused on the other.",
  },
  clusterName: {
    type: "string",
    default: "",
    description:
      "Name of the Flocker cluster (the CA certificate's common name) and prefix of AWS resource names. Empty: the stack name.",
  },
  availabilityZone: {
    type: "string",
    default: "us-east-1a",
    description: "The one availability zone of every node; Flocker's EBS volumes attach only within it. Must be in aws:region.",
  },
  nodeCount: {
    type: "integer",
    default: 10,
    description:
      "Number of EC2 nodes (aws-101 ... ). The first managerCount are Swarm managers, the next runs the Flocker control service, the next is the Spark master's worker, the rest are workers.",
  },
  managerCount: {
    type: "integer",
    default: 3,
    description: "Number of Swarm managers: odd (Raft quorum), and at most nodeCount - 2.",
  },
  nodeNamePrefix: {
    type: "string",
    default: "aws-",
    description: "Node name and hostname prefix; nodes are numbered from firstNodeNumber.",
  },
  firstNodeNumber: {
    type: "integer",
    default: 101,
    description: "Number of the first node (the book's aws-101).",
  },
  instanceType: {
    type: "string",
    default: "t2.medium",
    description:
      "EC2 instance type. Must be a Xen type (t2, m4, c4, r4, ...): Flocker's EBS driver only finds /dev/xvd* devices, not NVMe.",
  },
  adminCidrs: {
    type: "array",
    description:
      'CIDRs allowed to reach SSH and the Flocker REST API (required; e.g. ["203.0.113.7/32"]): each at most a /24 (IPv4) or /56 (IPv6), 4 such blocks in all, unless allowWideAdminCidrs. Spark\'s ports: npm run ssh -- --tunnel.',
  },
  allowWideAdminCidrs: {
    type: "boolean",
    default: false,
    description:
      "Opt-in that lifts adminCidrs' ceiling (a /24 or /56 per entry, 4 such blocks in all) up to a /8 of public IPv4 or a /32 of public IPv6 in all. Never the whole internet.",
  },
  allowPublicAdminAccess: {
    type: "boolean",
    default: false,
    description: "Retired: true is refused (the whole internet never reaches SSH or the Flocker API). Leave it unset.",
  },
  vpcCidr: {
    type: "string",
    default: "172.31.0.0/16",
    description:
      "CIDR of the stack's own VPC. Must not overlap overlaySubnet, swarmAddressPool (Swarm's ingress network is its first block) or Docker's bridges (172.17.0.0/16, 172.18.0.0/16).",
  },
  subnetCidr: {
    type: "string",
    default: "172.31.0.0/20",
    description: "CIDR of the nodes' subnet, inside vpcCidr.",
  },
  nodeIpOffset: {
    type: "integer",
    default: 10,
    description:
      "Host number of the first node's static private IP in subnetCidr (node i gets offset + i). Static addresses keep Swarm managers' advertise addresses stable.",
  },
  sshUser: {
    type: "string",
    default: "ubuntu",
    description: "Login user of the AMI (passwordless sudo).",
  },
  sshKeyGeneration: {
    type: "integer",
    default: 1,
    description:
      "Generation of the stack's SSH key. Raise it by one to rotate the key on the running nodes: the previous generation logs in once to install the new key and revoke itself; nothing is replaced.",
  },
  ubuntuRelease: {
    type: "string",
    default: "16.04",
    description:
      "Ubuntu release of the nodes (16.04 or 18.04: the releases Flocker packages exist for). Used to find the AMI and must match the Flocker packages.",
  },
  ami: {
    type: "string",
    emptyIsUnset: true,
    default: "",
    description:
      "AMI id to pin (recommended for production). Empty: the newest Canonical image of ubuntuRelease at first deployment; later releases do not replace nodes.",
  },
  nodeImageId: {
    type: "string",
    emptyIsUnset: true,
    default: "",
    description:
      "platform current: the pinned AMI of the nodes, Canonical's Ubuntu 24.04 image from the SSM parameter /aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id. Required: an unpinned preview stops before anything is created and prints the id and the pulumi config set command; a newer Canonical image is reported, never deployed by itself (docs/platforms.md: refreshing the pin).",
  },
  rootVolumeSizeGiB: {
    type: "integer",
    default: 16,
    description: "Size of each node's encrypted gp3 root volume, GiB.",
  },
  flockerControlVolumeSizeGiB: {
    type: "integer",
    default: 4,
    description:
      "Size of the encrypted gp3 volume that holds the Flocker control service's state (which dataset is which). It outlives the control node, so a replaced control node keeps the cluster's datasets.",
  },
  dockerPackage: {
    type: "string",
    default: "docker.io",
    description: "Debian package that provides the Docker engine on the nodes (from the Ubuntu archive).",
  },
  dockerVersion: {
    type: "string",
    emptyIsUnset: true,
    default: "",
    description: "Exact apt version of dockerPackage to install; empty installs the archive's current version.",
  },
  ubuntuArchiveMirror: {
    type: "string",
    default: "",
    description:
      "Ubuntu archive the nodes' apt uses (e.g. http://old-releases.ubuntu.com/ubuntu once a release has left the main archive). Empty: the image's own mirror. May hold credentials (https://user:password@host/ubuntu): set it with --secret.",
  },
  flockerInstall: {
    type: "string",
    partOf: "flocker",
    default: "containers",
    description:
      "How Flocker gets onto the nodes: containers (ClusterHQ's images, nothing to build) or packages (Flocker 1.15 .deb packages from flockerAptSource or flockerDebDir).",
  },
  flockerControlImage: {
    type: "string",
    partOf: "flocker",
    default: "clusterhq/flocker-control-service",
    description:
      "Image of the Flocker control service (containers mode). A deployment needs it pinned by digest (name:tag@sha256:... or name@sha256:...); the default is not.",
  },
  flockerDatasetAgentImage: {
    type: "string",
    partOf: "flocker",
    default: "clusterhq/flocker-dataset-agent",
    description:
      "Image of the Flocker dataset agent (containers mode, privileged). A deployment needs it pinned by digest (name:tag@sha256:...); the default is not.",
  },
  flockerContainerAgentImage: {
    type: "string",
    partOf: "flocker",
    default: "clusterhq/flocker-container-agent",
    description:
      "Image of the Flocker container agent (containers mode, privileged). A deployment needs it pinned by digest (name:tag@sha256:...); the default is not.",
  },
  flockerPluginImage: {
    type: "string",
    partOf: "flocker",
    default: "clusterhq/flocker-docker-plugin",
    description:
      "Image of the Flocker Docker plugin (containers mode, privileged). A deployment needs it pinned by digest (name:tag@sha256:...); the default is not.",
  },
  flockerTest: {
    type: "boolean",
    default: true,
    description:
      "Run the book's Flocker test after bring-up: write a file through a Flocker volume from a worker, read it back, remove the test dataset.",
  },
  flockerTestImage: {
    type: "string",
    default: "busybox",
    description: "Image the Flocker test runs (it needs sh, echo and cat).",
  },
  flockerAptSource: {
    type: "string",
    partOf: "flocker",
    default: "",
    description:
      'packages mode: apt source line of a repository that serves the Flocker 1.15 packages (ClusterHQ\'s own archive is gone), signed with flockerAptKey\'s key, e.g. "deb [signed-by=/etc/apt/keyrings/flocker.gpg] https://repo.example.com/flocker/16.04 /" (or, with flockerAptAllowUnsigned, "deb [trusted=yes] https://…"). May hold credentials in its URL: set it with --secret. Set this or flockerDebDir.',
  },
  flockerAptKey: {
    type: "string",
    partOf: "flocker",
    default: "",
    description:
      "packages mode, with flockerAptSource: local file holding the public key that signs the repository, in binary form (gpg --export KEYID > flocker.gpg); the stack writes it to /etc/apt/keyrings/flocker.gpg on every node, the only key flockerAptSource's signed-by may name.",
  },
  flockerAptAllowUnsigned: {
    type: "boolean",
    partOf: "flocker",
    default: false,
    description:
      "packages mode, with flockerAptSource: accept [trusted=yes] over https, i.e. unsigned packages whose only check is TLS to the repository's host. Never over plain http.",
  },
  flockerDebDir: {
    type: "string",
    partOf: "flocker",
    default: "",
    description:
      "packages mode: local directory holding the Flocker .deb files, copied to every node. Set this or flockerAptSource.",
  },
  overlaySubnet: {
    type: "string",
    default: "10.0.0.0/24",
    description:
      "Subnet of the 'spark' overlay network (the book's 10.0.0.0/24). Must lie outside vpcCidr, swarmAddressPool and Docker's bridges.",
  },
  overlayEncrypted: {
    type: "boolean",
    default: false,
    description:
      "Create the overlay with --opt encrypted (IPsec). Needs Docker >= 20.10.24 / 23.0.3 to be safe; Ubuntu 16.04's Docker is older.",
  },
  swarmAddressPool: {
    type: "string",
    default: "10.255.0.0/16",
    description:
      "The swarm's default address pool (docker swarm init --default-addr-pool): Swarm's ingress network and every overlay created without a subnet get a block of it. Docker's own, 10.0.0.0/8, puts ingress on the book's 10.0.0.0/24. Applies only when the swarm is founded.",
  },
  swarmAddressPoolMaskLength: {
    type: "integer",
    default: 24,
    description:
      "Prefix length of the blocks Swarm takes from swarmAddressPool (--default-addr-pool-mask-length); ingress is the pool's first.",
  },
  sparkVolumeSize: {
    type: "string",
    default: "75G",
    description:
      "Size of the Spark dataset in whole GiB (75G, 100GiB, 1T ...): on book the Flocker volume 'spark', as Flocker's Docker plugin parses it; on current its encrypted gp3 EBS volume, which a deployed stack can grow, never shrink (docs/storage.md).",
  },
  sparkVolumeProfile: {
    type: "string",
    values: STORAGE_PROFILE_NAMES,
    default: "bronze",
    description: "Flocker storage profile of the 'spark' volume: gold (io1), silver (gp2) or bronze (standard).",
  },
  sparkWorkerReplicas: {
    type: "integer",
    default: 3,
    description: "Replicas of the spark-worker service (0 stops the workers).",
  },
  sparkWorkerCores: {
    type: "integer",
    default: 1,
    description: "SPARK_WORKER_CORES of each worker.",
  },
  sparkWorkerMemory: {
    type: "string",
    default: "1g",
    description: "SPARK_WORKER_MEMORY of each worker (e.g. 1g, 512m).",
  },
  sparkMasterImage: {
    type: "string",
    default: "fsoppelsa/spark-master",
    description: "Image of the spark-master service.",
  },
  sparkWorkerImage: {
    type: "string",
    default: "fsoppelsa/spark-worker",
    description: "Image of the spark-worker service and of the SparkPi smoke test.",
  },
  sparkImage: {
    type: "string",
    default: CURRENT_SPARK_IMAGE,
    description:
      "platform current: the image of the Spark master, the workers and the SparkPi smoke test, pinned by digest (name:tag@sha256:...). The default is apache/spark 3.5.6 (docs/platforms.md says where the digest came from and how to refresh it).",
  },
  smokeTest: {
    type: "boolean",
    default: true,
    description: "Run SparkPi against the cluster after bring-up and export its result.",
  },
  snapshots: {
    type: "boolean",
    partOf: "snapshots",
    default: false,
    description: "Take scheduled EBS snapshots of this cluster's Flocker datasets (Data Lifecycle Manager).",
  },
  snapshotIntervalHours: {
    type: "integer",
    partOf: "snapshots",
    default: 24,
    description: "Hours between two snapshots of each dataset: 1, 2, 3, 4, 6, 8, 12 or 24 (what Data Lifecycle Manager allows).",
  },
  snapshotTime: {
    type: "string",
    partOf: "snapshots",
    default: "03:00",
    description: "UTC time (HH:MM) of the first snapshot of the day.",
  },
  snapshotRetainCount: {
    type: "integer",
    partOf: "snapshots",
    default: 7,
    description: "Snapshots kept per dataset; older ones are deleted by Data Lifecycle Manager.",
  },
  monthlyCostCeilingUsd: {
    type: "integer",
    default: 500,
    description:
      "Ceiling on the estimated monthly cost, whole US dollars (docs/cost.md): pulumi up stops before anything is created when the estimate is above it or cannot be made for the region. 0: no ceiling.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;

// Re-exported for the components that read them with ClusterConfig; defined in lib/ (which never imports config/).
export type { FlockerImages, FlockerPackageSource, FlockerSource, SnapshotSchedule, StorageProfileName };

type Schema = typeof CONFIG_SCHEMA;

/** The keys that are ClusterConfig fields of their own (not folded into a combined field). */
type FieldKey = { [K in ConfigKey]: Schema[K] extends { partOf: CombinedField } ? never : K }[ConfigKey];
type UnsettableKey = { [K in FieldKey]: Schema[K] extends { emptyIsUnset: true } ? K : never }[FieldKey];

/** What a key's text becomes once validated: its type in the table, narrowed to `values` if listed. */
type ParsedValue<Spec> = Spec extends { values: readonly (infer V)[] }
  ? V
  : Spec extends { type: "integer" }
    ? number
    : Spec extends { type: "boolean" }
      ? boolean
      : Spec extends { type: "array" }
        ? readonly string[]
        : string;

/** One field per schema key that stands alone, typed from the table: each key is declared once. */
export type SchemaFields = { readonly [K in Exclude<FieldKey, UnsettableKey>]: ParsedValue<Schema[K]> } & {
  readonly [K in UnsettableKey]?: ParsedValue<Schema[K]>;
};

/** The fields that combine keys (`partOf`) or come from outside the project namespace. */
interface CombinedFields {
  readonly project: string;
  readonly stack: string;
  /** aws:region. */
  readonly region: string;
  /** flockerInstall with the images or the package source it reads. */
  readonly flocker: FlockerSource;
  /** sparkVolumeSize in whole GiB, as Flocker will request it from EBS. */
  readonly sparkVolumeSizeGiB: number;
  /** snapshots with its schedule keys; undefined: no snapshots. */
  readonly snapshots?: SnapshotSchedule;
}

/** The validated configuration every component is built from. */
export type ClusterConfig = SchemaFields & CombinedFields;
