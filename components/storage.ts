import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FLOCKER_USER_PURPOSE_TAG, flockerPolicyDocument } from "../lib/flockerIamPolicy";

export interface FlockerStorageArgs {
  readonly region: string;
  /** The Flocker cluster UUID: mutating EC2 calls are limited to volumes and instances tagged with it. */
  readonly clusterId: pulumi.Input<string>;
  /** Tags for every taggable child. @default {} */
  readonly tags?: Record<string, string>;
}

/**
 * What Flocker's EBS backend needs from AWS: EBS encryption by default in the region (Flocker
 * never asks for encrypted volumes itself) and a dedicated IAM user whose access key goes into
 * agent.yml (Flocker 1.15 supports static keys only), allowed exactly the EC2 calls Flocker makes.
 */
export class FlockerStorage extends pulumi.ComponentResource {
  public readonly accessKeyId: pulumi.Output<string>;
  /** Secret. */
  public readonly secretAccessKey: pulumi.Output<string>;
  public readonly userName: pulumi.Output<string>;

  constructor(name: string, args: FlockerStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:storage:FlockerStorage", name, {}, opts);

    // A region-wide account setting: kept on destroy, because turning encryption off for every
    // later volume of the account is not this stack's call to make.
    new aws.ebs.EncryptionByDefault(`${name}-ebs-encryption`, { enabled: true }, { parent: this, retainOnDelete: true });

    const user = new aws.iam.User(
      `${name}-flocker-user`,
      {
        path: "/swarm-flocker/",
        tags: { ...args.tags, Name: `${name}-flocker-user`, [FLOCKER_USER_PURPOSE_TAG.key]: FLOCKER_USER_PURPOSE_TAG.value },
      },
      { parent: this },
    );
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const policy = pulumi
      .all([partition.partition, identity.accountId, args.clusterId])
      .apply(([partitionName, accountId, clusterId]) =>
        JSON.stringify(flockerPolicyDocument({ partition: partitionName, region: args.region, accountId, clusterId })),
      );
    new aws.iam.UserPolicy(`${name}-flocker-policy`, { user: user.name, policy }, { parent: user });
    const key = new aws.iam.AccessKey(`${name}-flocker-key`, { user: user.name }, { parent: user });

    this.userName = user.name;
    this.accessKeyId = key.id;
    this.secretAccessKey = pulumi.secret(key.secret);
    this.registerOutputs({ userName: this.userName, accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey });
  }
}
