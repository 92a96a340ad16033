/**
 * Configuration changes that would silently re-shape a deployed cluster. Roles follow from
 * positions (lib/topology.ts): raising managerCount moves the control and Spark-master roles to
 * other nodes (and redirects the control-state attachment while the volume is still on the old
 * node), and a rename (nodeNamePrefix, firstNodeNumber) replaces every node. The deployed shape is
 * the stack's own `nodes` output, node name → role; adding or removing plain workers is no move.
 */
import type { NodeSpec } from "./topology";

/** What the deployed stack's `nodes` output says of each node (lib/stackOutputs.ts). */
export type DeployedNodes = Readonly<Record<string, { readonly role: string }>>;

export interface RoleMove {
  readonly node: string;
  /** "absent": the node is not in that side's cluster. */
  readonly before: string;
  readonly after: string;
}

const ABSENT = "absent";

/** Every node whose role would change, workers that are only added or removed left out. */
export function roleMoves(deployed: DeployedNodes, planned: readonly NodeSpec[]): RoleMove[] {
  const after = new Map(planned.map((n) => [n.name, n.role as string]));
  const names = [...new Set([...Object.keys(deployed), ...planned.map((n) => n.name)])];
  return names
    .map((node) => ({ node, before: deployed[node]?.role ?? ABSENT, after: after.get(node) ?? ABSENT }))
    .filter(({ before, after: now }) => before !== now)
    .filter(({ before, after: now }) => !(before === "worker" && now === ABSENT) && !(before === ABSENT && now === "worker"));
}

/** The settings a move comes from, as far as the two shapes tell. */
function causes(deployed: DeployedNodes, config: ReshapeConfig, plannedNodes: readonly NodeSpec[]): string[] {
  const found: string[] = [];
  // Only a book cluster has a Flocker control node: its presence on one side only is a platform switch.
  const deployedBook = Object.values(deployed).some((n) => n.role === "control");
  const plannedBook = plannedNodes.some((n) => n.role === "control");
  if (deployedBook !== plannedBook) {
    const [from, to] = deployedBook ? ["book", "current"] : ["current", "book"];
    found.push(
      `platform ${from} → ${to} (the deployed stack is a ${from} cluster; a platform is chosen when a stack is created, docs/platforms.md)`,
    );
  }
  const deployedManagers = Object.values(deployed).filter((n) => n.role === "manager").length;
  if (deployedManagers !== config.managerCount) {
    found.push(`managerCount ${deployedManagers} → ${config.managerCount} (the deployed stack has ${deployedManagers} managers)`);
  }
  const planned = new Set(config.plannedNames);
  if (!Object.keys(deployed).some((name) => planned.has(name))) {
    found.push(
      `nodeNamePrefix/firstNodeNumber: no deployed node keeps its name (${Object.keys(deployed).join(", ")} → ${config.plannedNames.join(", ")})`,
    );
  }
  if (found.length === 0) found.push(`nodeCount ${config.nodeCount}`);
  return found;
}

export interface ReshapeConfig {
  readonly stack: string;
  readonly managerCount: number;
  readonly nodeCount: number;
  readonly plannedNames: readonly string[];
}

/** The refusal for a deployed stack whose roles would move; undefined when none would (or nothing is deployed). */
export function reshapeRefusal(
  deployed: DeployedNodes | undefined,
  planned: readonly NodeSpec[],
  config: Omit<ReshapeConfig, "plannedNames">,
): string | undefined {
  if (deployed === undefined || Object.keys(deployed).length === 0) return undefined;
  const moves = roleMoves(deployed, planned);
  if (moves.length === 0) return undefined;
  const full = { ...config, plannedNames: planned.map((n) => n.name) };
  return [
    `stack ${config.stack} is deployed, and this configuration would move roles between its nodes: ${causes(deployed, full, planned).join("; ")}.`,
    `Nodes that would change: ${moves.map((m) => `${m.node} ${m.before} → ${m.after}`).join(", ")}.`,
    "Roles follow from positions, so the Flocker control service, its state volume and the Spark master would be moved under a running cluster.",
    `Set the keys back to the deployed shape (adding workers with a higher nodeCount is fine), or build the new shape as a new stack and move the data with npm run restore; docs/operations.md, "Changing a deployed cluster's shape".`,
  ].join("\n");
}
