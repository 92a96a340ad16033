/**
 * A machine for tools/deploy/deploy.ts that has everything (Pulumi CLI, ssh, AWS credentials, passphrase, a
 * deployable stack file) unless a test takes it away, and records what would have run.
 */
import * as path from "path";
import type { DeployDeps } from "../../tools/deploy/deploy";
import type { RawStackConfig } from "../../tools/common/problem";
import { PROJECT_ROOT } from "../../tools/common/stackConfig";
import { displayCommand } from "../../tools/deploy/deployPreflight";

export const HOME = "/home/operator";

/** The file whose presence says `npm ci --prefix policy` has run. */
export const POLICY_PACK_INSTALLED = path.join(PROJECT_ROOT, "policy", "node_modules", "@pulumi", "policy", "package.json");

/** A stack config that passes every `up` check, with Flocker from packages (the mode that needs a source). */
export const GOOD_CONFIG: RawStackConfig = {
  "aws:region": "us-east-1",
  "swarm-flocker:adminCidrs": ["198.18.7.1/32"],
  "swarm-flocker:flockerInstall": "packages",
  "swarm-flocker:flockerAptSource": "deb [trusted=yes] https://flocker.repo.internal.corp/ubuntu/16.04/amd64 /",
  "swarm-flocker:flockerAptAllowUnsigned": true,
};

/** What Canonical's SSM parameter names in the fake's region. */
export const CANONICAL_IMAGE = "ami-0a1b2c3d4e5f60718";

/** A current-platform stack that passes every `up` check, its node image not pinned yet. */
export const CURRENT_CONFIG: RawStackConfig = {
  "aws:region": "eu-west-2",
  "swarm-flocker:platform": "current",
  "swarm-flocker:availabilityZone": "eu-west-2a",
  "swarm-flocker:instanceType": "t3.medium",
  "swarm-flocker:adminCidrs": ["198.18.7.1/32"],
};

export interface FakeMachine {
  env: Record<string, string | undefined>;
  files: Set<string>;
  stacks: Record<string, RawStackConfig | Error>;
  pulumi: boolean;
  /** An OpenSSH client on PATH (pulumi up runs each node's ssh-key step with it). */
  ssh: boolean;
  /** The AWS CLI on PATH (deploy reads a current stack's image to pin with it). */
  awsCli: boolean;
  /** The answer (or the failure) of each `aws …` call, given its arguments. */
  aws: (args: readonly string[]) => Promise<unknown>;
  publicIp: () => Promise<string>;
  /** Exit code per command (by its first three words), default 0. */
  exitCodes: Record<string, number>;
  /** What `pulumi stack output --json` prints; undefined: the stack has none (the command fails). */
  outputs: unknown;
  /** What `pulumi stack export --show-secrets` prints. */
  exported: unknown;
  /** Addresses that do not answer on any port. */
  unreachable: ReadonlySet<string>;
}

export interface Recorded {
  readonly deps: DeployDeps;
  readonly ran: string[][];
  /** Commands whose output was captured, in order. */
  readonly captured: string[][];
  /** `host:port/timeoutMs` of every probe, in order. */
  readonly probes: string[];
  /** The arguments of every `aws` call, in order. */
  readonly awsCalls: string[][];
  /** Everything in the order it happened: `aws …`, `run: …`, and what was printed (`out: …`, `err: …`). */
  readonly timeline: string[];
  readonly fetches: () => number;
  readonly out: () => string;
  readonly err: () => string;
}

export function fakeMachine(overrides: Partial<FakeMachine> = {}): FakeMachine {
  return {
    env: { PATH: "/usr/bin", AWS_PROFILE: "ops", PULUMI_CONFIG_PASSPHRASE: "correct horse battery staple" },
    files: new Set<string>([POLICY_PACK_INSTALLED]),
    stacks: { dev: GOOD_CONFIG, prod: GOOD_CONFIG },
    pulumi: true,
    ssh: true,
    awsCli: true,
    aws: async () => CANONICAL_IMAGE,
    publicIp: async () => "198.18.0.77",
    exitCodes: {},
    outputs: undefined,
    exported: undefined,
    unreachable: new Set<string>(),
    ...overrides,
  };
}

export function record(machine: FakeMachine, projectBackendUrl: string | undefined = "file://~"): Recorded {
  const ran: string[][] = [];
  const captured: string[][] = [];
  const probes: string[] = [];
  const awsCalls: string[][] = [];
  const timeline: string[] = [];
  let fetches = 0;
  let out = "";
  let err = "";
  const deps: DeployDeps = {
    env: machine.env,
    homeDir: HOME,
    projectName: "swarm-flocker",
    projectBackendUrl,
    knownStacks: Object.keys(machine.stacks).sort(),
    which: (command) =>
      command === "pulumi" && machine.pulumi
        ? "v3.248.0"
        : command === "ssh" && machine.ssh
          ? "OpenSSH_9.2p1"
          : command === "aws" && machine.awsCli
            ? "aws-cli/2.27.7 Python/3.13.2 Linux/6.8.0 exe/x86_64.ubuntu.24"
            : undefined,
    fileExists: (file) => machine.files.has(file),
    readStackConfig: (stack) => {
      const config = machine.stacks[stack];
      if (config instanceof Error) throw config;
      return config;
    },
    fetchPublicIpv4: () => {
      fetches += 1;
      return machine.publicIp();
    },
    aws: (args) => {
      awsCalls.push([...args]);
      timeline.push(`aws ${displayCommand(args)}`);
      return machine.aws(args);
    },
    run: (argv) => {
      ran.push([...argv]);
      timeline.push(`run: ${displayCommand(argv)}`);
      return machine.exitCodes[argv.slice(0, 3).join(" ")] ?? 0;
    },
    capture: (argv) => {
      captured.push([...argv]);
      const document = argv[2] === "output" ? machine.outputs : argv[2] === "export" ? machine.exported : undefined;
      if (document === undefined) return { code: 255, stdout: "" };
      return { code: 0, stdout: JSON.stringify(document) };
    },
    probe: async (host, port, timeoutMs) => {
      probes.push(`${host}:${port}/${timeoutMs}`);
      return !machine.unreachable.has(host);
    },
    stdout: (text) => {
      out += text;
      timeline.push(`out: ${text}`);
    },
    stderr: (text) => {
      err += text;
      timeline.push(`err: ${text}`);
    },
  };
  return { deps, ran, captured, probes, awsCalls, timeline, fetches: () => fetches, out: () => out, err: () => err };
}

/** A deployed stack's `pulumi stack output --json` (no --show-secrets: secret outputs read "[secret]"). */
export const FIRST_MANAGER_IP = "203.0.113.1";
export const SECOND_MANAGER_IP = "203.0.113.2";
export const SPARK_MASTER_IP = "203.0.113.5";
export const WORKER_IP = "203.0.113.6";
export const DATASET_ID = "4d3b0f6e-52a8-4a4b-9a37-0b2f1b8a2c11";
export const STACK_OUTPUTS = {
  nodes: {
    "aws-101": { role: "manager", swarmRole: "manager", publicIp: FIRST_MANAGER_IP, privateIp: "10.0.1.101" },
    "aws-102": { role: "manager", swarmRole: "manager", publicIp: SECOND_MANAGER_IP, privateIp: "10.0.1.102" },
    "aws-104": { role: "control", publicIp: "203.0.113.4", privateIp: "10.0.1.104" },
    "aws-105": { role: "sparkmaster", swarmRole: "worker", publicIp: SPARK_MASTER_IP, privateIp: "10.0.1.105" },
    "aws-106": { role: "worker", swarmRole: "worker", publicIp: WORKER_IP, privateIp: "10.0.1.106" },
  },
  managerAddresses: ["10.0.1.101:2377", "10.0.1.102:2377"],
  sshUser: "ubuntu",
  sshPrivateKey: "[secret]",
  flockerStatus: {
    nodes: [],
    datasets: [{ datasetId: DATASET_ID, name: "spark", sizeGiB: 10, profile: "gold", status: "attached", address: "10.0.1.105" }],
  },
};

/** The SSH key every step's connection carries in the state: it must never be printed. */
export const STATE_PRIVATE_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAtopsecret\n-----END OPENSSH PRIVATE KEY-----";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** How `pulumi stack export --show-secrets` writes a secret value. */
function shownSecret(value: unknown): Record<string, string> {
  return { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(value) };
}

export const urnOf = (type: string, name: string) => `urn:pulumi:dev::swarm-flocker::${type}::${name}`;
const COMMAND = "command:remote:Command";
const COPY = "command:remote:CopyToRemote";

function step(
  type: string,
  name: string,
  host: string,
  props: { delete?: string; dependsOn?: string[]; secretConnection?: boolean } = {},
) {
  const connection = { host, user: "ubuntu", privateKey: STATE_PRIVATE_KEY, dialErrorLimit: 8 };
  const inputs = {
    connection: props.secretConnection === false ? connection : shownSecret(connection),
    create: `bash /opt/swarm-flocker/${name}.sh create`,
    ...(props.delete ? { delete: props.delete } : {}),
  };
  return {
    urn: urnOf(type, name),
    custom: true,
    type,
    inputs,
    outputs: { ...inputs, stdout: "" },
    dependencies: props.dependsOn ?? [],
  };
}

/**
 * `pulumi stack export --show-secrets`'s document (deployment.resources[] of urn, type, inputs,
 * outputs, dependencies): steps on every host; only the Commands with a delete connect on destroy.
 */
export function stateExport() {
  const instance = (node: string) => ({
    urn: urnOf("aws:ec2/instance:Instance", `nodes-${node}-instance`),
    custom: true,
    type: "aws:ec2/instance:Instance",
    inputs: {},
    outputs: {},
  });
  return {
    version: 3,
    deployment: {
      manifest: { time: "2026-01-01T00:00:00Z", magic: "", version: "v3.248.0" },
      secrets_providers: { type: "passphrase", state: { salt: "v1:abc" } },
      resources: [
        { urn: urnOf("pulumi:pulumi:Stack", "swarm-flocker-dev"), custom: false, type: "pulumi:pulumi:Stack" },
        instance("aws-101"),
        instance("aws-105"),
        step(COPY, "scripts-aws-105", SPARK_MASTER_IP),
        step(COMMAND, "swarm-join-aws-105", SPARK_MASTER_IP, { dependsOn: [urnOf(COPY, "scripts-aws-105")] }),
        step(COMMAND, "swarm-member-aws-105", FIRST_MANAGER_IP, {
          delete: "bash /opt/swarm-flocker/swarm-member.sh delete",
          dependsOn: [urnOf(COMMAND, "swarm-join-aws-105")],
        }),
        step(COMMAND, "swarm-label-aws-105", FIRST_MANAGER_IP, {
          delete: "bash /opt/swarm-flocker/swarm-label.sh delete",
          dependsOn: [urnOf(COMMAND, "swarm-member-aws-105")],
          secretConnection: false,
        }),
        step(COMMAND, "flocker-plugin-aws-106", WORKER_IP, { delete: "bash /opt/swarm-flocker/flocker-plugin.sh delete" }),
        step(COMMAND, "spark-volume", SPARK_MASTER_IP, {
          delete: "bash /opt/swarm-flocker/flocker-volume.sh delete",
          dependsOn: [urnOf(COMMAND, "swarm-label-aws-105")],
        }),
        step(COMMAND, "spark-network", FIRST_MANAGER_IP, { delete: "bash /opt/swarm-flocker/spark-network.sh delete" }),
        step(COMMAND, "spark-master", FIRST_MANAGER_IP, {
          delete: "bash /opt/swarm-flocker/spark-service.sh delete",
          dependsOn: [urnOf(COMMAND, "spark-volume"), urnOf(COMMAND, "spark-network")],
        }),
        step(COMMAND, "spark-worker", FIRST_MANAGER_IP, {
          delete: "bash /opt/swarm-flocker/spark-service.sh delete",
          dependsOn: [urnOf(COMMAND, "spark-master")],
        }),
        step(COMMAND, "spark-smoke", FIRST_MANAGER_IP, { dependsOn: [urnOf(COMMAND, "spark-worker")] }),
      ],
    },
  };
}
