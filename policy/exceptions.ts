/**
 * The stack's two exceptions are granted by tags: IMDSv1 on the Flocker nodes, and a static access
 * key for the Flocker user. A tag can be copied onto anything, so the tag counts only on the
 * resources the program itself designates (support.ts DESIGNATED_PARENTS).
 */
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { FLOCKER_USER_PURPOSE_TAG } from "../lib/flockerIamPolicy";
import { asArray, DESIGNATED_PARENTS, IMDSV1_EXCEPTION, isChildOf, known, record, tagValue, TYPES } from "./support";

interface ExceptionTag {
  readonly key: string;
  readonly value: string;
  /** What the tag buys. */
  readonly grants: string;
  /** The only place it may be: a resource of `type` that is a child of `parent`. */
  readonly type: string;
  readonly parent: string;
  readonly designated: string;
}

const EXCEPTION_TAGS: readonly ExceptionTag[] = [
  {
    key: IMDSV1_EXCEPTION.tag,
    value: IMDSV1_EXCEPTION.reason,
    grants: "IMDSv1 (imdsv2-required)",
    type: TYPES.instance,
    parent: DESIGNATED_PARENTS.imdsv1Instance,
    designated: "the node instances the stack builds (an ec2.Instance child of a NodeHost)",
  },
  {
    key: FLOCKER_USER_PURPOSE_TAG.key,
    value: FLOCKER_USER_PURPOSE_TAG.value,
    grants: "a static access key (access-keys-only-for-flocker-user)",
    type: TYPES.user,
    parent: DESIGNATED_PARENTS.flockerUser,
    designated: "the Flocker IAM user the stack builds (the iam.User child of FlockerStorage)",
  },
];

/** Every tag map the resource sets: its own, and (launch templates) those it puts on what it launches. */
function tagMaps(args: ResourceValidationArgs): { where: string; props: Record<string, unknown> }[] {
  const maps = [{ where: "", props: args.props as Record<string, unknown> }];
  if (args.type === TYPES.launchTemplate) {
    (known(() => asArray(args.props.tagSpecifications)) ?? []).forEach((spec, index) => {
      maps.push({ where: ` (tagSpecifications[${index}], for what it launches)`, props: record(spec) });
    });
  }
  return maps;
}

function checkTag(args: ResourceValidationArgs, tag: ExceptionTag, reportViolation: ReportViolation) {
  const designated = args.type === tag.type && isChildOf(args.urn, tag.parent, tag.type);
  for (const { where, props } of tagMaps(args)) {
    if (known(() => tagValue(props, tag.key)) !== tag.value) continue;
    if (designated && where === "") continue;
    reportViolation(
      `${args.type} "${args.name}" carries the tag ${tag.key}=${tag.value}${where}, which grants ${tag.grants}, ` +
        `but only ${tag.designated} may carry it. Fix: remove the tag.`,
    );
  }
}

export const exceptionTagsOnlyWhereDesignated: ResourceValidationPolicy = {
  name: "exception-tags-only-where-designated",
  description:
    `The tags that grant the stack's exceptions count only where the program puts them: ${IMDSV1_EXCEPTION.tag}=` +
    `${IMDSV1_EXCEPTION.reason} only on the node instances (ec2.Instance children of ${DESIGNATED_PARENTS.imdsv1Instance}), ` +
    `${FLOCKER_USER_PURPOSE_TAG.key}=${FLOCKER_USER_PURPOSE_TAG.value} only on the Flocker user (the iam.User child of ` +
    `${DESIGNATED_PARENTS.flockerUser}); also not in a launch template's tagSpecifications. A copied tag would otherwise ` +
    "buy any instance IMDSv1 and any user a static access key.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const tag of EXCEPTION_TAGS) checkTag(args, tag, reportViolation);
  },
};
