/**
 * Flocker from ClusterHQ's images (flockerInstall=containers, the dev stack's mode) under Pulumi's
 * mocks: which steps each node gets and in which order, where the images are pulled, the book's
 * Flocker test and the status output, and that certificates and agent.yml travel on stdin only.
 * Also the two pure pieces: which node pulls which image, and reading the status document.
 */
import { isSecretWire, MOCK_AWS_SECRET_PREFIX, ProgramRun } from "../tools/plan/mockRuntime";
import { flockerTestNode, nodeImageLists, pullImagesParameter, type NodeImageConfig } from "../lib/nodeImages";
import { parseFlockerStatus } from "../lib/flockerStatus";
import { checkFlockerSource } from "../config/checks/flocker";
import { topology } from "../lib/topology";
import { createOf, envOf, maybeNamed, named, ofType, TYPES, waitsFor, waitsTransitivelyFor } from "./helpers/program";
import { runIsolated } from "./helpers/isolatedRun";

const NODES = Array.from({ length: 10 }, (_, i) => `aws-${101 + i}`);
const privateIp = (node: string) => `172.31.0.${10 + NODES.indexOf(node)}`;
const FLOCKER_IMAGES = {
  flockerControlImage: "clusterhq/flocker-control-service",
  flockerDatasetAgentImage: "clusterhq/flocker-dataset-agent",
  flockerContainerAgentImage: "clusterhq/flocker-container-agent",
  flockerPluginImage: "clusterhq/flocker-docker-plugin",
};
const PINNED_CONTROL = `registry.example.com/flocker/control@sha256:${"a".repeat(64)}`;

let run: ProgramRun;
let noTestPinned: ProgramRun;
let packages: ProgramRun;

beforeAll(async () => {
  run = await runIsolated("dev");
  noTestPinned = await runIsolated("dev", { flockerTest: "false", flockerControlImage: PINNED_CONTROL });
  packages = await runIsolated("dev", {
    flockerInstall: "packages",
    flockerAptSource: "deb [trusted=yes] https://flocker-packages.invalid/ubuntu/16.04/amd64 /",
    flockerAptAllowUnsigned: "true",
  });
});

const commands = (r: ProgramRun) => ofType(r, TYPES.command);
const scriptOf = (r: ProgramRun, name: string) => /\/scripts\/([a-z-]+\.sh)/.exec(createOf(r, name))?.[1];
const hostOf = (r: ProgramRun, name: string) => (named(r, name).inputs.connection as Record<string, unknown>).host;
const publicIp = (r: ProgramRun, node: string) => (r.outputs.nodes as Record<string, { publicIp: string }>)[node].publicIp;
/** `key=image` pairs of a pull step, as a map. */
const pulled = (r: ProgramRun, name: string) =>
  Object.fromEntries(
    envOf(createOf(r, name))
      .IMAGES.split(" ")
      .map((pair) => pair.split("=") as [string, string]),
  );

describe("containers mode on the dev stack", () => {
  test("no Flocker package anywhere: no package source proven, no package installed, no systemd unit started", () => {
    const scripts = commands(run).map((c) => scriptOf(run, c.name));
    expect(scripts).not.toContain("flocker-packages.sh");
    expect(scripts).not.toContain("flocker-services.sh");
    for (const node of NODES) {
      expect(maybeNamed(run, `nodes-${node}-flocker-preflight`)).toBeUndefined();
      expect(maybeNamed(run, `nodes-${node}-flocker-debs`)).toBeUndefined();
      expect(maybeNamed(run, `flocker-${node}-install`)).toBeUndefined();
    }
  });

  test("the control container runs on the control node only, with the control image and its node's files digest", () => {
    const controls = commands(run).filter((c) => /flocker-containers\.sh control$/.test(String(c.inputs.create)));
    expect(controls.map((c) => c.name)).toEqual(["flocker-aws-104-control"]);
    expect(hostOf(run, "flocker-aws-104-control")).toBe(publicIp(run, "aws-104"));
    expect(envOf(createOf(run, "flocker-aws-104-control"))).toMatchObject({ CONTROL_IMAGE: FLOCKER_IMAGES.flockerControlImage });
    expect(envOf(createOf(run, "flocker-aws-104-control")).CONFIG_DIGEST).toMatch(/^[0-9a-f]{16}$/);
    expect(waitsFor(run, "flocker-aws-104-control", "flocker-aws-104-files")).toBe(true);
    expect(waitsFor(run, "flocker-aws-104-control", "images-aws-104-flocker")).toBe(true);
    // Its state is bind-mounted from the control-state volume, which is mounted first; no delete
    // (it would run on the node itself: the node's termination removes the container).
    expect(envOf(createOf(run, "flocker-aws-104-control")).CONTROL_STATE_DIR).toBe("/var/lib/flocker-control/state");
    expect(waitsFor(run, "flocker-aws-104-control", "flocker-control-state-mount")).toBe(true);
    expect(named(run, "flocker-aws-104-control").inputs.delete).toBeUndefined();
  });

  test("agents and plugin on every node, after the control service, knowing its address and their own", () => {
    for (const node of NODES) {
      const step = `flocker-${node}-agents`;
      expect(createOf(run, step)).toMatch(/flocker-containers\.sh agents$/);
      expect(hostOf(run, step)).toBe(publicIp(run, node));
      expect(envOf(createOf(run, step))).toMatchObject({
        DATASET_AGENT_IMAGE: FLOCKER_IMAGES.flockerDatasetAgentImage,
        CONTAINER_AGENT_IMAGE: FLOCKER_IMAGES.flockerContainerAgentImage,
        PLUGIN_IMAGE: FLOCKER_IMAGES.flockerPluginImage,
        FLOCKER_CONTROL_HOST: "172.31.0.13",
        NODE_ADDRESS: privateIp(node),
      });
      expect(waitsFor(run, step, "flocker-aws-104-control")).toBe(true);
      expect(waitsFor(run, step, `flocker-${node}-files`)).toBe(true);
      expect(waitsFor(run, step, `images-${node}-flocker`)).toBe(true);
      // Flocker's containers do not wait for the (large) Spark images.
      if (node !== "aws-104") expect(waitsTransitivelyFor(run, step, `images-${node}-services`)).toBe(false);
      expect(named(run, step).inputs.delete).toBeUndefined();
    }
  });

  test("pulls start right after Docker on every node, beside the Flocker files and the Swarm, never after them", () => {
    for (const node of NODES) {
      const pulls = [`images-${node}-flocker`, ...(node === "aws-104" ? [] : [`images-${node}-services`])];
      for (const pull of pulls) {
        expect(scriptOf(run, pull)).toBe("pull-images.sh");
        expect(hostOf(run, pull)).toBe(publicIp(run, node));
        expect(waitsFor(run, pull, `nodes-${node}-docker`)).toBe(true);
        const waitedFor = run.resources.filter((r) => r.custom && waitsTransitivelyFor(run, pull, r.name)).map((r) => r.name);
        expect(waitedFor.filter((name) => /^(flocker|swarm|spark|images)-/.test(name))).toEqual([]);
        expect(waitedFor.filter((name) => /^nodes-aws-\d+-/.test(name) && !name.startsWith(`nodes-${node}-`))).toEqual([]);
        expect(named(run, pull).options.customTimeouts?.create).toBe("35m");
      }
    }
    expect(maybeNamed(run, "images-aws-104-services")).toBeUndefined();
  });

  test("each node pulls what it will run: Flocker's images, and the Spark image its placement allows", () => {
    const agentImages = {
      flockerDatasetAgentImage: FLOCKER_IMAGES.flockerDatasetAgentImage,
      flockerContainerAgentImage: FLOCKER_IMAGES.flockerContainerAgentImage,
      flockerPluginImage: FLOCKER_IMAGES.flockerPluginImage,
    };
    expect(pulled(run, "images-aws-104-flocker")).toEqual(FLOCKER_IMAGES);
    for (const node of NODES.filter((n) => n !== "aws-104")) expect(pulled(run, `images-${node}-flocker`)).toEqual(agentImages);
    expect(pulled(run, "images-aws-105-services")).toEqual({ sparkMasterImage: "fsoppelsa/spark-master" });
    for (const node of ["aws-101", "aws-102", "aws-103", "aws-107", "aws-108", "aws-109", "aws-110"]) {
      expect(pulled(run, `images-${node}-services`)).toEqual({ sparkWorkerImage: "fsoppelsa/spark-worker" });
    }
    expect(pulled(run, "images-aws-106-services")).toEqual({
      sparkWorkerImage: "fsoppelsa/spark-worker",
      flockerTestImage: "busybox",
    });
  });

  test("the Flocker test runs from a plain worker once its agents, the control service and its image are there", () => {
    expect(hostOf(run, "flocker-test")).toBe(publicIp(run, "aws-106"));
    expect(scriptOf(run, "flocker-test")).toBe("flocker-test.sh");
    expect(envOf(createOf(run, "flocker-test"))).toMatchObject({
      TEST_IMAGE: "busybox",
      VOLUME_NAME: "flocker-test",
      FLOCKER_CONTROL_HOST: "172.31.0.13",
    });
    for (const dependency of ["flocker-aws-106-agents", "flocker-aws-104-control", "images-aws-106-services"]) {
      expect(waitsFor(run, "flocker-test", dependency)).toBe(true);
    }
    // Off Spark's path: nothing of Spark waits for the test.
    for (const spark of ["spark-volume", "spark-master", "spark-worker", "spark-smoke"]) {
      expect(waitsTransitivelyFor(run, spark, "flocker-test")).toBe(false);
    }
    expect(named(run, "flocker-test").inputs.delete).toBeUndefined();
  });

  test("the status runs on the control node after every node's agents and the test, and lists every node", () => {
    expect(hostOf(run, "flocker-status")).toBe(publicIp(run, "aws-104"));
    expect(envOf(createOf(run, "flocker-status")).EXPECTED_ADDRESSES).toBe(NODES.map(privateIp).join(" "));
    for (const node of NODES) expect(waitsFor(run, "flocker-status", `flocker-${node}-agents`)).toBe(true);
    expect(waitsFor(run, "flocker-status", "flocker-test")).toBe(true);
    const status = run.outputs.flockerStatus as { nodes: { address: string; uuid: string }[]; datasets: unknown[] };
    expect(status.nodes.map((n) => n.address)).toEqual(NODES.map(privateIp));
    expect(status.datasets).toEqual([]);
    expect(run.secretOutputs.has("flockerStatus")).toBe(false);
  });

  test("certificates, keys and agent.yml travel only as secret stdin of the files steps", () => {
    for (const node of NODES) {
      const files = named(run, `flocker-${node}-files`);
      expect(isSecretWire(files.wireInputs.stdin)).toBe(true);
      const payload = JSON.parse(String(files.inputs.stdin)) as { files: Record<string, string> };
      expect(payload.files["agent.yml"]).toContain(MOCK_AWS_SECRET_PREFIX);
      expect(payload.files["node.key"]).toContain("PRIVATE KEY");
    }
    for (const step of commands(run)) {
      for (const line of [step.inputs.create, step.inputs.delete].filter((l) => l !== undefined).map(String)) {
        expect(line).not.toContain("PRIVATE KEY");
        expect(line).not.toContain(MOCK_AWS_SECRET_PREFIX);
      }
      if (!/^flocker-aws-\d+-files$/.test(step.name) && step.inputs.stdin !== undefined) {
        expect(String(step.inputs.stdin)).not.toContain("PRIVATE KEY");
        expect(String(step.inputs.stdin)).not.toContain(MOCK_AWS_SECRET_PREFIX);
      }
    }
    expect(JSON.stringify(run.outputs.flockerStatus)).not.toContain(MOCK_AWS_SECRET_PREFIX);
  });
});

describe("options", () => {
  test("flockerTest=false: no test step, no test image pulled; the status waits for the agents only", () => {
    expect(maybeNamed(noTestPinned, "flocker-test")).toBeUndefined();
    expect(pulled(noTestPinned, "images-aws-106-services")).toEqual({ sparkWorkerImage: "fsoppelsa/spark-worker" });
    expect(waitsFor(noTestPinned, "flocker-status", "flocker-aws-110-agents")).toBe(true);
  });

  test("an image pinned by digest in a private registry is what the control node pulls and runs", () => {
    expect(pulled(noTestPinned, "images-aws-104-flocker").flockerControlImage).toBe(PINNED_CONTROL);
    expect(envOf(createOf(noTestPinned, "flocker-aws-104-control")).CONTROL_IMAGE).toBe(PINNED_CONTROL);
  });

  test("packages mode keeps its units and pulls only the services' images", () => {
    for (const node of NODES) {
      expect(maybeNamed(packages, `images-${node}-flocker`)).toBeUndefined();
      expect(createOf(packages, `flocker-${node}-agents`)).toMatch(/flocker-services\.sh agents$/);
      expect(waitsFor(packages, `flocker-${node}-agents`, `flocker-${node}-install`)).toBe(true);
      expect(named(packages, `flocker-${node}-agents`).inputs.delete).toBeUndefined();
    }
    expect(commands(packages).map((c) => scriptOf(packages, c.name))).not.toContain("flocker-containers.sh");
    expect(pulled(packages, "images-aws-105-services")).toEqual({ sparkMasterImage: "fsoppelsa/spark-master" });
    expect(waitsFor(packages, "flocker-test", "flocker-aws-106-agents")).toBe(true);
  });
});

describe("which node pulls which image (lib/nodeImages.ts)", () => {
  const config: NodeImageConfig = {
    flocker: {
      kind: "containers",
      images: { control: "c", datasetAgent: "d", containerAgent: "k", plugin: "p" },
    },
    sparkMasterImage: "spark",
    sparkWorkerImage: "spark",
    flockerTest: true,
    flockerTestImage: "busybox",
  };
  const small = topology({
    nodeCount: 5,
    managerCount: 3,
    nodeNamePrefix: "n-",
    firstNodeNumber: 1,
    subnetCidr: "10.1.0.0/24",
    nodeIpOffset: 10,
  });

  test("without a plain worker the test runs on the Spark master's node", () => {
    expect(flockerTestNode(small).name).toBe("n-5");
    expect(nodeImageLists(small, config)["n-5"].services).toEqual([
      { key: "sparkMasterImage", image: "spark" },
      { key: "flockerTestImage", image: "busybox" },
    ]);
  });

  test("an image named by two keys is pulled once; the parameter is key=image pairs", () => {
    const lists = nodeImageLists(small, {
      ...config,
      flocker: { kind: "containers", images: { control: "same", datasetAgent: "same", containerAgent: "k", plugin: "p" } },
    });
    expect(lists["n-4"].flocker).toEqual([
      { key: "flockerControlImage", image: "same" },
      { key: "flockerContainerAgentImage", image: "k" },
      { key: "flockerPluginImage", image: "p" },
    ]);
    expect(pullImagesParameter(lists["n-4"].flocker)).toBe(
      "flockerControlImage=same flockerContainerAgentImage=k flockerPluginImage=p",
    );
    expect(lists["n-4"].services).toEqual([]);
  });
});

describe("the status document (lib/flockerStatus.ts)", () => {
  test("a document without its lists, or no JSON at all, is an error that shows what was printed", () => {
    expect(() => parseFlockerStatus("")).toThrow('flocker-status.sh printed no JSON document: ""');
    expect(() => parseFlockerStatus('{"nodes": []}')).toThrow('without "nodes" and "datasets" lists');
    expect(parseFlockerStatus('{"nodes": [], "datasets": [], "extra": 1}')).toEqual({ nodes: [], datasets: [] });
  });
});

describe("the image keys (config/checks/flocker.ts)", () => {
  test("a malformed image names its key and shows that image's own repository pinned by digest", () => {
    const problems: [string, string | undefined, string][] = [];
    const source = checkFlockerSource(
      {
        install: "containers",
        images: {
          control: "ClusterHQ/Control",
          datasetAgent: "clusterhq/flocker-dataset-agent",
          containerAgent: "clusterhq/flocker-container-agent",
          plugin: "clusterhq/flocker-docker-plugin:",
        },
        apt: { line: "", keyPath: "", allowUnsigned: false },
        debDir: "",
      },
      undefined,
      (key, value, reason) => problems.push([key, value, reason]),
    );
    expect(source).toBeUndefined();
    expect(problems.map(([key, value]) => [key, value])).toEqual([
      ["flockerControlImage", "ClusterHQ/Control"],
      ["flockerPluginImage", "clusterhq/flocker-docker-plugin:"],
    ]);
    expect(problems[0][2]).toContain("e.g. clusterhq/flocker-control-service@sha256:<digest>");
    expect(problems[1][2]).toContain("e.g. clusterhq/flocker-docker-plugin@sha256:<digest>");
  });
});
