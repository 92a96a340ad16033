/**
 * `npm run restore -- --stack S --snapshot snap-… [--dataset spark] [--yes] [--keep-volume]`:
 * replaces a Flocker dataset's files with those of an EBS snapshot of it (docs/operations.md,
 * "Snapshots and restoring a dataset"). Flocker keeps managing its own volume: the snapshot's
 * files are copied into the dataset through the flocker volume driver, from a volume made from
 * the snapshot and mounted read-only on the Spark master's node.
 *
 * This file checks everything that can be checked before a change — the command line, the
 * prerequisites, the stack's outputs, the snapshot, the node — and asks; tools/day2/restoreRun.ts makes
 * the changes and puts things back whatever fails.
 */
import * as readline from "readline";
import type { FlockerStatus } from "../../lib/flockerStatus";
import { SPARK_DATA_TAG, SPARK_DATA_VOLUME_NAME } from "../../lib/sparkData";
import { CONFIG_SCHEMA } from "../../config/schema";
import { AwsCliError, awsCli, awsCliProblem } from "../common/awsCli";
import {
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  helpText,
  parseCommandLine,
  runAsProcess,
  usageMessage,
  type ToolSpec,
} from "../common/cli";
import type { Problem } from "../common/problem";
import { projectBackendUrl, readRawStackConfig } from "../deploy/deployPreflight";
import {
  Interrupts,
  SPARK_MASTER_SERVICE,
  SSH_FAILED,
  checkNode,
  executeRestore,
  type Request,
  type Run,
  type Target,
} from "./restoreRun";
import {
  FLOCKER_DATASET_TAG,
  RESTORE_DEVICE,
  RESTORE_VOLUME_TAG,
  SnapshotRefused,
  checkSnapshot,
  describeSnapshot,
  findNodeInstance,
  isSnapshotId,
  type Ec2,
} from "./restoreVolume";
import {
  EXIT_UNREACHABLE,
  accessProblems,
  formatAccessProblems,
  readOutputs,
  systemAccess,
  writeTemporaryKey,
  type AccessDeps,
  type AccessOutputs,
} from "../common/stackAccess";
import { PROJECT_ROOT, availableStacks, projectName, qualifiedConfigKey } from "../common/stackConfig";
import { managersToAsk } from "./status";

/** The Docker volume name of the Spark dataset (components/spark.ts; tests/restore.test.ts checks it against the program). */
export const DEFAULT_DATASET = "spark";

const RESTORE_SPEC: ToolSpec = {
  name: "restore",
  summary: "Replace a dataset's files (a Flocker dataset, or a current stack's Spark data) with those of an EBS snapshot of it.",
  description: [
    "Checks that the snapshot is completed and is the dataset's (its flocker-dataset-id tag); first snapshots",
    "the dataset's own volume (--yes too) and waits until that snapshot is completed, printing its id: a restore",
    "from it undoes this one. Then makes an",
    `encrypted volume from it in the Spark master node's zone (tagged ${RESTORE_VOLUME_TAG}=STACK, no Flocker`,
    `tag), attaches it at ${RESTORE_DEVICE} and mounts it read-only there; scales ${SPARK_MASTER_SERVICE} to 0, copies the`,
    "snapshot's files beside the dataset's (.restore-SNAPSHOT/) through the flocker volume driver, checks the",
    "copy, and only then switches, keeping the previous files in .pre-restore-SNAPSHOT/; scales the master back;",
    "then",
    "unmounts, detaches and deletes the restore volume. On a current stack the dataset is the Spark data",
    "volume (tag swarm-flocker-spark-data): the snapshot's data/ directory is copied through the local spark",
    "volume, the restore volume found on the node by its NVMe serial. After a failure or Ctrl-C it still brings the",
    "master back and removes the volume, and says what state the dataset is in. Needs the Pulumi CLI and",
    "the stack's passphrase (outputs, SSH key), ssh, and the AWS CLI with credentials for the account.",
  ],
  stack: { required: true },
  options: {
    snapshot: { type: "string", required: true, value: "snap-ID", description: "the EBS snapshot to restore from (required)" },
    dataset: {
      type: "string",
      value: "NAME",
      description: `the dataset, by its Docker volume name, whose files are replaced (default ${DEFAULT_DATASET})`,
    },
    yes: {
      type: "boolean",
      short: "y",
      description: "do not ask before replacing the dataset's files (the snapshot of them is still taken first)",
    },
    "keep-volume": {
      type: "boolean",
      description: `keep the restore volume afterwards, detached (tagged ${RESTORE_VOLUME_TAG}=STACK), instead of deleting it`,
    },
  },
  examples: [
    "npm run restore -- --stack prod --snapshot snap-0123456789abcdef0",
    "npm run restore -- prod --snapshot snap-0123456789abcdef0 --yes --keep-volume",
  ],
  exitCodes: [
    [EXIT_OK, "restored: the dataset holds the snapshot's files, the master runs again, the restore volume is deleted"],
    [
      EXIT_FAILED,
      "the restore or its clean-up failed: the last lines say what state the dataset, the master and the volume are in",
    ],
    [
      EXIT_USAGE,
      "usage error, missing prerequisite (Pulumi CLI, passphrase, ssh, AWS CLI or credentials, the node not ready), snapshot refused (unknown, not completed, another dataset's) or not confirmed: nothing was changed",
    ],
    [EXIT_UNREACHABLE, "the stack's outputs could not be read: nothing was changed"],
  ],
};

/** The machine as the restore sees it; tests replace every part. */
export interface RestoreDeps extends AccessDeps {
  /** Where Pulumi.yaml and the stack files are. */
  readonly projectRoot: string;
  /** Asks a yes/no question; undefined when there is no terminal to ask on. */
  readonly confirm: (question: string) => Promise<boolean | undefined>;
  /** Waits between polls of the AWS API. */
  readonly sleep: (ms: number) => Promise<void>;
}

function parseRequest(argv: readonly string[], knownStacks: readonly string[]): Request | "help" {
  const line = parseCommandLine(RESTORE_SPEC, argv, knownStacks);
  if (line.help) return "help";
  // parseCommandLine refuses a missing --snapshot (RESTORE_SPEC marks it required).
  const snapshotId = String(line.values.snapshot);
  if (!isSnapshotId(snapshotId)) {
    throw new UsageError(
      `--snapshot ${snapshotId} is not a snapshot id: "snap-" and 8 or 17 hex digits, as in snap-0123456789abcdef0`,
    );
  }
  const dataset = typeof line.values.dataset === "string" ? line.values.dataset : DEFAULT_DATASET;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(dataset)) {
    throw new UsageError(`--dataset ${JSON.stringify(dataset)} is not a Docker volume name (letters, digits, "_", "." and "-")`);
  }
  return {
    stack: line.stack,
    snapshotId,
    dataset,
    yes: line.values.yes === true,
    keepVolume: line.values["keep-volume"] === true,
  };
}

/**
 * What the restore reads from the stack file: the region, the image the copy runs in (the Spark
 * master's, already on its node), and the cluster's name (the current platform's dataset tag value).
 */
export function stackSettings(
  stack: string,
  root: string,
): { region: string; copyImage: string; project: string; clusterName: string } {
  const config = readRawStackConfig(root, stack) ?? {};
  const region = config["aws:region"];
  if (typeof region !== "string" || region === "") {
    throw new Error(`Pulumi.${stack}.yaml sets no aws:region, the region the stack's volumes are in`);
  }
  const current = config[qualifiedConfigKey("platform", root)] === "current";
  const imageKey = current ? "sparkImage" : "sparkMasterImage";
  const image = config[qualifiedConfigKey(imageKey, root)];
  // The master's image is on its node already (the bring-up pulled it): the copy pulls nothing.
  const copyImage = typeof image === "string" && image !== "" ? image : CONFIG_SCHEMA[imageKey].default;
  const name = config[qualifiedConfigKey("clusterName", root)];
  const clusterName = typeof name === "string" && name !== "" ? name : stack;
  return { region, copyImage, project: projectName(root), clusterName };
}

/** The outputs the restore needs beyond AccessOutputs. */
type RestoreOutputs = AccessOutputs & { readonly flockerStatus?: FlockerStatus };

/** The Spark master's node, where the dataset is mounted. */
function sparkMasterOf(outputs: RestoreOutputs, stack: string): [string, Target["node"]] {
  const master = Object.entries(outputs.nodes).find(([, node]) => node.role === "sparkmaster");
  if (!master) throw new Error(`stack ${stack} has no node with the role sparkmaster in its nodes output`);
  return master;
}

/**
 * The current platform's one dataset, the stack's Spark data volume (its sparkDataVolumeId output),
 * named by its swarm-flocker-spark-data tag; a wrong --dataset is a usage error.
 */
function currentTarget(outputs: RestoreOutputs, stack: string, dataset: string, clusterName: string): Target {
  if (dataset !== SPARK_DATA_VOLUME_NAME) {
    throw new UsageError(`stack ${stack} has one dataset, ${SPARK_DATA_VOLUME_NAME} (its Spark data volume), not ${dataset}`);
  }
  if (!outputs.sparkDataVolumeId) {
    throw new Error(
      `stack ${stack} has no sparkDataVolumeId output (its Spark data volume): deploy it with the current program first`,
    );
  }
  const [nodeName, node] = sparkMasterOf(outputs, stack);
  return {
    datasetId: clusterName,
    kind: {
      tag: { key: SPARK_DATA_TAG, value: clusterName },
      driver: "local",
      volumeId: outputs.sparkDataVolumeId,
      subdir: "data",
    },
    nodeName,
    node,
    managers: managersToAsk(outputs),
  };
}

/** The dataset's id (from flockerStatus) and the Spark master's node; a wrong --dataset is a usage error naming the datasets. */
function restoreTarget(outputs: RestoreOutputs, stack: string, dataset: string, clusterName: string): Target {
  if (outputs.platform === "current") return currentTarget(outputs, stack, dataset, clusterName);
  if (!outputs.flockerStatus) {
    throw new Error(`stack ${stack} has no flockerStatus output (the datasets' ids): deploy it with the current program first`);
  }
  const named = outputs.flockerStatus.datasets.filter((d) => d.name === dataset);
  if (named.length !== 1) {
    const names = outputs.flockerStatus.datasets.map((d) => d.name ?? d.datasetId);
    throw new UsageError(
      named.length === 0
        ? `stack ${stack} has no Flocker dataset named ${dataset} (its datasets: ${names.join(", ") || "none"})`
        : `stack ${stack} has ${named.length} Flocker datasets named ${dataset}: ${named.map((d) => d.datasetId).join(", ")}`,
    );
  }
  const [nodeName, node] = sparkMasterOf(outputs, stack);
  const datasetId = named[0].datasetId;
  return {
    datasetId,
    kind: { tag: { key: FLOCKER_DATASET_TAG, value: datasetId }, driver: "flocker", subdir: "" },
    nodeName,
    node,
    managers: managersToAsk(outputs),
  };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function runRestore(argv: readonly string[], deps: RestoreDeps): Promise<number> {
  let request: Request;
  try {
    const parsed = parseRequest(argv, deps.knownStacks);
    if (parsed === "help") {
      deps.stdout(helpText(RESTORE_SPEC, deps.knownStacks));
      return EXIT_OK;
    }
    request = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.stderr(usageMessage(RESTORE_SPEC, error));
    return EXIT_USAGE;
  }
  const what = `restore dataset ${request.dataset} of stack ${request.stack}`;
  const problems: Problem[] = accessProblems(deps, ["pulumi", "ssh"]);
  const awsProblem = await awsCliProblem(deps.env);
  if (awsProblem) problems.push(awsProblem);
  let settings: ReturnType<typeof stackSettings> | undefined;
  try {
    settings = stackSettings(request.stack, deps.projectRoot);
  } catch (error) {
    problems.push({ problem: messageOf(error), fix: `pulumi config set aws:region REGION --stack ${request.stack}` });
  }
  if (problems.length > 0 || settings === undefined) {
    deps.stderr(formatAccessProblems(what, problems));
    return EXIT_USAGE;
  }

  let outputs: RestoreOutputs;
  let target: Target;
  try {
    outputs = readOutputs(request.stack, deps);
    target = restoreTarget(outputs, request.stack, request.dataset, settings.clusterName);
  } catch (error) {
    if (error instanceof UsageError) {
      deps.stderr(usageMessage(RESTORE_SPEC, error));
      return EXIT_USAGE;
    }
    deps.stderr(`restore: ${messageOf(error)}\n`);
    return EXIT_UNREACHABLE;
  }

  const ec2: Ec2 = { aws: awsCli(deps.env), region: settings.region, sleep: deps.sleep };
  let run: Omit<Run, "key">;
  try {
    const snapshot = await describeSnapshot(ec2, request.snapshotId, target.kind.tag);
    checkSnapshot(snapshot, { name: request.dataset, tag: target.kind.tag }, ec2.region);
    const node = { name: target.nodeName, privateIp: target.node.privateIp };
    const instance = await findNodeInstance(ec2, node, { name: request.stack, project: settings.project });
    run = { request, deps, outputs, target, ec2, instance, snapshot, copyImage: settings.copyImage };
  } catch (error) {
    if (error instanceof SnapshotRefused) {
      deps.stderr(`restore: refused: ${error.message}. Nothing was changed.\n`);
      return EXIT_USAGE;
    }
    if (error instanceof AwsCliError && error.credentials) {
      const fix = "Give the AWS CLI credentials for the stack's account (aws configure, AWS_PROFILE, or aws sso login).";
      deps.stderr(formatAccessProblems(what, [{ problem: error.message, fix }]));
      return EXIT_USAGE;
    }
    deps.stderr(`restore: ${messageOf(error)}. Nothing was changed.\n`);
    return EXIT_FAILED;
  }

  // The key must outlive a Ctrl-C once things change: Interrupts removes it when the tool ends early.
  const key = writeTemporaryKey(outputs.sshPrivateKey, deps.tmpDir, false);
  const interrupts = new Interrupts(key, deps.stderr);
  try {
    const ready: Run = { ...run, key };
    const checked = checkNode(ready);
    if (checked !== 0) {
      deps.stderr(
        checked === SSH_FAILED
          ? `restore: ssh to ${target.nodeName} (${target.node.publicIp}) failed: is port 22 open to this machine (adminCidrs)? Nothing was changed.\n`
          : `restore: ${target.nodeName} is not ready for the restore (see above). Nothing was changed.\n`,
      );
      return checked === SSH_FAILED ? EXIT_FAILED : EXIT_USAGE;
    }
    const { snapshot } = ready;
    deps.stdout(
      [
        `Restore dataset ${request.dataset} (${target.datasetId}) of stack ${request.stack} from ${snapshot.id} (${snapshot.sizeGiB} GiB, taken ${snapshot.startTime}):`,
        "First a snapshot of the dataset as it is now is taken (its id printed: restoring from it undoes this restore).",
        `${SPARK_MASTER_SERVICE} stops during the copy; the snapshot's files are copied beside the dataset's and checked, then switched in.`,
        "The present files are kept in a .pre-restore-snap-… directory on the dataset until you remove them.",
        "",
      ].join("\n"),
    );
    if (!request.yes) {
      const answer = await deps.confirm("Replace the dataset's files? [y/N] ");
      if (answer !== true) {
        const why = answer === undefined ? "no terminal to ask on: pass --yes to confirm" : "not confirmed";
        deps.stderr(`restore: ${why}. Nothing was changed.\n`);
        return EXIT_USAGE;
      }
    }
    return await executeRestore(ready, interrupts);
  } finally {
    interrupts.dispose();
    key.remove();
  }
}

/** The operator's machine: AccessDeps plus a question on the terminal and real waits. */
function systemRestoreDeps(): RestoreDeps {
  return {
    ...systemAccess(availableStacks(), projectBackendUrl(PROJECT_ROOT)),
    projectRoot: PROJECT_ROOT,
    confirm: async (question) => {
      if (!process.stdin.isTTY) return undefined;
      const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
      const answer = await new Promise<string>((resolve) => {
        prompt.on("SIGINT", () => resolve(""));
        prompt.question(question, resolve);
      });
      prompt.close();
      return /^y(es)?$/i.test(answer.trim());
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

if (require.main === module) {
  runAsProcess(RESTORE_SPEC, () => runRestore(process.argv.slice(2), systemRestoreDeps()));
}
