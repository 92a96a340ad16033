/**
 * The checks before anything billable, through the whole program under mocks whose invokes answer
 * as AWS does today (deprecated images hidden unless asked for) and whose registries and
 * repositories are preflight/offlineWorld.ts. Every refusal is asserted twice: the message the
 * operator reads, and that no EC2 instance was registered.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { InvokeAnswer, ProgramRun, RecordedResource, RunOptions } from "../tools/plan/mockRuntime";
import { defaultDependencies } from "../preflight";
import { formatPlaceholders } from "../preflight/placeholders";
import { CANONICAL_OWNER_ID } from "../lib/ubuntuAmi";
import { stackConfigWith } from "./helpers/isolatedRun";
import { envOf, named, ofType, TYPES, wordsOf } from "./helpers/program";

interface Attempt {
  readonly run?: ProgramRun;
  readonly error?: Error;
  readonly record: RecordedResource[];
}

async function attempt(
  stack: string,
  overrides: Record<string, string> = {},
  options: Partial<RunOptions> = {},
): Promise<Attempt> {
  const record: RecordedResource[] = [];
  let run: ProgramRun | undefined;
  let error: Error | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../tools/plan/mockRuntime") as typeof import("../tools/plan/mockRuntime");
    try {
      run = await runProgram({ stack, config: stackConfigWith(stack, overrides), record, ...options });
    } catch (caught) {
      error = caught as Error;
    }
  });
  return { run, error, record };
}

/** The refusal's text, after checking that it is one and that no instance exists. */
function refusal(result: Attempt): string {
  expect(result.error).toBeDefined();
  expect(result.error!.constructor.name).toBe("RunError");
  expect(result.record.filter((r) => r.type === TYPES.instance)).toEqual([]);
  return result.error!.message;
}

const NO_RESULT = "Your query returned no results. Please change your search criteria and try again.";
const invoke = (answer: InvokeAnswer) => answer;
const failing = (message: string) =>
  invoke(() => {
    throw new Error(message);
  });

/** getAmi as EC2 answers it today: Canonical's xenial/bionic builds are deprecated, so hidden unless asked for. */
function amiAsAwsToday(seen: Record<string, any>[]): InvokeAnswer {
  return (inputs) => {
    seen.push(inputs);
    if (inputs.includeDeprecated !== true) throw new Error(NO_RESULT);
    return { id: "ami-0deprecated0xenial", name: "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20210429" };
  };
}

describe("a deployable stack", () => {
  const amiQueries: Record<string, any>[] = [];
  let dev: ProgramRun;
  beforeAll(async () => {
    const result = await attempt("dev", {}, { invokes: { "aws:ec2/getAmi:getAmi": amiAsAwsToday(amiQueries) } });
    expect(result.error).toBeUndefined();
    dev = result.run!;
  });

  test("the Ubuntu image is found among deprecated builds, by Canonical's owner id, and every node gets that id without following newer builds", () => {
    expect(amiQueries).toEqual([
      expect.objectContaining({
        region: "us-east-1",
        mostRecent: true,
        owners: [CANONICAL_OWNER_ID],
        includeDeprecated: true,
        filters: expect.arrayContaining([{ name: "name", values: ["ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*"] }]),
      }),
    ]);
    const instances = ofType(dev, TYPES.instance);
    expect(instances).toHaveLength(10);
    for (const instance of instances) {
      expect(instance.inputs.ami).toBe("ami-0deprecated0xenial");
      expect(instance.options.ignoreChanges).toContain("ami");
    }
  });

  test("instances with their fixed private address are replaced delete-first", () => {
    for (const instance of ofType(dev, TYPES.instance)) {
      expect(instance.inputs.privateIp).toMatch(/^172\.31\.0\.\d+$/);
      expect(instance.options.deleteBeforeReplace).toBe(true);
    }
  });

  test("replacing a worker's instance replaces every step that follows that node's life, and nothing on other nodes", () => {
    const worker = named(dev, "nodes-aws-106-instance");
    const instanceId = `i-${require("crypto").createHash("sha256").update(worker.name).digest("hex").slice(0, 17)}`;
    const steps = dev.resources.filter((r) => r.type === TYPES.command || r.type === TYPES.copy);
    /** Replaced: the id is among its triggers at a position not in ignoreChanges. */
    const replaced = steps
      .filter((step) =>
        ((step.inputs.triggers as unknown[] | undefined) ?? []).some(
          (trigger, index) => trigger === instanceId && !step.options.ignoreChanges.includes(`triggers[${index}]`),
        ),
      )
      .map((step) => step.name);
    // The node's own bring-up re-runs on the new instance: copy, boot, Docker, then what runs there.
    expect(replaced).toEqual(expect.arrayContaining(["nodes-aws-106-scripts", "nodes-aws-106-boot", "nodes-aws-106-docker"]));
    const onThisNode = (step: RecordedResource) =>
      (step.inputs.connection as { host?: string } | undefined)?.host ===
      (dev.outputs.nodes as Record<string, { publicIp: string }>)["aws-106"].publicIp;
    for (const name of replaced) {
      const step = named(dev, name);
      // Anything replaced elsewhere acts on this node by name (its swarm membership).
      if (!onThisNode(step)) expect(name).toMatch(/aws-106/);
    }
    // No other node's own bring-up follows this instance.
    expect(replaced.filter((name) => /^nodes-aws-(?!106)/.test(name))).toEqual([]);
  });

  test("every remote step is bounded inside its command: sudo timeout --kill-after=30s <its timeout>s, for create and delete", () => {
    const commands = ofType(dev, TYPES.command);
    expect(commands.length).toBeGreaterThan(50);
    const seconds = (duration: string) => {
      const [, h = "0", m = "0", s = "0"] = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration)!;
      return Number(h) * 3600 + Number(m) * 60 + Number(s);
    };
    for (const step of commands) {
      const create = wordsOf(String(step.inputs.create));
      expect(create.slice(0, 5)).toEqual([
        "sudo",
        "timeout",
        "--kill-after=30s",
        `${seconds(step.options.customTimeouts!.create!)}s`,
        "env",
      ]);
      if (step.inputs.delete !== undefined) {
        expect(wordsOf(String(step.inputs.delete)).slice(0, 5)).toEqual(["sudo", "timeout", "--kill-after=30s", "1200s", "env"]);
      }
    }
  });

  test("without overlayEncrypted there is no Docker floor on the nodes", () => {
    expect(envOf(String(named(dev, "nodes-aws-101-docker").inputs.create)).MIN_DOCKER_VERSION).toBe("");
  });

  test("the offline plan of the shipped stack goes on and lists the placeholder and the unpinned privileged images to replace", () => {
    expect(dev.placeholders.map((p) => `${p.key}=${p.value}`)).toEqual([
      "adminCidrs[0]=203.0.113.10/32",
      "flockerControlImage=clusterhq/flocker-control-service",
      "flockerDatasetAgentImage=clusterhq/flocker-dataset-agent",
      "flockerContainerAgentImage=clusterhq/flocker-container-agent",
      "flockerPluginImage=clusterhq/flocker-docker-plugin",
    ]);
    expect(formatPlaceholders(dev.placeholders)).toContain(
      'Replace before a deploy (the program refuses these outside the offline plan):\n  - adminCidrs[0]: "203.0.113.10/32" is a placeholder',
    );
  });
});

describe("the Ubuntu image", () => {
  test("no image even among deprecated ones: the message names ubuntuRelease and how to find an image id", async () => {
    const message = refusal(await attempt("dev", {}, { invokes: { "aws:ec2/getAmi:getAmi": failing(NO_RESULT) } }));
    expect(message).toContain(
      "Stack dev cannot be deployed as configured (checked before creating anything; nothing was created):",
    );
    expect(message).toContain('ubuntuRelease: "16.04" has no Canonical image in us-east-1, deprecated ones included');
    expect(message).toContain("pin an image id with pulumi config set ami ami-...");
    expect(message).toContain(
      `aws ec2 describe-images --region us-east-1 --owners ${CANONICAL_OWNER_ID} --include-deprecated --filters 'Name=name,Values=ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*'`,
    );
  });

  test("a pinned ami that the region does not have is named; one it has goes to every node, followed when changed", async () => {
    const missing = refusal(
      await attempt("dev", { ami: "ami-0123456789abcdef0" }, { invokes: { "aws:ec2/getAmi:getAmi": failing(NO_RESULT) } }),
    );
    expect(missing).toContain('ami: "ami-0123456789abcdef0" is not an image in us-east-1');
    expect(missing).toContain("pulumi config rm ami");

    const pinned = await attempt("dev", { ami: "ami-0123456789abcdef0", nodeCount: "3", managerCount: "1" });
    expect(pinned.error).toBeUndefined();
    for (const instance of ofType(pinned.run!, TYPES.instance)) {
      expect(instance.inputs.ami).toBe("ami-0123456789abcdef0");
      expect(instance.options.ignoreChanges).not.toContain("ami");
    }
  });
});

describe("capacity and placement", () => {
  test("a zone that is not in the region's list is refused with the zones there are", async () => {
    const zones = invoke(() => ({ names: ["us-east-1a", "us-east-1b", "us-east-1c"] }));
    const message = refusal(
      await attempt(
        "dev",
        { availabilityZone: "us-east-1g" },
        { invokes: { "aws:index/getAvailabilityZones:getAvailabilityZones": zones } },
      ),
    );
    expect(message).toContain(
      'availabilityZone: "us-east-1g" is not an available zone of aws:region us-east-1 for this account: use one of us-east-1a, us-east-1b, us-east-1c',
    );
  });

  test("an instance type the zone does not offer is refused with the zones that do", async () => {
    const offerings = invoke((inputs) => {
      expect(inputs).toMatchObject({
        locationType: "availability-zone",
        filters: [{ name: "instance-type", values: ["t2.medium"] }],
      });
      return { instanceTypes: ["t2.medium", "t2.medium"], locations: ["us-east-1d", "us-east-1b"] };
    });
    const message = refusal(
      await attempt("dev", {}, { invokes: { "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": offerings } }),
    );
    expect(message).toContain(
      'instanceType: "t2.medium" is not offered in availabilityZone us-east-1a (zones that offer it: us-east-1b, us-east-1d;',
    );
    expect(message).toContain("set availabilityZone to a zone that offers it, or pick another Xen instanceType");
  });

  test("a vCPU quota of 8 does not cover ten 2-vCPU nodes: the numbers and the fix", async () => {
    const quota = invoke((inputs) => {
      expect(inputs).toMatchObject({ serviceCode: "ec2", quotaCode: "L-1216C47A", region: "us-east-1" });
      return { value: 8, quotaName: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" };
    });
    const message = refusal(
      await attempt("dev", {}, { invokes: { "aws:servicequotas/getServiceQuota:getServiceQuota": quota } }),
    );
    expect(message).toContain("nodeCount: 10 × t2.medium (2 vCPUs each) needs 20 vCPUs, and the account's quota");
    expect(message).toContain("in us-east-1 is 8 (service ec2, quota L-1216C47A;");
    expect(message).toContain("--quota-code L-1216C47A --desired-value 20");
  });

  test("every problem at once: image, offering and quota in one message", async () => {
    const message = refusal(
      await attempt(
        "dev",
        {},
        {
          invokes: {
            "aws:ec2/getAmi:getAmi": failing(NO_RESULT),
            "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": invoke(() => ({ instanceTypes: [], locations: [] })),
            "aws:servicequotas/getServiceQuota:getServiceQuota": invoke(() => ({ value: 8, quotaName: "standard" })),
          },
          world: { missingImages: ["fsoppelsa/spark-worker"] },
        },
      ),
    );
    const lines = message.split("\n").filter((line) => line.startsWith("  - "));
    expect(lines.map((line) => line.slice(4, line.indexOf(":")))).toEqual([
      "ubuntuRelease",
      "instanceType",
      "nodeCount",
      "sparkWorkerImage",
    ]);
    expect(message).toContain("no zone of us-east-1 offers it");
  });

  test("AWS refusing the look-ups (credentials) is one line, not one per look-up", async () => {
    const denied = failing(
      "operation error EC2: DescribeImages, https response error StatusCode: 403, UnauthorizedOperation: You are not authorized",
    );
    const message = refusal(
      await attempt(
        "dev",
        {},
        {
          invokes: {
            "aws:ec2/getAmi:getAmi": denied,
            "aws:index/getAvailabilityZones:getAvailabilityZones": denied,
            "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": denied,
            "aws:ec2/getInstanceType:getInstanceType": denied,
            "aws:servicequotas/getServiceQuota:getServiceQuota": denied,
          },
        },
      ),
    );
    const lines = message.split("\n").filter((line) => line.startsWith("  - "));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      "AWS refused to describe Canonical's Ubuntu 16.04 image, the availability zones of us-east-1, the zones that offer t2.medium, instance type t2.medium, the vCPU quota L-1216C47A:",
    );
    expect(lines[0]).toContain(
      "UnauthorizedOperation: You are not authorized (check the credentials and region this stack runs with: aws sts get-caller-identity",
    );
  });
});

describe("the repository's placeholders", () => {
  test("refused by the program itself, every key listed, before any instance", async () => {
    const message = refusal(await attempt("prod", {}, { placeholders: "refuse" }));
    const lines = message.split("\n").filter((line) => line.startsWith("  - "));
    expect(lines).toEqual([
      expect.stringMatching(/^ {2}- adminCidrs\[0\]: "198\.51\.100\.0\/24" is a placeholder, a documentation address .*--my-ip/),
      expect.stringMatching(/^ {2}- adminCidrs\[1\]: "192\.0\.2\.44\/32" is a placeholder/),
      expect.stringMatching(
        /^ {2}- flockerAptSource: ".*flocker-packages\.invalid.*" is a placeholder: flocker-packages\.invalid is reserved/,
      ),
    ]);
  });

  test("the offline plan of prod with an encrypted overlay (smaller, to run faster) records them and builds the cluster", async () => {
    // An encrypted overlay on 18.04 needs an archive with docker.io >= 20.10.24 and a pin.
    const encrypted = {
      overlayEncrypted: "true",
      ubuntuArchiveMirror: "https://ubuntu-mirror.invalid/ubuntu",
      dockerVersion: "20.10.24-0ubuntu1~18.04.1",
    };
    const { run, error } = await attempt("prod", { nodeCount: "5", managerCount: "3", ...encrypted });
    expect(error).toBeUndefined();
    expect(run!.placeholders.map((p) => p.key)).toEqual([
      "adminCidrs[0]",
      "adminCidrs[1]",
      "flockerAptSource",
      "ubuntuArchiveMirror",
    ]);
    expect(ofType(run!, TYPES.instance)).toHaveLength(5);
    // The nodes refuse a Docker engine below the floor, and the overlay is created encrypted.
    expect(envOf(String(named(run!, "nodes-aws-101-docker").inputs.create)).MIN_DOCKER_VERSION).toBe("20.10.24");
    expect(envOf(String(named(run!, "spark-network").inputs.create)).NETWORK_ENCRYPTED).toBe("1");
    // IPsec ESP is open between the nodes only.
    const esp = ofType(run!, TYPES.ingress).filter((r) => r.inputs.ipProtocol === "50");
    expect(esp).toHaveLength(1);
    expect(esp[0].inputs.referencedSecurityGroupId).toBe((run!.outputs.securityGroupIds as Record<string, string>).node);
    expect(esp[0].inputs.cidrIpv4).toBeUndefined();
  });

  test("outside an offline run nothing records them: a deployment refuses, whatever its environment", () => {
    expect(defaultDependencies({ SWARM_FLOCKER_OFFLINE: "1", CI: "true" }).placeholders).toBe("refuse");
  });
});

describe("privileged images by digest", () => {
  const digest = (c: string) => `sha256:${c.repeat(64)}`;
  /** The four Flocker images pinned, in both spellings Docker accepts: name:tag@digest and name@digest. */
  const PINNED = {
    flockerControlImage: `clusterhq/flocker-control-service:1.15.0@${digest("a")}`,
    flockerDatasetAgentImage: `clusterhq/flocker-dataset-agent@${digest("b")}`,
    flockerContainerAgentImage: `registry.internal.corp:5000/flocker/container-agent:1.15.0@${digest("c")}`,
    flockerPluginImage: `clusterhq/flocker-docker-plugin:1.15.0@${digest("d")}`,
  };
  /** A real-looking admin address (TEST-NET ranges are placeholders). */
  const REAL_ADMIN = { adminCidrs: '["198.18.0.7/32"]' };

  test("a deployment refuses each Flocker image taken by a tag, naming its key, how it runs and the command that prints its digest", async () => {
    const message = refusal(await attempt("dev", REAL_ADMIN, { placeholders: "refuse" }));
    const lines = message.split("\n").filter((line) => line.startsWith("  - "));
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe(
      '  - flockerDatasetAgentImage: "clusterhq/flocker-dataset-agent" is not pinned by digest, and it runs --privileged with host networking ' +
        "and the host's / and /dev and /etc/flocker (the node's keys and Flocker's AWS key): whoever moves its tag runs code as root on every node. " +
        "Print the digest with `docker pull clusterhq/flocker-dataset-agent && docker image inspect --format '{{index .RepoDigests 0}}' clusterhq/flocker-dataset-agent`, " +
        "check it is the image you mean, and set pulumi config set flockerDatasetAgentImage <name>:<tag>@sha256:<digest> (or mirror it to your own registry)",
    );
    expect(lines.map((line) => /^ {2}- (\w+):/.exec(line)?.[1])).toEqual(Object.keys(PINNED));
    // A tag alone is no better than no tag.
    const tagged = refusal(
      await attempt(
        "dev",
        { ...REAL_ADMIN, ...PINNED, flockerPluginImage: "clusterhq/flocker-docker-plugin:1.15.0" },
        { placeholders: "refuse" },
      ),
    );
    expect(tagged.split("\n").filter((line) => line.startsWith("  - "))).toEqual([
      expect.stringMatching(/^ {2}- flockerPluginImage: "clusterhq\/flocker-docker-plugin:1\.15\.0" is not pinned by digest/),
    ]);
  });

  test("pinned (name:tag@sha256 or name@sha256), a deployment goes on, and every step pulls and runs exactly that reference", async () => {
    const { run, error } = await attempt("dev", { ...REAL_ADMIN, ...PINNED }, { placeholders: "refuse" });
    expect(error).toBeUndefined();
    expect(run!.placeholders).toEqual([]);
    const pulled = Object.fromEntries(
      envOf(String(named(run!, "images-aws-104-flocker").inputs.create))
        .IMAGES.split(" ")
        .map((pair) => pair.split("=") as [string, string]),
    );
    expect(pulled).toEqual(PINNED);
    expect(envOf(String(named(run!, "flocker-aws-104-control").inputs.create)).CONTROL_IMAGE).toBe(PINNED.flockerControlImage);
    expect(envOf(String(named(run!, "flocker-aws-107-agents").inputs.create))).toMatchObject({
      DATASET_AGENT_IMAGE: PINNED.flockerDatasetAgentImage,
      CONTAINER_AGENT_IMAGE: PINNED.flockerContainerAgentImage,
      PLUGIN_IMAGE: PINNED.flockerPluginImage,
    });
  });

  test("the registry must hold the pinned digest itself, not only the tag", async () => {
    const message = refusal(
      await attempt(
        "dev",
        { ...REAL_ADMIN, ...PINNED },
        { placeholders: "refuse", world: { missingImages: [PINNED.flockerPluginImage] } },
      ),
    );
    expect(message).toContain(
      `flockerPluginImage: "${PINNED.flockerPluginImage}" cannot be pulled: docker.io/clusterhq/flocker-docker-plugin has no manifest ${digest("d")} (404 MANIFEST_UNKNOWN)`,
    );
  });
});

describe("Flocker and Spark artefacts", () => {
  test("containers mode: a Flocker image missing from its registry is named by its key", async () => {
    const message = refusal(await attempt("dev", {}, { world: { missingImages: ["clusterhq/flocker-control-service"] } }));
    expect(message).toContain(
      'flockerControlImage: "clusterhq/flocker-control-service" cannot be pulled: docker.io/clusterhq/flocker-control-service has no tag latest (404 MANIFEST_UNKNOWN)',
    );
  });

  test("a Spark image missing is named by its key", async () => {
    const message = refusal(await attempt("dev", {}, { world: { missingImages: ["fsoppelsa/spark-master:latest"] } }));
    expect(message).toContain('sparkMasterImage: "fsoppelsa/spark-master" cannot be pulled');
  });

  const realSource = {
    adminCidrs: '["52.95.110.1/32"]',
    flockerAptSource: "deb [trusted=yes] https://flocker.repo.corp.net/ubuntu/18.04 /",
    flockerAptAllowUnsigned: "true",
  };

  test("packages mode: an index without the plugin package stops the program before any instance", async () => {
    const message = refusal(
      await attempt("prod", realSource, { world: { missingPackages: ["clusterhq-flocker-docker-plugin"] } }),
    );
    expect(message).toContain(
      "flockerAptSource: the repository's index (https://flocker.repo.corp.net/ubuntu/18.04/Packages) does not list clusterhq-flocker-docker-plugin (it lists clusterhq-python-flocker, clusterhq-flocker-node)",
    );
  });

  test("packages mode: a secret apt source (a token in its path) stays out of the message", async () => {
    const secretSource = { ...realSource, flockerAptSource: "deb [trusted=yes] https://dl.corp.net/T0KEN-5ecret/deb/ubuntu /" };
    const message = refusal(
      await attempt("prod", secretSource, {
        secretKeys: ["swarm-flocker:flockerAptSource"],
        world: { missingPackages: ["clusterhq-flocker-node"] },
      }),
    );
    expect(message).toContain("flockerAptSource: the repository's index ([secret]) does not list clusterhq-flocker-node");
    expect(message).not.toContain("T0KEN-5ecret");
  });

  test("a secret archive mirror that is still a placeholder is named, its value (credentials included) is not", async () => {
    const mirror = "https://deploy:m1rr0r-Pa55@mirror.invalid/ubuntu";
    const message = refusal(
      await attempt(
        "prod",
        { ...realSource, ubuntuArchiveMirror: mirror },
        { secretKeys: ["swarm-flocker:ubuntuArchiveMirror"], placeholders: "refuse" },
      ),
    );
    expect(message).toContain("ubuntuArchiveMirror");
    expect(message).toContain("[secret]");
    expect(message).not.toContain("m1rr0r-Pa55");
  });

  test("packages mode: a repository that does not answer is refused with how to check or skip it; skipped, the run goes on", async () => {
    const world = { unreachableHosts: ["flocker.repo.corp.net"] };
    const message = refusal(await attempt("prod", realSource, { world }));
    expect(message).toContain(
      "flockerAptSource: https://flocker.repo.corp.net/ubuntu/18.04 did not answer from this machine (getaddrinfo ENOTFOUND flocker.repo.corp.net)",
    );
    expect(message).toContain("SWARM_FLOCKER_UNCHECKED_HOSTS=flocker.repo.corp.net pulumi up");

    process.env.SWARM_FLOCKER_UNCHECKED_HOSTS = "flocker.repo.corp.net";
    try {
      const skipped = await attempt("prod", { ...realSource, nodeCount: "5", managerCount: "3" }, { world });
      expect(skipped.error).toBeUndefined();
    } finally {
      delete process.env.SWARM_FLOCKER_UNCHECKED_HOSTS;
    }
  });

  test("packages mode: a .deb that is not a Debian package is named", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flocker-debs-"));
    const deb = (name: string, content: string) => fs.writeFileSync(path.join(dir, name), content, "latin1");
    deb(
      "clusterhq-python-flocker_1.15.0-1_amd64.deb",
      "!<arch>\ndebian-binary   1342943816  0     0     100644  4         `\n2.0\n",
    );
    deb("clusterhq-flocker-node_1.15.0-1_all.deb", "!<arch>\ndebian-binary   1342943816  0     0     100644  4         `\n2.0\n");
    deb("clusterhq-flocker-docker-plugin_1.15.0-1_all.deb", "<html><body>404 Not Found</body></html>");
    const message = refusal(
      await attempt("prod", {
        adminCidrs: realSource.adminCidrs,
        flockerAptSource: "",
        flockerAptAllowUnsigned: "false",
        flockerDebDir: dir,
      }),
    );
    expect(message).toContain(
      `flockerDebDir: ${path.join(dir, "clusterhq-flocker-docker-plugin_1.15.0-1_all.deb")} is not a Debian package`,
    );
    expect(message).not.toContain("clusterhq-flocker-node_1.15.0-1_all.deb is not");
  });
});

describe("configuration refused before the checks", () => {
  test("a misspelt key: nodecount is refused with the key meant", async () => {
    const message = refusal(await attempt("dev", { nodecount: "3" }));
    expect(message).toContain(
      "nodecount is not a setting of this stack: did you mean nodeCount? (pulumi config rm nodecount && pulumi config set nodeCount ...)",
    );
  });

  test("with overlayEncrypted, a pinned dockerVersion older than 20.10.24 is refused naming the key", async () => {
    const message = refusal(await attempt("prod", { overlayEncrypted: "true", dockerVersion: "20.10.21-0ubuntu1~18.04.3" }));
    expect(message).toContain('dockerVersion: "20.10.21-0ubuntu1~18.04.3" is older than 20.10.24, and overlayEncrypted is true');
  });

  test("with overlayEncrypted and no pin, bionic's own docker.io (20.10.21) is refused before any instance, with the fix", async () => {
    const message = refusal(await attempt("prod", { overlayEncrypted: "true" }));
    expect(message).toContain(
      'overlayEncrypted: "true" needs Docker 20.10.24 or later (CVE-2023-28840/28841/28842), but dockerVersion is empty and ' +
        "Ubuntu 18.04's own archive installs docker.io 20.10.21 (bionic-updates): every node would refuse it after the instances exist. " +
        "Set overlayEncrypted to false, or set ubuntuArchiveMirror",
    );
  });
});
