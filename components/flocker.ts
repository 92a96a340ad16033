import * as command from "@pulumi/command";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { FlockerImages, FlockerSource } from "../config/schema";
import { renderAgentYml } from "../lib/agentYml";
import { CONTROL_STATE_DIR } from "../lib/flockerControlState";
import { FlockerNodeCredentials, flockerFilesPayload, flockerNodeFiles } from "../lib/flockerFiles";
import { flockerPackageEnv, flockerPackageStdin } from "../lib/flockerPackages";
import { FlockerStatus, parseFlockerStatus } from "../lib/flockerStatus";
import { FLOCKER_NODE_ENV } from "../lib/nodeParameters";
import { FlockerControlState } from "./flockerControlState";
import { NodeHost } from "./nodeHost";
import { FlockerPki } from "./pki";
import { scriptStep } from "./remoteStep";

/** The Docker volume (and Flocker dataset) the Flocker test writes through and then removes. */
const FLOCKER_TEST_VOLUME = "flocker-test";

export interface FlockerTestArgs {
  /** A Swarm worker (lib/nodeImages.ts, flockerTestNode). */
  readonly host: NodeHost;
  readonly image: string;
  /** The pull of `image` on `host` (components/images.ts). */
  readonly imagePulled: pulumi.Resource;
}

export interface FlockerArgs {
  /** Every node of the cluster: all run the dataset and container agents and the Docker plugin. */
  readonly hosts: readonly NodeHost[];
  /** The node that runs the control service. */
  readonly controlHost: NodeHost;
  readonly pki: FlockerPki;
  readonly region: string;
  readonly availabilityZone: string;
  readonly accessKeyId: pulumi.Input<string>;
  /** Secret. */
  readonly secretAccessKey: pulumi.Input<string>;
  /** ClusterHQ's images (containers mode) or Flocker 1.15 packages (packages mode). */
  readonly source: FlockerSource;
  readonly sshUser: string;
  /** Containers mode: per node name, the pull of the node's Flocker images (components/images.ts). */
  readonly flockerImagesPulled: Readonly<Record<string, pulumi.Resource>>;
  /** The book's Flocker test; undefined when flockerTest is false. */
  readonly test?: FlockerTestArgs;
  /** Size of the control service's state volume, GiB (flockerControlVolumeSizeGiB). */
  readonly controlStateVolumeSizeGiB: number;
  /** Tags for the control-state volume (Name/Stack/Cluster…); never the Flocker cluster tag. */
  readonly tags: Record<string, pulumi.Input<string>>;
}

/** What one node's Flocker services need before they start. */
interface NodePrerequisites {
  /** The packages (packages mode) or the images (containers mode) are on the node. */
  readonly software: pulumi.Resource;
  /** The certificates and agent.yml are in /etc/flocker. */
  readonly files: command.remote.Command;
  /** A digest of those files: the services are restarted when it changes. */
  readonly digest: pulumi.Output<string>;
}

/**
 * Flocker on every node: the software (packages, or ClusterHQ's images pulled by NodeImages),
 * certificates and agent.yml into /etc/flocker, then the control service on the control node (its
 * state on a volume of its own, FlockerControlState), then the agents and the Docker plugin
 * everywhere (they connect to the control service); then the book's Flocker test from a worker and
 * the cluster's Flocker status. Nodes proceed in parallel; the only cross-node edges are "agents
 * after the control service" and the status waiting for every node's agents.
 */
export class Flocker extends pulumi.ComponentResource {
  /** Agents and plugin running, per node name. */
  public readonly agentsReady: Readonly<Record<string, command.remote.Command>>;
  public readonly controlReady: command.remote.Command;
  /** The node that runs the control service. */
  public readonly controlHost: NodeHost;
  /** The volume that keeps the control service's state, and its mount on the control node. */
  public readonly controlState: FlockerControlState;
  /** The nodes and datasets the control service knows, as of the status step's last run. */
  public readonly status: pulumi.Output<FlockerStatus>;

  constructor(name: string, args: FlockerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:flocker:Flocker", name, {}, opts);
    this.controlHost = args.controlHost;
    const controlName = args.controlHost.node.name;
    const controlAddress = args.controlHost.node.privateIp;
    const agentYml = pulumi.all([args.accessKeyId, args.secretAccessKey]).apply(([accessKeyId, secretAccessKey]) =>
      renderAgentYml({
        controlHost: controlAddress,
        region: args.region,
        zone: args.availabilityZone,
        accessKeyId,
        secretAccessKey,
      }),
    );

    const prerequisites: Record<string, NodePrerequisites> = {};
    for (const host of args.hosts) {
      const nodeName = host.node.name;
      const payload = filesPayload(args, nodeName, nodeName === controlName, agentYml);
      const files = scriptStep(
        `${name}-${nodeName}-files`,
        {
          target: host.target,
          script: "flocker-files.sh",
          env: FLOCKER_NODE_ENV,
          stdin: payload,
          dependsOn: [host.dockerReady],
        },
        this,
      );
      prerequisites[nodeName] = { software: this.software(name, args, host), files, digest: filesDigest(payload) };
    }

    const control = prerequisites[controlName];
    this.controlState = new FlockerControlState(
      `${name}-control-state`,
      {
        host: args.controlHost,
        availabilityZone: args.availabilityZone,
        sizeGiB: args.controlStateVolumeSizeGiB,
        clusterId: args.pki.clusterId,
        tags: args.tags,
        install: args.source.kind,
        // Packages mode: after the install, whose package scripts may start flocker-control; its
        // state must not move while it runs. Containers mode: nothing starts it before its step.
        after: args.source.kind === "packages" ? [control.software] : [args.controlHost.dockerReady],
      },
      { parent: this },
    );
    const controlService = services(args.source, "control", {});
    this.controlReady = scriptStep(
      `${name}-${controlName}-control`,
      {
        target: args.controlHost.target,
        ...controlService,
        env: { ...FLOCKER_NODE_ENV, ...controlService.env, CONFIG_DIGEST: control.digest },
        dependsOn: [control.software, control.files, this.controlState.mounted],
      },
      this,
    );

    const agentsReady: Record<string, command.remote.Command> = {};
    for (const host of args.hosts) {
      const nodeName = host.node.name;
      const node = prerequisites[nodeName];
      const agents = services(args.source, "agents", { FLOCKER_CONTROL_HOST: controlAddress, NODE_ADDRESS: host.node.privateIp });
      agentsReady[nodeName] = scriptStep(
        `${name}-${nodeName}-agents`,
        {
          target: host.target,
          ...agents,
          env: { ...FLOCKER_NODE_ENV, ...agents.env, CONFIG_DIGEST: node.digest },
          dependsOn: [node.software, node.files, this.controlReady],
        },
        this,
      );
    }
    this.agentsReady = agentsReady;

    const test = args.test
      ? scriptStep(
          `${name}-test`,
          {
            target: args.test.host.target,
            script: "flocker-test.sh",
            env: {
              ...FLOCKER_NODE_ENV,
              TEST_IMAGE: args.test.image,
              FLOCKER_CONTROL_HOST: controlAddress,
              VOLUME_NAME: FLOCKER_TEST_VOLUME,
            },
            dependsOn: [agentsReady[args.test.host.node.name], this.controlReady, args.test.imagePulled],
            createTimeout: "30m",
          },
          this,
        )
      : undefined;

    const status = scriptStep(
      `${name}-status`,
      {
        target: args.controlHost.target,
        script: "flocker-status.sh",
        env: {
          ...FLOCKER_NODE_ENV,
          FLOCKER_CONTROL_HOST: controlAddress,
          EXPECTED_ADDRESSES: args.hosts.map((h) => h.node.privateIp).join(" "),
        },
        dependsOn: [this.controlReady, ...Object.values(agentsReady), ...(test ? [test] : [])],
      },
      this,
    );
    this.status = status.stdout.apply(parseFlockerStatus);
    this.registerOutputs({ status: this.status });
  }

  /** What the node's Flocker services wait for besides their files: packages, or their images. */
  private software(name: string, args: FlockerArgs, host: NodeHost): pulumi.Resource {
    const nodeName = host.node.name;
    if (args.source.kind === "packages") {
      return scriptStep(
        `${name}-${nodeName}-install`,
        {
          target: host.target,
          script: "flocker-packages.sh",
          action: "install",
          env: { ...flockerPackageEnv(args.source.packages, args.sshUser), FLOCKER_ETC: FLOCKER_NODE_ENV.FLOCKER_ETC },
          // The apt source may carry credentials: stdin, never the command line.
          stdin: flockerPackageStdin(args.source.packages),
          dependsOn: [host.dockerReady],
        },
        this,
      );
    }
    const pulled = args.flockerImagesPulled[nodeName];
    if (pulled === undefined) throw new Error(`containers mode: no pull of the Flocker images on ${nodeName}`);
    return pulled;
  }
}

type ServicesStep = { script: string; action: string; env: Record<string, string> };

/**
 * How the control service or the agents start in each mode: systemd units (packages) or ClusterHQ's
 * containers. The step keeps its logical name across modes, so switching flockerInstall is an
 * update that re-runs the create, and each mode's create first stops what the other mode left
 * running (scripts/flocker-services.sh, scripts/flocker-containers.sh). No delete: a delete runs on
 * the node the step belongs to, so it would block when that node is unreachable, and the node is
 * terminated right after anyway.
 */
function services(source: FlockerSource, role: "control" | "agents", agentEnv: Record<string, string>): ServicesStep {
  if (source.kind === "packages") return { script: "flocker-services.sh", action: role, env: {} };
  return {
    script: "flocker-containers.sh",
    action: role,
    env:
      role === "control"
        ? { CONTROL_IMAGE: source.images.control, CONTROL_STATE_DIR }
        : { ...agentImages(source.images), ...agentEnv },
  };
}

function agentImages(images: FlockerImages): Record<string, string> {
  return {
    DATASET_AGENT_IMAGE: images.datasetAgent,
    CONTAINER_AGENT_IMAGE: images.containerAgent,
    PLUGIN_IMAGE: images.plugin,
  };
}

/**
 * A digest of a node's Flocker files, so that the services step re-runs — and restarts the
 * services, which read their files only at start — when a certificate, key or agent.yml changes
 * (e.g. after rotating the Flocker access key). It is a hash of high-entropy key material, safe
 * to show; unsecret so that the command line it goes into stays readable in previews.
 */
function filesDigest(payload: pulumi.Output<string>): pulumi.Output<string> {
  return pulumi.unsecret(payload.apply((text) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 16)));
}

function filesPayload(
  args: FlockerArgs,
  nodeName: string,
  isControl: boolean,
  agentYml: pulumi.Output<string>,
): pulumi.Output<string> {
  const { pki } = args;
  const node = pki.nodes[nodeName];
  const control: pulumi.Output<FlockerNodeCredentials["control"]> = isControl
    ? pulumi
        .all([pki.control.certPem, pki.control.keyPem, pki.client.certPem, pki.client.keyPem])
        .apply(([serviceCert, serviceKey, clientCert, clientKey]) => ({
          service: { certPem: serviceCert, keyPem: serviceKey },
          client: { certPem: clientCert, keyPem: clientKey },
        }))
    : pulumi.output(undefined);
  const payload = pulumi
    .all([pki.caCertPem, node.certPem, node.keyPem, pki.plugin.certPem, pki.plugin.keyPem, agentYml, control])
    .apply(([caCertPem, nodeCert, nodeKey, pluginCert, pluginKey, yml, controlCredentials]) =>
      flockerFilesPayload(
        flockerNodeFiles({
          caCertPem,
          node: { certPem: nodeCert, keyPem: nodeKey },
          plugin: { certPem: pluginCert, keyPem: pluginKey },
          agentYml: yml,
          control: controlCredentials,
        }),
      ),
    );
  return pulumi.secret(payload);
}
