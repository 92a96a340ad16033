/**
 * Real key material for a program run under mocks (`runProgram({ realCrypto: true })`): what the
 * @pulumi/tls provider would return, made from the resource's own inputs, so that the engine tier
 * can log in with the stack's SSH key and Flocker stand-ins can verify the stack's certificates.
 * Keys come from node's crypto (RSA, PKCS#1 PEM as the provider writes them) and `ssh-keygen`
 * (the OpenSSH forms); certificates are X.509 made by `openssl` with the subject, SANs, allowed
 * uses, CA flag and validity the program asked for, a locally signed one signed by the CA key the
 * program passes. Secret material goes through files in a private temporary directory, never a
 * command line.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";

const run = promisify(execFile);
const generateKeyPair = promisify(crypto.generateKeyPair);

/** The tls resources' inputs this file reads (the provider's names). */
interface TlsInputs {
  readonly algorithm?: string;
  readonly rsaBits?: number;
  readonly privateKeyPem?: string;
  readonly certRequestPem?: string;
  readonly caCertPem?: string;
  readonly caPrivateKeyPem?: string;
  readonly subject?: Record<string, unknown>;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly allowedUses?: readonly string[];
  readonly isCaCertificate?: boolean;
  readonly maxPathLength?: number;
  readonly validityPeriodHours?: number;
  readonly setSubjectKeyId?: boolean;
  readonly setAuthorityKeyId?: boolean;
}

export interface TlsState {
  readonly id: string;
  readonly state: Record<string, unknown>;
}

/** The tls provider's allowedUses: key usages and extended key usages, as openssl names them. */
const KEY_USAGES: Readonly<Record<string, string>> = {
  digital_signature: "digitalSignature",
  content_commitment: "nonRepudiation",
  key_encipherment: "keyEncipherment",
  data_encipherment: "dataEncipherment",
  key_agreement: "keyAgreement",
  cert_signing: "keyCertSign",
  crl_signing: "cRLSign",
  encipher_only: "encipherOnly",
  decipher_only: "decipherOnly",
};
const EXTENDED_KEY_USAGES: Readonly<Record<string, string>> = {
  any_extended: "anyExtendedKeyUsage",
  server_auth: "serverAuth",
  client_auth: "clientAuth",
  code_signing: "codeSigning",
  email_protection: "emailProtection",
  timestamping: "timeStamping",
  ocsp_signing: "OCSPSigning",
};

/** Subject fields in the order Go's pkix.Name (the provider's) writes them. */
const SUBJECT_FIELDS: readonly (readonly [string, string])[] = [
  ["country", "C"],
  ["province", "ST"],
  ["locality", "L"],
  ["streetAddresses", "street"],
  ["postalCode", "postalCode"],
  ["organization", "O"],
  ["organizationalUnit", "OU"],
  ["commonName", "CN"],
  ["serialNumber", "serialNumber"],
];

/** Real state for a tls resource, or undefined for any other type (the mock answers those). */
export async function realTlsState(type: string, name: string, inputs: Record<string, unknown>): Promise<TlsState | undefined> {
  const tls = inputs as TlsInputs;
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return { id: name, state: { ...inputs, ...(await privateKey(String(tls.algorithm), tls)) } };
    case "tls:index/certRequest:CertRequest":
      return { id: name, state: { ...inputs, certRequestPem: await certRequest(tls) } };
    case "tls:index/selfSignedCert:SelfSignedCert":
      return { id: name, state: { ...inputs, certPem: await selfSignedCert(tls) } };
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { id: name, state: { ...inputs, certPem: await locallySignedCert(tls) } };
    default:
      return undefined;
  }
}

async function privateKey(algorithm: string, inputs: TlsInputs): Promise<Record<string, string>> {
  if (algorithm === "RSA") {
    const { privateKey: key } = await generateKeyPair("rsa", { modulusLength: Number(inputs.rsaBits ?? 2048) });
    const privateKeyPem = key.export({ type: "pkcs1", format: "pem" }).toString();
    return withScratch(async (dir) => {
      const file = writeSecret(dir, "key", privateKeyPem);
      const publicKeyOpenssh = (await run("ssh-keygen", ["-y", "-f", file])).stdout;
      // -p rewrites the key file in OpenSSH's own format (the default since OpenSSH 7.8).
      await run("ssh-keygen", ["-p", "-q", "-N", "", "-f", file]);
      return {
        privateKeyPem,
        privateKeyOpenssh: fs.readFileSync(file, "utf8"),
        publicKeyOpenssh,
        publicKeyPem: crypto.createPublicKey(key).export({ type: "spki", format: "pem" }).toString(),
      };
    });
  }
  if (algorithm === "ED25519") {
    return withScratch(async (dir) => {
      const file = path.join(dir, "key");
      await run("ssh-keygen", ["-t", "ed25519", "-q", "-N", "", "-C", "", "-f", file]);
      const privateKeyOpenssh = fs.readFileSync(file, "utf8");
      const key = ed25519FromOpenssh(privateKeyOpenssh);
      return {
        privateKeyOpenssh,
        publicKeyOpenssh: fs.readFileSync(`${file}.pub`, "utf8"),
        privateKeyPem: key.export({ type: "pkcs8", format: "pem" }).toString(),
        publicKeyPem: crypto.createPublicKey(key).export({ type: "spki", format: "pem" }).toString(),
      };
    });
  }
  throw new Error(`realCrypto makes RSA and ED25519 keys (the stack's), not ${algorithm}`);
}

/**
 * The Ed25519 key in an unencrypted OpenSSH private key (PROTOCOL.key: magic, cipher "none", one
 * key; its private section holds the 32-byte seed then the public key), as a node KeyObject: the
 * provider also returns the PKCS#8 form, which ssh-keygen cannot write for Ed25519.
 */
export function ed25519FromOpenssh(text: string): crypto.KeyObject {
  const body = Buffer.from(text.replace(/-----[^-]+-----/g, "").replace(/\s/g, ""), "base64");
  let at = "openssh-key-v1\0".length;
  const field = (): Buffer => {
    const length = body.readUInt32BE(at);
    const value = body.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  const cipher = field().toString();
  if (cipher !== "none") throw new Error(`an encrypted OpenSSH key (${cipher}) cannot be read here`);
  field(); // kdf name
  field(); // kdf options
  at += 4; // number of keys (one)
  field(); // public key blob
  const secret = field();
  let inner = 8; // two check integers
  const innerField = (): Buffer => {
    const length = secret.readUInt32BE(inner);
    const value = secret.subarray(inner + 4, inner + 4 + length);
    inner += 4 + length;
    return value;
  };
  const keyType = innerField().toString();
  if (keyType !== "ssh-ed25519") throw new Error(`not an Ed25519 key: ${keyType}`);
  const publicKey = innerField();
  const seedAndPublic = innerField();
  return crypto.createPrivateKey({
    format: "jwk",
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: seedAndPublic.subarray(0, 32).toString("base64url"),
      x: publicKey.toString("base64url"),
    },
  });
}

async function certRequest(inputs: TlsInputs): Promise<string> {
  return withScratch(async (dir) => {
    const key = writeSecret(dir, "key.pem", String(inputs.privateKeyPem));
    const config = writeConfig(dir, inputs.subject, requestExtensions(inputs));
    const out = path.join(dir, "req.csr");
    await run("openssl", ["req", "-new", "-key", key, "-config", config, "-reqexts", "ext", "-out", out]);
    return fs.readFileSync(out, "utf8");
  });
}

async function selfSignedCert(inputs: TlsInputs): Promise<string> {
  return withScratch(async (dir) => {
    const key = writeSecret(dir, "key.pem", String(inputs.privateKeyPem));
    const extensions = [...requestExtensions(inputs), ...certificateExtensions(inputs, "self")];
    const config = writeConfig(dir, inputs.subject, extensions);
    const out = path.join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-new",
      "-key",
      key,
      "-config",
      config,
      "-extensions",
      "ext",
      "-days",
      String(validityDays(inputs)),
      "-set_serial",
      randomSerial(),
      "-out",
      out,
    ]);
    return fs.readFileSync(out, "utf8");
  });
}

async function locallySignedCert(inputs: TlsInputs): Promise<string> {
  return withScratch(async (dir) => {
    const csr = path.join(dir, "req.csr");
    fs.writeFileSync(csr, String(inputs.certRequestPem));
    const caCert = path.join(dir, "ca.pem");
    fs.writeFileSync(caCert, String(inputs.caCertPem));
    const caKey = writeSecret(dir, "ca-key.pem", String(inputs.caPrivateKeyPem));
    const extensions = path.join(dir, "ext.cnf");
    fs.writeFileSync(extensions, `[ext]\n${certificateExtensions(inputs, "ca").join("\n")}\n`);
    const out = path.join(dir, "cert.pem");
    await run("openssl", [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      caCert,
      "-CAkey",
      caKey,
      "-set_serial",
      randomSerial(),
      "-days",
      String(validityDays(inputs)),
      // The provider copies the request's SANs into the certificate; the uses come from its inputs.
      "-copy_extensions",
      "copyall",
      "-extfile",
      extensions,
      "-extensions",
      "ext",
      "-out",
      out,
    ]);
    return fs.readFileSync(out, "utf8");
  });
}

/** The request's own extensions: its DNS and IP SANs. */
function requestExtensions(inputs: TlsInputs): string[] {
  const names = [
    ...(inputs.dnsNames ?? []).map((dns) => `DNS:${safeValue("dnsNames", dns)}`),
    ...(inputs.ipAddresses ?? []).map((ip) => `IP:${safeValue("ipAddresses", ip)}`),
  ];
  return names.length === 0 ? [] : [`subjectAltName = ${names.join(",")}`];
}

/** What the provider sets on a certificate: the CA flag, the uses, the key identifiers. */
function certificateExtensions(inputs: TlsInputs, signer: "self" | "ca"): string[] {
  const uses = inputs.allowedUses ?? [];
  const unknown = uses.filter((use) => KEY_USAGES[use] === undefined && EXTENDED_KEY_USAGES[use] === undefined);
  if (unknown.length > 0) throw new Error(`allowedUses holds values the tls provider does not know: ${unknown.join(", ")}`);
  const keyUsage = uses.filter((use) => KEY_USAGES[use] !== undefined).map((use) => KEY_USAGES[use]);
  const extendedKeyUsage = uses.filter((use) => EXTENDED_KEY_USAGES[use] !== undefined).map((use) => EXTENDED_KEY_USAGES[use]);
  const isCa = inputs.isCaCertificate === true;
  const pathLength =
    isCa && typeof inputs.maxPathLength === "number" && inputs.maxPathLength >= 0 ? `,pathlen:${inputs.maxPathLength}` : "";
  return [
    `basicConstraints = critical,CA:${isCa ? "TRUE" : "FALSE"}${pathLength}`,
    ...(keyUsage.length > 0 ? [`keyUsage = critical,${keyUsage.join(",")}`] : []),
    ...(extendedKeyUsage.length > 0 ? [`extendedKeyUsage = ${extendedKeyUsage.join(",")}`] : []),
    ...(signer === "ca" || inputs.setSubjectKeyId === true ? ["subjectKeyIdentifier = hash"] : []),
    ...(signer === "ca" || inputs.setAuthorityKeyId === true ? ["authorityKeyIdentifier = keyid"] : []),
  ];
}

/** An openssl request config: the subject as a distinguished-name section, then the extensions. */
function writeConfig(dir: string, subject: Record<string, unknown> | undefined, extensions: readonly string[]): string {
  const fields = SUBJECT_FIELDS.flatMap(([input, short]) => {
    const value = subject?.[input];
    const values = Array.isArray(value) ? value : value === undefined || value === "" ? [] : [value];
    return values.map((v, i) => `${i}.${short} = ${safeValue(`subject.${input}`, String(v))}`);
  });
  if (fields.length === 0) throw new Error("realCrypto needs a certificate subject (the stack always sets one)");
  const file = path.join(dir, "req.cnf");
  fs.writeFileSync(
    file,
    ["[req]", "prompt = no", "distinguished_name = dn", "[dn]", ...fields, "[ext]", ...extensions, ""].join("\n"),
  );
  return file;
}

/** Config values are written unquoted: refuse what openssl's config syntax would reinterpret. */
function safeValue(what: string, value: string): string {
  if (!/^[\w .:@*-]+$/.test(value))
    throw new Error(`realCrypto cannot write ${what} = ${JSON.stringify(value)} into an openssl config`);
  return value;
}

/** The provider counts validity in hours; openssl in days (the stack's 175200 h are 7300 days). */
function validityDays(inputs: TlsInputs): number {
  return Math.max(1, Math.ceil(Number(inputs.validityPeriodHours) / 24));
}

/** A positive 127-bit serial, as the provider draws one at random. */
function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] &= 0x7f;
  return `0x${bytes.toString("hex")}`;
}

function writeSecret(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

async function withScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "real-crypto-"));
  try {
    return await work(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
