/**
 * The monthly cost of a cluster, from the generated price table (lib/prices.ts): every billable
 * thing the stack creates — the nodes, their public IPv4 addresses and gp3 root volumes, the
 * control-state volume, the Flocker dataset at its profile's EBS type (io1 with its provisioned
 * IOPS), and the snapshots. Pure: what the cluster asks for in, priced lines out, rounded to cents.
 *
 * When anything has no price in the table the estimate has no total: it says what is missing and
 * gives the priced part only as a lower bound, never a smaller number that reads as complete.
 * Usage-based charges (data transfer, snapshots' changed blocks, magnetic I/O requests) depend on
 * the workload and are named as not included.
 */
import { HOURS_PER_MONTH, PRICE_TABLE, type PriceSource, type PriceTable, type PricedVolumeType } from "./prices";

export interface VolumeDemand {
  readonly volumeType: PricedVolumeType;
  readonly gib: number;
}

/** What the cluster asks AWS for, as the program builds it. */
export interface CostDemand {
  readonly region: string;
  readonly instanceType: string;
  readonly nodeCount: number;
  /** Each node has one (associatePublicIpAddress). */
  readonly publicIpv4Count: number;
  /** Per node. */
  readonly rootVolume: VolumeDemand;
  /** The Flocker control service's state (book platform); absent on the current platform, which has no Flocker. */
  readonly controlStateVolume?: VolumeDemand;
  /**
   * The Spark dataset: on the book platform the Flocker dataset as Flocker requests it for its
   * profile; on the current platform (no profile) the stack's own gp3 volume.
   */
  readonly dataset: VolumeDemand & { readonly profile?: string; readonly iops?: number };
  /** Set when snapshots are on: they cover the dataset and the control-state volume. */
  readonly snapshots?: { readonly retainCount: number };
}

export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  /** Undefined when the table has no price for it. */
  readonly monthlyUsd?: number;
  readonly unitPrice?: string;
  /** Id of the table's source of the price. */
  readonly source?: string;
  /** What the line leaves out. */
  readonly note?: string;
}

export interface CostEstimate {
  readonly region: string;
  readonly lines: readonly CostLine[];
  /** Sum of the priced lines. With anything missing, a lower bound of the cost. */
  readonly pricedUsd: number;
  /** The monthly cost: only when every line is priced. */
  readonly totalUsd?: number;
  /** What the table has no price for, e.g. "gp3 storage". */
  readonly missing: readonly string[];
  /** Charges that depend on use, never in the figure. */
  readonly notIncluded: readonly string[];
  /** The sources of the prices used, with their dates. */
  readonly sources: ReadonlyArray<PriceSource & { readonly id: string }>;
}

/** Dollars rounded to cents (338.71999999999997 is $338.72). */
const cents = (usd: number): number => Math.round(usd * 100) / 100;

export const formatUsd = (usd: number): string =>
  `$${cents(usd).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

const VOLUME_NAMES: Readonly<Record<PricedVolumeType, string>> = {
  gp3: "gp3",
  gp2: "gp2",
  io1: "io1",
  standard: "magnetic",
};

export function estimateMonthlyCost(demand: CostDemand, table: PriceTable = PRICE_TABLE): CostEstimate {
  const prices = table.regions[demand.region] ?? {};
  const lines: CostLine[] = [];
  const missing: string[] = [];
  const line = (
    item: string,
    quantity: string,
    what: string,
    price: { usd?: number; source?: string; unit: string },
    amount: number,
    note?: string,
  ) => {
    if (price.usd === undefined || price.source === undefined) {
      if (!missing.includes(what)) missing.push(what);
      lines.push({ item, quantity, ...(note ? { note } : {}) });
      return;
    }
    lines.push({
      item,
      quantity,
      monthlyUsd: cents(price.usd * amount),
      unitPrice: `$${price.usd}/${price.unit}`,
      source: price.source,
      ...(note ? { note } : {}),
    });
  };
  const storage = (item: string, volume: VolumeDemand, count = 1, note?: string) =>
    line(
      item,
      count === 1 ? `${volume.gib} GiB` : `${count} × ${volume.gib} GiB`,
      `${VOLUME_NAMES[volume.volumeType]} storage`,
      { usd: prices.ebs?.usdPerGbMonth[volume.volumeType], source: prices.ebs?.source, unit: "GB-month" },
      count * volume.gib,
      note,
    );

  const hours = `× ${HOURS_PER_MONTH} h`;
  line(
    `${demand.instanceType} instances (on-demand, Linux)`,
    `${demand.nodeCount} ${hours}`,
    `${demand.instanceType} instances`,
    { usd: prices.instances?.usdPerHour[demand.instanceType], source: prices.instances?.source, unit: "h" },
    demand.nodeCount * HOURS_PER_MONTH,
  );
  line(
    "public IPv4 addresses",
    `${demand.publicIpv4Count} ${hours}`,
    "public IPv4 addresses",
    { usd: prices.publicIpv4?.usdPerHour, source: prices.publicIpv4?.source, unit: "h" },
    demand.publicIpv4Count * HOURS_PER_MONTH,
  );
  storage(`root volumes (${VOLUME_NAMES[demand.rootVolume.volumeType]})`, demand.rootVolume, demand.nodeCount);
  const { controlStateVolume, dataset } = demand;
  if (controlStateVolume !== undefined) {
    storage(`Flocker control-state volume (${VOLUME_NAMES[controlStateVolume.volumeType]})`, controlStateVolume);
  }
  const magnetic = dataset.volumeType === "standard" ? "plus its I/O requests, by use" : undefined;
  const datasetItem =
    dataset.profile === undefined
      ? `Spark dataset volume (${VOLUME_NAMES[dataset.volumeType]})`
      : `Flocker dataset (${dataset.profile}: ${VOLUME_NAMES[dataset.volumeType]})`;
  storage(datasetItem, dataset, 1, magnetic);
  if (dataset.iops !== undefined) {
    line(
      `Flocker dataset provisioned IOPS (${dataset.profile}: io1)`,
      `${dataset.iops} IOPS`,
      "io1 provisioned IOPS",
      { usd: prices.ebs?.io1UsdPerIopsMonth, source: prices.ebs?.source, unit: "IOPS-month" },
      dataset.iops,
    );
  }
  if (demand.snapshots !== undefined) {
    // Snapshots are incremental: the retained chain holds one full copy of the written blocks (at
    // most the provisioned size, priced here) plus what changed between snapshots, which only the
    // workload decides.
    const gib = dataset.gib + (controlStateVolume?.gib ?? 0);
    line(
      controlStateVolume === undefined
        ? "snapshots (one full copy of the dataset)"
        : "snapshots (one full copy of the dataset and the control state)",
      `${gib} GiB`,
      "snapshot storage",
      { usd: prices.snapshots?.usdPerGbMonth, source: prices.snapshots?.source, unit: "GB-month" },
      gib,
      `plus the blocks changed between the ${demand.snapshots.retainCount} snapshots kept, by use`,
    );
  }

  const pricedUsd = cents(lines.reduce((sum, l) => sum + (l.monthlyUsd ?? 0), 0));
  const used = new Set(lines.flatMap((l) => (l.source === undefined ? [] : [l.source])));
  const notIncluded = [
    "data transfer",
    ...(demand.snapshots === undefined ? [] : ["snapshots' changed blocks"]),
    ...(dataset.volumeType === "standard" ? ["magnetic I/O requests"] : []),
  ];
  return {
    region: demand.region,
    lines,
    pricedUsd,
    ...(missing.length === 0 ? { totalUsd: pricedUsd } : {}),
    missing,
    notIncluded,
    sources: [...used].sort().map((id) => ({ id, ...table.sources[id] })),
  };
}

/** The estimate in one phrase: the amount, or why there is none (with the priced part as a lower bound). */
export function costHeadline(estimate: CostEstimate): string {
  if (estimate.totalUsd !== undefined) return `${formatUsd(estimate.totalUsd)} a month`;
  return (
    `cannot be estimated: no price for ${estimate.missing.join(", ")} in ${estimate.region} in the price table ` +
    `(the priced items alone: at least ${formatUsd(estimate.pricedUsd)} a month)`
  );
}

/** The regions the table prices completely for a cluster (every category present). */
export function fullyPricedRegions(table: PriceTable = PRICE_TABLE): string[] {
  return Object.entries(table.regions)
    .filter(([, r]) => r.instances && r.ebs && r.publicIpv4 && r.snapshots)
    .map(([region]) => region)
    .sort();
}

/** The estimate as the plan prints it. */
export function formatCostEstimate(estimate: CostEstimate): string {
  const out = [`Monthly cost estimate in ${estimate.region}: ${costHeadline(estimate)}`];
  const width = Math.max(...estimate.lines.map((l) => l.item.length)) + 2;
  for (const l of estimate.lines) {
    const cost =
      l.monthlyUsd === undefined ? "no price in the table" : `${formatUsd(l.monthlyUsd).padStart(10)}  (${l.unitPrice})`;
    out.push(`  ${l.item.padEnd(width)}${l.quantity.padEnd(16)}${cost}${l.note ? `; ${l.note}` : ""}`);
  }
  out.push(`  On-demand list prices for ${HOURS_PER_MONTH} hours; not included (by use): ${estimate.notIncluded.join(", ")}.`);
  out.push("  Prices from lib/priceTable.json (generated from AWS's price list, docs/cost.md):");
  for (const s of estimate.sources) out.push(`    ${s.id} (${s.date}): ${s.url}`);
  return out.join("\n") + "\n";
}
