import { validateConfig, type RawConfig } from "../config/validate";
import type { ConfigKey } from "../config/schema";
import { costDemandOf } from "../config/checks/cost";
import { estimateMonthlyCost } from "../lib/costEstimate";
import { CURRENT_SPARK_IMAGE } from "../lib/platform";

type Values = Partial<Record<ConfigKey, string>>;

/** What Pulumi.current.yaml sets, as the CLI hands it over (every value as text). */
const CURRENT: Values = {
  platform: "current",
  availabilityZone: "us-east-1a",
  instanceType: "t3.medium",
  adminCidrs: '["203.0.113.10/32"]',
  nodeImageId: "ami-0123456789abcdef0",
  sparkVolumeSize: "75G",
};

function raw(values: Values): RawConfig {
  return { project: "swarm-flocker", stack: "current", region: "us-east-1", values };
}
const messages = (values: Values) => validateConfig(raw(values)).problems.map((p) => p.message);

describe("platform", () => {
  test("book is the default: a stack without the key validates as before and gets platform book", () => {
    const { config, problems } = validateConfig(
      raw({ instanceType: "t2.medium", adminCidrs: '["203.0.113.10/32"]', flockerInstall: "packages", flockerDebDir: "" }),
    );
    expect(problems.map((p) => p.message).join("\n")).not.toContain("platform");
    expect(config?.platform ?? "no config").toBe(problems.length === 0 ? "book" : "no config");
  });

  test("the current stack's values validate, with the pinned image and the digest-pinned Spark image", () => {
    const { config, problems } = validateConfig(raw(CURRENT));
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      platform: "current",
      instanceType: "t3.medium",
      nodeImageId: "ami-0123456789abcdef0",
      sparkImage: CURRENT_SPARK_IMAGE,
    });
  });

  test("an unknown platform names the value and both platforms", () => {
    expect(messages({ ...CURRENT, platform: "modern" })).toContain(
      'platform: "modern" is not a platform: use book (the chapter as written, with Flocker) or current (Ubuntu 24.04, Nitro, no Flocker); docs/platforms.md compares them',
    );
  });

  test("keys the book platform alone reads are refused on current, each with its value and what to do", () => {
    const found = messages({ ...CURRENT, ami: "ami-0fedcba9876543210", flockerInstall: "packages", sparkMasterImage: "x/y" });
    expect(found).toEqual([
      "ami: \"ami-0fedcba9876543210\" is only read on platform book, and this stack's platform is current (the current platform's image is nodeImageId): remove it (pulumi config rm ami), or set platform to book if that is the cluster you mean",
      'flockerInstall: "packages" is only read on platform book, and this stack\'s platform is current (the current platform has no Flocker): remove it (pulumi config rm flockerInstall), or set platform to book if that is the cluster you mean',
      'sparkMasterImage: "x/y" is only read on platform book, and this stack\'s platform is current (the current platform runs one image, sparkImage): remove it (pulumi config rm sparkMasterImage), or set platform to book if that is the cluster you mean',
    ]);
  });

  test("keys the current platform alone reads are refused on book", () => {
    const found = messages({
      instanceType: "t2.medium",
      adminCidrs: '["203.0.113.10/32"]',
      nodeImageId: "ami-0123456789abcdef0",
      sparkImage: CURRENT_SPARK_IMAGE,
    });
    expect(found).toContain(
      "nodeImageId: \"ami-0123456789abcdef0\" is only read on platform current, and this stack's platform is book (the book platform's image is ami (or the newest Canonical image of ubuntuRelease)): remove it (pulumi config rm nodeImageId), or set platform to current if that is the cluster you mean",
    );
    expect(found.filter((m) => m.startsWith("sparkImage:"))).toHaveLength(1);
  });

  test("the Ubuntu archive mirror is the book's: 24.04's deb822 sources are not what install-docker.sh rewrites", () => {
    expect(messages({ ...CURRENT, ubuntuArchiveMirror: "http://old-releases.ubuntu.com/ubuntu" })).toEqual([
      'ubuntuArchiveMirror: "http://old-releases.ubuntu.com/ubuntu" is only read on platform book, and this stack\'s platform is current ' +
        "(Ubuntu 24.04 keeps its apt sources in deb822 form (/etc/apt/sources.list.d/ubuntu.sources), which install-docker.sh's mirror rewrite does not edit, and its own regional mirror serves it): " +
        "remove it (pulumi config rm ubuntuArchiveMirror), or set platform to book if that is the cluster you mean",
    ]);
  });

  test("a default is not 'set': the book keys' defaults never trip the current platform", () => {
    expect(messages(CURRENT)).toEqual([]);
  });
});

describe("the current platform's instance types", () => {
  test.each([
    ["t2.medium", "is a Xen type, and the current platform runs on Nitro (EBS as NVMe, found by its volume id)"],
    [
      "m7i.large",
      "is not on the current platform's list of Nitro types (lib/instanceTypes.ts; the cost estimate prices exactly these)",
    ],
    ["T3.medium", "is not an EC2 instance type name"],
  ])("%s is refused with what to use instead", (instanceType, why) => {
    expect(messages({ ...CURRENT, instanceType })).toEqual([
      `instanceType: ${JSON.stringify(instanceType)} ${why}: on platform current use one of t3.medium, c5.large, c6i.large, t3.large`,
    ]);
  });

  test("the book platform still refuses Nitro types, as before", () => {
    expect(messages({ instanceType: "t3.medium", adminCidrs: '["203.0.113.10/32"]' }).join("\n")).toContain(
      'instanceType: "t3.medium" is not allowed while Flocker is the volume backend',
    );
  });

  test("Spark workers are held to the Nitro type's size, without Flocker's share in the message", () => {
    expect(messages({ ...CURRENT, sparkWorkerMemory: "4g" })).toEqual([
      'sparkWorkerMemory: "4g" (4096 MiB) does not fit one node: instanceType t3.medium has 4096 MiB, of which 1024 MiB stay with Ubuntu, Docker; use at most 3072m, or a larger instance type',
    ]);
    expect(messages({ ...CURRENT, sparkWorkerCores: "3" })[0]).toContain("instanceType t3.medium has 2 vCPUs");
  });
});

describe("nodeImageId and sparkImage", () => {
  test("nodeImageId must be an AMI id; empty is allowed here (the preflight stops and prints the pin)", () => {
    expect(messages({ ...CURRENT, nodeImageId: "ubuntu-24.04" })[0]).toMatch(
      /^nodeImageId: "ubuntu-24.04" is not an AMI id: use ami- followed by 8 or 17 hexadecimal digits, the value of the SSM parameter \/aws\/service\/canonical\/ubuntu\/server\/24.04\/stable\/current\/amd64\/hvm\/ebs-gp3\/ami-id/,
    );
    const { config } = validateConfig(raw({ ...CURRENT, nodeImageId: "" }));
    expect(config).toBeDefined();
    expect(config && "nodeImageId" in config).toBe(false);
  });

  test("sparkImage must be pinned by digest", () => {
    expect(messages({ ...CURRENT, sparkImage: "apache/spark:3.5.6" })).toEqual([
      'sparkImage: "apache/spark:3.5.6" is not pinned by digest: use name:tag@sha256:<digest> (docker buildx imagetools inspect apache/spark:3.5.6 prints the digest), so every node runs the same bytes',
    ]);
    expect(messages({ ...CURRENT, sparkImage: "Apache/Spark" })[0]).toMatch(
      /^sparkImage: "Apache\/Spark" is not a Docker image reference/,
    );
  });
});

describe("cost on the current platform", () => {
  test("no Flocker control-state volume; the Spark data is a gp3 volume; the headline is complete in us-east-1", () => {
    const config = validateConfig(raw(CURRENT)).config!;
    const demand = costDemandOf(config);
    expect(demand.controlStateVolume).toBeUndefined();
    expect(demand.dataset).toEqual({ volumeType: "gp3", gib: 75 });
    const estimate = estimateMonthlyCost(demand);
    expect(estimate.missing).toEqual([]);
    expect(estimate.lines.map((l) => l.item)).toEqual([
      "t3.medium instances (on-demand, Linux)",
      "public IPv4 addresses",
      "root volumes (gp3)",
      "Spark dataset volume (gp3)",
    ]);
    // 10 × 730 h × $0.0416 + 10 × 730 h × $0.005 + 160 GiB × $0.08 + 75 GiB × $0.08
    expect(estimate.totalUsd).toBe(303.68 + 36.5 + 12.8 + 6);
  });
});

describe("the current platform's Spark data volume size (sparkVolumeSize)", () => {
  test("any whole number of GiB up to gp3's 16384: no Flocker profile bounds it", () => {
    const { config, problems } = validateConfig(raw({ ...CURRENT, sparkVolumeSize: "1100G" }));
    expect(problems).toEqual([]);
    expect(config?.sparkVolumeSizeGiB).toBe(1100);
    // the same size on the book platform's default bronze (magnetic) profile is refused
    expect(
      messages({ instanceType: "t2.medium", adminCidrs: '["203.0.113.10/32"]', sparkVolumeSize: "1100G" }).join("\n"),
    ).toContain("sparkVolumeProfile");
  });

  test("a size that is not whole GiB or beyond gp3's limit is refused, naming the key, the value and what is allowed", () => {
    for (const size of ["0G", "16385G", "1.5G", "10 G", "512M"]) {
      expect(messages({ ...CURRENT, sparkVolumeSize: size })).toEqual([
        `sparkVolumeSize: ${JSON.stringify(size)} is not a size of the Spark data volume: use a whole number of GiB from 1 to 16384 (gp3's limits), as digits and an optional unit G or T, optionally followed by B or iB, in any case (e.g. 75G, 100GiB or 2T)`,
      ]);
    }
  });
});
