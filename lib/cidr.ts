/**
 * CIDR arithmetic for the stack's address plan, on top of `ip-address` (no hand-rolled parsing).
 */
import { Address4, Address6 } from "ip-address";

/** True when `text` is an IPv4 CIDR in canonical network form (e.g. 10.0.0.0/24, not 10.0.0.5/24). */
export function isIpv4NetworkCidr(text: string): boolean {
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(text) || !Address4.isValid(text)) return false;
  const address = new Address4(text);
  return address.startAddress().correctForm() === address.correctForm();
}

/** True when `text` is a valid IPv4 or IPv6 CIDR (host bits may be set; AWS normalises them). */
export function isCidr(text: string): boolean {
  if (!text.includes("/")) return false;
  return text.includes(":") ? Address6.isValid(text) : Address4.isValid(text) && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(text);
}

/**
 * True for a CIDR that matches every address of its family: 0.0.0.0/0, ::/0, any /0, and the same
 * with the prefix spelt /00 or /000 (read as the number it is, not as text).
 */
export function isWholeInternet(cidr: string): boolean {
  return isCidr(cidr) && cidrPrefixLength(cidr) === 0;
}

export function isIpv6Cidr(cidr: string): boolean {
  return cidr.includes(":");
}

/** Number of addresses in an IPv4 CIDR. */
export function ipv4CidrSize(cidr: string): number {
  return 2 ** (32 - new Address4(cidr).subnetMask);
}

/** True when IPv4 CIDR `inner` lies entirely inside `outer`. */
export function ipv4CidrContains(outer: string, inner: string): boolean {
  return new Address4(inner).isInSubnet(new Address4(outer)) && new Address4(inner).subnetMask >= new Address4(outer).subnetMask;
}

/** True when two IPv4 CIDRs share at least one address. */
export function ipv4CidrsOverlap(a: string, b: string): boolean {
  return ipv4CidrContains(a, b) || ipv4CidrContains(b, a);
}

/** The `hostNumber`-th address of an IPv4 CIDR (0 = the network address). */
export function ipv4HostAddress(cidr: string, hostNumber: number): string {
  const network = new Address4(cidr).startAddress();
  if (!Number.isInteger(hostNumber) || hostNumber < 0 || hostNumber >= ipv4CidrSize(cidr)) {
    throw new RangeError(`host number ${hostNumber} is outside ${cidr}`);
  }
  return Address4.fromBigInt(network.bigInt() + BigInt(hostNumber)).correctForm();
}

/** True when `text` is an IPv6 CIDR in canonical network form (2001:db8::/32, not 2001:db8::1/32); no zone ids. */
export function isIpv6NetworkCidr(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+\/\d{1,3}$/.test(text) || !Address6.isValid(text)) return false;
  const address = new Address6(text);
  return address.startAddress().correctForm() === address.correctForm();
}

/** True when `text` is an IPv4 or IPv6 CIDR with no host bits set. */
export function isNetworkCidr(text: string): boolean {
  return isIpv6Cidr(text) ? isIpv6NetworkCidr(text) : isIpv4NetworkCidr(text);
}

/** The prefix length of a valid CIDR (24 for 10.0.0.0/24). */
export function cidrPrefixLength(cidr: string): number {
  return isIpv6Cidr(cidr) ? new Address6(cidr).subnetMask : new Address4(cidr).subnetMask;
}

/**
 * A valid CIDR with its host bits cleared, in canonical spelling (10.0.0.0/24 for 10.0.0.5/24,
 * 2001:db8::/32 for 2001:0DB8::/32): to suggest a fix and to compare CIDRs for equality.
 */
export function cidrNetworkForm(cidr: string): string {
  const address = isIpv6Cidr(cidr) ? new Address6(cidr) : new Address4(cidr);
  return `${address.startAddress().correctForm()}/${address.subnetMask}`;
}

export type IpFamily = "IPv4" | "IPv6";

export function cidrFamily(cidr: string): IpFamily {
  return isIpv6Cidr(cidr) ? "IPv6" : "IPv4";
}

/** Number of addresses of a family: 2^32 or 2^128. */
export function addressSpaceSize(family: IpFamily): bigint {
  return 2n ** (family === "IPv4" ? 32n : 128n);
}

/** True when the prefix length is written as a plain number (24, not 024 or 00). */
export function hasPlainPrefix(cidr: string): boolean {
  return /\/(0|[1-9]\d{0,2})$/.test(cidr);
}

interface AddressRange {
  start: bigint;
  end: bigint;
}

/** The valid CIDRs of `family` as sorted, disjoint address ranges (overlaps and neighbours merged). */
function mergedRanges(cidrs: readonly string[], family: IpFamily): AddressRange[] {
  const ranges = cidrs
    .filter((cidr) => isCidr(cidr) && cidrFamily(cidr) === family)
    .map((cidr) => {
      const address = family === "IPv6" ? new Address6(cidr) : new Address4(cidr);
      return { start: address.startAddress().bigInt(), end: address.endAddress().bigInt() };
    })
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: AddressRange[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.start <= last.end + 1n) {
      if (range.end > last.end) last.end = range.end;
    } else {
      merged.push({ ...range });
    }
  }
  return merged;
}

function sizeOf(ranges: readonly AddressRange[]): bigint {
  return ranges.reduce((total, range) => total + (range.end - range.start + 1n), 0n);
}

/**
 * How many addresses of `family` the valid CIDRs cover together, each address counted once
 * however many CIDRs contain it (0.0.0.0/1 + 128.0.0.0/1 is all 2^32). CIDRs of the other family
 * are ignored.
 */
export function coveredAddresses(cidrs: readonly string[], family: IpFamily): bigint {
  return sizeOf(mergedRanges(cidrs, family));
}

/**
 * Ranges that are not on the internet: traffic from them reaches a VPC only over a VPN, peering or
 * Direct Connect, so admitting them opens nothing to the internet (RFC 1918, RFC 6598 shared
 * address space, RFC 4193 unique local IPv6).
 */
const PRIVATE_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"];

/** Like coveredAddresses, without the addresses of PRIVATE_RANGES: the internet the CIDRs admit. */
export function coveredPublicAddresses(cidrs: readonly string[], family: IpFamily): bigint {
  const covered = mergedRanges(cidrs, family);
  let privateOverlap = 0n;
  for (const range of mergedRanges(PRIVATE_RANGES, family)) {
    for (const part of covered) {
      const start = part.start > range.start ? part.start : range.start;
      const end = part.end < range.end ? part.end : range.end;
      if (start <= end) privateOverlap += end - start + 1n;
    }
  }
  return sizeOf(covered) - privateOverlap;
}

/** `part` as a percentage of `whole`, two decimals, rounded down (never shows 100% for less). */
function percentOf(part: bigint, whole: bigint): string {
  const hundredths = (part * 10000n) / whole;
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, "0")}%`;
}

/**
 * How much of the internet admin access may add up to, as the prefix of one block of that size: a
 * /8 of IPv4 (the largest block ever assigned to one organisation) and a /32 of IPv6 (a whole
 * provider's allocation). More than that is a share of the internet, not an operator's own
 * networks. Private ranges do not count (PRIVATE_RANGES). The validator (adminCidrs) and the
 * policy pack (every security group's ingress) both hold to it.
 */
export const WIDEST_ADMIN_PREFIX: Readonly<Record<IpFamily, number>> = { IPv4: 8, IPv6: 32 };

/**
 * The ceiling of admin reach without the allowWideAdminCidrs opt-in (docs/security.md, "Admin
 * reach"): no one entry wider than a /24 of IPv4 (256 addresses: an office, a NAT gateway's pool)
 * or a /56 of IPv6 (the block one site gets), private ranges included — a VPN's client pool is a
 * network like any other, and 172.31.0.0/16 would admit every other instance of the VPC.
 */
export const ADMIN_ENTRY_CEILING_PREFIX: Readonly<Record<IpFamily, number>> = { IPv4: 24, IPv6: 56 };

/** All entries of a family together, each address once: as many addresses as this many ceiling blocks. */
export const ADMIN_TOTAL_CEILING_BLOCKS = 4;

/** How many addresses all admin entries of `family` may cover together without the opt-in (1024 for IPv4). */
export function adminTotalCeiling(family: IpFamily): bigint {
  const bits = family === "IPv4" ? 32 : 128;
  return BigInt(ADMIN_TOTAL_CEILING_BLOCKS) * 2n ** BigInt(bits - ADMIN_ENTRY_CEILING_PREFIX[family]);
}

/** The number of addresses in a block of WIDEST_ADMIN_PREFIX. */
function widestAdminAddresses(family: IpFamily): bigint {
  const bits = family === "IPv4" ? 32 : 128;
  return 2n ** BigInt(bits - WIDEST_ADMIN_PREFIX[family]);
}

/** What covering `covered` public addresses of `family` amounts to, for a message. */
function describeCoverage(covered: bigint, family: IpFamily): string {
  return `${covered} public ${family} addresses (${percentOf(covered, addressSpaceSize(family))} of the ${family} address space)`;
}

/**
 * Why `cidrs` together admit too much of the internet, or undefined: shared by the validator and
 * the policy pack, so that both draw the line in the same place.
 */
export function internetShareProblem(cidrs: readonly string[], family: IpFamily): string | undefined {
  const covered = coveredPublicAddresses(cidrs, family);
  const widest = widestAdminAddresses(family);
  if (covered <= widest) return undefined;
  return (
    `together cover ${describeCoverage(covered, family)}, more than a /${WIDEST_ADMIN_PREFIX[family]} ` +
    `(${widest} addresses, private ranges not counted)`
  );
}

/** The first subnet of length `prefix` inside IPv4 CIDR `cidr` (10.255.0.0/24 for 10.255.0.0/16 and 24). */
export function ipv4FirstSubnet(cidr: string, prefix: number): string {
  if (prefix < cidrPrefixLength(cidr) || prefix > 32) throw new RangeError(`no /${prefix} subnet in ${cidr}`);
  return `${new Address4(cidr).startAddress().correctForm()}/${prefix}`;
}

/** An IPv4 CIDR as the first and last address it holds. */
function ipv4Bounds(cidr: string): { first: bigint; last: bigint } {
  const address = new Address4(cidr);
  return { first: address.startAddress().bigInt(), last: address.endAddress().bigInt() };
}

/**
 * The first IPv4 network of length `prefix` that overlaps none of `avoid`, looking through the
 * ranges of `search` in order, each from its start: to suggest a value that is itself free of
 * conflicts. Undefined when none is found. A candidate that hits a range of `avoid` moves to the
 * first aligned block past it, so a search never walks a taken /8 one /24 at a time.
 */
export function ipv4FreeSubnet(prefix: number, avoid: readonly string[], search: readonly string[]): string | undefined {
  const taken = avoid.map(ipv4Bounds);
  const size = 2n ** BigInt(32 - prefix);
  for (const range of search) {
    if (prefix < cidrPrefixLength(range)) continue;
    const { first, last } = ipv4Bounds(range);
    let candidate = first;
    while (candidate + size - 1n <= last) {
      const end = candidate + size - 1n;
      const hit = taken.filter((t) => t.first <= end && candidate <= t.last);
      if (hit.length === 0) return `${Address4.fromBigInt(candidate).correctForm()}/${prefix}`;
      const past = hit.reduce((max, t) => (t.last > max ? t.last : max), 0n) + 1n;
      candidate = ((past + size - 1n) / size) * size;
    }
  }
  return undefined;
}
