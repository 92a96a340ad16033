/**
 * `npm run ssh -- --stack S NODE [-- COMMAND…]`: a shell (or one command) on a node of a deployed
 * stack, with the stack's own SSH key — read from `pulumi stack output --json --show-secrets`,
 * written to a 0600 temporary file and removed when ssh ends.
 *
 * `--tunnel` forwards Spark's ports instead: no security group admits them from outside the
 * cluster (they take unauthenticated jobs, lib/ports.ts), so an operator reaches the master's UI,
 * port and REST server through SSH, which authenticates with the stack's key.
 */
import {
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
  findNode,
  formatAccessProblems,
  readOutputs,
  sshCommand,
  systemAccess,
  writeTemporaryKey,
  type AccessDeps,
} from "../common/stackAccess";
import { PROJECT_ROOT, availableStacks } from "../common/stackConfig";
import { SPARK_PORTS } from "../../lib/ports";
import type { NodeOutput } from "../../lib/stackOutputs";

export const SSH_SPEC: ToolSpec = {
  name: "ssh",
  summary: "A shell on a node of a deployed stack, with the stack's SSH key.",
  description: [
    "Reads the node's public address, the login user and the key from the stack's outputs",
    "(`pulumi stack output --json --show-secrets`: needs the Pulumi CLI and the stack's passphrase);",
    "the key goes to a 0600 temporary file that is removed when ssh ends. A node's host key is",
    "accepted the first time it is seen and checked after that (StrictHostKeyChecking=accept-new).",
    "Spark's ports take unauthenticated jobs, so no security group admits them from outside the",
    "cluster: --tunnel forwards them from this machine's 127.0.0.1 through ssh to the node's private",
    "address, where the routing mesh answers on every Swarm node (ssh exits if a local port is taken).",
  ],
  stack: { required: true },
  options: {
    tunnel: {
      type: "boolean",
      short: "L",
      description: `forward ${SPARK_PORTS.map((p) => p.port).join(", ")} (Spark UI, master, REST) on 127.0.0.1 to the routing mesh of NODE, a Swarm node, until Ctrl-C`,
    },
  },
  operands: { synopsis: "NODE", min: 1, max: 1 },
  passThrough: { to: "the node", synopsis: "COMMAND...", description: "run this command on the node instead of a shell" },
  examples: [
    "npm run ssh -- --stack dev aws-105",
    "npm run ssh -- dev aws-101 -- docker node ls",
    "npm run ssh -- --stack prod aws-104 -- sudo journalctl -u flocker-control --since -1h",
    "npm run ssh -- --stack dev --tunnel aws-105   (then http://localhost:8080)",
  ],
  exitCodes: [
    [EXIT_OK, "the shell or command ended with 0"],
    [EXIT_USAGE, "usage error, unknown node or a missing prerequisite (Pulumi CLI, passphrase, ssh): nothing was run"],
    [EXIT_UNREACHABLE, "the stack's outputs could not be read"],
    [255, "ssh could not connect"],
    ["other", "the exit code of the remote shell or command"],
  ],
};

export async function runSsh(argv: readonly string[], deps: AccessDeps): Promise<number> {
  let stack: string;
  let nodeName: string;
  let remote: readonly string[];
  let tunnel: boolean;
  try {
    const line = parseCommandLine(SSH_SPEC, argv, deps.knownStacks);
    if (line.help) {
      deps.stdout(helpText(SSH_SPEC, deps.knownStacks));
      return EXIT_OK;
    }
    [stack, nodeName, remote, tunnel] = [line.stack, line.operands[0], line.passThrough, line.values.tunnel === true];
    if (tunnel && remote.length > 0) {
      throw new UsageError(`--tunnel runs no command: drop \`-- ${remote.join(" ")}\`, or drop --tunnel`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.stderr(usageMessage(SSH_SPEC, error));
    return EXIT_USAGE;
  }
  const problems = accessProblems(deps, ["pulumi", "ssh"]);
  if (problems.length > 0) {
    deps.stderr(formatAccessProblems(`open a shell on ${nodeName} of stack ${stack}`, problems));
    return EXIT_USAGE;
  }

  let outputs;
  try {
    outputs = readOutputs(stack, deps);
  } catch (error) {
    deps.stderr(`ssh: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_UNREACHABLE;
  }
  let node;
  try {
    node = findNode(outputs, nodeName);
    if (tunnel && node.swarmRole === undefined) throw new Error(notInSwarm(nodeName, outputs.nodes));
  } catch (error) {
    deps.stderr(usageMessage(SSH_SPEC, new UsageError(error instanceof Error ? error.message : String(error))));
    return EXIT_USAGE;
  }
  const key = writeTemporaryKey(outputs.sshPrivateKey, deps.tmpDir);
  try {
    if (!tunnel) return deps.interact(sshCommand(key, outputs.sshUser, node.publicIp, remote));
    deps.stderr(tunnelBanner(nodeName, node));
    return deps.interact(sshCommand(key, outputs.sshUser, node.publicIp, [], tunnelOptions(node)));
  } finally {
    key.remove();
  }
}

/**
 * ssh's options for the tunnel: each Spark port on the operator's loopback only (never on their
 * network), to the same port at the node's private address, where the routing mesh answers; no
 * remote command (-N), and ssh exits at once when a local port cannot be bound.
 */
export function tunnelOptions(node: NodeOutput): string[] {
  return [
    "-N",
    "-o",
    "ExitOnForwardFailure=yes",
    ...SPARK_PORTS.flatMap(({ port }) => ["-L", `127.0.0.1:${port}:${node.privateIp}:${port}`]),
  ];
}

function tunnelBanner(nodeName: string, node: NodeOutput): string {
  const lines = SPARK_PORTS.map(({ port, what }) => `  localhost:${port} -> ${nodeName} ${node.privateIp}:${port}  ${what}`);
  return `ssh: forwarding Spark's ports (Ctrl-C closes the tunnel):\n${lines.join("\n")}\n`;
}

function notInSwarm(nodeName: string, nodes: Readonly<Record<string, NodeOutput>>): string {
  const swarmNodes = Object.entries(nodes)
    .filter(([, n]) => n.swarmRole !== undefined)
    .map(([name]) => name);
  return `${nodeName} is not in the Swarm, so the routing mesh does not publish Spark's ports there: tunnel through a Swarm node (${swarmNodes.join(", ")})`;
}

if (require.main === module) {
  runAsProcess(SSH_SPEC, () => runSsh(process.argv.slice(2), systemAccess(availableStacks(), projectBackendUrl(PROJECT_ROOT))));
}
