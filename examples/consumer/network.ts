/**
 * The cluster's network outputs in use: an instance beside the cluster, in its subnet (`subnetId`),
 * with a security group of its own in its VPC (`vpcId`) and the cluster's node group
 * (`securityGroupIds.node`). Membership of the node group is what makes it a peer: the cluster's
 * rules open the Swarm, overlay, Flocker agent and Spark ports between members of that group, so
 * this host can, for example, run a Spark driver that the workers connect back to.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface BesideTheClusterArgs {
  readonly ami: string;
  readonly instanceType: string;
  readonly vpcId: pulumi.Input<string>;
  readonly subnetId: pulumi.Input<string>;
  readonly nodeSecurityGroupId: pulumi.Input<string>;
}

export function besideTheCluster(name: string, args: BesideTheClusterArgs): aws.ec2.Instance {
  // Its own group holds what is this host's alone (here only egress); the node group adds the cluster's rules.
  const own = new aws.ec2.SecurityGroup(`${name}-sg`, {
    vpcId: args.vpcId,
    description: "A host beside the swarm-flocker cluster: egress only; cluster traffic through the node group",
    egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "everything out" }],
  });
  return new aws.ec2.Instance(name, {
    ami: args.ami,
    instanceType: args.instanceType,
    subnetId: args.subnetId,
    vpcSecurityGroupIds: [own.id, args.nodeSecurityGroupId],
    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
    rootBlockDevice: { encrypted: true, volumeType: "gp3" },
    tags: { Name: name },
  });
}
