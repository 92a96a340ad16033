/**
 * Runs the real Pulumi program under Pulumi's unit-test mocks — no CLI, no cloud — and records
 * what it registers: every resource with its inputs (secret markers kept), its resource options
 * and its dependencies as the engine would receive them. Tests and `npm run plan` both use it.
 */
import * as crypto from "crypto";
import * as path from "path";
import { installOfflineHarness, removeOfflineHarness } from "../../preflight/harness";
import { offlineWorld, type OfflineWorldOptions } from "../../preflight/offlineWorld";
import type { Placeholder } from "../../preflight/placeholders";
import { instanceSize, isXenInstanceType } from "../../lib/instanceTypes";
import { realTlsState } from "./realCrypto";
import { PROJECT_ROOT, projectName } from "../common/stackConfig";

/** Pulumi's wire marker of a secret value. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface ResourceOptionsSeen {
  readonly deleteBeforeReplace: boolean;
  readonly additionalSecretOutputs: readonly string[];
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly retainOnDelete: boolean;
  readonly protect: boolean;
  readonly customTimeouts?: { create?: string; update?: string; delete?: string };
}

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly custom: boolean;
  /** Inputs as plain values (secrets unwrapped). */
  readonly inputs: Record<string, unknown>;
  /** Inputs as sent, with secret values wrapped in Pulumi's secret marker. */
  readonly wireInputs: Record<string, unknown>;
  /** URNs this resource depends on (explicit dependsOn and Output inputs), as the engine sees them. */
  readonly dependencies: readonly string[];
  /**
   * Per input property, the URNs its value came from: what the engine marks unknown in that
   * property when one of them is replaced delete-before-replace. Recorded runs always have it.
   */
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  readonly options: ResourceOptionsSeen;
}

export interface ProgramRun {
  readonly resources: readonly RecordedResource[];
  /** Stack outputs, resolved to plain values. */
  readonly outputs: Record<string, unknown>;
  /** Names of the stack outputs that are secret. */
  readonly secretOutputs: ReadonlySet<string>;
  /** Wall time of the program's evaluation, ms. */
  readonly elapsedMs: number;
  /** The repository's placeholders the configuration still holds (a deployment refuses them). */
  readonly placeholders: readonly Placeholder[];
}

/** An invoke's answer from its inputs (`{ region, instanceType, ... }`); throw to fail it as AWS would. */
export type InvokeAnswer = (inputs: Record<string, any>) => Record<string, unknown>;

export interface RunOptions {
  readonly stack: string;
  /** Flat config map (`project:key` → string), e.g. from readStackConfig. */
  readonly config: Record<string, string>;
  /** @default the project's index.ts */
  readonly program?: string;
  /**
   * Where to record registered resources. Pass a list to see what a run registered even when the
   * program throws (e.g. invalid configuration). @default a new list
   */
  readonly record?: RecordedResource[];
  /** Keys of `config` set as secrets (`pulumi config set --secret`), namespace included. @default none */
  readonly secretKeys?: readonly string[];
  /** Answers that replace the defaults of mockCall, by invoke token (e.g. a quota of 8 vCPUs). */
  readonly invokes?: Readonly<Record<string, InvokeAnswer>>;
  /** What the registries and apt repositories hold (preflight/offlineWorld.ts). @default everything */
  readonly world?: OfflineWorldOptions;
  /**
   * "record" (the offline plan) notes the repository's placeholders in the result; "refuse" stops
   * the program on them, as a deployment does. @default "record"
   */
  readonly placeholders?: "record" | "refuse";
  /**
   * Real keys and certificates for the tls resources (tools/plan/realCrypto.ts) instead of mock strings:
   * for runs whose steps are executed against real hosts (the engine tier). Slower (RSA 4096 keys).
   * @default false
   */
  readonly realCrypto?: boolean;
  /**
   * The outputs of the stack as deployed, which its StackReference to itself reads
   * (preflight/deployedShape.ts). @default none: a first deployment
   */
  readonly deployedOutputs?: Record<string, unknown>;
}

/** True when a wire value is Pulumi's secret wrapper. */
export function isSecretWire(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

function fakeId(prefix: string, name: string, length = 17): string {
  return `${prefix}${crypto.createHash("sha256").update(name).digest("hex").slice(0, length)}`;
}

function fakeUuid(name: string): string {
  const h = crypto.createHash("sha256").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function fakePublicIp(name: string): string {
  const h = crypto.createHash("sha256").update(name).digest();
  return `54.${h[0]}.${h[1]}.${(h[2] % 250) + 2}`;
}

/** Mock join tokens, recognisable by the secrets audit. */
export const MOCK_TOKEN_PREFIX = "SWMTKN-1-mock";
/** Mock Flocker secret access key, recognisable by the secrets audit. */
export const MOCK_AWS_SECRET_PREFIX = "mock-aws-secret-";
export const MOCK_SMOKE_RESULT = "Pi is roughly 3.14158";

/** Provider-computed outputs a real deployment would return, per resource type. */
function mockState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, unknown> } {
  const state: Record<string, unknown> = { ...inputs };
  switch (type) {
    case "aws:ec2/instance:Instance":
      return { id: fakeId("i-", name), state: { ...state, publicIp: fakePublicIp(name), arn: `arn:aws:ec2:::instance/${name}` } };
    case "aws:ec2/vpc:Vpc":
      return { id: fakeId("vpc-", name), state };
    case "aws:ebs/volume:Volume":
      return { id: fakeId("vol-", name), state: { ...state, arn: `arn:aws:ec2:::volume/${name}` } };
    case "aws:ec2/subnet:Subnet":
      return { id: fakeId("subnet-", name), state };
    case "aws:ec2/securityGroup:SecurityGroup":
      return { id: fakeId("sg-", name), state };
    case "aws:ec2/keyPair:KeyPair":
      return { id: name, state: { ...state, keyName: `${name}-mock` } };
    case "aws:iam/user:User":
      return { id: name, state: { ...state, name: `${name}-mock`, arn: `arn:aws:iam::123456789012:user/${name}` } };
    case "aws:iam/role:Role":
      return {
        id: name,
        state: { ...state, name: `${name}-mock`, arn: `arn:aws:iam::123456789012:role${inputs.path ?? "/"}${name}-mock` },
      };
    case "aws:iam/accessKey:AccessKey":
      return { id: `AKIA${fakeId("", name, 16).toUpperCase()}`, state: { ...state, secret: `${MOCK_AWS_SECRET_PREFIX}${name}` } };
    case "tls:index/privateKey:PrivateKey": {
      const body = `mock-${inputs.algorithm}-key-${name}`;
      return {
        id: name,
        state: {
          ...state,
          privateKeyPem: `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\n`,
          privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`,
          publicKeyOpenssh: `ssh-ed25519 AAAAmock${fakeId("", name, 12)} ${name}\n`,
          publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`,
        },
      };
    }
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return {
        id: name,
        state: { ...state, certPem: `-----BEGIN CERTIFICATE-----\nmock-cert-${name}\n-----END CERTIFICATE-----\n` },
      };
    case "tls:index/certRequest:CertRequest":
      return {
        id: name,
        state: {
          ...state,
          certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\nmock-${name}\n-----END CERTIFICATE REQUEST-----\n`,
        },
      };
    case "random:index/randomUuid:RandomUuid":
      return { id: name, state: { ...state, result: fakeUuid(name) } };
    case "command:remote:Command":
      return { id: name, state: { ...state, stdout: mockCommandStdout(String(inputs.create ?? "")), stderr: "" } };
    default:
      return { id: fakeId("", name, 12), state };
  }
}

/** What a remote step prints under mocks (tests/helpers/rehearsal.ts swaps it for the real output). */
export function mockCommandStdout(create: string): string {
  if (create.includes("swarm-token.sh")) {
    const role = /SWARM_ROLE=(\w+)/.exec(create)?.[1] ?? "unknown";
    return `${MOCK_TOKEN_PREFIX}-${role}-token`;
  }
  if (create.includes("spark-smoke.sh")) return MOCK_SMOKE_RESULT;
  if (create.includes("flocker-status.sh")) return mockFlockerStatus(create);
  return "";
}

/** flocker-status.sh's document: every expected node known, no dataset yet (Spark's volume comes later). */
function mockFlockerStatus(create: string): string {
  const match = /EXPECTED_ADDRESSES=(?:'([^']*)'|(\S+))/.exec(create);
  const addresses = (match?.[1] ?? match?.[2] ?? "").split(" ").filter((a) => a !== "");
  return JSON.stringify({
    nodes: addresses.map((address) => ({ uuid: fakeUuid(`flocker-node-${address}`), address })),
    datasets: [],
  });
}

/** The id Canonical's Ubuntu 24.04 SSM parameter names in the offline world. */
export const MOCK_UBUNTU_2404_AMI = "ami-0mockn0ble2404000";

/** Six zones a–f, as most regions have; instance types offered in every one of them. */
const MOCK_ZONE_LETTERS = ["a", "b", "c", "d", "e", "f"];
/** A paid account whose quota was raised: enough for any nodeCount the validator allows (200 × 8 vCPUs). */
export const MOCK_VCPU_QUOTA = 2048;

/** Default answers to the invokes the program makes, shaped as AWS answers them today. */
function mockCall(token: string, inputs: Record<string, any>, region: string): Record<string, unknown> {
  const where = String(inputs.region ?? region);
  const zones = MOCK_ZONE_LETTERS.map((letter) => `${where}${letter}`);
  switch (token) {
    case "aws:ec2/getAmi:getAmi": {
      const filters = (inputs.filters ?? []) as { name: string; values: string[] }[];
      const pinned = filters.find((f) => f.name === "image-id")?.values[0];
      if (pinned !== undefined) return { id: pinned, name: `pinned-${pinned}` };
      const pattern = filters.find((f) => f.name === "name")?.values[0] ?? "";
      // Canonical's xenial and bionic images are all deprecated: AWS hides them unless asked.
      if (/ubuntu-(xenial|bionic)/.test(pattern) && inputs.includeDeprecated !== true) {
        throw new Error("Your query returned no results. Please change your search criteria and try again.");
      }
      return { id: "ami-0mockubuntu00001", name: pattern.replace("*", "20210429"), deprecationTime: "2023-04-29T00:00:00.000Z" };
    }
    case "aws:ssm/getParameter:getParameter":
      // Canonical's public parameter names its current image; in the offline world it is always this one.
      if (String(inputs.name).startsWith("/aws/service/canonical/ubuntu/server/24.04/")) {
        return {
          id: inputs.name,
          name: inputs.name,
          type: "String",
          value: MOCK_UBUNTU_2404_AMI,
          insecureValue: MOCK_UBUNTU_2404_AMI,
          version: 1,
        };
      }
      throw new Error(`ParameterNotFound: ${String(inputs.name)}`);
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return {
        id: where,
        names: zones,
        zoneIds: zones.map((_, i) => `use1-az${i + 1}`),
        groupNames: zones.map(() => where),
        region: where,
      };
    case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": {
      const type =
        ((inputs.filters ?? []) as { name: string; values: string[] }[]).find((f) => f.name === "instance-type")?.values[0] ?? "";
      return {
        id: where,
        instanceTypes: zones.map(() => type),
        locations: zones,
        locationTypes: zones.map(() => "availability-zone"),
        region: where,
      };
    }
    case "aws:ec2/getInstanceType:getInstanceType": {
      const type = String(inputs.instanceType);
      const size = instanceSize(type) ?? { vcpus: 2, memoryMiB: 8192 };
      return {
        id: type,
        instanceType: type,
        defaultVcpus: size.vcpus,
        memorySize: size.memoryMiB,
        hypervisor: isXenInstanceType(type) ? "xen" : "nitro",
      };
    }
    case "aws:servicequotas/getServiceQuota:getServiceQuota":
      return {
        id: String(inputs.quotaCode),
        quotaCode: inputs.quotaCode,
        quotaName: "Running On-Demand instances",
        serviceCode: "ec2",
        value: MOCK_VCPU_QUOTA,
        region: where,
      };
    case "aws:ebs/getEbsVolumes:getEbsVolumes":
      // No volume carries the stack's tags: a first deployment (tests answer otherwise for a deployed one).
      return { id: where, ids: [], region: where };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/mock", userId: "AIDAMOCK", id: "123456789012" };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
    default:
      throw new Error(`unexpected invoke under mocks: ${token} (answer it in mockCall)`);
  }
}

function unwrapSecrets(value: unknown): unknown {
  if (isSecretWire(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** A RegisterResourceRequest's property dependencies as plain lists. */
function propertyDependenciesOf(req: any): Record<string, string[]> {
  const byProperty: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps: { getUrnsList(): string[] }, key: string) => {
    byProperty[key] = deps.getUrnsList();
  });
  return byProperty;
}

/** Resolves an Output (or plain value) to its value and whether it is secret. */
async function settle(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
  const output = pulumi.output(value) as import("@pulumi/pulumi").Output<unknown>;
  const [resolved, secret] = await Promise.all([
    new Promise<unknown>((resolve) => output.apply((v: unknown) => resolve(v))),
    (output as unknown as { isSecret: Promise<boolean> }).isSecret,
  ]);
  return { value: resolved, secret };
}

/**
 * Runs the program once. Pulumi's runtime is process-global: run one program per process (or per
 * jest test file), which is what Pulumi's own guidance for mocks assumes.
 */
export async function runProgram(options: RunOptions): Promise<ProgramRun> {
  // Required here, not at the top, so that the program and this harness share one runtime.
  const pulumi: typeof import("@pulumi/pulumi") = require("@pulumi/pulumi");
  const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
  const settings = require("@pulumi/pulumi/runtime/settings");

  const resources: RecordedResource[] = options.record ?? [];
  const monitorProto = MockMonitor.prototype;
  const originalRegister = monitorProto.__swarmFlockerOriginal ?? monitorProto.registerResource;
  monitorProto.__swarmFlockerOriginal = originalRegister;
  monitorProto.registerResource = function (this: any, req: any, callback: any) {
    const timeouts = req.getCustomtimeouts();
    const wireInputs = req.getObject()?.toJavaScript() ?? {};
    resources.push({
      urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent() || undefined,
      custom: req.getCustom(),
      inputs: unwrapSecrets(wireInputs) as Record<string, unknown>,
      wireInputs,
      dependencies: req.getDependenciesList(),
      propertyDependencies: propertyDependenciesOf(req),
      options: {
        deleteBeforeReplace: req.getDeletebeforereplace(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        retainOnDelete: Boolean(req.getRetainondelete()),
        protect: Boolean(req.getProtect()),
        customTimeouts: timeouts
          ? {
              create: timeouts.getCreate() || undefined,
              update: timeouts.getUpdate() || undefined,
              delete: timeouts.getDelete() || undefined,
            }
          : undefined,
      },
    });
    return originalRegister.call(this, req, callback);
  };

  const project = projectName();
  pulumi.runtime.setAllConfig(options.config, options.secretKeys === undefined ? undefined : [...options.secretKeys]);
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        if (args.type === "pulumi:pulumi:StackReference") {
          // The stack's own outputs as deployed (preflight/deployedShape.ts); none: a first deployment.
          const state = { ...args.inputs, outputs: options.deployedOutputs ?? {}, secretOutputNames: [] };
          return { id: String(args.inputs.name), state };
        }
        if (options.realCrypto !== true) return mockState(args.type, args.name, args.inputs);
        // Secret inputs (the keys a certificate is made from) arrive wrapped in Pulumi's marker.
        const inputs = unwrapSecrets(args.inputs) as Record<string, unknown>;
        const real = await realTlsState(args.type, args.name, inputs).catch((error: unknown) => {
          // The SDK drops a failed mock's error and the program then never finishes: say why here.
          process.stderr.write(`realCrypto could not make ${args.type} ${args.name}: ${String(error)}\n`);
          throw error;
        });
        return real ?? mockState(args.type, args.name, args.inputs);
      },
      call: (args) => {
        const override = options.invokes?.[args.token];
        try {
          return override
            ? override(args.inputs)
            : mockCall(args.token, args.inputs, options.config["aws:region"] ?? "us-east-1");
        } catch (error) {
          // The SDK reads a failed invoke's text from `details`, as the engine sends it over gRPC.
          const message = error instanceof Error ? error.message : String(error);
          throw Object.assign(new Error(message), { details: `invocation of ${args.token} returned an error: ${message}` });
        }
      },
    },
    project,
    options.stack,
    false,
    // What a self-managed backend (the project's, file://) answers to getOrganization().
    "organization",
  );

  const started = process.hrtime.bigint();
  const programPath = options.program ?? path.join(PROJECT_ROOT, "index.ts");
  // Only this function marks a run as offline (preflight/harness.ts): a real `pulumi up` cannot.
  const placeholders: Placeholder[] = [];
  installOfflineHarness({
    http: offlineWorld(options.world),
    placeholders: options.placeholders ?? "record",
    recorded: placeholders,
  });
  let exported: Record<string, unknown>;
  try {
    // The program exports an async function (Pulumi awaits it); older shapes export the outputs.
    const program = require(programPath) as Record<string, unknown> | (() => Promise<Record<string, unknown>>);
    exported = typeof program === "function" ? await program() : program;
  } finally {
    removeOfflineHarness();
  }
  const outputs: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  for (const [key, value] of Object.entries(exported)) {
    const settled = await settle(value);
    outputs[key] = settled.value;
    if (settled.secret) secretOutputs.add(key);
  }
  await settings.waitForRPCs();
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { resources, outputs, secretOutputs, elapsedMs, placeholders };
}
