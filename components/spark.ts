import * as pulumi from "@pulumi/pulumi";
import { SPARK_MASTER_LABEL } from "../lib/topology";
import { NodeHost } from "./nodeHost";
import { scriptStep } from "./remoteStep";

export const SPARK_NETWORK = "spark";
export const SPARK_VOLUME = "spark";
export const SPARK_MASTER_SERVICE = "spark-master";
export const SPARK_WORKER_SERVICE = "spark-worker";
/**
 * How workers find the master. The book hard-codes SPARK_MASTER_IP=10.0.0.3, a guess at the
 * master task's address on the overlay that breaks as soon as anything else takes an address
 * first. Swarm's DNS name `tasks.<service>` resolves to the master task's own overlay address
 * wherever it runs, which is what 10.0.0.3 meant, and it follows the task when it moves.
 */
export const SPARK_MASTER_HOST = `tasks.${SPARK_MASTER_SERVICE}`;
export const SPARK_MASTER_URL_IN_CLUSTER = `spark://${SPARK_MASTER_HOST}:7077`;
export const SMOKE_TEST_SKIPPED = "skipped (smokeTest is false)";

export interface SparkArgs {
  /** Where cluster-wide Docker commands run. */
  readonly manager: NodeHost;
  /**
   * The node labelled for the master; it creates the Flocker volume so no move is needed. The
   * volume does not follow this node's life: replacing the node keeps the dataset.
   */
  readonly sparkMasterHost: NodeHost;
  readonly overlaySubnet: string;
  readonly overlayEncrypted: boolean;
  readonly volumeSize: string;
  readonly volumeProfile: string;
  /** The Flocker control node's private address (the volume's delete talks to its REST API). */
  readonly flockerControlHost: string;
  readonly masterImage: string;
  readonly workerImage: string;
  readonly workerReplicas: number;
  readonly workerCores: number;
  readonly workerMemory: string;
  readonly smokeTest: boolean;
  /** The Swarm exists (its first manager ran `swarm init`): enough for the overlay network. */
  readonly swarmInitialized: pulumi.Resource;
  /** The Swarm is formed: every member Ready and the master's node labelled. */
  readonly swarmReady: pulumi.Resource[];
  /** Flocker's control service and the Spark master node's agents and plugin are up. */
  readonly flockerReady: pulumi.Resource[];
}

/**
 * The book's Spark deployment: the `spark` overlay network, the Flocker volume `spark`, the
 * spark-master service pinned to the labelled node with the volume mounted, the spark-worker
 * service elsewhere, and a SparkPi run against the cluster as a smoke test.
 */
export class Spark extends pulumi.ComponentResource {
  /** "Pi is roughly 3.14…", or SMOKE_TEST_SKIPPED. */
  public readonly smokeTestResult: pulumi.Output<string>;
  public readonly masterUrl: pulumi.Output<string>;
  public readonly uiUrl: pulumi.Output<string>;

  constructor(name: string, args: SparkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:spark:Spark", name, {}, opts);
    const manager = args.manager.target;

    const network = scriptStep(
      `${name}-network`,
      {
        target: manager,
        script: "spark-network.sh",
        action: "create",
        env: {
          NETWORK_NAME: SPARK_NETWORK,
          NETWORK_SUBNET: args.overlaySubnet,
          NETWORK_ENCRYPTED: args.overlayEncrypted ? 1 : 0,
        },
        deleteAction: "delete",
        dependsOn: [args.swarmInitialized],
      },
      this,
    );
    const volume = scriptStep(
      `${name}-volume`,
      {
        target: args.sparkMasterHost.target,
        script: "flocker-volume.sh",
        action: "create",
        env: {
          VOLUME_NAME: SPARK_VOLUME,
          VOLUME_SIZE: args.volumeSize,
          VOLUME_PROFILE: args.volumeProfile,
          FLOCKER_CONTROL_HOST: args.flockerControlHost,
          FLOCKER_ETC: "/etc/flocker",
        },
        // The dataset is the cluster's, not this node's: a replaced node re-runs the create (which
        // finds the dataset; Flocker moves it to wherever the master runs next) and never the
        // delete, which only an explicit destroy runs. Deleting it destroys its data, so it never
        // runs after a replacement was created either.
        deleteAction: "delete",
        deleteBeforeReplace: true,
        lifecycle: "cluster",
        dependsOn: args.flockerReady,
      },
      this,
    );
    const placement = `${SPARK_MASTER_LABEL.key}=${SPARK_MASTER_LABEL.value}`;
    const master = scriptStep(
      `${name}-master`,
      {
        target: manager,
        script: "spark-master.sh",
        action: "create",
        env: {
          SERVICE_NAME: SPARK_MASTER_SERVICE,
          IMAGE: args.masterImage,
          NETWORK_NAME: SPARK_NETWORK,
          VOLUME_NAME: SPARK_VOLUME,
          PLACEMENT_LABEL: placement,
        },
        deleteAction: "delete",
        deleteBeforeReplace: true,
        dependsOn: [network, volume, ...args.swarmReady],
      },
      this,
    );
    const workers = scriptStep(
      `${name}-worker`,
      {
        target: manager,
        script: "spark-worker.sh",
        action: "create",
        env: {
          SERVICE_NAME: SPARK_WORKER_SERVICE,
          IMAGE: args.workerImage,
          NETWORK_NAME: SPARK_NETWORK,
          REPLICAS: args.workerReplicas,
          WORKER_CORES: args.workerCores,
          WORKER_MEMORY: args.workerMemory,
          MASTER_HOST: SPARK_MASTER_HOST,
          PLACEMENT_LABEL: placement,
        },
        deleteAction: "delete",
        deleteBeforeReplace: true,
        dependsOn: [master],
      },
      this,
    );
    this.smokeTestResult = args.smokeTest
      ? scriptStep(
          `${name}-smoke`,
          {
            target: manager,
            script: "spark-smoke.sh",
            env: { IMAGE: args.workerImage, NETWORK_NAME: SPARK_NETWORK, MASTER_URL: SPARK_MASTER_URL_IN_CLUSTER },
            dependsOn: [workers],
            createTimeout: "30m",
          },
          this,
        ).stdout
      : pulumi.output(SMOKE_TEST_SKIPPED);

    // The routing mesh publishes the ports on every Swarm node; the labelled node is the book's.
    this.masterUrl = pulumi.interpolate`spark://${args.sparkMasterHost.publicIp}:7077`;
    this.uiUrl = pulumi.interpolate`http://${args.sparkMasterHost.publicIp}:8080`;
    this.registerOutputs({ smokeTestResult: this.smokeTestResult, masterUrl: this.masterUrl, uiUrl: this.uiUrl });
  }
}
