/**
 * What `pulumi up` does to the recorded resources when a node's instance is replaced (a new image,
 * key pair, failed host): the engine's rule for these resources. A `remote.Command` is replaced
 * when one of its `triggers` changes (the provider marks `triggers[*]` replace-on-change), except
 * triggers its `ignoreChanges` names; any other changed input (a new host address in its
 * connection) is an update, which re-runs the create. tests/day2.test.ts checks the plans under
 * mocks; the engine tier runs them on real nodes.
 */
import type { ProgramRun, RecordedResource } from "../../tools/plan/mockRuntime";
import { named } from "./program";

export interface ReplacementPlan {
  /** Replaced with the instance: delete on the old node, create on the new one. */
  readonly replaced: string[];
  /** Not replaced, but their connection points at the new node: the create re-runs there. */
  readonly rerun: string[];
  /** Replaced steps that have a delete: what runs against the old node (name → delete action). */
  readonly deletes: Record<string, string>;
  /** The deletes of the swarm's and Spark's steps (the node's own Flocker steps aside). */
  readonly clusterDeletes: Record<string, string>;
  /** Replaced resources that neither belong to the node nor run on it. */
  readonly elsewhere: string[];
}

/** The instance id a node's steps carry: the trigger of its copy of the scripts. */
export function instanceIdOf(run: ProgramRun, node: string): string {
  const copy = named(run, `nodes-${node}-scripts`);
  return String((copy.inputs.triggers as string[])[0]);
}

function ignoredTriggerIndexes(resource: RecordedResource): Set<number> {
  return new Set(
    resource.options.ignoreChanges
      .map((path) => /^triggers\[(\d+)\]$/.exec(path)?.[1])
      .filter((i) => i !== undefined)
      .map(Number),
  );
}

/** "swarm-join.sh delete" from a step's command line. */
export function scriptAndAction(commandLine: string): string {
  const match = /([\w-]+\.sh) ([\w-]+)$/.exec(commandLine);
  if (!match) throw new Error(`not a script step: ${commandLine}`);
  return `${match[1]} ${match[2]}`;
}

/** What `pulumi up` does when node's instance is replaced (a new image, key pair, failed host). */
export function replacementPlan(run: ProgramRun, node: string): ReplacementPlan {
  const id = instanceIdOf(run, node);
  const host = (run.outputs.nodes as Record<string, { publicIp: string }>)[node].publicIp;
  const replaced: string[] = [];
  const rerun: string[] = [];
  const elsewhere: string[] = [];
  const deletes: Record<string, string> = {};
  for (const resource of run.resources.filter((r) => r.custom)) {
    const triggers = (resource.inputs.triggers as string[] | undefined) ?? [];
    const ignored = ignoredTriggerIndexes(resource);
    if (resource.name === `nodes-${node}-instance` || triggers.some((t, i) => t === id && !ignored.has(i))) {
      replaced.push(resource.name);
      const runsThere = (resource.inputs.connection as { host?: string } | undefined)?.host === host;
      if (!resource.name.includes(node) && !runsThere) elsewhere.push(resource.name);
      const deleteCommand = resource.inputs.delete;
      if (typeof deleteCommand === "string") deletes[resource.name] = scriptAndAction(deleteCommand);
    } else if ((resource.inputs.connection as { host?: string } | undefined)?.host === host) {
      rerun.push(resource.name);
    }
  }
  const clusterDeletes = Object.fromEntries(Object.entries(deletes).filter(([name]) => /^(swarm|spark)-/.test(name)));
  return { replaced: replaced.sort(), rerun: rerun.sort(), deletes, clusterDeletes, elsewhere: elsewhere.sort() };
}
