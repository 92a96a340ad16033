/**
 * The whole program on the current stack (Pulumi.current.yaml) under Pulumi's mocks: the cluster
 * without Flocker, its nodes' image and IMDS settings, the Spark services on apache/spark, and the
 * outputs; and, beside it, that a book stack has none of the current platform's own settings.
 */
import { ProgramRun, MOCK_SMOKE_RESULT, MOCK_UBUNTU_2404_AMI } from "../tools/plan/mockRuntime";
import { createOf, envOf, named, ofType, TYPES, waitsFor } from "./helpers/program";
import { runIsolated } from "./helpers/isolatedRun";
import { CURRENT_SPARK_IMAGE } from "../lib/platform";
import { IMDSV1_EXCEPTION_TAG } from "../lib/imdsException";

const PINNED = "ami-0123456789abcdef0";
const NODES = Array.from({ length: 10 }, (_, i) => `aws-${101 + i}`);
let run: ProgramRun;
let unpinned: ProgramRun;
let book: ProgramRun;

beforeAll(async () => {
  run = await runIsolated("current", { nodeImageId: PINNED });
  unpinned = await runIsolated("current");
  book = await runIsolated("dev");
}, 120_000);

/** Resource types whose presence means Flocker (or its credentials) is part of the stack. */
const FLOCKER_TYPES = [
  TYPES.selfSigned,
  TYPES.locallySigned,
  TYPES.certRequest,
  TYPES.uuid,
  TYPES.accessKey,
  TYPES.userPolicy,
  TYPES.iamUser,
  "aws:dlm/lifecyclePolicy:LifecyclePolicy",
  "aws:iam/role:Role",
];

describe("no Flocker on the current platform", () => {
  test("no PKI, no Flocker IAM user or key, no snapshot policy; the only tls keys are the SSH key's", () => {
    expect(run.resources.filter((r) => FLOCKER_TYPES.includes(r.type as never)).map((r) => r.name)).toEqual([]);
    expect(ofType(run, TYPES.privateKey).map((r) => r.name)).toEqual(["nodes-ssh-key"]);
  });

  test("no Flocker step on any node: no agents, control service, plugin, volume, test or status", () => {
    // Every step runs from ~/swarm-flocker/…: the scripts' own names are what tell.
    const flockerish = run.resources.filter(
      (r) => /flocker/i.test(r.name) || /flocker-[a-z-]+\.sh|FLOCKER_/.test(String(r.inputs.create ?? "")),
    );
    expect(book.resources.filter((r) => /flocker-[a-z-]+\.sh/.test(String(r.inputs.create ?? ""))).length).toBeGreaterThan(10);
    expect(flockerish.map((r) => r.name)).toEqual([]);
    expect(run.resources.filter((r) => /^(pki|storage|flocker|snapshots)(-|$)/.test(r.name))).toEqual([]);
  });

  test("the control group stays (the contract's shape) without a rule; no Flocker port is open", () => {
    const ports = ofType(run, TYPES.ingress).map((r) => Number(r.inputs.fromPort));
    expect(ports).not.toContain(4523);
    expect(ports).not.toContain(4524);
    expect(
      ofType(run, TYPES.securityGroup)
        .map((g) => g.name)
        .sort(),
    ).toEqual(["network-control", "network-manager", "network-node", "network-swarm"]);
  });

  test("every node is in the Swarm: three managers join, the fourth node is the Spark master's", () => {
    expect(createOf(run, "swarm-label-aws-104")).toContain("aws-104");
    for (const node of NODES.slice(3)) expect(named(run, `swarm-join-${node}`)).toBeDefined();
    expect(run.outputs.nodes).toMatchObject({
      "aws-104": { role: "sparkmaster", swarmRole: "worker" },
      "aws-110": { role: "worker", swarmRole: "worker" },
    });
  });
});

describe("nodes", () => {
  test("ten Nitro nodes on the pinned Ubuntu 24.04 image, IMDSv2 required with hop limit 1, no IMDSv1 exception tag", () => {
    const instances = ofType(run, TYPES.instance);
    expect(instances).toHaveLength(10);
    for (const instance of instances) {
      expect(instance.inputs).toMatchObject({
        ami: PINNED,
        instanceType: "t3.medium",
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeType: "gp3" },
      });
      expect(Object.keys(instance.inputs.tags as object)).not.toContain(IMDSV1_EXCEPTION_TAG);
      // The pin is the image: a newer Canonical build changes nothing here, and a new pin replaces.
      expect(instance.options.ignoreChanges).not.toContain("ami");
    }
  });

  test("the book keeps IMDSv1 open for Flocker's boto 2, tagged as the documented exception", () => {
    for (const instance of ofType(book, TYPES.instance)) {
      expect(instance.inputs.metadataOptions).toMatchObject({ httpTokens: "optional", httpPutResponseHopLimit: 1 });
      expect(Object.keys(instance.inputs.tags as object)).toContain(IMDSV1_EXCEPTION_TAG);
    }
  });

  test("unpinned (the shipped stack file): the plan goes on with the parameter's image and lists the pin to set", () => {
    expect(named(unpinned, "nodes-aws-101-instance").inputs.ami).toBe(MOCK_UBUNTU_2404_AMI);
    expect(unpinned.placeholders.map((p) => p.key)).toContain("nodeImageId");
    expect(unpinned.placeholders.find((p) => p.key === "nodeImageId")?.reason).toContain(
      `pulumi config set nodeImageId ${MOCK_UBUNTU_2404_AMI} --stack current`,
    );
    expect(run.placeholders.map((p) => p.key)).not.toContain("nodeImageId");
  });

  test("Docker from Ubuntu's docker.io, any version the archive has, the Swarm kernel modules loaded first", () => {
    const env = envOf(createOf(run, "nodes-aws-101-docker"));
    expect(env).toMatchObject({ DOCKER_PACKAGE: "docker.io", DOCKER_VERSION: "", BLOCK_CONTAINER_IMDS: "1" });
    expect(env.KERNEL_MODULES.split(" ")).toEqual(expect.arrayContaining(["ip_vs", "ip_vs_rr"]));
    expect(envOf(createOf(book, "nodes-aws-101-docker")).KERNEL_MODULES).toBe(env.KERNEL_MODULES);
  });

  test("every node pulls the one Spark image, and nothing else", () => {
    for (const node of NODES) {
      expect(envOf(createOf(run, `images-${node}-services`)).IMAGES).toBe(`sparkImage=${CURRENT_SPARK_IMAGE}`);
    }
    expect(run.resources.filter((r) => r.name.endsWith("-flocker") && r.name.startsWith("images-"))).toEqual([]);
  });
});

describe("Spark on apache/spark", () => {
  const spec = (name: string) => JSON.parse(envOf(createOf(run, name)).SERVICE_SPEC);

  test("the master: the pinned image started by spark-class, bound to every interface, the local volume at /data, on the labelled node", () => {
    expect(spec("spark-master")).toEqual({
      image: CURRENT_SPARK_IMAGE,
      args: ["/opt/spark/bin/spark-class", "org.apache.spark.deploy.master.Master"],
      replicas: 1,
      network: "spark",
      containerLabels: ["spark-master"],
      constraints: ["node.labels.type == sparkmaster"],
      publish: [
        { published: 8080, target: 8080 },
        { published: 7077, target: 7077 },
        { published: 6066, target: 6066 },
      ],
      env: ["SPARK_MASTER_HOST=0.0.0.0"],
      mounts: ["type=volume,target=/data,source=spark"],
    });
    expect(waitsFor(run, "spark-master", "spark-network")).toBe(true);
    expect(waitsFor(run, "spark-master", "swarm-label-aws-104")).toBe(true);
    expect(waitsFor(run, "spark-master", "images-aws-104-services")).toBe(true);
    // The local volume is the data disk's binding: the master waits for the storage step that makes it.
    const ready = run.resources.find(
      (r) =>
        r.type === "command:remote:Command" && r.name.startsWith("spark-data") && /spark-data\.sh/.test(String(r.inputs.create)),
    );
    expect(ready).toBeDefined();
    expect(waitsFor(run, "spark-master", ready!.name)).toBe(true);
  });

  test("the workers: spark-class Worker against tasks.spark-master:7077, with cores and memory", () => {
    expect(spec("spark-worker")).toEqual({
      image: CURRENT_SPARK_IMAGE,
      args: ["/opt/spark/bin/spark-class", "org.apache.spark.deploy.worker.Worker", "spark://tasks.spark-master:7077"],
      replicas: 3,
      network: "spark",
      containerLabels: [],
      constraints: ["node.labels.type != sparkmaster"],
      publish: [],
      env: ["SPARK_WORKER_CORES=1", "SPARK_WORKER_MEMORY=1g"],
      mounts: [],
    });
    expect(waitsFor(run, "spark-worker", "spark-master")).toBe(true);
  });

  test("the book's service specs carry no args field: a deployed book service sees the same spec", () => {
    expect(Object.keys(JSON.parse(envOf(createOf(book, "spark-master")).SERVICE_SPEC))).not.toContain("args");
    expect(Object.keys(JSON.parse(envOf(createOf(book, "spark-worker")).SERVICE_SPEC))).not.toContain("args");
  });

  test("SparkPi with the same image, Spark at /opt/spark, against the overlay's master", () => {
    expect(envOf(createOf(run, "spark-smoke"))).toMatchObject({
      IMAGE: CURRENT_SPARK_IMAGE,
      SPARK_HOME_IN_IMAGE: "/opt/spark",
      MASTER_URL: "spark://tasks.spark-master:7077",
      NETWORK_NAME: "spark",
    });
    expect(envOf(createOf(book, "spark-smoke")).SPARK_HOME_IN_IMAGE).toBeUndefined();
    expect(envOf(createOf(run, "spark-network")).ATTACH_IMAGE).toBe(CURRENT_SPARK_IMAGE);
  });
});

describe("outputs", () => {
  test("platform current, the common outputs, and no Flocker output at all", () => {
    expect(run.outputs.platform).toBe("current");
    expect(Object.keys(run.outputs).filter((k) => k.startsWith("flocker"))).toEqual([]);
    expect(run.outputs).toMatchObject({
      sparkMasterUrl: "spark://172.31.0.13:7077",
      sparkUiUrl: "http://172.31.0.13:8080",
      smokeTestResult: MOCK_SMOKE_RESULT,
      sshUser: "ubuntu",
    });
    expect([...run.secretOutputs].sort()).toEqual(["sshPrivateKey", "swarmManagerJoinToken", "swarmWorkerJoinToken"]);
  });

  test("a book stack's outputs are what they were: no platform output, every Flocker output", () => {
    expect(Object.keys(book.outputs)).not.toContain("platform");
    expect(Object.keys(book.outputs)).toEqual(expect.arrayContaining(["flockerCaCert", "flockerClientKey", "flockerStatus"]));
  });
});

describe("a book stack has none of the current platform's own resources or settings", () => {
  test("no current-only inputs: no IMDSv2-required node, no apache/spark, no spark-class args, no local data mount", () => {
    const text = JSON.stringify(book.resources.map((r) => r.inputs));
    expect(text).not.toContain("apache/spark");
    expect(text).not.toContain("spark-class");
    expect(text).not.toContain('"httpTokens":"required"');
    expect(text).not.toContain("SPARK_HOME_IN_IMAGE");
    // No Spark data volume of the stack's own, no step that binds one: the book's data is Flocker's.
    expect(book.resources.filter((r) => r.name.startsWith("spark-data") || r.type === "swarm-flocker:spark:SparkData")).toEqual(
      [],
    );
    expect(run.resources.filter((r) => r.type === "swarm-flocker:spark:SparkData")).toHaveLength(1);
    expect(JSON.parse(envOf(createOf(book, "spark-master")).SERVICE_SPEC).mounts).toEqual([
      "type=volume,target=/data,source=spark,volume-driver=flocker",
    ]);
  });
});
