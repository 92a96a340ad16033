/**
 * The price table generator (tools/dev/prices/): real Price List records in, the stack's prices out,
 * each with its source and date. Fixtures: tests/fixtures/prices/README.md.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  offersFromPriceListItems,
  pricesFromEc2Details,
  type Ec2Details,
  type PriceListItem,
} from "../tools/dev/prices/adapters";
import { fileWithOrigin, generatePrices } from "../tools/dev/prices/generatePrices";
import {
  isUsageType,
  pricesFromOffer,
  type OfferFile,
  type PriceDimension,
  type PriceFact,
  type Wanted,
} from "../tools/dev/prices/priceList";
import { buildPriceTable, formatPriceTable } from "../tools/dev/prices/priceTable";
import { stackInstanceTypes } from "../lib/instanceTypes";
import { PRICE_TABLE } from "../lib/prices";

const FIXTURES = path.join(__dirname, "fixtures", "prices");
const fixture = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as T;
const EC2_OFFER = fixture<OfferFile>("offer-AmazonEC2-us-east-1.json");
const VPC_OFFER = fixture<OfferFile>("offer-AmazonVPC-us-east-1.json");
const STACK: Wanted = { instanceTypes: new Set(stackInstanceTypes()) };

const summary = (facts: readonly PriceFact[]) => facts.map((f) => `${f.region} ${f.kind} ${f.key} ${f.usd}`).sort();

test("from an EC2 offer: the four EBS types the stack uses, io1's IOPS and the current platform's t3.medium; not sc1, gp3 IOPS or magnetic I/O", () => {
  expect(summary(pricesFromOffer(EC2_OFFER, "ec2", STACK))).toEqual([
    "us-east-1 instance t3.medium 0.0416",
    "us-east-1 io1Iops  0.065",
    "us-east-1 volume gp2 0.1",
    "us-east-1 volume gp3 0.08",
    "us-east-1 volume io1 0.125",
    "us-east-1 volume standard 0.05",
  ]);
});

test("an instance's on-demand Linux price, when its type is wanted", () => {
  const facts = pricesFromOffer(EC2_OFFER, "ec2", { instanceTypes: new Set(["t3.medium"]) });
  expect(summary(facts.filter((f) => f.kind === "instance"))).toEqual(["us-east-1 instance t3.medium 0.0416"]);
});

test("from a VPC offer: public IPv4 in use, not idle addresses", () => {
  expect(summary(pricesFromOffer(VPC_OFFER, "vpc", STACK))).toEqual(["us-east-1 publicIpv4  0.005"]);
});

test("usage types match with or without the region prefix, never a longer name", () => {
  expect(isUsageType("EBS:SnapshotUsage", "EBS:SnapshotUsage")).toBe(true);
  expect(isUsageType("EU-EBS:SnapshotUsage", "EBS:SnapshotUsage")).toBe(true);
  expect(isUsageType("USE1-EBS:SnapshotUsage.outposts", "EBS:SnapshotUsage")).toBe(false);
  expect(isUsageType("EBS:SnapshotUsageUnderBilling", "EBS:SnapshotUsage")).toBe(false);
  expect(isUsageType("EU-EBS:VolumeUsage.gp3", "EBS:VolumeUsage")).toBe(false);
});

test("Price List query items become one offer per service and publication date, each keeping its date", () => {
  const offers = offersFromPriceListItems(fixture<PriceListItem[]>("price-list-items.json"));
  expect(offers.map((o) => `${o.offerCode} ${o.publicationDate}`).sort()).toEqual([
    "AmazonEC2 2026-08-10T21:57:58Z",
    "AmazonEC2 2026-08-14T01:17:39Z",
    "AmazonVPC 2026-07-24T15:42:25Z",
  ]);
  expect(summary(offers.flatMap((o) => pricesFromOffer(o, "items", STACK)))).toEqual([
    "eu-west-1 publicIpv4  0.005",
    "eu-west-1 volume gp3 0.088",
    "us-east-1 snapshot  0.05",
  ]);
  // The API returns each item as a JSON text: the same offers.
  const texts = fixture<PriceListItem[]>("price-list-items.json").map((item) => JSON.stringify(item));
  expect(offersFromPriceListItems(texts)).toEqual(offers);
});

test("ec2details: shared-tenancy Linux prices by region code; named locations and unwanted types left out", () => {
  const facts = pricesFromEc2Details(fixture<Ec2Details>("ec2details-excerpt.json"), "copy", STACK);
  expect(summary(facts)).toEqual([
    "eu-west-1 instance t2.medium 0.05",
    "eu-west-1 instance t3.medium 0.0456",
    "us-east-1 instance t2.medium 0.0464",
    "us-east-1 instance t3.medium 0.0416",
    "us-west-2 instance t2.medium 0.0464",
    "us-west-2 instance t3.medium 0.0416",
  ]);
});

test("a SKU with two price dimensions (a tiered price) or an unexpected unit stops the generator", () => {
  const sku = Object.keys(EC2_OFFER.products).find(
    (s) => EC2_OFFER.products[s].attributes.volumeApiName === "gp3" && EC2_OFFER.products[s].productFamily === "Storage",
  )!;
  const [termCode, term] = Object.entries(EC2_OFFER.terms.OnDemand![sku])[0];
  const [dimension] = Object.values(term.priceDimensions);
  const withTerm = (priceDimensions: Record<string, PriceDimension>): OfferFile => ({
    ...EC2_OFFER,
    terms: { OnDemand: { ...EC2_OFFER.terms.OnDemand, [sku]: { [termCode]: { priceDimensions } } } },
  });
  expect(() => pricesFromOffer(withTerm({ a: dimension, b: dimension }), "x", STACK)).toThrow(
    `SKU ${sku}: expected one on-demand price, found 2`,
  );
  expect(() => pricesFromOffer(withTerm({ a: { ...dimension, unit: "Hrs" } }), "x", STACK)).toThrow(
    `SKU ${sku}: volume priced per "Hrs"`,
  );
});

test("the table: per region and category the newest source wins whole; the written form reads back the same", () => {
  const sources = {
    old: { url: "https://example.org/old", date: "2022-11-22", note: "old copy" },
    new: { url: "https://example.org/new", date: "2026-08-10", note: "offer" },
    unused: { url: "https://example.org/unused", date: "2026-01-01", note: "gives nothing" },
  };
  const facts: PriceFact[] = [
    { region: "us-east-1", kind: "instance", key: "t2.medium", usd: 0.0464, source: "old" },
    { region: "us-east-1", kind: "instance", key: "t2.large", usd: 0.0928, source: "old" },
    { region: "us-east-1", kind: "instance", key: "t2.medium", usd: 0.05, source: "new" },
    { region: "us-east-1", kind: "volume", key: "gp3", usd: 0.08, source: "new" },
    { region: "us-east-1", kind: "io1Iops", key: "", usd: 0.065, source: "new" },
    { region: "eu-west-1", kind: "instance", key: "t2.medium", usd: 0.05, source: "old" },
  ];
  const table = buildPriceTable(sources, facts, "npm run prices -- …", "2026-12-06");
  expect(table.regions).toEqual({
    "eu-west-1": { instances: { source: "old", usdPerHour: { "t2.medium": 0.05 } } },
    "us-east-1": {
      // The newer source's instance prices only: t2.large is not mixed in from the older one.
      instances: { source: "new", usdPerHour: { "t2.medium": 0.05 } },
      ebs: { source: "new", usdPerGbMonth: { gp3: 0.08 }, io1UsdPerIopsMonth: 0.065 },
    },
  });
  expect(Object.keys(table.sources)).toEqual(["old", "new"]);
  expect(JSON.parse(formatPriceTable(table))).toEqual(table);
});

test("npm run prices: local offer files and Price List items, with where they came from, make a table", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prices-"));
  try {
    const out = path.join(dir, "table.json");
    const log: string[] = [];
    await generatePrices(
      [
        "--offer",
        `${path.join(FIXTURES, "offer-AmazonEC2-us-east-1.json")}=https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/20260810215758/us-east-1/index.json`,
        "--offer",
        `${path.join(FIXTURES, "offer-AmazonVPC-us-east-1.json")}=https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonVPC/20260724154225/us-east-1/index.json`,
        "--price-list",
        `${path.join(FIXTURES, "price-list-items.json")}=https://example.org/price-list-items.json`,
        "--ec2details",
        `${path.join(FIXTURES, "ec2details-excerpt.json")}=https://github.com/tedivm/ec2details/blob/b7df874/api/ec2instances.json@2022-11-22`,
        "--out",
        out,
      ],
      (line) => log.push(line),
    );
    const table = JSON.parse(fs.readFileSync(out, "utf8")) as typeof PRICE_TABLE;
    expect(table.regions["us-east-1"]).toEqual({
      // The offer is newer than the ec2details copy and prices an accepted type (t3.medium), so
      // its instance prices win whole: the copy's t2.medium is not mixed in.
      instances: { source: "AmazonEC2@2026-08-10T21:57:58Z", usdPerHour: { "t3.medium": 0.0416 } },
      ebs: {
        source: "AmazonEC2@2026-08-10T21:57:58Z",
        usdPerGbMonth: { gp2: 0.1, gp3: 0.08, io1: 0.125, standard: 0.05 },
        io1UsdPerIopsMonth: 0.065,
      },
      publicIpv4: { source: "AmazonVPC@2026-07-24T15:42:25Z", usdPerHour: 0.005 },
      snapshots: { source: "AmazonEC2@2026-08-14T01:17:39Z", usdPerGbMonth: 0.05 },
    });
    // One publication read from two files (the offer, and eu-west-1's items) names both.
    expect(table.sources["AmazonEC2@2026-08-10T21:57:58Z"]).toEqual({
      url: "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/20260810215758/us-east-1/index.json https://example.org/price-list-items.json",
      date: "2026-08-10",
      note: "AWS Price List offer AmazonEC2, publicationDate 2026-08-10T21:57:58Z",
    });
    expect(table.generatedBy).toContain("--offer …/offer-AmazonEC2-us-east-1.json=https://pricing.us-east-1.amazonaws.com/");
    expect(log.at(-1)).toBe(`wrote ${out}: 3 regions`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("an input without the URL it came from is a usage error naming the option and the form", () => {
  expect(() => fileWithOrigin("offer", "index.json", false)).toThrow(
    '--offer takes FILE=URL (the URL it was read from), got "index.json"',
  );
  expect(() => fileWithOrigin("ec2details", "a.json=https://x.org/a.json", true)).toThrow(
    "--ec2details takes FILE=URL@YYYY-MM-DD",
  );
});

test("the committed table: every category names a source with a URL and a date, and it stays small", () => {
  const text = fs.readFileSync(path.join(__dirname, "..", "lib", "priceTable.json"), "utf8");
  expect(text.length).toBeLessThan(40_000);
  for (const [region, prices] of Object.entries(PRICE_TABLE.regions)) {
    for (const [category, value] of Object.entries(prices)) {
      const source = PRICE_TABLE.sources[(value as { source: string }).source];
      expect({ region, category, url: source?.url.slice(0, 8), date: /^\d{4}-\d{2}-\d{2}$/.test(source?.date ?? "") }).toEqual({
        region,
        category,
        url: "https://",
        date: true,
      });
    }
  }
  expect(PRICE_TABLE.generatedBy).toMatch(/^npm run prices -- /);
});
