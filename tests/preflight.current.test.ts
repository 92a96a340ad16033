/** The current platform's checks before anything billable: the pinned Ubuntu 24.04 image, Nitro, the Spark image. */
import type { ClusterConfig } from "../config/schema";
import { checkBeforeBillable, type PreflightDependencies } from "../preflight";
import type { AwsLookups } from "../preflight/awsLookups";
import { resolveCurrentNodeImage, UBUNTU_2404_AMI_NAME_PATTERN } from "../preflight/currentImage";
import type { Placeholder } from "../preflight/placeholders";
import { offlineWorld } from "../preflight/offlineWorld";
import { CURRENT_SPARK_IMAGE, UBUNTU_2404_SSM_PARAMETER } from "../lib/platform";

const LATEST = "ami-0a1b2c3d4e5f60718";
const PINNED = "ami-0123456789abcdef0";

const config = {
  project: "swarm-flocker",
  stack: "current",
  platform: "current",
  region: "eu-west-1",
  availabilityZone: "eu-west-1b",
  instanceType: "t3.medium",
  nodeCount: 4,
  nodeImageId: PINNED,
  adminCidrs: ["52.95.110.1/32"],
  ubuntuArchiveMirror: "",
  // Book keys keep their defaults on a current stack; nothing here may read them.
  ubuntuRelease: "16.04",
  flocker: { kind: "containers", images: { control: "a", datasetAgent: "b", containerAgent: "c", plugin: "d" } },
  sparkMasterImage: "fsoppelsa/spark-master",
  sparkWorkerImage: "fsoppelsa/spark-worker",
  flockerTest: true,
  flockerTestImage: "busybox",
  sparkImage: CURRENT_SPARK_IMAGE,
} as unknown as ClusterConfig;

/** AWS as the current platform meets it; `calls` records what was asked. */
function awsWith(overrides: Partial<AwsLookups> = {}, calls: unknown[] = []): AwsLookups {
  return {
    getAmi: async (args) => {
      calls.push(["getAmi", args]);
      return { id: PINNED, name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261120" };
    },
    getAvailabilityZones: async () => ({ names: ["eu-west-1a", "eu-west-1b"] }),
    getInstanceTypeOfferings: async () => ({ instanceTypes: ["t3.medium"], locations: ["eu-west-1b"] }),
    getInstanceType: async () => ({ defaultVcpus: 2, memorySize: 4096, hypervisor: "nitro" }),
    getServiceQuota: async () => ({ value: 32, quotaName: "standard" }),
    getParameter: async (args) => {
      calls.push(["getParameter", args]);
      return { insecureValue: LATEST };
    },
    ...overrides,
  };
}

const refuse = (aws: AwsLookups): PreflightDependencies => ({
  aws,
  http: offlineWorld(),
  uncheckedHosts: new Set(),
  placeholders: "refuse",
});

describe("the current platform's node image", () => {
  test("unpinned: a deployment stops before anything is created, with the resolved id and the exact command", async () => {
    const unpinned = { ...config, nodeImageId: undefined } as ClusterConfig;
    await expect(checkBeforeBillable(unpinned, refuse(awsWith()))).rejects.toThrow(
      "Stack current cannot be deployed as configured (checked before creating anything; nothing was created):\n" +
        `  - nodeImageId: "" is not set: Canonical's Ubuntu 24.04 image in eu-west-1 is ${LATEST} today (SSM ${UBUNTU_2404_SSM_PARAMETER}). ` +
        `Pin it, so that a new Canonical build never replaces the nodes by itself: pulumi config set nodeImageId ${LATEST} --stack current`,
    );
  });

  test("unpinned in the offline plan: listed like a placeholder, and the plan goes on with the resolved id", async () => {
    const recorded: Placeholder[] = [];
    const unpinned = { ...config, nodeImageId: undefined } as ClusterConfig;
    const facts = await checkBeforeBillable(unpinned, { ...refuse(awsWith()), placeholders: (found) => recorded.push(...found) });
    expect(facts.image).toEqual({ id: LATEST, pinned: false });
    expect(recorded.map((p) => p.key)).toEqual(["nodeImageId"]);
  });

  test("pinned and current: the pin, no notice; the SSM parameter is read in clear, and the pin checked as Canonical's 24.04", async () => {
    const calls: unknown[] = [];
    const facts = await checkBeforeBillable({ ...config, nodeImageId: LATEST } as ClusterConfig, refuse(awsWith({}, calls)));
    expect(facts).toEqual({ image: { id: LATEST, pinned: true }, notices: [] });
    expect(calls).toContainEqual([
      "getParameter",
      { name: UBUNTU_2404_SSM_PARAMETER, region: "eu-west-1", withDecryption: false },
    ]);
    expect(calls).toContainEqual([
      "getAmi",
      {
        region: "eu-west-1",
        owners: ["099720109477"],
        includeDeprecated: true,
        filters: [
          { name: "image-id", values: [LATEST] },
          { name: "name", values: [UBUNTU_2404_AMI_NAME_PATTERN] },
        ],
      },
    ]);
  });

  test("pinned, and Canonical has a newer image: the nodes keep the pin, and an info notice says how to move", async () => {
    const facts = await checkBeforeBillable(config, refuse(awsWith()));
    expect(facts.image).toEqual({ id: PINNED, pinned: true });
    expect(facts.notices).toEqual([
      `nodeImageId ${PINNED} is pinned, and Canonical's current Ubuntu 24.04 image in eu-west-1 is ${LATEST} (SSM ${UBUNTU_2404_SSM_PARAMETER}). ` +
        `The nodes stay on ${PINNED}. To move them (every node is replaced, the data volume and the swarm are kept): ` +
        `pulumi config set nodeImageId ${LATEST} --stack current (docs/platforms.md, "Refreshing the pin")`,
    ]);
  });

  test("a pin that is not Canonical's 24.04 image in the region is refused with the command that pins the right one", async () => {
    const aws = awsWith({
      getAmi: async () => {
        throw new Error("invocation of aws:ec2/getAmi:getAmi returned an error: Your query returned no results.");
      },
    });
    await expect(checkBeforeBillable(config, refuse(aws))).rejects.toThrow(
      `nodeImageId: "${PINNED}" is not Canonical's Ubuntu 24.04 amd64 image in eu-west-1 (AMI ids belong to one region, and a deregistered image is gone): ` +
        `pin the one Canonical names today, pulumi config set nodeImageId ${LATEST} --stack current`,
    );
  });

  test("a region without the parameter, and a refused look-up, are told apart", async () => {
    const missing = await resolveCurrentNodeImage(
      config,
      awsWith({
        getParameter: async () => {
          throw new Error("ParameterNotFound: /aws/service/...");
        },
      }),
    );
    expect(missing.problems[0]).toMatch(/^aws:region: "eu-west-1" has no SSM parameter \/aws\/service\/canonical\//);
    const denied = await resolveCurrentNodeImage(
      config,
      awsWith({
        getParameter: async () => {
          throw new Error("AccessDeniedException: not authorized to perform ssm:GetParameter");
        },
      }),
    );
    expect(denied).toMatchObject({ problems: [], failures: [{ what: `the SSM parameter ${UBUNTU_2404_SSM_PARAMETER}` }] });
    const error = await checkBeforeBillable(
      config,
      refuse(
        awsWith({
          getParameter: async () => {
            throw new Error("AccessDeniedException: not authorized to perform ssm:GetParameter");
          },
        }),
      ),
    ).catch((e: Error) => e.message);
    expect(error).toContain(
      `AWS refused to describe the SSM parameter ${UBUNTU_2404_SSM_PARAMETER}: AccessDeniedException: not authorized to perform ssm:GetParameter ` +
        "(check the credentials and region this stack runs with: aws sts get-caller-identity; the identity needs ec2:Describe*, servicequotas:GetServiceQuota and ssm:GetParameter)",
    );
  });
});

describe("the rest of the current platform's preflight", () => {
  test("a Xen answer from AWS is refused for the current platform (Nitro only)", async () => {
    const aws = awsWith({ getInstanceType: async () => ({ defaultVcpus: 2, memorySize: 4096, hypervisor: "xen" }) });
    await expect(checkBeforeBillable(config, refuse(aws))).rejects.toThrow(
      'instanceType: "t3.medium" runs on xen, not Nitro, by AWS\'s own description',
    );
  });

  test("offered-in-zone and quota are checked as on the book platform", async () => {
    const aws = awsWith({
      getInstanceTypeOfferings: async () => ({ instanceTypes: ["t3.medium"], locations: ["eu-west-1a"] }),
      getServiceQuota: async () => ({ value: 4, quotaName: "standard" }),
    });
    const error = await checkBeforeBillable(config, refuse(aws)).catch((e: Error) => e.message);
    expect(error).toContain('instanceType: "t3.medium" is not offered in availabilityZone eu-west-1b');
    expect(error).toContain("or pick another Nitro instanceType");
    expect(error).toContain("nodeCount: 4 × t3.medium (2 vCPUs each) needs 8 vCPUs");
  });

  test("the Spark image is proven in its registry; no Flocker image or package source is looked at", async () => {
    const asked: string[] = [];
    const world = offlineWorld({ missingImages: [CURRENT_SPARK_IMAGE] });
    const http: PreflightDependencies["http"] = async (request) => {
      asked.push(new URL(request.url).pathname);
      return world(request);
    };
    const error = await checkBeforeBillable(config, { ...refuse(awsWith()), http }).catch((e: Error) => e.message);
    expect(error).toContain(`sparkImage: ${JSON.stringify(CURRENT_SPARK_IMAGE)} cannot be pulled`);
    expect(error).not.toMatch(/flocker|busybox|fsoppelsa/i);
    expect(asked.filter((p) => p.includes("/manifests/"))).toEqual([
      "/v2/apache/spark/manifests/sha256:599722640c8a42ff5ecca329a3faa5371b3bd5c752b320776d5cdd1eed3441ac",
      "/v2/apache/spark/manifests/sha256:599722640c8a42ff5ecca329a3faa5371b3bd5c752b320776d5cdd1eed3441ac",
    ]);
  });
});
