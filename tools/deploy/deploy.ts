/**
 * `npm run deploy -- --stack S [--my-ip] [-- PULUMI_ARGS…]` and `npm run destroy -- --stack S [-- …]`:
 * checks every prerequisite at once (tools/deploy/deployPreflight.ts) and exits with code 2 before
 * running anything when one is missing; then logs in to the self-managed backend, selects (or
 * creates) the stack with the passphrase secrets provider, optionally points adminCidrs[0] at this
 * machine's public IPv4, pins a current-platform stack's unset nodeImageId
 * (tools/deploy/nodeImagePin.ts), and runs `pulumi up --policy-pack policy` / `pulumi destroy` with
 * the operator's terminal. Before a destroy, the hosts whose steps run a delete must answer, or their
 * deletes are forgotten on request (tools/deploy/destroyReachability.ts).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError, exitQuietlyOnClosedPipe, helpText, usageMessage } from "../common/cli";
import { POLICY_PACK_DIR, parseDeployArgs, specFor, type DeployArgs } from "./deployArgs";
import {
  CHECKIP_TIMEOUT_MS,
  CHECKIP_URL,
  PREFLIGHT_EXIT_CODE,
  deployCommands,
  displayCommand,
  formatProblems,
  parsePublicIpv4,
  preflight,
  projectBackendUrl,
  readRawStackConfig,
  resolveBackendUrl,
  type DeployCommand,
} from "./deployPreflight";
import type { RawStackConfig } from "../common/problem";
import {
  answers,
  consequences,
  forgetPlan,
  neededHosts,
  parseDestroyOutputs,
  parseExport,
  probeTcp,
  type ForgetPlan,
  type NeededHost,
} from "./destroyReachability";
import { PROJECT_ROOT, availableStacks, projectName } from "../common/stackConfig";
import { awsCli, type AwsRunner } from "../common/awsCli";
import {
  PinError,
  SSM_LOOKUP_TIMEOUT_MS,
  lookUpNodeImage,
  pinCommandLine,
  pinNeed,
  pinnedMessage,
  type PinNeed,
} from "./nodeImagePin";

/** Everything the deploy touches outside itself; tests replace it. */
export interface DeployDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  readonly projectName: string;
  readonly projectBackendUrl: string | undefined;
  readonly knownStacks: readonly string[];
  readonly which: (command: string) => string | undefined;
  readonly fileExists: (file: string) => boolean;
  readonly readStackConfig: (stack: string) => RawStackConfig | undefined;
  /** The operator's public IPv4 (validated). */
  readonly fetchPublicIpv4: () => Promise<string>;
  /** The operator's AWS CLI (`aws ARGS… --output json`, bounded): reads the image a current stack pins. */
  readonly aws: AwsRunner;
  /** Runs one command with the terminal attached; returns its exit code. */
  readonly run: (argv: readonly string[]) => number;
  /** Runs one command and returns its exit code and stdout (stderr goes to the terminal). */
  readonly capture: (argv: readonly string[]) => { readonly code: number; readonly stdout: string };
  /** True when host:port accepts a TCP connection within timeoutMs. */
  readonly probe: (host: string, port: number, timeoutMs: number) => Promise<boolean>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The exit code of the whole deploy: 2 before anything ran, else the first failing command's code. */
export async function runDeploy(argv: readonly string[], deps: DeployDeps): Promise<number> {
  const command: DeployCommand = argv[0] === "destroy" ? "destroy" : "up";
  let args;
  try {
    args = parseDeployArgs(argv, deps.knownStacks);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.stderr(usageMessage(specFor(command), error));
    return PREFLIGHT_EXIT_CODE;
  }
  if (args.help) {
    deps.stdout(helpText(specFor(args.command), deps.knownStacks));
    return 0;
  }

  const problems = preflight({ ...deps, command: args.command, stack: args.stack, myIp: args.myIp });
  if (problems.length > 0) {
    deps.stderr(formatProblems(args.command, args.stack, problems));
    return PREFLIGHT_EXIT_CODE;
  }

  let myIp: string | undefined;
  if (args.myIp) {
    try {
      myIp = await deps.fetchPublicIpv4();
    } catch (error) {
      deps.stderr(
        `Cannot run pulumi up on stack ${args.stack}: --my-ip could not learn this machine's public IPv4 from ${CHECKIP_URL} ` +
          `(${describeError(error)}). Nothing was run.\n` +
          `  → Set it yourself: pulumi config set --path 'adminCidrs[0]' <your-ip>/32 --stack ${args.stack}, then run without --my-ip.\n`,
      );
      return PREFLIGHT_EXIT_CODE;
    }
    deps.stdout(`--my-ip: this machine's public IPv4 is ${myIp}; adminCidrs[0] of stack ${args.stack} becomes ${myIp}/32.\n`);
  }

  // Looked up before anything runs, like --my-ip's address: a failure leaves the stack untouched.
  let pin: { readonly imageId: string; readonly region: string } | undefined;
  const need: PinNeed =
    args.command === "up" ? pinNeed(deps.readStackConfig(args.stack) ?? {}, deps.projectName) : { pin: false };
  if (need.pin && need.region !== undefined) {
    try {
      pin = { imageId: await lookUpNodeImage(deps.aws, args.stack, need.region), region: need.region };
    } catch (error) {
      if (!(error instanceof PinError)) throw error;
      deps.stderr(
        `Cannot run pulumi up on stack ${args.stack}: nodeImageId is not pinned, and ${error.message}. Nothing was run.\n  → ${error.fix}\n`,
      );
      return PREFLIGHT_EXIT_CODE;
    }
  }

  const commands = deployCommands({
    command: args.command,
    stack: args.stack,
    backendUrl: resolveBackendUrl(deps.env, deps.projectBackendUrl),
    policyPack: POLICY_PACK_DIR,
    myIp,
    pulumiArgs: args.pulumiArgs,
  });
  const pulumiCommand = commands[commands.length - 1];
  const install = args.command === "up" ? policyPackInstall(deps) : [];
  const pinning = pin === undefined ? [] : [pinCommandLine(args.stack, pin.imageId)];
  const failed = runAll([...install, ...commands.slice(0, -1), ...pinning], deps);
  if (failed !== 0) return failed;
  if (pin !== undefined) deps.stdout(pinnedMessage(args.stack, pin.imageId, pin.region));
  if (args.command === "destroy") {
    const ready = await clearUnreachableHosts(args, deps);
    if (ready !== 0) return ready;
  }
  const status = runAll([pulumiCommand], deps);
  if (status !== 0) return status;
  if (args.command === "up") {
    deps.stdout(
      `Pulumi.${args.stack}.yaml may have changed (the encryptionsalt of a new stack${myIp ? ", adminCidrs[0]" : ""}${pin ? ", nodeImageId" : ""}): review it with git diff and commit the salt${pin ? " and the pin" : ""}.\n`,
    );
  }
  return 0;
}

/** Runs the commands in order, each shown first; the first failing one's exit code, else 0. */
function runAll(commands: readonly (readonly string[])[], deps: Pick<DeployDeps, "run" | "stdout" | "stderr">): number {
  for (const command of commands) {
    deps.stdout(`$ ${displayCommand(command)}\n`);
    const status = deps.run(command);
    if (status !== 0) {
      deps.stderr(`deploy: \`${displayCommand(command)}\` failed with exit code ${status}.\n`);
      return status;
    }
  }
  return 0;
}

/**
 * Before pulumi destroy: when a host whose steps run a delete does not answer, say what is lost by
 * skipping them; with --forget-unreachable destroy their dependents on the hosts that answer and
 * forget those steps, else stop. 0 when pulumi destroy may run.
 */
async function clearUnreachableHosts(args: DeployArgs, deps: DeployDeps): Promise<number> {
  const { stack } = args;
  const read = deps.capture(["pulumi", "stack", "output", "--json", "--stack", stack]);
  const outputs = read.code === 0 ? parseDestroyOutputs(read.stdout) : undefined;
  if (outputs === undefined) {
    deps.stdout(
      `Stack ${stack} has no node outputs (never deployed, or only partly): destroying without the reachability check.\n`,
    );
    return 0;
  }
  const hosts = neededHosts(outputs);
  const gone: NeededHost[] = [];
  for (const host of hosts) if (!(await answers(deps.probe, host.publicIp))) gone.push(host);
  if (gone.length === 0) {
    deps.stdout(`${hosts.map((h) => `${h.node} (${h.publicIp})`).join(" and ")} answer on port 22: their deletes can run.\n`);
    return 0;
  }

  const region = regionOf(deps, stack);
  const warning = [
    `WARNING: ${gone.length === 1 ? "a host" : "hosts"} that pulumi destroy runs deletes on ${gone.length === 1 ? "does" : "do"} not answer; each of ${gone.length === 1 ? "its" : "their"} deletes would fail after 8 SSH dials of 15 s:`,
    ...gone.flatMap((host) => consequences(host, outputs, region)),
  ];
  if (!args.forgetUnreachable) {
    const rerun = [
      "npm",
      "run",
      "destroy",
      "--",
      "--stack",
      stack,
      "--forget-unreachable",
      ...(args.pulumiArgs.length > 0 ? ["--", ...args.pulumiArgs] : []),
    ];
    deps.stderr(
      [
        ...warning,
        "Nothing was destroyed. If the host is gone for good, forget its deletes and destroy the rest with:",
        `  ${displayCommand(rerun)}`,
        "",
      ].join("\n"),
    );
    return PREFLIGHT_EXIT_CODE;
  }
  deps.stderr([...warning, ""].join("\n"));

  const exported = deps.capture(["pulumi", "stack", "export", "--show-secrets", "--stack", stack]);
  if (exported.code !== 0) {
    deps.stderr(
      `deploy: \`pulumi stack export --stack ${stack}\` failed with exit code ${exported.code}; nothing was forgotten or destroyed.\n`,
    );
    return exported.code;
  }
  let plan: ForgetPlan;
  try {
    plan = forgetPlan(parseExport(exported.stdout), new Set(gone.map((h) => h.publicIp)));
  } catch (error) {
    deps.stderr(
      `deploy: cannot forget the deletes of ${gone.map((h) => h.node).join(", ")}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Nothing was forgotten or destroyed; docs/operations.md ("Teardown, and deletes that finish") has the manual way.\n',
    );
    return PREFLIGHT_EXIT_CODE;
  }
  deps.stdout(
    `--forget-unreachable: forgetting ${plan.steps.length} step${plan.steps.length === 1 ? "" : "s"} (their deletes will not run): ${plan.steps.map((s) => `${s.name} on ${s.host}`).join(", ") || "none"}.\n`,
  );
  const commands = plan.actions.map((action) =>
    action.kind === "forget"
      ? ["pulumi", "state", "delete", "--stack", stack, "--yes", action.step.urn]
      : ["pulumi", "destroy", "--stack", stack, ...action.urns.flatMap((urn) => ["--target", urn]), ...args.pulumiArgs],
  );
  return runAll(commands, deps);
}

function regionOf(deps: Pick<DeployDeps, "readStackConfig">, stack: string): string | undefined {
  try {
    const region = deps.readStackConfig(stack)?.["aws:region"];
    return typeof region === "string" ? region : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `pulumi up --policy-pack policy` runs the pack with its own node_modules (policy/README.md): when
 * they are missing, the deploy installs them from the pack's lock file first, so that
 * `npm ci && npm run deploy` is all a newcomer types.
 */
export function policyPackInstall(deps: Pick<DeployDeps, "fileExists">): string[][] {
  const marker = path.join(PROJECT_ROOT, POLICY_PACK_DIR, "node_modules", "@pulumi", "policy", "package.json");
  return deps.fileExists(marker) ? [] : [["npm", "ci", "--prefix", POLICY_PACK_DIR, "--no-audit", "--no-fund"]];
}

/** An error's message with its cause (Node's fetch reports "fetch failed" and puts the reason in `cause`). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && cause !== error.message ? `${error.message}: ${cause}` : error.message;
}

/** GET checkip.amazonaws.com with a timeout; the body must be one IPv4 address. */
export async function fetchPublicIpv4(fetchImpl: typeof fetch = fetch, timeoutMs = CHECKIP_TIMEOUT_MS): Promise<string> {
  const response = await fetchImpl(CHECKIP_URL, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  return parsePublicIpv4(await response.text());
}

function isReadableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * `<command> version`'s first line (`ssh -V`'s, which prints to stderr; `aws --version`'s), or
 * undefined when it does not run.
 */
function commandVersion(command: string): string | undefined {
  const versionArgs = command === "ssh" ? ["-V"] : command === "aws" ? ["--version"] : ["version"];
  const result = spawnSync(command, versionArgs, { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] });
  if (result.error || result.status !== 0) return undefined;
  return (result.stdout || result.stderr).trim().split("\n")[0] || command;
}

function runInherited(argv: readonly string[]): number {
  const result = spawnSync(argv[0], argv.slice(1), { stdio: "inherit", cwd: PROJECT_ROOT });
  if (result.error) {
    process.stderr.write(`deploy: cannot run ${argv[0]}: ${result.error.message}\n`);
    return 127;
  }
  if (result.signal) return 128 + (os.constants.signals[result.signal] ?? 0);
  return result.status ?? 1;
}

/** stdout only: the state export it reads holds the stack's secrets and must never reach the terminal. */
function captureStdout(argv: readonly string[]): { code: number; stdout: string } {
  const result = spawnSync(argv[0], argv.slice(1), {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (result.error) return { code: 127, stdout: "" };
  return { code: result.status ?? 1, stdout: result.stdout ?? "" };
}

export function systemDeps(): DeployDeps {
  return {
    env: process.env,
    homeDir: os.homedir(),
    projectName: projectName(),
    projectBackendUrl: projectBackendUrl(PROJECT_ROOT),
    knownStacks: availableStacks(),
    which: commandVersion,
    fileExists: isReadableFile,
    readStackConfig: (stack) => readRawStackConfig(PROJECT_ROOT, stack),
    fetchPublicIpv4: () => fetchPublicIpv4(),
    aws: awsCli(process.env, SSM_LOOKUP_TIMEOUT_MS),
    run: runInherited,
    capture: captureStdout,
    probe: probeTcp,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
}

if (require.main === module) {
  exitQuietlyOnClosedPipe(process.stdout);
  runDeploy(process.argv.slice(2), systemDeps()).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`deploy failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
