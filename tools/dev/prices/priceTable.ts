/**
 * The committed price table (lib/priceTable.json) from the facts the inputs gave: per region and
 * category (instances, EBS, public IPv4, snapshots) the newest source that has that category wins
 * whole, so a category never mixes two dates. Pure, plus a compact writer (one line per category).
 */
import type { PriceSource, PriceTable, PricedVolumeType, RegionPrices } from "../../../lib/prices";
import type { PriceFact, PriceKind } from "./priceList";

type Category = keyof RegionPrices;

const CATEGORY: Readonly<Record<PriceKind, Category>> = {
  instance: "instances",
  volume: "ebs",
  io1Iops: "ebs",
  snapshot: "snapshots",
  publicIpv4: "publicIpv4",
};

/** The category's prices from one source's facts. */
function categoryPrices(category: Category, source: string, facts: readonly PriceFact[]): RegionPrices[Category] {
  const one = (kind: PriceKind) => facts.find((f) => f.kind === kind)?.usd;
  switch (category) {
    case "instances":
      return {
        source,
        usdPerHour: Object.fromEntries(facts.map((f) => [f.key, f.usd]).sort(([a], [b]) => String(a).localeCompare(String(b)))),
      };
    case "ebs": {
      const storage = Object.fromEntries(
        facts
          .filter((f) => f.kind === "volume")
          .sort((a, b) => a.key.localeCompare(b.key))
          .map((f) => [f.key as PricedVolumeType, f.usd]),
      );
      const iops = one("io1Iops");
      return { source, usdPerGbMonth: storage, ...(iops === undefined ? {} : { io1UsdPerIopsMonth: iops }) };
    }
    case "publicIpv4":
      return { source, usdPerHour: one("publicIpv4") as number };
    case "snapshots":
      return { source, usdPerGbMonth: one("snapshot") as number };
  }
}

export function buildPriceTable(
  sources: Readonly<Record<string, PriceSource>>,
  facts: readonly PriceFact[],
  generatedBy: string,
  generatedOn: string,
): PriceTable {
  const grouped = new Map<string, Map<Category, Map<string, PriceFact[]>>>();
  for (const fact of facts) {
    if (sources[fact.source] === undefined) throw new Error(`price from unknown source ${fact.source}`);
    const region = grouped.get(fact.region) ?? new Map<Category, Map<string, PriceFact[]>>();
    grouped.set(fact.region, region);
    const category = region.get(CATEGORY[fact.kind]) ?? new Map<string, PriceFact[]>();
    region.set(CATEGORY[fact.kind], category);
    category.set(fact.source, [...(category.get(fact.source) ?? []), fact]);
  }
  const regions: Record<string, RegionPrices> = {};
  for (const region of [...grouped.keys()].sort()) {
    const prices: Record<string, unknown> = {};
    for (const category of ["instances", "ebs", "publicIpv4", "snapshots"] as const) {
      const bySource = grouped.get(region)?.get(category);
      if (bySource === undefined) continue;
      // Newest first; ties keep the order the inputs were given in.
      const [newest] = [...bySource.keys()].sort((a, b) => sources[b].date.localeCompare(sources[a].date));
      prices[category] = categoryPrices(category, newest, bySource.get(newest) ?? []);
    }
    regions[region] = prices as RegionPrices;
  }
  const used = new Set(Object.values(regions).flatMap((r) => Object.values(r).map((c: { source: string }) => c.source)));
  const keptSources = Object.fromEntries(Object.entries(sources).filter(([id]) => used.has(id)));
  return { generatedBy, generatedOn, sources: keptSources, regions };
}

/** The table as JSON, two levels indented and each category on one line: small diffs, small file. */
export function formatPriceTable(table: PriceTable): string {
  const block = (entries: [string, string][], indent: string) =>
    entries.map(([key, value]) => `${indent}${JSON.stringify(key)}: ${value}`).join(",\n");
  const sources = block(
    Object.entries(table.sources).map(([id, s]) => [id, JSON.stringify(s)]),
    "    ",
  );
  const regions = block(
    Object.entries(table.regions).map(([region, prices]) => [
      region,
      `{\n${block(
        Object.entries(prices).map(([category, value]) => [category, JSON.stringify(value)]),
        "      ",
      )}\n    }`,
    ]),
    "    ",
  );
  return (
    `{\n  "generatedBy": ${JSON.stringify(table.generatedBy)},\n  "generatedOn": ${JSON.stringify(table.generatedOn)},\n` +
    `  "sources": {\n${sources}\n  },\n  "regions": {\n${regions}\n  }\n}\n`
  );
}
