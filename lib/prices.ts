/**
 * The price table the cost estimate reads (lib/priceTable.json), as types. The table is generated
 * by tools/dev/prices/generatePrices.ts from AWS's published price list (docs/cost.md says how), never
 * written by hand: every figure in it names the source it was extracted from and that source's date.
 */
import generated from "./priceTable.json";

/** AWS bills a month of on-demand time as 730 hours in its own examples and calculator. */
export const HOURS_PER_MONTH = 730;

/** The EBS volume types the stack creates: gp3 (root and control-state volumes) and Flocker's profiles. */
export type PricedVolumeType = "gp3" | "gp2" | "io1" | "standard";
export const PRICED_VOLUME_TYPES: readonly PricedVolumeType[] = ["gp3", "gp2", "io1", "standard"];

/** One input the table was extracted from. */
export interface PriceSource {
  /** Where the data was read from (an AWS offer file, or the public copy of AWS data that was used). */
  readonly url: string;
  /** The source's own date: the offer's publicationDate, or the commit date of a copy. */
  readonly date: string;
  /** What the source is, in words. */
  readonly note: string;
}

/** A category of prices of one region, all from one source. */
interface Priced {
  /** Key into PriceTable.sources. */
  readonly source: string;
}

export interface RegionPrices {
  /** On-demand Linux, shared tenancy, USD per hour, by instance type. */
  readonly instances?: Priced & { readonly usdPerHour: Readonly<Record<string, number>> };
  /** EBS storage, USD per GB-month, by volume type; io1's provisioned IOPS, USD per IOPS-month. */
  readonly ebs?: Priced & {
    readonly usdPerGbMonth: Readonly<Partial<Record<PricedVolumeType, number>>>;
    readonly io1UsdPerIopsMonth?: number;
  };
  /** A public IPv4 address in use, USD per hour (charged since 1 February 2024). */
  readonly publicIpv4?: Priced & { readonly usdPerHour: number };
  /** EBS snapshot storage (standard tier), USD per GB-month. */
  readonly snapshots?: Priced & { readonly usdPerGbMonth: number };
}

export interface PriceTable {
  /** The command that wrote the table, and when. */
  readonly generatedBy: string;
  readonly generatedOn: string;
  readonly sources: Readonly<Record<string, PriceSource>>;
  readonly regions: Readonly<Record<string, RegionPrices>>;
}

/** The committed table. */
export const PRICE_TABLE: PriceTable = generated;
