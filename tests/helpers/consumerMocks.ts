/**
 * Runs examples/consumer/index.ts under Pulumi's mocks with a mocked cluster stack behind its
 * StackReference. tools/plan/mockRuntime.ts does not answer StackReference, so this sets its own mocks,
 * on the @pulumi/pulumi copy the example itself resolves (the root's, unless someone installed the
 * example's own dependencies).
 */
import * as path from "path";
import type { StackOutputValues } from "../../lib/stackOutputs";

export const CONSUMER_DIR = path.join(__dirname, "..", "..", "examples", "consumer");
const CONSUMER_PROJECT = "swarm-flocker-consumer";

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export interface ConsumerRun {
  readonly resources: readonly RegisteredResource[];
  readonly outputs: Record<string, unknown>;
  readonly secretOutputs: ReadonlySet<string>;
}

export interface MockClusterStack {
  readonly outputs: StackOutputValues;
  readonly secretOutputNames: readonly string[];
}

/** Evaluates the consumer program once (call it inside jest.isolateModulesAsync for a fresh runtime). */
export async function runConsumer(cluster: MockClusterStack, config: Record<string, string> = {}): Promise<ConsumerRun> {
  const pulumi = require(require.resolve("@pulumi/pulumi", { paths: [CONSUMER_DIR] })) as typeof import("@pulumi/pulumi");
  const resources: RegisteredResource[] = [];
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${CONSUMER_PROJECT}:${k}`, v])));
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        if (args.type === "pulumi:pulumi:StackReference") {
          return {
            id: String(args.inputs.name),
            state: { ...args.inputs, outputs: cluster.outputs, secretOutputNames: [...cluster.secretOutputNames] },
          };
        }
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => {
        throw new Error(`the consumer should invoke nothing, got ${args.token}`);
      },
    },
    CONSUMER_PROJECT,
    "dev",
    false,
  );

  const exported = require(path.join(CONSUMER_DIR, "index.ts")) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  for (const [key, value] of Object.entries(exported)) {
    const out = pulumi.output(value) as import("@pulumi/pulumi").Output<unknown>;
    const [resolved, secret] = await Promise.all([
      new Promise<unknown>((resolve) => out.apply((v: unknown) => resolve(v))),
      (out as unknown as { isSecret: Promise<boolean> }).isSecret,
    ]);
    outputs[key] = resolved;
    if (secret) secretOutputs.add(key);
  }
  return { resources, outputs, secretOutputs };
}
