/**
 * A program that consumes the swarm-flocker cluster: it reads the cluster stack's outputs through a
 * StackReference and exports what a Spark user and a Flocker operator need — a spark-submit
 * command line for the cluster's master, and a flockerctl bundle whose private key stays secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_CLUSTER_STACK, flockerClient as makeFlockerClient, output, shellLine, sparkSubmitArgs } from "./cluster";

const config = new pulumi.Config();
export const clusterStack = config.get("clusterStack") ?? DEFAULT_CLUSTER_STACK;
const sparkClass = config.get("sparkClass") ?? "org.apache.spark.examples.SparkPi";
const sparkJar = config.get("sparkJar") ?? "spark-examples.jar";

const cluster = new pulumi.StackReference("cluster", { name: clusterStack });

export const sparkMasterUrl = output(cluster, "sparkMasterUrl");
export const sparkUiUrl = output(cluster, "sparkUiUrl");
/** `spark-submit --master spark://<ip>:7077 --class … <jar> 100`: SparkPi with 100 slices by default. */
export const sparkSubmit = sparkMasterUrl.apply((url) => shellLine(sparkSubmitArgs(url, sparkClass, sparkJar, ["100"])));

export const flockerControlEndpoint = output(cluster, "flockerControlPublicEndpoint");
/**
 * Everything flockerctl needs. Secret as a whole: it carries the client key (already secret in the
 * cluster stack, so secret through the reference too; `pulumi.secret` keeps it so whatever that
 * stack did).
 */
export const flockerClient = pulumi.secret(
  pulumi
    .all([
      flockerControlEndpoint,
      output(cluster, "flockerCaCert"),
      output(cluster, "flockerClientCert"),
      output(cluster, "flockerClientKey"),
    ])
    .apply(([endpoint, caCert, clientCert, clientKey]) => makeFlockerClient(endpoint, caCert, clientCert, clientKey)),
);
