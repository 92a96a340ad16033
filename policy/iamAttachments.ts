/**
 * Managed policies attached to principals: iam-least-privilege reads the documents the stack
 * writes, but an attachment of an AWS managed policy brings a document the stack never shows.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, known, TYPES } from "./support";

/** `arn:<partition>:iam::aws:policy/[path/]Name`: a policy AWS writes (and widens over time). */
const AWS_MANAGED_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

/** What an AWS managed policy grants when it is too much, or undefined. */
function excessiveManagedPolicy(arn: string): string | undefined {
  const name = AWS_MANAGED_POLICY.exec(arn)?.[1];
  if (name === undefined) return undefined;
  if (name.startsWith("AdministratorAccess")) return "administrator access";
  if (name === "PowerUserAccess") return "every action except IAM's";
  if (name.endsWith("FullAccess")) return "every action of a service";
  return undefined;
}

/** The input that holds the policy ARNs, per attachment type. */
const ARN_INPUTS: Readonly<Record<string, string>> = {
  [TYPES.userPolicyAttachment]: "policyArn",
  [TYPES.rolePolicyAttachment]: "policyArn",
  [TYPES.groupPolicyAttachment]: "policyArn",
  [TYPES.policyAttachment]: "policyArn",
  [TYPES.role]: "managedPolicyArns",
  [TYPES.userPolicyAttachmentsExclusive]: "policyArns",
  [TYPES.rolePolicyAttachmentsExclusive]: "policyArns",
  [TYPES.groupPolicyAttachmentsExclusive]: "policyArns",
};

export const iamNoAdminAttachments: ResourceValidationPolicy = {
  name: "iam-no-admin-attachments",
  description:
    "No AWS managed policy that grants administrator access or every action of a service is attached: AdministratorAccess*, " +
    "PowerUserAccess and every *FullAccess (IAMFullAccess, AmazonEC2FullAccess ...), through iam.UserPolicyAttachment, " +
    "RolePolicyAttachment, GroupPolicyAttachment, PolicyAttachment (policyArn), iam.Role managedPolicyArns or the " +
    "*PolicyAttachmentsExclusive resources (policyArns). The stack's only principal, the Flocker user, needs eight EC2 calls.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const input = ARN_INPUTS[args.type];
    if (input === undefined) return;
    for (const arn of (known(() => asArray(args.props[input])) ?? []).filter((v): v is string => typeof v === "string")) {
      const grants = excessiveManagedPolicy(arn);
      if (grants === undefined) continue;
      reportViolation(
        `${args.type} "${args.name}" attaches ${arn} (${input}), which grants ${grants}. ` +
          "Fix: attach a policy of your own that lists the exact actions and resources needed.",
      );
    }
  },
};
