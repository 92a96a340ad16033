/**
 * Ways to open the cluster to the internet without writing 0.0.0.0/0 into a security group rule:
 * CIDRs that add up to the internet (0.0.0.0/1 + 128.0.0.0/1), network ACLs, and managed prefix
 * lists. The line is the one the validator draws for adminCidrs (lib/cidr.ts WIDEST_ADMIN_PREFIX).
 * And the ports that must not be opened to any address at all: Spark's, which run whatever job
 * reaches them.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { internetShareProblem, WIDEST_ADMIN_PREFIX } from "../lib/cidr";
import { SPARK_PORTS } from "../lib/ports";
import {
  admits,
  ClusterPort,
  describePort,
  inlineRules,
  isWholeInternet,
  known,
  naclEntriesOf,
  NaclEntryView,
  prefixListCidrs,
  referencedResources,
  rulesOf,
  standaloneRule,
  TYPES,
} from "./support";

const FAMILIES = ["IPv4", "IPv6"] as const;
const LINE = `more than a /${WIDEST_ADMIN_PREFIX.IPv4} of public IPv4 or a /${WIDEST_ADMIN_PREFIX.IPv6} of public IPv6 addresses`;

/** The problems of a set of CIDRs, one per family that adds up to too much of the internet. */
function sharesOfInternet(cidrs: readonly string[]): string[] {
  return FAMILIES.map((family) => internetShareProblem(cidrs, family)).filter((p): p is string => p !== undefined);
}

interface Bucket {
  readonly label: string;
  readonly urn?: string;
  readonly cidrs: string[];
}

export const noInternetWideIngress: StackValidationPolicy = {
  name: "no-internet-wide-ingress",
  description:
    `No security group admits ingress from CIDRs that together cover ${LINE} (private ranges not counted): ` +
    "0.0.0.0/1 + 128.0.0.0/1, or enough /2s, is the internet without a /0. Counted per group over its inline rules, " +
    "its separate rule resources and the stack's prefix lists those rules reference. A /0 itself is no-public-ingress's to report.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const groupTypes: readonly string[] = [TYPES.securityGroup, TYPES.defaultSecurityGroup];
    const groups = args.resources.filter((r) => groupTypes.includes(r.type));
    const prefixLists = args.resources.filter((r) => r.type === TYPES.managedPrefixList);
    const buckets = new Map<string, Bucket>();
    const bucket = (key: string, label: string, urn?: string): Bucket => {
      const existing = buckets.get(key) ?? { label, urn, cidrs: [] };
      buckets.set(key, existing);
      return existing;
    };
    for (const group of groups) {
      const cidrs = inlineRules(group.name, group.props)
        .filter((rule) => rule.direction === "ingress")
        .flatMap((rule) => rule.cidrs);
      bucket(group.urn, `security group "${group.name}"`, group.urn).cidrs.push(...cidrs);
    }
    for (const resource of args.resources) {
      const rule = standaloneRule(resource.type, resource.name, resource.props);
      if (rule === undefined || rule.direction !== "ingress") continue;
      const listed = ["prefixListId", "prefixListIds"].flatMap((property) =>
        referencedResources(resource, property, TYPES.managedPrefixList, prefixLists, (list) => list.props.id),
      );
      const cidrs = [...rule.cidrs, ...listed.flatMap((list) => prefixListCidrs(list.type, list.props))];
      const owners = groupTypes.flatMap((type) =>
        referencedResources(resource, "securityGroupId", type, groups, (group) => group.props.id),
      );
      if (owners.length > 0) {
        for (const owner of owners) bucket(owner.urn, `security group "${owner.name}"`, owner.urn).cidrs.push(...cidrs);
      } else {
        const id = known(() => resource.props.securityGroupId);
        const key = typeof id === "string" ? `id:${id}` : `rule:${resource.urn}`;
        bucket(key, typeof id === "string" ? `security group ${id}` : `the group of ${rule.label}`, resource.urn).cidrs.push(
          ...cidrs,
        );
      }
    }
    for (const { label, urn, cidrs } of buckets.values()) {
      const sources = [...new Set(cidrs.filter((cidr) => !isWholeInternet(cidr)))];
      for (const problem of sharesOfInternet(sources)) {
        reportViolation(
          `${label} admits ingress from ${sources.join(", ")}, which ${problem}: a share of the internet, though no rule says /0. ` +
            "Fix: admit the admin CIDRs (config adminCidrs) or a security group only.",
          urn,
        );
      }
    }
  },
};

/** The traffic of a NACL entry that matters from the internet: all of it, or ports below 1024. */
function wellKnownTraffic(entry: NaclEntryView): string | undefined {
  if (entry.protocol === "all") return "all traffic";
  if (entry.protocol !== "tcp" && entry.protocol !== "udp") return undefined;
  const from = entry.fromPort ?? 0;
  const to = entry.toPort ?? 65535;
  if (from > 1023) return undefined;
  return from === to ? `${from}/${entry.protocol}` : `${from}-${to}/${entry.protocol}`;
}

export const noPublicNaclIngress: ResourceValidationPolicy = {
  name: "no-public-nacl-ingress",
  description:
    "Network ACLs (inline ingress of ec2.NetworkAcl and ec2.DefaultNetworkAcl, ec2.NetworkAclRule with egress false) " +
    `allow no traffic from a /0, or from CIDRs covering ${LINE}, on all protocols or on any port below 1024 (SSH among ` +
    "them). A NACL is stateless: replies on ephemeral ports 1024-65535 from anywhere are what a public subnet needs and " +
    "stay allowed; the security groups still guard the cluster's ports above 1024.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const entry of naclEntriesOf(args.type, args.name, args.props)) {
      if (entry.direction !== "ingress" || !entry.allow) continue;
      const traffic = wellKnownTraffic(entry);
      if (traffic === undefined) continue;
      for (const problem of sharesOfInternet(entry.cidrs)) {
        reportViolation(
          `${entry.label} allows ${traffic} from ${entry.cidrs.join(", ")}, which ${problem}. ` +
            "Fix: allow the admin CIDRs only below port 1024 (replies need only 1024-65535 from anywhere).",
        );
      }
    }
  },
};

export const noPublicPrefixLists: ResourceValidationPolicy = {
  name: "no-public-prefix-lists",
  description:
    `Managed prefix lists (ec2.ManagedPrefixList entries, ec2.ManagedPrefixListEntry) hold no /0 and no CIDRs covering ${LINE}: ` +
    "every security group rule that references the list would admit them, and no rule shows the CIDR.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const cidrs = prefixListCidrs(args.type, args.props);
    const kind = args.type === TYPES.managedPrefixList ? "prefix list" : "prefix list entry";
    for (const problem of sharesOfInternet(cidrs)) {
      reportViolation(
        `${kind} "${args.name}" holds ${cidrs.join(", ")}, which ${problem}: every rule that references it admits that share of the internet. ` +
          "Fix: list the admin networks only.",
      );
    }
  },
};

/** The Spark master's ports (lib/ports.ts), as the port rules describe them. */
const SPARK_MASTER_PORTS: readonly ClusterPort[] = SPARK_PORTS.map(({ port, what }) => ({ protocol: "tcp", port, what }));

export const noSparkPortsFromAddresses: ResourceValidationPolicy = {
  name: "no-spark-ports-from-addresses",
  description:
    `Spark's ${SPARK_MASTER_PORTS.map((p) => `${p.port}/tcp`).join(", ")} (web UI, master, REST submission) are admitted from no CIDR ` +
    "and no prefix list, the admin CIDRs included: they accept job submissions without authentication, so whoever " +
    "reaches them runs code in the cluster. Security-group sources stay allowed; operators use an SSH tunnel.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const rule of rulesOf(args.type, args.name, args.props)) {
      if (rule.direction !== "ingress") continue;
      const addressSources = [...rule.cidrs, ...(rule.prefixList ? ["a prefix list"] : [])];
      const sparkPorts = SPARK_MASTER_PORTS.filter((p) => admits(rule, p));
      if (addressSources.length === 0 || sparkPorts.length === 0) continue;
      reportViolation(
        `${rule.label} admits ${sparkPorts.map(describePort).join(", ")} from ${addressSources.join(", ")}: ` +
          "Spark runs any job submitted there, without authentication. " +
          "Fix: remove the rule and reach Spark through an SSH tunnel (npm run ssh -- --stack STACK --tunnel NODE).",
      );
    }
  },
};
