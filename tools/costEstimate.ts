/**
 * The plan's monthly cost estimate: the instances and their root volumes as the program sends them
 * to EC2, plus the Flocker volume Flocker will create for its profile — priced from the dated
 * table in tools/prices.ts. An estimate from that table, on-demand, running all month; data
 * transfer, snapshots, public IPv4 addresses and anything the table lacks are not in it.
 */
import type { RecordedResource } from "./mockRuntime";
import { HOURS_PER_MONTH, PRICE_TABLE, TABLE_DATE, type Price } from "./prices";

export interface CostInput {
  readonly region: string;
  readonly instances: ReadonlyArray<{ readonly instanceType: string; readonly rootGiB: number; readonly rootVolumeType: string }>;
  /** The Flocker volume: size and the EBS type its profile maps to. */
  readonly flockerVolume?: {
    readonly profile: string;
    readonly gib: number;
    readonly volumeType: string;
    readonly iops?: number;
  };
}

export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  /** Undefined when the table has no price for it. */
  readonly monthlyUsd?: number;
  readonly unitPrice?: string;
}

export interface CostEstimate {
  readonly region: string;
  /** The region whose prices were used (differs when the table has none of its own). */
  readonly pricedAs?: string;
  readonly lines: readonly CostLine[];
  /** Sum of the priced lines. */
  readonly totalUsd: number;
  /** Items without a price in the table. */
  readonly unpriced: readonly string[];
  readonly tableDate: string;
  readonly sources: readonly string[];
}

/** What the estimate needs from a recorded program run. */
export function costInputFrom(
  resources: readonly RecordedResource[],
  region: string,
  flockerVolume?: CostInput["flockerVolume"],
): CostInput {
  const instances = resources
    .filter((r) => r.type === "aws:ec2/instance:Instance")
    .map((r) => {
      const root = (r.inputs.rootBlockDevice ?? {}) as { volumeSize?: number; volumeType?: string };
      return {
        instanceType: String(r.inputs.instanceType),
        rootGiB: Number(root.volumeSize ?? 8),
        rootVolumeType: root.volumeType ?? "gp2",
      };
    });
  return { region, instances, flockerVolume };
}

const money = (usd: number) => `$${usd.toFixed(2)}`;

export function estimateMonthlyCost(input: CostInput): CostEstimate {
  const regionPrices = PRICE_TABLE[input.region];
  const lines: CostLine[] = [];
  const unpriced: string[] = [];
  const sources = new Set<string>();
  const priced = (item: string, quantity: string, price: Price | undefined, amount: number, unit: string) => {
    if (price === undefined) {
      lines.push({ item, quantity });
      unpriced.push(item);
      return;
    }
    sources.add(price.source);
    lines.push({ item, quantity, monthlyUsd: price.usd * amount, unitPrice: `$${price.usd}/${unit}` });
  };

  const byType = new Map<string, number>();
  for (const i of input.instances) byType.set(i.instanceType, (byType.get(i.instanceType) ?? 0) + 1);
  for (const [type, count] of [...byType].sort()) {
    priced(
      `${type} instances (on-demand, Linux)`,
      `${count} × ${HOURS_PER_MONTH} h`,
      regionPrices?.instances[type],
      count * HOURS_PER_MONTH,
      "h",
    );
  }
  const byVolume = new Map<string, number>();
  for (const i of input.instances) byVolume.set(i.rootVolumeType, (byVolume.get(i.rootVolumeType) ?? 0) + i.rootGiB);
  for (const [type, gib] of [...byVolume].sort()) {
    priced(`root volumes (${type})`, `${gib} GiB`, regionPrices?.volumes[type], gib, "GB-month");
  }
  const flocker = input.flockerVolume;
  if (flocker) {
    const iops = flocker.iops === undefined ? "" : `, ${flocker.iops} provisioned IOPS not priced`;
    priced(
      `Flocker volume (${flocker.profile}: ${flocker.volumeType}${iops})`,
      `${flocker.gib} GiB`,
      regionPrices?.volumes[flocker.volumeType],
      flocker.gib,
      "GB-month",
    );
    if (flocker.iops !== undefined && !unpriced.includes(`${flocker.volumeType} provisioned IOPS`))
      unpriced.push(`${flocker.volumeType} provisioned IOPS`);
  }
  const totalUsd = lines.reduce((sum, l) => sum + (l.monthlyUsd ?? 0), 0);
  return {
    region: input.region,
    pricedAs: regionPrices?.sameAs,
    lines,
    totalUsd,
    unpriced,
    tableDate: TABLE_DATE,
    sources: [...sources],
  };
}

/** The estimate as the plan prints it. */
export function formatCostEstimate(estimate: CostEstimate): string {
  const out: string[] = [];
  const as = estimate.pricedAs
    ? ` (priced with ${estimate.pricedAs}'s figures: the table has none of its own for ${estimate.region})`
    : "";
  out.push(
    `Monthly cost estimate in ${estimate.region}${as}: ≈ ${money(estimate.totalUsd)}${estimate.unpriced.length ? " + unpriced items" : ""}`,
  );
  const width = Math.max(...estimate.lines.map((l) => l.item.length)) + 2;
  for (const line of estimate.lines) {
    const cost =
      line.monthlyUsd === undefined ? "no price in the table" : `${money(line.monthlyUsd).padStart(9)}  (${line.unitPrice})`;
    out.push(`  ${line.item.padEnd(width)}${line.quantity.padEnd(14)}${cost}`);
  }
  if (estimate.unpriced.length) out.push(`  not included (no sourced price): ${estimate.unpriced.join(", ")}`);
  out.push(
    `  An estimate from the price table in tools/prices.ts (compiled ${estimate.tableDate}; sources and their dates are listed there),`,
  );
  out.push("  on-demand for a whole month; data transfer, snapshots and public IPv4 addresses are not included.");
  return out.join("\n") + "\n";
}
