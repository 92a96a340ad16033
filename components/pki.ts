import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";

/** flocker-ca's choices (docs/flocker.md): RSA 4096, 20 years. */
const FLOCKER_KEY_BITS = 4096;
const FLOCKER_VALIDITY_HOURS = 20 * 365 * 24;

export interface FlockerPkiArgs {
  /** Common name of the CA certificate (`flocker-ca initialize <name>`). */
  readonly clusterName: string;
  /** Node names that get a `node-<uuid>` certificate each. */
  readonly nodeNames: readonly string[];
  /** Extra names for the control certificate's SAN: the control node's private address. */
  readonly controlAddresses: readonly string[];
}

/** A certificate and its key, both as Outputs; the key is secret. */
export interface IssuedCertificate {
  readonly certPem: pulumi.Output<string>;
  readonly keyPem: pulumi.Output<string>;
}

/**
 * Flocker's certificate chain, made the way `flocker-ca` makes it (docs/flocker.md): one cluster UUID
 * as the OU of every certificate; the control certificate names `control-service` (agents verify
 * that name whatever address they dial); one `node-<uuid>` certificate per node; `user-plugin` and
 * `user-client` API certificates for client authentication. The CA key never leaves Pulumi state.
 */
export class FlockerPki extends pulumi.ComponentResource {
  /** The cluster UUID: OU of every certificate and Flocker's `flocker-cluster-id` volume tag. */
  public readonly clusterId: pulumi.Output<string>;
  public readonly caCertPem: pulumi.Output<string>;
  public readonly control: IssuedCertificate;
  public readonly plugin: IssuedCertificate;
  public readonly client: IssuedCertificate;
  /** Per node name. */
  public readonly nodes: Readonly<Record<string, IssuedCertificate>>;

  constructor(name: string, args: FlockerPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("swarm-flocker:pki:FlockerPki", name, {}, opts);

    const clusterUuid = new random.RandomUuid(`${name}-cluster-id`, {}, { parent: this });
    this.clusterId = clusterUuid.result;
    const caKey = newKey(`${name}-ca-key`, this);
    const caCert = new tls.SelfSignedCert(
      `${name}-ca-cert`,
      {
        privateKeyPem: caKey.privateKeyPem,
        subject: { commonName: args.clusterName, organizationalUnit: this.clusterId },
        isCaCertificate: true,
        maxPathLength: 0,
        setSubjectKeyId: true,
        setAuthorityKeyId: true,
        allowedUses: ["cert_signing", "crl_signing"],
        validityPeriodHours: FLOCKER_VALIDITY_HOURS,
      },
      { parent: caKey },
    );
    this.caCertPem = caCert.certPem;

    const issue = (role: string, leaf: LeafProfile): IssuedCertificate => {
      const key = newKey(`${name}-${role}-key`, this);
      const request = new tls.CertRequest(
        `${name}-${role}-csr`,
        {
          privateKeyPem: key.privateKeyPem,
          subject: { commonName: leaf.commonName, organizationalUnit: this.clusterId },
          dnsNames: leaf.dnsNames,
          ipAddresses: leaf.ipAddresses,
        },
        { parent: key },
      );
      const cert = new tls.LocallySignedCert(
        `${name}-${role}-cert`,
        {
          certRequestPem: request.certRequestPem,
          caCertPem: caCert.certPem,
          caPrivateKeyPem: caKey.privateKeyPem,
          allowedUses: leaf.allowedUses,
          validityPeriodHours: FLOCKER_VALIDITY_HOURS,
        },
        { parent: key },
      );
      return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
    };

    this.control = issue("control", {
      commonName: "control-service",
      dnsNames: ["control-service"],
      ipAddresses: [...args.controlAddresses],
      allowedUses: SERVER_USES,
    });
    this.plugin = issue("plugin", { commonName: "user-plugin", allowedUses: CLIENT_USES });
    this.client = issue("client", { commonName: "user-client", allowedUses: CLIENT_USES });

    const nodes: Record<string, IssuedCertificate> = {};
    for (const nodeName of args.nodeNames) {
      // Flocker derives the node's identity from the CN: it must be "node-" + a UUID.
      const nodeUuid = new random.RandomUuid(`${name}-${nodeName}-id`, {}, { parent: this });
      nodes[nodeName] = issue(nodeName, {
        commonName: pulumi.interpolate`node-${nodeUuid.result}`,
        allowedUses: CLIENT_USES,
      });
    }
    this.nodes = nodes;

    this.registerOutputs({
      clusterId: this.clusterId,
      caCertPem: this.caCertPem,
      controlCertPem: this.control.certPem,
      pluginCertPem: this.plugin.certPem,
      clientCertPem: this.client.certPem,
    });
  }
}

interface LeafProfile {
  readonly commonName: pulumi.Input<string>;
  readonly dnsNames?: string[];
  readonly ipAddresses?: string[];
  readonly allowedUses: string[];
}

// flocker-ca sets no key usages on leaves; @pulumi/tls requires some. These are the ones that keep
// OpenSSL's purpose checks happy for a TLS server and for TLS clients (values are snake_case:
// nothing but a test catches a typo, see tests/program.dev.test.ts).
const SERVER_USES = ["digital_signature", "key_encipherment", "server_auth"];
const CLIENT_USES = ["digital_signature", "key_encipherment", "client_auth"];

function newKey(name: string, parent: pulumi.Resource): tls.PrivateKey {
  return new tls.PrivateKey(name, { algorithm: "RSA", rsaBits: FLOCKER_KEY_BITS }, { parent });
}
