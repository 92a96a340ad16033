import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { SWARM_MANAGEMENT_PORT } from "../lib/ports";
import { SPARK_MASTER_LABEL } from "../lib/topology";
import { NodeHost } from "./nodeHost";
import { scriptStep } from "./remoteStep";


export interface SwarmArgs {
  /** The manager that runs `docker swarm init`. */
  readonly initialManager: NodeHost;
  /** Further managers, joined one after the other in this order. */
  readonly joiningManagers: readonly NodeHost[];
  /** Workers, joined in parallel. */
  readonly workers: readonly NodeHost[];
  /** The worker labelled `type=sparkmaster`. */
  readonly sparkMasterHost: NodeHost;
}

/**
 * The Swarm: `swarm init` on the first manager with its private address, the join tokens read
 * as secrets, the other managers joining one at a time (so the Raft group grows by one member at
 * a time), the workers joining in parallel, and the Spark master's node labelled.
 *
 * Every joined node has a membership step on the first manager: its create waits until the node
 * is Ready, and its delete drains the node, demotes it if it is a manager and removes it from the
 * swarm — before the node's own delete leaves the swarm and before its instance goes.
 */
export class Swarm extends pulumi.ComponentResource {
  /** Secret. */
  public readonly workerJoinToken: pulumi.Output<string>;
  /** Secret. */
  public readonly managerJoinToken: pulumi.Output<string>;
  /** Every joined node is Ready, per node name (the first manager: its init). */
  public readonly membersReady: Readonly<Record<string, command.remote.Command>>;
  public readonly sparkMasterLabel: command.remote.Command;
  /** `docker swarm init` has run on the first manager. */
  public readonly initialized: command.remote.Command;
  public readonly managerAddresses: readonly string[];

  constructor(name: string, args: SwarmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:swarm:Swarm", name, {}, opts);
    const first = args.initialManager;
    const managerAddress = `${first.node.privateIp}:${SWARM_MANAGEMENT_PORT}`;

    const init = scriptStep(
      `${name}-init`,
      {
        target: first.target,
        script: "swarm-init.sh",
        action: "create",
        env: { ADVERTISE_ADDR: first.node.privateIp },
        deleteAction: "delete",
        deleteBeforeReplace: true,
        dependsOn: [first.dockerReady],
      },
      this,
    );
    this.initialized = init;
    const token = (role: "worker" | "manager") =>
      scriptStep(
        `${name}-token-${role}`,
        {
          target: first.target,
          script: "swarm-token.sh",
          env: { SWARM_ROLE: role },
          secretOutput: true,
          dependsOn: [init],
        },
        this,
      );
    const workerToken = token("worker");
    const managerToken = token("manager");
    this.workerJoinToken = pulumi.secret(workerToken.stdout);
    this.managerJoinToken = pulumi.secret(managerToken.stdout);

    const membersReady: Record<string, command.remote.Command> = { [first.node.name]: init };
    const join = (host: NodeHost, role: "worker" | "manager", after: pulumi.Resource[]) => {
      const joined = scriptStep(
        `${name}-join-${host.node.name}`,
        {
          target: host.target,
          script: "swarm-join.sh",
          action: "create",
          env: { SWARM_ROLE: role, MANAGER_ADDR: managerAddress, ADVERTISE_ADDR: host.node.privateIp },
          stdin: role === "manager" ? this.managerJoinToken : this.workerJoinToken,
          deleteAction: "delete",
          deleteBeforeReplace: true,
          dependsOn: [host.dockerReady, role === "manager" ? managerToken : workerToken, ...after],
        },
        this,
      );
      membersReady[host.node.name] = scriptStep(
        `${name}-member-${host.node.name}`,
        {
          target: first.target,
          script: "swarm-member.sh",
          action: "ready",
          env: { NODE_NAME: host.node.name },
          deleteAction: "remove",
          deleteBeforeReplace: true,
          triggers: [host.target.instanceId],
          dependsOn: [joined],
        },
        this,
      );
      return joined;
    };

    let previousManager: pulumi.Resource[] = [];
    for (const host of args.joiningManagers) {
      previousManager = [join(host, "manager", previousManager)];
    }
    for (const host of args.workers) join(host, "worker", []);
    this.membersReady = membersReady;

    const sparkNode = args.sparkMasterHost;
    this.sparkMasterLabel = scriptStep(
      `${name}-label-${sparkNode.node.name}`,
      {
        target: first.target,
        script: "swarm-label.sh",
        action: "add",
        env: { NODE_NAME: sparkNode.node.name, LABEL_KEY: SPARK_MASTER_LABEL.key, LABEL_VALUE: SPARK_MASTER_LABEL.value },
        deleteAction: "remove",
        triggers: [sparkNode.target.instanceId],
        dependsOn: [membersReady[sparkNode.node.name]],
      },
      this,
    );
    this.managerAddresses = [first, ...args.joiningManagers].map((h) => `${h.node.privateIp}:${SWARM_MANAGEMENT_PORT}`);

    this.registerOutputs({
      workerJoinToken: this.workerJoinToken,
      managerJoinToken: this.managerJoinToken,
      managerAddresses: this.managerAddresses,
    });
  }
}
