/**
 * A replicated Swarm service as data: one `SwarmService` and one `swarmServiceStep` run
 * scripts/swarm-service.sh on a manager with the spec as JSON in its environment, so a new service
 * needs TypeScript only.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { scriptStep, StepTarget } from "./remoteStep";

/** A port the routing mesh publishes on every Swarm node. */
export interface PublishedPort {
  readonly published: number;
  readonly target: number;
}

/** What `docker service create` is given; every field maps to one of its flags. */
export interface SwarmService {
  /** --name. */
  readonly name: string;
  readonly image: pulumi.Input<string>;
  /**
   * The container's command, given after the image (`docker service create ... IMAGE ARG...`), e.g.
   * `/opt/spark/bin/spark-class org.apache.spark.deploy.master.Master`. @default the image's own
   * command (and the spec carries no `args`, as before)
   */
  readonly args?: readonly string[];
  readonly replicas: pulumi.Input<number>;
  /** --network: an overlay network the service's tasks join. */
  readonly network?: string;
  /** --container-label, each. */
  readonly containerLabels?: readonly string[];
  /** --constraint, each, e.g. `node.labels.type == sparkmaster`. */
  readonly constraints?: readonly string[];
  /** --publish, each. */
  readonly publish?: readonly PublishedPort[];
  /** --env, each (not secret: the spec is on the step's command line). */
  readonly env?: Readonly<Record<string, pulumi.Input<string | number>>>;
  /** --mount, each, in docker's text form (`type=volume,target=/data,source=spark,volume-driver=flocker`). */
  readonly mounts?: readonly string[];
}

export interface SwarmServiceStepArgs {
  /** A manager of the Swarm. */
  readonly target: StepTarget;
  readonly service: SwarmService;
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** The SERVICE_SPEC parameter of scripts/swarm-service.sh (without the name, its own parameter). */
function serviceSpecParameter(service: SwarmService): pulumi.Output<string> {
  return pulumi.all([service.image, service.replicas, pulumi.output(service.env ?? {})]).apply(([image, replicas, env]) =>
    JSON.stringify({
      image,
      // Only when given: a spec without it is byte for byte the one a deployed service was made from.
      ...(service.args === undefined ? {} : { args: service.args }),
      replicas,
      ...(service.network === undefined ? {} : { network: service.network }),
      containerLabels: service.containerLabels ?? [],
      constraints: service.constraints ?? [],
      publish: service.publish ?? [],
      env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
      mounts: service.mounts ?? [],
    }),
  );
}

/**
 * The service's step: created (or converged) by the create, scaled to 0 and removed by the delete.
 * It belongs to the cluster, not to the manager it runs on: replacing that manager re-runs the
 * create on its successor (which finds the service) and never the delete.
 */
export function swarmServiceStep(name: string, args: SwarmServiceStepArgs, parent: pulumi.Resource): command.remote.Command {
  return scriptStep(
    name,
    {
      target: args.target,
      script: "swarm-service.sh",
      action: "create",
      env: { SERVICE_NAME: args.service.name, SERVICE_SPEC: serviceSpecParameter(args.service) },
      deleteAction: "delete",
      deleteBeforeReplace: true,
      lifecycle: "cluster",
      dependsOn: args.dependsOn,
    },
    parent,
  );
}
