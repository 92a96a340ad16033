/**
 * The chapter-7 cluster: read and validate the configuration, check the world outside the stack
 * (nothing is registered when either is wrong), build the components of the stack's platform
 * (book or current, docs/platforms.md) in the order of the data they pass each other, export the
 * outputs contract (lib/stackOutputs.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterNetwork } from "./components/network";
import { ClusterNodes } from "./components/nodes";
import { Flocker } from "./components/flocker";
import { NodeImages } from "./components/images";
import { FlockerPluginOffer } from "./components/flockerPlugin";
import { FlockerPki } from "./components/pki";
import { FlockerSnapshots } from "./components/snapshots";
import { Spark } from "./components/spark";
import { SparkData, checkDeployedSparkData } from "./components/sparkData";
import { FlockerStorage } from "./components/storage";
import { Swarm } from "./components/swarm";
import { ENCRYPTED_OVERLAY_MIN_DOCKER_VERSION } from "./config/checks/software";
import { costNotice } from "./config/checks/cost";
import { loadConfig } from "./config/load";
import { checkBeforeBillable, type BillableFacts } from "./preflight";
import { refuseReshape } from "./preflight/deployedShape";
import { offlineHarness } from "./preflight/harness";
import { FLOCKER_API_PORT } from "./lib/ports";
import { FLOCKER_CLUSTER_TAG } from "./lib/flockerIamPolicy";
import { swarmKernelModules } from "./lib/kernelModules";
import { flockerTestNode, nodeImageLists } from "./lib/nodeImages";
import { StackOutputs } from "./lib/stackOutputs";
import { topology, type Topology } from "./lib/topology";
import type { ClusterConfig } from "./config/schema";

export = async (): Promise<StackOutputs> => {
  const config = loadConfig();
  // Every preview and update says what the cluster costs (the offline plan prints it line by line).
  if (offlineHarness() === undefined) void pulumi.log.info(costNotice(config));
  const checked = await checkBeforeBillable(config);
  for (const notice of checked.notices) void pulumi.log.info(notice);
  const layout = topology(config);
  // Before any resource: a deployed stack's nodes keep their roles (lib/reshape.ts).
  await refuseReshape(layout.nodes, config);
  // ... and a deployed Spark dataset volume is never replaced or shrunk (lib/sparkData.ts).
  if (config.platform === "current") {
    await checkDeployedSparkData({
      project: config.project,
      stack: config.stack,
      clusterName: config.clusterName,
      availabilityZone: config.availabilityZone,
      sizeGiB: config.sparkVolumeSizeGiB,
    });
  }
  const tags = { Project: config.project, Stack: config.stack, Cluster: config.clusterName };
  return config.platform === "current" ? buildCurrent(config, checked, layout, tags) : buildBook(config, checked, layout, tags);
};

type Tags = Record<string, string>;

/** The book's cluster: Flocker (PKI, IAM user, agents, control service, plugin), Swarm and Spark. */
function buildBook(config: ClusterConfig, checked: BillableFacts, layout: Topology, tags: Tags): StackOutputs {
  const control = layout.control;
  if (control === undefined) throw new Error("internal error: the book platform's layout has no Flocker control node");

  const network = new ClusterNetwork("network", {
    vpcCidr: config.vpcCidr,
    subnetCidr: config.subnetCidr,
    availabilityZone: config.availabilityZone,
    adminCidrs: config.adminCidrs,
    overlayEncrypted: config.overlayEncrypted,
    tags,
  });
  const pki = new FlockerPki("pki", {
    clusterName: config.clusterName,
    nodeNames: layout.nodes.map((n) => n.name),
    controlAddresses: [control.privateIp],
  });
  const storage = new FlockerStorage("storage", { region: config.region, clusterId: pki.clusterId, tags });
  const nodes = new ClusterNodes("nodes", {
    nodes: layout.nodes,
    subnetId: network.subnetId,
    securityGroupIds: network.securityGroupIds,
    instanceType: config.instanceType,
    rootVolumeSizeGiB: config.rootVolumeSizeGiB,
    image: checked.image,
    sshUser: config.sshUser,
    sshKeyGeneration: config.sshKeyGeneration,
    flocker: config.flocker,
    ubuntuArchiveMirror: config.ubuntuArchiveMirror,
    dockerPackage: config.dockerPackage,
    dockerVersion: config.dockerVersion,
    minDockerVersion: config.overlayEncrypted ? ENCRYPTED_OVERLAY_MIN_DOCKER_VERSION : undefined,
    kernelModules: swarmKernelModules(config.overlayEncrypted),
    tags: { ...tags, [FLOCKER_CLUSTER_TAG]: pki.clusterId },
    networkReady: [network.internetRoute],
  });
  const host = (name: string) => nodes.hosts[name];

  // Pulled right after Docker, alongside Flocker and Swarm; `images.imagesPulled[node]` is what a
  // service step on that node waits for.
  const images = new NodeImages("images", {
    hosts: layout.nodes.map((n) => host(n.name)),
    lists: nodeImageLists(layout, config),
  });
  const testNode = flockerTestNode(layout).name;
  const flocker = new Flocker("flocker", {
    hosts: layout.nodes.map((n) => host(n.name)),
    controlHost: host(control.name),
    pki,
    region: config.region,
    availabilityZone: config.availabilityZone,
    accessKeyId: storage.accessKeyId,
    secretAccessKey: storage.secretAccessKey,
    source: config.flocker,
    sshUser: config.sshUser,
    flockerImagesPulled: images.flockerImagesPulled,
    test: config.flockerTest
      ? { host: host(testNode), image: config.flockerTestImage, imagePulled: images.imagesPulled[testNode] }
      : undefined,
    controlStateVolumeSizeGiB: config.flockerControlVolumeSizeGiB,
    tags,
  });
  const swarm = new Swarm("swarm", {
    initialManager: host(layout.initialManager.name),
    joiningManagers: layout.joiningManagers.map((n) => host(n.name)),
    workers: layout.workers.map((n) => host(n.name)),
    sparkMasterHost: host(layout.sparkMaster.name),
    addressPool: { cidr: config.swarmAddressPool, maskLength: config.swarmAddressPoolMaskLength },
  });
  const pluginOffer = new FlockerPluginOffer("flocker-plugin", {
    hosts: layout.nodes.filter((n) => n.swarmRole !== undefined).map((n) => host(n.name)),
    agentsReady: flocker.agentsReady,
  });
  if (config.snapshots) {
    new FlockerSnapshots("snapshots", {
      clusterId: pki.clusterId,
      clusterName: config.clusterName,
      schedule: config.snapshots,
      tags,
    });
  }
  const spark = new Spark("spark", {
    swarm,
    flocker,
    pluginOffer,
    images,
    overlaySubnet: config.overlaySubnet,
    overlayEncrypted: config.overlayEncrypted,
    volumeSize: config.sparkVolumeSize,
    volumeProfile: config.sparkVolumeProfile,
    masterImage: config.sparkMasterImage,
    workerImage: config.sparkWorkerImage,
    workerReplicas: config.sparkWorkerReplicas,
    workerCores: config.sparkWorkerCores,
    workerMemory: config.sparkWorkerMemory,
    smokeTest: config.smokeTest,
  });

  const controlHost = host(control.name);
  return {
    ...accessOutputs(layout, nodes, swarm, config.sshUser),
    flockerControlEndpoint: pulumi.output(`https://${control.privateIp}:${FLOCKER_API_PORT}`),
    flockerControlPublicEndpoint: pulumi.interpolate`https://${controlHost.publicIp}:${FLOCKER_API_PORT}`,
    flockerCaCert: pki.caCertPem,
    flockerClientCert: pki.client.certPem,
    flockerClientKey: pki.client.keyPem,
    flockerStatus: flocker.status,
    sparkMasterUrl: spark.masterUrl,
    sparkUiUrl: spark.uiUrl,
    ...swarmAndNetworkOutputs(swarm, network),
    smokeTestResult: spark.smokeTestResult,
  };
}

/**
 * The current platform's cluster: the same Swarm and Spark on Ubuntu 24.04 and Nitro, IMDSv2, no
 * Flocker (no PKI, IAM user, agents, control service, plugin or Flocker snapshots). The Spark data
 * is the stack's own EBS volume on the Spark master's node (components/sparkData.ts,
 * docs/storage.md): the node's sparkmaster label and the master's service wait for it to be bound
 * as the `spark` Docker volume there.
 */
function buildCurrent(config: ClusterConfig, checked: BillableFacts, layout: Topology, tags: Tags): StackOutputs {
  const network = new ClusterNetwork("network", {
    vpcCidr: config.vpcCidr,
    subnetCidr: config.subnetCidr,
    availabilityZone: config.availabilityZone,
    adminCidrs: config.adminCidrs,
    overlayEncrypted: config.overlayEncrypted,
    flocker: false,
    tags,
  });
  const nodes = new ClusterNodes("nodes", {
    nodes: layout.nodes,
    subnetId: network.subnetId,
    securityGroupIds: network.securityGroupIds,
    instanceType: config.instanceType,
    rootVolumeSizeGiB: config.rootVolumeSizeGiB,
    image: checked.image,
    sshUser: config.sshUser,
    sshKeyGeneration: config.sshKeyGeneration,
    platform: "current",
    ubuntuArchiveMirror: "",
    dockerPackage: config.dockerPackage,
    dockerVersion: config.dockerVersion,
    minDockerVersion: config.overlayEncrypted ? ENCRYPTED_OVERLAY_MIN_DOCKER_VERSION : undefined,
    kernelModules: swarmKernelModules(config.overlayEncrypted),
    tags,
    networkReady: [network.internetRoute],
  });
  const host = (name: string) => nodes.hosts[name];
  const images = new NodeImages("images", {
    hosts: layout.nodes.map((n) => host(n.name)),
    lists: nodeImageLists(layout, config),
  });
  const sparkMaster = host(layout.sparkMaster.name);
  const sparkData = new SparkData("spark-data", {
    host: sparkMaster,
    availabilityZone: config.availabilityZone,
    sizeGiB: config.sparkVolumeSizeGiB,
    clusterName: config.clusterName,
    tags,
    after: [sparkMaster.dockerReady],
  });
  const swarm = new Swarm("swarm", {
    initialManager: host(layout.initialManager.name),
    joiningManagers: layout.joiningManagers.map((n) => host(n.name)),
    workers: layout.workers.map((n) => host(n.name)),
    sparkMasterHost: sparkMaster,
    addressPool: { cidr: config.swarmAddressPool, maskLength: config.swarmAddressPoolMaskLength },
    sparkMasterLabelAfter: [sparkData.ready],
  });
  if (config.snapshots) {
    new FlockerSnapshots("snapshots", {
      datasets: "sparkData",
      clusterName: config.clusterName,
      schedule: config.snapshots,
      tags,
    });
  }
  const spark = new Spark("spark", {
    platform: "current",
    dataReady: sparkData.ready,
    swarm,
    images,
    overlaySubnet: config.overlaySubnet,
    overlayEncrypted: config.overlayEncrypted,
    image: config.sparkImage,
    workerReplicas: config.sparkWorkerReplicas,
    workerCores: config.sparkWorkerCores,
    workerMemory: config.sparkWorkerMemory,
    smokeTest: config.smokeTest,
  });
  return {
    platform: pulumi.output("current" as const),
    ...accessOutputs(layout, nodes, swarm, config.sshUser),
    sparkMasterUrl: spark.masterUrl,
    sparkUiUrl: spark.uiUrl,
    ...swarmAndNetworkOutputs(swarm, network),
    smokeTestResult: spark.smokeTestResult,
    sparkDataVolumeId: sparkData.volumeId,
  };
}

/** The outputs both platforms export about the nodes and how to reach them. */
function accessOutputs(layout: Topology, nodes: ClusterNodes, swarm: Swarm, sshUser: string) {
  return {
    nodes: pulumi.output(
      Object.fromEntries(
        layout.nodes.map((n) => [
          n.name,
          { role: n.role, swarmRole: n.swarmRole, publicIp: nodes.hosts[n.name].publicIp, privateIp: n.privateIp },
        ]),
      ),
    ),
    managerAddresses: pulumi.output(swarm.managerAddresses),
    sshUser: pulumi.output(sshUser),
    sshPrivateKey: nodes.sshPrivateKey,
  };
}

/** The outputs both platforms export for other stacks to join the swarm or its network. */
function swarmAndNetworkOutputs(swarm: Swarm, network: ClusterNetwork) {
  return {
    swarmWorkerJoinToken: swarm.workerJoinToken,
    swarmManagerJoinToken: swarm.managerJoinToken,
    securityGroupIds: pulumi.output(network.securityGroupIds),
    vpcId: network.vpcId,
    subnetId: network.subnetId,
  };
}
