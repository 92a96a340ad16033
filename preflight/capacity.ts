/**
 * Whether the account can run the nodes where the configuration puts them: the zone is one of the
 * region's (zone names are per account, so the list comes from AWS, not from the name's shape),
 * the instance type is offered in that zone, it is a Xen type by AWS's own account, the account's
 * On-Demand vCPU quota covers every node (with the vCPUs AWS gives for the type). Whether a Spark
 * worker fits one node is the validator's (config/checks/machine.ts).
 */
import type { ClusterConfig } from "../config/schema";
import { instanceFamily } from "../lib/instanceTypes";
import { errorText, type AwsLookups, type LookupFailure } from "./awsLookups";

/** EC2's Running On-Demand quotas (service `ec2`), by the first letter of the instance family. */
const QUOTAS: Readonly<Record<string, { code: string; name: string }>> = {
  f: { code: "L-74FC7D96", name: "Running On-Demand F instances" },
  g: { code: "L-DB2E81BA", name: "Running On-Demand G and VT instances" },
  p: { code: "L-417A185B", name: "Running On-Demand P instances" },
  x: { code: "L-7295265B", name: "Running On-Demand X instances" },
};
const STANDARD_QUOTA = {
  code: "L-1216C47A",
  name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
} as const;

function vcpuQuotaOf(instanceType: string): { code: string; name: string } {
  return QUOTAS[(instanceFamily(instanceType) ?? "")[0]] ?? STANDARD_QUOTA;
}

export interface CapacityOutcome {
  readonly problems: string[];
  readonly failures: LookupFailure[];
}

type CapacityConfig = Pick<ClusterConfig, "region" | "availabilityZone" | "instanceType" | "nodeCount"> &
  Partial<Pick<ClusterConfig, "platform">>;

type Settled<T> = { readonly value: T } | { readonly failure: LookupFailure };

/** Each look-up settled on its own, so that one refusal does not hide the others' answers. */
async function settle<T>(what: string, lookup: Promise<T>): Promise<Settled<T>> {
  try {
    return { value: await lookup };
  } catch (error) {
    return { failure: { what, error: errorText(error) } };
  }
}

function valueOf<T>(settled: Settled<T>, failures: LookupFailure[]): T | undefined {
  if ("value" in settled) return settled.value;
  failures.push(settled.failure);
  return undefined;
}

export async function checkCapacity(config: CapacityConfig, aws: AwsLookups): Promise<CapacityOutcome> {
  const { region, availabilityZone: zone, instanceType, nodeCount } = config;
  const quota = vcpuQuotaOf(instanceType);
  const answers = await Promise.all([
    settle(`the availability zones of ${region}`, aws.getAvailabilityZones({ region, state: "available" })),
    settle(
      `the zones that offer ${instanceType}`,
      aws.getInstanceTypeOfferings({
        region,
        locationType: "availability-zone",
        filters: [{ name: "instance-type", values: [instanceType] }],
      }),
    ),
    settle(`instance type ${instanceType}`, aws.getInstanceType({ region, instanceType })),
    settle(`the vCPU quota ${quota.code}`, aws.getServiceQuota({ region, serviceCode: "ec2", quotaCode: quota.code })),
  ] as const);
  // In the order of the checks, whatever order AWS answered in.
  const failures: LookupFailure[] = [];
  const zones = valueOf(answers[0], failures);
  const offerings = valueOf(answers[1], failures);
  const type = valueOf(answers[2], failures);
  const limit = valueOf(answers[3], failures);
  const problems: string[] = [];
  const zoneOk = zones === undefined || zones.names.includes(zone);
  if (!zoneOk) {
    problems.push(
      `availabilityZone: ${JSON.stringify(zone)} is not an available zone of aws:region ${region} for this account: ` +
        `use one of ${zones!.names.join(", ")} (aws ec2 describe-availability-zones --region ${region} --query 'AvailabilityZones[].ZoneName')`,
    );
  }
  const current = config.platform === "current";
  if (offerings !== undefined && zoneOk) {
    const offeredIn = [...offerings.locations].sort();
    if (!offeredIn.includes(zone)) {
      const where = offeredIn.length === 0 ? `no zone of ${region} offers it` : `zones that offer it: ${offeredIn.join(", ")}`;
      problems.push(
        `instanceType: ${JSON.stringify(instanceType)} is not offered in availabilityZone ${zone} (${where}; zone names map to different ` +
          `physical zones in each account): set availabilityZone to a zone that offers it, or pick another ${current ? "Nitro" : "Xen"} instanceType ` +
          `(aws ec2 describe-instance-type-offerings --region ${region} --location-type availability-zone ` +
          `--filters Name=instance-type,Values=${instanceType} --query 'InstanceTypeOfferings[].Location')`,
      );
    }
  }
  if (current && type !== undefined && type.hypervisor !== "" && type.hypervisor !== "nitro") {
    problems.push(
      `instanceType: ${JSON.stringify(instanceType)} runs on ${type.hypervisor}, not Nitro, by AWS's own description: ` +
        "the current platform finds its data volume by its NVMe serial, which only Nitro shows; use a type of the current platform's list such as t3.medium or m5.large",
    );
  }
  if (!current && type !== undefined && type.hypervisor !== "" && type.hypervisor !== "xen") {
    problems.push(
      `instanceType: ${JSON.stringify(instanceType)} runs on ${type.hypervisor}, not Xen, by AWS's own description: ` +
        "Flocker 1.15 finds EBS volumes only as /dev/xvd* or /dev/sd*; use a Xen type such as t2.medium or m4.large",
    );
  }
  if (type !== undefined && limit !== undefined) {
    const needed = nodeCount * type.defaultVcpus;
    if (limit.value < needed) {
      problems.push(
        `nodeCount: ${nodeCount} × ${instanceType} (${type.defaultVcpus} vCPUs each) needs ${needed} vCPUs, and the account's quota ` +
          `"${quota.name}" in ${region} is ${limit.value} (service ec2, quota ${quota.code}; instances already running there count against it too): ` +
          `request at least ${needed} (aws service-quotas request-service-quota-increase --region ${region} --service-code ec2 ` +
          `--quota-code ${quota.code} --desired-value ${needed}; new accounts wait hours to days), or lower nodeCount or pick a smaller instanceType`,
      );
    }
  }
  return { problems, failures };
}
