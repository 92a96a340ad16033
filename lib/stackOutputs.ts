/**
 * The stack's outputs contract (docs/architecture.md, "Outputs contract"): what other stacks may read through
 * a StackReference. Renaming or removing a field breaks consumers; add fields instead.
 */
import type { Output } from "@pulumi/pulumi";
import type { FlockerStatus } from "./flockerStatus";
import type { SecurityGroupRole } from "./ports";
import type { NodeRole, SwarmRole } from "./topology";

export interface NodeOutput {
  readonly role: NodeRole;
  /** Absent for the Flocker control node (book), which is not in the Swarm; every current node has one. */
  readonly swarmRole?: SwarmRole;
  readonly publicIp: string;
  readonly privateIp: string;
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

/** Every field an Output of the matching plain value. */
type AsOutputs<T> = { readonly [K in keyof T]: Output<NonNullable<T[K]>> };

/** What the program exports: a book stack's outputs or a current stack's. */
export type StackOutputs = AsOutputs<BookStackOutputValues> | AsOutputs<CurrentStackOutputValues>;

/** Outputs that must always be secret (tests and the policy pack check this list). */
export const SECRET_OUTPUTS = [
  "sshPrivateKey",
  "flockerClientKey",
  "swarmWorkerJoinToken",
  "swarmManagerJoinToken",
] as const satisfies readonly (keyof BookStackOutputValues)[];
