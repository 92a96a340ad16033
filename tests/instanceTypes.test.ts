import { instanceFamily, isPlausibleInstanceType, isXenInstanceType } from "../lib/instanceTypes";

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
