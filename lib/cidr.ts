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

/** True for a CIDR that matches every address of its family (0.0.0.0/0, ::/0, or any /0). */
export function isWholeInternet(cidr: string): boolean {
  return isCidr(cidr) && cidr.trim().endsWith("/0");
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
