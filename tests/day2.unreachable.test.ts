/**
 * Deletes that finish: replacing or removing a node never needs SSH to it, so a node that is gone
 * or unreachable cannot block `pulumi up` (docs/operations.md, "Replace a node"); a destroy needs
 * only the first manager and the Spark master's node ("Teardown, and deletes that finish"). On both
 * platforms: the current one's Spark data step releases its volume on destroy only (docs/storage.md).
 *
 * The plans are the engine's rules applied to the recorded program — its resources, their inputs,
 * triggers, ignoreChanges, replaceOnChanges and dependency edges —, not lists of names:
 * - A replaced instance is deleteBeforeReplace (its private address is fixed). Before deleting it
 *   the engine deletes every dependent that a change of it would replace: it marks each input that
 *   depends on a resource being replaced unknown — the whole input, `triggers` included — and asks
 *   the provider, which replaces on a changed replace-on-change input unless `ignoreChanges` names
 *   that input itself (paths such as `triggers[0]` are not applied there: Pulumi's
 *   calculateDependentReplacements, and the command provider's diff reads top-level names only).
 * - Then each resource is diffed as usual: a replace-on-change input that holds the old instance
 *   id at a position `ignoreChanges` does not name is replaced; any other change is an update.
 * A replaced resource's delete runs with its old inputs: over SSH to its old connection host.
 */
import type { ProgramRun, RecordedResource } from "../tools/plan/mockRuntime";
import { runIsolated } from "./helpers/isolatedRun";
import { ofType, TYPES } from "./helpers/program";

interface NodeOutput {
  readonly role: string;
  readonly swarmRole?: string;
  readonly publicIp: string;
  readonly privateIp: string;
}

let dev: ProgramRun;
let prod: ProgramRun;
/** The current platform (Pulumi.current.yaml): no Flocker, the Spark data on the stack's own volume. */
let current: ProgramRun;
let nineNodes: ProgramRun;

beforeAll(async () => {
  dev = await runIsolated("dev");
  prod = await runIsolated("prod");
  current = await runIsolated("current");
  nineNodes = await runIsolated("dev", { nodeCount: "9" });
});

const stacks = () => ({ dev, prod, current });
const STACKS = ["dev", "prod", "current"] as const;

function nodesOf(run: ProgramRun): Record<string, NodeOutput> {
  return run.outputs.nodes as Record<string, NodeOutput>;
}

/** The node a host address belongs to (public address, as the steps' connections use). */
function nodeAt(run: ProgramRun, host: string): string {
  const found = Object.entries(nodesOf(run)).find(([, node]) => node.publicIp === host);
  if (found === undefined) throw new Error(`no node has the address ${host}`);
  return found[0];
}

function hostOf(resource: RecordedResource): string | undefined {
  const host = (resource.inputs.connection as { host?: unknown } | undefined)?.host;
  return typeof host === "string" ? host : undefined;
}

/** "flocker-volume.sh delete" from a delete command line. */
function scriptAndAction(commandLine: string): string {
  const match = /([\w-]+\.sh) ([\w-]+)$/.exec(commandLine);
  if (!match) throw new Error(`not a script step: ${commandLine}`);
  return `${match[1]} ${match[2]}`;
}

/** Resources that run a command over SSH when they are deleted: "name: script action". */
function sshDeletes(resources: readonly RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => typeof r.inputs.delete === "string" && r.inputs.delete !== "");
}

const describeDelete = (r: RecordedResource) => `${r.name}: ${scriptAndAction(String(r.inputs.delete))}`;

function instanceOf(run: ProgramRun, node: string): RecordedResource {
  const matches = ofType(run, TYPES.instance).filter((i) => i.inputs.privateIp === nodesOf(run)[node].privateIp);
  if (matches.length !== 1) throw new Error(`expected one instance for ${node}, found ${matches.length}`);
  return matches[0];
}

const COMMAND_TYPES: readonly string[] = [TYPES.command, TYPES.copy];

/**
 * The top-level inputs a resource is replaced on when they change: a command's replaceOnChanges
 * (`triggers[*]`, registered by its SDK); for any other type every input, since its provider's
 * replace-on-change inputs are not in the program (an over-estimate only makes the plan bigger).
 */
function replaceOnChangeInputs(resource: RecordedResource): Set<string> {
  if (!COMMAND_TYPES.includes(resource.type)) return new Set(Object.keys(resource.inputs));
  return new Set(resource.options.replaceOnChanges.map((path) => path.replace(/[[.].*$/, "")));
}

/** The id an instance gives its dependents: the one value every trigger depending on it alone holds. */
function instanceIdOf(run: ProgramRun, instance: RecordedResource): string {
  let common: Set<unknown> | undefined;
  for (const resource of run.resources) {
    const deps = resource.propertyDependencies?.triggers ?? [];
    if (deps.length !== 1 || deps[0] !== instance.urn) continue;
    const values = new Set(resource.inputs.triggers as unknown[]);
    common = common === undefined ? values : new Set([...common].filter((v) => values.has(v)));
  }
  const ids = [...(common ?? [])];
  if (ids.length !== 1 || typeof ids[0] !== "string") throw new Error(`cannot tell the id of ${instance.name}: ${ids}`);
  return ids[0];
}

/** True when `resource` depends on `root` through any chain of dependency edges. */
function dependsOn(run: ProgramRun, resource: RecordedResource, root: string): boolean {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [...resource.dependencies, ...Object.values(resource.propertyDependencies ?? {}).flat()];
  while (stack.length > 0) {
    const urn = stack.pop()!;
    if (urn === root) return true;
    if (seen.has(urn)) continue;
    seen.add(urn);
    const next = byUrn.get(urn);
    if (next) stack.push(...next.dependencies, ...Object.values(next.propertyDependencies ?? {}).flat());
  }
  return false;
}

/** Replaced as a dependent of a delete-before-replace resource: an unknown replace-on-change input. */
function replacedAsDependent(resource: RecordedResource, replaced: ReadonlySet<string>): boolean {
  const ignored = new Set(resource.options.ignoreChanges);
  return [...replaceOnChangeInputs(resource)].some(
    (input) => !ignored.has(input) && (resource.propertyDependencies?.[input] ?? []).some((urn) => replaced.has(urn)),
  );
}

/**
 * Replaced by the ordinary diff: the old instance id in a replace-on-change input, where
 * ignoreChanges does not reach (another type: any input that comes from the instance).
 */
function replacedByDiff(resource: RecordedResource, instance: RecordedResource, instanceId: string): boolean {
  const ignored = new Set(resource.options.ignoreChanges);
  return [...replaceOnChangeInputs(resource)].some((input) => {
    if (ignored.has(input)) return false;
    if (!COMMAND_TYPES.includes(resource.type)) return (resource.propertyDependencies?.[input] ?? []).includes(instance.urn);
    const value = resource.inputs[input];
    if (!Array.isArray(value)) return value === instanceId;
    return value.some((v, i) => v === instanceId && !ignored.has(`${input}[${i}]`));
  });
}

/** What `pulumi up` replaces when the instance of `node` is replaced, in registration order. */
function replacedWith(run: ProgramRun, node: string, resources: readonly RecordedResource[] = run.resources): RecordedResource[] {
  const instance = instanceOf(run, node);
  const instanceId = instanceIdOf(run, instance);
  const replaced = new Set([instance.urn]);
  const customs = resources.filter((r) => r.custom);
  for (let grew = true; grew;) {
    grew = false;
    const roots = customs.filter((r) => replaced.has(r.urn) && r.options.deleteBeforeReplace);
    for (const resource of customs) {
      if (replaced.has(resource.urn)) continue;
      const asDependent = replacedAsDependent(resource, replaced) && roots.some((root) => dependsOn(run, resource, root.urn));
      if (asDependent || replacedByDiff(resource, instance, instanceId)) {
        replaced.add(resource.urn);
        grew = true;
      }
    }
  }
  return customs.filter((r) => replaced.has(r.urn));
}

/** The swarm's first manager (it runs the cluster-wide commands): the first of the manager addresses. */
function firstManagerOf(run: ProgramRun): string {
  const [address] = run.outputs.managerAddresses as string[];
  const found = Object.entries(nodesOf(run)).find(([, node]) => address.startsWith(`${node.privateIp}:`));
  if (found === undefined) throw new Error(`no node has the address ${address}`);
  return found[0];
}

/** The Spark master's node: the host of the master URL (its private address). */
function sparkMasterNodeOf(run: ProgramRun): string {
  const host = new URL(String(run.outputs.sparkMasterUrl)).hostname;
  const found = Object.entries(nodesOf(run)).find(([, node]) => node.privateIp === host);
  if (found === undefined) throw new Error(`no node has the private address ${host}`);
  return found[0];
}

// ------------------------------------------------------------------------------------ the model

describe("the replacement model sees what the engine does", () => {
  test("instances are deleteBeforeReplace; the steps that take their inputs from them are replaced on their triggers only", () => {
    for (const run of Object.values(stacks())) {
      const instances = ofType(run, TYPES.instance);
      expect(instances.length).toBe(Object.keys(nodesOf(run)).length);
      for (const instance of instances) expect(instance.options.deleteBeforeReplace).toBe(true);
      const urns = new Set(instances.map((i) => i.urn));
      const steps = run.resources.filter(
        (r) =>
          COMMAND_TYPES.includes(r.type) &&
          Object.values(r.propertyDependencies ?? {}).some((deps) => deps.some((urn) => urns.has(urn))),
      );
      expect(steps.length).toBeGreaterThan(instances.length);
      for (const step of steps) {
        expect(step.options.replaceOnChanges).toEqual(["triggers[*]"]);
        // Triggers carry instance ids and nothing else computed: the diff reads them by value.
        for (const urn of step.propertyDependencies?.triggers ?? []) expect(urns.has(urn)).toBe(true);
      }
      // What runs a command over SSH on delete is a command step, whose inputs the model reads.
      for (const resource of sshDeletes(run.resources)) expect(resource.type).toBe(TYPES.command);
    }
  });

  test("a step whose triggers depended on its node's instance would be deleted with it, ignoreChanges or not", () => {
    // The dataset step, as it would be if its ignored first trigger were its node's instance id.
    const node = sparkMasterNodeOf(dev);
    const instance = instanceOf(dev, node);
    const volume = sshDeletes(dev.resources).find(
      (r) => r.inputs.delete && /flocker-volume\.sh delete$/.test(String(r.inputs.delete)),
    )!;
    expect(volume.options.ignoreChanges).toEqual(["triggers[0]"]);
    const withInstanceTrigger: RecordedResource = {
      ...volume,
      inputs: { ...volume.inputs, triggers: [instanceIdOf(dev, instance)] },
      propertyDependencies: { ...volume.propertyDependencies, triggers: [instance.urn] },
    };
    const resources = dev.resources.map((r) => (r === volume ? withInstanceTrigger : r));
    expect(replacedWith(dev, node, resources).map((r) => r.name)).toContain(volume.name);
    // As the program registers it, the dataset step is not replaced (its create only re-runs there).
    expect(replacedWith(dev, node).map((r) => r.name)).not.toContain(volume.name);
  });
});

// ------------------------------------------------------------------------------------ replacing

describe("replacing a node never needs SSH to it", () => {
  test.each(STACKS)("%s: for every node, no replaced step has a delete that runs on that node", (stack) => {
    const run = stacks()[stack];
    const onTheNode: Record<string, string[]> = {};
    for (const [node, { publicIp }] of Object.entries(nodesOf(run))) {
      const deletes = sshDeletes(replacedWith(run, node)).filter((r) => hostOf(r) === publicIp);
      if (deletes.length > 0) onTheNode[node] = deletes.map(describeDelete);
    }
    expect(onTheNode).toEqual({});
  });

  test.each(STACKS)("%s: a replaced swarm member's entry is still removed, by the first manager", (stack) => {
    const run = stacks()[stack];
    const first = firstManagerOf(run);
    const firstHost = nodesOf(run)[first].publicIp;
    for (const [node, output] of Object.entries(nodesOf(run))) {
      const deletes = sshDeletes(replacedWith(run, node));
      const removals = deletes.filter((r) => /swarm-member\.sh remove$/.test(String(r.inputs.delete)));
      if (node === first || output.swarmRole === undefined) {
        // The first manager's successor removes its old entry; the control node is not in the swarm.
        expect(removals).toEqual([]);
      } else {
        expect(removals.map((r) => nodeAt(run, hostOf(r)!))).toEqual([first]);
        expect(removals.map(hostOf)).toEqual([firstHost]);
      }
    }
  });

  test("dev: replacing the first manager deletes nothing at all (nobody leaves, nobody is removed)", () => {
    expect(sshDeletes(replacedWith(dev, firstManagerOf(dev))).map(describeDelete)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------ scaling

describe("scaling down never needs SSH to the node that goes", () => {
  test("10 -> 9 nodes: the deletes of the removed resources run on the first manager only, never on the removed node", () => {
    const kept = new Set(nineNodes.resources.map((r) => r.urn));
    const removedNodes = Object.keys(nodesOf(dev)).filter((node) => !(node in nodesOf(nineNodes)));
    expect(removedNodes).toHaveLength(1);
    const [gone] = removedNodes;
    const removed = dev.resources.filter((r) => !kept.has(r.urn));
    expect(removed.length).toBeGreaterThan(0);
    const deletes = sshDeletes(removed);
    expect(deletes.filter((r) => hostOf(r) === nodesOf(dev)[gone].publicIp).map(describeDelete)).toEqual([]);
    expect(new Set(deletes.map((r) => nodeAt(dev, hostOf(r)!)))).toEqual(new Set([firstManagerOf(dev)]));
    expect(deletes.map((r) => scriptAndAction(String(r.inputs.delete)))).toEqual(["swarm-member.sh remove"]);
  });
});

// ------------------------------------------------------------------------------------ destroy

describe("pulumi destroy needs only the first manager and the Spark master's node", () => {
  test.each(STACKS)("%s: the deletes, by the node they run on", (stack) => {
    const run = stacks()[stack];
    const byNode: Record<string, string[]> = {};
    for (const resource of sshDeletes(run.resources)) {
      const host = hostOf(resource);
      if (host === undefined) throw new Error(`${resource.name} has a delete but no connection host`);
      (byNode[nodeAt(run, host)] ??= []).push(describeDelete(resource));
    }
    const first = firstManagerOf(run);
    const sparkNode = sparkMasterNodeOf(run);
    expect(Object.keys(byNode).sort()).toEqual([first, sparkNode].sort());
    const members = Object.entries(nodesOf(run))
      .filter(([node, output]) => node !== first && output.swarmRole !== undefined)
      .map(([node]) => `swarm-member-${node}: swarm-member.sh remove`);
    expect(byNode[first].sort()).toEqual(
      [
        ...members,
        `swarm-label-${sparkNode}: swarm-label.sh remove`,
        "spark-network: spark-network.sh delete",
        "spark-master: swarm-service.sh delete",
        "spark-worker: swarm-service.sh delete",
      ].sort(),
    );
    // The dataset's delete: Flocker's (book), or the release of the stack's own volume (current).
    const dataset = stack === "current" ? "spark-data-mount: spark-data.sh release" : "spark-volume: flocker-volume.sh delete";
    expect(byNode[sparkNode]).toEqual([dataset]);
  });
});
