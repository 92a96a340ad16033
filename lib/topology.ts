/**
 * Which node does what, and at which address: the book's layout derived from two counts.
 *
 * Nodes are numbered from `firstNodeNumber` (aws-101 …). The first `managerCount` are Swarm
 * managers (the first of them runs `swarm init`), the next one runs the Flocker control service
 * and stays out of the Swarm (the book's "dedicated" aws-104), the next one is the worker labelled
 * `type=sparkmaster` that runs the Spark master, and the rest are plain workers. The current
 * platform has no Flocker: the node after the managers is the Spark master's, and every node is in
 * the Swarm.
 */
import { ipv4HostAddress } from "./cidr";
import type { Platform } from "./platform";

export type NodeRole = "manager" | "control" | "sparkmaster" | "worker";
export type SwarmRole = "manager" | "worker";

export interface NodeSpec {
  /** Node name and hostname, e.g. aws-101. */
  readonly name: string;
  /** Position in the cluster, 0-based. */
  readonly index: number;
  readonly role: NodeRole;
  /** The node's Swarm role; undefined for the control node, which is not in the Swarm. */
  readonly swarmRole?: SwarmRole;
  /** True for the one manager that runs `docker swarm init`. */
  readonly initialManager: boolean;
  /** Static private address: Swarm managers must keep their advertise address. */
  readonly privateIp: string;
}

export interface TopologyInput {
  readonly nodeCount: number;
  readonly managerCount: number;
  readonly nodeNamePrefix: string;
  readonly firstNodeNumber: number;
  readonly subnetCidr: string;
  readonly nodeIpOffset: number;
  /** @default book */
  readonly platform?: Platform;
}

export const SPARK_MASTER_LABEL = { key: "type", value: "sparkmaster" } as const;

function roleOf(index: number, managerCount: number, withControl: boolean): NodeRole {
  if (index < managerCount) return "manager";
  if (withControl && index === managerCount) return "control";
  if (index === managerCount + (withControl ? 1 : 0)) return "sparkmaster";
  return "worker";
}

function swarmRoleOf(role: NodeRole): SwarmRole | undefined {
  switch (role) {
    case "manager":
      return "manager";
    case "sparkmaster":
    case "worker":
      return "worker";
    case "control":
      return undefined;
  }
}

export function planNodes(input: TopologyInput): NodeSpec[] {
  const withControl = input.platform !== "current";
  return Array.from({ length: input.nodeCount }, (_, index) => {
    const role = roleOf(index, input.managerCount, withControl);
    return {
      name: `${input.nodeNamePrefix}${input.firstNodeNumber + index}`,
      index,
      role,
      swarmRole: swarmRoleOf(role),
      initialManager: index === 0,
      privateIp: ipv4HostAddress(input.subnetCidr, input.nodeIpOffset + index),
    };
  });
}

/** The Topology's well-known members, looked up once. */
export interface Topology {
  readonly nodes: readonly NodeSpec[];
  readonly initialManager: NodeSpec;
  /** Managers after the first, in join order. */
  readonly joiningManagers: readonly NodeSpec[];
  /** The Flocker control node; undefined on the current platform, which has no Flocker. */
  readonly control?: NodeSpec;
  readonly sparkMaster: NodeSpec;
  /** Swarm workers, the Spark master's node included. */
  readonly workers: readonly NodeSpec[];
}

export function topology(input: TopologyInput): Topology {
  const nodes = planNodes(input);
  const find = (role: NodeRole) => {
    const node = nodes.find((n) => n.role === role);
    if (!node) throw new Error(`no ${role} node in a cluster of ${nodes.length}`);
    return node;
  };
  return {
    nodes,
    initialManager: nodes[0],
    joiningManagers: nodes.filter((n) => n.role === "manager" && !n.initialManager),
    ...(input.platform === "current" ? {} : { control: find("control") }),
    sparkMaster: find("sparkmaster"),
    workers: nodes.filter((n) => n.swarmRole === "worker"),
  };
}
