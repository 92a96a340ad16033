import * as command from "@pulumi/command";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { FlockerSource } from "../config/schema";
import { renderAgentYml } from "../lib/agentYml";
import { FlockerNodeCredentials, flockerFilesPayload, flockerNodeFiles } from "../lib/flockerFiles";
import { flockerPackageEnv } from "../lib/flockerPackages";
import { NodeHost } from "./nodeHost";
import { FlockerPki } from "./pki";
import { scriptStep } from "./remoteStep";

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
}

/**
 * Flocker on every node: packages, then certificates and agent.yml into /etc/flocker, then the
 * control service on the control node, then the agents and the Docker plugin everywhere (they
 * connect to the control service). Nodes proceed in parallel; the only cross-node edge is
 * "agents after the control service".
 */
export class Flocker extends pulumi.ComponentResource {
  /** Agents and plugin running, per node name. */
  public readonly agentsReady: Readonly<Record<string, command.remote.Command>>;
  public readonly controlReady: command.remote.Command;

  constructor(name: string, args: FlockerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:flocker:Flocker", name, {}, opts);
    const controlName = args.controlHost.node.name;
    const agentYml = pulumi
      .all([args.accessKeyId, args.secretAccessKey])
      .apply(([accessKeyId, secretAccessKey]) =>
        renderAgentYml({
          controlHost: args.controlHost.node.privateIp,
          region: args.region,
          zone: args.availabilityZone,
          accessKeyId,
          secretAccessKey,
        }),
      );

    const installed: Record<string, { packages: pulumi.Resource; files: command.remote.Command; digest: pulumi.Output<string> }> = {};
    for (const host of args.hosts) {
      const nodeName = host.node.name;
      const packages =
        args.source.kind === "packages"
          ? scriptStep(
              `${name}-${nodeName}-install`,
              {
                target: host.target,
                script: "flocker-packages.sh",
                action: "install",
                env: flockerPackageEnv(args.source.packages, args.sshUser),
                dependsOn: [host.dockerReady],
              },
              this,
            )
          : host.dockerReady;
      const payload = filesPayload(args, nodeName, nodeName === controlName, agentYml);
      const files = scriptStep(
        `${name}-${nodeName}-files`,
        {
          target: host.target,
          script: "flocker-files.sh",
          env: { FLOCKER_ETC: "/etc/flocker" },
          stdin: payload,
          dependsOn: [host.dockerReady],
        },
        this,
      );
      installed[nodeName] = { packages, files, digest: filesDigest(payload) };
    }

    this.controlReady = scriptStep(
      `${name}-${controlName}-control`,
      {
        target: args.controlHost.target,
        script: "flocker-services.sh",
        action: "control",
        env: { CONFIG_DIGEST: installed[controlName].digest },
        dependsOn: [installed[controlName].packages, installed[controlName].files],
      },
      this,
    );

    const agentsReady: Record<string, command.remote.Command> = {};
    for (const host of args.hosts) {
      const nodeName = host.node.name;
      agentsReady[nodeName] = scriptStep(
        `${name}-${nodeName}-agents`,
        {
          target: host.target,
          script: "flocker-services.sh",
          action: "agents",
          env: { CONFIG_DIGEST: installed[nodeName].digest },
          dependsOn: [installed[nodeName].packages, installed[nodeName].files, this.controlReady],
        },
        this,
      );
    }
    this.agentsReady = agentsReady;
    this.registerOutputs({});
  }
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
