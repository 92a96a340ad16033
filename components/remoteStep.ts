/**
 * One provisioning step on one node: a `remote.Command` that runs a script from `scripts/`.
 *
 * Every step of the stack goes through here so that they all behave the same way: parameters in
 * the command's environment assignments, secrets on stdin only, the script's digest in the command
 * (a changed script re-runs the step), no previous output sent back over SSH, a wall-clock bound
 * inside the command (`timeout`, which Pulumi's customTimeouts are not), and — for steps whose
 * output is secret — no logging and secret outputs.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { durationSeconds, scriptCommand } from "../lib/scripts";

/** Where a step runs: an SSH connection and the resource that put the scripts there. */
export interface StepTarget {
  /** Node name, for messages. */
  readonly nodeName: string;
  readonly sshUser: string;
  readonly connection: command.types.input.remote.ConnectionArgs;
  /** The copy of `scripts/` on that node; every step waits for it. */
  readonly scripts: pulumi.Resource;
  /**
   * The node's instance id. A changed connection alone only re-runs a step in place (and
   * CopyToRemote would not even re-copy); a replaced instance must replace its steps, so that their
   * delete runs against the old node and their create against the new one.
   */
  readonly instanceId: pulumi.Input<string>;
}

export interface ScriptStepArgs {
  readonly target: StepTarget;
  readonly script: string;
  /** First argument of the create command. */
  readonly action?: string;
  /** Parameters; Outputs must not be secret (the command line is printed when a step fails). */
  readonly env?: Readonly<Record<string, pulumi.Input<string | number | boolean>>>;
  /** Secret input for the script; wrapped as a Pulumi secret. */
  readonly stdin?: pulumi.Input<string>;
  /** Action for the delete command (same script, same environment). No delete when absent. */
  readonly deleteAction?: string;
  /** The step prints a secret: no logging, stdout and stderr secret. @default false */
  readonly secretOutput?: boolean;
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Further replacement triggers, e.g. the instance id of the node a manager acts upon. */
  readonly triggers?: pulumi.Input<string>[];
  /**
   * Whose life the step follows. "node": the target's instance id is a replacement trigger, so a
   * replaced node re-runs the step's delete and create. "cluster": the target is only where the
   * step runs (a dataset, another node's membership); a replaced target re-runs the create in place
   * (a changed connection is an update) and never the delete. The first trigger is ignored
   * (`ignoreChanges: triggers[0]`), so a step created with "node" (the target's id there) switches
   * to "cluster" without being replaced; a cluster step holds a fixed mark there instead of the id
   * (CLUSTER_LIFECYCLE_MARK). @default "node"
   */
  readonly lifecycle?: "node" | "cluster";
  /**
   * Run the old delete before the new create on replacement, for steps whose delete would undo
   * what the new create just did (e.g. leaving the swarm after re-joining it). @default false
   */
  readonly deleteBeforeReplace?: boolean;
  /** Bound of the create (and update) run, inside the command as well as in customTimeouts. @default "20m" */
  readonly createTimeout?: string;
}

/** Wall-clock bound of a step's run unless it says otherwise (and of every delete). */
const DEFAULT_STEP_TIMEOUT = "20m";

/** Where the target's instance id sits among a step's triggers. */
const TARGET_INSTANCE_TRIGGER = "triggers[0]";

/**
 * A cluster step's first trigger. Never the target's instance id, although that slot is ignored:
 * instances are deleteBeforeReplace, and before deleting one the engine replaces every resource
 * whose triggers depend on it — it marks the whole `triggers` input unknown, and `ignoreChanges`
 * paths inside it are not applied there (Pulumi's calculateDependentReplacements; the command
 * provider honours only top-level names). A dataset step holding its node's id would be deleted
 * with that node.
 */
const CLUSTER_LIFECYCLE_MARK = "lifecycle: cluster";

export function scriptStep(name: string, args: ScriptStepArgs, parent: pulumi.Resource): command.remote.Command {
  const env = pulumi.output(args.env ?? {});
  const createTimeout = args.createTimeout ?? DEFAULT_STEP_TIMEOUT;
  const commandLine = (action: string | undefined, timeout: string) =>
    env.apply((values) =>
      scriptCommand({
        user: args.target.sshUser,
        script: args.script,
        env: values,
        action,
        timeoutSeconds: durationSeconds(timeout),
      }),
    );
  return new command.remote.Command(
    name,
    {
      connection: args.target.connection,
      create: commandLine(args.action, createTimeout),
      delete: args.deleteAction ? commandLine(args.deleteAction, DEFAULT_STEP_TIMEOUT) : undefined,
      stdin: args.stdin === undefined ? undefined : pulumi.secret(args.stdin),
      triggers: [args.lifecycle === "cluster" ? CLUSTER_LIFECYCLE_MARK : args.target.instanceId, ...(args.triggers ?? [])],
      addPreviousOutputInEnv: false,
      logging: args.secretOutput ? "none" : undefined,
    },
    {
      parent,
      dependsOn: [args.target.scripts, ...(args.dependsOn ?? [])],
      deleteBeforeReplace: args.deleteBeforeReplace,
      ignoreChanges: args.lifecycle === "cluster" ? [TARGET_INSTANCE_TRIGGER] : undefined,
      additionalSecretOutputs: args.secretOutput ? ["stdout", "stderr"] : undefined,
      // These only bound the SSH dial; the `timeout` in the command line bounds the run itself.
      customTimeouts: { create: createTimeout, update: createTimeout, delete: DEFAULT_STEP_TIMEOUT },
    },
  );
}
