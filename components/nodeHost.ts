import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { FlockerSource } from "../config/schema";
import { renderCloudConfig } from "../lib/cloudConfig";
import { archiveMirrorStdin } from "../lib/archiveMirror";
import { flockerPackageEnv, flockerPackageStdin, remoteDebDir, selectFlockerDebs } from "../lib/flockerPackages";
import { FLOCKER_CLUSTER_TAG } from "../lib/flockerIamPolicy";
import { IMDSV1_EXCEPTION_REASON, IMDSV1_EXCEPTION_TAG } from "../lib/imdsException";
import { MODULES_LOAD_FILE } from "../lib/kernelModules";
import { remoteBaseDir } from "../lib/remotePaths";
import { LOCAL_SCRIPTS_DIR } from "../lib/scripts";
import type { Platform } from "../lib/platform";
import { NodeSpec } from "../lib/topology";
import { scriptStep, StepTarget } from "./remoteStep";
import { SshKeyGeneration, sshKeyStep } from "./sshKeyStep";

/**
 * How long pulumi-command's first SSH contact (the scripts copy) may wait for the node: about 60
 * dials of up to 15 s. The ssh-key step before it has already waited for the boot; this covers
 * a node that stops answering right after it.
 */
const BOOT_DIAL_ATTEMPTS = 60;
/**
 * Every later step reaches a node that has already answered, so a host that stops answering is
 * gone (terminated, stopped, cut off) rather than slow: its step fails in about 2 minutes, not 15.
 * Eight dials still ride out an sshd restart by a package upgrade.
 */
const STEP_DIAL_ATTEMPTS = 8;
const SSH_DIAL_TIMEOUT_SECONDS = 15;

export interface NodeHostArgs {
  readonly node: NodeSpec;
  readonly ami: pulumi.Input<string>;
  /** Do not replace the node when a newer image of an unpinned AMI appears. @default false */
  readonly ignoreAmiChanges?: boolean;
  readonly instanceType: string;
  readonly rootVolumeSizeGiB: number;
  readonly subnetId: pulumi.Input<string>;
  readonly securityGroupIds: pulumi.Input<string>[];
  /** The key pair a new instance launches with; a running one keeps its own (see sshKey). */
  readonly keyName: pulumi.Input<string>;
  readonly sshUser: string;
  /** The key generation every step logs in with; the node's first step installs it. */
  readonly sshKey: SshKeyGeneration;
  /** The generation a running node may still hold, which installs sshKey (absent for generation 1). */
  readonly previousSshKey?: SshKeyGeneration;
  /** How Flocker gets onto the node; undefined on the current platform, which has no Flocker. */
  readonly flocker?: FlockerSource;
  /**
   * book: IMDSv1 stays open for Flocker's boto 2 (the documented exception, tagged); current:
   * IMDSv2 required. Hop limit 1 on both. @default book
   */
  readonly platform?: Platform;
  /** Empty: the image's own apt mirror. */
  readonly ubuntuArchiveMirror: string;
  readonly dockerPackage: string;
  /** @default the archive's current version */
  readonly dockerVersion?: string;
  /** install-docker.sh refuses an older engine (overlayEncrypted needs 20.10.24). @default no floor */
  readonly minDockerVersion?: string;
  /** Kernel modules install-docker.sh loads, checks and persists before Docker starts. */
  readonly kernelModules: readonly string[];
  readonly tags: Record<string, pulumi.Input<string>>;
  /** Resources SSH needs besides the instance (the subnet's internet route). @default [] */
  readonly networkReady?: pulumi.Resource[];
}

/**
 * One EC2 node brought to "Docker is running": the instance (hostname, static private address,
 * encrypted root volume, IMDS settings), the stack's current SSH key installed for its login user,
 * the node scripts copied over SSH, then boot completion, the Flocker package-source preflight and
 * Docker, in that order.
 */
export class NodeHost extends pulumi.ComponentResource {
  public readonly node: NodeSpec;
  public readonly instance: aws.ec2.Instance;
  public readonly publicIp: pulumi.Output<string>;
  /** Where later steps run. */
  public readonly target: StepTarget;
  /** Docker is installed and running: later steps on this node depend on it. */
  public readonly dockerReady: command.remote.Command;

  constructor(name: string, args: NodeHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:nodes:NodeHost", name, {}, opts);
    const node = args.node;
    this.node = node;

    this.instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami: args.ami,
        instanceType: args.instanceType,
        subnetId: args.subnetId,
        privateIp: node.privateIp,
        associatePublicIpAddress: true,
        vpcSecurityGroupIds: args.securityGroupIds,
        keyName: args.keyName,
        userData: renderCloudConfig({ hostname: node.name }),
        rootBlockDevice: {
          encrypted: true,
          volumeType: "gp3",
          volumeSize: args.rootVolumeSizeGiB,
          deleteOnTermination: true,
          // Never the Flocker cluster tag: Flocker takes every volume carrying it for one of its
          // datasets (and fails on a root volume without a dataset id), and the snapshot policy
          // selects by it.
          tags: { ...withoutFlockerClusterTag(args.tags), Name: `${node.name}-root` },
        },
        metadataOptions: metadataOptionsFor(args.platform ?? "book"),
        // Not volumeTags: it would claim the tags of the EBS volumes Flocker attaches later.
        tags: {
          ...args.tags,
          Name: node.name,
          Role: node.role,
          ...(args.platform === "current" ? {} : { [IMDSV1_EXCEPTION_TAG]: IMDSV1_EXCEPTION_REASON }),
        },
      },
      // deleteBeforeReplace: the replacement asks for the same fixed privateIp, which EC2 refuses
      // while the old instance holds it (InvalidIPAddress.InUse).
      // keyName: a new key pair (a key rotation) must not replace the running instance; the
      // ssh-key step below gives it the new key instead. A replacement for another reason still
      // launches with the current key pair: the engine takes a replacement's inputs from the
      // program, not from the ignored old values.
      {
        parent: this,
        ignoreChanges: [...(args.ignoreAmiChanges ? ["ami"] : []), "keyName"],
        deleteBeforeReplace: true,
      },
    );
    this.publicIp = this.instance.publicIp;

    // Before anything else logs in with the current key: it may not be on the node yet.
    const sshKey = sshKeyStep(
      `${name}-ssh-key`,
      {
        nodeName: node.name,
        host: this.instance.publicIp,
        sshUser: args.sshUser,
        instanceId: this.instance.id,
        current: args.sshKey,
        previous: args.previousSshKey,
        dependsOn: args.networkReady ?? [],
      },
      this,
    );

    const connection: command.types.input.remote.ConnectionArgs = {
      host: this.instance.publicIp,
      user: args.sshUser,
      privateKey: pulumi.secret(args.sshKey.privateKey),
      dialErrorLimit: BOOT_DIAL_ATTEMPTS,
      perDialTimeout: SSH_DIAL_TIMEOUT_SECONDS,
    };
    const stepConnection: command.types.input.remote.ConnectionArgs = { ...connection, dialErrorLimit: STEP_DIAL_ATTEMPTS };
    // The first contact of pulumi-command's SSH (the ssh-key step has waited for the boot), and
    // every step runs these files.
    const scripts = new command.remote.CopyToRemote(
      `${name}-scripts`,
      {
        connection,
        // Relative to the program's directory (Pulumi runs programs there): an absolute path would
        // differ between operators' checkouts and show as a change on every other machine.
        source: new pulumi.asset.FileArchive(path.relative(process.cwd(), LOCAL_SCRIPTS_DIR) || "."),
        remotePath: remoteBaseDir(args.sshUser),
        triggers: [this.instance.id],
      },
      { parent: this, dependsOn: [...(args.networkReady ?? []), sshKey] },
    );
    const copies: pulumi.Resource[] = [scripts];
    const flockerPackages = args.flocker?.kind === "packages" ? args.flocker.packages : undefined;
    if (flockerPackages?.kind === "debs") {
      // Exactly the three Flocker .deb files, each copied on its own into a fixed directory beside
      // scripts/ (lib/flockerPackages.ts): nothing else of the operator's directory leaves the
      // machine, and no directory name can land over the node scripts.
      let previous: pulumi.Resource = scripts;
      for (const { pkg, file } of selectFlockerDebs(fs.readdirSync(flockerPackages.debDir))) {
        previous = new command.remote.CopyToRemote(
          `${name}-flocker-deb-${pkg}`,
          {
            connection,
            source: new pulumi.asset.FileAsset(path.join(flockerPackages.debDir, file)),
            remotePath: `${remoteDebDir(args.sshUser)}/${file}`,
            triggers: [this.instance.id],
          },
          // One after the other: each creates the directory if it is missing.
          { parent: this, dependsOn: [previous] },
        );
        copies.push(previous);
      }
    }
    this.target = {
      nodeName: node.name,
      sshUser: args.sshUser,
      connection: stepConnection,
      scripts,
      instanceId: this.instance.id,
    };

    const boot = scriptStep(`${name}-boot`, { target: this.target, script: "wait-boot.sh", env: { NODE_NAME: node.name } }, this);
    // Packages mode: prove the package source from the node before Docker and everything after.
    const preflight =
      flockerPackages === undefined
        ? undefined
        : scriptStep(
            `${name}-flocker-preflight`,
            {
              target: this.target,
              script: "flocker-packages.sh",
              action: "preflight",
              env: flockerPackageEnv(flockerPackages, args.sshUser),
              // The apt source may carry credentials: stdin, never the command line.
              stdin: flockerPackageStdin(flockerPackages),
              dependsOn: [boot, ...copies],
            },
            this,
          );
    this.dockerReady = scriptStep(
      `${name}-docker`,
      {
        target: this.target,
        script: "install-docker.sh",
        env: {
          DOCKER_PACKAGE: args.dockerPackage,
          DOCKER_VERSION: args.dockerVersion ?? "",
          BLOCK_CONTAINER_IMDS: 1,
          MIN_DOCKER_VERSION: args.minDockerVersion ?? "",
          KERNEL_MODULES: args.kernelModules.join(" "),
          MODULES_LOAD_FILE,
        },
        // The mirror may carry credentials: stdin, never the command line.
        stdin: archiveMirrorStdin(args.ubuntuArchiveMirror),
        dependsOn: [preflight ?? boot],
      },
      this,
    );

    this.registerOutputs({ instanceId: this.instance.id, publicIp: this.publicIp, privateIp: node.privateIp });
  }
}

/**
 * The instance metadata service per platform. Flocker 1.15 reads the instance id with boto 2, which
 * only speaks IMDSv1: on the book platform tokens stay optional (the documented exception, tagged
 * on the instance). The current platform has no Flocker: IMDSv2 is required. Hop limit 1 on both
 * only keeps IMDSv2 tokens from containers; what keeps containers from IMDSv1 is install-docker.sh's
 * DOCKER-USER rule (tested in tests/bats/install-docker.bats).
 */
function metadataOptionsFor(platform: Platform): aws.types.input.ec2.InstanceMetadataOptions {
  return {
    httpEndpoint: "enabled",
    httpTokens: platform === "current" ? "required" : "optional",
    httpPutResponseHopLimit: 1,
    instanceMetadataTags: "disabled",
  };
}

function withoutFlockerClusterTag(tags: Record<string, pulumi.Input<string>>): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(Object.entries(tags).filter(([key]) => key !== FLOCKER_CLUSTER_TAG));
}
