/**
 * The command lines of `npm run deploy` and `npm run destroy` (tools/deploy.ts), by the convention
 * of tools/cli.ts: the stack is required (they act on real infrastructure), Pulumi's own options
 * go after a second `--`.
 */
import { UsageError, parseCommandLine, type ToolSpec } from "./cli";
import { CHECKIP_URL, PREFLIGHT_EXIT_CODE, type DeployCommand } from "./deployPreflight";

/** Where the policy pack lives, relative to the project root (the deploy runs there). */
export const POLICY_PACK_DIR = "policy";

export const DEPLOY_SPEC: ToolSpec = {
  name: "deploy",
  summary: "Deploys a stack: `pulumi up` with the policy pack, after checking every prerequisite.",
  description: [
    "Checks first, all at once, and exits with code 2 before running anything if one fails: the",
    "Pulumi CLI, AWS credentials (present, not validated), a secrets passphrase",
    "(PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE), the stack file, the policy pack's",
    `dependencies (npm ci --prefix ${POLICY_PACK_DIR}), and that flockerAptSource and adminCidrs are not`,
    "the repository's placeholders.",
    "Then: pulumi login <PULUMI_BACKEND_URL, else Pulumi.yaml's backend.url>; pulumi stack select",
    "(created with the passphrase provider if new: commit the encryptionsalt it writes into",
    `Pulumi.STACK.yaml); with --my-ip, pulumi config set --path 'adminCidrs[0]'; pulumi up --policy-pack ${POLICY_PACK_DIR}.`,
  ],
  stack: { required: true },
  options: {
    "my-ip": { type: "boolean", description: `set adminCidrs[0] to this machine's public IPv4/32 (from ${CHECKIP_URL})` },
  },
  passThrough: { to: "pulumi up", synopsis: "PULUMI_UP_ARGS...", description: "passed to `pulumi up` unchanged (e.g. --yes)" },
  examples: [
    "npm run deploy -- --stack dev --my-ip",
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
    "Then: pulumi login; pulumi stack select (never creates one); pulumi destroy.",
  ],
  stack: { required: true },
  options: {},
  passThrough: {
    to: "pulumi destroy",
    synopsis: "PULUMI_DESTROY_ARGS...",
    description: "passed to `pulumi destroy` unchanged (e.g. --yes)",
  },
  examples: ["npm run destroy -- --stack dev", "npm run destroy -- dev -- --yes"],
  exitCodes: DEPLOY_SPEC.exitCodes.map(([code, meaning]): [number | string, string] => [
    code,
    meaning.replace("pulumi up", "pulumi destroy"),
  ]),
};

export interface DeployArgs {
  readonly command: DeployCommand;
  readonly stack: string;
  readonly myIp: boolean;
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
  return { command, stack: line.stack, myIp: line.values["my-ip"] === true, pulumiArgs: line.passThrough, help: line.help };
}
