/**
 * The AWS CLI as an operator tool calls it (npm run restore; npm run deploy to pin a current
 * stack's node image): `aws <service> <operation> …
 * --output json` through execFile — no shell, every argument one word —, each call bounded, with
 * the operator's own credentials and profile from the environment. The stack itself never needs
 * the CLI: Pulumi's provider makes its calls.
 */
import { execFile, type ExecFileException } from "child_process";
import type { Problem } from "./problem";
import { withoutPulumiPassphrase } from "./childEnv";

export const AWS_CLI_INSTALL_URL = "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html";

/** One call may take this long before it is stopped (the CLI retries throttled calls itself). */
const CALL_TIMEOUT_MS = 120_000;

/**
 * AWS error codes that mean the operator's credentials are missing, expired or refused: EC2's
 * (query protocol), and the JSON-protocol services' (SSM) for a key AWS does not know, a wrong
 * secret and an expired session token.
 */
const CREDENTIAL_ERROR_CODES = new Set([
  "AuthFailure",
  "UnauthorizedOperation",
  "ExpiredToken",
  "RequestExpired",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
]);

export class AwsCliError extends Error {
  constructor(
    message: string,
    /** The AWS error code (`InvalidSnapshot.NotFound`), when the CLI printed one. */
    readonly code: string | undefined,
    /** No credentials, or credentials AWS refused: a prerequisite of the operator's machine. */
    readonly credentials: boolean,
  ) {
    super(message);
  }
}

/** Runs `aws ARGS… --output json` and returns the parsed answer (undefined for an empty one). */
export type AwsRunner = (args: readonly string[]) => Promise<unknown>;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment the CLI gets: the operator's, without the Pulumi passphrase (the CLI has no use
 * for it) and without a pager (the answer is parsed, not read).
 */
function cliEnvironment(env: Env): NodeJS.ProcessEnv {
  return { ...withoutPulumiPassphrase(env), AWS_PAGER: "" };
}

function run(
  args: readonly string[],
  env: Env,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<{ stdout: string; stderr: string; error: ExecFileException | null }> {
  return new Promise((resolve) => {
    execFile(
      "aws",
      [...args],
      { env: cliEnvironment(env), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => resolve({ stdout, stderr, error }),
    );
  });
}

/** The runner the tools use: every call as `aws … --output json`, stopped after timeoutMs. */
export function awsCli(env: Env, timeoutMs = CALL_TIMEOUT_MS): AwsRunner {
  return async (args) => {
    const what = `aws ${args.slice(0, 2).join(" ")}`;
    const { stdout, stderr, error } = await run([...args, "--output", "json"], env, timeoutMs);
    if (error) {
      if (error.killed) {
        throw new AwsCliError(`${what} did not answer within ${timeoutMs / 1000} s`, undefined, false);
      }
      if (error.code === "ENOENT") {
        throw new AwsCliError(`${what} cannot run: the AWS CLI is not on PATH`, undefined, false);
      }
      const text = stderr.trim().split("\n").filter(Boolean).slice(-2).join(" / ") || error.message;
      const code = /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];
      const credentials =
        /Unable to locate credentials|could not be found|The SSO session|Token has expired/i.test(stderr) ||
        (code !== undefined && CREDENTIAL_ERROR_CODES.has(code));
      throw new AwsCliError(`${what} failed: ${text}`, code, credentials);
    }
    if (stdout.trim() === "") return undefined;
    try {
      return JSON.parse(stdout) as unknown;
    } catch {
      throw new AwsCliError(
        `${what} printed something that is not JSON: ${JSON.stringify(stdout.slice(0, 80))}`,
        undefined,
        false,
      );
    }
  };
}

/** The CLI must run here (`aws --version`); what to do when it does not. */
export async function awsCliProblem(env: Env): Promise<Problem | undefined> {
  const { error } = await run(["--version"], env);
  if (!error) return undefined;
  return {
    problem:
      error.code === "ENOENT"
        ? "The AWS CLI is not on PATH: the restore makes, attaches and deletes an EBS volume with it."
        : `The AWS CLI does not run (\`aws --version\`: ${error.message.split("\n")[0]}).`,
    fix: `Install AWS CLI v2 from ${AWS_CLI_INSTALL_URL} (Linux: curl -o awscliv2.zip https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip && unzip awscliv2.zip && sudo ./aws/install), then give it credentials (aws configure, or AWS_PROFILE).`,
  };
}
