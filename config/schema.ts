/**
 * The configuration contract: every key the stack reads, its type, default and meaning.
 *
 * This table is the single source for `Pulumi.yaml`'s project config schema (a test keeps the two
 * identical), for the README's config reference and for the validator. Keys are flat so that
 * `pulumi config set KEY VALUE` works for each of them.
 */

/** The value types Pulumi's project config schema can express. */
export type ConfigKeyType = "string" | "integer" | "boolean" | "array";

export interface ConfigKeySpec {
  readonly type: ConfigKeyType;
  /** Absent for required keys. */
  readonly default?: string | number | boolean | readonly string[];
  readonly description: string;
}

export const CONFIG_SCHEMA = {
  clusterName: {
    type: "string",
    default: "",
    description:
      "Name of the Flocker cluster (the CA certificate's common name) and prefix of AWS resource names. Empty: the stack name.",
  },
  availabilityZone: {
    type: "string",
    default: "us-east-1a",
    description:
      "The one availability zone of every node; Flocker's EBS volumes attach only within it. Must be in aws:region.",
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
      "CIDRs allowed to reach SSH, the Flocker REST API and the Spark UIs (required; e.g. [\"203.0.113.7/32\"]).",
  },
  allowPublicAdminAccess: {
    type: "boolean",
    default: false,
    description: "Opt-in that allows 0.0.0.0/0 or ::/0 in adminCidrs. Leave false.",
  },
  vpcCidr: {
    type: "string",
    default: "172.31.0.0/16",
    description: "CIDR of the stack's own VPC. Must not overlap overlaySubnet or Swarm's ingress network (10.255.0.0/16).",
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
  ubuntuRelease: {
    type: "string",
    default: "16.04",
    description:
      "Ubuntu release of the nodes (16.04 or 18.04: the releases Flocker packages exist for). Used to find the AMI and must match the Flocker packages.",
  },
  ami: {
    type: "string",
    default: "",
    description:
      "AMI id to pin (recommended for production). Empty: the newest Canonical image of ubuntuRelease at first deployment; later releases do not replace nodes.",
  },
  rootVolumeSizeGiB: {
    type: "integer",
    default: 16,
    description: "Size of each node's encrypted gp3 root volume, GiB.",
  },
  dockerPackage: {
    type: "string",
    default: "docker.io",
    description: "Debian package that provides the Docker engine on the nodes (from the Ubuntu archive).",
  },
  dockerVersion: {
    type: "string",
    default: "",
    description: "Exact apt version of dockerPackage to install; empty installs the archive's current version.",
  },
  ubuntuArchiveMirror: {
    type: "string",
    default: "",
    description:
      "Ubuntu archive the nodes' apt uses (e.g. http://old-releases.ubuntu.com/ubuntu once a release has left the main archive). Empty: the image's own mirror.",
  },
  flockerInstall: {
    type: "string",
    default: "containers",
    description:
      "How Flocker gets onto the nodes: containers (ClusterHQ's images, nothing to build) or packages (Flocker 1.15 .deb packages from flockerAptSource or flockerDebDir).",
  },
  flockerControlImage: {
    type: "string",
    default: "clusterhq/flocker-control-service",
    description: "Image of the Flocker control service (containers mode). Mirror it to a private registry or pin it by digest (name@sha256:...).",
  },
  flockerDatasetAgentImage: {
    type: "string",
    default: "clusterhq/flocker-dataset-agent",
    description: "Image of the Flocker dataset agent (containers mode).",
  },
  flockerContainerAgentImage: {
    type: "string",
    default: "clusterhq/flocker-container-agent",
    description: "Image of the Flocker container agent (containers mode).",
  },
  flockerPluginImage: {
    type: "string",
    default: "clusterhq/flocker-docker-plugin",
    description: "Image of the Flocker Docker plugin (containers mode).",
  },
  flockerTest: {
    type: "boolean",
    default: true,
    description: "Run the book's Flocker test after bring-up: write a file through a Flocker volume from a worker, read it back, remove the test dataset.",
  },
  flockerTestImage: {
    type: "string",
    default: "busybox",
    description: "Image the Flocker test runs (it needs sh, echo and cat).",
  },
  flockerAptSource: {
    type: "string",
    default: "",
    description:
      "packages mode: apt source line of a repository that serves the Flocker 1.15 packages (ClusterHQ's own archive is gone), e.g. \"deb [trusted=yes] https://repo.example.com/flocker/16.04 /\". Set this or flockerDebDir.",
  },
  flockerDebDir: {
    type: "string",
    default: "",
    description:
      "packages mode: local directory holding the Flocker .deb files, copied to every node. Set this or flockerAptSource.",
  },
  overlaySubnet: {
    type: "string",
    default: "10.0.0.0/24",
    description: "Subnet of the 'spark' overlay network (the book's 10.0.0.0/24).",
  },
  overlayEncrypted: {
    type: "boolean",
    default: false,
    description:
      "Create the overlay with --opt encrypted (IPsec). Needs Docker >= 20.10.24 / 23.0.3 to be safe; Ubuntu 16.04's Docker is older.",
  },
  sparkVolumeSize: {
    type: "string",
    default: "75G",
    description: "Size of the Flocker volume 'spark', as Flocker's Docker plugin parses it, in whole GiB (75G, 100GiB, 1T ...).",
  },
  sparkVolumeProfile: {
    type: "string",
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
  smokeTest: {
    type: "boolean",
    default: true,
    description: "Run SparkPi against the cluster after bring-up and export its result.",
  },
  snapshots: {
    type: "boolean",
    default: false,
    description: "Take scheduled EBS snapshots of this cluster's Flocker datasets (Data Lifecycle Manager).",
  },
  snapshotIntervalHours: {
    type: "integer",
    default: 24,
    description: "Hours between two snapshots of each dataset: 1, 2, 3, 4, 6, 8, 12 or 24 (what Data Lifecycle Manager allows).",
  },
  snapshotTime: {
    type: "string",
    default: "03:00",
    description: "UTC time (HH:MM) of the first snapshot of the day.",
  },
  snapshotRetainCount: {
    type: "integer",
    default: 7,
    description: "Snapshots kept per dataset; older ones are deleted by Data Lifecycle Manager.",
  },
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;

/** Flocker's built-in EBS storage profiles (see lib/ebsProfiles.ts). */
export type StorageProfileName = "gold" | "silver" | "bronze";

/** How Flocker gets onto the nodes. */
export type FlockerInstallMode = "containers" | "packages";

/** The four images of containers mode, by the part of Flocker each runs. */
export interface FlockerImages {
  readonly control: string;
  readonly datasetAgent: string;
  readonly containerAgent: string;
  readonly plugin: string;
}

/** Where Flocker comes from: ClusterHQ's images, or packages from one of the two sources. */
export type FlockerSource =
  | { readonly kind: "containers"; readonly images: FlockerImages }
  | { readonly kind: "packages"; readonly packages: FlockerPackageSource };

/** Data Lifecycle Manager's schedule for the Flocker datasets; undefined when snapshots are off. */
export interface SnapshotSchedule {
  readonly intervalHours: number;
  /** "HH:MM", UTC. */
  readonly time: string;
  readonly retainCount: number;
}

/** Where the nodes get the Flocker packages from: exactly one of the two config keys. */
export type FlockerPackageSource =
  | { readonly kind: "apt"; readonly aptSource: string }
  | { readonly kind: "debs"; readonly debDir: string };

/** The validated configuration every component is built from. */
export interface ClusterConfig {
  readonly project: string;
  readonly stack: string;
  readonly region: string;
  readonly clusterName: string;
  readonly availabilityZone: string;
  readonly nodeCount: number;
  readonly managerCount: number;
  readonly nodeNamePrefix: string;
  readonly firstNodeNumber: number;
  readonly instanceType: string;
  readonly adminCidrs: readonly string[];
  readonly allowPublicAdminAccess: boolean;
  readonly vpcCidr: string;
  readonly subnetCidr: string;
  readonly nodeIpOffset: number;
  readonly sshUser: string;
  readonly ubuntuRelease: string;
  /** Undefined: resolve the newest Canonical image of ubuntuRelease. */
  readonly ami?: string;
  readonly rootVolumeSizeGiB: number;
  readonly dockerPackage: string;
  /** Undefined: the archive's current version. */
  readonly dockerVersion?: string;
  /** Empty: the image's own apt mirror. */
  readonly ubuntuArchiveMirror: string;
  readonly flocker: FlockerSource;
  readonly flockerTest: boolean;
  readonly flockerTestImage: string;
  readonly overlaySubnet: string;
  readonly overlayEncrypted: boolean;
  readonly sparkVolumeSize: string;
  /** sparkVolumeSize in whole GiB, as Flocker will request it from EBS. */
  readonly sparkVolumeSizeGiB: number;
  readonly sparkVolumeProfile: StorageProfileName;
  readonly sparkWorkerReplicas: number;
  readonly sparkWorkerCores: number;
  readonly sparkWorkerMemory: string;
  readonly sparkMasterImage: string;
  readonly sparkWorkerImage: string;
  readonly smokeTest: boolean;
  /** Undefined: no snapshots. */
  readonly snapshots?: SnapshotSchedule;
}
