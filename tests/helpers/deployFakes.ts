/**
 * A machine for tools/deploy.ts that has everything (Pulumi CLI, ssh, AWS credentials, passphrase, a
 * deployable stack file) unless a test takes it away, and records what would have run.
 */
import * as path from "path";
import type { DeployDeps } from "../../tools/deploy";
import type { RawStackConfig } from "../../tools/deployPreflight";
import { PROJECT_ROOT } from "../../tools/stackConfig";

export const HOME = "/home/operator";

/** The file whose presence says `npm ci --prefix policy` has run. */
export const POLICY_PACK_INSTALLED = path.join(PROJECT_ROOT, "policy", "node_modules", "@pulumi", "policy", "package.json");

/** A stack config that passes every `up` check, with Flocker from packages (the mode that needs a source). */
export const GOOD_CONFIG: RawStackConfig = {
  "aws:region": "us-east-1",
  "swarm-flocker:adminCidrs": ["198.18.7.1/32"],
  "swarm-flocker:flockerInstall": "packages",
  "swarm-flocker:flockerAptSource": "deb [trusted=yes] https://flocker.repo.internal.corp/ubuntu/16.04/amd64 /",
};

export interface FakeMachine {
  env: Record<string, string | undefined>;
  files: Set<string>;
  stacks: Record<string, RawStackConfig | Error>;
  pulumi: boolean;
  /** An OpenSSH client on PATH (pulumi up runs each node's ssh-key step with it). */
  ssh: boolean;
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
      command === "pulumi" && machine.pulumi ? "v3.248.0" : command === "ssh" && machine.ssh ? "OpenSSH_9.2p1" : undefined,
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
    run: (argv) => {
      ran.push([...argv]);
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
    },
    stderr: (text) => {
      err += text;
    },
  };
  return { deps, ran, captured, probes, fetches: () => fetches, out: () => out, err: () => err };
}
