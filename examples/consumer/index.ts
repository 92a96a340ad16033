/**
 * A program that consumes the swarm-flocker cluster: it reads the cluster stack's outputs through a
 * StackReference and exports what a Spark user and a Flocker operator need — a spark-submit
 * command line for the cluster's master, and (on a book cluster) a flockerctl bundle whose private
 * key stays secret. A current cluster has no Flocker: its `platform` says so and the bundle is absent.
 * With `edgeAmi` set it also puts an instance beside the cluster, in its subnet and node security
 * group (the network outputs in use).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_CLUSTER_STACK,
  flockerClient as makeFlockerClient,
  flockerOutput,
  output,
  platformOf,
  shellLine,
  sparkSubmitArgs,
} from "./cluster";
import { besideTheCluster } from "./network";

const config = new pulumi.Config();
export const clusterStack = config.get("clusterStack") ?? DEFAULT_CLUSTER_STACK;
const sparkClass = config.get("sparkClass") ?? "org.apache.spark.examples.SparkPi";
const sparkJar = config.get("sparkJar") ?? "spark-examples.jar";

const cluster = new pulumi.StackReference("cluster", { name: clusterStack });

export const sparkMasterUrl = output(cluster, "sparkMasterUrl");
export const sparkUiUrl = output(cluster, "sparkUiUrl");
/** `spark-submit --master spark://<ip>:7077 --class … <jar> 100`: SparkPi with 100 slices by default. */
export const sparkSubmit = sparkMasterUrl.apply((url) => shellLine(sparkSubmitArgs(url, sparkClass, sparkJar, ["100"])));

/** "book" (with Flocker) or "current" (no Flocker: the two Flocker exports below are undefined). */
export const platform = platformOf(cluster);
export const flockerControlEndpoint = flockerOutput(cluster, "flockerControlPublicEndpoint");
/**
 * Everything flockerctl needs, on a book cluster. Secret as a whole: it carries the client key
 * (already secret in the cluster stack, so secret through the reference too; `pulumi.secret` keeps
 * it so whatever that stack did).
 */
export const flockerClient = pulumi.secret(
  pulumi
    .all([
      platform,
      flockerControlEndpoint,
      flockerOutput(cluster, "flockerCaCert"),
      flockerOutput(cluster, "flockerClientCert"),
      flockerOutput(cluster, "flockerClientKey"),
    ])
    .apply(([kind, endpoint, caCert, clientCert, clientKey]) => {
      if (kind === "current") return undefined;
      if (endpoint === undefined || caCert === undefined || clientCert === undefined || clientKey === undefined) {
        throw new Error(`the book cluster ${clusterStack} lacks a Flocker output: is it deployed?`);
      }
      return makeFlockerClient(endpoint, caCert, clientCert, clientKey);
    }),
);

export const vpcId = output(cluster, "vpcId");
export const subnetId = output(cluster, "subnetId");
const edgeAmi = config.get("edgeAmi");
/** The private address of the instance beside the cluster; absent unless `edgeAmi` is set. */
export const edgeInstancePrivateIp =
  edgeAmi === undefined
    ? undefined
    : besideTheCluster("edge", {
        ami: edgeAmi,
        instanceType: config.get("edgeInstanceType") ?? "t3.micro",
        vpcId,
        subnetId,
        nodeSecurityGroupId: output(cluster, "securityGroupIds").apply((groups) => groups.node),
      }).privateIp;
