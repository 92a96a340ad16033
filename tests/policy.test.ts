/**
 * The CrossGuard pack (policy/) against the real program, with no engine and no cloud
 * (docs/testing.md): the dev stack, recorded once under mocks, passes every policy;
 * and for every rule, a copy of a recorded resource with one field changed makes exactly that rule
 * fire, with a message that names the resource, the offending value and the fix.
 *
 * policy/index.ts is never imported: the PolicyPack constructor starts a gRPC server.
 */
import * as policyModule from "../policy/policies";
import { policies } from "../policy/policies";
import { DESIGNATED_PARENTS, FLOCKER_API, IMDSV1_EXCEPTION, isChildOf } from "../policy/support";
import { FLOCKER_USER_PURPOSE_TAG } from "../lib/flockerIamPolicy";
import { RecordedResource } from "../tools/plan/mockRuntime";
import { fired, isStackPolicy, ResourceLike, validateAll, variant } from "./helpers/policyArgs";
import { runIsolated } from "./helpers/isolatedRun";

let recorded: readonly RecordedResource[];

beforeAll(async () => {
  recorded = (await runIsolated("dev")).resources;
}, 120_000);

function named(name: string): RecordedResource {
  const matches = recorded.filter((r) => r.name === name);
  if (matches.length !== 1) throw new Error(`expected one recorded resource named ${name}, found ${matches.length}`);
  return matches[0];
}

function ofType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

/** The recorded stack with `original` swapped for `replacement` (same URN) and `extra` appended. */
function stackWith(replacements: readonly ResourceLike[], extra: readonly ResourceLike[] = []): ResourceLike[] {
  const byUrn = new Map(replacements.map((r) => [r.urn, r]));
  return [...recorded.map((r) => byUrn.get(r.urn) ?? r), ...extra];
}

/** A resource changed in place (same name and URN): replaces the recorded one. */
function changed(name: string, edit: (inputs: Record<string, any>) => void): ResourceLike[] {
  return stackWith([variant(named(name), edit)]);
}

/**
 * Runs every policy on the stack and checks that exactly the expected policies fired, each with one
 * message per expected pattern, in order.
 */
async function expectViolations(resources: readonly ResourceLike[], expected: Record<string, readonly RegExp[]>) {
  const result = fired(await validateAll(policies, resources));
  expect(Object.keys(result).sort()).toEqual(Object.keys(expected).sort());
  for (const [policy, patterns] of Object.entries(expected)) {
    expect(result[policy]).toHaveLength(patterns.length);
    patterns.forEach((pattern, i) => expect(result[policy][i]).toMatch(pattern));
  }
  return result;
}

async function expectClean(resources: readonly ResourceLike[]) {
  expect(fired(await validateAll(policies, resources))).toEqual({});
}

const TYPE = {
  instance: "aws:ec2/instance:Instance",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  volume: "aws:ebs/volume:Volume",
  ebsDefault: "aws:ebs/encryptionByDefault:EncryptionByDefault",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  accessKey: "aws:iam/accessKey:AccessKey",
  user: "aws:iam/user:User",
  defaultSg: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  nacl: "aws:ec2/networkAcl:NetworkAcl",
  naclRule: "aws:ec2/networkAclRule:NetworkAclRule",
  prefixList: "aws:ec2/managedPrefixList:ManagedPrefixList",
  prefixListEntry: "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  role: "aws:iam/role:Role",
  roleAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  userAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  roleAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
} as const;

/** A resource of the stack's own making, at the top level (no component parent). */
function crafted(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<ResourceLike> = {}): ResourceLike {
  return { type, name, urn: `urn:pulumi:dev::swarm-flocker::${type}::${name}`, inputs, dependencies: [], ...extra };
}

const SSH_RULE = "network-node-22-tcp-from-203-0-113-10-32";
const RAFT_RULE = "network-manager-2377-tcp-from-nodes";
const GOSSIP_RULE = "network-node-7946-tcp-from-nodes";
const API_ADMIN_RULE = "network-control-4523-tcp-from-203-0-113-10-32";
const CONTROL_INSTANCE = "nodes-aws-104-instance";
const FLOCKER_POLICY = "storage-flocker-policy";
const FLOCKER_USER = "storage-flocker-user";
const FLOCKER_KEY = "storage-flocker-key";

// ---------------------------------------------------------------------------------------------

describe("the dev stack", () => {
  test("passes every policy with zero violations", async () => {
    const result = await validateAll(policies, recorded);
    expect(Object.keys(result).sort()).toEqual(policies.map((p) => p.name).sort());
    expect(fired(result)).toEqual({});
  });

  test("contains what the policies check, so that passing is not vacuous", () => {
    expect(ofType(TYPE.instance)).toHaveLength(10);
    expect(ofType(TYPE.sg)).toHaveLength(4);
    expect(ofType(TYPE.ingress).length).toBeGreaterThan(5);
    expect(ofType(TYPE.ebsDefault)).toHaveLength(1);
    expect(ofType(TYPE.userPolicy)).toHaveLength(1);
    expect(ofType(TYPE.accessKey)).toHaveLength(1);
    // The exception path and the admin path of the Flocker API are exercised, not skipped.
    expect(
      ofType(TYPE.instance).every(
        (i) => (i.inputs.tags as Record<string, string>)[IMDSV1_EXCEPTION.tag] === IMDSV1_EXCEPTION.reason,
      ),
    ).toBe(true);
    expect(named(API_ADMIN_RULE).inputs).toMatchObject({ fromPort: 4523, cidrIpv4: "203.0.113.10/32" });
    expect(JSON.parse(String(named(FLOCKER_POLICY).inputs.policy)).Statement[0]).toMatchObject({ Resource: "*" });
    // The access key reaches its user through a dependency only (the user's name is an output).
    expect(named(FLOCKER_KEY).dependencies).toContain(named(FLOCKER_USER).urn);
    expect(named(FLOCKER_USER).inputs.name).toBeUndefined();
  });
});

describe("the pack", () => {
  test("`policies` holds every exported policy object, once, all mandatory, with valid names", () => {
    const exported = Object.values(policyModule).filter(
      (v): v is (typeof policies)[number] =>
        typeof v === "object" && v !== null && !Array.isArray(v) && "name" in v && "description" in v,
    );
    expect(exported.length).toBe(policies.length);
    expect(new Set(policies)).toEqual(new Set(exported));
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    for (const policy of policies) {
      expect(policy.enforcementLevel).toBe("mandatory");
      expect(policy.name).toMatch(/^[a-z0-9-]{1,100}$/);
      expect(policy.description.length).toBeGreaterThan(40);
    }
    expect(
      policies
        .filter(isStackPolicy)
        .map((p) => p.name)
        .sort(),
    ).toEqual([
      "access-keys-only-for-flocker-user",
      "ebs-encryption-by-default",
      "no-internet-wide-ingress",
      "no-mixed-security-group-rules",
    ]);
  });

  test("every rule the program opens between its nodes is guarded: moved to a CIDR source, it breaks the port rule", async () => {
    // The dev stack's group-sourced rules (no encrypted overlay, so no ESP rule).
    const internal = ofType(TYPE.ingress).filter((r) => r.inputs.referencedSecurityGroupId !== undefined);
    expect(internal.map((r) => `${r.inputs.fromPort}/${r.inputs.ipProtocol}`).sort()).toEqual([
      "2377/tcp",
      "4523/tcp",
      "4524/tcp",
      "4789/udp",
      "6066/tcp",
      "7077/tcp",
      "7946/tcp",
      "7946/udp",
      "8080/tcp",
    ]);
    for (const rule of internal) {
      const fromVpc = changed(rule.name, (i) => {
        delete i.referencedSecurityGroupId;
        i.cidrIpv4 = "172.31.0.0/16";
      });
      // The Flocker REST API may come from any CIDR but the whole internet: admins reach it that way.
      // Spark's ports from no CIDR at all: they take unauthenticated jobs.
      const admits = [expect.stringContaining(`ingress rule "${rule.name}" admits`)];
      const expected =
        rule.inputs.fromPort === FLOCKER_API.port
          ? {}
          : [8080, 7077, 6066].includes(Number(rule.inputs.fromPort))
            ? { "no-spark-ports-from-addresses": admits }
            : { "cluster-ports-from-security-groups": admits };
      expect({ rule: rule.name, fired: fired(await validateAll(policies, fromVpc)) }).toEqual({
        rule: rule.name,
        fired: expected,
      });
    }
  });

  test("the components it trusts with the exception tags are the ones that build the nodes and the Flocker user", () => {
    for (const instance of ofType(TYPE.instance))
      expect(isChildOf(instance.urn, DESIGNATED_PARENTS.imdsv1Instance, TYPE.instance)).toBe(true);
    expect(isChildOf(named(FLOCKER_USER).urn, DESIGNATED_PARENTS.flockerUser, TYPE.user)).toBe(true);
    expect(isChildOf(named(FLOCKER_KEY).urn, DESIGNATED_PARENTS.flockerUser, TYPE.user)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe("no-public-ingress", () => {
  test("an ingress rule with cidrIpv4 0.0.0.0/0", async () => {
    await expectViolations(
      changed(SSH_RULE, (i) => (i.cidrIpv4 = "0.0.0.0/0")),
      {
        "no-public-ingress": [
          /^ingress rule "network-node-22-tcp-from-203-0-113-10-32" admits 22\/tcp from 0\.0\.0\.0\/0, the whole internet\. Fix: .*adminCidrs/,
        ],
      },
    );
  });

  test("an ingress rule with cidrIpv6 ::/0", async () => {
    await expectViolations(
      changed(SSH_RULE, (i) => {
        delete i.cidrIpv4;
        i.cidrIpv6 = "::/0";
      }),
      { "no-public-ingress": [/ingress rule "network-node-22-tcp-from-203-0-113-10-32" admits 22\/tcp from ::\/0/] },
    );
  });

  test("an ec2.SecurityGroupRule of type ingress with 0.0.0.0/0 among its cidrBlocks", async () => {
    const rule = variant(
      named(SSH_RULE),
      (i) => {
        delete i.cidrIpv4;
        Object.assign(i, { type: "ingress", protocol: "tcp", cidrBlocks: ["203.0.113.10/32", "0.0.0.0/0"] });
        delete i.ipProtocol;
      },
      { type: TYPE.sgRule, name: "legacy-ssh" },
    );
    await expectViolations(stackWith([], [rule]), {
      "no-public-ingress": [/^security group rule "legacy-ssh" \(type ingress\) admits 22\/tcp from 0\.0\.0\.0\/0/],
    });
  });

  test("inline ingress of a security group", async () => {
    const sg = variant(
      named("network-swarm"),
      (i) => (i.ingress = [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS" }]),
      { name: "web" },
    );
    await expectViolations(stackWith([], [sg]), {
      "no-public-ingress": [/^security group "web" inline ingress\[0\] admits 443\/tcp from 0\.0\.0\.0\/0/],
    });
  });

  test("egress to 0.0.0.0/0 is not ingress", async () => {
    expect(named("network-node-egress-all").inputs.cidrIpv4).toBe("0.0.0.0/0");
    await expectClean(recorded);
  });
});

describe("cluster-ports-from-security-groups", () => {
  test("Swarm management (2377) from a CIDR", async () => {
    await expectViolations(
      changed(RAFT_RULE, (i) => {
        delete i.referencedSecurityGroupId;
        i.cidrIpv4 = "10.0.0.0/8";
      }),
      {
        "cluster-ports-from-security-groups": [
          /^ingress rule "network-manager-2377-tcp-from-nodes" admits Swarm cluster management \(Raft\) \(2377\/tcp\) from 10\.0\.0\.0\/8; .*Fix: use referencedSecurityGroupId/,
        ],
      },
    );
  });

  test("all protocols (-1) from an admin CIDR opens every cluster port", async () => {
    const result = await expectViolations(
      changed(SSH_RULE, (i) => {
        i.ipProtocol = "-1";
        delete i.fromPort;
        delete i.toPort;
      }),
      {
        "cluster-ports-from-security-groups": [/admits Swarm cluster management .* from 203\.0\.113\.10\/32/],
        "no-spark-ports-from-addresses": [/admits Spark master web UI \(8080\/tcp\), Spark master \(7077\/tcp\), Spark REST/],
      },
    );
    const message = result["cluster-ports-from-security-groups"][0];
    for (const port of ["2377/tcp", "7946/tcp", "7946/udp", "4789/udp", "4524/tcp", "(esp)"]) expect(message).toContain(port);
  });

  test("ESP (protocol 50) from a CIDR", async () => {
    await expectViolations(
      changed(GOSSIP_RULE, (i) => {
        i.ipProtocol = "50";
        delete i.fromPort;
        delete i.toPort;
        delete i.referencedSecurityGroupId;
        i.cidrIpv4 = "172.31.0.0/16";
      }),
      { "cluster-ports-from-security-groups": [/IPsec ESP of the encrypted overlay \(esp\) from 172\.31\.0\.0\/16/] },
    );
  });

  test("a port range over 4789/udp from a CIDR (ec2.SecurityGroupRule)", async () => {
    const rule = variant(
      named(GOSSIP_RULE),
      (i) => {
        Object.assign(i, { type: "ingress", protocol: "udp", fromPort: 4000, toPort: 5000, cidrBlocks: ["172.31.0.0/16"] });
        delete i.ipProtocol;
        delete i.referencedSecurityGroupId;
      },
      { type: TYPE.sgRule, name: "udp-range" },
    );
    await expectViolations(stackWith([], [rule]), {
      "cluster-ports-from-security-groups": [
        /"udp-range" .*admits Swarm overlay data path \(VXLAN\) \(4789\/udp\) from 172\.31\.0\.0\/16/,
      ],
    });
  });

  test("the Flocker API (4523) from 0.0.0.0/0 breaks both network rules", async () => {
    await expectViolations(
      changed(API_ADMIN_RULE, (i) => (i.cidrIpv4 = "0.0.0.0/0")),
      {
        "no-public-ingress": [/"network-control-4523-tcp-from-203-0-113-10-32" admits 4523\/tcp from 0\.0\.0\.0\/0/],
        "cluster-ports-from-security-groups": [
          /admits Flocker REST API \(4523\/tcp\) from 0\.0\.0\.0\/0; it may come only from a security group or the admin CIDRs/,
        ],
      },
    );
  });
});

describe("no-spark-ports-from-addresses", () => {
  test("Spark's master port (7077) from the admin CIDR: unauthenticated jobs, the tunnel is the fix", async () => {
    await expectViolations(
      changed(SSH_RULE, (i) => Object.assign(i, { fromPort: 7077, toPort: 7077 })),
      {
        "no-spark-ports-from-addresses": [
          /^ingress rule "network-node-22-tcp-from-203-0-113-10-32" admits Spark master \(7077\/tcp\) from 203\.0\.113\.10\/32: Spark runs any job submitted there, without authentication\. Fix: .*npm run ssh -- --stack STACK --tunnel NODE/,
        ],
      },
    );
  });

  test("a private range is no better: the REST port (6066) and the UI (8080) from the VPC, inline on a group", async () => {
    const sg = variant(
      named("network-swarm"),
      (i) => {
        i.ingress = [
          { protocol: "tcp", fromPort: 6066, toPort: 6066, cidrBlocks: ["172.31.0.0/16"], description: "REST from the VPC" },
          { protocol: "tcp", fromPort: 8000, toPort: 8100, ipv6CidrBlocks: ["fd00::/8"], description: "UI from the VPC" },
        ];
      },
      { name: "spark" },
    );
    await expectViolations(stackWith([], [sg]), {
      "no-spark-ports-from-addresses": [
        /security group "spark" inline ingress\[0\] admits Spark REST submission \(6066\/tcp\) from 172\.31\.0\.0\/16/,
        /security group "spark" inline ingress\[1\] admits Spark master web UI \(8080\/tcp\) from fd00::\/8/,
      ],
    });
  });

  test("from a security group is allowed: the program's own Spark rules admit the cluster's nodes", async () => {
    for (const port of [8080, 7077, 6066]) {
      const rule = named(`network-swarm-${port}-tcp-from-nodes`);
      expect(rule.inputs).toMatchObject({ fromPort: port, toPort: port, referencedSecurityGroupId: expect.any(String) });
      expect(rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6 ?? rule.inputs.prefixListId).toBeUndefined();
    }
    await expectClean(changed(RAFT_RULE, (i) => Object.assign(i, { fromPort: 7077, toPort: 7077 })));
  });
});

describe("security-group-descriptions", () => {
  test("a rule without a description", async () => {
    await expectViolations(
      changed(SSH_RULE, (i) => delete i.description),
      {
        "security-group-descriptions": [
          /^ingress rule "network-node-22-tcp-from-203-0-113-10-32" \(22\/tcp\) has description unset\. Fix: set `description`/,
        ],
      },
    );
  });

  test("an inline rule without a description, on a group without separate rules", async () => {
    const sg = variant(
      named("network-swarm"),
      (i) => (i.egress = [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: " " }]),
      { name: "quiet" },
    );
    await expectViolations(stackWith([], [sg]), {
      "security-group-descriptions": [/^security group "quiet" inline egress\[0\] \(all traffic\) has description " "/],
    });
  });

  test.each([[""], ["Managed by Pulumi"]])("a security group with description %j", async (description) => {
    await expectViolations(
      changed("network-control", (i) => (i.description = description)),
      {
        "security-group-descriptions": [
          new RegExp(`^security group "network-control" has description ${JSON.stringify(description)}\\. Fix:`),
        ],
      },
    );
  });
});

describe("no-mixed-security-group-rules", () => {
  test("inline rules on a group that also has separate rule resources", async () => {
    const result = await expectViolations(
      changed(
        "network-node",
        (i) => (i.ingress = [{ protocol: "tcp", fromPort: 80, toPort: 80, self: true, description: "HTTP between nodes" }]),
      ),
      {
        "no-mixed-security-group-rules": [
          /^security group "network-node" mixes inline rules \(security group "network-node" inline ingress\[0\]: 80\/tcp from self\) with separate rule resources \(.*"network-node-22-tcp-from-203-0-113-10-32".*\)\. Fix: /,
        ],
      },
    );
    // Only the node group's own rules are listed, not rules that merely reference it.
    expect(result["no-mixed-security-group-rules"][0]).not.toContain(RAFT_RULE);
  });

  const sg = (name: string, inputs: Record<string, unknown>): ResourceLike => ({
    type: TYPE.sg,
    name,
    urn: `urn:pulumi:t::p::${TYPE.sg}::${name}`,
    inputs: { description: `group ${name}`, ...inputs },
    dependencies: [],
  });
  const rule = (name: string, inputs: Record<string, unknown>, extra: Partial<ResourceLike> = {}): ResourceLike => ({
    type: TYPE.ingress,
    name,
    urn: `urn:pulumi:t::p::${TYPE.ingress}::${name}`,
    inputs: { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "192.0.2.0/24", description: "SSH", ...inputs },
    dependencies: [],
    ...extra,
  });
  const inline22 = {
    ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["198.51.100.0/24"], description: "SSH" }],
  };

  test("propertyDependencies decide which group a rule belongs to", async () => {
    const a = sg("a", inline22);
    const b = sg("b", {});
    const onB = rule(
      "on-b",
      { referencedSecurityGroupId: "sg-a" },
      { dependencies: [a.urn, b.urn], propertyDependencies: { securityGroupId: [b.urn], referencedSecurityGroupId: [a.urn] } },
    );
    await expectClean(stackWith([], [a, b, onB]));
    const onA = rule("on-a", {}, { dependencies: [a.urn, b.urn], propertyDependencies: { securityGroupId: [a.urn] } });
    await expectViolations(stackWith([], [a, b, onA]), {
      "no-mixed-security-group-rules": [
        /^security group "a" mixes inline rules .*198\.51\.100\.0\/24.* with separate rule resources \("on-a"\)/,
      ],
    });
  });

  test("after a refresh, inline entries that mirror the separate rules are not mixing", async () => {
    // Outputs of a refreshed group list the rules of its separate resources; ids link them.
    const refreshed = sg("refreshed", {
      id: "sg-0123",
      ingress: [
        { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["192.0.2.0/24"], description: "SSH" },
        { protocol: "udp", fromPort: 7946, toPort: 7946, self: true, description: "gossip" },
        { protocol: "50", fromPort: 0, toPort: 0, self: true, description: "ESP" },
      ],
    });
    const rules = [
      rule("ssh", { securityGroupId: "sg-0123" }),
      rule("gossip", {
        securityGroupId: "sg-0123",
        ipProtocol: "udp",
        fromPort: 7946,
        toPort: 7946,
        cidrIpv4: undefined,
        referencedSecurityGroupId: "sg-0123",
      }),
      rule("esp", {
        securityGroupId: "sg-0123",
        ipProtocol: "50",
        fromPort: undefined,
        toPort: undefined,
        cidrIpv4: undefined,
        referencedSecurityGroupId: "sg-0123",
      }),
    ];
    await expectClean(stackWith([], [refreshed, ...rules]));
    const withExtra = variant(refreshed, (i) =>
      i.ingress.push({ protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["192.0.2.0/24"], description: "HTTP" }),
    );
    await expectViolations(stackWith([], [withExtra, ...rules]), {
      "no-mixed-security-group-rules": [
        /mixes inline rules \(security group "refreshed" inline ingress\[3\]: 80\/tcp from 192\.0\.2\.0\/24\) with separate rule resources \("ssh", "gossip", "esp"\)/,
      ],
    });
  });
});

describe("encrypted-volumes", () => {
  test("an instance whose root volume is not encrypted", async () => {
    await expectViolations(
      changed(CONTROL_INSTANCE, (i) => (i.rootBlockDevice.encrypted = false)),
      {
        "encrypted-volumes": [
          /^instance "nodes-aws-104-instance" has rootBlockDevice\.encrypted false\. Fix: set `encrypted: true`/,
        ],
      },
    );
  });

  test("an instance without rootBlockDevice", async () => {
    await expectViolations(
      changed(CONTROL_INSTANCE, (i) => delete i.rootBlockDevice),
      { "encrypted-volumes": [/^instance "nodes-aws-104-instance" has no rootBlockDevice/] },
    );
  });

  test("an unencrypted EBS block device of an instance", async () => {
    await expectViolations(
      changed(
        CONTROL_INSTANCE,
        (i) =>
          (i.ebsBlockDevices = [
            { deviceName: "/dev/xvdf", volumeSize: 10, encrypted: true },
            { deviceName: "/dev/xvdg", volumeSize: 10 },
          ]),
      ),
      { "encrypted-volumes": [/^instance "nodes-aws-104-instance" has ebsBlockDevices\[1\] \("\/dev\/xvdg"\)\.encrypted unset/] },
    );
  });

  test("an unencrypted ebs.Volume", async () => {
    const volume: ResourceLike = {
      type: TYPE.volume,
      name: "scratch",
      urn: `urn:pulumi:dev::swarm-flocker::${TYPE.volume}::scratch`,
      inputs: { availabilityZone: "us-east-1a", size: 10, encrypted: false },
      dependencies: [],
    };
    await expectViolations(stackWith([], [volume]), {
      "encrypted-volumes": [/^EBS volume "scratch" has encrypted false\. Fix:/],
    });
  });
});

describe("ebs-encryption-by-default", () => {
  test("a stack without EncryptionByDefault", async () => {
    await expectViolations(
      recorded.filter((r) => r.type !== TYPE.ebsDefault),
      {
        "ebs-encryption-by-default": [
          /^the stack has no aws\.ebs\.EncryptionByDefault, so the volumes Flocker creates are unencrypted\. Fix: add/,
        ],
      },
    );
  });

  test("EncryptionByDefault with enabled false", async () => {
    await expectViolations(
      changed("storage-ebs-encryption", (i) => (i.enabled = false)),
      {
        "ebs-encryption-by-default": [
          /^ebs\.EncryptionByDefault "storage-ebs-encryption" has enabled false.*Fix: set `enabled: true`/,
        ],
      },
    );
  });
});

describe("imdsv2-required", () => {
  test("an instance without the exception tag and httpTokens optional", async () => {
    await expectViolations(
      changed(CONTROL_INSTANCE, (i) => delete i.tags[IMDSV1_EXCEPTION.tag]),
      {
        "imdsv2-required": [
          /^instance "nodes-aws-104-instance" has metadataOptions\.httpTokens "optional", which allows IMDSv1\. Fix: set httpTokens "required"/,
        ],
      },
    );
  });

  test("an exception tag with another reason is no exception", async () => {
    await expectViolations(
      changed(CONTROL_INSTANCE, (i) => (i.tags[IMDSV1_EXCEPTION.tag] = "legacy")),
      {
        "imdsv2-required": [
          /httpTokens "optional", which allows IMDSv1 \(its imdsv1-exception tag is "legacy", not the documented "flocker-1\.15-reads-instance-id-with-boto2"\)/,
        ],
      },
    );
  });

  test("an excepted instance with hop limit 2", async () => {
    await expectViolations(
      changed(CONTROL_INSTANCE, (i) => (i.metadataOptions.httpPutResponseHopLimit = 2)),
      {
        "imdsv2-required": [
          /^instance "nodes-aws-104-instance" carries the IMDSv1 exception tag but has metadataOptions\.httpPutResponseHopLimit 2\. Fix: set httpPutResponseHopLimit: 1/,
        ],
      },
    );
  });

  test("an excepted instance with the endpoint disabled", async () => {
    await expectViolations(
      changed(CONTROL_INSTANCE, (i) => (i.metadataOptions.httpEndpoint = "disabled")),
      { "imdsv2-required": [/carries the IMDSv1 exception tag but has metadataOptions\.httpEndpoint "disabled"/] },
    );
  });

  test("an instance without metadataOptions", async () => {
    await expectViolations(
      changed(CONTROL_INSTANCE, (i) => {
        delete i.metadataOptions;
        delete i.tags[IMDSV1_EXCEPTION.tag];
      }),
      { "imdsv2-required": [/has metadataOptions\.httpTokens unset, which allows IMDSv1/] },
    );
  });

  test("tokens required needs no exception", async () => {
    await expectClean(
      changed(CONTROL_INSTANCE, (i) => {
        i.metadataOptions.httpTokens = "required";
        i.metadataOptions.httpPutResponseHopLimit = 2;
        delete i.tags[IMDSV1_EXCEPTION.tag];
      }),
    );
  });
});

describe("no-secrets-in-user-data", () => {
  const cases: [string, string, RegExp][] = [
    [
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
      "b3BlbnNzaC1rZXk",
      /contains a private key block on line 6/,
    ],
    [
      "runcmd:\n  - docker swarm join --token SWMTKN-1-abcdef 10.0.0.1:2377",
      "SWMTKN-1-abcdef",
      /contains a Docker Swarm join token \(SWMTKN-\) on line 7/,
    ],
    ["write_files:\n  - content: AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", /contains an AWS access key id on line 7/],
    [
      "bootcmd:\n  - echo aws_secret_access_key=abc123 >> /root/.aws/credentials",
      "abc123",
      /contains an AWS secret access key setting on line 7/,
    ],
    ["users:\n  - name: admin\n    password: hunter2", "hunter2", /contains a password assignment on line 8/],
    ["chpasswd:\n  list: |\n    root:hunter2", "hunter2", /contains a cloud-init chpasswd block on line 6/],
  ];

  test.each(cases)("userData with %j", async (secret, value, pattern) => {
    const result = await expectViolations(
      changed(CONTROL_INSTANCE, (i) => (i.userData = `${i.userData}${secret}\n`)),
      {
        "no-secrets-in-user-data": [
          new RegExp(
            `^instance "nodes-aws-104-instance" userData ${pattern.source} \\(value not shown\\)\\. Fix: deliver secrets over SSH`,
          ),
        ],
      },
    );
    expect(result["no-secrets-in-user-data"][0]).not.toContain(value);
  });

  test("userDataBase64 is decoded", async () => {
    await expectViolations(
      changed(CONTROL_INSTANCE, (i) => {
        i.userDataBase64 = Buffer.from(`${i.userData}runcmd:\n  - docker swarm join --token SWMTKN-1-x h:2377\n`).toString(
          "base64",
        );
        delete i.userData;
      }),
      {
        "no-secrets-in-user-data": [
          /^instance "nodes-aws-104-instance" userDataBase64 \(decoded\) contains a Docker Swarm join token/,
        ],
      },
    );
  });

  test("cloud-init's lock_passwd and an empty password are not secrets", async () => {
    await expectClean(
      changed(
        CONTROL_INSTANCE,
        (i) => (i.userData = `${i.userData}users:\n  - name: a\n    lock_passwd: true\n    password: ""\n`),
      ),
    );
  });
});

describe("iam-least-privilege", () => {
  type Statement = { Sid?: string; Effect: string; Action?: unknown; NotAction?: unknown; Resource?: unknown };
  const withDocument = (edit: (statements: Statement[]) => void, asObject = false) =>
    changed(FLOCKER_POLICY, (i) => {
      const document = JSON.parse(i.policy);
      edit(document.Statement);
      i.policy = asObject ? document : JSON.stringify(document);
    });
  const where = /^user policy "storage-flocker-policy" statement/;

  test("a policy statement with ec2:*", async () => {
    await expectViolations(
      withDocument((s) => (s[1].Action = ["ec2:*"])),
      {
        "iam-least-privilege": [
          new RegExp(
            `${where.source} 1 \\("CreateVolumesOfFlockerProfilesOnly"\\) allows action "ec2:\\*", every action of the service\\. Fix: list the exact actions`,
          ),
        ],
      },
    );
  });

  test('action "*" (document given as an object)', async () => {
    await expectViolations(
      withDocument((s) => (s[1].Action = "*"), true),
      {
        "iam-least-privilege": [
          /statement 1 \("CreateVolumesOfFlockerProfilesOnly"\) allows action "\*", every action of every service/,
        ],
      },
    );
  });

  test('Resource "*" on ec2:DeleteVolume', async () => {
    await expectViolations(
      withDocument((s) => (s[0].Action = [...(s[0].Action as string[]), "ec2:DeleteVolume"])),
      {
        "iam-least-privilege": [
          new RegExp(
            `${where.source} 0 \\("DescribeIsReadOnlyAndCannotBeScoped"\\) allows "ec2:DeleteVolume" on Resource "\\*"\\. Only read-only Describe\\* calls`,
          ),
        ],
      },
    );
  });

  test("NotAction", async () => {
    await expectViolations(
      withDocument((s) => {
        delete s[1].Action;
        s[1].NotAction = ["iam:*"];
      }),
      {
        "iam-least-privilege": [
          /statement 1 \("CreateVolumesOfFlockerProfilesOnly"\) uses NotAction \["iam:\*"\], which allows everything not listed/,
        ],
      },
    );
  });

  test("a document that is not JSON", async () => {
    await expectViolations(
      changed(FLOCKER_POLICY, (i) => (i.policy = "{ not json")),
      { "iam-least-privilege": [/^user policy "storage-flocker-policy" is not valid JSON/] },
    );
  });

  test('Deny statements and "ec2:Describe*" on "*" are fine', async () => {
    await expectClean(
      withDocument((s) => {
        s[0].Action = "ec2:Describe*";
        s.push({ Effect: "Deny", Action: "*", Resource: "*" });
      }),
    );
  });
});

describe("access-keys-only-for-flocker-user", () => {
  const untaggedUser = () =>
    variant(named(FLOCKER_USER), (i) => delete i.tags[FLOCKER_USER_PURPOSE_TAG.key], { name: "ci-user" });

  test("an access key for a user without the Flocker tag", async () => {
    const user = untaggedUser();
    const key = variant(named(FLOCKER_KEY), (i) => (i.user = "ci-user-mock"), {
      name: "ci-key",
      parent: user.urn,
      dependencies: [user.urn],
    });
    await expectViolations(stackWith([], [user, key]), {
      "access-keys-only-for-flocker-user": [
        /^access key "ci-key" belongs to IAM user "ci-user", which is not tagged Purpose=flocker-ebs-backend\. Fix: /,
      ],
    });
  });

  test("propertyDependencies.user wins over other dependencies", async () => {
    const user = untaggedUser();
    const flocker = named(FLOCKER_USER);
    const key = variant(named(FLOCKER_KEY), () => undefined, {
      name: "sneaky-key",
      dependencies: [flocker.urn, user.urn],
      propertyDependencies: { user: [user.urn] },
    });
    await expectViolations(stackWith([], [user, key]), {
      "access-keys-only-for-flocker-user": [/^access key "sneaky-key" belongs to IAM user "ci-user"/],
    });
  });

  test("an access key for a user outside the stack", async () => {
    const key = variant(named(FLOCKER_KEY), (i) => (i.user = "admin"), {
      name: "admin-key",
      dependencies: [],
      parent: undefined,
    });
    await expectViolations(stackWith([], [key]), {
      "access-keys-only-for-flocker-user": [
        /^access key "admin-key" is for user "admin", which is not an iam\.User of this stack/,
      ],
    });
  });

  test("a literal user name links to the tagged user with that name", async () => {
    const user = variant(named(FLOCKER_USER), (i) => (i.name = "flocker"), { name: "named-user" });
    const key = variant(named(FLOCKER_KEY), (i) => (i.user = "flocker"), {
      name: "named-key",
      dependencies: [],
      parent: undefined,
    });
    await expectClean(stackWith([], [user, key]));
    const untagged = variant(user, (i) => delete i.tags[FLOCKER_USER_PURPOSE_TAG.key]);
    await expectViolations(stackWith([], [untagged, key]), {
      "access-keys-only-for-flocker-user": [/^access key "named-key" belongs to IAM user "named-user"/],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The internet in pieces, and through NACLs, default security groups and prefix lists.

describe("no-internet-wide-ingress", () => {
  const sshFrom = (name: string, cidr: string) => variant(named(SSH_RULE), (i) => (i.cidrIpv4 = cidr), { name });

  test("0.0.0.0/1 and 128.0.0.0/1 on one security group: the whole internet without a /0", async () => {
    const result = await expectViolations(
      stackWith([sshFrom(SSH_RULE, "0.0.0.0/1")], [sshFrom("ssh-upper-half", "128.0.0.0/1")]),
      {
        "no-internet-wide-ingress": [
          /^security group "network-node" admits ingress from 0\.0\.0\.0\/1, 128\.0\.0\.0\/1, which together cover \d+ public IPv4 addresses \(99\.\d\d% of the IPv4 address space\), more than a \/8 .* though no rule says \/0\. Fix: /,
        ],
      },
    );
    expect(result["no-internet-wide-ingress"]).toHaveLength(1);
  });

  test("four /2s in one ec2.SecurityGroupRule", async () => {
    const rule = variant(
      named(SSH_RULE),
      (i) => {
        delete i.cidrIpv4;
        delete i.ipProtocol;
        Object.assign(i, {
          type: "ingress",
          protocol: "tcp",
          cidrBlocks: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
        });
      },
      { type: TYPE.sgRule, name: "quarters" },
    );
    await expectViolations(stackWith([], [rule]), {
      "no-internet-wide-ingress": [
        /^security group "network-node" admits ingress from .*0\.0\.0\.0\/2, 64\.0\.0\.0\/2, 128\.0\.0\.0\/2, 192\.0\.0\.0\/2, which together cover/,
      ],
    });
  });

  test("IPv6 halves in the inline ingress of a new group", async () => {
    const sg = crafted(TYPE.sg, "web", {
      description: "web",
      ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, ipv6CidrBlocks: ["::/1", "8000::/1"], description: "HTTPS" }],
    });
    await expectViolations(stackWith([], [sg]), {
      "no-internet-wide-ingress": [
        /^security group "web" admits ingress from ::\/1, 8000::\/1, which together cover \d+ public IPv6 addresses .* more than a \/32/,
      ],
    });
  });

  test("a stack prefix list of the internet's halves, referenced by a rule", async () => {
    const list = crafted(TYPE.prefixList, "everyone", {
      addressFamily: "IPv4",
      maxEntries: 2,
      entries: [{ cidr: "0.0.0.0/1" }, { cidr: "128.0.0.0/1" }],
    });
    const rule = variant(
      named(SSH_RULE),
      (i) => {
        delete i.cidrIpv4;
        i.prefixListId = "pl-everyone";
      },
      { propertyDependencies: { prefixListId: [list.urn], securityGroupId: [named("network-node").urn] } },
    );
    await expectViolations(stackWith([rule], [list]), {
      "no-public-prefix-lists": [
        /^prefix list "everyone" holds 0\.0\.0\.0\/1, 128\.0\.0\.0\/1, which together cover .* every rule that references it admits that share of the internet/,
      ],
      "no-internet-wide-ingress": [
        /^security group "network-node" admits ingress from 0\.0\.0\.0\/1, 128\.0\.0\.0\/1, which together cover/,
      ],
    });
  });

  test("a /8 of public addresses and private ranges pass", async () => {
    await expectClean(
      stackWith([sshFrom(SSH_RULE, "11.0.0.0/8")], [sshFrom("ssh-private", "10.0.0.0/8"), sshFrom("ssh-vpn", "172.16.0.0/12")]),
    );
  });
});

describe("public ingress through a default security group", () => {
  test("0.0.0.0/0 in the inline ingress of an ec2.DefaultSecurityGroup", async () => {
    const sg = crafted(TYPE.defaultSg, "default", {
      vpcId: "vpc-1",
      ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "everything" }],
    });
    await expectViolations(stackWith([], [sg]), {
      "no-public-ingress": [
        /^security group "default" inline ingress\[0\] admits all traffic from 0\.0\.0\.0\/0, the whole internet/,
      ],
      "cluster-ports-from-security-groups": [
        /^security group "default" inline ingress\[0\] admits Swarm cluster management/,
        /^security group "default" inline ingress\[0\] admits Flocker REST API \(4523\/tcp\) from 0\.0\.0\.0\/0/,
      ],
      "no-spark-ports-from-addresses": [/^security group "default" inline ingress\[0\] admits Spark master web UI/],
    });
  });
});

describe("no-public-nacl-ingress", () => {
  test("a network ACL allowing all traffic from 0.0.0.0/0", async () => {
    const nacl = crafted(TYPE.nacl, "public", {
      vpcId: "vpc-1",
      ingress: [{ ruleNo: 100, action: "allow", protocol: "-1", fromPort: 0, toPort: 0, cidrBlock: "0.0.0.0/0" }],
      egress: [{ ruleNo: 100, action: "allow", protocol: "-1", fromPort: 0, toPort: 0, cidrBlock: "0.0.0.0/0" }],
    });
    await expectViolations(stackWith([], [nacl]), {
      "no-public-nacl-ingress": [
        /^network ACL "public" ingress\[0\] allows all traffic from 0\.0\.0\.0\/0, which together cover .*Fix: allow the admin CIDRs only below port 1024/,
      ],
    });
  });

  test("a NetworkAclRule allowing SSH from ::/0", async () => {
    const rule = crafted(TYPE.naclRule, "ssh-v6", {
      networkAclId: "acl-1",
      ruleNumber: 110,
      egress: false,
      ruleAction: "allow",
      protocol: "6",
      fromPort: 22,
      toPort: 22,
      ipv6CidrBlock: "::/0",
    });
    await expectViolations(stackWith([], [rule]), {
      "no-public-nacl-ingress": [/^network ACL rule "ssh-v6" \(ingress\) allows 22\/tcp from ::\/0/],
    });
  });

  test("replies on ephemeral ports, denies and egress are fine", async () => {
    const base = { networkAclId: "acl-1", ruleNumber: 120, protocol: "tcp", cidrBlock: "0.0.0.0/0" };
    await expectClean(
      stackWith(
        [],
        [
          crafted(TYPE.naclRule, "replies", { ...base, egress: false, ruleAction: "allow", fromPort: 1024, toPort: 65535 }),
          crafted(TYPE.naclRule, "deny-ssh", { ...base, egress: false, ruleAction: "deny", fromPort: 22, toPort: 22 }),
          crafted(TYPE.naclRule, "out", { ...base, egress: true, ruleAction: "allow", fromPort: 0, toPort: 65535 }),
        ],
      ),
    );
  });
});

describe("no-public-prefix-lists", () => {
  test("a prefix list entry of 0.0.0.0/0", async () => {
    await expectViolations(
      stackWith([], [crafted(TYPE.prefixListEntry, "anyone", { prefixListId: "pl-1", cidr: "0.0.0.0/0" })]),
      {
        "no-public-prefix-lists": [/^prefix list entry "anyone" holds 0\.0\.0\.0\/0, which together cover/],
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// IMDSv1 through launch templates, and exception tags applied by hand.

describe("imdsv2-required for launch templates", () => {
  test("a launch template without metadataOptions", async () => {
    await expectViolations(
      stackWith([], [crafted(TYPE.launchTemplate, "workers", { imageId: "ami-1", instanceType: "t2.medium" })]),
      {
        "imdsv2-required": [
          /^launch template "workers" has metadataOptions\.httpTokens unset, which allows IMDSv1 on every instance launched from it\. Fix: /,
        ],
      },
    );
  });

  test("a launch template with tokens optional, even with the exception tag", async () => {
    const template = crafted(TYPE.launchTemplate, "workers", {
      metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 },
      tags: { [IMDSV1_EXCEPTION.tag]: IMDSV1_EXCEPTION.reason },
    });
    await expectViolations(stackWith([], [template]), {
      "imdsv2-required": [/^launch template "workers" has metadataOptions\.httpTokens "optional"/],
      "exception-tags-only-where-designated": [
        /^aws:ec2\/launchTemplate:LaunchTemplate "workers" carries the tag imdsv1-exception=flocker-1\.15-reads-instance-id-with-boto2, which grants IMDSv1/,
      ],
    });
  });

  test("tokens required is fine", async () => {
    await expectClean(stackWith([], [crafted(TYPE.launchTemplate, "workers", { metadataOptions: { httpTokens: "required" } })]));
  });
});

describe("exception-tags-only-where-designated", () => {
  test("an instance outside the node components that copies the IMDSv1 exception tag", async () => {
    const rogue = variant(named(CONTROL_INSTANCE), () => undefined, {
      name: "bastion",
      urn: `urn:pulumi:dev::swarm-flocker::${TYPE.instance}::bastion`,
      parent: undefined,
    });
    await expectViolations(stackWith([], [rogue]), {
      "exception-tags-only-where-designated": [
        /^aws:ec2\/instance:Instance "bastion" carries the tag imdsv1-exception=flocker-1\.15-reads-instance-id-with-boto2, which grants IMDSv1 \(imdsv2-required\), but only the node instances the stack builds .* may carry it\. Fix: remove the tag\./,
      ],
    });
  });

  test("a user outside FlockerStorage tagged as the Flocker user, with an access key", async () => {
    const user = variant(named(FLOCKER_USER), () => undefined, {
      name: "deployer",
      urn: `urn:pulumi:dev::swarm-flocker::${TYPE.user}::deployer`,
      parent: undefined,
    });
    const key = variant(named(FLOCKER_KEY), (i) => (i.user = "deployer-mock"), {
      name: "deployer-key",
      parent: user.urn,
      dependencies: [user.urn],
    });
    await expectViolations(stackWith([], [user, key]), {
      "exception-tags-only-where-designated": [
        /^aws:iam\/user:User "deployer" carries the tag Purpose=flocker-ebs-backend, which grants a static access key .*only the Flocker IAM user the stack builds/,
      ],
    });
  });

  test("the tag in a launch template's tagSpecifications", async () => {
    const template = crafted(TYPE.launchTemplate, "spot", {
      metadataOptions: { httpTokens: "required" },
      tagSpecifications: [{ resourceType: "instance", tags: { [IMDSV1_EXCEPTION.tag]: IMDSV1_EXCEPTION.reason } }],
    });
    await expectViolations(stackWith([], [template]), {
      "exception-tags-only-where-designated": [
        /"spot" carries the tag imdsv1-exception=.* \(tagSpecifications\[0\], for what it launches\)/,
      ],
    });
  });

  test("other values of those tag keys grant nothing and pass", async () => {
    await expectClean(stackWith([], [crafted(TYPE.user, "ops", { tags: { Purpose: "operations" } })]));
  });
});

// ---------------------------------------------------------------------------------------------
// IAM: partial wildcards and administrator attachments.

describe("iam-least-privilege: partial wildcards", () => {
  const withActions = (actions: string[]) =>
    changed(FLOCKER_POLICY, (i) => {
      const document = JSON.parse(i.policy);
      document.Statement[1].Action = actions;
      i.policy = JSON.stringify(document);
    });

  test.each(["iam:*AccessKey*", "ec2:Create*", "ec2:?ttachVolume", "s3:Put*Policy"])("%s", async (action) => {
    const escaped = action.replace(/[*?]/g, (c) => `\\${c}`);
    await expectViolations(withActions(["ec2:CreateTags", action]), {
      "iam-least-privilege": [
        new RegExp(
          `statement 1 \\("[A-Za-z]+"\\) allows actions matching "${escaped}", a wildcard that grants every action it matches`,
        ),
      ],
    });
  });
});

describe("iam-no-admin-attachments", () => {
  test.each([
    [
      TYPE.roleAttachment,
      { role: "r", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" },
      /attaches arn:aws:iam::aws:policy\/AdministratorAccess \(policyArn\), which grants administrator access/,
    ],
    [
      TYPE.userAttachment,
      { user: "u", policyArn: "arn:aws-us-gov:iam::aws:policy/IAMFullAccess" },
      /which grants every action of a service/,
    ],
    [
      TYPE.role,
      { assumeRolePolicy: "{}", managedPolicyArns: ["arn:aws:iam::aws:policy/PowerUserAccess"] },
      /\(managedPolicyArns\), which grants every action except IAM's/,
    ],
    [
      TYPE.roleAttachmentsExclusive,
      { roleName: "r", policyArns: ["arn:aws:iam::aws:policy/job-function/AdministratorAccess-Amplify"] },
      /\(policyArns\), which grants administrator access/,
    ],
  ])("%s", async (type, inputs, pattern) => {
    await expectViolations(stackWith([], [crafted(type, "grant", inputs)]), { "iam-no-admin-attachments": [pattern] });
  });

  test("a customer managed policy and a narrow AWS managed policy pass", async () => {
    await expectClean(
      stackWith(
        [],
        [
          crafted(TYPE.roleAttachment, "own", { role: "r", policyArn: "arn:aws:iam::111122223333:policy/AdministratorAccess" }),
          crafted(TYPE.roleAttachment, "ssm", { role: "r", policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }),
        ],
      ),
    );
  });
});
