// The swarm-flocker stack's outputs contract, vendored so that this program builds outside the
// cluster's repository. It is a copy of `StackOutputValues` (lib/stackOutputs.ts there, with the
// types it uses written in); the cluster repository's tests check that this copy, that type and the
// published JSON Schema (contract/stack-outputs.schema.json) describe the same outputs. A program
// in another language can validate against the schema instead.
// (A line comment, not a doc comment: a doc comment here would describe the first type below.)

export type NodeRole = "manager" | "control" | "sparkmaster" | "worker";
export type SwarmRole = "manager" | "worker";
/** The four security groups: every node, Swarm managers, the Flocker control node, Swarm nodes. */
export type SecurityGroupRole = "node" | "manager" | "control" | "swarm";

export interface NodeOutput {
  readonly role: NodeRole;
  /** Absent for the Flocker control node (book), which is not in the Swarm; every current node has one. */
  readonly swarmRole?: SwarmRole;
  readonly publicIp: string;
  readonly privateIp: string;
}

/** A node whose dataset agent the control service knew. */
export interface FlockerStatusNode {
  readonly uuid: string;
  /** The private address the node's dataset agent connects from. */
  readonly address: string;
}

export interface FlockerStatusDataset {
  readonly datasetId: string;
  /** The Docker volume name (dataset metadata `name`), when the plugin made it. */
  readonly name: string | null;
  readonly sizeGiB: number | null;
  readonly profile: string | null;
  /** attached: mounted on the node at `address`; detached: on no node; pending: not there yet. */
  readonly status: "attached" | "detached" | "pending";
  readonly address: string | null;
}

export interface FlockerStatus {
  readonly nodes: readonly FlockerStatusNode[];
  readonly datasets: readonly FlockerStatusDataset[];
}

/** What every stack exports, whatever its platform. */
export interface CommonStackOutputValues {
  /** Per node name (aws-101 …). */
  readonly nodes: Readonly<Record<string, NodeOutput>>;
  /** Swarm managers' `private-ip:2377`, the first manager first. */
  readonly managerAddresses: readonly string[];
  /** The SSH login user of every node. */
  readonly sshUser: string;
  /** Secret. OpenSSH private key for `sshUser` on every node. */
  readonly sshPrivateKey: string;
  /**
   * `spark://<private ip>:7077`: the Spark master's node inside the VPC. No security group admits
   * Spark's ports from outside the cluster (they take unauthenticated jobs); from elsewhere, open
   * `npm run ssh -- --stack S --tunnel NODE` and use spark://localhost:7077.
   */
  readonly sparkMasterUrl: string;
  /** `http://<private ip>:8080`, like sparkMasterUrl; http://localhost:8080 through the tunnel. */
  readonly sparkUiUrl: string;
  /** Secret. */
  readonly swarmWorkerJoinToken: string;
  /** Secret. */
  readonly swarmManagerJoinToken: string;
  readonly securityGroupIds: Readonly<Record<SecurityGroupRole, string>>;
  readonly vpcId: string;
  readonly subnetId: string;
  /** "Pi is roughly 3.14…" from the SparkPi smoke test, or why it was skipped. */
  readonly smokeTestResult: string;
}

/** The Flocker outputs: only a book stack has them. */
export interface FlockerStackOutputValues {
  /** Flocker REST API inside the VPC, `https://<control private ip>:4523` (the certificate names this address). */
  readonly flockerControlEndpoint: string;
  /** Flocker REST API from admin CIDRs; clients must verify against `flockerCaCert` by chain (flockerctl does). */
  readonly flockerControlPublicEndpoint: string;
  /** PEM of the Flocker cluster CA. */
  readonly flockerCaCert: string;
  /** PEM of the `user-client` API certificate. */
  readonly flockerClientCert: string;
  /** Secret. PEM of the `user-client` API key. */
  readonly flockerClientKey: string;
  /** Nodes and datasets the Flocker control service knew at bring-up (`flockerctl status`/`list`). */
  readonly flockerStatus: FlockerStatus;
}

/** A book stack: the chapter's cluster, with Flocker. */
export interface BookStackOutputValues extends CommonStackOutputValues, FlockerStackOutputValues {
  /**
   * Absent: a book stack does not export it, so that its outputs stay exactly what they were before
   * the platform choice existed (a deployed book stack shows no diff). Only a current stack sets it.
   */
  readonly platform?: "book";
}

/** A current stack: the same Swarm and Spark without Flocker, so without the Flocker outputs. */
export interface CurrentStackOutputValues extends CommonStackOutputValues {
  readonly platform: "current";
  /**
   * The Spark dataset's EBS volume (vol-…), which the stack owns and keeps for its whole life
   * (docs/storage.md); `npm run status` and `npm run restore` work on it.
   */
  readonly sparkDataVolumeId: string;
}

/**
 * Plain values, as a consumer sees them once resolved (`requireOutput(...).apply(...)`): narrow on
 * `platform` (`platform === "current"`, else book) before reading a Flocker output.
 */
export type StackOutputValues = BookStackOutputValues | CurrentStackOutputValues;
