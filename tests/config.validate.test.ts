import type { ClusterConfig, ConfigKey } from "../config/schema";
import { dockerImageReferenceProblem, isDebianVersion, parseAptSourceLine, sparkMemoryMiB } from "../config/formats";
import { formatProblems, validateConfig, type FileProbe, type RawConfig } from "../config/validate";
import { CURRENT_SPARK_IMAGE } from "../lib/platform";

type Values = Partial<Record<ConfigKey, string>>;

const APT_SOURCE = "deb [trusted=yes] https://flocker-packages.invalid/ubuntu/16.04/amd64 /";

/** Pulumi.dev.yaml: the book's cluster, as the CLI hands it to the program (every value as text). */
const BOOK_VALUES: Values = {
  availabilityZone: "us-east-1a",
  nodeCount: "10",
  managerCount: "3",
  instanceType: "t2.medium",
  adminCidrs: '["203.0.113.10/32"]',
  flockerInstall: "packages",
  flockerAptSource: APT_SOURCE,
  flockerAptAllowUnsigned: "true",
  sparkVolumeSize: "75G",
  sparkVolumeProfile: "bronze",
  sparkWorkerReplicas: "3",
};

const DEB_DIR = "/srv/flocker-debs";
const FLOCKER_DEBS = [
  "clusterhq-python-flocker_1.15.0-1_amd64.deb",
  "clusterhq-flocker-node_1.15.0-1_all.deb",
  "clusterhq-flocker-docker-plugin_1.15.0-1_all.deb",
];

/** A file system with one directory, DEB_DIR, holding `debs`. */
function filesWith(debs: readonly string[] = FLOCKER_DEBS): FileProbe {
  return { listDir: (path) => (path === DEB_DIR ? debs : undefined) };
}

function raw(values: Values, overrides: Partial<RawConfig> = {}): RawConfig {
  return { project: "swarm-flocker", stack: "dev", region: "us-east-1", values, ...overrides };
}

/** The book's values with `changes` on top; a change to undefined removes the key. */
function bookWith(changes: Record<string, string | undefined>): Values {
  // The opt-in for the book's unsigned source goes with it (it is refused without an apt source).
  const optIn =
    "flockerAptSource" in changes && changes.flockerAptSource === undefined ? { flockerAptAllowUnsigned: undefined } : {};
  const values: Record<string, string | undefined> = { ...BOOK_VALUES, ...optIn, ...changes };
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Values;
}

describe("valid configurations", () => {
  test("the defaults plus the book's values give the book's cluster", () => {
    const result = validateConfig(raw(BOOK_VALUES), filesWith());
    expect(result.problems).toEqual([]);
    const expected: ClusterConfig = {
      project: "swarm-flocker",
      stack: "dev",
      region: "us-east-1",
      platform: "book",
      clusterName: "dev",
      availabilityZone: "us-east-1a",
      nodeCount: 10,
      managerCount: 3,
      nodeNamePrefix: "aws-",
      firstNodeNumber: 101,
      instanceType: "t2.medium",
      adminCidrs: ["203.0.113.10/32"],
      allowPublicAdminAccess: false,
      allowWideAdminCidrs: false,
      vpcCidr: "172.31.0.0/16",
      subnetCidr: "172.31.0.0/20",
      nodeIpOffset: 10,
      sshUser: "ubuntu",
      sshKeyGeneration: 1,
      ubuntuRelease: "16.04",
      rootVolumeSizeGiB: 16,
      flockerControlVolumeSizeGiB: 4,
      dockerPackage: "docker.io",
      ubuntuArchiveMirror: "",
      flocker: { kind: "packages", packages: { kind: "apt", aptSource: APT_SOURCE, allowUnsigned: true } },
      flockerTest: true,
      flockerTestImage: "busybox",
      overlaySubnet: "10.0.0.0/24",
      overlayEncrypted: false,
      swarmAddressPool: "10.255.0.0/16",
      swarmAddressPoolMaskLength: 24,
      sparkVolumeSize: "75G",
      sparkVolumeSizeGiB: 75,
      sparkVolumeProfile: "bronze",
      sparkWorkerReplicas: 3,
      sparkWorkerCores: 1,
      sparkWorkerMemory: "1g",
      sparkMasterImage: "fsoppelsa/spark-master",
      sparkWorkerImage: "fsoppelsa/spark-worker",
      // The current platform's key keeps its default on a book stack, where nothing reads it.
      sparkImage: CURRENT_SPARK_IMAGE,
      smokeTest: true,
      monthlyCostCeilingUsd: 500,
    };
    // toStrictEqual: the optional ami, nodeImageId and dockerVersion are absent, not "".
    expect(result.config).toStrictEqual(expected);
  });

  test("the production stack's values (Pulumi.prod.yaml) validate", () => {
    const result = validateConfig(
      raw(
        {
          availabilityZone: "us-west-2b",
          clusterName: "spark-prod",
          nodeCount: "20",
          managerCount: "5",
          instanceType: "m4.large",
          rootVolumeSizeGiB: "40",
          vpcCidr: "172.30.0.0/16",
          subnetCidr: "172.30.16.0/20",
          adminCidrs: '["198.51.100.0/24","192.0.2.44/32"]',
          ubuntuRelease: "18.04",
          overlayEncrypted: "false",
          flockerInstall: "packages",
          flockerAptSource: "deb [trusted=yes] https://flocker-packages.invalid/ubuntu/18.04/amd64 /",
          flockerAptAllowUnsigned: "true",
          sparkVolumeSize: "200G",
          sparkVolumeProfile: "silver",
          sparkWorkerReplicas: "12",
          sparkWorkerCores: "2",
          sparkWorkerMemory: "6g",
          monthlyCostCeilingUsd: "0",
        },
        { stack: "prod", region: "us-west-2" },
      ),
    );
    expect(result.problems).toEqual([]);
    expect(result.config).toMatchObject({
      stack: "prod",
      region: "us-west-2",
      clusterName: "spark-prod",
      nodeCount: 20,
      managerCount: 5,
      adminCidrs: ["198.51.100.0/24", "192.0.2.44/32"],
      overlayEncrypted: false,
      sparkVolumeSizeGiB: 200,
      sparkVolumeProfile: "silver",
      sparkWorkerMemory: "6g",
    });
  });

  test("a .deb directory, a pinned AMI and Docker version, and wide admin networks with their opt-in come through", () => {
    const values = bookWith({
      flockerAptSource: undefined,
      flockerDebDir: DEB_DIR,
      ami: "ami-0123456789abcdef0",
      dockerVersion: "18.09.7-0ubuntu1~16.04.7",
      adminCidrs: '["11.0.0.0/8","2001:db8::/32"]',
      allowWideAdminCidrs: "true",
      sparkVolumeSize: "1TiB",
      // gold 1 TiB: 20000 provisioned IOPS, above the default ceiling.
      monthlyCostCeilingUsd: "2000",
      sparkVolumeProfile: "gold",
    });
    const result = validateConfig(raw(values), filesWith());
    expect(result.problems).toEqual([]);
    expect(result.config).toMatchObject({
      flocker: { kind: "packages", packages: { kind: "debs", debDir: DEB_DIR } },
      ami: "ami-0123456789abcdef0",
      dockerVersion: "18.09.7-0ubuntu1~16.04.7",
      adminCidrs: ["11.0.0.0/8", "2001:db8::/32"],
      allowWideAdminCidrs: true,
      sparkVolumeSizeGiB: 1024,
      sparkVolumeProfile: "gold",
    });
  });

  test("edge values that are allowed", () => {
    const values = bookWith({
      nodeCount: "3",
      managerCount: "1",
      nodeIpOffset: "4",
      sparkWorkerReplicas: "0",
      smokeTest: "false",
      sparkVolumeSize: "4G",
      sparkVolumeProfile: "gold",
      sparkWorkerMemory: "2048M",
      sparkMasterImage: "registry.example.com:5000/spark/master:2.0.2@sha256:" + "a".repeat(64),
      adminCidrs: '["2001:db8:0:100::/56"]',
    });
    const result = validateConfig(raw(values));
    expect(result.problems).toEqual([]);
    expect(result.config).toMatchObject({ nodeCount: 3, managerCount: 1, sparkWorkerReplicas: 0, sparkVolumeSizeGiB: 4 });
  });
});

interface NegativeCase {
  readonly mistake: string;
  readonly values: Values;
  readonly overrides?: Partial<RawConfig>;
  readonly files?: FileProbe;
  readonly key: string;
  /** The bad value; undefined for a missing key. */
  readonly value: string | undefined;
  /** Text the message must contain: what is allowed (and why). */
  readonly allowed: string;
}

const CASES: readonly NegativeCase[] = [
  // where
  {
    mistake: "no region",
    values: BOOK_VALUES,
    overrides: { region: undefined },
    key: "aws:region",
    value: undefined,
    allowed: "pulumi config set aws:region us-east-1",
  },
  {
    mistake: "region in capitals",
    values: BOOK_VALUES,
    overrides: { region: "US-EAST-1" },
    key: "aws:region",
    value: "US-EAST-1",
    allowed: "a region such as us-east-1",
  },
  {
    mistake: "zone of another region",
    values: bookWith({ availabilityZone: "us-west-2a" }),
    key: "availabilityZone",
    value: "us-west-2a",
    allowed: "us-east-1 plus one letter",
  },
  {
    mistake: "region given as zone",
    values: bookWith({ availabilityZone: "us-east-1" }),
    key: "availabilityZone",
    value: "us-east-1",
    allowed: "us-east-1a, us-east-1b",
  },
  // names
  {
    mistake: "cluster name with capitals and underscore",
    values: bookWith({ clusterName: "Spark_Prod" }),
    key: "clusterName",
    value: "Spark_Prod",
    allowed: "up to 40 lowercase letters, digits and hyphens",
  },
  {
    mistake: "cluster name too long",
    values: bookWith({ clusterName: "a".repeat(41) }),
    key: "clusterName",
    value: "a".repeat(41),
    allowed: "up to 40",
  },
  {
    mistake: "empty cluster name with a stack name that is no cluster name",
    values: BOOK_VALUES,
    overrides: { stack: "Dev_1" },
    key: "clusterName",
    value: "",
    allowed: 'means the stack name "Dev_1"',
  },
  {
    mistake: "upper-case node name prefix",
    values: bookWith({ nodeNamePrefix: "AWS-" }),
    key: "nodeNamePrefix",
    value: "AWS-",
    allowed: "use lower case (aws-)",
  },
  {
    mistake: "underscore in node name prefix",
    values: bookWith({ nodeNamePrefix: "aws_" }),
    key: "nodeNamePrefix",
    value: "aws_",
    allowed: "lowercase letters, digits and hyphens, starting with a letter",
  },
  {
    mistake: "node name prefix starting with a hyphen",
    values: bookWith({ nodeNamePrefix: "-aws" }),
    key: "nodeNamePrefix",
    value: "-aws",
    allowed: "starting with a letter",
  },
  {
    mistake: "empty node name prefix (names would be bare numbers)",
    values: bookWith({ nodeNamePrefix: "" }),
    key: "nodeNamePrefix",
    value: "",
    allowed: "digits alone reads as an IP address",
  },
  {
    mistake: "node names longer than a hostname label",
    values: bookWith({ nodeNamePrefix: "n".repeat(61) }),
    key: "nodeNamePrefix",
    value: "n".repeat(61),
    allowed: "at most 63",
  },
  // cluster shape
  { mistake: "two nodes", values: bookWith({ nodeCount: "2" }), key: "nodeCount", value: "2", allowed: "from 3 to 200" },
  {
    mistake: "node count in words",
    values: bookWith({ nodeCount: "ten" }),
    key: "nodeCount",
    value: "ten",
    allowed: "is not a whole number: use a whole number from 3 to 200",
  },
  {
    mistake: "fractional node count",
    values: bookWith({ nodeCount: "10.5" }),
    key: "nodeCount",
    value: "10.5",
    allowed: "from 3 to 200",
  },
  {
    mistake: "even manager count",
    values: bookWith({ managerCount: "4" }),
    key: "managerCount",
    value: "4",
    allowed: "use an odd number (1, 3, 5 or 7) so the Raft quorum survives failures",
  },
  {
    mistake: "too many managers",
    values: bookWith({ managerCount: "9", nodeCount: "20" }),
    key: "managerCount",
    value: "9",
    allowed: "at most 7 managers",
  },
  {
    mistake: "no managers",
    values: bookWith({ managerCount: "0" }),
    key: "managerCount",
    value: "0",
    allowed: "an odd number from 1 to 7",
  },
  {
    mistake: "no room for the control node and the Spark master",
    values: bookWith({ managerCount: "7", nodeCount: "8" }),
    key: "managerCount",
    value: "7",
    allowed:
      "at most nodeCount - 2 = 6 (an odd number, so 5), because the node after the managers runs the Flocker control service",
  },
  {
    mistake: "negative first node number",
    values: bookWith({ firstNodeNumber: "-1" }),
    key: "firstNodeNumber",
    value: "-1",
    allowed: "from 0 to 99999",
  },
  {
    mistake: "Nitro instance type",
    values: bookWith({ instanceType: "t3.medium" }),
    key: "instanceType",
    value: "t3.medium",
    allowed: "use a Xen instance type",
  },
  {
    mistake: "Nitro instance type of a Xen-sounding family",
    values: bookWith({ instanceType: "i3en.large" }),
    key: "instanceType",
    value: "i3en.large",
    allowed: "only discovers /dev/xvd* and /dev/sd* devices",
  },
  {
    mistake: "instance type without a dot",
    values: bookWith({ instanceType: "t2medium" }),
    key: "instanceType",
    value: "t2medium",
    allowed: "family.size in lower case",
  },
  {
    mistake: "empty instance type",
    values: bookWith({ instanceType: "" }),
    key: "instanceType",
    value: "",
    allowed: "such as t2.medium",
  },
  {
    mistake: "root volume smaller than the image",
    values: bookWith({ rootVolumeSizeGiB: "4" }),
    key: "rootVolumeSizeGiB",
    value: "4",
    allowed: "from 8",
  },
  {
    mistake: "no room for the control service's state",
    values: bookWith({ flockerControlVolumeSizeGiB: "0" }),
    key: "flockerControlVolumeSizeGiB",
    value: "0",
    allowed: "from 1 to 64",
  },
  {
    mistake: "an SSH key generation below the first",
    values: bookWith({ sshKeyGeneration: "0" }),
    key: "sshKeyGeneration",
    value: "0",
    allowed: "raise it by one to rotate",
  },
  // admin access
  {
    mistake: "no admin CIDRs",
    values: bookWith({ adminCidrs: undefined }),
    key: "adminCidrs",
    value: undefined,
    allowed: "pulumi config set --path 'adminCidrs[0]'",
  },
  {
    mistake: "admin CIDR set as plain text, not a list",
    values: bookWith({ adminCidrs: "203.0.113.7/32" }),
    key: "adminCidrs",
    value: "203.0.113.7/32",
    allowed: "is not a list of CIDR strings",
  },
  {
    mistake: "admin CIDR list of numbers",
    values: bookWith({ adminCidrs: "[1, 2]" }),
    key: "adminCidrs",
    value: "[1, 2]",
    allowed: "is not a list of CIDR strings",
  },
  {
    mistake: "empty admin CIDR list",
    values: bookWith({ adminCidrs: "[]" }),
    key: "adminCidrs",
    value: "[]",
    allowed: "list at least one CIDR",
  },
  {
    mistake: "the IPv4 Internet",
    values: bookWith({ adminCidrs: '["0.0.0.0/0"]' }),
    key: "adminCidrs",
    value: "0.0.0.0/0",
    allowed: "no setting allows that",
  },
  {
    mistake: "the IPv6 Internet",
    values: bookWith({ adminCidrs: '["203.0.113.7/32","::/0"]' }),
    key: "adminCidrs",
    value: "::/0",
    allowed: "(item 2) is not allowed: it opens SSH and the Flocker API to the whole internet",
  },
  {
    mistake: "the retired public opt-in",
    values: bookWith({ allowPublicAdminAccess: "true" }),
    key: "allowPublicAdminAccess",
    value: "true",
    allowed: "is refused: the whole internet never reaches SSH and the Flocker API",
  },
  {
    mistake: "an admin network wider than a /24",
    values: bookWith({ adminCidrs: '["198.51.100.0/24","100.64.0.0/16"]' }),
    key: "adminCidrs",
    value: "100.64.0.0/16",
    allowed: "(item 2) is a /16 (65536 addresses), wider than the /24 one entry may be",
  },
  {
    mistake: "an opt-in for wide networks that is not a boolean",
    values: bookWith({ allowWideAdminCidrs: "on" }),
    key: "allowWideAdminCidrs",
    value: "on",
    allowed: "use true or false",
  },
  {
    mistake: "prefix length out of range",
    values: bookWith({ adminCidrs: '["203.0.113.7/33"]' }),
    key: "adminCidrs",
    value: "203.0.113.7/33",
    allowed: "IPv4 or IPv6 network such as 203.0.113.7/32",
  },
  {
    mistake: "address without prefix",
    values: bookWith({ adminCidrs: '["203.0.113.7"]' }),
    key: "adminCidrs",
    value: "203.0.113.7",
    allowed: "write 203.0.113.7/32",
  },
  {
    mistake: "host address with a network prefix",
    values: bookWith({ adminCidrs: '["203.0.113.7/24"]' }),
    key: "adminCidrs",
    value: "203.0.113.7/24",
    allowed: "write 203.0.113.0/24 for the whole network, or 203.0.113.7/32",
  },
  {
    mistake: "duplicate admin CIDR",
    values: bookWith({ adminCidrs: '["203.0.113.7/32","198.51.100.0/24","203.0.113.7/32"]' }),
    key: "adminCidrs",
    value: "203.0.113.7/32",
    allowed: "(item 3) is listed twice",
  },
  {
    mistake: "opt-in that is not a boolean",
    values: bookWith({ allowPublicAdminAccess: "yes" }),
    key: "allowPublicAdminAccess",
    value: "yes",
    allowed: "use true or false",
  },
  // addresses
  {
    mistake: "VPC larger than AWS allows",
    values: bookWith({ vpcCidr: "172.16.0.0/12", subnetCidr: "172.16.0.0/20" }),
    key: "vpcCidr",
    value: "172.16.0.0/12",
    allowed: "prefix from /16 to /28",
  },
  {
    mistake: "VPC with host bits",
    values: bookWith({ vpcCidr: "172.31.0.1/16" }),
    key: "vpcCidr",
    value: "172.31.0.1/16",
    allowed: "write 172.31.0.0/16",
  },
  {
    mistake: "VPC on Swarm's ingress network",
    values: bookWith({ vpcCidr: "10.255.0.0/16", subnetCidr: "10.255.0.0/20" }),
    key: "vpcCidr",
    value: "10.255.0.0/16",
    allowed: "overlaps Swarm's ingress network 10.255.0.0/24 (the first /24 of swarmAddressPool 10.255.0.0/16)",
  },
  {
    mistake: "VPC in the swarm's address pool, away from ingress",
    values: bookWith({ vpcCidr: "10.20.0.0/16", subnetCidr: "10.20.0.0/20", swarmAddressPool: "10.16.0.0/12" }),
    key: "vpcCidr",
    value: "10.20.0.0/16",
    allowed: "overlaps swarmAddressPool 10.16.0.0/12, from which Swarm takes the subnets of its networks",
  },
  {
    mistake: "VPC on Docker's default bridge",
    values: bookWith({ vpcCidr: "172.17.0.0/16", subnetCidr: "172.17.0.0/20" }),
    key: "vpcCidr",
    value: "172.17.0.0/16",
    allowed: "overlaps Docker's default bridge docker0 172.17.0.0/16, which every node holds",
  },
  {
    mistake: "VPC CIDR that is not one",
    values: bookWith({ vpcCidr: "default" }),
    key: "vpcCidr",
    value: "default",
    allowed: "use an IPv4 network CIDR",
  },
  {
    mistake: "subnet outside the VPC",
    values: bookWith({ subnetCidr: "10.1.0.0/20" }),
    key: "subnetCidr",
    value: "10.1.0.0/20",
    allowed: "is not inside vpcCidr 172.31.0.0/16: use a subnet of the VPC, e.g. 172.31.0.0/20",
  },
  {
    mistake: "node addresses in AWS's reserved range",
    values: bookWith({ nodeIpOffset: "3" }),
    key: "nodeIpOffset",
    value: "3",
    allowed: "AWS reserves the first four addresses",
  },
  {
    mistake: "node addresses past the end of the subnet",
    values: bookWith({ nodeIpOffset: "4090" }),
    key: "nodeIpOffset",
    value: "4090",
    allowed: "the last node would get host number 4099, past the subnet's last usable address (4094); use 4 to 4085",
  },
  {
    mistake: "overlay inside the VPC",
    values: bookWith({ overlaySubnet: "172.31.128.0/24" }),
    key: "overlaySubnet",
    value: "172.31.128.0/24",
    allowed: "overlaps vpcCidr 172.31.0.0/16: use a range outside the VPC",
  },
  {
    mistake: "overlay on Swarm's ingress network",
    values: bookWith({ overlaySubnet: "10.255.0.0/24" }),
    key: "overlaySubnet",
    value: "10.255.0.0/24",
    allowed:
      "overlaps Swarm's ingress network 10.255.0.0/24 (the first /24 of swarmAddressPool 10.255.0.0/16): Docker would create the network",
  },
  {
    mistake: "the book's overlay in Docker's built-in address pool",
    values: bookWith({ swarmAddressPool: "10.0.0.0/8" }),
    key: "overlaySubnet",
    value: "10.0.0.0/24",
    allowed: "overlaps Swarm's ingress network 10.0.0.0/24 (the first /24 of swarmAddressPool 10.0.0.0/8)",
  },
  {
    mistake: "overlay in the swarm's address pool, away from ingress",
    values: bookWith({ overlaySubnet: "10.255.1.0/24" }),
    key: "overlaySubnet",
    value: "10.255.1.0/24",
    allowed: "overlaps swarmAddressPool 10.255.0.0/16, from which Swarm takes the subnets of its networks",
  },
  {
    mistake: "overlay on docker_gwbridge",
    values: bookWith({ overlaySubnet: "172.18.4.0/24" }),
    key: "overlaySubnet",
    value: "172.18.4.0/24",
    allowed: "overlaps Swarm's gateway bridge docker_gwbridge 172.18.0.0/16, which every node holds",
  },
  {
    mistake: "overlay on the link-local range",
    values: bookWith({ overlaySubnet: "169.254.0.0/24" }),
    key: "overlaySubnet",
    value: "169.254.0.0/24",
    allowed: "overlaps the link-local range (EC2's metadata service and DNS) 169.254.0.0/16",
  },
  {
    mistake: "overlay on the loopback range",
    values: bookWith({ overlaySubnet: "127.0.0.0/24" }),
    key: "overlaySubnet",
    value: "127.0.0.0/24",
    allowed: "overlaps the loopback range 127.0.0.0/8",
  },
  {
    mistake: "address pool on the multicast range",
    values: bookWith({ swarmAddressPool: "224.0.0.0/16" }),
    key: "swarmAddressPool",
    value: "224.0.0.0/16",
    allowed: "overlaps the multicast range 224.0.0.0/4, which every node holds",
  },
  {
    mistake: "address pool over Docker's bridges",
    values: bookWith({ swarmAddressPool: "172.16.0.0/12" }),
    key: "swarmAddressPool",
    value: "172.16.0.0/12",
    allowed: "overlaps Docker's default bridge docker0 172.17.0.0/16 and Swarm's gateway bridge docker_gwbridge 172.18.0.0/16",
  },
  {
    mistake: "address pool that is not a CIDR",
    values: bookWith({ swarmAddressPool: "10.255.0.0" }),
    key: "swarmAddressPool",
    value: "10.255.0.0",
    allowed: "use an IPv4 network CIDR with a prefix from /8 to /29",
  },
  {
    mistake: "address pool mask shorter than the pool",
    values: bookWith({ swarmAddressPoolMaskLength: "12" }),
    key: "swarmAddressPoolMaskLength",
    value: "12",
    allowed: "is shorter than swarmAddressPool 10.255.0.0/16's prefix /16",
  },
  {
    mistake: "address pool mask past Docker's limit",
    values: bookWith({ swarmAddressPoolMaskLength: "30" }),
    key: "swarmAddressPoolMaskLength",
    value: "30",
    allowed: "to 29 (Docker's limit)",
  },
  {
    mistake: "ingress too small for the Swarm's nodes",
    values: bookWith({ swarmAddressPoolMaskLength: "29" }),
    key: "swarmAddressPoolMaskLength",
    value: "29",
    allowed:
      "ingress network would be 10.255.0.0/29 with 5 usable addresses, but 9 Swarm nodes and the Spark master's published ports need 11; use 16 to 28",
  },
  {
    mistake: "overlay too small for the tasks",
    values: bookWith({ overlaySubnet: "10.0.0.0/28" }),
    key: "overlaySubnet",
    value: "10.0.0.0/28",
    allowed: "it has 13 usable addresses",
  },
  {
    mistake: "overlay encryption flag not a boolean",
    values: bookWith({ overlayEncrypted: "1" }),
    key: "overlayEncrypted",
    value: "1",
    allowed: "use true or false",
  },
  // software
  {
    mistake: "Ubuntu release without Flocker packages",
    values: bookWith({ ubuntuRelease: "20.04" }),
    key: "ubuntuRelease",
    value: "20.04",
    allowed: "use 16.04 or 18.04",
  },
  {
    mistake: "truncated AMI id",
    values: bookWith({ ami: "ami-123" }),
    key: "ami",
    value: "ami-123",
    allowed: "ami- followed by 8 or 17 hexadecimal digits",
  },
  {
    mistake: "upper-case SSH user",
    values: bookWith({ sshUser: "Ubuntu" }),
    key: "sshUser",
    value: "Ubuntu",
    allowed: "lowercase letters, digits, _ and -",
  },
  {
    mistake: "upper-case Docker package",
    values: bookWith({ dockerPackage: "Docker.io" }),
    key: "dockerPackage",
    value: "Docker.io",
    allowed: "lowercase letters, digits, +, - or .",
  },
  {
    mistake: "Docker version with a v",
    values: bookWith({ dockerVersion: "v18.09" }),
    key: "dockerVersion",
    value: "v18.09",
    allowed: "[epoch:]upstream[-revision]",
  },
  {
    mistake: "no Flocker package source",
    values: bookWith({ flockerAptSource: undefined }),
    key: "flockerAptSource",
    value: undefined,
    allowed: "and flockerDebDir are both empty: set exactly one of them",
  },
  {
    mistake: "both Flocker package sources",
    values: bookWith({ flockerDebDir: DEB_DIR }),
    files: filesWith(),
    key: "flockerAptSource",
    value: undefined,
    allowed: "and flockerDebDir are both set: set only one",
  },
  {
    mistake: "apt source without deb",
    values: bookWith({ flockerAptSource: "https://repo.example.com/flocker /" }),
    key: "flockerAptSource",
    value: "https://repo.example.com/flocker /",
    allowed: 'it must start with "deb"',
  },
  {
    mistake: "archive mirror with credentials over plain http",
    values: bookWith({ ubuntuArchiveMirror: "http://deploy:pw@mirror.corp.example/ubuntu" }),
    key: "ubuntuArchiveMirror",
    value: "http://deploy:pw@mirror.corp.example/ubuntu",
    allowed: "carries credentials in a plain http URL: apt would send them in clear text; use https://",
  },
  {
    mistake: "apt source over FTP",
    values: bookWith({ flockerAptSource: "deb ftp://repo.example.com/flocker /" }),
    key: "flockerAptSource",
    value: "deb ftp://repo.example.com/flocker /",
    allowed: 'the URI "ftp://repo.example.com/flocker" must start with https:// or http://',
  },
  {
    mistake: "apt source with a suite but no component",
    values: bookWith({ flockerAptSource: "deb https://repo.example.com/flocker xenial" }),
    key: "flockerAptSource",
    value: "deb https://repo.example.com/flocker xenial",
    allowed: 'suite "xenial" needs at least one component',
  },
  {
    mistake: "apt source with an unclosed option list",
    values: bookWith({ flockerAptSource: "deb [trusted=yes https://repo.example.com/flocker /" }),
    key: "flockerAptSource",
    value: "deb [trusted=yes https://repo.example.com/flocker /",
    allowed: "the [options] list must end with ] followed by a space",
  },
  {
    mistake: "apt source with components after an exact path",
    values: bookWith({ flockerAptSource: "deb https://repo.example.com/flocker ./ main" }),
    key: "flockerAptSource",
    value: "deb https://repo.example.com/flocker ./ main",
    allowed: "no components may follow it",
  },
  {
    mistake: "apt source apt would refuse as unsigned",
    values: bookWith({ flockerAptSource: "deb https://repo.example.com/flocker /" }),
    key: "flockerAptSource",
    value: "deb https://repo.example.com/flocker /",
    allowed: "names neither signed-by=/etc/apt/keyrings/flocker.gpg (with flockerAptKey) nor trusted=yes",
  },
  {
    mistake: "apt source of two lines",
    values: bookWith({ flockerAptSource: `${APT_SOURCE}\ndeb http://evil.example.com/ /` }),
    key: "flockerAptSource",
    value: `${APT_SOURCE}\ndeb http://evil.example.com/ /`,
    allowed: "it must be a single line",
  },
  {
    mistake: ".deb directory that does not exist",
    values: bookWith({ flockerAptSource: undefined, flockerDebDir: "~/flocker-debs" }),
    files: filesWith(),
    key: "flockerDebDir",
    value: "~/flocker-debs",
    allowed: "~ is not expanded",
  },
  {
    mistake: ".deb directory without the plugin",
    values: bookWith({ flockerAptSource: undefined, flockerDebDir: DEB_DIR }),
    files: filesWith(FLOCKER_DEBS.slice(0, 2)),
    key: "flockerDebDir",
    value: DEB_DIR,
    allowed: "has no clusterhq-flocker-docker-plugin_*.deb",
  },
  // Spark
  {
    mistake: "volume size with trailing junk",
    values: bookWith({ sparkVolumeSize: "75Gx" }),
    key: "sparkVolumeSize",
    value: "75Gx",
    allowed: "would silently create its 75 GiB default",
  },
  {
    mistake: "volume size with digits after the unit",
    values: bookWith({ sparkVolumeSize: "7G5" }),
    key: "sparkVolumeSize",
    value: "7G5",
    allowed: "would read it as 75 GiB): use digits and an optional unit K, M, G or T",
  },
  {
    mistake: "decimal volume size",
    values: bookWith({ sparkVolumeSize: "1.5G" }),
    key: "sparkVolumeSize",
    value: "1.5G",
    allowed: "would fail on it",
  },
  {
    mistake: "volume size with a space",
    values: bookWith({ sparkVolumeSize: "75 G" }),
    key: "sparkVolumeSize",
    value: "75 G",
    allowed: "e.g. 75G or 100GiB",
  },
  {
    mistake: "volume smaller than 1 GiB",
    values: bookWith({ sparkVolumeSize: "512M" }),
    key: "sparkVolumeSize",
    value: "512M",
    allowed: "use 1 GiB (EBS's minimum) to 16384 GiB",
  },
  {
    mistake: "volume larger than EBS allows",
    values: bookWith({ sparkVolumeSize: "17T", sparkVolumeProfile: "silver" }),
    key: "sparkVolumeSize",
    value: "17T",
    allowed: "to 16384 GiB",
  },
  {
    mistake: "volume size Flocker rounds up",
    values: bookWith({ sparkVolumeSize: "1500M" }),
    key: "sparkVolumeSize",
    value: "1500M",
    allowed: "round it up to 2 GiB for EBS",
  },
  {
    mistake: "unknown profile",
    values: bookWith({ sparkVolumeProfile: "platinum" }),
    key: "sparkVolumeProfile",
    value: "platinum",
    allowed: "use gold (io1 SSD), silver (gp2 SSD) or bronze",
  },
  {
    mistake: "profile in capitals",
    values: bookWith({ sparkVolumeProfile: "Gold" }),
    key: "sparkVolumeProfile",
    value: "Gold",
    allowed: "in lower case",
  },
  {
    mistake: "gold volume below 4 GiB",
    values: bookWith({ sparkVolumeProfile: "gold", sparkVolumeSize: "2G" }),
    key: "sparkVolumeProfile",
    value: "gold",
    allowed: 'with sparkVolumeSize "2G": a gold (io1) volume must be 4 to 16384 GiB',
  },
  {
    mistake: "magnetic volume above 1 TiB",
    values: bookWith({ sparkVolumeSize: "2T" }),
    key: "sparkVolumeProfile",
    value: "bronze",
    allowed: "must be 1 to 1024 GiB, not 2048 GiB; use silver or gold",
  },
  {
    mistake: "negative worker replicas",
    values: bookWith({ sparkWorkerReplicas: "-1" }),
    key: "sparkWorkerReplicas",
    value: "-1",
    allowed: "from 0 (no workers) to 1000",
  },
  {
    mistake: "workers without cores",
    values: bookWith({ sparkWorkerCores: "0" }),
    key: "sparkWorkerCores",
    value: "0",
    allowed: "from 1 to 256",
  },
  {
    mistake: "decimal worker memory",
    values: bookWith({ sparkWorkerMemory: "1.5g" }),
    key: "sparkWorkerMemory",
    value: "1.5g",
    allowed: "a whole number and a unit k, m, g or t",
  },
  {
    mistake: "worker memory without a unit",
    values: bookWith({ sparkWorkerMemory: "1024" }),
    key: "sparkWorkerMemory",
    value: "1024",
    allowed: "e.g. 1g, 512m or 2048m",
  },
  {
    mistake: "worker memory below 1 MiB",
    values: bookWith({ sparkWorkerMemory: "512k" }),
    key: "sparkWorkerMemory",
    value: "512k",
    allowed: "at least 1m",
  },
  {
    mistake: "image with an upper-case repository",
    values: bookWith({ sparkMasterImage: "Fsoppelsa/spark-master" }),
    key: "sparkMasterImage",
    value: "Fsoppelsa/spark-master",
    allowed: "repository names must be lower case",
  },
  {
    mistake: "empty image",
    values: bookWith({ sparkWorkerImage: "" }),
    key: "sparkWorkerImage",
    value: "",
    allowed: "[registry/]name[:tag][@sha256:digest]",
  },
  {
    mistake: "image with an empty tag",
    values: bookWith({ sparkWorkerImage: "fsoppelsa/spark-worker:" }),
    key: "sparkWorkerImage",
    value: "fsoppelsa/spark-worker:",
    allowed: "the tag must be 1 to 128",
  },
  {
    mistake: "image with a short digest",
    values: bookWith({ sparkMasterImage: "fsoppelsa/spark-master@sha256:abc" }),
    key: "sparkMasterImage",
    value: "fsoppelsa/spark-master@sha256:abc",
    allowed: "sha256: and 64 hex digits",
  },
  {
    mistake: "smoke test flag in capitals",
    values: bookWith({ smokeTest: "TRUE" }),
    key: "smokeTest",
    value: "TRUE",
    allowed: "use true or false",
  },
  {
    mistake: "smoke test with no workers",
    values: bookWith({ sparkWorkerReplicas: "0" }),
    key: "smokeTest",
    value: "true",
    allowed: "set smokeTest to false or run at least one worker",
  },
];

describe("each mistake is reported once, naming the key, the value as given and what is allowed", () => {
  test("the table holds at least 30 distinct mistakes", () => {
    expect(new Set(CASES.map((c) => c.mistake)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  test.each(CASES.map((c) => [c.mistake, c] as const))("%s", (_mistake, c) => {
    const result = validateConfig(raw(c.values, c.overrides), c.files);
    expect(result.config).toBeUndefined();
    expect(result.problems).toHaveLength(1);
    const [problem] = result.problems;
    expect(problem.key).toBe(c.key);
    expect(problem.value).toBe(c.value);
    const head = c.value === undefined ? `${c.key} ` : `${c.key}: ${JSON.stringify(c.value)} `;
    expect(problem.message.startsWith(head)).toBe(true);
    expect(problem.message).toContain(c.allowed);
  });

  test("the Flocker package messages point to docs/flocker.md", () => {
    for (const values of [
      bookWith({ flockerAptSource: undefined }),
      bookWith({ flockerAptSource: undefined, flockerDebDir: "/nope" }),
    ]) {
      const [problem] = validateConfig(raw(values), filesWith()).problems;
      expect(problem.message).toContain('see docs/flocker.md, "packages"');
    }
  });
});

describe("the address plan's suggestions are free of conflicts themselves", () => {
  /** Each "e.g. CIDR" of a message with the key it is offered for. */
  function suggestions(key: string, message: string): { key: string; cidr: string }[] {
    const pattern = /(?:another (\w+)|a (swarmAddressPool) that|a range)[^;]*?e\.g\. (\d+\.\d+\.\d+\.\d+\/\d+)/g;
    return [...message.matchAll(pattern)].map((m) => ({ key: m[1] ?? m[2] ?? key, cidr: m[3] }));
  }

  /** The values with `key` set to `cidr`; a new VPC brings its first /20 as the subnet. */
  function applied(values: Values, key: string, cidr: string): Values {
    const subnet = key === "vpcCidr" ? { subnetCidr: `${cidr.split("/")[0]}/20` } : {};
    return { ...values, [key]: cidr, ...subnet };
  }

  test.each([
    [
      "a VPC holding the book's overlay (issue 20: the hint was the conflicting 10.0.0.0/24)",
      { vpcCidr: "10.0.0.0/16", subnetCidr: "10.0.0.0/20" },
    ],
    ["a VPC on the pool's ingress", { vpcCidr: "10.255.0.0/16", subnetCidr: "10.255.0.0/20" }],
    ["a VPC on docker0", { vpcCidr: "172.17.0.0/16", subnetCidr: "172.17.0.0/20" }],
    ["the overlay on ingress", { overlaySubnet: "10.255.0.0/24" }],
    ["the overlay on docker_gwbridge", { overlaySubnet: "172.18.4.0/24" }],
    ["Docker's built-in pool with the book's overlay", { swarmAddressPool: "10.0.0.0/8" }],
    ["a pool on the multicast range", { swarmAddressPool: "224.0.0.0/16" }],
    [
      "a VPC, pool and overlay all in 10.0.0.0/8",
      { vpcCidr: "10.1.0.0/16", subnetCidr: "10.1.0.0/20", swarmAddressPool: "10.0.0.0/8" },
    ],
  ])("%s", (_case, changes) => {
    const values = bookWith(changes);
    const problems = validateConfig(raw(values), filesWith()).problems;
    expect(problems.length).toBeGreaterThan(0);
    const offered = problems.flatMap((problem) => suggestions(problem.key, problem.message));
    expect(offered.length).toBeGreaterThanOrEqual(problems.length);
    for (const { key, cidr } of offered) {
      const fixed = applied(values, key, cidr);
      // The suggestion removes its own problem and brings no new one: whatever remains was there before.
      const after = validateConfig(raw(fixed), filesWith()).problems.map((p) => p.message);
      expect(after.filter((message) => message.startsWith(`${key}:`))).toEqual([]);
      expect(after.length).toBeLessThan(problems.length);
    }
  });
});

describe("all problems at once", () => {
  const values = bookWith({
    managerCount: "4",
    instanceType: "t3.medium",
    adminCidrs: '["0.0.0.0/0"]',
    sparkVolumeSize: "75Gx",
    flockerAptSource: undefined,
    nodeNamePrefix: "AWS-",
  });
  const result = validateConfig(raw(values, { region: undefined }));

  test("every mistake is reported, in the schema's order, and no config is returned", () => {
    expect(result.config).toBeUndefined();
    expect(result.problems.map((p) => p.key)).toEqual([
      "aws:region",
      "managerCount",
      "nodeNamePrefix",
      "instanceType",
      "adminCidrs",
      "flockerAptSource",
      "sparkVolumeSize",
    ]);
  });

  test("formatProblems prints one line per problem", () => {
    const text = formatProblems(result.problems);
    const lines = text.split("\n");
    expect(lines).toHaveLength(7);
    expect(lines[1]).toBe(
      '  - managerCount: "4" is not allowed: use an odd number (1, 3, 5 or 7) so the Raft quorum survives failures; 4 managers tolerate no more failures than 3',
    );
    expect(lines.every((line) => line.startsWith("  - "))).toBe(true);
  });

  test("an error in one key does not hide a dependent key's own error", () => {
    // nodeCount is wrong, so managerCount cannot be compared with it, but its own oddness still is.
    const shape = validateConfig(raw(bookWith({ nodeCount: "x", managerCount: "2" })));
    expect(shape.problems.map((p) => p.key)).toEqual(["nodeCount", "managerCount"]);
  });
});

describe("clusterName", () => {
  test("empty means the stack name", () => {
    expect(validateConfig(raw(BOOK_VALUES, { stack: "staging-2" })).config?.clusterName).toBe("staging-2");
  });

  test("a set name wins over the stack name", () => {
    expect(validateConfig(raw(bookWith({ clusterName: "spark" }), { stack: "Dev_1" })).config?.clusterName).toBe("spark");
  });
});

test("without a FileProbe the .deb directory is taken as given", () => {
  const result = validateConfig(raw(bookWith({ flockerAptSource: undefined, flockerDebDir: "/anywhere" })));
  expect(result.config?.flocker).toEqual({ kind: "packages", packages: { kind: "debs", debDir: "/anywhere" } });
});

describe("loadConfig (Pulumi's config, under the SDK's mocks)", () => {
  const mocks = {
    newResource: () => {
      throw new Error("loadConfig must not register resources");
    },
    call: () => ({}),
  };

  async function load(config: Record<string, string>) {
    const pulumi = await import("@pulumi/pulumi");
    await pulumi.runtime.setMocks(mocks, "swarm-flocker", "dev", false);
    pulumi.runtime.setAllConfig(config);
    const { loadConfig } = await import("../config/load");
    return { pulumi, loadConfig };
  }

  test("reads the project's keys, arrays as JSON, and aws:region", async () => {
    const { loadConfig } = await load({
      "aws:region": "us-east-1",
      "swarm-flocker:adminCidrs": '["203.0.113.10/32"]',
      "swarm-flocker:flockerInstall": "packages",
      "swarm-flocker:flockerAptSource": APT_SOURCE,
      "swarm-flocker:flockerAptAllowUnsigned": "true",
      "swarm-flocker:nodeCount": "5",
    });
    expect(loadConfig()).toMatchObject({
      project: "swarm-flocker",
      stack: "dev",
      region: "us-east-1",
      adminCidrs: ["203.0.113.10/32"],
      nodeCount: 5,
    });
  });

  test("throws a RunError that lists every problem under the stack's name", async () => {
    const { pulumi, loadConfig } = await load({
      "swarm-flocker:adminCidrs": '["0.0.0.0/0"]',
      "swarm-flocker:flockerInstall": "packages",
      "swarm-flocker:flockerAptSource": APT_SOURCE,
      "swarm-flocker:managerCount": "4",
    });
    let thrown: unknown;
    try {
      loadConfig();
    } catch (error) {
      thrown = error;
    }
    expect(pulumi.RunError.isInstance(thrown)).toBe(true);
    const message = (thrown as Error).message;
    expect(message.split("\n")[0]).toBe("Invalid configuration for stack dev:");
    expect(message).toContain("  - aws:region is not set");
    expect(message).toContain('  - managerCount: "4" is not allowed');
    expect(message).toContain('  - adminCidrs: "0.0.0.0/0" (item 1) is not allowed');
  });
});

describe("the text formats behind the checks", () => {
  test.each([
    "fsoppelsa/spark-master",
    "ubuntu",
    "ubuntu:16.04",
    "library/ubuntu:xenial-20190122",
    "localhost/spark",
    "localhost:5000/spark/master:2.0.2",
    "registry.example.com/a__b/c-d.e:1",
    "quay.io/org/image@sha256:" + "0".repeat(64),
  ])("image %s is a reference", (image) => {
    expect(dockerImageReferenceProblem(image)).toBeUndefined();
  });

  test.each(["Ubuntu", "ubuntu:", "ubuntu:-x", "-ubuntu", "ubuntu@sha256:12", "a@b@c", "my image", "a//b"])(
    "image %j is not",
    (image) => {
      expect(dockerImageReferenceProblem(image)).toBeDefined();
    },
  );

  test.each(["18.09.7-0ubuntu1~16.04.7", "5:20.10.24~3-0~ubuntu-focal", "1.13.1", "2:1.0-1", "17.03.2~ce-0~ubuntu-xenial"])(
    "Debian version %s",
    (version) => {
      expect(isDebianVersion(version)).toBe(true);
    },
  );

  test.each(["v18.09", "18.09-", "-1", "1.0 1", "a:1.0", "1:"])("not a Debian version: %j", (version) => {
    expect(isDebianVersion(version)).toBe(false);
  });

  test("apt lines: options with or without inner spaces, flat and classic repositories", () => {
    expect(parseAptSourceLine("deb [ arch=amd64 trusted=yes ] http://repo.example.com/ubuntu xenial main contrib")).toEqual({
      line: {
        options: ["arch=amd64", "trusted=yes"],
        uri: "http://repo.example.com/ubuntu",
        suite: "xenial",
        components: ["main", "contrib"],
      },
    });
    expect(parseAptSourceLine("deb https://repo.example.com/flocker ./")).toEqual({
      line: { options: [], uri: "https://repo.example.com/flocker", suite: "./", components: [] },
    });
    expect(parseAptSourceLine("deb file:/srv/flocker ./")).toMatchObject({
      problem: expect.stringContaining("must start with https:// or http://"),
    });
    expect(parseAptSourceLine("deb https:///flocker /")).toMatchObject({ problem: expect.stringContaining("has no host") });
    expect(parseAptSourceLine("deb https://repo.example.com/")).toMatchObject({
      problem: expect.stringContaining("names no suite"),
    });
  });

  test.each([
    ["1g", 1024],
    ["512m", 512],
    ["2048M", 2048],
    ["1024k", 1],
    ["1t", 1024 * 1024],
  ])("Spark memory %s = %d MiB", (text, mib) => {
    expect(sparkMemoryMiB(text)).toBe(mib);
  });

  test.each(["0g", "1.5g", "1024", "512k", "1gb", "g", ""])("Spark memory %j is refused", (text) => {
    expect(sparkMemoryMiB(text)).toBeUndefined();
  });
});
