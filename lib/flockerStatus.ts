/**
 * The stack output flockerStatus: what `flockerctl status` and `flockerctl list` showed in the
 * book, as scripts/flocker-status.sh prints it on the control node at bring-up.
 */

/** A node whose dataset agent the control service knew. */
export interface FlockerStatusNode {
  readonly uuid: string;
  /** The private address the node's dataset agent connects from. */
  readonly address: string;
}

export interface FlockerStatusDataset {
  readonly datasetId: string;
  /** The Docker volume name (dataset metadata `name`), when the plugin made it. */
  readonly name: string | null;
  readonly sizeGiB: number | null;
  readonly profile: string | null;
  /** attached: mounted on the node at `address`; detached: on no node; pending: not there yet. */
  readonly status: "attached" | "detached" | "pending";
  readonly address: string | null;
}

export interface FlockerStatus {
  readonly nodes: readonly FlockerStatusNode[];
  readonly datasets: readonly FlockerStatusDataset[];
}

/** Parses the script's stdout; a document of another shape is an error, not a silent `{}`. */
export function parseFlockerStatus(stdout: string): FlockerStatus {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error(`flocker-status.sh printed no JSON document: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const status = value as Partial<FlockerStatus> | null;
  if (status === null || typeof status !== "object" || !Array.isArray(status.nodes) || !Array.isArray(status.datasets)) {
    throw new Error(
      `flocker-status.sh printed JSON without "nodes" and "datasets" lists: ${JSON.stringify(stdout.slice(0, 200))}`,
    );
  }
  return { nodes: status.nodes, datasets: status.datasets };
}
