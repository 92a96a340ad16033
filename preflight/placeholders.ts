/**
 * The repository's placeholder values: documentation networks (RFC 5737, RFC 3849) and host names
 * reserved never to resolve or to serve only as examples (RFC 2606, RFC 6761). The shipped stack
 * files carry them so that nobody deploys with someone else's address; the program refuses them
 * before anything billable, `npm run deploy` refuses them before running Pulumi, and the offline
 * plan lists them. Pure: the same functions serve all three.
 */
import { Address4, Address6 } from "ip-address";
import { isCidr, isIpv6Cidr } from "../lib/cidr";

/** One setting that still holds a placeholder. */
export interface Placeholder {
  /** The setting, with its index for list entries: `adminCidrs[0]`, `flockerAptSource`. */
  readonly key: string;
  readonly value: string;
  /** Why it is a placeholder and what to set instead. */
  readonly reason: string;
}

const DOCUMENTATION_NETWORKS_V4 = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((cidr) => new Address4(cidr));
const DOCUMENTATION_NETWORK_V6 = new Address6("2001:db8::/32");

/** True when a CIDR lies inside a documentation range, like the repository's 203.0.113.10/32. */
export function isDocumentationCidr(cidr: string): boolean {
  if (!isCidr(cidr)) return false;
  if (isIpv6Cidr(cidr)) return new Address6(cidr).isInSubnet(DOCUMENTATION_NETWORK_V6);
  const address = new Address4(cidr);
  return DOCUMENTATION_NETWORKS_V4.some((network) => address.isInSubnet(network) && address.subnetMask >= network.subnetMask);
}

/** Names under .invalid, .example, .test, localhost, or example.com/.net/.org. */
const PLACEHOLDER_HOST = /(^|\.)(invalid|example|test|localhost)$|(^|\.)example\.(com|net|org)$/i;

function isPlaceholderHost(host: string): boolean {
  return PLACEHOLDER_HOST.test(host.replace(/:\d+$/, "").replace(/\.$/, ""));
}

/** The host names of the URLs in a text (an apt line holds one, with options around it). */
function urlHostsOf(text: string): string[] {
  const hosts: string[] = [];
  for (const match of text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/(?:[^/\s@\]]*@)?([^/\s:\]]+)/gi)) hosts.push(match[1]);
  return hosts;
}

/** True when an apt source line points at a placeholder host such as the repository's `flocker-packages.invalid`. */
export function isPlaceholderAptSource(line: string): boolean {
  return urlHostsOf(line).some(isPlaceholderHost);
}

/** The registry host of an image reference, when it names one (Docker's rule: a dot, a port, or localhost). */
function imageRegistryHost(image: string): string | undefined {
  const [first, ...rest] = image.split("@")[0].split("/");
  if (rest.length === 0) return undefined;
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : undefined;
}

/** The settings that can hold a placeholder, as the program or a stack file has them. */
export interface PlaceholderCandidates {
  readonly adminCidrs?: readonly string[];
  readonly flockerAptSource?: string;
  readonly ubuntuArchiveMirror?: string;
  /** Image references by config key (sparkMasterImage, flockerControlImage ...). */
  readonly images?: Readonly<Record<string, string>>;
}

/** Every placeholder among the candidates, in key order. */
export function findPlaceholders(candidates: PlaceholderCandidates, stack = "<stack>"): Placeholder[] {
  const found: Placeholder[] = [];
  (candidates.adminCidrs ?? []).forEach((cidr, index) => {
    if (!isDocumentationCidr(cidr.trim())) return;
    found.push({
      key: `adminCidrs[${index}]`,
      value: cidr,
      reason:
        "is a placeholder, a documentation address (RFC 5737/3849) no real client has: set your own network, " +
        `e.g. pulumi config set --path 'adminCidrs[${index}]' <your-ip>/32` +
        (index === 0 ? ` (npm run deploy -- ${stack} --my-ip sets this machine's address)` : ""),
    });
  });
  const urlSetting = (key: string, value: string | undefined, what: string) => {
    if (value === undefined || value === "") return;
    const host = urlHostsOf(value).find(isPlaceholderHost);
    if (host === undefined) return;
    // Credentials in the URL never reach a message.
    const shown = value.replace(/\/\/[^/\s@]*@/g, "//");
    found.push({
      key,
      value: shown,
      reason: `is a placeholder: ${host} is reserved for examples and serves nothing; set ${what}`,
    });
  };
  urlSetting("flockerAptSource", candidates.flockerAptSource, "the apt line of the repository that serves your Flocker packages");
  urlSetting(
    "ubuntuArchiveMirror",
    candidates.ubuntuArchiveMirror,
    "a real Ubuntu archive, or leave it empty for the image's own mirror",
  );
  for (const [key, image] of Object.entries(candidates.images ?? {})) {
    const host = imageRegistryHost(image);
    if (host === undefined || !isPlaceholderHost(host)) continue;
    found.push({
      key,
      value: image,
      reason: `is a placeholder: registry ${host} is reserved for examples; set an image the nodes can pull`,
    });
  }
  return found;
}

/** One line per placeholder: `adminCidrs[0]: "203.0.113.10/32" is a documentation address ...`. */
export function describePlaceholder(placeholder: Placeholder): string {
  return `${placeholder.key}: ${JSON.stringify(placeholder.value)} ${placeholder.reason}`;
}

/** What the offline plan prints under the report; empty when nothing is left to replace. */
export function formatPlaceholders(placeholders: readonly Placeholder[]): string {
  if (placeholders.length === 0) return "";
  return `\nReplace before a deploy (the program refuses these outside the offline plan):\n${placeholders.map((p) => `  - ${describePlaceholder(p)}\n`).join("")}`;
}
