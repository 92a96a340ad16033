import * as pulumi from "@pulumi/pulumi";
import { FLOCKER_NODE_ENV } from "../lib/nodeParameters";
import { APACHE_SPARK_HOME } from "../lib/platform";
import { SPARK_MASTER_PORT, SPARK_PORTS, SPARK_UI_PORT } from "../lib/ports";
import { SPARK_MASTER_LABEL } from "../lib/topology";
import { Flocker } from "./flocker";
import { FlockerPluginOffer } from "./flockerPlugin";
import { NodeImages } from "./images";
import { scriptStep } from "./remoteStep";
import { Swarm } from "./swarm";
import { swarmServiceStep } from "./swarmService";

const SPARK_NETWORK = "spark";
const SPARK_VOLUME = "spark";
const SPARK_MASTER_SERVICE = "spark-master";
const SPARK_WORKER_SERVICE = "spark-worker";
/**
 * How workers find the master. The book hard-codes SPARK_MASTER_IP=10.0.0.3, a guess at the
 * master task's address on the overlay that breaks as soon as anything else takes an address
 * first. Swarm's DNS name `tasks.<service>` resolves to the master task's own overlay address
 * wherever it runs, which is what 10.0.0.3 meant, and it follows the task when it moves.
 */
const SPARK_MASTER_HOST = `tasks.${SPARK_MASTER_SERVICE}`;
const SPARK_MASTER_URL_IN_CLUSTER = `spark://${SPARK_MASTER_HOST}:${SPARK_MASTER_PORT}`;
const SMOKE_TEST_SKIPPED = "skipped (smokeTest is false)";
/**
 * The current platform's master binds every interface of its task. Spark's master binds and
 * advertises one address (SPARK_MASTER_HOST; Master.startRpcEnvAndEndpoint gives RpcEnv.create the
 * same host for both), and a task with published ports has two: its `ingress` address, where the
 * routing mesh delivers 7077/6066/8080, and its `spark` overlay address, where the workers and
 * SparkPi dial tasks.spark-master:7077. A name or address picks one of them (moby#27292: with a
 * port published, the master bound to its ingress address and overlay workers could not reach
 * it). 0.0.0.0 serves both; the workers still name the master tasks.spark-master, and Spark answers
 * them on the connection they opened. docs/platforms.md has the sources.
 */
const CURRENT_MASTER_BIND_HOST = "0.0.0.0";

interface SparkCommonArgs {
  /**
   * The Swarm: its first manager runs the cluster-wide commands, its labelled node gets the
   * master, and the services wait for every member to be Ready and for the label.
   */
  readonly swarm: Swarm;
  /** The image pulls: each service waits for the pull on the nodes it may run on. */
  readonly images: NodeImages;
  readonly overlaySubnet: string;
  readonly overlayEncrypted: boolean;
  readonly workerReplicas: number;
  readonly workerCores: number;
  readonly workerMemory: string;
  readonly smokeTest: boolean;
}

/** The book platform: the book's images, and the `spark` volume from Flocker. */
export interface BookSparkArgs extends SparkCommonArgs {
  /** @default book */
  readonly platform?: "book";
  /** Flocker: the volume waits for the control service and the Spark master node's agents. */
  readonly flocker: Flocker;
  /** The plugin offered on the Spark master's node, where the master mounts the volume. */
  readonly pluginOffer: FlockerPluginOffer;
  readonly volumeSize: string;
  readonly volumeProfile: string;
  readonly masterImage: string;
  readonly workerImage: string;
}

/**
 * The current platform: one apache/spark image started with `spark-class`, and the `spark` volume
 * a local-driver volume bound to the data disk on the master's node (made by the storage component, SparkData).
 */
export interface CurrentSparkArgs extends SparkCommonArgs {
  readonly platform: "current";
  /** apache/spark 3.5.x pinned by digest (config `sparkImage`): master, workers and SparkPi. */
  readonly image: string;
  /**
   * The step that made the `spark` Docker volume on the master's node (SparkData's `ready`): the
   * master service waits for it, so it never starts on an empty local volume of that name.
   * @default nothing to wait for (only until the storage component is wired in)
   */
  readonly dataReady?: pulumi.Resource;
}

export type SparkArgs = BookSparkArgs | CurrentSparkArgs;

/**
 * The book's Spark deployment: the `spark` overlay network, the Flocker volume `spark`, the
 * spark-master service pinned to the labelled node with the volume mounted, the spark-worker
 * service elsewhere, and a SparkPi run against the cluster as a smoke test. On the current
 * platform the same services run apache/spark through `spark-class`, and the volume is the
 * storage component's (no Flocker).
 */
export class Spark extends pulumi.ComponentResource {
  /** "Pi is roughly 3.14…", or SMOKE_TEST_SKIPPED. */
  public readonly smokeTestResult: pulumi.Output<string>;
  public readonly masterUrl: pulumi.Output<string>;
  public readonly uiUrl: pulumi.Output<string>;

  constructor(name: string, args: SparkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:spark:Spark", name, {}, opts);
    const swarm = args.swarm;
    const manager = swarm.firstManager.target;
    const masterNode = swarm.sparkMasterHost.node.name;
    const pulledOn = (nodes: readonly string[]) =>
      nodes.map((node) => args.images.imagesPulled[node]).filter((pull): pull is NonNullable<typeof pull> => pull !== undefined);
    const workerNodes = swarm.members.map((host) => host.node.name).filter((node) => node !== masterNode);
    const current = args.platform === "current";
    const workerImage = current ? args.image : args.workerImage;

    // The network and the services belong to the cluster, not to the manager that creates them:
    // replacing the first manager re-runs their create on its successor (which finds them) and
    // never their delete, so Spark keeps running and its data stays.
    // The create proves the network joinable with one short-lived container of the worker image:
    // the first manager pulls it anyway (it runs the SparkPi test), so nothing else is pulled.
    const firstManagerPull = pulledOn([swarm.firstManager.node.name]);
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
          ATTACH_IMAGE: workerImage,
        },
        deleteAction: "delete",
        lifecycle: "cluster",
        dependsOn: [swarm.initialized, ...firstManagerPull],
      },
      this,
    );
    const swarmFormed = [...Object.values(swarm.membersReady), swarm.sparkMasterLabel];
    const masterPlacement = {
      name: SPARK_MASTER_SERVICE,
      replicas: 1,
      containerLabels: [SPARK_MASTER_SERVICE],
      network: SPARK_NETWORK,
      constraints: [`node.labels.${SPARK_MASTER_LABEL.key} == ${SPARK_MASTER_LABEL.value}`],
      publish: SPARK_PORTS.map(({ port }) => ({ published: port, target: port })),
    };
    const workerPlacement = {
      name: SPARK_WORKER_SERVICE,
      replicas: args.workerReplicas,
      network: SPARK_NETWORK,
      constraints: [`node.labels.${SPARK_MASTER_LABEL.key} != ${SPARK_MASTER_LABEL.value}`],
    };
    let master: pulumi.Resource;
    let workers: pulumi.Resource;
    if (args.platform === "current") {
      master = swarmServiceStep(
        `${name}-master`,
        {
          target: manager,
          service: {
            ...masterPlacement,
            image: args.image,
            args: [`${APACHE_SPARK_HOME}/bin/spark-class`, "org.apache.spark.deploy.master.Master"],
            env: { SPARK_MASTER_HOST: CURRENT_MASTER_BIND_HOST },
            // One replica only: the data volume is attached to the master's node alone. The local
            // driver's volume `spark` is bound to that disk by the storage component's node step (spark-data.sh).
            mounts: [`type=volume,target=/data,source=${SPARK_VOLUME}`],
          },
          dependsOn: [network, ...swarmFormed, ...pulledOn([masterNode]), ...(args.dataReady ? [args.dataReady] : [])],
        },
        this,
      );
      workers = swarmServiceStep(
        `${name}-worker`,
        {
          target: manager,
          service: {
            ...workerPlacement,
            image: args.image,
            args: [`${APACHE_SPARK_HOME}/bin/spark-class`, "org.apache.spark.deploy.worker.Worker", SPARK_MASTER_URL_IN_CLUSTER],
            env: { SPARK_WORKER_CORES: args.workerCores, SPARK_WORKER_MEMORY: args.workerMemory },
          },
          dependsOn: [master, ...pulledOn(workerNodes)],
        },
        this,
      );
    } else {
      const volume = scriptStep(
        `${name}-volume`,
        {
          target: swarm.sparkMasterHost.target,
          script: "flocker-volume.sh",
          action: "create",
          env: {
            VOLUME_NAME: SPARK_VOLUME,
            VOLUME_SIZE: args.volumeSize,
            VOLUME_PROFILE: args.volumeProfile,
            ...FLOCKER_NODE_ENV,
            FLOCKER_CONTROL_HOST: args.flocker.controlHost.node.privateIp,
          },
          // The dataset is the cluster's, not this node's: a replaced node re-runs the create (which
          // finds the dataset; Flocker moves it to wherever the master runs next) and never the
          // delete, which only an explicit destroy runs. Deleting it destroys its data, so it never
          // runs after a replacement was created either.
          deleteAction: "delete",
          deleteBeforeReplace: true,
          lifecycle: "cluster",
          dependsOn: [args.flocker.controlReady, args.flocker.agentsReady[masterNode]],
        },
        this,
      );
      master = swarmServiceStep(
        `${name}-master`,
        {
          target: manager,
          service: {
            ...masterPlacement,
            image: args.masterImage,
            env: { SPARK_MASTER_IP: "0.0.0.0" },
            // One replica only: a Flocker (EBS) volume attaches to one node at a time.
            mounts: [`type=volume,target=/data,source=${SPARK_VOLUME},volume-driver=flocker`],
          },
          dependsOn: [network, volume, ...swarmFormed, args.pluginOffer.offered[masterNode], ...pulledOn([masterNode])],
        },
        this,
      );
      workers = swarmServiceStep(
        `${name}-worker`,
        {
          target: manager,
          service: {
            ...workerPlacement,
            image: args.workerImage,
            env: {
              SPARK_MASTER_IP: SPARK_MASTER_HOST,
              SPARK_WORKER_CORES: args.workerCores,
              SPARK_WORKER_MEMORY: args.workerMemory,
            },
          },
          dependsOn: [master, ...pulledOn(workerNodes)],
        },
        this,
      );
    }
    this.smokeTestResult = args.smokeTest
      ? scriptStep(
          `${name}-smoke`,
          {
            target: manager,
            script: "spark-smoke.sh",
            env: {
              IMAGE: workerImage,
              NETWORK_NAME: SPARK_NETWORK,
              MASTER_URL: SPARK_MASTER_URL_IN_CLUSTER,
              // apache/spark keeps Spark in /opt/spark; the book's image in /spark (the script's default).
              ...(current ? { SPARK_HOME_IN_IMAGE: APACHE_SPARK_HOME } : {}),
            },
            dependsOn: [workers, ...firstManagerPull],
            createTimeout: "30m",
          },
          this,
        ).stdout
      : pulumi.output(SMOKE_TEST_SKIPPED);

    // The routing mesh publishes the ports on every Swarm node; the labelled node is the book's.
    // Its private address: no security group admits Spark's unauthenticated ports from outside the
    // cluster, so these URLs are what an SSH tunnel forwards to (npm run ssh -- --tunnel), and
    // what a node of the cluster itself dials.
    const masterIp = swarm.sparkMasterHost.node.privateIp;
    this.masterUrl = pulumi.interpolate`spark://${masterIp}:${SPARK_MASTER_PORT}`;
    this.uiUrl = pulumi.interpolate`http://${masterIp}:${SPARK_UI_PORT}`;
    this.registerOutputs({ smokeTestResult: this.smokeTestResult, masterUrl: this.masterUrl, uiUrl: this.uiUrl });
  }
}
