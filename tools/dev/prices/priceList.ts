/**
 * Reading AWS's Price List: the prices the stack can incur, picked out of an offer in the bulk
 * format (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<service>/current/<region>/index.json:
 * `products` by SKU, `terms.OnDemand` by SKU then offer term). Pure: documents in, facts out.
 *
 * What is picked, by the attributes AWS gives each product (usage types carry a region prefix,
 * e.g. `EU-EBS:VolumeUsage.gp3`, except in us-east-1):
 * - instances: productFamily "Compute Instance", the instance type, Linux, shared tenancy, no
 *   pre-installed software, capacity status "Used" (the other statuses are reservations' lines);
 * - EBS storage: productFamily "Storage", usage type EBS:VolumeUsage[.type], by volumeApiName;
 * - io1's provisioned IOPS: usage type EBS:VolumeP-IOPS.piops;
 * - snapshot storage: usage type EBS:SnapshotUsage (standard tier; archive and Outposts excluded);
 * - public IPv4: AmazonVPC's usage type PublicIPv4:InUseAddress.
 */
import { PRICED_VOLUME_TYPES, type PricedVolumeType } from "../../../lib/prices";

export interface PriceDimension {
  readonly unit: string;
  readonly pricePerUnit: { readonly USD?: string };
  readonly beginRange?: string;
  readonly description?: string;
}

export interface OfferTerm {
  readonly priceDimensions: Readonly<Record<string, PriceDimension>>;
}

export interface OfferProduct {
  readonly sku: string;
  readonly productFamily?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** An offer file in AWS's bulk format (only the parts read here). */
export interface OfferFile {
  readonly offerCode?: string;
  readonly publicationDate: string;
  readonly products: Readonly<Record<string, OfferProduct>>;
  readonly terms: { readonly OnDemand?: Readonly<Record<string, Readonly<Record<string, OfferTerm>>>> };
}

export type PriceKind = "instance" | "volume" | "io1Iops" | "snapshot" | "publicIpv4";

/** One price found: `key` is the instance type or the volume type ("" for the others). */
export interface PriceFact {
  readonly region: string;
  readonly kind: PriceKind;
  readonly key: string;
  readonly usd: number;
  /** Id of the source it came from. */
  readonly source: string;
}

/** What the stack can use, so that nothing else reaches the table. */
export interface Wanted {
  readonly instanceTypes: ReadonlySet<string>;
}

/** The unit each kind is billed in, as the offers spell it. */
const UNITS: Readonly<Record<PriceKind, readonly string[]>> = {
  instance: ["Hrs"],
  volume: ["GB-Mo", "GB-month"],
  io1Iops: ["IOPS-Mo"],
  snapshot: ["GB-Mo", "GB-month"],
  publicIpv4: ["Hrs"],
};

/** True when `usageType` is `name`, with or without the region prefix AWS puts before it. */
export function isUsageType(usageType: string | undefined, name: string): boolean {
  if (usageType === undefined) return false;
  return usageType === name || (usageType.endsWith(`-${name}`) && !usageType.slice(0, -name.length - 1).includes(":"));
}

/** The kind and key a product is priced under, or undefined when the stack has no use for it. */
function classify(product: OfferProduct, wanted: Wanted): { kind: PriceKind; key: string } | undefined {
  const a = product.attributes;
  const usage = a.usagetype;
  if (product.productFamily === "Compute Instance") {
    const wantedInstance =
      wanted.instanceTypes.has(a.instanceType) &&
      a.operatingSystem === "Linux" &&
      a.tenancy === "Shared" &&
      a.preInstalledSw === "NA" &&
      a.capacitystatus === "Used" &&
      isUsageType(usage, `BoxUsage:${a.instanceType}`);
    return wantedInstance ? { kind: "instance", key: a.instanceType } : undefined;
  }
  const volumeType = a.volumeApiName as PricedVolumeType;
  if (product.productFamily === "Storage" && PRICED_VOLUME_TYPES.includes(volumeType)) {
    const name =
      volumeType === "standard"
        ? "EBS:VolumeUsage"
        : volumeType === "io1"
          ? "EBS:VolumeUsage.piops"
          : `EBS:VolumeUsage.${volumeType}`;
    return isUsageType(usage, name) ? { kind: "volume", key: volumeType } : undefined;
  }
  if (volumeType === "io1" && isUsageType(usage, "EBS:VolumeP-IOPS.piops")) return { kind: "io1Iops", key: "" };
  if (isUsageType(usage, "EBS:SnapshotUsage")) return { kind: "snapshot", key: "" };
  if (isUsageType(usage, "PublicIPv4:InUseAddress")) return { kind: "publicIpv4", key: "" };
  return undefined;
}

/** The one on-demand USD price of a SKU in the unit its kind is billed in; throws when it is not one. */
function onDemandPrice(offer: OfferFile, sku: string, kind: PriceKind): number {
  const terms = Object.values(offer.terms.OnDemand?.[sku] ?? {});
  const dimensions = terms.flatMap((term) => Object.values(term.priceDimensions));
  if (dimensions.length !== 1) {
    throw new Error(`SKU ${sku}: expected one on-demand price, found ${dimensions.length} (a tiered price is not modelled)`);
  }
  const [dimension] = dimensions;
  if (!UNITS[kind].includes(dimension.unit)) {
    throw new Error(`SKU ${sku}: ${kind} priced per "${dimension.unit}", expected ${UNITS[kind].join(" or ")}`);
  }
  const usd = Number(dimension.pricePerUnit.USD);
  if (!Number.isFinite(usd) || usd <= 0) throw new Error(`SKU ${sku}: no positive USD price ("${dimension.pricePerUnit.USD}")`);
  return usd;
}

/**
 * The prices of `offer` the stack can use. `region` is the offer's region when its products carry
 * no regionCode (older offers). Two SKUs giving one thing different prices is an error, not a pick.
 */
export function pricesFromOffer(offer: OfferFile, source: string, wanted: Wanted, region?: string): PriceFact[] {
  const facts = new Map<string, PriceFact>();
  for (const product of Object.values(offer.products)) {
    const found = classify(product, wanted);
    if (found === undefined) continue;
    const productRegion = product.attributes.regionCode ?? region;
    if (productRegion === undefined) throw new Error(`SKU ${product.sku}: no regionCode, and the offer's region was not given`);
    const fact: PriceFact = { region: productRegion, ...found, usd: onDemandPrice(offer, product.sku, found.kind), source };
    const id = `${fact.region} ${fact.kind} ${fact.key}`;
    const earlier = facts.get(id);
    if (earlier !== undefined && earlier.usd !== fact.usd) {
      throw new Error(`${id}: two prices in one offer (${earlier.usd} and ${fact.usd}, SKU ${product.sku})`);
    }
    facts.set(id, fact);
  }
  return [...facts.values()];
}
