/** The monthly cost estimate (lib/costEstimate.ts) over the generated price table. */
import { costDemandOf } from "../config/checks/cost";
import type { ClusterConfig } from "../config/schema";
import { validateConfig } from "../config/validate";
import { costHeadline, estimateMonthlyCost, formatCostEstimate, type CostDemand } from "../lib/costEstimate";
import { isCurrentPlatformInstanceType, stackInstanceTypes } from "../lib/instanceTypes";
import { PRICE_TABLE, type PriceTable } from "../lib/prices";
import { readStackConfig } from "../tools/common/stackConfig";

/** The dev stack's configuration as the program validates it, with `changes` (bare keys). */
function devConfig(changes: Record<string, string> = {}, region = "us-east-1"): ClusterConfig {
  const values = Object.fromEntries(
    Object.entries(readStackConfig("dev"))
      .filter(([key]) => key.startsWith("swarm-flocker:"))
      .map(([key, value]) => [key.slice("swarm-flocker:".length), value]),
  );
  const { config, problems } = validateConfig({
    project: "swarm-flocker",
    stack: "dev",
    region,
    values: { ...values, availabilityZone: `${region}a`, monthlyCostCeilingUsd: "0", ...changes },
  });
  if (config === undefined) throw new Error(JSON.stringify(problems));
  return config;
}

const devDemand = (changes: Record<string, string> = {}, region?: string): CostDemand => costDemandOf(devConfig(changes, region));

test("the dev stack: nodes, their public IPv4 addresses, root volumes, control state and dataset, to the cent", () => {
  const estimate = estimateMonthlyCost(devDemand());
  expect(estimate.lines.map(({ item, quantity, monthlyUsd }) => [item, quantity, monthlyUsd])).toEqual([
    ["t2.medium instances (on-demand, Linux)", "10 × 730 h", 338.72],
    ["public IPv4 addresses", "10 × 730 h", 36.5],
    ["root volumes (gp3)", "10 × 16 GiB", 12.8],
    ["Flocker control-state volume (gp3)", "4 GiB", 0.32],
    ["Flocker dataset (bronze: magnetic)", "75 GiB", 3.75],
  ]);
  expect(estimate.totalUsd).toBe(392.09);
  expect(estimate.missing).toEqual([]);
  expect(costHeadline(estimate)).toBe("$392.09 a month");
  const text = formatCostEstimate(estimate);
  expect(text).toContain("Monthly cost estimate in us-east-1: $392.09 a month");
  // 10 × 0.0464 × 730 is 338.71999999999997 in floating point.
  expect(text).toMatch(/t2\.medium instances \(on-demand, Linux\) +10 × 730 h +\$338\.72 +\(\$0\.0464\/h\)/);
  expect(text).toContain("not included (by use): data transfer, magnetic I/O requests.");
  expect(text).not.toContain("338.7199");
});

test("every price used names its source, with a URL and a date, from the table", () => {
  const estimate = estimateMonthlyCost(devDemand({ snapshots: "true", sparkVolumeProfile: "gold", sparkVolumeSize: "100G" }));
  const ids = new Set(estimate.lines.map((l) => l.source));
  expect(ids.has(undefined)).toBe(false);
  expect(estimate.sources.map((s) => s.id).sort()).toEqual([...ids].sort());
  for (const source of estimate.sources) {
    expect(source.url).toMatch(/^https:\/\//);
    expect(source.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  }
  expect(formatCostEstimate(estimate)).toContain(
    `${estimate.sources[0].id} (${estimate.sources[0].date}): ${estimate.sources[0].url}`,
  );
});

test("every instance type the validator accepts is priced in us-east-1 and eu-west-1", () => {
  const types = stackInstanceTypes();
  expect(types).toContain("t2.large");
  for (const region of ["us-east-1", "eu-west-1"]) {
    // The current platform's Nitro types are refused on the (book) dev stack: priced on its demand directly.
    const demandOf = (type: string) =>
      isCurrentPlatformInstanceType(type)
        ? { ...devDemand({}, region), instanceType: type }
        : devDemand({ instanceType: type }, region);
    const unpriced = types.filter((type) => estimateMonthlyCost(demandOf(type)).totalUsd === undefined);
    expect({ region, unpriced }).toEqual({ region, unpriced: [] });
  }
  // The old table knew two types: t2.large's headline was "≈ $12.80 + unpriced items".
  const large = estimateMonthlyCost(devDemand({ instanceType: "t2.large" }));
  expect(large.lines[0]).toMatchObject({ monthlyUsd: 677.44, unitPrice: "$0.0928/h" });
  expect(large.totalUsd).toBe(730.81);
});

test("the table prices only instance types the stack accepts, and prices each accepted type in most regions", () => {
  const accepted = new Set(stackInstanceTypes());
  for (const [region, prices] of Object.entries(PRICE_TABLE.regions)) {
    const extra = Object.keys(prices.instances?.usdPerHour ?? {}).filter((type) => !accepted.has(type));
    expect({ region, extra }).toEqual({ region, extra: [] });
  }
  const regionsWithT2Medium = Object.values(PRICE_TABLE.regions).filter(
    (r) => r.instances?.usdPerHour["t2.medium"] !== undefined,
  );
  expect(regionsWithT2Medium.length).toBeGreaterThanOrEqual(15);
});

test("eu-west-1 is priced at its own figures, not us-east-1's", () => {
  const estimate = estimateMonthlyCost(devDemand({}, "eu-west-1"));
  expect(estimate.lines.map((l) => l.unitPrice)).toEqual([
    "$0.05/h",
    "$0.005/h",
    "$0.088/GB-month",
    "$0.088/GB-month",
    "$0.055/GB-month",
  ]);
  // 365 + 36.50 + 14.08 + 0.35 (4 × 0.088) + 4.13 (75 × 0.055)
  expect(estimate.totalUsd).toBe(420.06);
});

test("a region whose EBS and IPv4 prices the table lacks cannot be estimated: no total, the missing items named, the rest a lower bound", () => {
  const estimate = estimateMonthlyCost(devDemand({}, "eu-west-2"));
  expect(estimate.totalUsd).toBeUndefined();
  expect(estimate.missing).toEqual(["public IPv4 addresses", "gp3 storage", "magnetic storage"]);
  expect(estimate.pricedUsd).toBe(379.6); // the instances alone: 10 × $0.052 × 730
  const headline = costHeadline(estimate);
  expect(headline).toBe(
    "cannot be estimated: no price for public IPv4 addresses, gp3 storage, magnetic storage in eu-west-2 in the price table " +
      "(the priced items alone: at least $379.60 a month)",
  );
  expect(formatCostEstimate(estimate)).toMatch(/public IPv4 addresses +10 × 730 h +no price in the table/);
});

test("a region the table does not know at all names everything as missing", () => {
  const empty: PriceTable = { ...PRICE_TABLE, regions: {} };
  const estimate = estimateMonthlyCost(devDemand(), empty);
  expect(estimate.totalUsd).toBeUndefined();
  expect(estimate.pricedUsd).toBe(0);
  expect(estimate.missing).toEqual(["t2.medium instances", "public IPv4 addresses", "gp3 storage", "magnetic storage"]);
});

test("gold: io1 storage and its provisioned IOPS (30 per GiB); silver: gp2", () => {
  const gold = estimateMonthlyCost(devDemand({ sparkVolumeProfile: "gold", sparkVolumeSize: "100G" }));
  expect(gold.lines.slice(4)).toEqual([
    expect.objectContaining({
      item: "Flocker dataset (gold: io1)",
      quantity: "100 GiB",
      monthlyUsd: 12.5,
      unitPrice: "$0.125/GB-month",
    }),
    expect.objectContaining({
      item: "Flocker dataset provisioned IOPS (gold: io1)",
      quantity: "3000 IOPS",
      monthlyUsd: 195,
      unitPrice: "$0.065/IOPS-month",
    }),
  ]);
  const silver = estimateMonthlyCost(devDemand({ sparkVolumeProfile: "silver", sparkVolumeSize: "200G" }));
  expect(silver.lines[4]).toMatchObject({ item: "Flocker dataset (silver: gp2)", monthlyUsd: 20, unitPrice: "$0.1/GB-month" });
  expect(silver.notIncluded).toEqual(["data transfer"]);
});

test("snapshots: one full copy of the dataset and the control state, the changed blocks named as not included", () => {
  const estimate = estimateMonthlyCost(devDemand({ snapshots: "true", snapshotRetainCount: "14" }));
  expect(estimate.lines[5]).toEqual(
    expect.objectContaining({
      item: "snapshots (one full copy of the dataset and the control state)",
      quantity: "79 GiB",
      monthlyUsd: 3.95,
      note: "plus the blocks changed between the 14 snapshots kept, by use",
    }),
  );
  expect(estimate.notIncluded).toContain("snapshots' changed blocks");
  expect(estimateMonthlyCost(devDemand()).lines.some((l) => l.item.startsWith("snapshots"))).toBe(false);
});

test("the current platform: the Spark dataset's gp3 volume (sparkVolumeSize) and its snapshots, no Flocker lines", () => {
  const book = devDemand({ snapshots: "true", snapshotRetainCount: "14" });
  const config = {
    ...devConfig({ snapshots: "true", snapshotRetainCount: "14" }),
    platform: "current",
    sparkVolumeSizeGiB: 200,
  } as const;
  const demand = costDemandOf(config);
  expect(demand.controlStateVolume).toBeUndefined();
  const estimate = estimateMonthlyCost(demand);
  const gp3 = PRICE_TABLE.regions["us-east-1"].ebs!.usdPerGbMonth.gp3!;
  const snapshot = PRICE_TABLE.regions["us-east-1"].snapshots!.usdPerGbMonth;
  expect(estimate.lines.filter((l) => /Flocker/.test(l.item))).toEqual([]);
  expect(estimate.lines.find((l) => l.item === "Spark dataset volume (gp3)")).toMatchObject({
    quantity: "200 GiB",
    monthlyUsd: Math.round(200 * gp3 * 100) / 100,
    unitPrice: `$${gp3}/GB-month`,
  });
  expect(estimate.lines.find((l) => l.item === "snapshots (one full copy of the dataset)")).toMatchObject({
    quantity: "200 GiB",
    monthlyUsd: Math.round(200 * snapshot * 100) / 100,
    note: "plus the blocks changed between the 14 snapshots kept, by use",
  });
  expect(estimate.missing).toEqual([]);
  expect(estimate.notIncluded).toEqual(["data transfer", "snapshots' changed blocks"]);
  // on the book platform the same size is Flocker's magnetic dataset
  expect(book.dataset).toMatchObject({ volumeType: "standard", gib: 75 });
});
