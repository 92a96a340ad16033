/**
 * The AWS read calls the preflight makes, as one injectable object. In the program they are the
 * provider's invokes (answered by AWS at preview and update, by tools/plan/mockRuntime.ts under mocks).
 */
import * as aws from "@pulumi/aws";

export interface AwsLookups {
  getAmi(args: aws.ec2.GetAmiArgs): Promise<Pick<aws.ec2.GetAmiResult, "id" | "name">>;
  getAvailabilityZones(args: aws.GetAvailabilityZonesArgs): Promise<Pick<aws.GetAvailabilityZonesResult, "names">>;
  getInstanceTypeOfferings(
    args: aws.ec2.GetInstanceTypeOfferingsArgs,
  ): Promise<Pick<aws.ec2.GetInstanceTypeOfferingsResult, "instanceTypes" | "locations">>;
  getInstanceType(
    args: aws.ec2.GetInstanceTypeArgs,
  ): Promise<Pick<aws.ec2.GetInstanceTypeResult, "defaultVcpus" | "memorySize" | "hypervisor">>;
  getServiceQuota(
    args: aws.servicequotas.GetServiceQuotaArgs,
  ): Promise<Pick<aws.servicequotas.GetServiceQuotaResult, "value" | "quotaName">>;
  /** Public parameters (Canonical's image ids): read as insecureValue, which a preview shows in clear. */
  getParameter(args: aws.ssm.GetParameterArgs): Promise<Pick<aws.ssm.GetParameterResult, "insecureValue">>;
}

export const providerLookups: AwsLookups = {
  getAmi: (args) => aws.ec2.getAmi(args),
  getAvailabilityZones: (args) => aws.getAvailabilityZones(args),
  getInstanceTypeOfferings: (args) => aws.ec2.getInstanceTypeOfferings(args),
  getInstanceType: (args) => aws.ec2.getInstanceType(args),
  getServiceQuota: (args) => aws.servicequotas.getServiceQuota(args),
  getParameter: (args) => aws.ssm.getParameter(args),
};

/** A look-up AWS refused for another reason than the answer (credentials, permissions, throttling). */
export interface LookupFailure {
  /** What was being looked up, e.g. "the vCPU quota". */
  readonly what: string;
  readonly error: string;
}

/** The error's text without the engine's wrapping ("invocation of aws:...  returned an error: "). */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/^.*?returned an error:\s*/s, "").trim();
}

/** AWS's answer to a query that matched nothing (getAmi and friends fail instead of returning none). */
export function isNoResult(error: unknown): boolean {
  return /returned no results|empty result|no matching|not found|does not exist/i.test(errorText(error));
}
