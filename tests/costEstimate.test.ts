/** The plan's monthly cost estimate, from the dated price table. */
import { costInputFrom, estimateMonthlyCost, formatCostEstimate } from "../tools/costEstimate";
import type { RecordedResource } from "../tools/mockRuntime";
import { HOURS_PER_MONTH, PRICE_TABLE, TABLE_DATE } from "../tools/prices";

const instance = (name: string, instanceType: string, volumeSize: number): RecordedResource => ({
  urn: `urn:${name}`,
  type: "aws:ec2/instance:Instance",
  name,
  custom: true,
  inputs: { instanceType, rootBlockDevice: { volumeSize, volumeType: "gp3", encrypted: true } },
  wireInputs: {},
  dependencies: [],
  options: {
    deleteBeforeReplace: false,
    additionalSecretOutputs: [],
    ignoreChanges: [],
    replaceOnChanges: [],
    retainOnDelete: false,
    protect: false,
  },
});

test("every price in the table names its source and what the source says of its date and region", () => {
  expect(TABLE_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  for (const region of Object.values(PRICE_TABLE)) {
    for (const price of [...Object.values(region.instances), ...Object.values(region.volumes)]) {
      expect(price.source).toMatch(/^https:\/\//);
      expect(price.sourceNote.length).toBeGreaterThan(20);
      expect(price.usd).toBeGreaterThan(0);
    }
  }
  expect(Object.keys(PRICE_TABLE).sort()).toEqual(["us-east-1", "us-west-2"]);
});

test("instances by type for a month, root volumes by GiB, the Flocker volume by its profile's EBS type", () => {
  const resources = [instance("a", "t2.medium", 16), instance("b", "t2.medium", 16), instance("c", "m4.large", 20)];
  const estimate = estimateMonthlyCost(costInputFrom(resources, "us-east-1", { profile: "silver", gib: 200, volumeType: "gp2" }));
  expect(estimate.lines).toEqual([
    {
      item: "m4.large instances (on-demand, Linux)",
      quantity: `1 × ${HOURS_PER_MONTH} h`,
      monthlyUsd: 0.1 * 730,
      unitPrice: "$0.1/h",
    },
    {
      item: "t2.medium instances (on-demand, Linux)",
      quantity: `2 × ${HOURS_PER_MONTH} h`,
      monthlyUsd: 2 * 0.0464 * 730,
      unitPrice: "$0.0464/h",
    },
    { item: "root volumes (gp3)", quantity: "52 GiB", monthlyUsd: 52 * 0.08, unitPrice: "$0.08/GB-month" },
    { item: "Flocker volume (silver: gp2)", quantity: "200 GiB", monthlyUsd: 200 * 0.1, unitPrice: "$0.1/GB-month" },
  ]);
  expect(estimate.totalUsd).toBeCloseTo(73 + 67.744 + 4.16 + 20, 6);
  expect(estimate.unpriced).toEqual([]);
  expect(estimate.pricedAs).toBeUndefined();
});

test("what the table has no sourced price for is listed as such, never guessed", () => {
  const estimate = estimateMonthlyCost(
    costInputFrom([instance("a", "c4.large", 16)], "us-east-1", { profile: "gold", gib: 100, volumeType: "io1", iops: 3000 }),
  );
  expect(estimate.unpriced).toEqual([
    "c4.large instances (on-demand, Linux)",
    "Flocker volume (gold: io1, 3000 provisioned IOPS not priced)",
    "io1 provisioned IOPS",
  ]);
  expect(estimate.totalUsd).toBeCloseTo(16 * 0.08, 6);
  const text = formatCostEstimate(estimate);
  expect(text).toContain("≈ $1.28 + unpriced items");
  expect(text).toMatch(/c4\.large instances \(on-demand, Linux\) +1 × 730 h +no price in the table/);
  expect(text).toContain(`An estimate from the price table in tools/prices.ts (compiled ${TABLE_DATE}`);
});

test("a region priced with another's figures says so; a region without any is all unpriced", () => {
  const west = estimateMonthlyCost(costInputFrom([instance("a", "m4.large", 16)], "us-west-2"));
  expect(west.pricedAs).toBe("us-east-1");
  expect(formatCostEstimate(west)).toContain(
    "Monthly cost estimate in us-west-2 (priced with us-east-1's figures: the table has none of its own for us-west-2)",
  );
  const elsewhere = estimateMonthlyCost(costInputFrom([instance("a", "m4.large", 16)], "eu-west-1"));
  expect(elsewhere.totalUsd).toBe(0);
  expect(elsewhere.unpriced).toHaveLength(2);
});
