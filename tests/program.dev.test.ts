/**
 * The whole program on the dev stack (the book's cluster), under Pulumi's mocks: what it creates,
 * with which inputs, in which order, and what it exports.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ProgramRun, isSecretWire, MOCK_SMOKE_RESULT } from "../tools/plan/mockRuntime";
import { sourcedFiles } from "../lib/scripts";
import { createOf, envOf, maybeNamed, named, ofType, TYPES, waitsFor, waitsTransitivelyFor } from "./helpers/program";
import { runIsolated } from "./helpers/isolatedRun";

const NODES = Array.from({ length: 10 }, (_, i) => `aws-${101 + i}`);
const WORKERS = ["aws-105", "aws-106", "aws-107", "aws-108", "aws-109", "aws-110"];
let run: ProgramRun;
/** The dev stack with Flocker from packages (the prod stack's mode), for the packages-mode steps. */
let packagesRun: ProgramRun;
const PACKAGES_APT_SOURCE = "deb [trusted=yes] https://flocker-packages.invalid/ubuntu/16.04/amd64 /";

beforeAll(async () => {
  run = await runIsolated("dev");
  packagesRun = await runIsolated("dev", {
    flockerInstall: "packages",
    flockerAptSource: PACKAGES_APT_SOURCE,
    flockerAptAllowUnsigned: "true",
  });
});

describe("network", () => {
  test("an own VPC with one subnet in the configured zone", () => {
    expect(named(run, "network-vpc").inputs).toMatchObject({ cidrBlock: "172.31.0.0/16", enableDnsHostnames: true });
    expect(named(run, "network-subnet").inputs).toMatchObject({
      cidrBlock: "172.31.0.0/20",
      availabilityZone: "us-east-1a",
      mapPublicIpOnLaunch: false,
    });
  });

  test("four security groups, each described, none with inline rules", () => {
    const groups = ofType(run, TYPES.securityGroup);
    expect(groups.map((g) => g.name).sort()).toEqual(["network-control", "network-manager", "network-node", "network-swarm"]);
    for (const group of groups) {
      expect(String(group.inputs.description).length).toBeGreaterThan(10);
      expect(group.inputs.ingress).toBeUndefined();
      expect(group.inputs.egress).toBeUndefined();
    }
  });

  test("the port matrix: cluster ports from the node group, SSH and the Flocker API from the admin CIDR, Spark from no CIDR", () => {
    const sg = run.outputs.securityGroupIds as Record<string, string>;
    const groupName = Object.fromEntries(Object.entries(sg).map(([role, id]) => [id, role]));
    const rules = ofType(run, TYPES.ingress).map((r) => ({
      group: groupName[String(r.inputs.securityGroupId)],
      protocol: r.inputs.ipProtocol,
      port: r.inputs.fromPort,
      from: r.inputs.referencedSecurityGroupId ? groupName[String(r.inputs.referencedSecurityGroupId)] : r.inputs.cidrIpv4,
    }));
    const admin = "203.0.113.10/32";
    expect(rules).toEqual(
      expect.arrayContaining([
        { group: "node", protocol: "tcp", port: 22, from: admin },
        { group: "node", protocol: "tcp", port: 7946, from: "node" },
        { group: "node", protocol: "udp", port: 7946, from: "node" },
        { group: "node", protocol: "udp", port: 4789, from: "node" },
        { group: "manager", protocol: "tcp", port: 2377, from: "node" },
        { group: "control", protocol: "tcp", port: 4523, from: "node" },
        { group: "control", protocol: "tcp", port: 4523, from: admin },
        { group: "control", protocol: "tcp", port: 4524, from: "node" },
        { group: "swarm", protocol: "tcp", port: 8080, from: "node" },
        { group: "swarm", protocol: "tcp", port: 7077, from: "node" },
        { group: "swarm", protocol: "tcp", port: 6066, from: "node" },
      ]),
    );
    expect(rules).toHaveLength(11);
    // Spark's UI, master and REST ports take unauthenticated jobs: the cluster's nodes only, no CIDR
    // (operators come through an SSH tunnel).
    expect(rules.filter((r) => [8080, 7077, 6066].includes(Number(r.port)) && r.from !== "node")).toEqual([]);
    // No ESP without an encrypted overlay; nothing from the whole internet.
    expect(rules.filter((r) => r.protocol === "50")).toEqual([]);
    expect(rules.filter((r) => r.from === "0.0.0.0/0")).toEqual([]);
  });

  test("every rule has a description; egress is one explicit rule", () => {
    for (const rule of [...ofType(run, TYPES.ingress), ...ofType(run, TYPES.egress)]) {
      expect(String(rule.inputs.description)).not.toEqual("");
    }
    const egress = ofType(run, TYPES.egress);
    expect(egress).toHaveLength(1);
    expect(egress[0].inputs).toMatchObject({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
  });
});

describe("nodes", () => {
  const instance = (node: string) => named(run, `nodes-${node}-instance`);

  test("aws-101 … aws-110 with static private addresses, hostnames and role tags", () => {
    const instances = ofType(run, TYPES.instance);
    expect(instances.map((i) => (i.inputs.tags as Record<string, string>).Name).sort()).toEqual(NODES);
    NODES.forEach((node, i) => {
      const inputs = instance(node).inputs;
      expect(inputs.privateIp).toBe(`172.31.0.${10 + i}`);
      expect(inputs.instanceType).toBe("t2.medium");
      expect(inputs.associatePublicIpAddress).toBe(true);
      expect(inputs.userData).toContain(`hostname: ${node}`);
    });
    expect((instance("aws-101").inputs.tags as Record<string, string>).Role).toBe("manager");
    expect((instance("aws-104").inputs.tags as Record<string, string>).Role).toBe("control");
    expect((instance("aws-105").inputs.tags as Record<string, string>).Role).toBe("sparkmaster");
    expect((instance("aws-110").inputs.tags as Record<string, string>).Role).toBe("worker");
  });

  test("security groups by role: only managers get 2377, only the control node gets Flocker's ports", () => {
    const sg = run.outputs.securityGroupIds as Record<string, string>;
    const groupsOf = (node: string) => (instance(node).inputs.vpcSecurityGroupIds as string[]).slice().sort();
    expect(groupsOf("aws-102")).toEqual([sg.node, sg.manager, sg.swarm].sort());
    expect(groupsOf("aws-104")).toEqual([sg.node, sg.control].sort());
    expect(groupsOf("aws-107")).toEqual([sg.node, sg.swarm].sort());
  });

  test("encrypted gp3 root volumes and the documented IMDS exception with hop limit 1", () => {
    for (const node of NODES) {
      const inputs = instance(node).inputs as Record<string, any>;
      expect(inputs.rootBlockDevice).toMatchObject({ encrypted: true, volumeType: "gp3", volumeSize: 16 });
      expect(inputs.metadataOptions).toEqual({
        httpEndpoint: "enabled",
        httpTokens: "optional",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      });
      expect(inputs.tags["imdsv1-exception"]).toBe("flocker-1.15-reads-instance-id-with-boto2");
      expect(inputs.tags["flocker-cluster-id"]).toBe(clusterId());
      // Flocker lists every volume with the cluster tag as a dataset: the root volume must not have it.
      expect(inputs.rootBlockDevice.tags).toMatchObject({ Name: `${node}-root`, Project: "swarm-flocker" });
      expect(Object.keys(inputs.rootBlockDevice.tags)).not.toContain("flocker-cluster-id");
    }
  });

  test("the AMI is Canonical's newest Ubuntu 16.04 and a newer one does not replace nodes (nor does a new key pair)", () => {
    expect(instance("aws-101").inputs.ami).toBe("ami-0mockubuntu00001");
    expect(instance("aws-101").options.ignoreChanges).toEqual(["ami", "keyName"]);
  });

  test("a stack-generated ED25519 key pair; the private key only travels as a secret", () => {
    expect(named(run, "nodes-ssh-key").inputs.algorithm).toBe("ED25519");
    expect(String(named(run, "nodes-key-pair").inputs.publicKey)).toMatch(/^ssh-ed25519 /);
    const step = named(run, "nodes-aws-101-boot");
    expect(
      isSecretWire((step.wireInputs.connection as Record<string, unknown>).privateKey) ||
        isSecretWire(step.wireInputs.connection),
    ).toBe(true);
    expect(step.inputs.connection).toMatchObject({ user: "ubuntu", dialErrorLimit: 8, perDialTimeout: 15 });
  });

  test("only the first SSH contact waits for a booting instance; later steps give up on a gone host in 2 minutes", () => {
    const firstContact = named(run, "nodes-aws-101-scripts");
    expect(firstContact.inputs.connection).toMatchObject({ dialErrorLimit: 60, perDialTimeout: 15 });
    const steps = ofType(run, TYPES.command);
    expect(steps.length).toBeGreaterThan(NODES.length * 3);
    for (const step of steps) {
      expect({ step: step.name, ...(step.inputs.connection as object) }).toMatchObject({ step: step.name, dialErrorLimit: 8 });
    }
  });
});

function clusterId(): string {
  return String((named(run, "pki-ca-cert").inputs.subject as Record<string, string>).organizationalUnit);
}

describe("Flocker PKI", () => {
  test("RSA 4096 everywhere", () => {
    const pkiKeys = ofType(run, TYPES.privateKey).filter((k) => k.name.startsWith("pki-"));
    expect(pkiKeys).toHaveLength(4 + NODES.length);
    for (const key of pkiKeys) expect(key.inputs).toMatchObject({ algorithm: "RSA", rsaBits: 4096 });
  });

  test("the CA: cluster name as CN, the cluster UUID as OU, CA usages, 20 years", () => {
    const ca = named(run, "pki-ca-cert").inputs as Record<string, any>;
    expect(ca.subject).toEqual({ commonName: "dev", organizationalUnit: clusterId() });
    expect(clusterId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ca).toMatchObject({ isCaCertificate: true, maxPathLength: 0, validityPeriodHours: 175200 });
    expect(ca.allowedUses).toEqual(["cert_signing", "crl_signing"]);
  });

  test("every leaf carries the same OU; the control certificate names control-service and its address", () => {
    const requests = ofType(run, TYPES.certRequest);
    expect(requests).toHaveLength(3 + NODES.length);
    for (const csr of requests) expect((csr.inputs.subject as Record<string, string>).organizationalUnit).toBe(clusterId());
    const control = named(run, "pki-control-csr").inputs as Record<string, any>;
    expect(control.subject.commonName).toBe("control-service");
    expect(control.dnsNames).toEqual(["control-service"]);
    expect(control.ipAddresses).toEqual(["172.31.0.13"]);
    expect((named(run, "pki-plugin-csr").inputs.subject as Record<string, string>).commonName).toBe("user-plugin");
    expect((named(run, "pki-client-csr").inputs.subject as Record<string, string>).commonName).toBe("user-client");
  });

  test("one node-<uuid> certificate per node, all distinct", () => {
    const names = NODES.map((n) => (named(run, `pki-${n}-csr`).inputs.subject as Record<string, string>).commonName);
    for (const cn of names) expect(cn).toMatch(/^node-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(names).size).toBe(NODES.length);
  });

  test("usages are snake_case values the TLS provider knows; API users authenticate as clients", () => {
    const known = new Set(["digital_signature", "key_encipherment", "cert_signing", "crl_signing", "server_auth", "client_auth"]);
    for (const cert of [...ofType(run, TYPES.locallySigned), ...ofType(run, TYPES.selfSigned)]) {
      for (const use of cert.inputs.allowedUses as string[]) expect(known).toContain(use);
      expect(cert.inputs.validityPeriodHours).toBe(175200);
    }
    expect(named(run, "pki-control-cert").inputs.allowedUses).toContain("server_auth");
    for (const user of ["plugin", "client", ...NODES]) {
      expect(named(run, `pki-${user}-cert`).inputs.allowedUses).toContain("client_auth");
    }
  });
});

describe("EBS and IAM for Flocker", () => {
  test("region-wide EBS encryption by default, kept on destroy", () => {
    const encryption = named(run, "storage-ebs-encryption");
    expect(encryption.inputs).toEqual({ enabled: true });
    expect(encryption.options.retainOnDelete).toBe(true);
  });

  test("the Flocker user may only make Flocker's EC2 calls, mutating ones on this cluster's tag", () => {
    const policy = JSON.parse(String(named(run, "storage-flocker-policy").inputs.policy));
    const actions = policy.Statement.flatMap((s: { Action: string[] }) => s.Action).sort();
    expect(actions).toEqual(
      [
        "ec2:AttachVolume",
        "ec2:CreateTags",
        "ec2:CreateVolume",
        "ec2:DeleteVolume",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstances",
        "ec2:DescribeVolumes",
        "ec2:DetachVolume",
      ].sort(),
    );
    const manage = policy.Statement.find((s: { Action: string[] }) => s.Action.includes("ec2:DeleteVolume"));
    expect(manage.Condition).toEqual({ StringEquals: { "ec2:ResourceTag/flocker-cluster-id": clusterId() } });
    expect(manage.Resource).toEqual([
      "arn:aws:ec2:us-east-1:123456789012:volume/*",
      "arn:aws:ec2:us-east-1:123456789012:instance/*",
    ]);
    const wildcard = policy.Statement.filter((s: { Resource: unknown }) => s.Resource === "*");
    expect(wildcard.flatMap((s: { Action: string[] }) => s.Action).every((a: string) => a.startsWith("ec2:Describe"))).toBe(true);
  });
});

describe("remote steps", () => {
  const commands = () => ofType(run, TYPES.command);

  test("each step runs a script file from scripts/ through sudo, with the script's digest", () => {
    for (const step of commands()) {
      const create = String(step.inputs.create);
      const script = /\/home\/ubuntu\/\.swarm-flocker\/scripts\/([a-z-]+\.sh)/.exec(create)?.[1];
      expect(script).toBeDefined();
      const file = path.join(__dirname, "..", "scripts", script!);
      expect(fs.existsSync(file)).toBe(true);
      expect(create).toMatch(/^sudo timeout --kill-after=30s \d+s env /);
      // The script, then the libraries it sources: core.sh always, the others as it needs them.
      const sourced = sourcedFiles(file);
      expect(sourced.slice(0, 2)).toEqual([file, path.join(__dirname, "..", "scripts", "lib", "core.sh")]);
      const hash = crypto.createHash("sha256");
      for (const f of sourced) hash.update(fs.readFileSync(f));
      const digest = hash.digest("hex").slice(0, 16);
      expect(envOf(create).SCRIPT_DIGEST).toBe(digest);
      expect(step.inputs.addPreviousOutputInEnv).toBe(false);
    }
  });

  test("scripts reach every node by SFTP before any step, and follow instance replacement", () => {
    for (const node of NODES) {
      const copy = named(run, `nodes-${node}-scripts`);
      expect(copy.inputs.remotePath).toBe("/home/ubuntu/.swarm-flocker");
      // Relative: the same on every operator's checkout, so no spurious diff.
      expect((copy.inputs.source as Record<string, unknown>).path).toBe("scripts");
      expect(waitsFor(run, `nodes-${node}-boot`, `nodes-${node}-scripts`)).toBe(true);
      // SSH from the operator needs the subnet's route to the internet.
      expect(waitsFor(run, `nodes-${node}-scripts`, "network-subnet-routes")).toBe(true);
      // The node's login user takes the current key before anything logs in with it.
      expect(waitsFor(run, `nodes-${node}-scripts`, `nodes-${node}-ssh-key`)).toBe(true);
      expect(waitsFor(run, `nodes-${node}-ssh-key`, "network-subnet-routes")).toBe(true);
    }
    for (const step of commands()) expect((step.inputs.triggers as unknown[]).length).toBeGreaterThanOrEqual(1);
  });

  test("packages mode: per node, boot, then the Flocker package preflight, then Docker", () => {
    for (const node of NODES) {
      expect(waitsFor(packagesRun, `nodes-${node}-flocker-preflight`, `nodes-${node}-boot`)).toBe(true);
      expect(waitsFor(packagesRun, `nodes-${node}-docker`, `nodes-${node}-flocker-preflight`)).toBe(true);
      expect(envOf(createOf(packagesRun, `nodes-${node}-boot`)).NODE_NAME).toBe(node);
      // The source may hold credentials: on stdin (secret), never in the command line.
      expect(envOf(createOf(packagesRun, `nodes-${node}-flocker-preflight`)).FLOCKER_PACKAGE_SOURCE).toBe("apt");
      expect(named(packagesRun, `nodes-${node}-flocker-preflight`).inputs.stdin).toBe(`${PACKAGES_APT_SOURCE}\n`);
      expect(createOf(packagesRun, `nodes-${node}-docker`)).toContain("BLOCK_CONTAINER_IMDS=1");
    }
  });

  test("containers mode (dev): per node, boot, then Docker; no package source to prove", () => {
    for (const node of NODES) {
      expect(maybeNamed(run, `nodes-${node}-flocker-preflight`)).toBeUndefined();
      expect(waitsFor(run, `nodes-${node}-docker`, `nodes-${node}-boot`)).toBe(true);
      expect(envOf(createOf(run, `nodes-${node}-boot`)).NODE_NAME).toBe(node);
      expect(createOf(run, `nodes-${node}-docker`)).toContain("BLOCK_CONTAINER_IMDS=1");
      // Every node, the control node too, loads Swarm's kernel modules before Docker starts.
      expect(envOf(createOf(run, `nodes-${node}-docker`))).toMatchObject({
        KERNEL_MODULES: "overlay br_netfilter vxlan ip_vs ip_vs_rr xt_ipvs",
        MODULES_LOAD_FILE: "/etc/modules-load.d/swarm-flocker.conf",
      });
    }
  });

  test("packages mode: Flocker packages and files after Docker, the control service first, agents everywhere after it", () => {
    for (const node of NODES) {
      expect(waitsFor(packagesRun, `flocker-${node}-install`, `nodes-${node}-docker`)).toBe(true);
      expect(waitsFor(packagesRun, `flocker-${node}-files`, `nodes-${node}-docker`)).toBe(true);
      expect(waitsFor(packagesRun, `flocker-${node}-agents`, `flocker-aws-104-control`)).toBe(true);
      expect(waitsFor(packagesRun, `flocker-${node}-agents`, `flocker-${node}-install`)).toBe(true);
      expect(waitsFor(packagesRun, `flocker-${node}-agents`, `flocker-${node}-files`)).toBe(true);
    }
    // Services restart when their files change: the step carries a digest of this node's files,
    // in the clear (a hash of key material), so previews stay readable.
    const digests = NODES.map((node) => envOf(createOf(packagesRun, `flocker-${node}-agents`)).CONFIG_DIGEST);
    for (const digest of digests) expect(digest).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(digests).size).toBe(NODES.length);
    expect(isSecretWire(named(packagesRun, "flocker-aws-105-agents").wireInputs.create)).toBe(false);
    expect(envOf(createOf(packagesRun, "flocker-aws-104-control")).CONFIG_DIGEST).toBe(digests[3]);
    expect(waitsFor(packagesRun, "flocker-aws-104-control", "flocker-aws-104-install")).toBe(true);
    expect(waitsFor(packagesRun, "flocker-aws-104-control", "flocker-aws-104-files")).toBe(true);
    expect(ofType(packagesRun, TYPES.command).filter((c) => c.name.endsWith("-control"))).toHaveLength(1);
  });

  test("containers mode (dev): Flocker's images pulled and files written after Docker, the control container first, agents everywhere after it", () => {
    for (const node of NODES) {
      expect(maybeNamed(run, `flocker-${node}-install`)).toBeUndefined();
      expect(waitsFor(run, `images-${node}-flocker`, `nodes-${node}-docker`)).toBe(true);
      expect(waitsFor(run, `flocker-${node}-files`, `nodes-${node}-docker`)).toBe(true);
      expect(waitsFor(run, `flocker-${node}-agents`, `flocker-aws-104-control`)).toBe(true);
      expect(waitsFor(run, `flocker-${node}-agents`, `images-${node}-flocker`)).toBe(true);
      expect(waitsFor(run, `flocker-${node}-agents`, `flocker-${node}-files`)).toBe(true);
      expect(createOf(run, `flocker-${node}-agents`)).toMatch(/flocker-containers\.sh agents$/);
    }
    const digests = NODES.map((node) => envOf(createOf(run, `flocker-${node}-agents`)).CONFIG_DIGEST);
    for (const digest of digests) expect(digest).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(digests).size).toBe(NODES.length);
    expect(envOf(createOf(run, "flocker-aws-104-control")).CONFIG_DIGEST).toBe(digests[3]);
    expect(createOf(run, "flocker-aws-104-control")).toMatch(/flocker-containers\.sh control$/);
    expect(waitsFor(run, "flocker-aws-104-control", "images-aws-104-flocker")).toBe(true);
    expect(waitsFor(run, "flocker-aws-104-control", "flocker-aws-104-files")).toBe(true);
    expect(ofType(run, TYPES.command).filter((c) => c.name.endsWith("-control"))).toHaveLength(1);
  });

  test("Swarm: init on aws-101 with its private address, managers one at a time, workers in parallel", () => {
    // Founded with the stack's address pool, so that ingress (its first /24) stays off the book's 10.0.0.0/24.
    expect(envOf(createOf(run, "swarm-init"))).toMatchObject({
      ADVERTISE_ADDR: "172.31.0.10",
      SWARM_ADDRESS_POOL: "10.255.0.0/16",
      SWARM_ADDRESS_POOL_MASK_LENGTH: "24",
      DOCKER_BUILTIN_ADDRESS_POOL: "10.0.0.0/8",
    });
    expect(waitsFor(run, "swarm-init", "nodes-aws-101-docker")).toBe(true);
    expect(waitsFor(run, "swarm-token-manager", "swarm-init")).toBe(true);
    expect(waitsFor(run, "swarm-token-worker", "swarm-init")).toBe(true);
    expect(waitsFor(run, "swarm-join-aws-102", "swarm-token-manager")).toBe(true);
    expect(waitsFor(run, "swarm-join-aws-103", "swarm-join-aws-102")).toBe(true);
    expect(envOf(createOf(run, "swarm-join-aws-103"))).toMatchObject({
      SWARM_ROLE: "manager",
      MANAGER_ADDR: "172.31.0.10:2377",
      ADVERTISE_ADDR: "172.31.0.12",
    });
    for (const worker of WORKERS) {
      expect(waitsFor(run, `swarm-join-${worker}`, "swarm-token-worker")).toBe(true);
      expect(envOf(createOf(run, `swarm-join-${worker}`)).SWARM_ROLE).toBe("worker");
      for (const other of WORKERS.filter((w) => w !== worker)) {
        expect(waitsTransitivelyFor(run, `swarm-join-${worker}`, `swarm-join-${other}`)).toBe(false);
      }
      expect(waitsTransitivelyFor(run, `swarm-join-${worker}`, "swarm-join-aws-102")).toBe(false);
    }
    // The control node stays out of the Swarm.
    expect(run.resources.find((r) => r.name === "swarm-join-aws-104")).toBeUndefined();
  });

  test("membership: a manager-side step per joined node whose delete drains and removes it", () => {
    for (const node of [...["aws-102", "aws-103"], ...WORKERS]) {
      const member = named(run, `swarm-member-${node}`);
      expect(waitsFor(run, `swarm-member-${node}`, `swarm-join-${node}`)).toBe(true);
      expect(String(member.inputs.create)).toMatch(/swarm-member\.sh ready$/);
      expect(String(member.inputs.delete)).toMatch(/swarm-member\.sh remove$/);
      expect(envOf(String(member.inputs.delete)).NODE_NAME).toBe(node);
      // It runs on the first manager, and is replaced when the node's instance is.
      expect((member.inputs.connection as Record<string, unknown>).host).toBe(
        (run.outputs.nodes as Record<string, { publicIp: string }>)["aws-101"].publicIp,
      );
      expect(member.options.deleteBeforeReplace).toBe(true);
    }
    expect(envOf(createOf(run, "swarm-label-aws-105"))).toMatchObject({
      NODE_NAME: "aws-105",
      LABEL_KEY: "type",
      LABEL_VALUE: "sparkmaster",
    });
    expect(waitsFor(run, "swarm-label-aws-105", "swarm-member-aws-105")).toBe(true);
  });

  test("join tokens: read with logging off and secret outputs, delivered on stdin, never on a command line", () => {
    for (const role of ["worker", "manager"]) {
      const token = named(run, `swarm-token-${role}`);
      expect(token.inputs.logging).toBe("none");
      expect(token.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    }
    for (const node of ["aws-102", "aws-103", ...WORKERS]) {
      const join = named(run, `swarm-join-${node}`);
      expect(isSecretWire(join.wireInputs.stdin)).toBe(true);
      expect(String(join.inputs.stdin)).toMatch(/^SWMTKN-1-mock-(worker|manager)-token$/);
      expect(String(join.inputs.create)).not.toContain("SWMTKN");
    }
  });

  test("Spark: overlay after init, volume on the master's node after Flocker, master, workers, smoke test", () => {
    expect(envOf(createOf(run, "spark-network"))).toMatchObject({
      NETWORK_NAME: "spark",
      NETWORK_SUBNET: "10.0.0.0/24",
      NETWORK_ENCRYPTED: "0",
      // The probe container that proves the network joinable runs an image the first manager pulled.
      ATTACH_IMAGE: "fsoppelsa/spark-worker",
    });
    expect(waitsFor(run, "spark-network", "swarm-init")).toBe(true);
    expect(waitsFor(run, "spark-network", "images-aws-101-services")).toBe(true);
    expect(envOf(createOf(run, "spark-volume"))).toMatchObject({
      VOLUME_NAME: "spark",
      VOLUME_SIZE: "75G",
      VOLUME_PROFILE: "bronze",
      FLOCKER_CONTROL_HOST: "172.31.0.13",
    });
    expect((named(run, "spark-volume").inputs.connection as Record<string, unknown>).host).toBe(
      (run.outputs.nodes as Record<string, { publicIp: string }>)["aws-105"].publicIp,
    );
    expect(waitsFor(run, "spark-volume", "flocker-aws-105-agents")).toBe(true);
    expect(waitsFor(run, "spark-volume", "flocker-aws-104-control")).toBe(true);
    for (const dependency of ["spark-network", "spark-volume", "swarm-label-aws-105"]) {
      expect(waitsFor(run, "spark-master", dependency)).toBe(true);
    }
    expect(waitsFor(run, "spark-master", "flocker-plugin-aws-105")).toBe(true);
    expect(waitsFor(run, "spark-master", "images-aws-105-services")).toBe(true);
    expect(envOf(createOf(run, "spark-master")).SERVICE_NAME).toBe("spark-master");
    expect(JSON.parse(envOf(createOf(run, "spark-master")).SERVICE_SPEC)).toEqual({
      image: "fsoppelsa/spark-master",
      replicas: 1,
      network: "spark",
      containerLabels: ["spark-master"],
      constraints: ["node.labels.type == sparkmaster"],
      publish: [8080, 7077, 6066].map((port) => ({ published: port, target: port })),
      env: ["SPARK_MASTER_IP=0.0.0.0"],
      mounts: ["type=volume,target=/data,source=spark,volume-driver=flocker"],
    });
    expect(waitsFor(run, "spark-worker", "spark-master")).toBe(true);
    // Workers may run on every Swarm node but the labelled one: they wait for each such node's pull.
    for (const node of ["aws-101", "aws-102", "aws-103", ...WORKERS.filter((n) => n !== "aws-105")]) {
      expect(waitsFor(run, "spark-worker", `images-${node}-services`)).toBe(true);
    }
    expect(waitsFor(run, "spark-worker", "images-aws-105-services")).toBe(false);
    expect(envOf(createOf(run, "spark-worker")).SERVICE_NAME).toBe("spark-worker");
    expect(JSON.parse(envOf(createOf(run, "spark-worker")).SERVICE_SPEC)).toMatchObject({
      image: "fsoppelsa/spark-worker",
      replicas: 3,
      network: "spark",
      constraints: ["node.labels.type != sparkmaster"],
      env: ["SPARK_MASTER_IP=tasks.spark-master", "SPARK_WORKER_CORES=1", "SPARK_WORKER_MEMORY=1g"],
      mounts: [],
      publish: [],
    });
    expect(waitsFor(run, "spark-smoke", "images-aws-101-services")).toBe(true);
    expect(waitsFor(run, "spark-smoke", "spark-worker")).toBe(true);
    expect(envOf(createOf(run, "spark-smoke")).MASTER_URL).toBe("spark://tasks.spark-master:7077");
  });

  test("what can be undone has a delete; destructive deletes run before a replacement is created", () => {
    const withDelete = ofType(run, TYPES.command)
      .filter((c) => c.inputs.delete !== undefined)
      .map((c) => c.name);
    expect(withDelete.sort()).toEqual(
      [
        "spark-master",
        "spark-network",
        "spark-volume",
        "spark-worker",
        "swarm-label-aws-105",
        // the swarm's init and joins have none: it would need SSH to a node that may be gone; nor
        // have Flocker's services steps, for the same reason (the node's termination removes them)
        ...["aws-102", "aws-103", ...WORKERS].map((n) => `swarm-member-${n}`),
      ].sort(),
    );
    for (const name of ["spark-master", "spark-volume", "spark-worker", "swarm-member-aws-106"]) {
      expect(named(run, name).options.deleteBeforeReplace).toBe(true);
    }
    expect(String(named(run, "spark-volume").inputs.delete)).toMatch(/flocker-volume\.sh delete$/);
  });
});

describe("outputs", () => {
  test("the outputs contract, with secrets secret", () => {
    expect(Object.keys(run.outputs).sort()).toEqual(
      [
        "flockerCaCert",
        "flockerClientCert",
        "flockerClientKey",
        "flockerControlEndpoint",
        "flockerControlPublicEndpoint",
        "flockerStatus",
        "managerAddresses",
        "nodes",
        "securityGroupIds",
        "smokeTestResult",
        "sparkMasterUrl",
        "sparkUiUrl",
        "sshPrivateKey",
        "sshUser",
        "subnetId",
        "swarmManagerJoinToken",
        "swarmWorkerJoinToken",
        "vpcId",
      ].sort(),
    );
    expect([...run.secretOutputs].sort()).toEqual(
      ["flockerClientKey", "sshPrivateKey", "swarmManagerJoinToken", "swarmWorkerJoinToken"].sort(),
    );
  });

  test("addresses, URLs and the smoke test result", () => {
    const nodes = run.outputs.nodes as Record<string, { role: string; swarmRole?: string; privateIp: string; publicIp: string }>;
    expect(Object.keys(nodes)).toEqual(NODES);
    expect(nodes["aws-104"]).toMatchObject({ role: "control", privateIp: "172.31.0.13" });
    expect(nodes["aws-104"].swarmRole).toBeUndefined();
    expect(run.outputs.managerAddresses).toEqual(["172.31.0.10:2377", "172.31.0.11:2377", "172.31.0.12:2377"]);
    // The master's private address: what the SSH tunnel forwards to; nothing outside the VPC dials it.
    expect(run.outputs.sparkMasterUrl).toBe("spark://172.31.0.14:7077");
    expect(run.outputs.sparkUiUrl).toBe("http://172.31.0.14:8080");
    expect(nodes["aws-105"].privateIp).toBe("172.31.0.14");
    expect(run.outputs.flockerControlEndpoint).toBe("https://172.31.0.13:4523");
    expect(run.outputs.smokeTestResult).toBe(MOCK_SMOKE_RESULT);
  });
});
