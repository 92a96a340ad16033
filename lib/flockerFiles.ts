/**
 * Which Flocker credentials go to which node (docs/flocker.md), and the stdin payload that
 * `scripts/flocker-files.sh` writes into /etc/flocker. `cluster.key` never leaves Pulumi state.
 */

export interface KeyAndCert {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface FlockerNodeCredentials {
  readonly caCertPem: string;
  /** This node's own `node-<uuid>` certificate: unique per node. */
  readonly node: KeyAndCert;
  /** `user-plugin`: the Docker plugin's API credentials, on every node. */
  readonly plugin: KeyAndCert;
  readonly agentYml: string;
  /** Only on the control node: the service certificate and the `user-client` API credentials. */
  readonly control?: { readonly service: KeyAndCert; readonly client: KeyAndCert };
}

export function flockerNodeFiles(credentials: FlockerNodeCredentials): Record<string, string> {
  const files: Record<string, string> = {
    "agent.yml": credentials.agentYml,
    "cluster.crt": credentials.caCertPem,
    "node.crt": credentials.node.certPem,
    "node.key": credentials.node.keyPem,
    "plugin.crt": credentials.plugin.certPem,
    "plugin.key": credentials.plugin.keyPem,
  };
  if (credentials.control) {
    files["control-service.crt"] = credentials.control.service.certPem;
    files["control-service.key"] = credentials.control.service.keyPem;
    files["client.crt"] = credentials.control.client.certPem;
    files["client.key"] = credentials.control.client.keyPem;
  }
  return files;
}

/** The JSON document `flocker-files.sh` reads on stdin. */
export function flockerFilesPayload(files: Record<string, string>): string {
  return JSON.stringify({ files });
}
