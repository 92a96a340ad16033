/**
 * Refuses, before any resource is registered, a configuration that would move roles between the
 * nodes of the deployed stack (lib/reshape.ts). The deployed shape is read from the stack's own
 * previous outputs through a StackReference to itself — organization/project/stack, where a
 * self-managed backend's organization is "organization" —; a first deployment has no `nodes`
 * output and passes, and so does the offline plan (its mock runtime answers with no outputs
 * unless a test gives it some).
 */
import * as pulumi from "@pulumi/pulumi";
import { reshapeRefusal, type DeployedNodes } from "../lib/reshape";
import type { NodeSpec } from "../lib/topology";

/** The deployed stack's `nodes` output; undefined before the first deployment. */
async function deployedNodes(): Promise<DeployedNodes | undefined> {
  const self = new pulumi.StackReference("deployed-shape", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const { value, secretValue } = await self.getOutputDetails("nodes");
  const nodes = (value ?? secretValue) as DeployedNodes | undefined;
  return typeof nodes === "object" && nodes !== null ? nodes : undefined;
}

/** Throws a RunError naming the keys, the nodes that would move and what to do. */
export async function refuseReshape(
  planned: readonly NodeSpec[],
  config: { readonly stack: string; readonly managerCount: number; readonly nodeCount: number },
): Promise<void> {
  const refusal = reshapeRefusal(await deployedNodes(), planned, config);
  if (refusal !== undefined) throw new pulumi.RunError(refusal);
}
