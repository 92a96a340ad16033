import { validateConfig } from "../config/validate";
import {
  instanceFamily,
  instanceSize,
  isPlausibleInstanceType,
  currentPlatformInstanceTypes,
  isCurrentPlatformInstanceType,
  isXenInstanceType,
  knownXenInstanceTypes,
  MIN_NODE_MEMORY_MIB,
  stackInstanceTypes,
} from "../lib/instanceTypes";

describe("isXenInstanceType", () => {
  test.each([
    // Xen: EBS shows up as /dev/xvd*, which Flocker 1.15 finds
    "t2.medium",
    "t2.micro",
    "t1.micro",
    "m1.small",
    "m3.medium",
    "m4.large",
    "m4.16xlarge",
    "c3.large",
    "c4.xlarge",
    "r3.large",
    "r4.2xlarge",
    "i2.xlarge",
    "i3.large",
    "d2.xlarge",
    "h1.2xlarge",
    "x1.16xlarge",
    "x1e.xlarge",
    "g2.2xlarge",
    "g3.4xlarge",
    "g3s.xlarge",
    "p2.xlarge",
    "p3.2xlarge",
    "f1.2xlarge",
    "cc2.8xlarge",
    "cr1.8xlarge",
    "hs1.8xlarge",
  ])("%s is Xen", (instanceType) => {
    expect(isXenInstanceType(instanceType)).toBe(true);
  });

  test.each([
    // Nitro: EBS shows up as NVMe
    "t3.medium",
    "t3a.medium",
    "t4g.medium",
    "m5.large",
    "m5a.large",
    "m6i.large",
    "m7g.large",
    "c5.large",
    "c5n.large",
    "r5.large",
    "r6g.large",
    "i3en.large", // i3 is Xen, i3en is not
    "i3.metal", // bare metal has no Xen under it
    "p3dn.24xlarge", // p3 is Xen, p3dn is not
    "z1d.large",
    "a1.large",
    "u-6tb1.metal",
    "mac1.metal",
    // unknown families count as not Xen
    "q9.large",
    // not instance types at all
    "t2",
    "T2.medium",
    "",
  ])("%s is not Xen", (instanceType) => {
    expect(isXenInstanceType(instanceType)).toBe(false);
  });
});

describe("isPlausibleInstanceType", () => {
  test.each(["t2.medium", "m4.16xlarge", "u-6tb1.metal", "i7i.metal-24xl", "p3dn.24xlarge"])("%s is plausible", (text) => {
    expect(isPlausibleInstanceType(text)).toBe(true);
  });

  test.each(["t2medium", "t2.", ".medium", "T2.medium", "t2.medium.x", "t2 .medium", "2t.medium", "t2.Medium", ""])(
    "%j is not",
    (text) => {
      expect(isPlausibleInstanceType(text)).toBe(false);
    },
  );
});

test("instanceFamily", () => {
  expect(instanceFamily("t2.medium")).toBe("t2");
  expect(instanceFamily("i3en.large")).toBe("i3en");
  expect(instanceFamily("nonsense")).toBeUndefined();
});

describe("the table of Xen instance sizes", () => {
  test("holds only Xen types, with the numbers AWS publishes", () => {
    for (const type of knownXenInstanceTypes()) expect([type, isXenInstanceType(type)]).toEqual([type, true]);
    expect(instanceSize("t2.medium")).toEqual({ vcpus: 2, memoryMiB: 4096 });
    expect(instanceSize("m4.large")).toEqual({ vcpus: 2, memoryMiB: 8192 });
    expect(instanceSize("c4.8xlarge")).toEqual({ vcpus: 36, memoryMiB: 61440 });
    expect(instanceSize("r4.large")).toEqual({ vcpus: 2, memoryMiB: 15616 });
    expect(instanceSize("t1.micro")).toEqual({ vcpus: 1, memoryMiB: 628 });
    expect(instanceSize("t3.nano")).toBeUndefined();
  });

  test("the smallest types come first, and t2.small is the first that holds Docker and Flocker", () => {
    const types = knownXenInstanceTypes();
    expect(types.slice(0, 3)).toEqual(["t2.nano", "t1.micro", "t2.micro"]);
    expect(types.find((t) => instanceSize(t)!.memoryMiB >= MIN_NODE_MEMORY_MIB)).toBe("t2.small");
  });
});

describe("the current platform's Nitro list", () => {
  test("holds Nitro types only, none below the memory floor, with AWS's numbers", () => {
    const types = currentPlatformInstanceTypes();
    expect(types[0]).toBe("t3.small");
    for (const type of types) {
      expect([type, isXenInstanceType(type), isCurrentPlatformInstanceType(type)]).toEqual([type, false, true]);
      expect(instanceSize(type)!.memoryMiB).toBeGreaterThanOrEqual(MIN_NODE_MEMORY_MIB);
    }
    expect(instanceSize("t3.medium")).toEqual({ vcpus: 2, memoryMiB: 4096 });
    expect(instanceSize("c6i.4xlarge")).toEqual({ vcpus: 16, memoryMiB: 32768 });
    expect(instanceSize("r5.large")).toEqual({ vcpus: 2, memoryMiB: 16384 });
    expect(isCurrentPlatformInstanceType("t2.medium")).toBe(false);
    expect(isCurrentPlatformInstanceType("m7i.large")).toBe(false);
  });

  test("every type either platform accepts is one the price table is made for", () => {
    const all = new Set(stackInstanceTypes());
    for (const type of currentPlatformInstanceTypes()) expect(all.has(type)).toBe(true);
    expect(all.has("t2.medium")).toBe(true);
  });
});

describe("the validator holds the Spark workers and Flocker to the instance type", () => {
  const problems = (values: Record<string, string>) =>
    validateConfig({
      project: "swarm-flocker",
      stack: "dev",
      region: "us-east-1",
      values: { adminCidrs: '["203.0.113.10/32"]', monthlyCostCeilingUsd: "0", ...values },
    }).problems.map((p) => p.message);

  test("the book's t2.medium with 1 core and 1g, prod's m4.large with 2 cores and 6g, and t2.small with the defaults pass", () => {
    expect(problems({ instanceType: "t2.medium", sparkWorkerCores: "1", sparkWorkerMemory: "1g" })).toEqual([]);
    expect(problems({ instanceType: "m4.large", sparkWorkerCores: "2", sparkWorkerMemory: "6g" })).toEqual([]);
    expect(problems({ instanceType: "t2.small" })).toEqual([]);
  });

  test.each([
    ["t2.micro", "1 GiB"],
    ["t2.nano", "512 MiB (0.50 GiB)"],
    ["m1.small", "1741 MiB (1.70 GiB)"],
  ])("%s is too small for Docker and Flocker, and the message names the minimum", (type, memory) => {
    expect(problems({ instanceType: type, sparkWorkerMemory: "512m" })).toEqual([
      `instanceType: "${type}" is too small: it has ${memory} of memory, and Ubuntu, Docker, the Flocker agents and plugin and a Spark worker ` +
        "need at least 2 GiB; use t2.small or larger (the book's t2.medium has 4 GiB)",
    ]);
  });

  test("more worker cores than the instance has vCPUs", () => {
    expect(problems({ instanceType: "t2.medium", sparkWorkerCores: "4" })).toEqual([
      'sparkWorkerCores: "4" is more than one node has: instanceType t2.medium has 2 vCPUs; use at most 2, or a larger instance type',
    ]);
  });

  test("more worker memory than the instance has, after what Ubuntu, Docker and Flocker keep", () => {
    expect(problems({ instanceType: "t2.medium", sparkWorkerMemory: "4g" })).toEqual([
      'sparkWorkerMemory: "4g" (4096 MiB) does not fit one node: instanceType t2.medium has 4096 MiB, of which 1024 MiB stay with ' +
        "Ubuntu, Docker and Flocker; use at most 3072m, or a larger instance type",
    ]);
    expect(problems({ instanceType: "t2.medium", sparkWorkerMemory: "3072m" })).toEqual([]);
    expect(problems({ instanceType: "m4.large", sparkWorkerMemory: "8g" })[0]).toMatch(/use at most 7168m/);
  });

  test("a Xen type EC2 no longer launches is not in the table", () => {
    expect(problems({ instanceType: "cc2.8xlarge" })).toEqual([
      'instanceType: "cc2.8xlarge" is not a Xen instance type EC2 still launches (the table in lib/instanceTypes.ts has their vCPUs and memory): ' +
        "use e.g. t2.small, t2.medium, m4.large or r4.large",
    ]);
  });
});
