/**
 * A Flocker PKI made with openssl for the engine tier's own tests of the Flocker stand-ins, in
 * the shapes the stack's certificates have (docs/flocker.md): a CA, the control service's
 * certificate with the DNS name control-service and the control host's address, one node
 * certificate per node (CN node-<uuid>) and the plugin's API user (CN user-plugin). The step
 * proofs use the program's own certificates instead. RSA 2048: these keys only live for a test.
 */
import { execFileSync } from "child_process";
import { randomUUID } from "crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

export interface TestPki {
  /** The files of /etc/flocker each node gets (the control node's include the control pair). */
  filesFor(node: string): Record<string, string>;
  /** A key and certificate signed by a CA the cluster does not trust (a client it must refuse). */
  readonly stranger: { readonly crt: string; readonly key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

// The arguments below hold no spaces (subjects and extensions included), so a command is one string.
function keyAndCsr(dir: string, name: string, subject: string): void {
  openssl(dir, `req -new -newkey rsa:2048 -nodes -keyout ${name}.key -out ${name}.csr -subj ${subject}`.split(" "));
}

function sign(dir: string, name: string, ca: string, ext: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  const caArgs = `-CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial`;
  openssl(dir, `x509 -req -in ${name}.csr ${caArgs} -days 2 -out ${name}.crt -extfile ${name}.ext`.split(" "));
}

function selfSigned(dir: string, name: string, cn: string): void {
  const ca = "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";
  openssl(dir, `req -x509 -newkey rsa:2048 -nodes -keyout ${name}.key -out ${name}.crt -days 2 -subj /CN=${cn} ${ca}`.split(" "));
}

export function makeTestPki(nodes: readonly string[], controlNode: string, controlIp: string, agentYml: string): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), "sfe-pki-"));
  try {
    const ou = randomUUID();
    selfSigned(dir, "cluster", "engine-tier");
    keyAndCsr(dir, "control-service", `/OU=${ou}/CN=control-service`);
    sign(dir, "control-service", "cluster", `subjectAltName=DNS:control-service,IP:${controlIp}\nextendedKeyUsage=serverAuth\n`);
    keyAndCsr(dir, "plugin", `/OU=${ou}/CN=user-plugin`);
    sign(dir, "plugin", "cluster", "extendedKeyUsage=clientAuth\n");
    const files: Record<string, Record<string, string>> = {};
    const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
    for (const node of nodes) {
      keyAndCsr(dir, `node-${node}`, `/OU=${ou}/CN=node-${randomUUID()}`);
      sign(dir, `node-${node}`, "cluster", "extendedKeyUsage=clientAuth,serverAuth\n");
      files[node] = {
        "cluster.crt": read("cluster.crt"),
        "node.crt": read(`node-${node}.crt`),
        "node.key": read(`node-${node}.key`),
        "plugin.crt": read("plugin.crt"),
        "plugin.key": read("plugin.key"),
        "agent.yml": agentYml,
        ...(node === controlNode
          ? { "control-service.crt": read("control-service.crt"), "control-service.key": read("control-service.key") }
          : {}),
      };
    }
    selfSigned(dir, "stranger", "user-plugin");
    return {
      filesFor: (node) => {
        const f = files[node];
        if (!f) throw new Error(`no certificates made for ${node}`);
        return f;
      },
      stranger: { crt: read("stranger.crt"), key: read("stranger.key") },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
