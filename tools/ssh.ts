/**
 * `npm run ssh -- --stack S NODE [-- COMMAND…]`: a shell (or one command) on a node of a deployed
 * stack, with the stack's own SSH key — read from `pulumi stack output --json --show-secrets`,
 * written to a 0600 temporary file and removed when ssh ends.
 */
import { EXIT_OK, EXIT_USAGE, UsageError, helpText, parseCommandLine, runAsProcess, usageMessage, type ToolSpec } from "./cli";
import { projectBackendUrl } from "./deployPreflight";
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
} from "./stackAccess";
import { PROJECT_ROOT, availableStacks } from "./stackConfig";

export const SSH_SPEC: ToolSpec = {
  name: "ssh",
  summary: "A shell on a node of a deployed stack, with the stack's SSH key.",
  description: [
    "Reads the node's public address, the login user and the key from the stack's outputs",
    "(`pulumi stack output --json --show-secrets`: needs the Pulumi CLI and the stack's passphrase);",
    "the key goes to a 0600 temporary file that is removed when ssh ends. A node's host key is",
    "accepted the first time it is seen and checked after that (StrictHostKeyChecking=accept-new).",
  ],
  stack: { required: true },
  options: {},
  operands: { synopsis: "NODE", min: 1, max: 1 },
  passThrough: { to: "the node", synopsis: "COMMAND...", description: "run this command on the node instead of a shell" },
  examples: [
    "npm run ssh -- --stack dev aws-105",
    "npm run ssh -- dev aws-101 -- docker node ls",
    "npm run ssh -- --stack prod aws-104 -- sudo journalctl -u flocker-control --since -1h",
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
  try {
    const line = parseCommandLine(SSH_SPEC, argv, deps.knownStacks);
    if (line.help) {
      deps.stdout(helpText(SSH_SPEC, deps.knownStacks));
      return EXIT_OK;
    }
    [stack, nodeName, remote] = [line.stack, line.operands[0], line.passThrough];
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
  } catch (error) {
    deps.stderr(usageMessage(SSH_SPEC, new UsageError(error instanceof Error ? error.message : String(error))));
    return EXIT_USAGE;
  }
  const key = writeTemporaryKey(outputs.sshPrivateKey, deps.tmpDir);
  try {
    return deps.interact(sshCommand(key, outputs.sshUser, node.publicIp, remote));
  } finally {
    key.remove();
  }
}

if (require.main === module) {
  runAsProcess(SSH_SPEC, () => runSsh(process.argv.slice(2), systemAccess(availableStacks(), projectBackendUrl(PROJECT_ROOT))));
}
