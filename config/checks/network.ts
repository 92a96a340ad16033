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
  ipv4FreeSubnet,
} from "../../lib/cidr";
import { ingressSubnet, NODE_RESERVED_RANGES, SUGGESTION_RANGES, type SwarmAddressPool } from "../../lib/dockerAddresses";
import { portMatrix, type RuleSpec } from "../../lib/ports";
import { readInteger, type Report } from "./report";

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

/** The address space a VPC or overlay is checked against: the pool, and the other key's value for suggestions. */
interface AddressPlan {
  /** The validated pool; undefined when it has a problem of its own. */
  readonly pool: SwarmAddressPool | undefined;
  /** vpcCidr or overlaySubnet as given: a suggestion for the other avoids it when it is a network. */
  readonly other: string;
}

/** `text` when it is an IPv4 network CIDR, for the list of ranges a suggestion must avoid. */
function asNetwork(text: string | undefined): string[] {
  return text !== undefined && isIpv4NetworkCidr(text) ? [text] : [];
}

const RESERVED = NODE_RESERVED_RANGES.map((range) => range.cidr);

/** A network of `prefix` bits outside `avoid` and every node's reserved ranges, as "e.g. X" text. */
function suggestion(key: string, prefix: number, avoid: readonly string[]): string {
  const free = ipv4FreeSubnet(prefix, [...RESERVED, ...avoid], SUGGESTION_RANGES);
  return free === undefined ? `a ${key} of another size` : `e.g. ${free}`;
}

/** A range held on every node (loopback, link-local, multicast, docker0, docker_gwbridge) is refused. */
function checkNotReserved(key: string, cidr: string, avoid: readonly string[], report: Report): boolean {
  const taken = NODE_RESERVED_RANGES.filter((range) => ipv4CidrsOverlap(cidr, range.cidr));
  if (taken.length === 0) return true;
  const names = taken.map((range) => `${range.what} ${range.cidr}`).join(" and ");
  report(
    key,
    cidr,
    `overlaps ${names}, which every node holds: use another ${key} outside it, ${suggestion(key, cidrPrefixLength(cidr), avoid)}`,
  );
  return false;
}

/** What of the pool `cidr` overlaps, for a message: the ingress network, or the rest of the pool. */
function poolOverlap(cidr: string, pool: SwarmAddressPool): string {
  const ingress = ingressSubnet(pool);
  return ipv4CidrsOverlap(cidr, ingress)
    ? `Swarm's ingress network ${ingress} (the first /${pool.maskLength} of swarmAddressPool ${pool.cidr})`
    : `swarmAddressPool ${pool.cidr}, from which Swarm takes the subnets of its networks`;
}

/**
 * The size of a suggested pool: the pool's own, but no wider than a /16 (256 blocks of /24 are
 * plenty for this stack, and a narrower pool is more likely to be free) nor narrower than a block.
 */
function poolSuggestionPrefix(pool: SwarmAddressPool): number {
  return Math.min(Math.max(cidrPrefixLength(pool.cidr), 16), pool.maskLength);
}

/** A VPC or overlay inside the Swarm's address pool is refused, with a free value for either key. */
function checkOutsidePool(key: string, cidr: string, plan: AddressPlan, why: string, report: Report): boolean {
  const pool = plan.pool;
  if (pool === undefined || !ipv4CidrsOverlap(cidr, pool.cidr)) return true;
  const other = asNetwork(plan.other);
  report(
    key,
    cidr,
    `overlaps ${poolOverlap(cidr, pool)}: ${why}; use another ${key} outside swarmAddressPool, ` +
      `${suggestion(key, cidrPrefixLength(cidr), [pool.cidr, ...other])}, or a swarmAddressPool that overlaps neither, ` +
      `${suggestion("swarmAddressPool", poolSuggestionPrefix(pool), [cidr, ...other])} (it applies when the swarm is founded)`,
  );
  return false;
}

export function checkVpcCidr(cidr: string, plan: AddressPlan, report: Report): string | undefined {
  // /16 to /28 are the sizes AWS allows for a VPC.
  const vpc = checkIpv4Network("vpcCidr", cidr, { minPrefix: 16, maxPrefix: 28, example: "172.31.0.0/16" }, report);
  if (vpc === undefined) return undefined;
  const avoid = [...(plan.pool === undefined ? [] : [plan.pool.cidr]), ...asNetwork(plan.other)];
  const free = checkNotReserved("vpcCidr", vpc, avoid, report);
  const outside = checkOutsidePool(
    "vpcCidr",
    vpc,
    plan,
    "the nodes' own addresses would be routed into Swarm's networks",
    report,
  );
  return free && outside ? vpc : undefined;
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
  plan: AddressPlan,
  demand: OverlayDemand | undefined,
  report: Report,
): string | undefined {
  const rule = { minPrefix: 8, maxPrefix: 29, example: "10.0.0.0/24" };
  const overlay = checkIpv4Network("overlaySubnet", cidr, rule, report);
  if (overlay === undefined) return undefined;
  const prefix = cidrPrefixLength(overlay);
  const avoid = [...(plan.pool === undefined ? [] : [plan.pool.cidr]), ...asNetwork(vpc ?? plan.other)];
  let valid = checkNotReserved("overlaySubnet", overlay, avoid, report);
  const why = "Docker would create the network (exit 0) but never allocate it, and the Spark tasks would stay New";
  valid = checkOutsidePool("overlaySubnet", overlay, { pool: plan.pool, other: vpc ?? plan.other }, why, report) && valid;
  if (vpc !== undefined && ipv4CidrsOverlap(overlay, vpc)) {
    report(
      "overlaySubnet",
      cidr,
      `overlaps vpcCidr ${vpc}: use a range outside the VPC, ${suggestion("overlaySubnet", prefix, avoid)}, or containers could not reach hosts in the overlapping range`,
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

/**
 * Addresses Swarm's ingress network needs: one endpoint per Swarm node (its ingress sandbox), and
 * for the one service that publishes ports (spark-master) its task's address and its virtual IP;
 * network, gateway and broadcast addresses are not usable.
 */
function ingressAddressesNeeded(swarmNodes: number): number {
  return swarmNodes + 2;
}

/** Docker refuses a longer mask: an overlay network needs 4 addresses of its own (moby's validateDefaultAddrPool). */
const LONGEST_POOL_MASK = 29;

/**
 * swarmAddressPool and swarmAddressPoolMaskLength: the pool `swarm init` is given. It must leave
 * room for its mask, stay off the ranges every node holds, and its first block (ingress) must
 * hold the Swarm's nodes. Its overlaps with the VPC and the overlay are checked with those keys;
 * `others` (vpcCidr and overlaySubnet as given) only keep a suggestion off them.
 */
export function checkSwarmAddressPool(
  cidr: string,
  maskText: string,
  swarmNodes: number | undefined,
  others: readonly string[],
  report: Report,
): SwarmAddressPool | undefined {
  const poolRule = { minPrefix: 8, maxPrefix: LONGEST_POOL_MASK, example: "10.255.0.0/16" };
  const pool = checkIpv4Network("swarmAddressPool", cidr, poolRule, report);
  const maskRule = {
    min: 8,
    max: LONGEST_POOL_MASK,
    allowed: `use a whole number from swarmAddressPool's prefix length to ${LONGEST_POOL_MASK} (Docker's limit), e.g. 24`,
  };
  const maskLength = readInteger("swarmAddressPoolMaskLength", maskText, maskRule, report);
  if (pool === undefined || maskLength === undefined) return undefined;
  // A suggested pool must not land on the VPC or the overlay either.
  let valid = checkNotReserved("swarmAddressPool", pool, others.flatMap(asNetwork), report);
  const prefix = cidrPrefixLength(pool);
  if (maskLength < prefix) {
    report(
      "swarmAddressPoolMaskLength",
      maskText,
      `is shorter than swarmAddressPool ${pool}'s prefix /${prefix}: Swarm takes blocks of this length out of the pool; use ${prefix} to ${LONGEST_POOL_MASK}`,
    );
    return undefined;
  }
  const ingress = ingressSubnet({ cidr: pool, maskLength });
  if (swarmNodes !== undefined) {
    const usable = ipv4CidrSize(ingress) - 3;
    const needed = ingressAddressesNeeded(swarmNodes);
    if (needed > usable) {
      const longest = 32 - Math.ceil(Math.log2(needed + 3));
      report(
        "swarmAddressPoolMaskLength",
        maskText,
        `is too long: Swarm's ingress network would be ${ingress} with ${usable} usable addresses, but ${swarmNodes} Swarm nodes ` +
          `and the Spark master's published ports need ${needed}; ` +
          (longest >= prefix ? `use ${prefix} to ${longest}` : `use a larger swarmAddressPool (/${longest} or shorter)`),
      );
      valid = false;
    }
  }
  return valid ? { cidr: pool, maskLength } : undefined;
}
