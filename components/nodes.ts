import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { FlockerSource } from "../config/schema";
import type { Platform } from "../lib/platform";
import { SecurityGroupRole } from "../lib/ports";
import { NodeRole, NodeSpec } from "../lib/topology";
import type { NodeImage } from "../preflight/ubuntuImage";
import { NodeHost } from "./nodeHost";
import { SshKeyGeneration } from "./sshKeyStep";

/** Which security groups each role's instances carry (see lib/ports.ts for what each admits). */
const SECURITY_GROUPS_BY_ROLE: Readonly<Record<NodeRole, readonly SecurityGroupRole[]>> = {
  manager: ["node", "manager", "swarm"],
  control: ["node", "control"],
  sparkmaster: ["node", "swarm"],
  worker: ["node", "swarm"],
};

export interface ClusterNodesArgs {
  readonly nodes: readonly NodeSpec[];
  readonly subnetId: pulumi.Input<string>;
  readonly securityGroupIds: Readonly<Record<SecurityGroupRole, pulumi.Input<string>>>;
  readonly instanceType: string;
  readonly rootVolumeSizeGiB: number;
  /**
   * The image the preflight resolved (preflight/ubuntuImage.ts): a pinned `ami`, or the newest
   * Canonical image of `ubuntuRelease`, which later `pulumi up`s do not follow to newer builds.
   */
  readonly image: NodeImage;
  readonly sshUser: string;
  /**
   * Generation of the stack's SSH key (config `sshKeyGeneration`, >= 1). Raising it by one rotates
   * the key on the running nodes; the previous generation stays until the next rotation.
   */
  readonly sshKeyGeneration: number;
  /**
   * How Flocker gets onto the nodes (packages mode checks and copies its package source); undefined
   * on the current platform, which has no Flocker.
   */
  readonly flocker?: FlockerSource;
  /** Decides the nodes' IMDS settings (NodeHost). @default book */
  readonly platform?: Platform;
  /** Empty: the image's own apt mirror. */
  readonly ubuntuArchiveMirror: string;
  readonly dockerPackage: string;
  /** @default the archive's current version */
  readonly dockerVersion?: string;
  /** Oldest Docker engine the nodes may run (overlayEncrypted needs 20.10.24). @default no floor */
  readonly minDockerVersion?: string;
  /** Kernel modules every node loads, checks and persists before Docker starts (lib/kernelModules.ts). */
  readonly kernelModules: readonly string[];
  /** Resources SSH to the nodes needs besides the instances (the subnet's internet route). */
  readonly networkReady: pulumi.Resource[];
  /** Tags for every instance, e.g. the Flocker cluster tag its IAM policy checks (book). */
  readonly tags: Record<string, pulumi.Input<string>>;
}

/**
 * The cluster's EC2 nodes: the stack's SSH key (its current and previous generation) with the EC2
 * key pair new instances launch with, and one NodeHost per node. Nothing here waits on another
 * node: every node boots and installs Docker in parallel.
 */
export class ClusterNodes extends pulumi.ComponentResource {
  /** Per node name, in node order. */
  public readonly hosts: Readonly<Record<string, NodeHost>>;
  /** Secret. OpenSSH format. The current generation's. */
  public readonly sshPrivateKey: pulumi.Output<string>;
  public readonly amiId: pulumi.Output<string>;

  constructor(name: string, args: ClusterNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:nodes:ClusterNodes", name, {}, opts);

    const generation = args.sshKeyGeneration;
    if (!Number.isInteger(generation) || generation < 1) {
      throw new Error(`sshKeyGeneration is ${generation}: it must be an integer >= 1`);
    }
    const current = sshKeyOf(name, generation, this);
    // Still in state from the last rotation: it opens the nodes that do not have the current one yet.
    const previous = generation > 1 ? sshKeyOf(name, generation - 1, this) : undefined;
    this.sshPrivateKey = pulumi.secret(current.key.privateKeyOpenssh);
    // A new key replaces the key pair (its public key cannot change); the running instances ignore
    // the new name. The parent is the current key: every generation has the same type, so the
    // key pair's URN stays the same across rotations.
    const keyPair = new aws.ec2.KeyPair(
      `${name}-key-pair`,
      { publicKey: current.key.publicKeyOpenssh, tags: { ...args.tags, Name: `${name}-key-pair` } },
      { parent: current.key },
    );

    this.amiId = pulumi.output(args.image.id);

    const hosts: Record<string, NodeHost> = {};
    for (const node of args.nodes) {
      hosts[node.name] = new NodeHost(
        `${name}-${node.name}`,
        {
          node,
          ami: args.image.id,
          ignoreAmiChanges: !args.image.pinned,
          instanceType: args.instanceType,
          rootVolumeSizeGiB: args.rootVolumeSizeGiB,
          subnetId: args.subnetId,
          securityGroupIds: SECURITY_GROUPS_BY_ROLE[node.role].map((role) => args.securityGroupIds[role]),
          keyName: keyPair.keyName,
          sshUser: args.sshUser,
          sshKey: current.generation,
          previousSshKey: previous?.generation,
          flocker: args.flocker,
          ...(args.platform === undefined ? {} : { platform: args.platform }),
          ubuntuArchiveMirror: args.ubuntuArchiveMirror,
          dockerPackage: args.dockerPackage,
          dockerVersion: args.dockerVersion,
          minDockerVersion: args.minDockerVersion,
          kernelModules: args.kernelModules,
          tags: args.tags,
          networkReady: args.networkReady,
        },
        { parent: this },
      );
    }
    this.hosts = hosts;
    this.registerOutputs({ sshPrivateKey: this.sshPrivateKey, amiId: this.amiId });
  }
}

/**
 * Generation `generation` of the stack's SSH key: `<name>-ssh-key` for the first (the name it has
 * always had; renaming it would replace it), `<name>-ssh-key-<n>` after that.
 */
function sshKeyOf(
  name: string,
  generation: number,
  parent: pulumi.Resource,
): { key: tls.PrivateKey; generation: SshKeyGeneration } {
  // ED25519: EC2 imports RSA or ED25519 only, and it is the stronger and shorter of the two.
  const key = new tls.PrivateKey(
    generation === 1 ? `${name}-ssh-key` : `${name}-ssh-key-${generation}`,
    { algorithm: "ED25519" },
    { parent },
  );
  return {
    key,
    generation: { generation, privateKey: pulumi.secret(key.privateKeyOpenssh), publicKey: key.publicKeyOpenssh },
  };
}
