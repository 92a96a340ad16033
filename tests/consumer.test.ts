/**
 * examples/consumer under Pulumi's mocks: a mocked StackReference carries outputs shaped like the
 * cluster's contract (StackOutputValues); the test checks the reference's name, what the program
 * derives from the outputs, and that the Flocker client key stays secret.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import type { CommonStackOutputValues, CurrentStackOutputValues, StackOutputValues } from "../lib/stackOutputs";
import { SECRET_OUTPUTS } from "../lib/stackOutputs";
import { CONSUMER_DIR, runConsumer, type ConsumerRun } from "./helpers/consumerMocks";
import { DEFAULT_CLUSTER_STACK, flockerClient, shellLine, sparkSubmitArgs } from "../examples/consumer/cluster";

const CA = "-----BEGIN CERTIFICATE-----\nmock-ca\n-----END CERTIFICATE-----\n";
const CLIENT_CERT = "-----BEGIN CERTIFICATE-----\nmock-user-client\n-----END CERTIFICATE-----\n";
const CLIENT_KEY = "-----BEGIN RSA PRIVATE KEY-----\nmock-client-key\n-----END RSA PRIVATE KEY-----\n";

const CLUSTER: StackOutputValues = {
  nodes: {
    "aws-101": { role: "manager", swarmRole: "manager", publicIp: "54.0.0.101", privateIp: "172.31.0.10" },
    "aws-104": { role: "control", publicIp: "54.0.0.104", privateIp: "172.31.0.13" },
    "aws-105": { role: "sparkmaster", swarmRole: "worker", publicIp: "54.0.0.105", privateIp: "172.31.0.14" },
  },
  managerAddresses: ["172.31.0.10:2377"],
  sshUser: "ubuntu",
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n-----END OPENSSH PRIVATE KEY-----\n",
  flockerControlEndpoint: "https://172.31.0.13:4523",
  flockerControlPublicEndpoint: "https://54.0.0.104:4523",
  flockerCaCert: CA,
  flockerClientCert: CLIENT_CERT,
  flockerClientKey: CLIENT_KEY,
  flockerStatus: { nodes: [{ uuid: "aaaa0000-0000-4000-8000-000000000101", address: "172.31.0.10" }], datasets: [] },
  sparkMasterUrl: "spark://54.0.0.105:7077",
  sparkUiUrl: "http://54.0.0.105:8080",
  swarmWorkerJoinToken: "SWMTKN-1-mock-worker",
  swarmManagerJoinToken: "SWMTKN-1-mock-manager",
  securityGroupIds: { node: "sg-node", manager: "sg-manager", control: "sg-control", swarm: "sg-swarm" },
  vpcId: "vpc-mock",
  subnetId: "subnet-mock",
  smokeTestResult: "Pi is roughly 3.14158",
};

async function isolated(
  config: Record<string, string> = {},
  secretOutputNames: readonly string[] = SECRET_OUTPUTS,
): Promise<ConsumerRun> {
  let run: ConsumerRun | undefined;
  await jest.isolateModulesAsync(async () => {
    run = await runConsumer({ outputs: CLUSTER, secretOutputNames }, config);
  });
  return run!;
}

describe("consumer example with the default config", () => {
  let run: ConsumerRun;
  beforeAll(async () => {
    run = await isolated();
  });

  test("references the dev cluster stack by its DIY-backend name, and registers nothing else", () => {
    expect(run.resources).toEqual([
      expect.objectContaining({
        type: "pulumi:pulumi:StackReference",
        name: "cluster",
        inputs: expect.objectContaining({ name: "organization/swarm-flocker/dev" }),
      }),
    ]);
    expect(run.outputs.clusterStack).toBe("organization/swarm-flocker/dev");
  });

  test("exports a spark-submit command line for the cluster's master", () => {
    expect(run.outputs.sparkMasterUrl).toBe(CLUSTER.sparkMasterUrl);
    expect(run.outputs.sparkUiUrl).toBe(CLUSTER.sparkUiUrl);
    expect(run.outputs.sparkSubmit).toBe(
      "spark-submit --master spark://54.0.0.105:7077 --class org.apache.spark.examples.SparkPi spark-examples.jar 100",
    );
  });

  test("exports the flockerctl bundle: endpoint, environment, the three certificate files", () => {
    expect(run.outputs.flockerControlEndpoint).toBe("https://54.0.0.104:4523");
    expect(run.outputs.flockerClient).toEqual({
      controlEndpoint: "https://54.0.0.104:4523",
      env: { FLOCKER_CONTROL_SERVICE: "54.0.0.104", FLOCKER_USER: "client", FLOCKER_CERTS_PATH: "flocker-certs" },
      files: { "cluster.crt": CA, "client.crt": CLIENT_CERT, "client.key": CLIENT_KEY },
      command: ["flockerctl", "--control-port", "4523", "list-nodes"],
    });
  });

  test("the bundle that carries the client key is secret; nothing else is, and no other output holds the key", () => {
    expect([...run.secretOutputs]).toEqual(["flockerClient"]);
    for (const [name, value] of Object.entries(run.outputs)) {
      if (name !== "flockerClient") expect(JSON.stringify(value) ?? "").not.toContain("mock-client-key");
    }
  });
});

describe("the network outputs in use: an instance beside the cluster", () => {
  test("with the default config nothing is created, and the VPC and subnet are passed on", async () => {
    const run = await isolated();
    expect(run.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);
    expect(run.outputs).toMatchObject({ vpcId: "vpc-mock", subnetId: "subnet-mock", edgeInstancePrivateIp: undefined });
  });

  test("with edgeAmi: its own group in the cluster's VPC, the instance in the cluster's subnet with that group and the node group", async () => {
    const run = await isolated({ edgeAmi: "ami-0123456789abcdef0" });
    const group = run.resources.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup");
    const instance = run.resources.find((r) => r.type === "aws:ec2/instance:Instance");
    expect(group).toMatchObject({ name: "edge-sg", inputs: { vpcId: "vpc-mock" } });
    expect(instance).toMatchObject({
      name: "edge",
      inputs: {
        ami: "ami-0123456789abcdef0",
        instanceType: "t3.micro",
        subnetId: "subnet-mock",
        vpcSecurityGroupIds: ["edge-sg-id", "sg-node"],
        metadataOptions: { httpTokens: "required" },
        rootBlockDevice: { encrypted: true },
      },
    });
  });
});

describe("consumer example with config", () => {
  test("reads the configured cluster stack and Spark application", async () => {
    const run = await isolated({
      clusterStack: "organization/swarm-flocker/prod",
      sparkClass: "com.example.Job",
      sparkJar: "s3a://jobs/my job.jar",
    });
    expect(run.resources[0].inputs.name).toBe("organization/swarm-flocker/prod");
    expect(run.outputs.sparkSubmit).toBe(
      "spark-submit --master spark://54.0.0.105:7077 --class com.example.Job 's3a://jobs/my job.jar' 100",
    );
  });

  test("keeps the bundle secret even when the cluster stack did not mark its key secret", async () => {
    const run = await isolated({}, []);
    expect(run.secretOutputs.has("flockerClient")).toBe(true);
  });
});

describe("consumer example against a current cluster (no Flocker)", () => {
  const common = Object.fromEntries(
    Object.entries(CLUSTER).filter(([key]) => !key.startsWith("flocker")),
  ) as unknown as CommonStackOutputValues;
  const CURRENT: CurrentStackOutputValues = {
    ...common,
    platform: "current",
    sparkDataVolumeId: "vol-0123456789abcdef0",
    nodes: { "aws-104": { role: "sparkmaster", swarmRole: "worker", publicIp: "54.0.0.104", privateIp: "172.31.0.13" } },
  };

  test("says the platform, still builds spark-submit, and has no Flocker bundle (nothing required that the cluster lacks)", async () => {
    let run: ConsumerRun | undefined;
    await jest.isolateModulesAsync(async () => {
      run = await runConsumer({ outputs: CURRENT, secretOutputNames: ["sshPrivateKey"] });
    });
    expect(run!.outputs).toMatchObject({ platform: "current", flockerControlEndpoint: undefined, flockerClient: undefined });
    expect(run!.outputs.sparkSubmit).toBe(
      "spark-submit --master spark://54.0.0.105:7077 --class org.apache.spark.examples.SparkPi spark-examples.jar 100",
    );
  });

  test("a book cluster (no platform output) is book", async () => {
    const run = await isolated();
    expect(run.outputs.platform).toBe("book");
  });
});

describe("consumer helpers", () => {
  test("output() and flockerOutput() keep a referenced secret secret", async () => {
    await jest.isolateModulesAsync(async () => {
      const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
      await pulumi.runtime.setMocks(
        {
          newResource: (args) => ({
            id: "ref",
            state: { ...args.inputs, outputs: CLUSTER, secretOutputNames: ["flockerClientKey"] },
          }),
          call: () => ({}),
        },
        "swarm-flocker-consumer",
        "dev",
      );
      const { output: typedOutput, flockerOutput } =
        require("../examples/consumer/cluster") as typeof import("../examples/consumer/cluster");
      const ref = new pulumi.StackReference("ref", { name: "organization/swarm-flocker/dev" });
      const key = flockerOutput(ref, "flockerClientKey");
      const url = typedOutput(ref, "sparkMasterUrl");
      expect(await (key as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(true);
      expect(await (url as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(false);
    });
  });

  test("Pulumi.yaml's clusterStack default is the program's default", () => {
    const project = YAML.parse(fs.readFileSync(path.join(CONSUMER_DIR, "Pulumi.yaml"), "utf8"));
    expect(project.name).toBe("swarm-flocker-consumer");
    expect(project.runtime.name ?? project.runtime).toBe("nodejs");
    expect(project.config.clusterStack.default).toBe(DEFAULT_CLUSTER_STACK);
    expect(DEFAULT_CLUSTER_STACK).toBe("organization/swarm-flocker/dev");
  });

  test("package.json pins @pulumi/pulumi to the root's version", () => {
    const consumer = JSON.parse(fs.readFileSync(path.join(CONSUMER_DIR, "package.json"), "utf8"));
    const root = JSON.parse(fs.readFileSync(path.join(CONSUMER_DIR, "..", "..", "package.json"), "utf8"));
    expect(consumer.dependencies["@pulumi/pulumi"]).toBe("3.248.0");
    expect(consumer.dependencies["@pulumi/pulumi"]).toBe(root.dependencies["@pulumi/pulumi"]);
    expect(consumer.dependencies["@pulumi/aws"]).toBe(root.dependencies["@pulumi/aws"]);
  });

  test("the example stands alone: none of its files imports from outside its folder", () => {
    for (const file of fs.readdirSync(CONSUMER_DIR).filter((name) => name.endsWith(".ts"))) {
      const imports = [...fs.readFileSync(path.join(CONSUMER_DIR, file), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
      expect({ file, outside: imports.filter((target) => target.startsWith("..")) }).toEqual({ file, outside: [] });
    }
  });

  test("rejects endpoints and master URLs that are not what the contract promises", () => {
    expect(() => flockerClient("http://54.0.0.104:4523", CA, CLIENT_CERT, CLIENT_KEY)).toThrow(/https/);
    expect(() => sparkSubmitArgs("http://54.0.0.105:8080", "C", "j.jar")).toThrow(/spark:\/\//);
    expect(shellLine(["a b", "it's", "plain-1.0"])).toBe("'a b' 'it'\\''s' plain-1.0");
  });
});
