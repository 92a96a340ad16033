/**
 * Canonical's Ubuntu images on EC2, looked up by owner and name (aws v7's getAmi refuses an
 * unowned `mostRecent` lookup).
 *
 * EC2 deprecates every public image two years after its creation, and DescribeImages leaves
 * deprecated images out unless asked for them. Canonical keeps only the last build of an
 * end-of-life release (16.04, 18.04), deprecated: the lookup must include deprecated images or it
 * finds nothing. A deprecated image still launches.
 */

/** Canonical's AWS account, the owner of the official Ubuntu AMIs. */
export const CANONICAL_OWNER_ID = "099720109477";

const CODENAMES: Readonly<Record<string, string>> = { "16.04": "xenial", "18.04": "bionic" };

const SUPPORTED_UBUNTU_RELEASES = Object.keys(CODENAMES);

/** xenial for 16.04, bionic for 18.04. */
function ubuntuCodename(release: string): string {
  const codename = CODENAMES[release];
  if (!codename) {
    throw new Error(`ubuntuRelease "${release}" has no known AMI; use one of ${SUPPORTED_UBUNTU_RELEASES.join(", ")}`);
  }
  return codename;
}

/** The AMI name pattern of the amd64 HVM EBS server image of an Ubuntu release. */
export function ubuntuAmiNamePattern(release: string): string {
  return `ubuntu/images/hvm-ssd/ubuntu-${ubuntuCodename(release)}-${release}-amd64-server-*`;
}

/** The filters of the lookup; the same in the program and in the command the README gives. */
export function ubuntuAmiFilters(release: string): { name: string; values: string[] }[] {
  return [
    { name: "name", values: [ubuntuAmiNamePattern(release)] },
    { name: "architecture", values: ["x86_64"] },
    { name: "virtualization-type", values: ["hvm"] },
  ];
}

/** The aws CLI command that shows the image the program would pick (its id, name and deprecation). */
export function ubuntuAmiLookupCommand(region: string, release: string): string {
  return (
    `aws ec2 describe-images --region ${region} --owners ${CANONICAL_OWNER_ID} --include-deprecated ` +
    `--filters 'Name=name,Values=${ubuntuAmiNamePattern(release)}' Name=architecture,Values=x86_64 ` +
    `--query 'sort_by(Images,&CreationDate)[-1].[ImageId,Name,DeprecationTime]' --output text`
  );
}
