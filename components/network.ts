import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { isIpv6Cidr } from "../lib/cidr";
import { portMatrix, RuleSpec, SECURITY_GROUP_DESCRIPTIONS, SecurityGroupRole } from "../lib/ports";

export interface ClusterNetworkArgs {
  /** CIDR of the stack's own VPC. */
  readonly vpcCidr: string;
  /** CIDR of the one subnet every node lives in (inside vpcCidr). */
  readonly subnetCidr: string;
  /** The one availability zone of the cluster (Flocker's EBS volumes never leave it). */
  readonly availabilityZone: string;
  /** Sources of SSH, the Flocker REST API and the Spark UIs. */
  readonly adminCidrs: readonly string[];
  /** Open IPsec ESP between nodes for an encrypted overlay. */
  readonly overlayEncrypted: boolean;
  /** Open the Flocker control service's ports (false on the current platform). @default true */
  readonly flocker?: boolean;
  /** Tags for every taggable child. @default {} */
  readonly tags?: Record<string, string>;
}

/**
 * The cluster's own VPC, its public subnet and the four security groups of the port matrix
 * (lib/ports.ts), each rule a separate resource with a description.
 */
export class ClusterNetwork extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly subnetId: pulumi.Output<string>;
  public readonly securityGroupIds: Record<SecurityGroupRole, pulumi.Output<string>>;
  /** The subnet routes to the internet: SSH from the operator and apt on the nodes need it. */
  public readonly internetRoute: pulumi.Resource;

  constructor(name: string, args: ClusterNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:network:ClusterNetwork", name, {}, opts);
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: args.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags("vpc") },
      { parent: this },
    );
    const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags("igw") }, { parent: vpc });
    // Nodes get public addresses for SSH from the operator; nothing is assigned by default.
    const subnet = new aws.ec2.Subnet(
      `${name}-subnet`,
      {
        vpcId: vpc.id,
        cidrBlock: args.subnetCidr,
        availabilityZone: args.availabilityZone,
        mapPublicIpOnLaunch: false,
        tags: tags("subnet"),
      },
      { parent: vpc },
    );
    const routes = new aws.ec2.RouteTable(
      `${name}-routes`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }], tags: tags("routes") },
      { parent: vpc },
    );
    this.internetRoute = new aws.ec2.RouteTableAssociation(
      `${name}-subnet-routes`,
      { subnetId: subnet.id, routeTableId: routes.id },
      { parent: subnet },
    );

    const groups = {} as Record<SecurityGroupRole, aws.ec2.SecurityGroup>;
    for (const role of Object.keys(SECURITY_GROUP_DESCRIPTIONS) as SecurityGroupRole[]) {
      // No inline rules: every rule below is its own resource, and mixing the two styles makes
      // the provider fight itself.
      groups[role] = new aws.ec2.SecurityGroup(
        `${name}-${role}`,
        { vpcId: vpc.id, description: SECURITY_GROUP_DESCRIPTIONS[role], revokeRulesOnDelete: true, tags: tags(role) },
        { parent: this },
      );
    }
    for (const rule of portMatrix({
      adminCidrs: args.adminCidrs,
      overlayEncrypted: args.overlayEncrypted,
      flocker: args.flocker,
    })) {
      createRule(`${name}-${rule.name}`, rule, groups);
    }

    this.vpcId = vpc.id;
    this.subnetId = subnet.id;
    this.securityGroupIds = {
      node: groups.node.id,
      manager: groups.manager.id,
      control: groups.control.id,
      swarm: groups.swarm.id,
    };
    this.registerOutputs({ vpcId: this.vpcId, subnetId: this.subnetId, securityGroupIds: this.securityGroupIds });
  }
}

function createRule(name: string, rule: RuleSpec, groups: Record<SecurityGroupRole, aws.ec2.SecurityGroup>) {
  const group = groups[rule.group];
  const peer =
    rule.peer.kind === "group"
      ? { referencedSecurityGroupId: groups[rule.peer.group].id }
      : isIpv6Cidr(rule.peer.cidr)
        ? { cidrIpv6: rule.peer.cidr }
        : { cidrIpv4: rule.peer.cidr };
  const common = {
    securityGroupId: group.id,
    ipProtocol: rule.protocol,
    fromPort: rule.port,
    toPort: rule.port,
    description: rule.description,
    ...peer,
  };
  return rule.direction === "ingress"
    ? new aws.vpc.SecurityGroupIngressRule(name, common, { parent: group })
    : new aws.vpc.SecurityGroupEgressRule(name, common, { parent: group });
}
