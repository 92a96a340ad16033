/** The pure renderers: what the program writes to nodes, parsed back. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { renderAgentYml } from "../lib/agentYml";
import { renderCloudConfig } from "../lib/cloudConfig";
import { flockerFilesPayload, flockerNodeFiles } from "../lib/flockerFiles";
import { cidrToken, portMatrix } from "../lib/ports";
import { digestFiles, scriptCommand, scriptDigest } from "../lib/scripts";
import { planNodes, topology } from "../lib/topology";
import { ubuntuAmiNamePattern } from "../lib/ubuntuAmi";
import { envOf, wordsOf } from "./helpers/program";

describe("agent.yml", () => {
  const input = {
    controlHost: "172.31.0.13",
    region: "us-east-1",
    zone: "us-east-1a",
    accessKeyId: "AKIAEXAMPLE",
    secretAccessKey: "abc/def+ghi: #not-a-comment",
  };

  test("parses back to Flocker's schema: version 1, control service on 4524, the aws backend", () => {
    expect(YAML.parse(renderAgentYml(input))).toEqual({
      version: 1,
      "control-service": { hostname: "172.31.0.13", port: 4524 },
      dataset: {
        backend: "aws",
        region: "us-east-1",
        zone: "us-east-1a",
        access_key_id: "AKIAEXAMPLE",
        secret_access_key: "abc/def+ghi: #not-a-comment",
      },
    });
  });

  test("YAML-significant characters in values survive", () => {
    for (const secret of ["'quoted'", '"double"', "- dash", "yes", "0123", "a\\b", "{x: 1}"]) {
      expect(YAML.parse(renderAgentYml({ ...input, secretAccessKey: secret })).dataset.secret_access_key).toBe(secret);
    }
  });
});

describe("cloud-config", () => {
  test("sets the hostname and nothing else of consequence", () => {
    const text = renderCloudConfig({ hostname: "aws-105" });
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    expect(YAML.parse(text)).toEqual({ hostname: "aws-105", fqdn: "aws-105", preserve_hostname: false, manage_etc_hosts: true });
  });
});

describe("Flocker files per node", () => {
  const pair = (name: string) => ({ certPem: `${name}-cert`, keyPem: `${name}-key` });
  const base = { caCertPem: "ca", node: pair("node"), plugin: pair("plugin"), agentYml: "agent" };

  test("agent nodes get the CA, their node credentials, the plugin's and agent.yml — never cluster.key", () => {
    expect(flockerNodeFiles(base)).toEqual({
      "agent.yml": "agent",
      "cluster.crt": "ca",
      "node.crt": "node-cert",
      "node.key": "node-key",
      "plugin.crt": "plugin-cert",
      "plugin.key": "plugin-key",
    });
  });

  test("the control node also gets the service and client credentials", () => {
    const files = flockerNodeFiles({ ...base, control: { service: pair("svc"), client: pair("client") } });
    expect(Object.keys(files).sort()).toEqual(
      [
        "agent.yml",
        "client.crt",
        "client.key",
        "cluster.crt",
        "control-service.crt",
        "control-service.key",
        "node.crt",
        "node.key",
        "plugin.crt",
        "plugin.key",
      ].sort(),
    );
    expect(Object.keys(files)).not.toContain("cluster.key");
  });

  test("the stdin payload is JSON the script's jq reads", () => {
    expect(JSON.parse(flockerFilesPayload({ "a.crt": "x\ny" }))).toEqual({ files: { "a.crt": "x\ny" } });
  });
});

describe("script command lines", () => {
  test("parameters as env assignments, the digest, the script and its action; values with spaces survive", () => {
    const line = scriptCommand({
      user: "ubuntu",
      script: "flocker-packages.sh",
      action: "preflight",
      env: { FLOCKER_APT_SOURCE: "deb [trusted=yes] https://repo.example.com/x /", EMPTY: "", N: 3 },
    });
    const words = wordsOf(line);
    expect(words.slice(0, 2)).toEqual(["sudo", "env"]);
    expect(words.slice(-3)).toEqual(["bash", "/home/ubuntu/.swarm-flocker/scripts/flocker-packages.sh", "preflight"]);
    expect(envOf(line)).toEqual({
      FLOCKER_APT_SOURCE: "deb [trusted=yes] https://repo.example.com/x /",
      EMPTY: "",
      N: "3",
      SCRIPT_DIGEST: scriptDigest("flocker-packages.sh"),
    });
  });

  test("shell metacharacters in a value cannot break out of the assignment", () => {
    const line = scriptCommand({ user: "ubuntu", script: "wait-boot.sh", env: { NODE_NAME: "x; rm -rf / $(id) `id`" } });
    expect(envOf(line).NODE_NAME).toBe("x; rm -rf / $(id) `id`");
  });

  test("the digest follows the script's content and the shared library", () => {
    expect(scriptDigest("swarm-join.sh")).toMatch(/^[0-9a-f]{16}$/);
    expect(scriptDigest("swarm-join.sh")).not.toBe(scriptDigest("swarm-init.sh"));
  });

  test("bad variable names are refused", () => {
    expect(() => scriptCommand({ user: "ubuntu", script: "wait-boot.sh", env: { "A B": "x" } })).toThrow(/A B/);
  });
});

describe("digest changes with the file", () => {
  test("a changed script gets a new digest (so its step re-runs)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "digest-"));
    const script = path.join(dir, "step.sh");
    const library = path.join(dir, "common.sh");
    fs.writeFileSync(script, "#!/usr/bin/env bash\necho one\n");
    fs.writeFileSync(library, "log() { :; }\n");
    const before = digestFiles([script, library]);
    fs.appendFileSync(script, "echo two\n");
    const afterScript = digestFiles([script, library]);
    fs.appendFileSync(library, "die() { :; }\n");
    expect(new Set([before, afterScript, digestFiles([script, library])]).size).toBe(3);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("topology", () => {
  const input = {
    nodeCount: 10,
    managerCount: 3,
    nodeNamePrefix: "aws-",
    firstNodeNumber: 101,
    subnetCidr: "172.31.0.0/20",
    nodeIpOffset: 10,
  };

  test("the book's roles and static addresses", () => {
    expect(planNodes(input).map((n) => `${n.name}:${n.role}:${n.swarmRole ?? "-"}:${n.privateIp}`)).toEqual([
      "aws-101:manager:manager:172.31.0.10",
      "aws-102:manager:manager:172.31.0.11",
      "aws-103:manager:manager:172.31.0.12",
      "aws-104:control:-:172.31.0.13",
      "aws-105:sparkmaster:worker:172.31.0.14",
      "aws-106:worker:worker:172.31.0.15",
      "aws-107:worker:worker:172.31.0.16",
      "aws-108:worker:worker:172.31.0.17",
      "aws-109:worker:worker:172.31.0.18",
      "aws-110:worker:worker:172.31.0.19",
    ]);
  });

  test("the current platform: no Flocker control node, every node in the Swarm, the Spark master's right after the managers", () => {
    const layout = topology({ ...input, platform: "current" });
    expect(layout.nodes.map((n) => `${n.name}:${n.role}:${n.swarmRole ?? "-"}:${n.privateIp}`).slice(0, 5)).toEqual([
      "aws-101:manager:manager:172.31.0.10",
      "aws-102:manager:manager:172.31.0.11",
      "aws-103:manager:manager:172.31.0.12",
      "aws-104:sparkmaster:worker:172.31.0.13",
      "aws-105:worker:worker:172.31.0.14",
    ]);
    expect(layout.control).toBeUndefined();
    expect(layout.nodes.every((n) => n.swarmRole !== undefined)).toBe(true);
    expect(layout.workers).toHaveLength(7);
  });

  test("five managers shift the control and Spark master nodes", () => {
    const layout = topology({ ...input, managerCount: 5 });
    expect(layout.joiningManagers.map((n) => n.name)).toEqual(["aws-102", "aws-103", "aws-104", "aws-105"]);
    expect(layout.control?.name).toBe("aws-106");
    expect(layout.sparkMaster.name).toBe("aws-107");
    expect(layout.workers.map((n) => n.name)).toEqual(["aws-107", "aws-108", "aws-109", "aws-110"]);
  });

  test("addresses beyond the subnet are refused", () => {
    expect(() => planNodes({ ...input, subnetCidr: "172.31.0.0/28" })).toThrow(/outside 172.31.0.0\/28/);
  });
});

describe("port matrix", () => {
  test("ESP only with an encrypted overlay; admin rules per CIDR with stable names", () => {
    const plain = portMatrix({ adminCidrs: ["203.0.113.0/24"], overlayEncrypted: false });
    const encrypted = portMatrix({ adminCidrs: ["203.0.113.0/24"], overlayEncrypted: true });
    expect(plain.some((r) => r.protocol === "50")).toBe(false);
    expect(encrypted.filter((r) => r.protocol === "50").map((r) => r.name)).toEqual(["node-esp-from-nodes"]);
    expect(plain.filter((r) => r.peer.kind === "cidr" && r.direction === "ingress").map((r) => r.name)).toEqual([
      "node-22-tcp-from-203-0-113-0-24",
      "control-4523-tcp-from-203-0-113-0-24",
    ]);
    expect(new Set(plain.map((r) => r.name)).size).toBe(plain.length);
    expect(cidrToken("2001:db8::/32")).toBe("2001-db8-32");
  });

  test("cluster ports are only ever sourced from the node security group", () => {
    for (const rule of portMatrix({ adminCidrs: ["10.1.0.0/16", "2001:db8::/32"], overlayEncrypted: true })) {
      if ([2377, 7946, 4789, 4524].includes(rule.port ?? -1) || rule.protocol === "50") {
        expect(rule.peer).toEqual({ kind: "group", group: "node" });
      }
    }
  });
});

describe("Ubuntu AMI lookup", () => {
  test("name patterns of the releases Flocker has packages for", () => {
    expect(ubuntuAmiNamePattern("16.04")).toBe("ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*");
    expect(ubuntuAmiNamePattern("18.04")).toBe("ubuntu/images/hvm-ssd/ubuntu-bionic-18.04-amd64-server-*");
    expect(() => ubuntuAmiNamePattern("24.04")).toThrow(/16.04, 18.04/);
  });
});
