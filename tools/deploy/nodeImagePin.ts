/**
 * The first `npm run deploy` of a current-platform stack pins its node image, the way `--my-ip`
 * sets adminCidrs: the program refuses to build from Canonical's moving SSM parameter (a new build
 * would replace every node), and stops with the id to pin when `nodeImageId` is unset
 * (preflight/currentImage.ts). The deploy reads the same parameter for the stack's region with the
 * operator's AWS CLI and writes the pin with `pulumi config set` before `pulumi up`.
 *
 * A pinned stack is never changed here, and there is no option to move the pin: a new image
 * replaces every node at once, which deserves the documented manual command
 * (docs/platforms.md, "Refreshing the pin"). A book stack is left alone.
 */
import { isAmiId, isAwsRegionName } from "../../config/formats";
import { UBUNTU_2404_SSM_PARAMETER, pinNodeImageCommand, ubuntu2404LookupCommand } from "../../lib/platform";
import { AWS_CLI_INSTALL_URL, AwsCliError, type AwsRunner } from "../common/awsCli";
import type { Problem, RawStackConfig } from "../common/problem";

/** The one SSM read may take this long (the CLI's own retries included) before the deploy stops. */
export const SSM_LOOKUP_TIMEOUT_MS = 30_000;

/** Where the manual way is written down (the stack file's comment and the preview point there too). */
const REFRESH_DOC = 'docs/platforms.md, "Refreshing the pin"';

export type PinNeed =
  /** A book stack, or a current stack whose nodeImageId is set (or encrypted): nothing to do. */
  | { readonly pin: false }
  /** A current stack without nodeImageId; `region` is aws:region when it is a region name. */
  | { readonly pin: true; readonly region: string | undefined; readonly rawRegion: unknown };

/** Whether `npm run deploy` pins this stack's node image; platform's default is book. */
export function pinNeed(config: RawStackConfig, projectName: string): PinNeed {
  if (config[`${projectName}:platform`] !== "current") return { pin: false };
  const value = config[`${projectName}:nodeImageId`];
  // Anything but nothing counts as a pin: a malformed one is the program's to refuse, by name.
  if (value !== undefined && value !== null && !(typeof value === "string" && value.trim() === "")) return { pin: false };
  const rawRegion = config["aws:region"];
  const region = typeof rawRegion === "string" && isAwsRegionName(rawRegion.trim()) ? rawRegion.trim() : undefined;
  return { pin: true, region, rawRegion };
}

/** What would stop the pin before anything runs: no region to read the parameter in, no AWS CLI. */
export function pinProblems(stack: string, need: PinNeed, which: (command: string) => string | undefined): Problem[] {
  if (!need.pin) return [];
  const problems: Problem[] = [];
  if (need.region === undefined) {
    problems.push({
      problem:
        `Stack ${stack} is on platform current with nodeImageId unset, and deploy pins Canonical's Ubuntu 24.04 image of the stack's region: ` +
        (need.rawRegion === undefined
          ? "aws:region is not set."
          : `aws:region is ${JSON.stringify(need.rawRegion)}, which is not an AWS region name.`),
      fix: `pulumi config set aws:region <region, e.g. us-east-1> --stack ${stack}, then run the deploy again.`,
    });
  }
  if (which("aws") === undefined) {
    problems.push({
      problem: `Stack ${stack} is on platform current with nodeImageId unset, and deploy reads the image to pin with the AWS CLI, which is not on PATH (\`aws --version\` does not run).`,
      fix:
        `Install AWS CLI v2 (${AWS_CLI_INSTALL_URL}), or pin the image yourself: \`pulumi preview --stack ${stack}\` stops before creating anything ` +
        `and prints the id with the command ${pinNodeImageCommand(stack, "ami-…")}.`,
    });
  }
  return problems;
}

/** The lookup failed or answered nonsense: what went wrong and what to do. */
export class PinError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** The AWS CLI arguments of the read (the runner adds `--output json`, so the answer is a JSON string). */
export function ssmLookupArgs(region: string): string[] {
  return ["ssm", "get-parameter", "--region", region, "--name", UBUNTU_2404_SSM_PARAMETER, "--query", "Parameter.Value"];
}

/** The id Canonical's parameter names today in `region`; a PinError when it cannot be read or is not an AMI id. */
export async function lookUpNodeImage(aws: AwsRunner, stack: string, region: string): Promise<string> {
  const manual = `pin it yourself: ${pinNodeImageCommand(stack, `"$(${ubuntu2404LookupCommand(region)})"`)} (${REFRESH_DOC})`;
  let answer: unknown;
  try {
    answer = await aws(ssmLookupArgs(region));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const what = `Canonical's Ubuntu 24.04 image for ${region} could not be read from the SSM parameter ${UBUNTU_2404_SSM_PARAMETER} (${message})`;
    if (error instanceof AwsCliError && error.credentials) {
      throw new PinError(
        what,
        `AWS found no credentials or refused them: renew them (aws sso login --profile <profile>, or export AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and run the deploy again; or ${manual}.`,
      );
    }
    if (error instanceof AwsCliError && error.code === "ParameterNotFound") {
      throw new PinError(
        what,
        `Canonical publishes this parameter in every commercial region: check aws:region of stack ${stack} (${region}; pulumi config set aws:region <region> --stack ${stack}) and run the deploy again.`,
      );
    }
    if (error instanceof AwsCliError && error.code === "AccessDeniedException") {
      throw new PinError(
        what,
        `The identity needs ssm:GetParameter on arn:aws:ssm:${region}::parameter${UBUNTU_2404_SSM_PARAMETER}: grant it, or ${manual}.`,
      );
    }
    throw new PinError(what, `Check this machine's connection to AWS and run the deploy again, or ${manual}.`);
  }
  if (typeof answer !== "string" || !isAmiId(answer)) {
    throw new PinError(
      `the SSM parameter ${UBUNTU_2404_SSM_PARAMETER} in ${region} answered ${JSON.stringify(answer)?.slice(0, 80) ?? "nothing"}, which is not an AMI id (ami- and 8 or 17 hexadecimal digits); nothing was pinned`,
      `Check the answer yourself with ${ubuntu2404LookupCommand(region)}; when it is an AMI id, ${pinNodeImageCommand(stack, "<that id>")}.`,
    );
  }
  return answer;
}

/** The command that writes the pin into Pulumi.<stack>.yaml (the manual command's words). */
export function pinCommandLine(stack: string, imageId: string): string[] {
  return ["pulumi", "config", "set", "nodeImageId", imageId, "--stack", stack];
}

/** The one line the deploy prints once the pin is written. */
export function pinnedMessage(stack: string, imageId: string, region: string): string {
  return (
    `nodeImageId: pinned stack ${stack} to ${imageId}, Canonical's Ubuntu 24.04 image in ${region} today (SSM ${UBUNTU_2404_SSM_PARAMETER}); ` +
    `Pulumi.${stack}.yaml changed: commit it. Deploy never moves a pin (${REFRESH_DOC}).\n`
  );
}
