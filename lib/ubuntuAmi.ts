/**
 * Canonical's Ubuntu images on EC2, looked up by owner and name (aws v7's getAmi refuses an
 * unowned `mostRecent` lookup).
 */

/** Canonical's AWS account, the owner of the official Ubuntu AMIs. */
export const CANONICAL_OWNER_ID = "099720109477";

const CODENAMES: Readonly<Record<string, string>> = { "16.04": "xenial", "18.04": "bionic" };

export const SUPPORTED_UBUNTU_RELEASES = Object.keys(CODENAMES);

/** The AMI name pattern of the amd64 HVM EBS server image of an Ubuntu release. */
export function ubuntuAmiNamePattern(release: string): string {
  const codename = CODENAMES[release];
  if (!codename) {
    throw new Error(`ubuntuRelease "${release}" has no known AMI; use one of ${SUPPORTED_UBUNTU_RELEASES.join(", ")}`);
  }
  return `ubuntu/images/hvm-ssd/ubuntu-${codename}-${release}-amd64-server-*`;
}
