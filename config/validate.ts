/**
 * Validation of the stack's configuration: raw `pulumi config` strings in, a typed `ClusterConfig`
 * out, or every problem at once. Pure (the file system is reached only through a `FileProbe`) and
 * free of Pulumi, so it is tested without the engine and runs before any resource is registered.
 *
 * Every message is written for someone who just typed `pulumi config set`: it names the key, quotes
 * the value as given and says what is allowed (and why, where the reason is not obvious). The
 * checks live in ./checks, one file per part of the system.
 */
import {
  checkAvailabilityZone,
  checkClusterName,
  checkInstanceType,
  checkManagerCount,
  checkNodeNameLength,
  checkNodeNamePrefix,
  checkRegion,
  REGION_KEY,
} from "./checks/cluster";
import {
  checkAdminCidrs,
  checkPublicAdminOptIn,
  checkNodeIpOffset,
  checkOverlaySubnet,
  checkSubnetCidr,
  checkSwarmAddressPool,
  checkVpcCidr,
} from "./checks/network";
import { readBoolean, readInteger, type IntegerRule, type Report } from "./checks/report";
import { checkFlockerSource, checkImageReference } from "./checks/flocker";
import { checkUnknownKeys } from "./checks/keys";
import { checkSnapshots } from "./checks/snapshots";
import {
  checkAmi,
  checkDockerPackage,
  checkDockerFloor,
  checkDockerVersion,
  checkImage,
  checkSshUser,
  checkUbuntuArchiveMirror,
  checkUbuntuRelease,
} from "./checks/software";
import { checkCurrentSparkVolume, checkSmokeTest, checkSparkVolume, checkWorkerMemory, MAX_VOLUME_GIB } from "./checks/spark";
import { checkMachineLimits } from "./checks/machine";
import {
  BOOK_ONLY_KEYS,
  CURRENT_ONLY_KEYS,
  checkCurrentInstanceType,
  checkNodeImageId,
  checkPlatform,
  checkPlatformKeys,
  checkSparkImage,
} from "./checks/platform";
import { currentPlatformInstanceTypes } from "../lib/instanceTypes";
import { checkCostCeiling } from "./checks/cost";
import { CONFIG_SCHEMA, type ClusterConfig, type ConfigKey, type ConfigKeySpec, type SchemaFields } from "./schema";
import type { FileProbe } from "./fileProbe";

export interface RawConfig {
  readonly project: string;
  readonly stack: string;
  readonly region?: string;
  readonly values: Readonly<Partial<Record<ConfigKey, string>>>;
  /**
   * Every key the stack's configuration sets, namespace included (`swarm-flocker:nodecount`), so
   * that keys of the project namespace the program does not read are refused. @default none
   */
  readonly givenKeys?: readonly string[];
}

export interface ConfigProblem {
  readonly key: string;
  readonly value?: string;
  readonly message: string;
}

export type { FileProbe };

export interface ValidationResult {
  /** Present only when `problems` is empty. */
  readonly config?: ClusterConfig;
  readonly problems: ConfigProblem[];
}

/** `key: "value" reason`: JSON quoting shows stray spaces, tabs and quotes in the value. */
function problemOf(key: string, value: string | undefined, reason: string): ConfigProblem {
  const message = value === undefined ? `${key} ${reason}` : `${key}: ${JSON.stringify(value)} ${reason}`;
  return value === undefined ? { key, message } : { key, value, message };
}

/** One problem per line, ready to print under a heading. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((problem) => `  - ${problem.message}`).join("\n");
}

/** The value as given, else the schema default as Pulumi would hand it over (text; arrays as JSON). */
function valueOf(raw: RawConfig, key: ConfigKey): string | undefined {
  const given = raw.values[key];
  if (given !== undefined) return given;
  const fallback = (CONFIG_SCHEMA[key] as ConfigKeySpec).default;
  if (fallback === undefined) return undefined;
  return typeof fallback === "string" ? fallback : JSON.stringify(fallback);
}

/** A piece of ClusterConfig that validation produced; only read once there are no problems. */
function checked<T>(value: T | undefined, key: string): T {
  if (value === undefined) throw new Error(`internal error: ${key} has no problem but no value either`);
  return value;
}

/** Every schema field as its check left it: undefined only after a problem (and "" for a key not set). */
type CheckedFields = { readonly [K in keyof Required<SchemaFields>]: Required<SchemaFields>[K] | undefined };

/** The fields once there are no problems; a key whose empty value means "not set" is left out. */
function schemaFields(fields: CheckedFields): SchemaFields {
  const entries = Object.entries(fields).filter(([key, value]) => {
    const spec: ConfigKeySpec = CONFIG_SCHEMA[key as ConfigKey];
    return !(spec.emptyIsUnset === true && checked(value, key) === "");
  });
  for (const [key, value] of entries) checked(value, key);
  return Object.fromEntries(entries) as SchemaFields;
}

/** Problems sorted like the schema (aws:region first), so related keys stay together. */
function inSchemaOrder(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const order = [REGION_KEY, ...Object.keys(CONFIG_SCHEMA)];
  // Unknown keys (not in the order) go last.
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  return [...problems].sort((a, b) => rank(a.key) - rank(b.key));
}

/** Whole-number keys: their ranges, and what the message says is allowed. */
const INTEGER_RULES = {
  nodeCount: {
    min: 3,
    max: 200,
    allowed: "use a whole number from 3 to 200 (at least a manager, the Flocker control node and the Spark master's node)",
  },
  firstNodeNumber: { min: 0, max: 99999, allowed: "use a whole number from 0 to 99999 (the book starts at 101)" },
  rootVolumeSizeGiB: {
    min: 8,
    max: MAX_VOLUME_GIB,
    allowed: `use a whole number of GiB from 8 (the Ubuntu image's own size) to ${MAX_VOLUME_GIB} (EBS's limit)`,
  },
  flockerControlVolumeSizeGiB: {
    min: 1,
    max: 64,
    allowed: "use a whole number of GiB from 1 to 64 (the control service's state is a few MiB)",
  },
  sshKeyGeneration: {
    min: 1,
    max: 1000,
    allowed: "use a whole number from 1; raise it by one to rotate the SSH key",
  },
  sparkWorkerReplicas: { min: 0, max: 1000, allowed: "use a whole number from 0 (no workers) to 1000" },
  sparkWorkerCores: { min: 1, max: 256, allowed: "use a whole number from 1 to 256" },
  monthlyCostCeilingUsd: {
    min: 0,
    max: 10_000_000,
    allowed: "use a whole number of US dollars a month, or 0 for no ceiling",
  },
} as const satisfies Partial<Record<ConfigKey, IntegerRule>>;

/** Validates every key and returns all problems at once; `config` only when there are none. */
export function validateConfig(raw: RawConfig, files?: FileProbe): ValidationResult {
  const problems: ConfigProblem[] = [];
  const report: Report = (key, value, reason) => {
    problems.push(problemOf(key, value, reason));
  };
  checkUnknownKeys(raw.project, raw.givenKeys ?? [], Object.keys(CONFIG_SCHEMA), report);
  const platform = checkPlatform(valueOf(raw, "platform") ?? "", report);
  if (platform !== undefined) checkPlatformKeys(platform, raw.values, report);
  const current = platform === "current";
  // A key of the other platform is refused above, once; its own checks see its default.
  const foreign = new Set(Object.keys(platform === "current" ? BOOK_ONLY_KEYS : CURRENT_ONLY_KEYS));
  const text = (key: ConfigKey): string => (foreign.has(key) ? valueOf({ ...raw, values: {} }, key) : valueOf(raw, key)) ?? "";
  const integer = (key: keyof typeof INTEGER_RULES) => readInteger(key, text(key), INTEGER_RULES[key], report);

  // Where and how big.
  const region = checkRegion(raw.region, report);
  const clusterName = checkClusterName(text("clusterName"), raw.stack, report);
  const availabilityZone = checkAvailabilityZone(text("availabilityZone"), region, report);
  const nodeCount = integer("nodeCount");
  const managerCount = checkManagerCount(text("managerCount"), nodeCount, report);
  const nodeNamePrefix = checkNodeNamePrefix(text("nodeNamePrefix"), report);
  const firstNodeNumber = integer("firstNodeNumber");
  if (nodeNamePrefix !== undefined && firstNodeNumber !== undefined && nodeCount !== undefined) {
    checkNodeNameLength(nodeNamePrefix, firstNodeNumber, nodeCount, report);
  }
  const instanceType = current
    ? checkCurrentInstanceType(text("instanceType"), currentPlatformInstanceTypes().slice(1, 5), report)
    : checkInstanceType(text("instanceType"), report);
  const rootVolumeSizeGiB = integer("rootVolumeSizeGiB");
  const flockerControlVolumeSizeGiB = integer("flockerControlVolumeSizeGiB");

  // Addresses.
  const allowPublicAdminAccess = readBoolean("allowPublicAdminAccess", text("allowPublicAdminAccess"), report);
  checkPublicAdminOptIn(allowPublicAdminAccess, text("allowPublicAdminAccess"), report);
  const allowWideAdminCidrs = readBoolean("allowWideAdminCidrs", text("allowWideAdminCidrs"), report);
  const adminCidrs = checkAdminCidrs(valueOf(raw, "adminCidrs"), { allowWide: allowWideAdminCidrs === true }, report);
  // The control node is not in the Swarm: it has no endpoint on ingress or the overlay.
  const swarmNodes = nodeCount === undefined ? undefined : nodeCount - 1;
  const swarmAddressPool = checkSwarmAddressPool(
    text("swarmAddressPool"),
    text("swarmAddressPoolMaskLength"),
    swarmNodes,
    [text("vpcCidr"), text("overlaySubnet")],
    report,
  );
  const vpcCidr = checkVpcCidr(text("vpcCidr"), { pool: swarmAddressPool, other: text("overlaySubnet") }, report);
  const subnetCidr = checkSubnetCidr(text("subnetCidr"), vpcCidr, report);
  const nodeIpOffset = checkNodeIpOffset(text("nodeIpOffset"), subnetCidr, nodeCount, report);

  // Software.
  const sshUser = checkSshUser(text("sshUser"), report);
  const sshKeyGeneration = integer("sshKeyGeneration");
  const ubuntuRelease = checkUbuntuRelease(text("ubuntuRelease"), report);
  const ami = checkAmi(text("ami"), report);
  const nodeImageId = checkNodeImageId(text("nodeImageId"), report);
  const dockerPackage = checkDockerPackage(text("dockerPackage"), report);
  const dockerVersion = checkDockerVersion(text("dockerVersion"), report);
  const ubuntuArchiveMirror = checkUbuntuArchiveMirror(text("ubuntuArchiveMirror"), report);
  const flocker = checkFlockerSource(
    {
      install: text("flockerInstall"),
      images: {
        control: text("flockerControlImage"),
        datasetAgent: text("flockerDatasetAgentImage"),
        containerAgent: text("flockerContainerAgentImage"),
        plugin: text("flockerPluginImage"),
      },
      apt: {
        line: text("flockerAptSource"),
        keyPath: text("flockerAptKey"),
        allowUnsigned: readBoolean("flockerAptAllowUnsigned", text("flockerAptAllowUnsigned"), report),
      },
      debDir: text("flockerDebDir"),
    },
    files,
    report,
  );
  const flockerTest = readBoolean("flockerTest", text("flockerTest"), report);
  const flockerTestImage = checkImageReference("flockerTestImage", text("flockerTestImage"), "busybox:1.36", report);

  // Spark.
  const sparkVolumeSize = text("sparkVolumeSize");
  // On current the size is the Spark data volume's (gp3), which no Flocker profile bounds.
  const sparkVolume = (current ? checkCurrentSparkVolume : checkSparkVolume)(sparkVolumeSize, text("sparkVolumeProfile"), report);
  const sparkWorkerReplicas = integer("sparkWorkerReplicas");
  const sparkWorkerCores = integer("sparkWorkerCores");
  const sparkWorkerMemory = checkWorkerMemory(text("sparkWorkerMemory"), report);
  checkMachineLimits({ instanceType, workerCores: sparkWorkerCores, workerMemory: sparkWorkerMemory, platform }, report);
  const sparkMasterImage = checkImage("sparkMasterImage", text("sparkMasterImage"), report);
  const sparkWorkerImage = checkImage("sparkWorkerImage", text("sparkWorkerImage"), report);
  const sparkImage = checkSparkImage(text("sparkImage"), report);
  const smokeTest = checkSmokeTest(text("smokeTest"), sparkWorkerReplicas, report);
  const overlayEncrypted = readBoolean("overlayEncrypted", text("overlayEncrypted"), report);
  // The floor is about Ubuntu 16.04/18.04's own docker.io; 24.04's (29.x) is far above it.
  if (!current) checkDockerFloor({ dockerPackage, dockerVersion, ubuntuArchiveMirror, ubuntuRelease }, overlayEncrypted, report);
  const overlayDemand =
    swarmNodes !== undefined && sparkWorkerReplicas !== undefined
      ? { swarmNodes, workerReplicas: sparkWorkerReplicas }
      : undefined;
  const overlaySubnet = checkOverlaySubnet(
    text("overlaySubnet"),
    vpcCidr,
    { pool: swarmAddressPool, other: text("vpcCidr") },
    overlayDemand,
    report,
  );

  // Day 2.
  const snapshots = checkSnapshots(
    {
      enabled: text("snapshots"),
      intervalHours: text("snapshotIntervalHours"),
      time: text("snapshotTime"),
      retainCount: text("snapshotRetainCount"),
    },
    report,
  );

  // Cost.
  const monthlyCostCeilingUsd = integer("monthlyCostCeilingUsd");

  if (problems.length > 0) return { problems: inSchemaOrder(problems) };
  // The compiler insists on every field of SchemaFields here, so a new key cannot be forgotten.
  const fields: CheckedFields = {
    platform,
    clusterName,
    availabilityZone,
    nodeCount,
    managerCount,
    nodeNamePrefix,
    firstNodeNumber,
    instanceType,
    adminCidrs,
    allowPublicAdminAccess,
    allowWideAdminCidrs,
    vpcCidr,
    subnetCidr,
    nodeIpOffset,
    sshUser,
    sshKeyGeneration,
    ubuntuRelease,
    ami,
    nodeImageId,
    rootVolumeSizeGiB,
    flockerControlVolumeSizeGiB,
    dockerPackage,
    dockerVersion,
    ubuntuArchiveMirror,
    flockerTest,
    flockerTestImage,
    overlaySubnet,
    overlayEncrypted,
    swarmAddressPool: swarmAddressPool?.cidr,
    swarmAddressPoolMaskLength: swarmAddressPool?.maskLength,
    sparkVolumeSize,
    sparkVolumeProfile: sparkVolume?.profile,
    sparkWorkerReplicas,
    sparkWorkerCores,
    sparkWorkerMemory,
    sparkMasterImage,
    sparkWorkerImage,
    sparkImage,
    smokeTest,
    monthlyCostCeilingUsd,
  };
  const snapshotSchedule = checked(snapshots, "snapshots");
  const config: ClusterConfig = {
    ...schemaFields(fields),
    project: raw.project,
    stack: raw.stack,
    region: checked(region, REGION_KEY),
    flocker: checked(flocker, "flockerInstall"),
    sparkVolumeSizeGiB: checked(sparkVolume, "sparkVolumeSize").gib,
    ...(snapshotSchedule === null ? {} : { snapshots: snapshotSchedule }),
  };
  // The estimate needs every other value valid, so the ceiling is checked last.
  checkCostCeiling(config, report);
  if (problems.length > 0) return { problems };
  return { config, problems };
}
