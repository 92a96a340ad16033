/**
 * Docker's address space on a Swarm node, as the engines the stack installs (20.10 and later)
 * lay it out (docs/networking.md): the ranges every node holds whatever the configuration, and
 * the Swarm's default address pool, from which Swarm carves its `ingress` network and every
 * overlay created without a subnet. The validator keeps the VPC, the `spark` overlay and the pool
 * apart from each of them and from each other.
 */
import { ipv4FirstSubnet } from "./cidr";

interface ReservedRange {
  readonly cidr: string;
  /** What holds it, for a message, followed by the CIDR: "Docker's default bridge docker0". */
  readonly what: string;
}

/**
 * Ranges that are taken on every node whatever the stack's configuration. docker0 and
 * docker_gwbridge are the first two /16s of Docker's local default pools (172.17.0.0/16 and
 * 172.18.0.0/16, in that order: docker0 exists from the first start, docker_gwbridge from
 * `swarm init`/`join`).
 */
export const NODE_RESERVED_RANGES: readonly ReservedRange[] = [
  { cidr: "127.0.0.0/8", what: "the loopback range" },
  { cidr: "169.254.0.0/16", what: "the link-local range (EC2's metadata service and DNS)" },
  { cidr: "224.0.0.0/4", what: "the multicast range" },
  { cidr: "172.17.0.0/16", what: "Docker's default bridge docker0" },
  { cidr: "172.18.0.0/16", what: "Swarm's gateway bridge docker_gwbridge" },
];

/** The Swarm's default address pool, as `swarm init --default-addr-pool`/`--default-addr-pool-mask-length` take it. */
export interface SwarmAddressPool {
  readonly cidr: string;
  readonly maskLength: number;
}

/** Docker's own pool when `swarm init` is given none (SwarmKit's inbuiltDefaultAddressPool): it holds the book's 10.0.0.0/24. */
export const DOCKER_BUILTIN_ADDRESS_POOL: SwarmAddressPool = { cidr: "10.0.0.0/8", maskLength: 24 };

/** The subnet Swarm gives `ingress`: the pool's first block of the mask length (SwarmKit allocates it first). */
export function ingressSubnet(pool: SwarmAddressPool): string {
  return ipv4FirstSubnet(pool.cidr, pool.maskLength);
}

/** Private ranges (RFC 1918) where suggestions for a free network are looked for, the book's first. */
export const SUGGESTION_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
