/**
 * `npm run status -- --stack S [--node MANAGER]`: one screen of the cluster's health, asked of a
 * Swarm manager over SSH — nodes, services (running/desired), Spark workers registered at the
 * master, Flocker nodes and datasets. The manager runs scripts/cluster-status.sh (copied to every
 * node with the other scripts): 0 healthy, 1 unhealthy, 2 cannot tell (e.g. not an active manager,
 * then the next manager is asked). On a current stack the Spark master's node is asked too, about
 * the Spark dataset's EBS volume (`cluster-status.sh spark-data`: which volume is mounted, the
 * `spark` Docker volume's binding). The stack's outputs come from
 * `pulumi stack output --json --show-secrets`.
 */
import { FLOCKER_AGENT_PORT, FLOCKER_API_PORT, SPARK_UI_PORT } from "../../lib/ports";
import { FLOCKER_ETC } from "../../lib/remotePaths";
import { SPARK_DATA_MOUNT, SPARK_DATA_VOLUME_NAME } from "../../lib/sparkData";
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
import { projectBackendUrl } from "../deploy/deployPreflight";
import {
  EXIT_UNREACHABLE,
  accessProblems,
  deployedScriptCommand,
  formatAccessProblems,
  findNode,
  readOutputs,
  sshCommand,
  systemAccess,
  writeTemporaryKey,
  type AccessDeps,
  type AccessOutputs,
  type TemporaryKey,
} from "../common/stackAccess";
import { PROJECT_ROOT, availableStacks } from "../common/stackConfig";

/** The script the manager runs (the repository's copy is what `pulumi up` put on the nodes). */
export const STATUS_SCRIPT = "cluster-status.sh";

/** ssh's own exit code for a connection it could not make. */
const SSH_FAILED = 255;
/** The status script's "cannot tell on this node" (Docker down, not an active manager). */
const CANNOT_TELL = 2;
/** The Spark master's UI as a manager reaches it: through the swarm's routing mesh. */
const SPARK_UI_FROM_A_MANAGER = `http://127.0.0.1:${SPARK_UI_PORT}`;

export const STATUS_SPEC: ToolSpec = {
  name: "status",
  summary: "One screen of a deployed cluster's health, from a Swarm manager over SSH.",
  description: [
    "Shows the Swarm nodes (role, state, availability), the services with running/desired tasks, the",
    "Spark workers registered at the master and the Flocker nodes and datasets; on a current stack, the",
    "Spark dataset's EBS volume as the Spark master's node sees it (mounted, bound to the spark volume). Reads the stack's",
    "outputs with `pulumi stack output --json --show-secrets` (needs the Pulumi CLI and the stack's",
    "passphrase); the SSH key goes to a 0600 temporary file that is removed when the tool ends.",
  ],
  stack: { required: true },
  options: {
    node: {
      type: "string",
      value: "MANAGER",
      description: "the manager to ask (default: each manager in turn until one answers)",
    },
  },
  examples: [
    "npm run status -- --stack dev",
    "npm run status -- prod --node aws-102",
    "npm run status -- --stack dev || echo unhealthy",
  ],
  exitCodes: [
    [EXIT_OK, "healthy: every node Ready, every service at its desired tasks, the Spark workers and Flocker datasets in place"],
    [EXIT_FAILED, 'unhealthy: the screen ends with "health: UNHEALTHY" and one line per problem'],
    [EXIT_USAGE, "usage error or a missing prerequisite (Pulumi CLI, passphrase, ssh): nothing was run"],
    [EXIT_UNREACHABLE, "the health is unknown: the outputs could not be read, or no manager answered over SSH or could tell"],
  ],
};

/** The managers to ask, the chosen one alone when --node names it. */
export function managersToAsk(outputs: AccessOutputs, chosen?: string): string[] {
  if (chosen !== undefined) {
    const node = findNode(outputs, chosen);
    if (node.swarmRole !== "manager")
      throw new UsageError(
        `${chosen} is not a Swarm manager (its role: ${node.role}); --node takes a manager: ${managersToAsk(outputs).join(", ")}`,
      );
    return [chosen];
  }
  return Object.entries(outputs.nodes)
    .filter(([, node]) => node.swarmRole === "manager")
    .map(([name]) => name);
}

/** On a current stack: what the Spark master's node runs about the dataset's volume. */
export function remoteSparkDataCommand(outputs: AccessOutputs, stack: string): string[] {
  return deployedScriptCommand({
    sshUser: outputs.sshUser,
    script: STATUS_SCRIPT,
    action: "spark-data",
    env: {
      SPARK_DATA_MOUNT,
      SPARK_DATA_VOLUME_NAME,
      ...(outputs.sparkDataVolumeId ? { SPARK_DATA_VOLUME_ID: outputs.sparkDataVolumeId } : {}),
    },
    stack,
    missingExit: EXIT_UNREACHABLE,
  });
}

/**
 * The Spark dataset's part of a current stack's status, asked of the Spark master's node after a
 * manager told the swarm's: EXIT_OK, EXIT_FAILED (unhealthy) or EXIT_UNREACHABLE (cannot tell).
 */
function sparkDataStatus(outputs: AccessOutputs, stack: string, key: TemporaryKey, deps: AccessDeps): number {
  const master = Object.entries(outputs.nodes).find(([, node]) => node.role === "sparkmaster");
  if (master === undefined) {
    deps.stderr(`status: stack ${stack} has no node with the role sparkmaster: the Spark dataset cannot be checked.\n`);
    return EXIT_UNREACHABLE;
  }
  const [name, node] = master;
  deps.stdout(`The Spark dataset, asked of ${name} (${node.publicIp})\n`);
  const code = deps.interact(sshCommand(key, outputs.sshUser, node.publicIp, remoteSparkDataCommand(outputs, stack)));
  if (code === EXIT_OK) return EXIT_OK;
  if (code === SSH_FAILED || code === CANNOT_TELL || code === EXIT_UNREACHABLE) {
    const why = code === SSH_FAILED ? `ssh to ${name} (${node.publicIp}) failed` : `${name} cannot tell (see above)`;
    deps.stderr(`status: ${why}: the Spark dataset's state is unknown.\n`);
    return EXIT_UNREACHABLE;
  }
  deps.stderr(`status: the Spark dataset of stack ${stack} is unhealthy (${STATUS_SCRIPT} spark-data exited with ${code}).\n`);
  return EXIT_FAILED;
}

/** The worse of two results: unhealthy over unknown over healthy. */
function worse(a: number, b: number): number {
  const rank = (code: number) => (code === EXIT_FAILED ? 2 : code === EXIT_UNREACHABLE ? 1 : 0);
  return rank(a) >= rank(b) ? a : b;
}

/** What the manager runs: the deployed status script with what it needs to know about the cluster. */
export function remoteStatusCommand(outputs: AccessOutputs, stack: string): string[] {
  const nodes = Object.values(outputs.nodes);
  const controlHost = outputs.flockerControlEndpoint ? new URL(outputs.flockerControlEndpoint).hostname : "";
  return deployedScriptCommand({
    sshUser: outputs.sshUser,
    script: STATUS_SCRIPT,
    env: {
      EXPECTED_FLOCKER_NODES: String(nodes.length),
      FLOCKER_CONTROL_HOST: controlHost,
      FLOCKER_ETC,
      FLOCKER_API_PORT: String(FLOCKER_API_PORT),
      FLOCKER_AGENT_PORT: String(FLOCKER_AGENT_PORT),
      SPARK_UI_URL: SPARK_UI_FROM_A_MANAGER,
    },
    stack,
    missingExit: EXIT_UNREACHABLE,
  });
}

export async function runStatus(argv: readonly string[], deps: AccessDeps): Promise<number> {
  let stack: string;
  let chosen: string | undefined;
  try {
    const line = parseCommandLine(STATUS_SPEC, argv, deps.knownStacks);
    if (line.help) {
      deps.stdout(helpText(STATUS_SPEC, deps.knownStacks));
      return EXIT_OK;
    }
    stack = line.stack;
    chosen = typeof line.values.node === "string" ? line.values.node : undefined;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.stderr(usageMessage(STATUS_SPEC, error));
    return EXIT_USAGE;
  }
  const problems = accessProblems(deps, ["pulumi", "ssh"]);
  if (problems.length > 0) {
    deps.stderr(formatAccessProblems(`read the status of stack ${stack}`, problems));
    return EXIT_USAGE;
  }

  let outputs: AccessOutputs;
  let managers: string[];
  try {
    outputs = readOutputs(stack, deps);
    managers = managersToAsk(outputs, chosen);
  } catch (error) {
    if (error instanceof UsageError) {
      deps.stderr(usageMessage(STATUS_SPEC, error));
      return EXIT_USAGE;
    }
    deps.stderr(`status: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_UNREACHABLE;
  }

  const key = writeTemporaryKey(outputs.sshPrivateKey, deps.tmpDir);
  try {
    for (const manager of managers) {
      const node = outputs.nodes[manager];
      deps.stdout(`Cluster status of stack ${stack}, asked of ${manager} (${node.publicIp})\n`);
      const code = deps.interact(sshCommand(key, outputs.sshUser, node.publicIp, remoteStatusCommand(outputs, stack)));
      if (code === SSH_FAILED || code === CANNOT_TELL) {
        const why = code === SSH_FAILED ? `ssh to ${manager} (${node.publicIp}) failed` : `${manager} cannot tell (see above)`;
        deps.stderr(`status: ${why}${manager !== managers.at(-1) ? "; asking the next manager" : ""}.\n`);
        continue;
      }
      let swarmHealth: number = EXIT_FAILED;
      if (code === EXIT_OK || code === EXIT_UNREACHABLE) swarmHealth = code;
      else deps.stderr(`status: stack ${stack} is unhealthy (${STATUS_SCRIPT} exited with ${code}).\n`);
      if (outputs.platform !== "current") return swarmHealth;
      return worse(swarmHealth, sparkDataStatus(outputs, stack, key, deps));
    }
    deps.stderr(
      `status: no manager could tell (${managers.join(", ")}): is port 22 open to this machine (adminCidrs), and is a manager of the swarm up?\n`,
    );
    return EXIT_UNREACHABLE;
  } finally {
    key.remove();
  }
}

if (require.main === module) {
  runAsProcess(STATUS_SPEC, () =>
    runStatus(process.argv.slice(2), systemAccess(availableStacks(), projectBackendUrl(PROJECT_ROOT))),
  );
}
