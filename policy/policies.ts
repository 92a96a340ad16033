/**
 * The stack's CrossGuard policies (docs/security.md; ports: docs/architecture.md). Each is a
 * plain object so that tests call `validateResource` / `validateStack` directly; only index.ts
 * builds the PolicyPack (its constructor starts the analyzer's gRPC server).
 *
 * Resource policies see a resource's inputs (after the provider's defaults). Stack policies see
 * every resource's outputs at the end of a preview or update.
 */
import * as zlib from "zlib";
import { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { FLOCKER_USER_PURPOSE_TAG } from "../lib/flockerIamPolicy";
import {
  admits,
  asArray,
  CLUSTER_PORTS,
  describePort,
  describeRuleTraffic,
  FLOCKER_API,
  IMDSV1_EXCEPTION,
  inlineRules,
  isWholeInternet,
  known,
  PORTED_PROTOCOLS,
  PROVIDER_DEFAULT_SG_DESCRIPTION,
  record,
  referencedResources,
  RuleView,
  rulesOf,
  show,
  standaloneRule,
  TYPES,
  tagValue,
} from "./support";
import { exceptionTagsOnlyWhereDesignated } from "./exceptions";
import { noInternetWideIngress, noPublicNaclIngress, noPublicPrefixLists, noSparkPortsFromAddresses } from "./exposure";
import { iamNoAdminAttachments } from "./iamAttachments";

export {
  exceptionTagsOnlyWhereDesignated,
  iamNoAdminAttachments,
  noInternetWideIngress,
  noPublicNaclIngress,
  noPublicPrefixLists,
  noSparkPortsFromAddresses,
};

/** Re-exported so that tests build their arguments against the very copy of @pulumi/policy used here. */
export type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

// ---------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------

export const noPublicIngress: ResourceValidationPolicy = {
  name: "no-public-ingress",
  description:
    "No security group ingress from 0.0.0.0/0 or ::/0 (any /0): vpc.SecurityGroupIngressRule cidrIpv4/cidrIpv6, " +
    "ec2.SecurityGroupRule of type ingress (cidrBlocks/ipv6CidrBlocks) and inline `ingress` of ec2.SecurityGroup. " +
    "SSH and the Flocker API are for the configured admin CIDRs; everything else is cluster-internal (Spark's ports: no-spark-ports-from-addresses).",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const rule of rulesOf(args.type, args.name, args.props)) {
      if (rule.direction !== "ingress") continue;
      for (const cidr of rule.cidrs.filter(isWholeInternet)) {
        reportViolation(
          `${rule.label} admits ${describeRuleTraffic(rule)} from ${cidr}, the whole internet. ` +
            "Fix: allow the admin CIDRs (config adminCidrs) or a security group instead.",
        );
      }
    }
  },
};

export const clusterPortsFromSecurityGroups: ResourceValidationPolicy = {
  name: "cluster-ports-from-security-groups",
  description:
    "Swarm and Flocker cluster ports (2377/tcp, 7946/tcp+udp, 4789/udp, 4524/tcp, ESP) are admitted only from a " +
    "security group (referencedSecurityGroupId, sourceSecurityGroupId, self or inline securityGroups), never from " +
    "a CIDR or prefix list, because these protocols trust whoever reaches them (VXLAN is unauthenticated). " +
    "The Flocker REST API (4523/tcp) may also come from admin CIDRs, but not from a /0.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const rule of rulesOf(args.type, args.name, args.props)) {
      if (rule.direction !== "ingress") continue;
      const addressSources = [...rule.cidrs, ...(rule.prefixList ? ["a prefix list"] : [])];
      if (addressSources.length === 0) continue;
      const clusterPorts = CLUSTER_PORTS.filter((p) => admits(rule, p));
      if (clusterPorts.length > 0) {
        reportViolation(
          `${rule.label} admits ${clusterPorts.map(describePort).join(", ")} from ${addressSources.join(", ")}; ` +
            "cluster ports must come from a security group, never a CIDR. " +
            "Fix: use referencedSecurityGroupId (or sourceSecurityGroupId / self) of the cluster's node security group.",
        );
      }
      const publicCidrs = rule.cidrs.filter(isWholeInternet);
      if (admits(rule, FLOCKER_API) && publicCidrs.length > 0) {
        reportViolation(
          `${rule.label} admits ${describePort(FLOCKER_API)} from ${publicCidrs.join(", ")}; ` +
            "it may come only from a security group or the admin CIDRs. Fix: use config adminCidrs or a security group.",
        );
      }
    }
  },
};

function isMeaningfulDescription(value: unknown): boolean {
  return typeof value === "string" && value.trim() !== "";
}

export const securityGroupDescriptions: ResourceValidationPolicy = {
  name: "security-group-descriptions",
  description:
    "Every security group and every security group rule (standalone or inline, ingress or egress) has a non-empty " +
    "description, so that each opening can be traced to its reason (CKV_AWS_23). The provider's default " +
    `"${PROVIDER_DEFAULT_SG_DESCRIPTION}" does not count.`,
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type === TYPES.securityGroup) {
      const description = args.props.description;
      if (!isMeaningfulDescription(description) || String(description).trim() === PROVIDER_DEFAULT_SG_DESCRIPTION) {
        reportViolation(
          `security group "${args.name}" has description ${show(description)}. ` +
            "Fix: set `description` to what the group admits and why (see lib/ports.ts).",
        );
      }
    }
    for (const rule of rulesOf(args.type, args.name, args.props)) {
      if (!isMeaningfulDescription(rule.description)) {
        reportViolation(
          `${rule.label} (${describeRuleTraffic(rule)}) has description ${show(rule.description)}. ` +
            "Fix: set `description` to what the rule admits and why.",
        );
      }
    }
  },
};

/** One peer of one rule, comparable between inline entries and separate rule resources. */
interface RuleAtom {
  readonly key: string;
  readonly label: string;
}

interface Peer {
  /** Lower-cased value; a value unknown during preview gets a key that matches nothing. */
  readonly key: string;
  readonly label: string;
}

let unknownPeers = 0;
function peer(read: () => unknown): Peer {
  const value = known(read);
  return typeof value === "string"
    ? { key: value.trim().toLowerCase(), label: value }
    : { key: `<unknown ${++unknownPeers}>`, label: "a value known only after creation" };
}

function peers(source: Record<string, unknown>, key: string): Peer[] {
  if (!(key in source)) return [];
  return (known(() => asArray(source[key])) ?? [undefined]).map((_, i) => peer(() => asArray(source[key])[i]));
}

/**
 * The atoms of a rule: direction, protocol, ports and one peer each. A separate rule that
 * references its own group (`ownerId`) is what an inline entry shows as `self`.
 */
function ruleAtoms(rule: RuleView, ownerId?: string): RuleAtom[] {
  const s = rule.source;
  const self: Peer = { key: "self", label: "self" };
  const groups = [...peers(s, "securityGroups"), ...peers(s, "referencedSecurityGroupId"), ...peers(s, "sourceSecurityGroupId")];
  const all: Peer[] = [
    ...rule.cidrs.map((c) => ({ key: c.trim().toLowerCase(), label: c })),
    ...groups.map((g) => (ownerId !== undefined && g.key === ownerId.trim().toLowerCase() ? self : g)),
    ...peers(s, "prefixListIds"),
    ...peers(s, "prefixListId"),
    ...(s.self === true ? [self] : []),
  ];
  const ports = PORTED_PROTOCOLS.has(rule.protocol) ? `${rule.fromPort ?? ""}-${rule.toPort ?? ""}` : "";
  return all.map((p) => ({
    key: `${rule.direction}|${rule.protocol}|${ports}|${p.key}`,
    label: `${rule.label}: ${describeRuleTraffic(rule)} ${rule.direction === "ingress" ? "from" : "to"} ${p.label}`,
  }));
}

export const noMixedSecurityGroupRules: StackValidationPolicy = {
  name: "no-mixed-security-group-rules",
  description:
    "A security group has either inline `ingress`/`egress` rules or separate rule resources " +
    "(vpc.SecurityGroupIngressRule/EgressRule, ec2.SecurityGroupRule), never both: the provider would " +
    "overwrite one set with the other on every update. After `pulumi refresh` a group's outputs list the " +
    "rules of its separate resources too; inline entries that mirror a separate rule are therefore not counted.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const groups = args.resources.filter((r) => r.type === TYPES.securityGroup);
    const ruleResources = args.resources.filter((r) => standaloneRule(r.type, r.name, r.props) !== undefined);
    for (const sg of groups) {
      const inline = inlineRules(sg.name, sg.props);
      if (inline.length === 0) continue; // none declared (or not known until AWS creates the group)
      const separate = ruleResources.filter((r) =>
        referencedResources(r, "securityGroupId", TYPES.securityGroup, groups, (g) => g.props.id).includes(sg),
      );
      if (separate.length === 0) continue;
      const ownerId = known(() => sg.props.id);
      const owner = typeof ownerId === "string" ? ownerId : undefined;
      const mirrored = new Set(
        separate.flatMap((r) => rulesOf(r.type, r.name, r.props).flatMap((rule) => ruleAtoms(rule, owner).map((a) => a.key))),
      );
      const own = inline.flatMap((rule) => ruleAtoms(rule)).filter((a) => !mirrored.has(a.key));
      if (own.length === 0) continue;
      reportViolation(
        `security group "${sg.name}" mixes inline rules (${own.map((a) => a.label).join("; ")}) with separate rule ` +
          `resources (${separate.map((r) => `"${r.name}"`).join(", ")}). ` +
          "Fix: move the inline rules into vpc.SecurityGroupIngressRule/EgressRule resources, each with a description.",
        sg.urn,
      );
    }
  },
};

// ---------------------------------------------------------------------------------------------
// EC2 instances and EBS
// ---------------------------------------------------------------------------------------------

export const encryptedVolumes: ResourceValidationPolicy = {
  name: "encrypted-volumes",
  description:
    "EBS volumes are encrypted explicitly: ec2.Instance rootBlockDevice.encrypted and every ebsBlockDevices[].encrypted " +
    "are true, and every ebs.Volume has encrypted true. Account-level default encryption only affects new volumes, so " +
    "static checks need the explicit flag.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const fix = "Fix: set `encrypted: true`.";
    if (args.type === TYPES.instance) {
      const root = args.props.rootBlockDevice;
      if (root === undefined || root === null) {
        reportViolation(
          `instance "${args.name}" has no rootBlockDevice, so its root volume is not explicitly encrypted. Fix: set rootBlockDevice { encrypted: true }.`,
        );
      } else if (record(root).encrypted !== true) {
        reportViolation(`instance "${args.name}" has rootBlockDevice.encrypted ${show(record(root).encrypted)}. ${fix}`);
      }
      asArray(args.props.ebsBlockDevices).forEach((device, index) => {
        const d = record(device);
        if (d.encrypted !== true) {
          reportViolation(
            `instance "${args.name}" has ebsBlockDevices[${index}] (${show(d.deviceName)}).encrypted ${show(d.encrypted)}. ${fix}`,
          );
        }
      });
    } else if (args.type === TYPES.volume && args.props.encrypted !== true) {
      reportViolation(`EBS volume "${args.name}" has encrypted ${show(args.props.encrypted)}. ${fix}`);
    }
  },
};

/** The component that runs Flocker's agents (components/flocker.ts): a stack with it runs Flocker. */
const FLOCKER_COMPONENT_TYPE = "swarm-flocker:flocker:Flocker";

export const ebsEncryptionByDefault: StackValidationPolicy = {
  name: "ebs-encryption-by-default",
  description:
    "The stack enables EBS encryption by default for its region (an ebs.EncryptionByDefault with enabled true, the " +
    "provider's default when unset): Flocker creates its volumes without asking for encryption, so this is the only " +
    "way its datasets are encrypted. A stack without Flocker (platform current) creates every volume itself, " +
    "and encrypted-volumes holds each of them to encryption.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    // Only Flocker creates volumes the stack does not describe; no Flocker, nothing to cover.
    if (!args.resources.some((r) => r.type === FLOCKER_COMPONENT_TYPE)) return;
    const settings = args.resources.filter((r) => r.type === TYPES.encryptionByDefault);
    if (settings.length === 0) {
      reportViolation(
        "the stack has no aws.ebs.EncryptionByDefault, so the volumes Flocker creates are unencrypted. " +
          "Fix: add `new aws.ebs.EncryptionByDefault(name, { enabled: true }, { retainOnDelete: true })`.",
      );
      return;
    }
    for (const setting of settings) {
      const enabled = setting.props.enabled;
      if (enabled !== true && enabled !== undefined) {
        reportViolation(
          `ebs.EncryptionByDefault "${setting.name}" has enabled ${show(enabled)}, so the volumes Flocker creates are unencrypted. ` +
            "Fix: set `enabled: true`.",
          setting.urn,
        );
      }
    }
  },
};

export const imdsv2Required: ResourceValidationPolicy = {
  name: "imdsv2-required",
  description:
    'Instances and launch templates require IMDSv2 (metadataOptions.httpTokens "required", or the endpoint disabled). ' +
    "Exception, for instances only: " +
    `instances tagged ${IMDSV1_EXCEPTION.tag}=${IMDSV1_EXCEPTION.reason} (Flocker 1.15 reads the instance id with ` +
    "boto 2, which only speaks IMDSv1); they must still set httpPutResponseHopLimit 1 and httpEndpoint " +
    '"enabled": hop limit 1 keeps containers (one hop further) from getting IMDSv2 tokens. It does not stop ' +
    "IMDSv1 GETs from containers; on these nodes that is the job of install-docker.sh's DOCKER-USER rule, which no " +
    "policy can see.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type === TYPES.launchTemplate) {
      const options = record(args.props.metadataOptions);
      if (options.httpEndpoint === "disabled" || options.httpTokens === "required") return;
      reportViolation(
        `launch template "${args.name}" has metadataOptions.httpTokens ${show(options.httpTokens)}, which allows IMDSv1 on every ` +
          'instance launched from it. Fix: set metadataOptions { httpTokens: "required" }; the Flocker exception is for the ' +
          "stack's own node instances only.",
      );
      return;
    }
    if (args.type !== TYPES.instance) return;
    const options = record(args.props.metadataOptions);
    const endpoint = options.httpEndpoint;
    const tokens = options.httpTokens;
    const exception = tagValue(args.props, IMDSV1_EXCEPTION.tag);
    const exceptionTag = `${IMDSV1_EXCEPTION.tag}=${IMDSV1_EXCEPTION.reason}`;

    if (exception === IMDSV1_EXCEPTION.reason) {
      if (options.httpPutResponseHopLimit !== 1) {
        reportViolation(
          `instance "${args.name}" carries the IMDSv1 exception tag but has metadataOptions.httpPutResponseHopLimit ` +
            `${show(options.httpPutResponseHopLimit)}. Fix: set httpPutResponseHopLimit: 1, so containers cannot get IMDSv2 tokens.`,
        );
      }
      if (endpoint !== undefined && endpoint !== "enabled") {
        reportViolation(
          `instance "${args.name}" carries the IMDSv1 exception tag but has metadataOptions.httpEndpoint ${show(endpoint)}. ` +
            `Fix: set httpEndpoint "enabled" (Flocker reads the instance id from it), or remove the ${IMDSV1_EXCEPTION.tag} tag and require tokens.`,
        );
      }
      return;
    }
    if (endpoint === "disabled" || tokens === "required") return;
    const wrongTag =
      exception === undefined
        ? ""
        : ` (its ${IMDSV1_EXCEPTION.tag} tag is ${show(exception)}, not the documented ${show(IMDSV1_EXCEPTION.reason)})`;
    reportViolation(
      `instance "${args.name}" has metadataOptions.httpTokens ${show(tokens)}, which allows IMDSv1${wrongTag}. ` +
        `Fix: set httpTokens "required"; only a node that runs Flocker 1.15 may instead carry the tag ${exceptionTag} with hop limit 1.`,
    );
  },
};

interface SecretPattern {
  readonly what: string;
  readonly pattern: RegExp;
}

/** What must never be in user data (CKV_AWS_46). Messages name the kind and line, never the value. */
export const USER_DATA_SECRET_PATTERNS: readonly SecretPattern[] = [
  { what: "a private key block", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/ },
  { what: "a Docker Swarm join token (SWMTKN-)", pattern: /SWMTKN-/ },
  { what: "an AWS access key id", pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { what: "an AWS secret access key setting", pattern: /secret_access_key|secretaccesskey/i },
  // `lock_passwd: true` (cloud-init) is not a password; `DB_PASSWORD=x` and `passwd: <hash>` are.
  { what: "a password assignment", pattern: /(?<![a-z])(?<!lock_)(?:password|passwd)\b["']?\s*[:=]\s*["']?[^\s"']/i },
  { what: "a cloud-init chpasswd block", pattern: /(?<![a-z_])chpasswd\s*:/i },
];

function decodeBase64(text: string): string {
  const bytes = Buffer.from(text, "base64");
  // cloud-init accepts gzip-compressed user data.
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return zlib.gunzipSync(bytes).toString("utf8");
    } catch {
      return bytes.toString("utf8");
    }
  }
  return bytes.toString("utf8");
}

export const noSecretsInUserData: ResourceValidationPolicy = {
  name: "no-secrets-in-user-data",
  description:
    "User data (ec2.Instance userData / userDataBase64, ec2.LaunchTemplate userData) holds no secrets: private key " +
    "blocks, Swarm join tokens, AWS access key ids, secret access keys or password assignments. User data is stored in " +
    "clear text in the state and readable by anything that reaches the metadata service; secrets go over SSH on stdin.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const sources: [string, string][] = [];
    if (args.type === TYPES.instance) {
      if (typeof args.props.userData === "string") sources.push(["userData", args.props.userData]);
      if (typeof args.props.userDataBase64 === "string")
        sources.push(["userDataBase64 (decoded)", decodeBase64(args.props.userDataBase64)]);
    } else if (args.type === TYPES.launchTemplate && typeof args.props.userData === "string") {
      sources.push(["userData (decoded)", decodeBase64(args.props.userData)]);
    } else {
      return;
    }
    for (const [field, text] of sources) {
      const lines = text.split("\n");
      for (const { what, pattern } of USER_DATA_SECRET_PATTERNS) {
        const line = lines.findIndex((l) => pattern.test(l));
        if (line >= 0 || pattern.test(text)) {
          reportViolation(
            `${args.type === TYPES.instance ? "instance" : "launch template"} "${args.name}" ${field} contains ${what}` +
              `${line >= 0 ? ` on line ${line + 1}` : ""} (value not shown). ` +
              "Fix: deliver secrets over SSH on stdin (see scripts/README.md), never in user data.",
          );
        }
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------
// IAM
// ---------------------------------------------------------------------------------------------

/** A read-only call that IAM cannot scope to a resource: `service:Describe…` (a trailing * allowed). */
const DESCRIBE_ACTION = /^[a-z0-9-]+:describe[a-z0-9]*\*?$/i;
const WILDCARD_ACTION = /^(\*|[a-z0-9-]+:\*)$/i;
/** `*` or `?` anywhere in an action: iam:*AccessKey* matches CreateAccessKey, and whatever AWS adds. */
const PARTIAL_WILDCARD = /[*?]/;

function checkPolicyDocument(where: string, document: unknown, reportViolation: ReportViolation) {
  let parsed: unknown = document;
  if (typeof document === "string") {
    try {
      parsed = JSON.parse(document);
    } catch (e) {
      reportViolation(`${where} is not valid JSON (${(e as Error).message}). Fix: build it with JSON.stringify.`);
      return;
    }
  }
  const statements = asArray(record(parsed).Statement);
  statements.forEach((raw, index) => {
    const statement = record(raw);
    if (statement.Effect !== "Allow") return; // Deny statements cannot grant anything.
    const name = `${where} statement ${index}${typeof statement.Sid === "string" ? ` ("${statement.Sid}")` : ""}`;
    for (const key of ["NotAction", "NotResource"]) {
      if (key in statement) {
        reportViolation(
          `${name} uses ${key} ${show(statement[key])}, which allows everything not listed. Fix: list the allowed ${key === "NotAction" ? "actions in Action" : "resources in Resource"}.`,
        );
      }
    }
    const actions = asArray(statement.Action).map(String);
    for (const action of actions.filter((a) => WILDCARD_ACTION.test(a))) {
      reportViolation(
        `${name} allows action ${show(action)}, every action of ${action === "*" ? "every service" : "the service"}. Fix: list the exact actions needed.`,
      );
    }
    for (const action of actions.filter(
      (a) => PARTIAL_WILDCARD.test(a) && !WILDCARD_ACTION.test(a) && !DESCRIBE_ACTION.test(a),
    )) {
      reportViolation(
        `${name} allows actions matching ${show(action)}, a wildcard that grants every action it matches, today's and those AWS adds later. ` +
          "Fix: list the exact actions needed (only read-only Describe* may end in *).",
      );
    }
    const resources = asArray(statement.Resource).map(String);
    if (resources.includes("*")) {
      const scoped = actions.filter((a) => !DESCRIBE_ACTION.test(a));
      if (scoped.length > 0) {
        reportViolation(
          `${name} allows ${scoped.map((a) => show(a)).join(", ")} on Resource "*". Only read-only Describe* calls, which IAM ` +
            'cannot scope, may use "*". Fix: scope Resource to ARNs (and a Condition on tags), or move the Describe* calls to their own statement.',
        );
      }
    }
  });
}

export const iamLeastPrivilege: ResourceValidationPolicy = {
  name: "iam-least-privilege",
  description:
    "IAM policy documents (iam.UserPolicy, RolePolicy, GroupPolicy, Policy `policy`; iam.Role inlinePolicies) allow no " +
    '"*" or "service:*" action, no partial wildcard ("iam:*AccessKey*"; only read-only "service:Describe*" may end in *) ' +
    'and use no NotAction/NotResource in Allow statements; Resource "*" is allowed only when ' +
    "every action of the statement is a read-only Describe* call, because AWS does not support resource-level " +
    "permissions for those (the Flocker policy's DescribeAvailabilityZones/Instances/Volumes).",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const kinds: Record<string, string> = {
      [TYPES.userPolicy]: "user policy",
      [TYPES.rolePolicy]: "role policy",
      [TYPES.groupPolicy]: "group policy",
      [TYPES.policy]: "IAM policy",
    };
    if (args.type in kinds) {
      checkPolicyDocument(`${kinds[args.type]} "${args.name}"`, args.props.policy, reportViolation);
    } else if (args.type === TYPES.role) {
      asArray(args.props.inlinePolicies).forEach((inline, index) => {
        const p = record(inline);
        if (p.policy !== undefined)
          checkPolicyDocument(`role "${args.name}" inlinePolicies[${index}]`, p.policy, reportViolation);
      });
    }
  },
};

function isFlockerUser(user: PolicyResource): boolean {
  return known(() => tagValue(user.props, FLOCKER_USER_PURPOSE_TAG.key)) === FLOCKER_USER_PURPOSE_TAG.value;
}

export const accessKeysOnlyForFlockerUser: StackValidationPolicy = {
  name: "access-keys-only-for-flocker-user",
  description:
    "Static IAM access keys are allowed only for the stack's Flocker user (an iam.User tagged " +
    `${FLOCKER_USER_PURPOSE_TAG.key}=${FLOCKER_USER_PURPOSE_TAG.value}): Flocker 1.15 cannot use an instance role. ` +
    "An iam.AccessKey must belong to such a user of this stack (linked through its `user` input).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const users = args.resources.filter((r) => r.type === TYPES.user);
    const tag = `${FLOCKER_USER_PURPOSE_TAG.key}=${FLOCKER_USER_PURPOSE_TAG.value}`;
    for (const key of args.resources.filter((r) => r.type === TYPES.accessKey)) {
      const owners = referencedResources(key, "user", TYPES.user, users, (u) => u.props.name);
      if (owners.length === 0) {
        reportViolation(
          `access key "${key.name}" is for user ${show(known(() => key.props.user))}, which is not an iam.User of this stack. ` +
            `Fix: do not create static keys; only the Flocker user (tagged ${tag}) may have one.`,
          key.urn,
        );
      }
      for (const owner of owners.filter((u) => !isFlockerUser(u))) {
        reportViolation(
          `access key "${key.name}" belongs to IAM user "${owner.name}", which is not tagged ${tag}. ` +
            "Fix: use an instance role (or SSO) instead of a static key; only the Flocker user may have one.",
          key.urn,
        );
      }
    }
  },
};

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  noPublicIngress,
  noInternetWideIngress,
  noPublicNaclIngress,
  noPublicPrefixLists,
  noSparkPortsFromAddresses,
  clusterPortsFromSecurityGroups,
  securityGroupDescriptions,
  noMixedSecurityGroupRules,
  encryptedVolumes,
  ebsEncryptionByDefault,
  imdsv2Required,
  exceptionTagsOnlyWhereDesignated,
  noSecretsInUserData,
  iamLeastPrivilege,
  iamNoAdminAttachments,
  accessKeysOnlyForFlockerUser,
];
