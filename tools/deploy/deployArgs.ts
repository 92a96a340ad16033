/**
 * The command lines of `npm run deploy` and `npm run destroy` (tools/deploy/deploy.ts), by the convention
 * of tools/common/cli.ts: the stack is required (they act on real infrastructure), Pulumi's own options
 * go after a second `--`.
 */
import { UsageError, parseCommandLine, type ToolSpec } from "../common/cli";
import { CHECKIP_URL, PREFLIGHT_EXIT_CODE, type DeployCommand } from "./deployPreflight";

/** Where the policy pack lives, relative to the project root (the deploy runs there). */
export const POLICY_PACK_DIR = "policy";

export const DEPLOY_SPEC: ToolSpec = {
  name: "deploy",
  summary: "Deploys a stack: `pulumi up` with the policy pack, after checking every prerequisite.",
  description: [
    "Checks first, all at once, and exits with code 2 before running anything if one fails: the",
    "Pulumi CLI, AWS credentials (present, not validated), a secrets passphrase",
    "(PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE), the stack file, and that",
    "flockerAptSource and adminCidrs are not the repository's placeholders (and, on a stack of",
    "platform current with nodeImageId unset, that aws:region is set and the AWS CLI runs).",
    `Then: npm ci --prefix ${POLICY_PACK_DIR} when the policy pack's dependencies are missing;`,
    "pulumi login <PULUMI_BACKEND_URL, else Pulumi.yaml's backend.url>; pulumi stack select",
    "(created with the passphrase provider if new: commit the encryptionsalt it writes into",
    `Pulumi.STACK.yaml); with --my-ip, pulumi config set --path 'adminCidrs[0]'; pulumi up --policy-pack ${POLICY_PACK_DIR}.`,
    "",
    "On a stack of platform current with nodeImageId unset: pins Canonical's current Ubuntu 24.04 image",
    "of the stack's region before pulumi up (read first with aws ssm get-parameter, then pulumi config",
    "set nodeImageId; commit Pulumi.STACK.yaml).",
    "Deploy never moves a pinned image: a new one replaces every node at once, so moving it is the",
    'manual command\'s job (docs/platforms.md, "Refreshing the pin").',
  ],
  stack: { required: true },
  options: {
    "my-ip": { type: "boolean", description: `set adminCidrs[0] to this machine's public IPv4/32 (from ${CHECKIP_URL})` },
  },
  passThrough: { to: "pulumi up", synopsis: "PULUMI_UP_ARGS...", description: "passed to `pulumi up` unchanged (e.g. --yes)" },
  examples: [
    "npm run deploy -- --stack dev --my-ip",
    "npm run deploy -- --stack current --my-ip        # first deploy: also pins nodeImageId",
    "npm run deploy -- dev                            # the same stack, bare name",
    "npm run deploy -- --stack prod -- --yes --skip-preview",
  ],
  exitCodes: [
    [0, "pulumi up finished"],
    [PREFLIGHT_EXIT_CODE, "usage error or a failed check: nothing was run (each problem is listed with what to do)"],
    ["other", "the exit code of the Pulumi command that failed (shown with the command)"],
  ],
};

export const DESTROY_SPEC: ToolSpec = {
  name: "destroy",
  summary: "Destroys a stack's resources: `pulumi destroy`, after checking the prerequisites.",
  description: [
    "Checks first, all at once, and exits with code 2 before running anything if one fails: the",
    "Pulumi CLI, AWS credentials (present, not validated), a secrets passphrase",
    "(PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE) and the stack file.",
    "Then: pulumi login; pulumi stack select (never creates one); reads the stack's outputs and",
    "checks that the two hosts whose steps run a delete answer on port 22 (the first manager; the",
    "Spark master's node, where the Flocker dataset's delete runs); pulumi destroy. When one does",
    "not, it says which deletes run there and what is lost by skipping them, and stops (exit 2)",
    "unless --forget-unreachable is given. A stack without outputs (never deployed) is destroyed",
    "without the check.",
  ],
  stack: { required: true },
  options: {
    "forget-unreachable": {
      type: "boolean",
      description:
        "when a host that destroy needs does not answer, forget its steps that run a delete (pulumi state delete) and destroy the rest",
    },
  },
  passThrough: {
    to: "pulumi destroy",
    synopsis: "PULUMI_DESTROY_ARGS...",
    description: "passed to `pulumi destroy` unchanged (e.g. --yes)",
  },
  examples: [
    "npm run destroy -- --stack dev",
    "npm run destroy -- dev -- --yes",
    "npm run destroy -- --stack prod --forget-unreachable",
  ],
  exitCodes: [
    [0, "pulumi destroy finished"],
    [PREFLIGHT_EXIT_CODE, "usage error or a failed check: nothing was run (each problem is listed with what to do)"],
    [
      PREFLIGHT_EXIT_CODE,
      "a host that destroy needs does not answer, without --forget-unreachable: nothing was destroyed (the command to re-run is shown)",
    ],
    ["other", "the exit code of the Pulumi command that failed (shown with the command)"],
  ],
};

export interface DeployArgs {
  readonly command: DeployCommand;
  readonly stack: string;
  readonly myIp: boolean;
  /** destroy: forget the deletes of a host that does not answer instead of stopping. */
  readonly forgetUnreachable: boolean;
  /** Arguments after `--`, passed to `pulumi up` / `pulumi destroy` as they are. */
  readonly pulumiArgs: readonly string[];
  readonly help: boolean;
}

export const specFor = (command: DeployCommand): ToolSpec => (command === "up" ? DEPLOY_SPEC : DESTROY_SPEC);

/** `["up", "--stack", "prod", "--my-ip", "--", "--yes"]` (package.json puts the command first). */
export function parseDeployArgs(argv: readonly string[], knownStacks: readonly string[]): DeployArgs {
  const [command, ...rest] = argv;
  if (command !== "up" && command !== "destroy") {
    throw new UsageError(
      `the first argument must be "up" or "destroy" (package.json passes it), got ${command === undefined ? "nothing" : `"${command}"`}`,
    );
  }
  const terminator = rest.indexOf("--");
  if (command === "destroy" && (terminator === -1 ? rest : rest.slice(0, terminator)).includes("--my-ip")) {
    throw new UsageError("--my-ip only applies to deploy (it changes adminCidrs before the update)");
  }
  const line = parseCommandLine(specFor(command), rest, knownStacks);
  return {
    command,
    stack: line.stack,
    myIp: line.values["my-ip"] === true,
    forgetUnreachable: line.values["forget-unreachable"] === true,
    pulumiArgs: line.passThrough,
    help: line.help,
  };
}
