/**
 * Inputs that are not a bulk offer file, turned into what the generator reads. Each is a copy of
 * AWS's price data in another shape; the table records which one every price came from.
 */
import type { OfferFile, OfferProduct, OfferTerm, PriceFact, Wanted } from "./priceList";

/**
 * One entry of the Price List query API's answer (`aws pricing get-products`, GetProducts): a
 * product with its own terms and the publication date of the offer it belongs to. The same
 * product and term objects as in a bulk offer file, one product at a time.
 */
export interface PriceListItem {
  readonly serviceCode: string;
  readonly product: OfferProduct;
  readonly terms: { readonly OnDemand?: Readonly<Record<string, OfferTerm>> };
  readonly publicationDate: string;
}

/**
 * GetProducts items as offers in the bulk format: one per service and publication date, so each
 * keeps the date AWS gave it. Items may be JSON texts (the API returns them as strings).
 */
export function offersFromPriceListItems(items: readonly (PriceListItem | string)[]): OfferFile[] {
  const offers = new Map<
    string,
    {
      offerCode: string;
      publicationDate: string;
      products: Record<string, OfferProduct>;
      onDemand: Record<string, Record<string, OfferTerm>>;
    }
  >();
  for (const entry of items) {
    const item: PriceListItem = typeof entry === "string" ? (JSON.parse(entry) as PriceListItem) : entry;
    const key = `${item.serviceCode} ${item.publicationDate}`;
    const offer = offers.get(key) ?? {
      offerCode: item.serviceCode,
      publicationDate: item.publicationDate,
      products: {},
      onDemand: {},
    };
    offers.set(key, offer);
    offer.products[item.product.sku] = item.product;
    if (item.terms.OnDemand !== undefined) offer.onDemand[item.product.sku] = { ...item.terms.OnDemand };
  }
  return [...offers.values()].map(({ offerCode, publicationDate, products, onDemand }) => ({
    offerCode,
    publicationDate,
    products,
    terms: { OnDemand: onDemand },
  }));
}

/**
 * tedivm/ec2details' `api/ec2instances.json`: per instance type, `prices.<OS>.<region>.<tenancy>`
 * in USD per hour, which that project extracts from the AmazonEC2 bulk offer
 * (https://github.com/tedivm/ec2details, bin/instance_details.js). Instance prices only; locations
 * it could not name as a region code (e.g. "Asia Pacific (Osaka)") are left out.
 */
export interface Ec2Details {
  readonly [instanceType: string]: {
    readonly prices?: { readonly Linux?: Readonly<Record<string, { readonly Shared?: number }>> };
  };
}

const REGION_CODE = /^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}$/;

export function pricesFromEc2Details(details: Ec2Details, source: string, wanted: Wanted): PriceFact[] {
  const facts: PriceFact[] = [];
  for (const instanceType of [...wanted.instanceTypes].sort()) {
    const linux = details[instanceType]?.prices?.Linux ?? {};
    for (const [region, tenancy] of Object.entries(linux)) {
      if (!REGION_CODE.test(region) || tenancy.Shared === undefined || !(tenancy.Shared > 0)) continue;
      facts.push({ region, kind: "instance", key: instanceType, usd: tenancy.Shared, source });
    }
  }
  return facts;
}
