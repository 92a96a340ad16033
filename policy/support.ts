/**
 * What the policies share: the type tokens they match on (no @pulumi/aws import: a type token
 * matches whatever provider version the program uses), the stack's security constants, and helpers
 * that read security group rules and IAM documents in one normalised shape.
 *
 * Values the engine cannot know during `pulumi preview` (e.g. the id of a security group that does
 * not exist yet) throw `UnknownValueError` when read; the framework then reports the policy as
 * "can't run during preview" (advisory) and runs it for real during `pulumi up`. The helpers below
 * test for the *presence* of such values (`key in props`) instead of reading them where that is all
 * a rule needs, so that most rules still run during preview.
 */
import { PolicyResource, UnknownValueError } from "@pulumi/policy";
import { IMDSV1_EXCEPTION_REASON, IMDSV1_EXCEPTION_TAG } from "../lib/imdsException";
import { FLOCKER_AGENT_PORT, FLOCKER_API_PORT, OVERLAY_VXLAN_PORT, SWARM_GOSSIP_PORT, SWARM_MANAGEMENT_PORT } from "../lib/ports";

/** Type tokens of the resources the policies look at. */
export const TYPES = {
  instance: "aws:ec2/instance:Instance",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  volume: "aws:ebs/volume:Volume",
  encryptionByDefault: "aws:ebs/encryptionByDefault:EncryptionByDefault",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  groupPolicy: "aws:iam/groupPolicy:GroupPolicy",
  policy: "aws:iam/policy:Policy",
  role: "aws:iam/role:Role",
  accessKey: "aws:iam/accessKey:AccessKey",
  user: "aws:iam/user:User",
  defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  networkAcl: "aws:ec2/networkAcl:NetworkAcl",
  defaultNetworkAcl: "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
  networkAclRule: "aws:ec2/networkAclRule:NetworkAclRule",
  managedPrefixList: "aws:ec2/managedPrefixList:ManagedPrefixList",
  managedPrefixListEntry: "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
  userPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  groupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
  userPolicyAttachmentsExclusive: "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
  rolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
  groupPolicyAttachmentsExclusive: "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
} as const;

/**
 * The components whose children the stack designates for its two exceptions: the node instances
 * (IMDSv1 for Flocker) and the Flocker IAM user (a static access key). A URN spells its parents'
 * types (`…::swarm-flocker:nodes:NodeHost$aws:ec2/instance:Instance::name`), so a resource outside
 * them cannot claim an exception by copying a tag.
 */
export const DESIGNATED_PARENTS = {
  imdsv1Instance: "swarm-flocker:nodes:NodeHost",
  flockerUser: "swarm-flocker:storage:FlockerStorage",
} as const;

/** The resource's type qualified by its parents' types, as the URN spells it. */
function qualifiedType(urn: string): string {
  return urn.split("::")[2] ?? "";
}

/** True when the URN says the resource of `type` is a direct child of a `parentType` component. */
export function isChildOf(urn: string, parentType: string, type: string): boolean {
  return qualifiedType(urn).endsWith(`${parentType}$${type}`);
}

/** The documented IMDSv1 exception, as the program tags it (lib/imdsException.ts). */
export const IMDSV1_EXCEPTION = { tag: IMDSV1_EXCEPTION_TAG, reason: IMDSV1_EXCEPTION_REASON } as const;

/** Normalised IP protocol: "tcp", "udp", "esp", "icmp", "all", or the number/name as given. */
export type Protocol = string;

export interface ClusterPort {
  readonly protocol: Protocol;
  /** Absent for protocols without ports (ESP). */
  readonly port?: number;
  readonly what: string;
}

/**
 * Cluster-internal ports (docs/architecture.md, "Ports"): their source is always a
 * security group, never a CIDR. The numbers are the program's own (lib/ports.ts).
 */
export const CLUSTER_PORTS: readonly ClusterPort[] = [
  { protocol: "tcp", port: SWARM_MANAGEMENT_PORT, what: "Swarm cluster management (Raft)" },
  { protocol: "tcp", port: SWARM_GOSSIP_PORT, what: "Swarm gossip" },
  { protocol: "udp", port: SWARM_GOSSIP_PORT, what: "Swarm gossip" },
  { protocol: "udp", port: OVERLAY_VXLAN_PORT, what: "Swarm overlay data path (VXLAN)" },
  { protocol: "tcp", port: FLOCKER_AGENT_PORT, what: "Flocker agent protocol" },
  { protocol: "esp", what: "IPsec ESP of the encrypted overlay" },
];

/** Flocker's REST API: from a security group or admin CIDRs, never from the whole internet. */
export const FLOCKER_API: ClusterPort = { protocol: "tcp", port: FLOCKER_API_PORT, what: "Flocker REST API" };

/** The description the AWS provider fills in when a security group has none. */
export const PROVIDER_DEFAULT_SG_DESCRIPTION = "Managed by Pulumi";

/** True when reading the value threw because it is unknown during preview. */
function isUnknownValueError(e: unknown): boolean {
  return e instanceof UnknownValueError || (e instanceof Error && e.constructor.name === "UnknownValueError");
}

/** Reads a value that may be unknown during preview; `undefined` when it is. */
export function known<V>(read: () => V): V | undefined {
  try {
    return read();
  } catch (e) {
    if (isUnknownValueError(e)) return undefined;
    throw e;
  }
}

/**
 * True when `props[key]` is set: present and not null/""/[]. An unknown value (an output of a
 * resource not created yet) counts as set, without being read.
 */
function isSet(props: unknown, key: string): boolean {
  if (props === null || typeof props !== "object" || !(key in props)) return false;
  try {
    const value = (props as Record<string, unknown>)[key];
    if (value === undefined || value === null || value === "" || value === false) return false;
    return !(Array.isArray(value) && value.length === 0);
  } catch (e) {
    if (isUnknownValueError(e)) return true;
    throw e;
  }
}

export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function show(value: unknown): string {
  return value === undefined ? "unset" : JSON.stringify(value);
}

/** The value of tag `key` in `tags`, else in `tagsAll`. */
export function tagValue(props: Record<string, unknown>, key: string): unknown {
  for (const field of ["tags", "tagsAll"]) {
    if (!(field in props)) continue;
    const tags = record(props[field]);
    if (key in tags) return tags[key];
  }
  return undefined;
}

const PROTOCOL_NAMES: Readonly<Record<string, Protocol>> = {
  "-1": "all",
  all: "all",
  "6": "tcp",
  "17": "udp",
  "50": "esp",
  "1": "icmp",
  "58": "icmpv6",
};

function normaliseProtocol(value: unknown): Protocol {
  const text = String(value ?? "")
    .trim()
    .toLowerCase();
  return PROTOCOL_NAMES[text] ?? text;
}

/** True for a CIDR that matches every address of its family: 0.0.0.0/0, ::/0, any /0. */
export function isWholeInternet(cidr: string): boolean {
  const slash = cidr.lastIndexOf("/");
  return slash > 0 && /^\s*0+\s*$/.test(cidr.slice(slash + 1));
}

/** One security group rule, whatever resource declared it. */
export interface RuleView {
  /** How a message names it: `ingress rule "x"` or `security group "sg" ingress[0]`. */
  readonly label: string;
  readonly direction: "ingress" | "egress";
  readonly protocol: Protocol;
  readonly fromPort?: number;
  readonly toPort?: number;
  /** IPv4 and IPv6 CIDR sources/destinations. */
  readonly cidrs: readonly string[];
  /** A managed prefix list is a source: an address list, not a group. */
  readonly prefixList: boolean;
  /** The source is a security group (referenced, source, `self` or inline `securityGroups`). */
  readonly group: boolean;
  readonly description: unknown;
  /** The resource that declares the rule. */
  readonly resourceName: string;
  /** The rule's raw properties: the inline entry, or the rule resource's props. */
  readonly source: Record<string, unknown>;
}

function port(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function strings(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === "string" && v.trim() !== "");
}

/** An inline `ingress`/`egress` entry of an ec2.SecurityGroup. */
function inlineRule(sgName: string, direction: "ingress" | "egress", index: number, entry: Record<string, unknown>): RuleView {
  return {
    label: `security group "${sgName}" inline ${direction}[${index}]`,
    direction,
    protocol: normaliseProtocol(entry.protocol),
    fromPort: port(entry.fromPort),
    toPort: port(entry.toPort),
    cidrs: [...strings(entry.cidrBlocks), ...strings(entry.ipv6CidrBlocks)],
    prefixList: isSet(entry, "prefixListIds"),
    group: isSet(entry, "securityGroups") || entry.self === true,
    description: entry.description,
    resourceName: sgName,
    source: entry,
  };
}

/**
 * The inline rules of a security group: empty when it declares none, or when the list is not known
 * yet (a group's outputs during preview: the list is then computed by AWS).
 */
export function inlineRules(name: string, props: Record<string, unknown>): RuleView[] {
  const rules: RuleView[] = [];
  for (const direction of ["ingress", "egress"] as const) {
    if (!(direction in props)) continue;
    const entries = known(() => asArray(props[direction]));
    entries?.forEach((entry, index) => rules.push(inlineRule(name, direction, index, record(entry))));
  }
  return rules;
}

/** The rule a standalone rule resource declares; undefined for other types. */
export function standaloneRule(type: string, name: string, props: Record<string, unknown>): RuleView | undefined {
  if (type === TYPES.ingressRule || type === TYPES.egressRule) {
    const direction = type === TYPES.ingressRule ? "ingress" : "egress";
    return {
      label: `${direction} rule "${name}"`,
      direction,
      protocol: normaliseProtocol(props.ipProtocol),
      fromPort: port(props.fromPort),
      toPort: port(props.toPort),
      cidrs: [...strings(props.cidrIpv4), ...strings(props.cidrIpv6)],
      prefixList: isSet(props, "prefixListId"),
      group: isSet(props, "referencedSecurityGroupId"),
      description: props.description,
      resourceName: name,
      source: props,
    };
  }
  if (type === TYPES.securityGroupRule) {
    const direction = props.type === "egress" ? "egress" : "ingress";
    return {
      label: `security group rule "${name}" (type ${direction})`,
      direction,
      protocol: normaliseProtocol(props.protocol),
      fromPort: port(props.fromPort),
      toPort: port(props.toPort),
      cidrs: [...strings(props.cidrBlocks), ...strings(props.ipv6CidrBlocks)],
      prefixList: isSet(props, "prefixListIds"),
      group: isSet(props, "sourceSecurityGroupId") || props.self === true,
      description: props.description,
      resourceName: name,
      source: props,
    };
  }
  return undefined;
}

/** Every rule a resource declares: a standalone rule, or a (default) security group's inline rules. */
export function rulesOf(type: string, name: string, props: Record<string, unknown>): RuleView[] {
  if (type === TYPES.securityGroup || type === TYPES.defaultSecurityGroup) return inlineRules(name, props);
  const rule = standaloneRule(type, name, props);
  return rule ? [rule] : [];
}

/** True when the rule admits `protocol`/`port` (protocol "all" admits everything). */
export function admits(rule: RuleView, target: ClusterPort): boolean {
  if (rule.protocol === "all") return true;
  if (rule.protocol !== target.protocol) return false;
  if (target.port === undefined) return true;
  const from = rule.fromPort === undefined || rule.fromPort < 0 ? 0 : rule.fromPort;
  const to = rule.toPort === undefined || rule.toPort < 0 ? 65535 : rule.toPort;
  return from <= target.port && target.port <= to;
}

export function describePort(target: ClusterPort): string {
  return target.port === undefined ? `${target.what} (${target.protocol})` : `${target.what} (${target.port}/${target.protocol})`;
}

/** Protocols whose rules carry ports (ICMP: type and code); AWS reports others as 0-0 or without ports. */
export const PORTED_PROTOCOLS: ReadonlySet<Protocol> = new Set(["tcp", "udp", "icmp", "icmpv6"]);

export function describeRuleTraffic(rule: RuleView): string {
  if (rule.protocol === "all") return "all traffic";
  if (!PORTED_PROTOCOLS.has(rule.protocol)) return rule.protocol;
  if (rule.fromPort === undefined && rule.toPort === undefined) return rule.protocol;
  return rule.fromPort === rule.toPort ? `${rule.fromPort}/${rule.protocol}` : `${rule.fromPort}-${rule.toPort}/${rule.protocol}`;
}

/**
 * The resources of `type` that `resource` refers to through its input `property`, most exact link
 * first:
 * 1. `propertyDependencies[property]` — what the engine records for an Output-valued input;
 * 2. a candidate whose `idOf` value equals the (known) property value — links literal names/ids;
 * 3. only for candidates whose `idOf` value is not visible (e.g. an auto-named user seen through
 *    its inputs, as under unit-test mocks): the resource's `dependencies`, preferring its parent
 *    when it depends on several.
 */
export function referencedResources(
  resource: PolicyResource,
  property: string,
  type: string,
  candidates: readonly PolicyResource[],
  idOf: (candidate: PolicyResource) => unknown,
): PolicyResource[] {
  const byProperty = (resource.propertyDependencies?.[property] ?? []).filter((r) => r.type === type);
  if (byProperty.length > 0) return byProperty;

  const value = known(() => resource.props[property]);
  const byValue = typeof value === "string" ? candidates.filter((c) => known(() => idOf(c)) === value) : [];
  if (byValue.length > 0) return byValue;

  const anonymous = (resource.dependencies ?? []).filter((r) => r.type === type && known(() => idOf(r)) === undefined);
  if (anonymous.length > 1 && resource.parent && anonymous.includes(resource.parent)) return [resource.parent];
  return anonymous;
}

/** One network ACL entry, inline (`ingress`/`egress` of a (default) NetworkAcl) or a NetworkAclRule. */
export interface NaclEntryView {
  readonly label: string;
  readonly direction: "ingress" | "egress";
  readonly allow: boolean;
  readonly protocol: Protocol;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrs: readonly string[];
}

function naclEntry(
  label: string,
  direction: "ingress" | "egress",
  action: unknown,
  entry: Record<string, unknown>,
): NaclEntryView {
  return {
    label,
    direction,
    allow: String(action ?? "").toLowerCase() === "allow",
    protocol: normaliseProtocol(entry.protocol),
    fromPort: port(entry.fromPort),
    toPort: port(entry.toPort),
    cidrs: [...strings(entry.cidrBlock), ...strings(entry.ipv6CidrBlock)],
  };
}

/** The entries a network ACL resource declares; empty for other types or values unknown in preview. */
export function naclEntriesOf(type: string, name: string, props: Record<string, unknown>): NaclEntryView[] {
  if (type === TYPES.networkAclRule) {
    const direction = props.egress === true ? "egress" : "ingress";
    return [naclEntry(`network ACL rule "${name}" (${direction})`, direction, props.ruleAction, props)];
  }
  if (type !== TYPES.networkAcl && type !== TYPES.defaultNetworkAcl) return [];
  const entries: NaclEntryView[] = [];
  for (const direction of ["ingress", "egress"] as const) {
    if (!(direction in props)) continue;
    known(() => asArray(props[direction]))?.forEach((raw, index) => {
      const entry = record(raw);
      entries.push(naclEntry(`network ACL "${name}" ${direction}[${index}]`, direction, entry.action, entry));
    });
  }
  return entries;
}

/** The CIDRs a prefix list (or one entry of one) holds, for prefix-list resources. */
export function prefixListCidrs(type: string, props: Record<string, unknown>): string[] {
  if (type === TYPES.managedPrefixListEntry) return strings(known(() => props.cidr));
  if (type !== TYPES.managedPrefixList) return [];
  return (known(() => asArray(props.entries)) ?? []).flatMap((entry) => strings(record(entry).cidr));
}
