/**
 * The pure half of `npm run deploy` / `npm run destroy` (tools/deploy/deploy.ts): the preflight that
 * finds every missing prerequisite at once, and the exact Pulumi CLI commands to run (arguments:
 * tools/deploy/deployArgs.ts). Everything the checks look at (environment, files, the CLI) is handed in, so the tests need
 * neither the Pulumi CLI nor AWS.
 */
import * as fs from "fs";
import * as path from "path";
import { Address4 } from "ip-address";
import * as YAML from "yaml";
import { unknownStackMessage } from "../common/cli";
import type { Problem, RawStackConfig } from "../common/problem";
import { unprefixedKeysProblem } from "../common/stackConfig";
import { isDocumentationCidr, isPlaceholderAptSource } from "../../preflight/placeholders";
import { FLOCKER_APT_KEYRING } from "../../lib/aptSource";
import { pinNeed, pinProblems } from "./nodeImagePin";

export type DeployCommand = "up" | "destroy";

/** Exit code of a usage error and of a failed preflight: nothing has been run. */
export const PREFLIGHT_EXIT_CODE = 2;

export const DEFAULT_STACK = "dev";
/** Where `--my-ip` learns the operator's public IPv4 (plain text, one address). */
export const CHECKIP_URL = "https://checkip.amazonaws.com";
export const CHECKIP_TIMEOUT_MS = 10_000;
/** Used when neither PULUMI_BACKEND_URL nor Pulumi.yaml's `backend.url` names a backend. */
export const DEFAULT_BACKEND_URL = "file://~";
export const PULUMI_INSTALL_URL = "https://www.pulumi.com/docs/iac/download-install/";

// ---------------------------------------------------------------------------------------------
// Preflight

export interface PreflightInput {
  readonly command: DeployCommand;
  readonly stack: string;
  /** `--my-ip` was given: adminCidrs[0] will be replaced before the update. */
  readonly myIp: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The operator's home directory (for ~/.aws). */
  readonly homeDir: string;
  /** The Pulumi project's name: the namespace of the stack's config keys. */
  readonly projectName: string;
  /** Output of `<command> version` (`ssh -V`, `aws --version`), or undefined when the command does not run. */
  readonly which: (command: string) => string | undefined;
  /** True when `file` exists and is a readable file. */
  readonly fileExists: (file: string) => boolean;
  /** The stack file's config map; undefined when Pulumi.<stack>.yaml does not exist; throws when it does not parse. */
  readonly readStackConfig: (stack: string) => RawStackConfig | undefined;
  /** Stacks that have a file in the repository, for the "no such stack" message. */
  readonly knownStacks?: readonly string[];
}

/** Every problem found, in a fixed order; empty when the deploy may go ahead. */
export function preflight(input: PreflightInput): Problem[] {
  const problems: Problem[] = [];
  problems.push(...checkPulumiCli(input));
  if (input.command === "up") problems.push(...checkSshClient(input));
  problems.push(...checkAwsCredentials(input));
  problems.push(...checkPassphrase(input));

  let config: RawStackConfig | undefined;
  try {
    config = input.readStackConfig(input.stack);
    if (config === undefined) {
      problems.push({
        problem: `${unknownStackMessage(input.stack, input.knownStacks ?? [])}.`,
        fix: `Pick an existing stack, or create the file as shown, then edit its values.`,
      });
    } else {
      const unprefixed = unprefixedKeysProblem(`Pulumi.${input.stack}.yaml`, Object.keys(config), input.projectName);
      if (unprefixed !== undefined) {
        problems.push({ problem: `${unprefixed}.`, fix: `Rename each key in Pulumi.${input.stack}.yaml as shown.` });
      }
    }
  } catch (error) {
    problems.push({
      problem: `Pulumi.${input.stack}.yaml cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      fix: `Fix the YAML in Pulumi.${input.stack}.yaml (it must have a top-level "config:" map).`,
    });
  }
  if (config !== undefined && input.command === "up") {
    // Only the packages install needs a package source; containers (the default) pulls images.
    if (config[`${input.projectName}:flockerInstall`] === "packages") problems.push(...checkFlockerPackages(input, config));
    problems.push(...checkAdminCidrs(input, config));
    problems.push(...pinProblems(input.stack, pinNeed(config, input.projectName), input.which));
  }
  return problems;
}

function checkPulumiCli(input: PreflightInput): Problem[] {
  if (input.which("pulumi") !== undefined) return [];
  return [
    {
      problem: "The Pulumi CLI is not on PATH (`pulumi version` does not run).",
      fix: `Install it from ${PULUMI_INSTALL_URL} (e.g. \`curl -fsSL https://get.pulumi.com | sh\` or \`brew install pulumi/tap/pulumi\`), then open a new shell so that \`pulumi version\` works.`,
    },
  ];
}

/** `pulumi up` runs each node's ssh-key step (tools/ssh-key-rotate.sh) with the operator's ssh. */
function checkSshClient(input: PreflightInput): Problem[] {
  if (input.which("ssh") !== undefined) return [];
  return [
    {
      problem: "ssh is not on PATH (`ssh -V` does not run): pulumi up installs the stack's SSH key on each node with it.",
      fix: "Install an OpenSSH client (Debian/Ubuntu: `sudo apt-get install openssh-client`; macOS ships one, or `brew install openssh`), then open a new shell so that `ssh -V` works.",
    },
  ];
}

/** The AWS SDK's default places for credentials; a presence check only, nothing is validated against AWS. */
function checkAwsCredentials(input: PreflightInput): Problem[] {
  const { env } = input;
  const set = (name: string) => (env[name] ?? "") !== "";
  if (set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")) return [];
  if (set("AWS_PROFILE") || set("AWS_WEB_IDENTITY_TOKEN_FILE")) return [];
  if (set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")) return [];
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE || path.join(input.homeDir, ".aws", "credentials"),
    env.AWS_CONFIG_FILE || path.join(input.homeDir, ".aws", "config"),
  ];
  if (files.some((file) => input.fileExists(file))) return [];

  const half = set("AWS_ACCESS_KEY_ID") !== set("AWS_SECRET_ACCESS_KEY");
  return [
    {
      problem: half
        ? `AWS credentials are incomplete: ${set("AWS_ACCESS_KEY_ID") ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"}.`
        : `No AWS credentials found: none of AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE is set, and neither ${files.join(" nor ")} exists.`,
      fix:
        "Export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE=<profile> (after `aws configure` or `aws sso login --profile <profile>`). " +
        "This is a presence check, not a validity check: expired or wrong credentials fail later, at `pulumi up`.",
    },
  ];
}

function checkPassphrase(input: PreflightInput): Problem[] {
  const { env } = input;
  const passphrase = env.PULUMI_CONFIG_PASSPHRASE;
  const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (passphrase !== undefined && passphrase !== "") return [];
  const why =
    "The self-managed backend encrypts this stack's secrets (SSH key, Flocker client key, Swarm join tokens) with a passphrase";
  const howto =
    "export PULUMI_CONFIG_PASSPHRASE='…' or PULUMI_CONFIG_PASSPHRASE_FILE=/path/to/file — the same passphrase every time (CI's secret PULUMI_CONFIG_PASSPHRASE too): it cannot be recovered.";
  if (file !== undefined && file !== "") {
    if (input.fileExists(file)) return [];
    return [
      {
        problem: `PULUMI_CONFIG_PASSPHRASE_FILE=${file} is not a readable file.`,
        fix: `Point it at the file that holds the passphrase, or ${howto}`,
      },
    ];
  }
  return [
    {
      problem:
        passphrase === ""
          ? `PULUMI_CONFIG_PASSPHRASE is empty. ${why}, and an empty one protects nothing.`
          : `No secrets passphrase: neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set. ${why}.`,
      fix: howto,
    },
  ];
}

// The placeholder tests are the program's own (preflight/placeholders.ts), so that this wrapper and
// `pulumi up` refuse exactly the same values.
export { isDocumentationCidr, isPlaceholderAptSource };

function isSecure(value: unknown): boolean {
  return typeof value === "object" && value !== null && "secure" in value;
}

function checkFlockerPackages(input: PreflightInput, config: RawStackConfig): Problem[] {
  const { stack, projectName } = input;
  const debDir = config[`${projectName}:flockerDebDir`];
  if (isSecure(debDir) || (typeof debDir === "string" && debDir.trim() !== "")) return [];
  const source = config[`${projectName}:flockerAptSource`];
  if (isSecure(source)) return [];
  const line = typeof source === "string" ? source.trim() : "";
  const fix =
    `pulumi config set flockerAptSource 'deb [signed-by=${FLOCKER_APT_KEYRING}] https://<your repository>/… /' --stack ${stack} ` +
    `with pulumi config set flockerAptKey <its public key> --stack ${stack} ` +
    `(a repository that serves the Flocker 1.15 packages; ClusterHQ's is gone), or pulumi config set flockerDebDir /path/to/debs --stack ${stack}. See docs/flocker.md, "packages".`;
  if (line === "") {
    return [{ problem: `Stack ${stack} names no Flocker packages: flockerAptSource and flockerDebDir are both empty.`, fix }];
  }
  if (isPlaceholderAptSource(line)) {
    return [
      { problem: `flockerAptSource of stack ${stack} is still the placeholder "${line}" (that host never resolves).`, fix },
    ];
  }
  return [];
}

function checkAdminCidrs(input: PreflightInput, config: RawStackConfig): Problem[] {
  const { stack, projectName, myIp } = input;
  const value = config[`${projectName}:adminCidrs`];
  if (isSecure(value)) return [];
  const mine = `npm run deploy -- ${stack} --my-ip`;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    if (myIp) return [];
    return [
      {
        problem: `Stack ${stack} has no adminCidrs: nobody could reach SSH, the Flocker API or the Spark UIs.`,
        fix: `pulumi config set --path 'adminCidrs[0]' <your-ip>/32 --stack ${stack}, or run ${mine} to use this machine's public IPv4.`,
      },
    ];
  }
  if (!Array.isArray(value)) return []; // the program's own validation explains a malformed value
  const problems: Problem[] = [];
  value.forEach((entry, index) => {
    if (typeof entry !== "string" || !isDocumentationCidr(entry.trim())) return;
    if (index === 0 && myIp) return; // --my-ip replaces it
    problems.push({
      problem: `adminCidrs[${index}] of stack ${stack} is ${entry}, a documentation address (RFC 5737/3849) left as a placeholder: no real client has it.`,
      fix:
        index === 0
          ? `pulumi config set --path 'adminCidrs[0]' <your-ip>/32 --stack ${stack}, or run ${mine} to use this machine's public IPv4.`
          : `pulumi config set --path 'adminCidrs[${index}]' <an admin network> --stack ${stack}, or remove it with pulumi config rm --path 'adminCidrs[${index}]' --stack ${stack} (--my-ip only replaces adminCidrs[0]).`,
    });
  });
  return problems;
}

/** The problems as the operator reads them: numbered, each with what to do. */
export function formatProblems(command: DeployCommand, stack: string, problems: readonly Problem[]): string {
  const lines = [
    `Cannot run pulumi ${command} on stack ${stack}: ${problems.length} problem${problems.length === 1 ? "" : "s"} (nothing was run).`,
  ];
  problems.forEach((p, i) => {
    lines.push(`  ${i + 1}. ${p.problem}`);
    lines.push(`     → ${p.fix}`);
  });
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Backend, --my-ip and the commands

/** PULUMI_BACKEND_URL wins (it also overrides Pulumi.yaml in the CLI), then Pulumi.yaml's backend.url, then file://~. */
export function resolveBackendUrl(
  env: Readonly<Record<string, string | undefined>>,
  projectBackendUrl: string | undefined,
): string {
  const fromEnv = env.PULUMI_BACKEND_URL?.trim();
  if (fromEnv) return fromEnv;
  const fromProject = projectBackendUrl?.trim();
  return fromProject ? fromProject : DEFAULT_BACKEND_URL;
}

/** The body of checkip.amazonaws.com, validated as a dotted-quad IPv4 address. */
export function parsePublicIpv4(body: string): string {
  const text = body.trim();
  const octet = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  if (!new RegExp(`^${octet}(\\.${octet}){3}$`).test(text) || !Address4.isValid(text)) {
    throw new Error(`${CHECKIP_URL} answered ${JSON.stringify(text.slice(0, 60))}, which is not an IPv4 address`);
  }
  return text;
}

export interface DeployPlan {
  readonly command: DeployCommand;
  readonly stack: string;
  readonly backendUrl: string;
  /** The policy pack `pulumi up` enforces (a directory); destroy takes none. */
  readonly policyPack: string;
  /** The operator's public IPv4, only when --my-ip was given. */
  readonly myIp?: string;
  readonly pulumiArgs: readonly string[];
}

/** The Pulumi CLI invocations, in order, as argument arrays (run without a shell). */
export function deployCommands(plan: DeployPlan): string[][] {
  const { command, stack } = plan;
  const commands: string[][] = [["pulumi", "login", plan.backendUrl]];
  if (command === "up") {
    commands.push(["pulumi", "stack", "select", "--create", stack, "--secrets-provider", "passphrase"]);
    if (plan.myIp !== undefined) {
      commands.push(["pulumi", "config", "set", "--stack", stack, "--path", "adminCidrs[0]", `${plan.myIp}/32`]);
    }
  } else {
    commands.push(["pulumi", "stack", "select", stack]); // destroying must not create an empty stack
  }
  const policy = command === "up" ? ["--policy-pack", plan.policyPack] : [];
  commands.push(["pulumi", command, "--stack", stack, ...policy, ...plan.pulumiArgs]);
  return commands;
}

/** An argument array as the operator would type it (single quotes only where the shell needs them). */
export function displayCommand(argv: readonly string[]): string {
  return argv
    .map((word) => (/^[A-Za-z0-9_@%+=:,./-][A-Za-z0-9_@%+=:,./~-]*$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}

// ---------------------------------------------------------------------------------------------
// Reading the repository's files (used by tools/deploy/deploy.ts and the tests)

/** The stack file's `config:` map, or undefined when the file does not exist. */
export function readRawStackConfig(root: string, stack: string): RawStackConfig | undefined {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) return undefined;
  const document = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  if (typeof document !== "object" || Array.isArray(document)) throw new Error("the file is not a YAML map");
  const config = (document as { config?: unknown }).config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new Error('"config" is not a map');
  return config as RawStackConfig;
}

/** Pulumi.yaml's `backend.url`, if it names one. */
export function projectBackendUrl(root: string): string | undefined {
  const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { backend?: { url?: unknown } } | null;
  const url = project?.backend?.url;
  return typeof url === "string" && url.trim() !== "" ? url.trim() : undefined;
}
