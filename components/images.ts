import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeImageLists, pullImagesParameter } from "../lib/nodeImages";
import { NodeHost } from "./nodeHost";
import { scriptStep } from "./remoteStep";

/** scripts/pull-images.sh's bounds: 3 attempts of at most 10 minutes each, 10 s apart. */
const PULL_ATTEMPTS = 3;
const PULL_TIMEOUT_SECONDS = 600;
const PULL_STEP_TIMEOUT = "35m";

export interface NodeImagesArgs {
  /** Every node of the cluster. */
  readonly hosts: readonly NodeHost[];
  /** Per node name: what it pulls (lib/nodeImages.ts). */
  readonly lists: Readonly<Record<string, NodeImageLists>>;
}

/**
 * Each node's images, pulled as soon as its Docker runs and alongside the Flocker and Swarm steps,
 * so that the steps that start containers or services find them there. Per node, one pull for
 * Flocker's containers and one for the services, awaited by different steps. Nothing to undo:
 * images stay on a node until it goes.
 */
export class NodeImages extends pulumi.ComponentResource {
  /** Per node name: its Flocker images are pulled (containers mode; absent in packages mode). */
  public readonly flockerImagesPulled: Readonly<Record<string, command.remote.Command>>;
  /** Per node name: the images of the Spark services and the Flocker test it can run are pulled. */
  public readonly imagesPulled: Readonly<Record<string, command.remote.Command>>;

  constructor(name: string, args: NodeImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:images:NodeImages", name, {}, opts);
    const flocker: Record<string, command.remote.Command> = {};
    const services: Record<string, command.remote.Command> = {};
    for (const host of args.hosts) {
      const nodeName = host.node.name;
      const lists = args.lists[nodeName];
      if (lists === undefined) throw new Error(`no image lists for node ${nodeName}`);
      const pull = (group: string, refs: NodeImageLists["flocker"]) =>
        scriptStep(
          `${name}-${nodeName}-${group}`,
          {
            target: host.target,
            script: "pull-images.sh",
            env: { IMAGES: pullImagesParameter(refs), PULL_ATTEMPTS, PULL_TIMEOUT: PULL_TIMEOUT_SECONDS },
            dependsOn: [host.dockerReady],
            createTimeout: PULL_STEP_TIMEOUT,
          },
          this,
        );
      if (lists.flocker.length > 0) flocker[nodeName] = pull("flocker", lists.flocker);
      if (lists.services.length > 0) services[nodeName] = pull("services", lists.services);
    }
    this.flockerImagesPulled = flocker;
    this.imagesPulled = services;
    this.registerOutputs({});
  }
}
