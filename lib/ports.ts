/**
 * The cluster's port matrix (docs/architecture.md, "Ports") as data: which security group admits what, from
 * where. Cluster-internal sources are always a security group, never a CIDR; admin access comes
 * from the configured admin CIDRs only, and only to ports that authenticate their clients (SSH
 * keys, the Flocker API's client certificates). Spark's ports take unauthenticated job submissions:
 * no CIDR reaches them, operators use an SSH tunnel (npm run ssh -- --tunnel).
 */

/** The four security groups: every node, Swarm managers, the Flocker control node, Swarm nodes. */
export type SecurityGroupRole = "node" | "manager" | "control" | "swarm";

export const SECURITY_GROUP_DESCRIPTIONS: Readonly<Record<SecurityGroupRole, string>> = {
  node: "Every cluster node: SSH from admins, Swarm gossip and overlay traffic between nodes, egress",
  manager: "Swarm managers: cluster management (Raft) from cluster nodes",
  control: "Flocker control service: agent protocol from nodes, REST API from nodes and admins",
  swarm: "Swarm nodes: Spark UI, master and REST ports from the cluster's own nodes only, never from a CIDR",
};

/** "-1" is every protocol, "50" is ESP (IPsec), which an encrypted overlay needs. */
export type IpProtocol = "tcp" | "udp" | "50" | "-1";

export type RuleSource =
  { readonly kind: "group"; readonly group: SecurityGroupRole } | { readonly kind: "cidr"; readonly cidr: string };

export interface RuleSpec {
  /** Stable logical name: part of the resource name, so it must not change for the same rule. */
  readonly name: string;
  readonly group: SecurityGroupRole;
  readonly direction: "ingress" | "egress";
  readonly protocol: IpProtocol;
  /** Absent for protocols without ports (ESP, all). */
  readonly port?: number;
  /** Ingress: where traffic comes from. Egress: where it may go. */
  readonly peer: RuleSource;
  readonly description: string;
}

export interface PortMatrixInput {
  readonly adminCidrs: readonly string[];
  readonly overlayEncrypted: boolean;
  /**
   * Open the Flocker control service's ports (book). False on the current platform: no Flocker, so
   * the control group keeps no rule (it stays, empty, for the outputs contract's shape). @default true
   */
  readonly flocker?: boolean;
}

/** Swarm managers' cluster management and Raft port. */
export const SWARM_MANAGEMENT_PORT = 2377;
/** Swarm gossip (node discovery), TCP and UDP. */
export const SWARM_GOSSIP_PORT = 7946;
/** Overlay networks' VXLAN data path. */
export const OVERLAY_VXLAN_PORT = 4789;
/** Flocker's REST API on the control node. */
export const FLOCKER_API_PORT = 4523;
/** Flocker's agent (AMP) port on the control node. */
export const FLOCKER_AGENT_PORT = 4524;

/**
 * Spark master's web UI, master (workers and drivers) and REST submission ports, published by the
 * routing mesh on every Swarm node. None of them authenticates a client (Spark's `spark.authenticate`
 * is off unless configured, and the stack does not configure it), so no security group admits them
 * from a CIDR.
 */
export const SPARK_UI_PORT = 8080;
export const SPARK_MASTER_PORT = 7077;
const SPARK_REST_PORT = 6066;

export const SPARK_PORTS = [
  { port: SPARK_UI_PORT, what: "Spark master web UI" },
  { port: SPARK_MASTER_PORT, what: "Spark master" },
  { port: SPARK_REST_PORT, what: "Spark REST submission" },
] as const;

/** A CIDR turned into a resource-name-safe token: 203.0.113.0/24 → 203-0-113-0-24. */
export function cidrToken(cidr: string): string {
  return cidr
    .toLowerCase()
    .replace(/[^0-9a-f]+/g, "-")
    .replace(/^-|-$/g, "");
}

export function portMatrix(input: PortMatrixInput): RuleSpec[] {
  const fromNodes: RuleSource = { kind: "group", group: "node" };
  const rules: RuleSpec[] = [];
  const internal = (group: SecurityGroupRole, protocol: IpProtocol, port: number | undefined, description: string) =>
    rules.push({
      name: `${group}-${protocol === "50" ? "esp" : `${port}-${protocol}`}-from-nodes`,
      group,
      direction: "ingress",
      protocol,
      port,
      peer: fromNodes,
      description,
    });
  const admin = (group: SecurityGroupRole, port: number, description: string) => {
    for (const cidr of input.adminCidrs) {
      rules.push({
        name: `${group}-${port}-tcp-from-${cidrToken(cidr)}`,
        group,
        direction: "ingress",
        protocol: "tcp",
        port,
        peer: { kind: "cidr", cidr },
        description: `${description} from admin ${cidr}`,
      });
    }
  };

  admin("node", 22, "SSH for provisioning");
  internal("node", "tcp", SWARM_GOSSIP_PORT, "Swarm gossip (node discovery), TCP");
  internal("node", "udp", SWARM_GOSSIP_PORT, "Swarm gossip (node discovery), UDP");
  internal("node", "udp", OVERLAY_VXLAN_PORT, "Swarm overlay network data path (VXLAN); never public");
  if (input.overlayEncrypted) internal("node", "50", undefined, "IPsec ESP of the encrypted overlay network");
  internal("manager", "tcp", SWARM_MANAGEMENT_PORT, "Swarm cluster management and Raft between managers");
  if (input.flocker !== false) {
    internal("control", "tcp", FLOCKER_API_PORT, "Flocker REST API (client certificates) from the Docker plugins");
    admin("control", FLOCKER_API_PORT, "Flocker REST API (client certificates)");
    internal("control", "tcp", FLOCKER_AGENT_PORT, "Flocker agent protocol (node certificates)");
  }
  // Cluster nodes may dial the master's published ports (sparkMasterUrl names its private address);
  // operators come through an SSH tunnel, which lands on the node itself.
  for (const { port, what } of SPARK_PORTS)
    internal("swarm", "tcp", port, `${what} (routing mesh), unauthenticated: cluster nodes only`);
  rules.push({
    name: "node-egress-all",
    group: "node",
    direction: "egress",
    protocol: "-1",
    peer: { kind: "cidr", cidr: "0.0.0.0/0" },
    description: "Outbound to anywhere: apt archives, image registries, the EC2 API for Flocker",
  });
  return rules;
}
