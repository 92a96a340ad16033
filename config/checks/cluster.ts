/**
 * Checks of where the cluster runs and how it is shaped: region and zone, names, node counts and the
 * instance type.
 */
import { isPlausibleInstanceType, isXenInstanceType } from "../../lib/instanceTypes";
import { isAwsRegionName, isLowercaseDnsLabel } from "../formats";
import { readInteger, type Report } from "./report";

export const REGION_KEY = "aws:region";

export function checkRegion(region: string | undefined, report: Report): string | undefined {
  if (region === undefined || region === "") {
    report(REGION_KEY, undefined, "is not set: set the cluster's AWS region, e.g. pulumi config set aws:region us-east-1");
    return undefined;
  }
  if (!isAwsRegionName(region)) {
    report(REGION_KEY, region, "is not an AWS region name: use a region such as us-east-1 or eu-west-2");
    return undefined;
  }
  return region;
}

export function checkAvailabilityZone(zone: string, region: string | undefined, report: Report): string | undefined {
  // An unknown region (reported on its own) still leaves the zone's shape to check.
  const pattern = region === undefined ? /^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}[a-z]$/ : new RegExp(`^${region}[a-z]$`);
  if (pattern.test(zone)) return zone;
  const allowed =
    region === undefined
      ? "use an availability zone of aws:region, i.e. the region name plus one letter, e.g. us-east-1a"
      : `use an availability zone of aws:region ${region}: ${region} plus one letter (${region}a, ${region}b ...)`;
  report("availabilityZone", zone, `is not allowed: ${allowed}; Flocker attaches EBS volumes only within this zone`);
  return undefined;
}

const CLUSTER_NAME_RULE =
  "use up to 40 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen " +
  "(it is the Flocker CA's name and the prefix of AWS resource names)";

function isClusterName(text: string): boolean {
  return isLowercaseDnsLabel(text, 40) && /^[a-z]/.test(text);
}

export function checkClusterName(name: string, stack: string, report: Report): string | undefined {
  if (name === "") {
    if (isClusterName(stack)) return stack;
    report(
      "clusterName",
      name,
      `means the stack name "${stack}", which is not a valid cluster name: set clusterName explicitly; ${CLUSTER_NAME_RULE}`,
    );
    return undefined;
  }
  if (isClusterName(name)) return name;
  report("clusterName", name, `is not allowed: ${CLUSTER_NAME_RULE}, or leave it empty to use the stack name`);
  return undefined;
}

const NODE_NAME_REASON =
  "each node's name is also its hostname, which names the node in Docker Swarm (docker node update ... aws-105) and in the Flocker setup";

export function checkNodeNamePrefix(prefix: string, report: Report): string | undefined {
  if (prefix !== prefix.toLowerCase() && isNodeNamePrefix(prefix.toLowerCase())) {
    report(
      "nodeNamePrefix",
      prefix,
      `is not allowed: use lower case (${prefix.toLowerCase()}): ${NODE_NAME_REASON}, and those names must be lower-case RFC 1123 hostnames`,
    );
    return undefined;
  }
  if (!isNodeNamePrefix(prefix)) {
    report(
      "nodeNamePrefix",
      prefix,
      "is not allowed: use lowercase letters, digits and hyphens, starting with a letter, e.g. aws- " +
        "(node names are the prefix plus a number and must be RFC 1123 hostnames; a name of digits alone reads as an IP address)",
    );
    return undefined;
  }
  return prefix;
}

function isNodeNamePrefix(prefix: string): boolean {
  // The number that follows supplies the label's last character, so a trailing hyphen is fine.
  return /^[a-z][a-z0-9-]*$/.test(prefix);
}

/** The longest node name must still fit a 63-character hostname label. */
export function checkNodeNameLength(prefix: string, firstNumber: number, nodeCount: number, report: Report): void {
  const lastName = `${prefix}${firstNumber + nodeCount - 1}`;
  if (lastName.length > 63) {
    report(
      "nodeNamePrefix",
      prefix,
      `is too long: the last node would be named "${lastName}" (${lastName.length} characters); a hostname label allows at most 63`,
    );
  }
}

export function checkManagerCount(text: string, nodeCount: number | undefined, report: Report): number | undefined {
  const rule = { min: 1, max: Number.MAX_SAFE_INTEGER, allowed: "use an odd number from 1 to 7" };
  const count = readInteger("managerCount", text, rule, report);
  if (count === undefined) return undefined;
  if (count % 2 === 0) {
    report(
      "managerCount",
      text,
      `is not allowed: use an odd number (1, 3, 5 or 7) so the Raft quorum survives failures; ${count} managers tolerate no more failures than ${count - 1}`,
    );
    return undefined;
  }
  if (count > 7) {
    report(
      "managerCount",
      text,
      "is not allowed: use at most 7 managers (1, 3, 5 or 7): more only slow Raft consensus down, as Docker's Swarm documentation warns",
    );
    return undefined;
  }
  if (nodeCount !== undefined && count > nodeCount - 2) {
    const room = nodeCount - 2;
    const largestOdd = room % 2 === 1 ? room : room - 1;
    report(
      "managerCount",
      text,
      `is not allowed with nodeCount ${nodeCount}: use at most nodeCount - 2 = ${room} (an odd number, so ${largestOdd}), because the node after the managers runs the Flocker control service and the next one is the Spark master's worker`,
    );
    return undefined;
  }
  return count;
}

export function checkInstanceType(instanceType: string, report: Report): string | undefined {
  if (instanceType === "") {
    report("instanceType", instanceType, "is not allowed: use a Xen EC2 instance type such as t2.medium");
    return undefined;
  }
  if (!isPlausibleInstanceType(instanceType)) {
    report(
      "instanceType",
      instanceType,
      "is not an EC2 instance type name: use family.size in lower case, e.g. t2.medium or m4.large",
    );
    return undefined;
  }
  if (!isXenInstanceType(instanceType)) {
    report(
      "instanceType",
      instanceType,
      "is not allowed while Flocker is the volume backend: use a Xen instance type (t2, m4, c4, r4, i3, d2 ..., e.g. t2.medium): " +
        "Flocker 1.15's EBS driver only discovers /dev/xvd* and /dev/sd* devices, and Nitro types (t3, m5, c5 ...) expose EBS volumes as NVMe (/dev/nvme*)",
    );
    return undefined;
  }
  return instanceType;
}
