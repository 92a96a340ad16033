import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { SwarmAddressPool } from "../lib/dockerAddresses";
import { swarmAddressPoolEnv } from "../lib/nodeParameters";
import { SWARM_MANAGEMENT_PORT } from "../lib/ports";
import { SPARK_MASTER_LABEL } from "../lib/topology";
import { NodeHost } from "./nodeHost";
import { scriptStep } from "./remoteStep";

export interface SwarmArgs {
  /** The manager that runs `docker swarm init` (or, once replaced, re-joins through the others). */
  readonly initialManager: NodeHost;
  /** Further managers, joined one after the other in this order. */
  readonly joiningManagers: readonly NodeHost[];
  /** Workers, joined in parallel. */
  readonly workers: readonly NodeHost[];
  /** The worker labelled `type=sparkmaster`. */
  readonly sparkMasterHost: NodeHost;
  /**
   * The default address pool `swarm init` is given (Swarm's ingress is its first block). It
   * applies only when the swarm is founded: on a live swarm with another pool, the init step fails
   * saying so rather than re-founding anything (docs/networking.md).
   */
  readonly addressPool: SwarmAddressPool;
  /**
   * What must be in place on the Spark master's node before it gets the sparkmaster label, which
   * lets the master's task start there: on the current platform, its `spark` Docker volume bound to
   * the dataset's EBS volume (components/sparkData.ts), without which Docker would give the task an
   * empty local one. @default []
   */
  readonly sparkMasterLabelAfter?: readonly pulumi.Resource[];
}

/**
 * The Swarm: `swarm init` on the first manager with its private address, the join tokens read
 * as secrets, the other managers joining one at a time (so the Raft group grows by one member at
 * a time), the workers joining in parallel, and the Spark master's node labelled.
 *
 * Replacing any node keeps the one swarm (docs/operations.md, "Replace a node"):
 * - Every other manager has a peer step, re-run whenever the first manager's instance changes: on
 *   that manager it prints (secret) its address, the manager join token and the swarm's id when it
 *   already is a manager, else nothing. The first manager's init reads those lines: none (the
 *   first bring-up) means `swarm init`; some mean the swarm lives on, so a replaced first manager
 *   joins it through a survivor instead of founding a second one.
 * - Every joined node has a membership step on the first manager that belongs to the member's
 *   life, not the manager's (`lifecycle: "cluster"`, the member's instance id as its trigger): its
 *   create waits until the node is Ready and removes the Down entry an earlier host of that name
 *   left; its delete — run only when the member goes — drains the node (not when it is Down:
 *   Swarm has already moved its tasks), demotes a manager (refused when the other managers would
 *   lose quorum) and removes it. Replacing the first manager only re-runs the creates on its
 *   successor: nobody is removed.
 * - No step's delete runs on the node it belongs to, so a node that is gone or unreachable never
 *   blocks its own replacement or removal: the init and the joins have no delete (the node is
 *   terminated right after; its entry goes through its membership step, or, for the first
 *   manager, through its successor's init, which demotes and removes the Down entry).
 */
export class Swarm extends pulumi.ComponentResource {
  /** Secret. */
  public readonly workerJoinToken: pulumi.Output<string>;
  /** Secret. */
  public readonly managerJoinToken: pulumi.Output<string>;
  /** Every joined node is Ready, per node name (the first manager: its init). */
  public readonly membersReady: Readonly<Record<string, command.remote.Command>>;
  public readonly sparkMasterLabel: command.remote.Command;
  /** `docker swarm init` (or the re-join) has run on the first manager. */
  public readonly initialized: command.remote.Command;
  public readonly managerAddresses: readonly string[];
  /** The manager where cluster-wide Docker commands run (init, tokens, memberships, services). */
  public readonly firstManager: NodeHost;
  /** Every node of the Swarm, the first manager first. */
  public readonly members: readonly NodeHost[];
  /** The worker labelled for the Spark master. */
  public readonly sparkMasterHost: NodeHost;

  constructor(name: string, args: SwarmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:swarm:Swarm", name, {}, opts);
    const first = args.initialManager;
    this.firstManager = first;
    this.members = [first, ...args.joiningManagers, ...args.workers];
    this.sparkMasterHost = args.sparkMasterHost;
    const managerAddress = `${first.node.privateIp}:${SWARM_MANAGEMENT_PORT}`;

    const peers = args.joiningManagers.map((host) =>
      scriptStep(
        `${name}-peer-${host.node.name}`,
        {
          target: host.target,
          script: "swarm-peer.sh",
          secretOutput: true,
          // Re-read from the survivors whenever the first manager is a new instance.
          triggers: [first.target.instanceId],
          dependsOn: [host.dockerReady],
        },
        this,
      ),
    );
    const init = scriptStep(
      `${name}-init`,
      {
        target: first.target,
        script: "swarm-init.sh",
        action: "create",
        env: {
          ADVERTISE_ADDR: first.node.privateIp,
          SWARM_PORT: SWARM_MANAGEMENT_PORT,
          ...swarmAddressPoolEnv(args.addressPool),
        },
        stdin: peers.length === 0 ? undefined : pulumi.all(peers.map((p) => p.stdout)).apply(peerLines),
        dependsOn: [first.dockerReady, ...peers],
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
          lifecycle: "cluster",
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
        // The old label goes before the new node gets it: removing it afterwards, by hostname,
        // would take it from the new node too.
        deleteBeforeReplace: true,
        lifecycle: "cluster",
        triggers: [sparkNode.target.instanceId],
        dependsOn: [membersReady[sparkNode.node.name], ...(args.sparkMasterLabelAfter ?? [])],
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

/** The peers' answers as swarm-init reads them: one line per manager already in the swarm. */
export function peerLines(answers: readonly string[]): string {
  return answers
    .map((answer) => answer.trim())
    .filter((line) => line !== "")
    .map((line) => `${line}\n`)
    .join("");
}
