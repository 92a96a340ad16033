import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeHost } from "./nodeHost";
import { scriptStep } from "./remoteStep";

import { FLOCKER_PLUGIN_SOCKET } from "../lib/remotePaths";

export interface FlockerPluginOfferArgs {
  /** The swarm's nodes: wherever a task that mounts a flocker volume may be placed. */
  readonly hosts: readonly NodeHost[];
  /** Flocker's agents and plugin run, per node name. */
  readonly agentsReady: Readonly<Record<string, pulumi.Resource>>;
}

/**
 * Every swarm node keeps offering the `flocker` volume plugin to the swarm across Docker restarts.
 * Docker loads a legacy plugin only on first use and a node describes only loaded plugins to its
 * managers, so after a daemon restart the scheduler stops placing flocker-volume tasks there
 * (moby/moby#23619, #32480) — a Spark master could not come back to its node. Each node gets a
 * systemd unit that loads the plugin after every start of Docker (scripts/flocker-plugin-activate.sh),
 * started once by this step, after the node's Flocker agents.
 */
export class FlockerPluginOffer extends pulumi.ComponentResource {
  /** The plugin is loaded and will be after every Docker start, per node name. */
  public readonly offered: Readonly<Record<string, command.remote.Command>>;

  constructor(name: string, args: FlockerPluginOfferArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:flockerPlugin:FlockerPluginOffer", name, {}, opts);
    const offered: Record<string, command.remote.Command> = {};
    for (const host of args.hosts) {
      const agents = args.agentsReady[host.node.name];
      if (agents === undefined) throw new Error(`no Flocker agents step for ${host.node.name}: the plugin must run there first`);
      offered[host.node.name] = scriptStep(
        `${name}-${host.node.name}`,
        {
          target: host.target,
          script: "flocker-plugin-activate.sh",
          action: "install",
          env: { PLUGIN_SOCKET: FLOCKER_PLUGIN_SOCKET },
          dependsOn: [agents],
        },
        this,
      );
    }
    this.offered = offered;
    this.registerOutputs({});
  }
}
