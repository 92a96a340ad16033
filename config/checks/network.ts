/**
 * Checks of the address plan: who may reach the cluster, the VPC and subnet, the nodes' static
 * addresses and the Spark overlay network.
 */
import { Address6 } from "ip-address";
import {
  ADMIN_ENTRY_CEILING_PREFIX,
  ADMIN_TOTAL_CEILING_BLOCKS,
  adminTotalCeiling,
  cidrFamily,
  cidrNetworkForm,
  coveredAddresses,
  cidrPrefixLength,
  hasPlainPrefix,
  internetShareProblem,
  ipv4CidrContains,
  ipv4CidrSize,
  ipv4CidrsOverlap,
  isCidr,
  isIpv4NetworkCidr,
  isNetworkCidr,
  isWholeInternet,
} from "../../lib/cidr";
import { portMatrix, type RuleSpec } from "../../lib/ports";
import { readInteger, type Report } from "./report";

/** Swarm's default ingress network (moby/moby#39228): no other range may overlap it. */
const SWARM_INGRESS_CIDR = "10.255.0.0/16";

const EXAMPLE = "e.g. pulumi config set --path 'adminCidrs[0]' 203.0.113.7/32";

/** Reads adminCidrs' JSON text as a list of strings; undefined (with a problem) when it is not one. */
function readAdminCidrList(text: string | undefined, report: Report): readonly string[] | undefined {
  if (text === undefined) {
    report("adminCidrs", undefined, `is not set: list the CIDRs that may reach SSH and the Flocker API, ${EXAMPLE}`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === "string")) {
    report(
      "adminCidrs",
      text,
      `is not a list of CIDR strings: set it as a list, ${EXAMPLE} (one --path index per CIDR), which stores ["203.0.113.7/32"]`,
    );
    return undefined;
  }
  if (parsed.length === 0) {
    report("adminCidrs", text, `is empty: list at least one CIDR that may reach SSH and the Flocker API, ${EXAMPLE}`);
    return undefined;
  }
  return parsed;
}

/** `address/32` or `address/128`: the CIDR of one address. */
function singleAddressCidr(address: string): string {
  return `${address}/${address.includes(":") ? 128 : 32}`;
}

/** The problem with one admin CIDR, or undefined when it is a network CIDR. */
function adminCidrProblem(cidr: string): string | undefined {
  if (!cidr.includes("/") && isCidr(singleAddressCidr(cidr))) {
    return `has no prefix length: write ${singleAddressCidr(cidr)} for this one address`;
  }
  // ip-address accepts IPv6 zone ids (fe80::1%eth0), which security groups do not.
  if (!isCidr(cidr) || cidr.includes("%")) {
    return "is not a valid CIDR: use an IPv4 or IPv6 network such as 203.0.113.7/32 or 2001:db8::/64";
  }
  // "0.0.0.0/00" is the whole internet too; a plain number leaves no doubt about what is meant.
  if (!hasPlainPrefix(cidr)) return `writes its prefix length with leading zeros: write ${cidrNetworkForm(cidr)}`;
  // AWS would store the network form and Pulumi would then show a diff on every run; and a host
  // address with a short prefix is usually a typo for /32.
  if (!isNetworkCidr(cidr)) {
    const address = cidr.slice(0, cidr.indexOf("/"));
    return `has host bits set: write ${cidrNetworkForm(cidr)} for the whole network, or ${singleAddressCidr(address)} for this one address`;
  }
  return undefined;
}

/** What the admin CIDRs may reach, for messages. */
const REACH = "SSH and the Flocker API";

/** How to say that a ceiling is lifted, or that it is not. */
const WIDE_OPT_IN = "or set allowWideAdminCidrs to true to allow wider networks (never the internet)";

/**
 * allowPublicAdminAccess once let a /0 through; the program refuses it now, whatever the policy
 * pack's enforcement level: the key stays known so that a stack that still sets it learns why.
 */
export function checkPublicAdminOptIn(value: boolean | undefined, text: string | undefined, report: Report): void {
  if (value !== true) return;
  report(
    "allowPublicAdminAccess",
    text,
    `is refused: the whole internet never reaches ${REACH}, so the opt-in no longer exists; remove it ` +
      "(pulumi config rm allowPublicAdminAccess), list your own networks in adminCidrs, and for a changing address " +
      "let npm run deploy -- STACK --my-ip set this machine's",
  );
}

export interface AdminReachOptions {
  /** allowWideAdminCidrs: entries and totals up to the internet-share line instead of the ceiling. */
  readonly allowWide: boolean;
}

export function checkAdminCidrs(
  text: string | undefined,
  options: AdminReachOptions,
  report: Report,
): readonly string[] | undefined {
  const cidrs = readAdminCidrList(text, report);
  if (cidrs === undefined || !checkAdminEntries(cidrs, report)) return undefined;
  const reachOk = checkAdminReach(cidrs, options, report);
  const quotaOk = checkRuleQuota(cidrs, report);
  const namesOk = checkRuleNames(cidrs, report);
  return reachOk && quotaOk && namesOk ? cidrs : undefined;
}

/** Each entry on its own: a network CIDR, not the whole internet, not listed twice. */
function checkAdminEntries(cidrs: readonly string[], report: Report): boolean {
  let valid = true;
  const seen = new Set<string>();
  cidrs.forEach((cidr, index) => {
    const item = `(item ${index + 1})`;
    const problem = adminCidrProblem(cidr);
    if (problem !== undefined) {
      report("adminCidrs", cidr, `${item} ${problem}`);
      valid = false;
      return;
    }
    if (isWholeInternet(cidr)) {
      report(
        "adminCidrs",
        cidr,
        `${item} is not allowed: it opens ${REACH} to the whole internet, and no setting allows that; list your own addresses`,
      );
      valid = false;
    } else if (seen.has(cidrNetworkForm(cidr))) {
      report("adminCidrs", cidr, `${item} is listed twice: remove the duplicate (AWS rejects duplicate security group rules)`);
      valid = false;
    }
    seen.add(cidrNetworkForm(cidr));
  });
  return valid;
}

/**
 * How far the entries reach, per family. Never more than a share of the internet (lib/cidr.ts
 * internetShareProblem: 0.0.0.0/1 + 128.0.0.0/1 is the whole internet without a /0), whatever is
 * set; without allowWideAdminCidrs, no entry wider than ADMIN_ENTRY_CEILING_PREFIX and all of them
 * together (each address once) no more than ADMIN_TOTAL_CEILING_BLOCKS such blocks.
 */
function checkAdminReach(cidrs: readonly string[], options: AdminReachOptions, report: Report): boolean {
  let ok = true;
  for (const family of ["IPv4", "IPv6"] as const) {
    const listed = cidrs.filter((cidr) => cidrFamily(cidr) === family);
    const share = internetShareProblem(cidrs, family);
    if (share !== undefined) {
      report(
        "adminCidrs",
        undefined,
        `${listed.join(", ")} ${share}: that opens ${REACH} to a share of the internet, and no setting allows that; list your own networks`,
      );
      ok = false;
      continue;
    }
    if (options.allowWide) continue;
    let entriesOk = true;
    cidrs.forEach((cidr, index) => {
      const problem = cidrFamily(cidr) === family ? entryCeilingProblem(cidr) : undefined;
      if (problem === undefined) return;
      report("adminCidrs", cidr, `(item ${index + 1}) ${problem}`);
      entriesOk = false;
    });
    const covered = coveredAddresses(cidrs, family);
    const ceiling = adminTotalCeiling(family);
    if (entriesOk && covered > ceiling) {
      report(
        "adminCidrs",
        undefined,
        `${listed.join(", ")} together cover ${covered} ${family} addresses, more than ${ceiling} ` +
          `(${ADMIN_TOTAL_CEILING_BLOCKS} blocks of /${ADMIN_ENTRY_CEILING_PREFIX[family]}): list fewer or narrower networks, ${WIDE_OPT_IN}`,
      );
      entriesOk = false;
    }
    ok &&= entriesOk;
  }
  return ok;
}

/** One entry wider than ADMIN_ENTRY_CEILING_PREFIX. */
function entryCeilingProblem(cidr: string): string | undefined {
  const family = cidrFamily(cidr);
  const ceiling = ADMIN_ENTRY_CEILING_PREFIX[family];
  const prefix = cidrPrefixLength(cidr);
  if (prefix >= ceiling) return undefined;
  return (
    `is a /${prefix} (${coveredAddresses([cidr], family)} addresses), wider than the /${ceiling} one entry may be: ` +
    `anyone in it could reach ${REACH}; list the narrower networks your admins use (at most a /${ceiling} each), ${WIDE_OPT_IN}`
  );
}

/**
 * AWS's default quota of inbound rules per security group, counted separately for IPv4 and IPv6; a
 * rule whose source is a security group counts once in each family.
 */
const SECURITY_GROUP_INBOUND_RULE_QUOTA = 60;

/**
 * The inbound rules the network component creates (lib/ports.ts), counted per security group and
 * family. An encrypted overlay adds one group-sourced rule (ESP); it is counted either way, so that
 * turning encryption on later cannot break a deployed stack.
 */
function checkRuleQuota(cidrs: readonly string[], report: Report): boolean {
  const ingress = portMatrix({ adminCidrs: cidrs, overlayEncrypted: true }).filter((rule) => rule.direction === "ingress");
  let ok = true;
  for (const group of [...new Set(ingress.map((rule) => rule.group))]) {
    const ofGroup = ingress.filter((rule) => rule.group === group);
    const fromGroups = ofGroup.filter((rule) => rule.peer.kind === "group").length;
    for (const family of ["IPv4", "IPv6"] as const) {
      const fromCidrs = ofGroup.filter((rule) => rule.peer.kind === "cidr" && cidrFamily(rule.peer.cidr) === family);
      const count = fromGroups + fromCidrs.length;
      if (count <= SECURITY_GROUP_INBOUND_RULE_QUOTA) continue;
      const listed = cidrs.filter((cidr) => cidrFamily(cidr) === family).length;
      const perCidr = fromCidrs.length / listed;
      const ports = [...new Set(fromCidrs.map((rule) => `${rule.port}/${rule.protocol}`))].join(", ");
      const most = Math.floor((SECURITY_GROUP_INBOUND_RULE_QUOTA - fromGroups) / perCidr);
      report(
        "adminCidrs",
        undefined,
        `lists ${listed} ${family} CIDRs: security group "${group}" would get ${count} inbound ${family} rules ` +
          `(${perCidr} per CIDR, for ${ports}, plus ${fromGroups} from the cluster's own security groups), ` +
          `more than AWS's default quota of ${SECURITY_GROUP_INBOUND_RULE_QUOTA} per group; list at most ${most} ${family} CIDRs ` +
          "(merge neighbouring networks into one wider CIDR)",
      );
      ok = false;
    }
  }
  return ok;
}

/**
 * Rule resources are named after the CIDR's text (lib/ports.ts cidrToken), and those names are a
 * contract: two different networks must not map to one name (1.0.0.0/32 and 1:0:0:0::/32, or
 * a::b/128 and a:b::/128).
 */
function checkRuleNames(cidrs: readonly string[], report: Report): boolean {
  const owner = new Map<string, string>();
  const reported = new Set<string>();
  let ok = true;
  const cidrRules = portMatrix({ adminCidrs: cidrs, overlayEncrypted: true }).filter(
    (rule): rule is RuleSpec & { peer: { kind: "cidr"; cidr: string } } =>
      rule.peer.kind === "cidr" && rule.direction === "ingress",
  );
  for (const rule of cidrRules) {
    const first = owner.get(rule.name);
    if (first === undefined) {
      owner.set(rule.name, rule.peer.cidr);
      continue;
    }
    const pair = `${first}\n${rule.peer.cidr}`;
    if (first === rule.peer.cidr || reported.has(pair)) continue;
    reported.add(pair);
    const ipv6 = cidrFamily(rule.peer.cidr) === "IPv6" ? rule.peer.cidr : first;
    report(
      "adminCidrs",
      undefined,
      `"${first}" and "${rule.peer.cidr}" would give their security group rules the same name ("${rule.name}"), ` +
        `but each rule needs its own: write "${ipv6}" uncompressed, as ${uncompressed(ipv6)}`,
    );
    ok = false;
  }
  return ok;
}

function uncompressed(ipv6Cidr: string): string {
  const address = new Address6(ipv6Cidr);
  return `${address.canonicalForm()}/${address.subnetMask}`;
}

interface Ipv4NetworkRule {
  readonly minPrefix: number;
  readonly maxPrefix: number;
  readonly example: string;
}

function checkIpv4Network(key: string, cidr: string, rule: Ipv4NetworkRule, report: Report): string | undefined {
  const allowed = `use an IPv4 network CIDR with a prefix from /${rule.minPrefix} to /${rule.maxPrefix}, e.g. ${rule.example}`;
  if (!isCidr(cidr) || cidr.includes(":")) {
    report(key, cidr, `is not an IPv4 CIDR: ${allowed}`);
    return undefined;
  }
  if (!isIpv4NetworkCidr(cidr)) {
    report(key, cidr, `has host bits set: write ${cidrNetworkForm(cidr)}`);
    return undefined;
  }
  const prefix = cidrPrefixLength(cidr);
  if (prefix < rule.minPrefix || prefix > rule.maxPrefix) {
    report(key, cidr, `is not allowed: ${allowed}`);
    return undefined;
  }
  return cidr;
}

function checkNotIngress(key: string, cidr: string, example: string, report: Report): boolean {
  if (!ipv4CidrsOverlap(cidr, SWARM_INGRESS_CIDR)) return true;
  report(key, cidr, `overlaps Swarm's ingress network ${SWARM_INGRESS_CIDR}: use a range outside it, e.g. ${example}`);
  return false;
}

export function checkVpcCidr(cidr: string, report: Report): string | undefined {
  // /16 to /28 are the sizes AWS allows for a VPC.
  const vpc = checkIpv4Network("vpcCidr", cidr, { minPrefix: 16, maxPrefix: 28, example: "172.31.0.0/16" }, report);
  return vpc !== undefined && checkNotIngress("vpcCidr", vpc, "172.31.0.0/16", report) ? vpc : undefined;
}

export function checkSubnetCidr(cidr: string, vpc: string | undefined, report: Report): string | undefined {
  // A subnet has the same size limits as a VPC.
  const subnet = checkIpv4Network("subnetCidr", cidr, { minPrefix: 16, maxPrefix: 28, example: "172.31.0.0/20" }, report);
  if (subnet === undefined || vpc === undefined) return subnet;
  if (!ipv4CidrContains(vpc, subnet)) {
    const example = `${vpc.replace(/\/\d+$/, "")}/${Math.min(cidrPrefixLength(vpc) + 4, 28)}`;
    report("subnetCidr", cidr, `is not inside vpcCidr ${vpc}: use a subnet of the VPC, e.g. ${example}`);
    return undefined;
  }
  return subnet;
}

/** Node i gets host number offset + i: all of them must be usable addresses of the subnet. */
export function checkNodeIpOffset(
  text: string,
  subnet: string | undefined,
  nodeCount: number | undefined,
  report: Report,
): number | undefined {
  const rule = {
    min: 4,
    max: Number.MAX_SAFE_INTEGER,
    allowed: "use 4 or more: AWS reserves the first four addresses of every subnet (network, router, DNS, future use)",
  };
  const offset = readInteger("nodeIpOffset", text, rule, report);
  if (offset === undefined || subnet === undefined || nodeCount === undefined) return offset;
  // AWS also reserves the last address (broadcast): the last usable host number is size - 2.
  const lastUsable = ipv4CidrSize(subnet) - 2;
  const lastNode = offset + nodeCount - 1;
  if (lastNode > lastUsable) {
    const maxOffset = lastUsable - (nodeCount - 1);
    const allowed = maxOffset >= 4 ? `use 4 to ${maxOffset}` : "use a larger subnetCidr or fewer nodes";
    report(
      "nodeIpOffset",
      text,
      `is not allowed with nodeCount ${nodeCount} in subnetCidr ${subnet}: the last node would get host number ${lastNode}, ` +
        `past the subnet's last usable address (${lastUsable}); ${allowed}`,
    );
    return undefined;
  }
  return offset;
}

export interface OverlayDemand {
  readonly swarmNodes: number;
  readonly workerReplicas: number;
}

/**
 * Addresses the spark overlay needs: one per task (master, workers, the smoke test), one virtual IP
 * per service, and one load-balancer endpoint on every Swarm node; network, gateway and broadcast
 * addresses are not usable.
 */
function overlayAddressesNeeded(demand: OverlayDemand): number {
  const tasks = 1 + demand.workerReplicas + 1;
  const serviceVips = 2;
  return tasks + serviceVips + demand.swarmNodes;
}

export function checkOverlaySubnet(
  cidr: string,
  vpc: string | undefined,
  demand: OverlayDemand | undefined,
  report: Report,
): string | undefined {
  const rule = { minPrefix: 8, maxPrefix: 29, example: "10.0.0.0/24" };
  const overlay = checkIpv4Network("overlaySubnet", cidr, rule, report);
  if (overlay === undefined) return undefined;
  let valid = checkNotIngress("overlaySubnet", overlay, "10.0.0.0/24", report);
  if (vpc !== undefined && ipv4CidrsOverlap(overlay, vpc)) {
    report(
      "overlaySubnet",
      cidr,
      `overlaps vpcCidr ${vpc}: use a range outside the VPC, e.g. 10.0.0.0/24, or containers could not reach hosts in the overlapping range`,
    );
    valid = false;
  }
  if (demand !== undefined) {
    const usable = ipv4CidrSize(overlay) - 3;
    const needed = overlayAddressesNeeded(demand);
    if (needed > usable) {
      report(
        "overlaySubnet",
        cidr,
        `is too small: it has ${usable} usable addresses, but ${demand.workerReplicas} Spark workers, the master, the smoke test, ` +
          `2 service addresses and ${demand.swarmNodes} Swarm nodes' load balancers need ${needed}; use a larger network such as 10.0.0.0/24`,
      );
      valid = false;
    }
  }
  return valid ? overlay : undefined;
}
