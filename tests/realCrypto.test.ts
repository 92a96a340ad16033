/**
 * The real key material a run can ask for (runProgram's realCrypto, tools/plan/realCrypto.ts): keys
 * that OpenSSH and OpenSSL accept, and certificates with what the program asked for — the engine
 * tier's sshd and Flocker stand-ins check them for real, so a wrong field would fail there late.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { realTlsState } from "../tools/plan/realCrypto";

const OU = "e9836261-7d5e-484f-89f9-4055f063f8b8";
const HOURS_20_YEARS = 175200;

async function state(type: string, inputs: Record<string, unknown>): Promise<Record<string, any>> {
  const result = await realTlsState(`tls:index/${type}`, "test", inputs);
  if (result === undefined) throw new Error(`no real state for ${type}`);
  return result.state;
}

let dir: string;
let caKeyPem: string;
let caCertPem: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "real-crypto-test-"));
  caKeyPem = (await state("privateKey:PrivateKey", { algorithm: "RSA", rsaBits: 2048 })).privateKeyPem;
  caCertPem = (
    await state("selfSignedCert:SelfSignedCert", {
      privateKeyPem: caKeyPem,
      subject: { commonName: "dev", organizationalUnit: OU },
      isCaCertificate: true,
      maxPathLength: 0,
      allowedUses: ["cert_signing", "crl_signing"],
      validityPeriodHours: HOURS_20_YEARS,
      setSubjectKeyId: true,
      setAuthorityKeyId: true,
    })
  ).certPem;
}, 60000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function signed(subject: Record<string, string>, allowedUses: string[], sans: Record<string, string[]> = {}) {
  const keyPem = (await state("privateKey:PrivateKey", { algorithm: "RSA", rsaBits: 2048 })).privateKeyPem;
  const csr = await state("certRequest:CertRequest", { privateKeyPem: keyPem, subject, ...sans });
  const cert = await state("locallySignedCert:LocallySignedCert", {
    certRequestPem: csr.certRequestPem,
    caCertPem,
    caPrivateKeyPem: caKeyPem,
    allowedUses,
    validityPeriodHours: HOURS_20_YEARS,
  });
  return { keyPem, certPem: String(cert.certPem) };
}

function verifies(certPem: string, purpose: string): boolean {
  fs.writeFileSync(path.join(dir, "ca.pem"), caCertPem);
  fs.writeFileSync(path.join(dir, "leaf.pem"), certPem);
  try {
    execFileSync("openssl", ["verify", "-purpose", purpose, "-CAfile", path.join(dir, "ca.pem"), path.join(dir, "leaf.pem")], {
      stdio: "pipe",
    });
    return true;
  } catch {
    return false;
  }
}

describe("keys", () => {
  test("an RSA key has the requested size, and its OpenSSH forms are the same key", async () => {
    const key = await state("privateKey:PrivateKey", { algorithm: "RSA", rsaBits: 2048 });
    expect(key.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(crypto.createPrivateKey(key.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    const file = path.join(dir, "rsa");
    fs.writeFileSync(file, key.privateKeyOpenssh, { mode: 0o600 });
    expect(key.privateKeyOpenssh).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim()).toBe(key.publicKeyOpenssh.trim());
  });

  test("an ED25519 key (the nodes' SSH key) loads in ssh-keygen, and its PEM form is the same key", async () => {
    const key = await state("privateKey:PrivateKey", { algorithm: "ED25519" });
    const file = path.join(dir, "ed25519");
    fs.writeFileSync(file, key.privateKeyOpenssh, { mode: 0o600 });
    expect(execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim()).toBe(key.publicKeyOpenssh.trim());
    const signature = crypto.sign(null, Buffer.from("x"), key.privateKeyPem);
    expect(crypto.verify(null, Buffer.from("x"), key.publicKeyPem, signature)).toBe(true);
    const sshPublicBlob = Buffer.from(key.publicKeyOpenssh.split(" ")[1], "base64");
    const rawPublic = crypto.createPublicKey(key.publicKeyPem).export({ format: "jwk" }).x;
    expect(sshPublicBlob.subarray(-32).toString("base64url")).toBe(rawPublic);
  });

  test("an algorithm the stack does not use is refused by name", async () => {
    await expect(state("privateKey:PrivateKey", { algorithm: "ECDSA" })).rejects.toThrow(/not ECDSA/);
  });
});

describe("certificates", () => {
  test("the self-signed CA carries the subject, the CA flag with its path length, its uses and 20 years", () => {
    const ca = new crypto.X509Certificate(caCertPem);
    expect(ca.subject).toBe(`OU=${OU}\nCN=dev`);
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    const text = execFileSync("openssl", ["x509", "-noout", "-text"], { input: caCertPem, encoding: "utf8" });
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    const years = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / (365.25 * 24 * 3600 * 1000);
    expect(Math.round(years)).toBe(20);
  });

  test("a control certificate is signed by the CA, names control-service and its address, and serves TLS", async () => {
    const { certPem } = await signed(
      { commonName: "control-service", organizationalUnit: OU },
      ["digital_signature", "key_encipherment", "server_auth"],
      { dnsNames: ["control-service"], ipAddresses: ["172.31.0.13"] },
    );
    const cert = new crypto.X509Certificate(certPem);
    expect(cert.verify(new crypto.X509Certificate(caCertPem).publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe("DNS:control-service, IP Address:172.31.0.13");
    expect(cert.ca).toBe(false);
    expect(verifies(certPem, "sslserver")).toBe(true);
    expect(verifies(certPem, "sslclient")).toBe(false);
  });

  test("an API user's certificate is for clients only", async () => {
    const { certPem } = await signed({ commonName: "user-plugin", organizationalUnit: OU }, [
      "digital_signature",
      "key_encipherment",
      "client_auth",
    ]);
    expect(new crypto.X509Certificate(certPem).subject).toBe(`OU=${OU}\nCN=user-plugin`);
    expect(verifies(certPem, "sslclient")).toBe(true);
    expect(verifies(certPem, "sslserver")).toBe(false);
  });

  test("a use the provider does not know is refused by name", async () => {
    await expect(signed({ commonName: "x" }, ["client_auth", "clientAuth"])).rejects.toThrow(/does not know: clientAuth/);
  });
});
